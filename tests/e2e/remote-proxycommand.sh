#!/usr/bin/env bash
# remote-proxycommand.sh - a host reached through a ProxyCommand, which the
# broker runs itself (in a process group of its own: a stop kills what it
# started, broker-stop-proxy.sh): the command gets libssh's escapes
# expanded (%h %p %r), the session works through it, and a stop ends it.
# A command that fails is reported with its exit status and its last stderr
# lines (as ssh shows them; it said "cannot connect: Success"), and doctor
# does not ask whether an SSH server listens at the command's %h %p.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
rig_remote_host pc
trap 'rig_remote_cleanup' EXIT

pipe="python3 $RDEV_SOURCE_DIR/tests/rig/proxy-pipe.py"
rig_proxy_host via "$pipe --record $TEST_TMP/pipe.args %r %h %p" >"$TEST_TMP/ssh_config"
export RDEV_SSH_CONFIG=$TEST_TMP/ssh_config
port=$(sed -n 's/^ *Port //p' "$cfg")

check "rdev ls through the ProxyCommand" rdev ls via:
read -r ppid phost pport puser <"$TEST_TMP/pipe.args"
check_eq "the command got %h %p %r expanded" "$phost $pport $puser" "127.0.0.1 $port rdev-$name"
check "the command runs while the session does" pid_alive "$ppid"
broker_stop_timed
check_eq "rdev-broker stop exits 0" "$stop_st" 0
check "promptly (< 3 s)" test "$stop_ms" -lt 3000
gone() { ! pid_alive "$1"; }
check "the command ended with the session" gone "$ppid"

# --- a session's end while its command ignores SIGTERM ----------------------
# The end SIGTERMs the command's group and waits up to 1 s before SIGKILL: in
# the session's thread, not in the broker's loop (it joined the thread and
# answered no one meanwhile).
rig_proxy_host stubborn "sh -c 'trap \"\" TERM; echo \$\$ >$TEST_TMP/stubborn.pid; $pipe --record $TEST_TMP/pipe2.args %r %h %p; exec sleep 1000'" \
	>>"$TEST_TMP/ssh_config"
RDEV_BROKER_IDLE_TIMEOUT=1 broker -v start >/dev/null # (-v: its log says when the session closes)
check "rdev ls through a command that ignores SIGTERM" rdev ls stubborn:
stubborn=$(cat "$TEST_TMP/stubborn.pid")
closing() { grep -q "stubborn.*idle for 1 s, closing" "$RDEV_RUNTIME_DIR/broker.log"; }
eventually "the idle session closes" closing
start=$(date +%s%N)
status=$(broker status --json) || true
status_ms=$((($(date +%s%N) - start) / 1000000))
check_eq "the broker answers while the command's SIGTERM grace runs" "$(jq -r .running <<<"$status")" true
echo "     (rdev-broker status took ${status_ms} ms; the command $(pid_alive "$stubborn" && echo still ran || echo had ended))"
check "at once (< 500 ms, not after the grace)" test "$status_ms" -lt 500
eventually "the command is killed after its grace" gone "$stubborn"
broker_stop_timed
check_eq "rdev-broker stop exits 0" "$stop_st" 0

# A stop during that grace: SIGKILL to the group at once, as a stop does (it
# waited for the rest of the second).
RDEV_BROKER_IDLE_TIMEOUT=1 broker -v start >/dev/null
check "rdev ls through it again" rdev ls stubborn:
stubborn=$(cat "$TEST_TMP/stubborn.pid")
closed_again() { [ "$(grep -c "stubborn.*idle for 1 s, closing" "$RDEV_RUNTIME_DIR/broker.log")" -ge 2 ]; }
eventually "the idle session closes again" closed_again
broker_stop_timed
check_eq "rdev-broker stop exits 0" "$stop_st" 0

# A setting that is not a number of seconds is ignored, said (it was read as
# 0: every idle session closed at once).
check "a junk RDEV_BROKER_IDLE_TIMEOUT: the broker starts" \
	sh -c "RDEV_BROKER_IDLE_TIMEOUT=2s \"$RDEV_BIN_DIR/rdev-broker\" start 2>'$TEST_TMP/junk.err'"
check "... saying it is ignored" grep -qF \
	"warning: ignoring RDEV_BROKER_IDLE_TIMEOUT=2s (it wants seconds, 1 to 604800); using 600" "$TEST_TMP/junk.err"
broker_stop_timed
check "at once (< 500 ms, not after the grace)" test "$stop_ms" -lt 500
check "the command was killed" gone "$stubborn"

# --- a ProxyCommand that fails --------------------------------------------------
{
	echo "Host missing"
	sed -n 's/^ *\(HostName\|Port\|User\|IdentityFile\|IdentitiesOnly\|UserKnownHostsFile\|GlobalKnownHostsFile\|StrictHostKeyChecking\|BatchMode\) /  \1 /p' "$cfg"
	echo "  ProxyCommand /nonexistent/proxy %h %p"
	echo "Host says"
	sed -n 's/^ *\(HostName\|Port\|User\|IdentityFile\|IdentitiesOnly\|UserKnownHostsFile\|GlobalKnownHostsFile\|StrictHostKeyChecking\|BatchMode\) /  \1 /p' "$cfg"
	echo "  ProxyCommand sh -c 'i=0; while [ \$i -lt 10000 ]; do echo noise \$i >&2; i=\$((i+1)); done; echo nc: no route to %h >&2; exit 3'"
} >>"$TEST_TMP/ssh_config"
set +e
rdev ls missing: >/dev/null 2>"$TEST_TMP/missing.err"; smissing=$?
rdev ls says: >/dev/null 2>"$TEST_TMP/says.err"; ssays=$?
rdev doctor missing >"$TEST_TMP/doctor.out" 2>&1
set -e
cat "$TEST_TMP/missing.err" "$TEST_TMP/says.err"
check_eq "a missing ProxyCommand: rdev ls fails (exit 1)" "$smissing" 1
check "... naming its exit status and what it said" \
	grep -q "proxy command exited with status 127; its stderr: .*/nonexistent/proxy: No such file or directory" "$TEST_TMP/missing.err"
check "... and no stale errno (Success)" sh -c "! grep -q 'Success' '$TEST_TMP/missing.err'"
check_eq "a ProxyCommand that fails: exit 1" "$ssays" 1
check "... its status and its last stderr line (after 10000 others, ~100 KiB: the pipe is read as it comes)" \
	grep -q "proxy command exited with status 3; its stderr: noise 9996 / noise 9997 / noise 9998 / noise 9999 / nc: no route to 127.0.0.1\$" "$TEST_TMP/says.err"
check "... only those (the last 5 lines of the 2 KiB kept)" sh -c "! grep -q 'noise 9995 ' '$TEST_TMP/says.err'"
check "doctor: the proxy command is the finding" grep -q "the connection through the proxy command failed" "$TEST_TMP/doctor.out"
check "... not 'is it an SSH server at'" sh -c "! grep -q 'is it an SSH server at' '$TEST_TMP/doctor.out'"

# --- a ProxyCommand that logs much on stderr, blocking (as Go programs do) ---
# 1 MiB of log lines, 64 KiB per chunk passed on: its stderr is read as it
# comes, while the session connects, authenticates and is used, so it never
# blocks (the pipe filled after 64 KiB and the command stopped passing data:
# the connect timed out).
rig_proxy_host noisy "$pipe --noise 65536 %h %p" >>"$TEST_TMP/ssh_config"
start=$(date +%s%N)
check "rdev ls through a command that logs 64 KiB per chunk" timeout 30 "$RDEV_BIN_DIR/rdev" ls noisy:
check "... and again, in the session made (read after the connect too)" timeout 30 "$RDEV_BIN_DIR/rdev" ls noisy:
noisy_ms=$((($(date +%s%N) - start) / 1000000))
echo "     (two rdev ls through it: ${noisy_ms} ms)"
check "... in bounded time (< 10 s)" test "$noisy_ms" -lt 10000
broker stop >/dev/null
finish
