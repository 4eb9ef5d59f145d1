#!/usr/bin/env bash
# compose-network-service.sh - a Compose dev service on another service's
# network (`network_mode: service:db`: no address of its own; Compose makes
# it "container:ID"): `up` forwards a plain forwardPorts port (served by db,
# reached at db's address, as the dev container's own localhost) and the
# relay (rdev exec) works. It failed with "the dev container ... has no IP
# address" and up exited 1, though the reference reports success.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
export RDEV_STATE_DIR=$TEST_TMP/state

port=$(rig_ports 1)
ws=$TEST_TMP/ws-cns-$$
project=$(basename "$ws")_devcontainer
mkdir -p "$ws/.devcontainer"
cat >"$ws/.devcontainer/docker-compose.yml" <<YAML
services:
  db:
    image: $RDEV_RIG_IMAGE_BUSYBOX
    command: ["sh", "-c", "mkdir -p /www && echo from-db >/www/q && exec httpd -f -p $port -h /www"]
  app:
    image: $RDEV_RIG_IMAGE_BUSYBOX
    network_mode: "service:db"
    depends_on: [db]
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"]
YAML
cat >"$ws/.devcontainer/devcontainer.json" <<JSON
{ "dockerComposeFile": "docker-compose.yml", "service": "app", "workspaceFolder": "/",
  "forwardPorts": [$port] }
JSON
cleanup() {
	rig_compose_rm "$project"
	rig_test_cleanup
}
trap cleanup EXIT

rdev up "$ws" >"$TEST_TMP/up.json" 2>"$TEST_TMP/up.err" ||
	{ cat "$TEST_TMP/up.err" >&2; fail "up of a dev service on another service's network failed"; }
check_eq "up succeeds" "$(jq -r .outcome "$TEST_TMP/up.json")" success
check "... with no 'no IP address' message" sh -c "! grep -q 'no IP address' '$TEST_TMP/up.err'"
check_eq "the forwarded port answers (db's server, the dev container's localhost)" \
	"$(curl -sf --max-time 20 "http://127.0.0.1:$port/q")" from-db
check_eq "exec works (through the relay)" "$(rdev exec "$ws" -- wget -qO- "http://127.0.0.1:$port/q")" from-db
