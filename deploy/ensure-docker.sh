#!/usr/bin/env bash
# ensure-docker.sh [PIDFILE] - make sure a Docker engine answers: install
# Debian's docker.io (and docker-compose) if missing, start dockerd if none
# answers (its pid goes to PIDFILE when given, so the caller can stop it), and
# wait until `docker info` succeeds. Idempotent; run as root.
set -euo pipefail
pidfile=${1:-}
log=${RDEV_DOCKERD_LOG:-/var/log/rdev-dockerd.log}

answers() { timeout 20 docker info >/dev/null 2>&1; }

if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
	echo "installing docker.io docker-compose" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		docker.io docker-compose >/dev/null
fi
answers && exit 0
echo "starting dockerd (log: $log)" >&2
dockerd --host unix:///var/run/docker.sock >"$log" 2>&1 &
pid=$!
[ -z "$pidfile" ] || echo "$pid" >"$pidfile"
for _ in $(seq 1 120); do
	answers && exit 0
	if ! kill -0 "$pid" 2>/dev/null; then
		tail -20 "$log" >&2 || true
		[ -z "$pidfile" ] || rm -f "$pidfile"
		echo "ensure-docker: dockerd exited during startup (log above)" >&2
		exit 1
	fi
	sleep 0.5
done
tail -20 "$log" >&2 || true
echo "ensure-docker: dockerd did not answer within 60 s (log above)" >&2
exit 1
