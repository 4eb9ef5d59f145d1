#!/usr/bin/env bash
# broker-stop-connect.sh - `rdev-broker stop` during a host session's first
# connect, to a host that accepts TCP and never sends its SSH banner (a
# listener that only accepts): the connect is abandoned at once, the
# waiting client is told "the broker is stopping", and the broker logs no
# failed connect for it (no "connect abandoned" warning). Without a stop,
# the same host fails in the ssh config's ConnectTimeout. No Docker, no
# rig host: the listener is a python3 one.
. "$(dirname "$0")/../rig/lib.sh"

port=$(rig_ports 1)
python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
held = []
while True:
    held.append(s.accept()[0])
' "$port" &
lpid=$!
trap 'rc=$?; set +e; kill "$lpid" 2>/dev/null; (exit $rc); rig_test_cleanup' EXIT
listening() { ss -Htln "sport = :$port" | grep -q .; }
eventually "the silent listener listens" listening

cat >"$TEST_TMP/ssh_config" <<EOC
Host silent
  HostName 127.0.0.1
  Port $port
  ConnectTimeout 3
  BatchMode yes
EOC
export RDEV_SSH_CONFIG=$TEST_TMP/ssh_config

start=$(date +%s%N)
st=0
rdev exec silent:/tmp -- true >/dev/null 2>"$TEST_TMP/exec1.err" || st=$?
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
echo "     (failed after ${elapsed_ms} ms: $(cat "$TEST_TMP/exec1.err"))"
check "a host that never sends its banner fails (exit 125)" test "$st" -eq 125
check "in its ConnectTimeout (3 s; < 8 s)" test "$elapsed_ms" -ge 2900 -a "$elapsed_ms" -lt 8000
check "saying it timed out" grep -q "Timeout connecting" "$TEST_TMP/exec1.err"

rdev exec silent:/tmp -- true >/dev/null 2>"$TEST_TMP/exec2.err" &
exec_pid=$!
bpid=$(broker status --json | jq -r .pid)
connected_to_it() { ss -Htnp state established "dport = :$port" | grep -q "pid=$bpid,"; }
eventually "the broker's first connect waits for the banner" connected_to_it
broker_stop_timed
check_eq "rdev-broker stop exits 0" "$stop_st" 0
check "and does not wait for the connect (< 2 s)" test "$stop_ms" -lt 2000
st=0
wait "$exec_pid" || st=$?
check "the waiting client fails" test "$st" -ne 0
check "told the broker is stopping" grep -q "the broker is stopping" "$TEST_TMP/exec2.err"
# (the first attempt's timeout is logged; the abandoned one is no failure)
check "the broker logs no failed connect for the abandoned one" \
	bash -c "! grep -q 'connect abandoned' '$RDEV_RUNTIME_DIR/broker.log'"
finish
