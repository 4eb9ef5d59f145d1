#!/usr/bin/env bash
# forward-unreachable.sh - a host whose sshd cannot reach the container's
# address (rootless Docker, Docker in a VM; here a rig host in its own
# network namespace with no route to the Docker bridge, its Docker socket
# still shared): `rdev up` warns, naming the user's port and why, that the
# container is not reachable from the host (not a plain success table); a
# connection to the forward is reset at once (not a clean close with no
# bytes); `rdev forward --list` names the user's port, not the relay's.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker

rig_remote_host u --netns
p=$(rig_ports 1)
on_host "mkdir -p ~/ws"
on_host "cat > ~/ws/.devcontainer.json" <<JSON
{
  "image": "$RDEV_RIG_IMAGE_BUSYBOX",
  "updateRemoteUserUID": false,
  "forwardPorts": [$p]
}
JSON
cleanup() {
	docker ps -aq --filter "label=devcontainer.local_folder=$home/ws" |
		xargs -r docker rm -f >/dev/null
	rig_test_cleanup
}
trap cleanup EXIT

rdev up "$name:~/ws" --accept-new-host-key >"$TEST_TMP/up.out" 2>"$TEST_TMP/up.err" ||
	{ cat "$TEST_TMP/up.err" >&2; fail "rdev up failed"; }
cid=$(jq -r .containerId "$TEST_TMP/up.out")
addr=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$cid")
check "up warns that the container is not reachable from the host, naming the port" \
	grep -q "forward localhost:$p -> container port $p: the container is not reachable from the host .*(connect to $addr: Network is unreachable)" "$TEST_TMP/up.err" ||
	cat "$TEST_TMP/up.err" >&2
docker exec "$cid" sh -c "mkdir -p /www && echo answers > /www/q && httpd -p 0.0.0.0:$p -h /www"

set +e
curl -s --max-time 20 "http://127.0.0.1:$p/q" >/dev/null 2>&1
rc=$?
set -e
check_eq "a connection is reset (curl: recv failure), not closed with no bytes (52)" "$rc" 56
check "--list names the user's port and the address, not the relay's port" sh -c \
	"'$RDEV_BIN_DIR/rdev' forward --list --json | jq -r 'map(select(.local == $p))[0].lastError' |
	grep -q '^the host cannot reach container port $p at $addr ('"
finish
