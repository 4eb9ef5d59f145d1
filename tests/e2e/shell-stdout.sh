#!/usr/bin/env bash
# shell-stdout.sh - a host whose ~/.bashrc prints to stdout for
# non-interactive shells (a "Welcome" banner): rdev's agent, started through
# the login shell, cannot be talked to. `rdev doctor HOST` says so in its
# `login shell` check (FAIL, exit 2, naming the fix) instead of `login shell
# ok` and an agent failure, and a command's error names the fix too. A forced
# command (authorized_keys command=), which runs nothing of rdev's, is said
# to be that, not blamed on ~/.bashrc, also when it prints (as nologin's
# "This account is currently not available.").
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
rig_remote_host so
trap 'rig_remote_cleanup' EXIT

# (prepended: Debian's ~/.bashrc returns at once for non-interactive shells)
rc_file=$hdir/home/.bashrc
{ echo 'echo "*** Welcome to $(hostname) ***"'; cat "$rc_file"; } >"$TEST_TMP/bashrc"
cat "$TEST_TMP/bashrc" >"$rc_file"

ak=$hdir/authorized_keys
cp "$ak" "$TEST_TMP/ak"
# doctor_2 OUT WHAT [CMD]: rdev doctor on the host (with CMD forced on the
# key by authorized_keys' command=, undone after), its output in
# $TEST_TMP/OUT.out: it exits 2 (its output shown if not)
doctor_2() {
	[ -z "${3-}" ] || sed "s/^/command=\"$3\" /" "$TEST_TMP/ak" >"$ak"
	rc=0
	rdev doctor "$name" >"$TEST_TMP/$1.out" 2>"$TEST_TMP/$1.err" || rc=$?
	cat "$TEST_TMP/ak" >"$ak"
	[ "$rc" = 2 ] || cat "$TEST_TMP/$1.out" "$TEST_TMP/$1.err" >&2
	check_eq "$2: exit 2" "$rc" 2
}
doctor_2 doctor doctor
check "doctor: login shell FAIL naming the files and the host" \
	grep -qE "^FAIL +login shell +~/.bashrc \(or /etc/bash.bashrc\) on $name print to stdout for non-interactive shells \(\"\*\*\* Welcome" \
	"$TEST_TMP/doctor.out"
check "doctor: ... and the fix" \
	grep -qF 'fix: guard them with `[[ $- == *i* ]]` / `case $- in *i*)`' "$TEST_TMP/doctor.out"
check "doctor: no agent check after it" bash -c "! grep -qE '^[a-zA-Z]+ +agent ' '$TEST_TMP/doctor.out'"

rc=0
rdev ls "$name:" >/dev/null 2>"$TEST_TMP/ls.err" || rc=$?
check "ls fails" test "$rc" != 0
check "ls: the agent's start error names the stream and the fix" \
	grep -qF 'not an rdev protocol stream (it starts "*** Welcome' "$TEST_TMP/ls.err"
check "ls: ... and the fix" grep -qF '(~/.bashrc or the login files print to stdout for non-interactive shells: guard them with `[[ $- == *i* ]]` / `case $- in *i*)`)' "$TEST_TMP/ls.err"

# --- a command that never runs: a forced command in authorized_keys ---------
# (no output at all: not the login files' fault)
cat "$TEST_TMP/bashrc" | tail -n +2 >"$rc_file"
doctor_2 doctor2 "forced command" true
check "forced command: login shell FAIL saying the command did not run" \
	grep -qE "^FAIL +login shell +the command did not run on $name \(exit 0\): a forced command \(ForceCommand / authorized_keys command=\) or a non-shell login shell\?" \
	"$TEST_TMP/doctor2.out"
check "forced command: the login files not blamed" \
	bash -c "! grep -qE 'bashrc|print to stdout' '$TEST_TMP/doctor2.out'"

# --- a forced command that prints instead (as nologin does) ----------------
# (no marker: the command did not run either; what it printed is shown, and
# the start-up files are not blamed)
doctor_2 doctor3 "printing forced command" "echo This account is currently not available."
check "printing forced command: the command did not run, its output shown" \
	grep -qE "^FAIL +login shell +the command did not run on $name \(exit 0; it printed \"This account is currently not available\.\" instead\): a forced command" \
	"$TEST_TMP/doctor3.out"
check "printing forced command: the login files not blamed" \
	bash -c "! grep -qE 'bashrc|print to stdout' '$TEST_TMP/doctor3.out'"
