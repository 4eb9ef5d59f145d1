# The database service: MariaDB from Debian's packages (server and client
# cores only, about 11 MB of packages; no registry image needed).
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      mariadb-server-core mariadb-client-core \
 && rm -rf /var/lib/apt/lists/* \
 && (getent passwd mysql >/dev/null || useradd -r -U -d /var/lib/mysql -s /usr/sbin/nologin mysql)
COPY db-entrypoint.sh /usr/local/bin/db-entrypoint.sh
EXPOSE 3306
CMD ["sh", "/usr/local/bin/db-entrypoint.sh"]
