#!/bin/sh
# db-check.sh [init] - from the app container: wait until the db service
# answers (up to 60 s), then, with "init", create a table and add a row; print
# the rows. Connection settings come from /etc/mysql/conf.d/devcontainer.cnf
# (app.Dockerfile).
set -eu
i=0
until mariadb -e 'SELECT 1' >/dev/null 2>&1; do
	i=$((i + 1))
	if [ $i -ge 120 ]; then
		echo "db-check: the database did not answer within 60 s:" >&2
		mariadb -e 'SELECT 1' >&2 || true
		exit 1
	fi
	sleep 0.5
done
if [ "${1:-}" = init ]; then
	mariadb -e "CREATE TABLE IF NOT EXISTS greetings (
	              id INT AUTO_INCREMENT PRIMARY KEY,
	              text VARCHAR(100) NOT NULL,
	              at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP);
	            INSERT INTO greetings (text) VALUES ('hello from the app container');"
fi
echo "db-check: connected to $(mariadb -N -e 'SELECT VERSION()') on host db;" \
	"$(mariadb -N -e 'SELECT COUNT(*) FROM greetings' 2>/dev/null || echo 0) greeting(s) stored"
