#!/usr/bin/env bash
# forward-local-exec.sh - a LOCAL target's forwards through a Docker exec,
# the way in when the container's address does not answer (Docker Desktop),
# forced here with RDEV_LOCAL_FORWARD_VIA=exec (this machine routes container
# addresses): each connection is a `rdev-agent connect` running
# `/.rdev-relay --connect PORT` in the container. A server on 0.0.0.0 and one
# bound to 127.0.0.1 both answer on localhost; 20 MB arrive intact (sha256);
# a client that shuts down its sending still gets the reply (half close);
# `rdev forward --list --json` counts them as viaExec; a port where nothing
# listens closes the connection at once.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker

base=$(rig_ports 4)
p_any=$base p_lo=$((base + 1)) p_hc=$((base + 2)) p_none=$((base + 3))
ws=$TEST_TMP/ws
mkdir -p "$ws"
cat >"$ws/.devcontainer.json" <<JSON
{
  "image": "$RDEV_RIG_IMAGE_BUSYBOX",
  "forwardPorts": [$p_any, $p_lo, $p_hc, $p_none]
}
JSON
cleanup() {
	docker ps -aq --filter "label=devcontainer.local_folder=$ws" | xargs -r docker rm -f >/dev/null
	rig_test_cleanup
}
trap cleanup EXIT

# The broker this test's rdev starts inherits the knob.
export RDEV_LOCAL_FORWARD_VIA=exec
rdev up "$ws" >"$TEST_TMP/up.out" 2>"$TEST_TMP/up.err" ||
	{ cat "$TEST_TMP/up.err" >&2; fail "rdev up failed"; }
cid=$(jq -r .containerId "$TEST_TMP/up.out")
docker exec "$cid" sh -c "mkdir -p /www && echo any-answers > /www/q && echo lo-answers > /www/l &&
	dd if=/dev/urandom of=/www/big bs=1048576 count=20 2>/dev/null &&
	printf '#!/bin/sh\nwc -c\n' > /count && chmod +x /count &&
	httpd -p 0.0.0.0:$p_any -h /www && httpd -p 127.0.0.1:$p_lo -h /www &&
	(nc -ll -p $p_hc -e /count </dev/null >/dev/null 2>&1 &)"
want_sha=$(docker exec "$cid" sha256sum /www/big | cut -d' ' -f1)

check_eq "a server on 0.0.0.0 in the container answers on localhost" \
	"$(curl -sf --max-time 20 "http://127.0.0.1:$p_any/q")" any-answers
check_eq "a server bound to 127.0.0.1 answers too" \
	"$(curl -sf --max-time 20 "http://127.0.0.1:$p_lo/l")" lo-answers
check_eq "also on ::1" "$(curl -sf --max-time 20 "http://[::1]:$p_lo/l")" lo-answers
check_eq "20 MB arrive intact" \
	"$(curl -sf --max-time 120 "http://127.0.0.1:$p_any/big" | sha256sum | cut -d' ' -f1)" "$want_sha"
halfclose() {
	"${RDEV_PYTHON:-python3}" - "$p_hc" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
s.sendall(b"x" * 3000000)
s.shutdown(socket.SHUT_WR)
got = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    got += b
print(got.decode().strip())
PY
}
check_eq "a client that shuts down its sending gets the reply (3 MB counted)" \
	"$(halfclose)" 3000000
list() { rdev forward --list --json; }
fwd() { list | jq -r --argjson p "$1" "map(select(.local == \$p))[0].$2"; }
check_eq "the 0.0.0.0 server's connections went through the exec" \
	"$(fwd "$p_any" direct)/$(fwd "$p_any" relayed)/$(fwd "$p_any" viaExec)" 0/0/2
check_eq "and the 127.0.0.1 server's" \
	"$(fwd "$p_lo" direct)/$(fwd "$p_lo" relayed)/$(fwd "$p_lo" viaExec)" 0/0/2
start=$(date +%s%N)
for _ in 1 2 3 4 5 6 7 8 9 10; do curl -sf --max-time 20 "http://127.0.0.1:$p_lo/l" >/dev/null || fail "a connection failed"; done
echo "# 10 connections through the exec: $((($(date +%s%N) - start) / 1000000)) ms"
set +e
out=$(curl -s --max-time 20 "http://127.0.0.1:$p_none/" 2>&1); rc=$?
set -e
check "a port where nothing listens: the connection is closed (curl: empty reply)" test "$rc" = 52
check_eq "no connection is left open" "$(list | jq '[.[].active] | add')" 0

rdev down "$ws" >/dev/null 2>&1 || fail "down"
check "down ends the forwards" sh -c "! ss -ltn | grep -qE '127.0.0.1:($p_any|$p_lo) '"
finish
