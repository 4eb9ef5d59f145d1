#!/usr/bin/env bash
# rig-ref-keep.sh - lib.sh's kept reference results (rig_ref_keep) are kept
# only while the run that took the key's lock goes on, and whole: a case
# worker of a test killed mid-case (its lock released) keeps nothing, nor
# one still running after the next run took the lock, nor one of a test
# whose exit trap has begun (rig_ref_end); a keep killed mid-write leaves
# no file. (A torn result kept this way made later runs of up-differential
# red.) Needs no Docker: the cache is a folder of this test's own.
. "$(dirname "$0")/../rig/lib.sh"

export RDEV_RIG_DIR=$TEST_TMP/rig
C=$TEST_TMP/cache
mkdir -p "$C"
export C
key=rig-ref-keep-$$
export -f rig_ref_lock rig_ref_gen_swap rig_ref_keep

# keep_after NAME SLEEP: a case worker that keeps NAME after SLEEP s; its
# rig_ref_keep's status in NAME.rc.
keep_after() {
	sleep "$2"
	echo worker | rig_ref_keep "$C/$1"
	echo $? >"$C/$1.rc"
}
export -f keep_after
# run_holder NAME SLEEP: in the background, a "test" that takes the lock
# and starts keep_after NAME SLEEP (without the lock's fd), then waits; sets
# holder (its pid) once it holds the lock.
run_holder() {
	rm -f "$TEST_TMP/locked"
	bash -c 'rig_ref_lock "$1"
		keep_after "$2" "$3" {RIG_REF_LOCK_FD}>&- &
		touch "$4"
		exec sleep 60' _ "$key" "$1" "$2" "$TEST_TMP/locked" &
	holder=$!
	eventually "the holder of $1 took the lock" test -e "$TEST_TMP/locked"
}
# rc_of NAME: the worker's rig_ref_keep status, once it has ended.
rc_of() {
	EVENTUALLY_SECONDS=10 eventually "the worker of $1 ended" test -s "$C/$1.rc" >&2
	cat "$C/$1.rc"
}

# --- a worker of a test killed mid-case, ending after it -----------------------
run_holder killed 1
kill -9 "$holder"
wait "$holder" 2>/dev/null || true
check_eq "a worker of a killed test keeps nothing (status)" "$(rc_of killed)" 1
check "... and no file" test ! -e "$C/killed"

# --- a worker of an earlier run, ending after the next run took the lock -------
run_holder stale 2
kill -9 "$holder"
wait "$holder" 2>/dev/null || true
rig_ref_lock "$key" # (this test: the next run)
check_eq "a worker of the earlier run keeps nothing" "$(rc_of stale)" 1
check "... and no file" test ! -e "$C/stale"
check "the run that holds the lock keeps" bash -c "echo mine | rig_ref_keep '$C/mine'"
check_eq "... the whole of it" "$(cat "$C/mine")" mine

# --- this run's worker: kept, but not once its exit trap began ---------------
bash -c 'echo worker | rig_ref_keep "$C/own"' {RIG_REF_LOCK_FD}>&-
check_eq "this run's worker keeps" "$(cat "$C/own")" worker
rig_ref_end
check "after rig_ref_end, a worker keeps nothing" \
	bash -c "! bash -c 'echo late | rig_ref_keep \"\$C/late\"' 2>/dev/null && test ! -e '$C/late'"

# --- a keep killed mid-write ----------------------------------------------------
# (a session of its own: the writer and its reader killed together)
setsid bash -c '{ echo half; exec sleep 30; } | rig_ref_keep "$C/torn"' </dev/null >/dev/null 2>&1 &
w=$!
eventually "the keep has begun" bash -c "ls -A '$C' | grep -q '^\.torn\.'"
kill -9 -- -"$w"
wait "$w" 2>/dev/null || true
check "a keep killed mid-write leaves no result" test ! -e "$C/torn"
finish
