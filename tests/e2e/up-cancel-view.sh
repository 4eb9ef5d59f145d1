#!/usr/bin/env bash
# up-cancel-view.sh - ^C at a terminal during a remote `rdev up`'s step
# (through a real pty, tests/e2e/pty_drive.py; a real sshd host of the rig):
# the step's updating line is finished, "[cancelled after N.Ns] LABEL", as a
# failed step's "[FAILED N.Ns] LABEL" is, and "rdev: up: cancelled" comes on
# a line of its own after it; exit 130.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker

rig_remote_host v
trap 'rig_remote_cleanup wv' EXIT
cat >"$TEST_TMP/devcontainer.json" <<JSON
{
  "image": "$RDEV_RIG_IMAGE_BUSYBOX",
  "updateRemoteUserUID": false,
  "postCreateCommand": "echo d; sleep 60"
}
JSON
on_host 'mkdir -p ~/wv && cat > ~/wv/.devcontainer.json' <"$TEST_TMP/devcontainer.json"
rc=0
python3 "$RDEV_SOURCE_DIR/tests/e2e/pty_drive.py" --cols 200 --timeout 120 --term xterm \
	--log "$TEST_TMP/up.raw" --step 'expect Running the postCreateCommand' \
	--step 'sleep 1.5' --step intr --step 'exitstatus 130' \
	-- "$RDEV_BIN_DIR/rdev" up "$name:~/wv" >"$TEST_TMP/drive.out" 2>&1 || rc=$?
tr '\r' '\n' <"$TEST_TMP/up.raw" | sed 's/\x1b\[K//g' >"$TEST_TMP/up.log"
[ "$rc" -eq 0 ] || cat "$TEST_TMP/drive.out" >&2
check_eq "^C: exit 130" "$rc" 0
check "the step's line is finished: [cancelled after N.Ns] LABEL" \
	grep -qE '^\[cancelled after [0-9]+\.[0-9]s\] Running the postCreateCommand: `echo d; sleep 60`$' \
	"$TEST_TMP/up.log"
check "rdev: up: cancelled on a line of its own" grep -qE '^(\^C)?rdev: up: cancelled$' "$TEST_TMP/up.log"
hasnt() { ! grep "$@"; }
check "no step line runs into the cancel message" \
	hasnt -qE 'Running the postCreateCommand.*rdev: up: cancelled' "$TEST_TMP/up.log"
