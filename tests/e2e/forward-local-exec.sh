#!/usr/bin/env bash
# forward-local-exec.sh - a LOCAL target's forwards through a Docker exec,
# the way in when the container's address does not answer (Docker Desktop),
# forced here with RDEV_LOCAL_FORWARD_VIA=exec (this machine routes container
# addresses): each connection is a `rdev-agent connect` running
# `/.rdev-relay --connect PORT` in the container. A server on 0.0.0.0 and one
# bound to 127.0.0.1 both answer on localhost; 20 MB arrive intact (sha256);
# a client that shuts down its sending still gets the reply (half close);
# `rdev forward --list --json` counts them as viaExec; a port where nothing
# listens closes the connection at once. Without the knob, a broker that
# cannot reach the container's address (a network namespace with no route to
# it) switches to the exec by itself. And rdev-relay --connect by itself:
# a server's half close reaches the client while the client still sends.
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
	printf '#!/bin/sh\nread -r _\nwc -c\n' > /count && chmod +x /count &&
	httpd -p 0.0.0.0:$p_any -h /www && httpd -p 127.0.0.1:$p_lo -h /www &&
	(nc -ll -p $p_hc -e /count </dev/null >/dev/null 2>&1 &)"
want_sha=$(docker exec "$cid" sha256sum /www/big | cut -d' ' -f1)

check_eq "a server on 0.0.0.0 in the container answers on localhost" \
	"$(curl -sf --max-time 20 "http://127.0.0.1:$p_any/q")" any-answers
check_eq "a server bound to 127.0.0.1 answers too" \
	"$(curl -sf --max-time 20 "http://127.0.0.1:$p_lo/l")" lo-answers
check_eq "also on ::1" "$(curl -sf --max-time 20 "http://[::1]:$p_lo/l")" lo-answers
start=$(date +%s%N)
got_sha=$(curl -sf --max-time 120 "http://127.0.0.1:$p_any/big" | sha256sum | cut -d' ' -f1)
echo "# 20 MB through the exec: $((($(date +%s%N) - start) / 1000000)) ms"
check_eq "20 MB arrive intact" "$got_sha" "$want_sha"
py=${RDEV_PYTHON:-python3}
check_eq "the 127.0.0.1 server's 20 MB to a client that shut down its sending first" \
	"$("$py" "$RDEV_SOURCE_DIR/tests/e2e/forward_client.py" halfclose "$p_lo" /big)" "$want_sha"
check_eq "3 MB up, the sending shut down, the server's count comes back" \
	"$("$py" "$RDEV_SOURCE_DIR/bench/forward_client.py" put "127.0.0.1:$p_hc" 3000000 | cut -d' ' -f1)" 3000000
list() { rdev forward --list --json; }
fwd() { list | jq -r --argjson p "$1" "map(select(.local == \$p))[0].$2"; }
check_eq "the 0.0.0.0 server's connections went through the exec" \
	"$(fwd "$p_any" direct)/$(fwd "$p_any" relayed)/$(fwd "$p_any" viaExec)" 0/0/2
check_eq "and the 127.0.0.1 server's" \
	"$(fwd "$p_lo" direct)/$(fwd "$p_lo" relayed)/$(fwd "$p_lo" viaExec)" 0/0/3
start=$(date +%s%N)
for _ in 1 2 3 4 5 6 7 8 9 10; do curl -sf --max-time 20 "http://127.0.0.1:$p_lo/l" >/dev/null || fail "a connection failed"; done
echo "# 10 connections through the exec: $((($(date +%s%N) - start) / 1000000)) ms"
set +e
out=$(curl -s --max-time 20 "http://127.0.0.1:$p_none/" 2>&1); rc=$?
set -e
check "a port where nothing listens: the connection is closed (curl: empty reply)" test "$rc" = 52
check_eq "no connection is left open" "$(list | jq '[.[].active] | add')" 0

# --- the switch itself, without the knob ---------------------------------------
# A broker in a network namespace with only its loopback: its connects to the
# container addresses fail (ENETUNREACH), as on Docker Desktop, while the
# Docker socket and its own unix socket still work. (Needs unshare -n: root.)
"$RDEV_BIN_DIR/rdev-broker" stop >/dev/null 2>&1 || fail "broker stop"
if unshare -n true 2>/dev/null; then
	out=$(env -u RDEV_LOCAL_FORWARD_VIA unshare -n bash -c "ip link set lo up &&
		'$RDEV_BIN_DIR/rdev' forward --list --json >/dev/null &&
		curl -sf --max-time 30 http://127.0.0.1:$p_lo/l && curl -sf --max-time 30 http://127.0.0.1:$p_any/q")
	check_eq "a broker that cannot reach the container's address: both servers answer" \
		"$(echo $out)" "lo-answers any-answers"
	check_eq "through the exec, which it chose by itself" \
		"$(fwd "$p_lo" direct)/$(fwd "$p_lo" relayed)/$(fwd "$p_lo" viaExec)/$(fwd "$p_any" viaExec)" 0/0/1/1
else
	echo "# skipped the switch without the knob: no network namespace here (unshare -n)"
fi

# --- rdev-relay --connect alone (here, on this machine's loopback) -----------------
# A server that ends its sending first: its end reaches the relay's stdout as
# the empty chunk while the client still sends, and the client's bytes still
# arrive after it.
server_first() {
	"${RDEV_PYTHON:-python3}" - "$RDEV_BIN_DIR/rdev-relay" <<'PY'
import os, socket, struct, subprocess, sys, threading
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen()
got = []
def serve():
    c, _ = srv.accept()
    c.sendall(b"early"); c.shutdown(socket.SHUT_WR)
    n = 0
    while True:
        b = c.recv(65536)
        if not b: break
        n += len(b)
    got.append(n)
t = threading.Thread(target=serve, daemon=True); t.start()
p = subprocess.Popen([sys.argv[1], "--connect", str(srv.getsockname()[1])],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
def readn(n):
    b = b""
    while len(b) < n:
        r = p.stdout.read(n - len(b))
        if not r: raise SystemExit("short read")
        b += r
    return b
assert readn(1) == b"\0"
data = b""
while True:
    n = struct.unpack(">I", readn(4))[0]
    if n == 0: break
    data += readn(n)
p.stdin.write(b"y" * 100000); p.stdin.close()  # after the server's end
rest = p.stdout.read()
t.join(20)
print(data.decode(), p.wait(), len(rest), got[0] if got else None)
PY
}
check_eq "rdev-relay --connect: the server's end comes first, the client's bytes after" \
	"$(server_first)" "early 0 0 100000"
# (port 1: nothing listens there; the test's ports are the broker's here)
check "rdev-relay --connect to a closed port: status byte 1 and a message" sh -c \
	"out=\$('$RDEV_BIN_DIR/rdev-relay' --connect 1 </dev/null 2>'$TEST_TMP/refused.err' | od -An -tx1 | tr -d ' ');
	 [ \"\$out\" = 01 ] && grep -q 'port 1: Connection refused' '$TEST_TMP/refused.err'"

rdev down "$ws" >/dev/null 2>&1 || fail "down"
check "down ends the forwards" sh -c "! ss -ltn | grep -qE '127.0.0.1:($p_any|$p_lo) '"
finish
