#!/usr/bin/env bash
# sync-hostile.sh - the agent's sync op against hostile input (paths with
# '..', absolute paths, hard links, entries not asked for, files written
# through a symlink made by the stream or found on the host) and a peer that
# goes away mid-stream (each file old or new, no temporary file left, the
# next sync sends only the rest): sync_hostile.py on `rdev-agent serve`.
. "$(dirname "$0")/../rig/lib.sh"
root=$TEST_TMP/root outside=$TEST_TMP/outside
mkdir -p "$root" "$outside"
echo untouched >"$outside/keep.txt"
printf '{"workspaceRoot": "%s"}\n' "$root" >"$TEST_TMP/policy.json"
RDEV_AGENT_POLICY=$TEST_TMP/policy.json python3 "$RDEV_SOURCE_DIR/tests/e2e/sync_hostile.py" \
	"$root" "$outside" -- "$RDEV_BIN_DIR/rdev-agent" serve
check_eq "the outside folder is as it was" "$(ls "$outside")" keep.txt
finish
