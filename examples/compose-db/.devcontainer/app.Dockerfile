# The dev container: Debian with the MariaDB command-line client, set up to
# reach the `db` service (the values match the db service's environment in
# docker-compose.yml), so `mariadb -e 'SELECT 1'` works without options.
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      mariadb-client-core \
 && rm -rf /var/lib/apt/lists/* \
 && printf '[client]\nhost=db\nuser=app\npassword=app\ndatabase=appdb\n' \
      >/etc/mysql/conf.d/devcontainer.cnf
