#!/usr/bin/env bash
# broker-stop-proxy.sh - `rdev-broker stop` while a host session's first
# connect waits on a ProxyCommand that never answers and ignores SIGTERM
# (and has started a child of its own): the stop finishes at once (libssh
# SIGTERMed the command and waited for it to end: for ever), the command and
# its child are gone (killed with their process group), the waiting client
# is told "the broker is stopping", and the broker ends cleanly (no failed
# connect logged, its socket removed). No Docker, no rig host.
. "$(dirname "$0")/../rig/lib.sh"

cat >"$TEST_TMP/ssh_config" <<EOC
Host hang
  HostName hang.invalid
  ConnectTimeout 60
  BatchMode yes
  ProxyCommand sh -c 'trap "" TERM HUP; echo \$\$ >"$TEST_TMP/proxy.pid"; sleep 1000 & echo \$! >"$TEST_TMP/child.pid"; wait'
EOC
export RDEV_SSH_CONFIG=$TEST_TMP/ssh_config
# (what this test started, should the stop wait: a broker stuck in libssh's
# wait for the command, the command and its child)
proxy= child= bpid=
trap 'rc=$?; set +e; for p in $bpid $proxy $child; do kill -9 "$p" 2>/dev/null || true; done; (exit $rc); rig_test_cleanup' EXIT

rdev exec hang:/tmp -- true >/dev/null 2>"$TEST_TMP/exec.err" &
exec_pid=$!
started() { [ -s "$TEST_TMP/proxy.pid" ] && [ -s "$TEST_TMP/child.pid" ]; }
eventually "the broker runs the ProxyCommand (and it its child)" started
proxy=$(cat "$TEST_TMP/proxy.pid")
child=$(cat "$TEST_TMP/child.pid")
check "the ProxyCommand runs" pid_alive "$proxy"
check "its child runs" pid_alive "$child"
bpid=$(broker status --json | jq -r .pid)
sleep 0.5 # (the connect waits for the banner: no answer comes)
broker_stop_timed
check_eq "rdev-broker stop exits 0" "$stop_st" 0
check "and does not wait for the ProxyCommand (< 2 s)" test "$stop_ms" -lt 2000
gone() { ! pid_alive "$1"; }
eventually "the ProxyCommand is gone" gone "$proxy"
eventually "its child is gone" gone "$child"
eventually "the broker is gone" gone "$bpid"
st=0
wait "$exec_pid" || st=$?
check "the waiting client fails" test "$st" -ne 0
check "told the broker is stopping" grep -q "the broker is stopping" "$TEST_TMP/exec.err"
check "the broker logs no failed connect for the abandoned one" \
	bash -c "! grep -Eq 'connect abandoned|cannot connect' '$RDEV_RUNTIME_DIR/broker.log'"
check "its socket is removed (a clean end)" test ! -e "$RDEV_RUNTIME_DIR/broker.sock"
finish
