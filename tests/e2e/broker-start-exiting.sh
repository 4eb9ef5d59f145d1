#!/usr/bin/env bash
# broker-start-exiting.sh - `rdev-broker start` while the running broker is
# exiting (killed, not gone yet: it holds the lock, and its socket still
# takes connections it will never answer) starts a new broker once the old
# one has gone; with a broker that answers, it starts none. (A start right
# after `kill -9` of the broker took the killed one's listener for a running
# broker and started none, 5 tries in 30: sync-broker's "a new broker keeps
# the sync away" then met no broker.) The exiting broker here is a stopped
# (SIGSTOP) one, killed 1 s after the start began. Needs no Docker.
. "$(dirname "$0")/../rig/lib.sh"
broker() { "$RDEV_BIN_DIR/rdev-broker" "$@"; }
bpid() { broker status --json 2>/dev/null | jq -r .pid; }

broker start || fail "rdev-broker start"
old=$(bpid)
check_eq "a start while a broker answers: none started (the same pid)" \
	"$(broker start && bpid)" "$old"
cleanup() {
	local rc=$?
	set +e # (exit $rc) below must not end the trap
	kill -CONT "$old" 2>/dev/null
	(exit $rc)
	rig_test_cleanup
}
trap cleanup EXIT
kill -STOP "$old"
broker start >/dev/null 2>"$TEST_TMP/start.err" &
spid=$!
sleep 1
kill -KILL "$old"
s=0
wait "$spid" || s=$?
check_eq "a start while the broker exits: it waits, and succeeds" "$s" 0
new=$(bpid) || new=
check "... a new broker runs (pid ${new:-none}; the killed one was $old)" \
	test -n "$new" -a "$new" != "$old"
finish
