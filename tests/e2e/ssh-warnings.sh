#!/usr/bin/env bash
# ssh-warnings.sh - what rdev says about a host's ssh set-up that it does not
# follow: ssh config options that apply to the host but are not honoured
# (StrictHostKeyChecking accept-new, ForwardAgent) are printed on stderr by
# each command that opens the host's session, `ls` and `exec` too (not again
# by a command that reuses it; under -q, with a command's error), are in
# the broker's log, and `rdev doctor
# HOST` reports each as a warning naming the option and its file:line; a
# value that changes nothing for rdev (ForwardAgent no, CheckHostIP...), a
# keyword IgnoreUnknown lists, a Match stopped by a failed host: no warning.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
rig_remote_host sw
trap 'rig_remote_cleanup' EXIT

{
	echo "Host $name"
	echo "  StrictHostKeyChecking accept-new"
	echo "  ForwardAgent yes"
	cat "$cfg"
	# values that change nothing for rdev, and IgnoreUnknown: no warning
	echo "Host *"
	echo "  IgnoreUnknown UseKeychain"
	echo "  UseKeychain yes"
	echo "  ForwardAgent no"
	echo "  CheckHostIP no"
	echo "  VerifyHostKeyDNS no"
	echo "  PreferredAuthentications publickey"
	echo "  Match host nosuchhost exec false"
} >"$TEST_TMP/ssh_config"
export RDEV_SSH_CONFIG=$TEST_TMP/ssh_config
strict="$TEST_TMP/ssh_config:2: StrictHostKeyChecking accept-new is not honoured"
fwd="$TEST_TMP/ssh_config:3: ForwardAgent is not supported"

# --- printed by the command that opens the session ----------------------------
rdev ls "$name:" >/dev/null 2>"$TEST_TMP/ls1.err" ||
	{ cat "$TEST_TMP/ls1.err" >&2; fail "rdev ls $name: failed"; }
check_eq "ls opening the session: StrictHostKeyChecking's warning, once" \
	"$(grep -cF "warning: $strict" "$TEST_TMP/ls1.err")" 1
check_eq "ls opening the session: ForwardAgent's warning, once" \
	"$(grep -cF "warning: $fwd" "$TEST_TMP/ls1.err")" 1
check_eq "ls opening the session: nothing about harmless values, IgnoreUnknown's, a Match stopped early" \
	"$(grep -cE 'UseKeychain|CheckHostIP|VerifyHostKeyDNS|PreferredAuth|Match exec' "$TEST_TMP/ls1.err" || true)" 0
check_eq "ls opening the session: ForwardAgent no not warned (only yes)" \
	"$(grep -c 'ForwardAgent' "$TEST_TMP/ls1.err")" 1
rdev ls "$name:" >/dev/null 2>"$TEST_TMP/ls2.err"
check_eq "ls reusing the session: no warning again" \
	"$(grep -c 'warning:' "$TEST_TMP/ls2.err" || true)" 0
check "the broker's log has them" grep -qF "ssh config: $strict" "$RDEV_RUNTIME_DIR/broker.log"

# exec (a workspace without a container: 125) after the session was closed
broker stop >/dev/null
on_host 'mkdir -p ~/nows'
rc=0
rdev exec "$name:~/nows" -- true 2>"$TEST_TMP/exec.err" || rc=$?
check_eq "exec without a container: 125" "$rc" 125
check_eq "exec opening the session: the warning, once" \
	"$(grep -cF "warning: $strict" "$TEST_TMP/exec.err")" 1

# -q holds the warning back, and an error that is neither a failed build's
# nor a step's (exec's "no container") shows it first: what explains a
# failure is not lost (it was held and dropped).
broker stop >/dev/null
rc=0
rdev -q exec "$name:~/nows" -- true 2>"$TEST_TMP/exec-q.err" || rc=$?
check_eq "-q exec without a container: 125" "$rc" 125
check_eq "-q exec opening the session: the held warning is shown, once" \
	"$(grep -cF "warning: $strict" "$TEST_TMP/exec-q.err")" 1
check "... before the error" sh -c "tail -1 '$TEST_TMP/exec-q.err' | grep -q '^rdev: exec: '"

# --- doctor HOST --------------------------------------------------------------
rc=0
rdev doctor "$name" >"$TEST_TMP/doctor.out" 2>"$TEST_TMP/doctor.err" || rc=$?
[ "$rc" = 1 ] || cat "$TEST_TMP/doctor.out" "$TEST_TMP/doctor.err" >&2
check_eq "doctor: exit 1 (a warning)" "$rc" 1
check "doctor: a warning naming StrictHostKeyChecking and its file:line" \
	grep -qE "^warn +ssh config +$(printf '%s' "$strict" | sed 's/[.[\*^$]/\\&/g')" "$TEST_TMP/doctor.out"
check "doctor: and ForwardAgent's" grep -qF "$fwd" "$TEST_TMP/doctor.out"
check_eq "doctor: no line for the harmless ones" \
	"$(grep -cE 'UseKeychain|CheckHostIP|VerifyHostKeyDNS|PreferredAuth|Match exec' "$TEST_TMP/doctor.out" || true)" 0
check_eq "doctor: nothing of it on stderr" "$(grep -c 'warning:' "$TEST_TMP/doctor.err" || true)" 0
