#!/usr/bin/env bash
# up-step-held-output.sh - a lifecycle step that leaves a background process
# holding its output (`sleep 300 & echo bg started`): up does not wait for
# that output (Docker would hold the exec's stream about 2 s more) and says
# so: "postCreateCommand left a background process holding its output; not
# waiting for it"; the step is done.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
export RDEV_STATE_DIR=$TEST_TMP/state

ws=$TEST_TMP/held
mkdir -p "$ws"
cat >"$ws/.devcontainer.json" <<JSON
{"image": "$RDEV_RIG_IMAGE_BUSYBOX", "updateRemoteUserUID": false,
 "postCreateCommand": "sleep 300 & echo bg started"}
JSON
rig_test_containers "devcontainer.local_folder=$ws"
trap rig_test_cleanup EXIT
rdev up "$ws" >"$TEST_TMP/up.out" 2>"$TEST_TMP/up.err" ||
	fail "up failed: $(cat "$TEST_TMP/up.err")"
check "the step's output is shown" grep -q "^bg started" "$TEST_TMP/up.err"
check "up says it does not wait for the held output" grep -qx \
	"postCreateCommand left a background process holding its output; not waiting for it" \
	"$TEST_TMP/up.err"
