#!/bin/sh
# db-entrypoint.sh - run MariaDB in the foreground: create the data directory
# on first start, then make sure the application's database and user exist
# (--init-file runs on every start; each statement is idempotent).
set -eu
datadir=/var/lib/mysql
: "${DB_NAME:=appdb}" "${DB_USER:=app}" "${DB_PASSWORD:=app}"

mkdir -p "$datadir" /run/mysqld
chown mysql:mysql "$datadir" /run/mysqld
if [ ! -d "$datadir/mysql" ]; then
	echo "db-entrypoint: creating the data directory $datadir"
	mariadb-install-db --user=mysql --datadir="$datadir" --skip-test-db \
		--auth-root-authentication-method=socket >/dev/null
fi
cat >/run/mysqld/init.sql <<SQL
CREATE DATABASE IF NOT EXISTS \`$DB_NAME\`;
CREATE USER IF NOT EXISTS '$DB_USER'@'%' IDENTIFIED BY '$DB_PASSWORD';
GRANT ALL PRIVILEGES ON \`$DB_NAME\`.* TO '$DB_USER'@'%';
SQL
chown mysql:mysql /run/mysqld/init.sql
chmod 600 /run/mysqld/init.sql
echo "db-entrypoint: starting mariadbd"
exec mariadbd --user=mysql --datadir="$datadir" --bind-address=0.0.0.0 \
	--skip-name-resolve --init-file=/run/mysqld/init.sql
