#!/usr/bin/env bash
# status.sh - `rdev status` on a local and a remote workspace: absent, running
# (the lifecycle steps done; a slow postStartCommand "running" while up left it
# to the background), stopped, absent again after down; exit 0 for each state;
# the remote one names its host and lists its forwards; a bad target is a
# usage error; a step that fails in up itself is "failed", with its error,
# until an up runs it again and it succeeds; a container's lifecycle record
# goes with it (down, up --recreate), and stays gone when down comes while
# its background run still goes; a log removed by hand while the run goes
# does not make it reported dead, and what follows goes into a new one.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
export RDEV_STATE_DIR=$TEST_TMP/state

# --- local --------------------------------------------------------------------
ws=$TEST_TMP/ws-status
mkdir -p "$ws"
cat >"$ws/.devcontainer.json" <<JSON
{
  "image": "$RDEV_RIG_IMAGE_BOOKWORM_DEV",
  "updateRemoteUserUID": false,
  "onCreateCommand": "true",
  "postCreateCommand": "true",
  "postStartCommand": "i=0; while [ ! -e /tmp/go ] && [ \$i -lt 1200 ]; do echo waiting; sleep 0.1; i=\$((i + 1)); done",
  "waitFor": "postCreateCommand"
}
JSON
# (The postStartCommand runs until the test says go, after its checks of
# it running: a fixed 4 s sleep could end first on a loaded machine.)
rig_remote_host s
on_host "mkdir -p ~/rws && printf '%s' '{\"image\": \"$RDEV_RIG_IMAGE_BOOKWORM_DEV\",
	\"updateRemoteUserUID\": false, \"forwardPorts\": [7]}' > ~/rws/.devcontainer.json"
trap 'docker ps -aq --filter "label=devcontainer.local_folder=$ws" | xargs -r docker rm -f >/dev/null; rig_remote_cleanup rws' EXIT

st() { rdev status "$@" --json; }
check_eq "absent before up" "$(st "$ws" | jq -r .state)" absent
check "text form says absent" sh -c "'$RDEV_BIN_DIR/rdev' status '$ws' | grep -qE '^state +absent$'"

rdev up "$ws" --skip-non-blocking-commands --json >"$TEST_TMP/up.json"
cid=$(jq -r .containerId "$TEST_TMP/up.json")
st "$ws" >"$TEST_TMP/s1.json"
check_eq "running after up" "$(jq -r .state "$TEST_TMP/s1.json")" running
check_eq "the container id" "$(jq -r .containerId "$TEST_TMP/s1.json")" "$cid"
check_eq "its image" "$(jq -r .image "$TEST_TMP/s1.json")" "$RDEV_RIG_IMAGE_BOOKWORM_DEV"
check "created and started times" jq -e '(.created | test("^20")) and (.started | test("^20"))' "$TEST_TMP/s1.json" >/dev/null
check_eq "onCreateCommand done" "$(jq -r '.steps[] | select(.name == "onCreateCommand") | .state' "$TEST_TMP/s1.json")" done
check_eq "postCreateCommand done" "$(jq -r '.steps[] | select(.name == "postCreateCommand") | .state' "$TEST_TMP/s1.json")" done
check_eq "a step without a command says so" \
	"$(jq -r '.steps[] | select(.name == "updateContentCommand") | .state' "$TEST_TMP/s1.json")" "no command"
check_eq "the slow postStartCommand is running in the background" \
	"$(jq -r '.steps[] | select(.name == "postStartCommand") | .state' "$TEST_TMP/s1.json")" running
check_eq "the background run is running" "$(jq -r .background.state "$TEST_TMP/s1.json")" running
check_eq "a local target has no host" "$(jq -r .host "$TEST_TMP/s1.json")" null
# A reader that goes away (`| head -1`) ends logs -f (141, as `tail -f |
# head`) while the step still runs: rdev ignores SIGPIPE, and it followed
# on until the step ended (for ever for a server).
set +e
timeout 60 "$RDEV_BIN_DIR/rdev" logs -f "$ws" | head -1 >/dev/null
spipe=${PIPESTATUS[0]}
set -e
check_eq "logs -f ends with 141 when its reader goes away, not with the step" "$spipe" 141
# Any other write error (a full disk) ends it too, with 125, while the step
# still runs; plain logs likewise (lib.sh).
check_logs_write_errors "$ws"
check_eq "logs --json: a reader gone: 141" "$(status_reader_gone "$RDEV_BIN_DIR/rdev" logs "$ws" --json)" 141
# Its log removed by hand meanwhile (`rm` of what looks like a stale file):
# the run was taken for its container's end (its record no longer written)
# and reported dead ("killed?"); it goes on, running, and writes what
# follows into a new log.
rm "$RDEV_STATE_DIR/lifecycle-$cid.log"
check_eq "a removed log: the background run is still reported running" \
	"$(st "$ws" | jq -r .background.state)" running
docker exec "$cid" touch /tmp/go
rdev logs -f "$ws" >/dev/null
check_eq "postStartCommand done once the background run ended" \
	"$(st "$ws" | jq -r '.steps[] | select(.name == "postStartCommand") | .state')" done
check_eq "... and the run done, its log removed meanwhile" "$(st "$ws" | jq -r .background.state)" done
check "... what followed in a new log" grep -q "postStartCommand: done" "$RDEV_STATE_DIR/lifecycle-$cid.log"
check "text form lists the steps" sh -c "'$RDEV_BIN_DIR/rdev' status '$ws' | grep -qE '^  postCreateCommand +done$'"

# ls and status name a state with the same words (Docker's "exited" and
# "created" are "stopped"; a paused container is "paused" in both).
ls_state() { rdev ls --json | jq -r --arg id "$1" '.[] | select(.containerId == $id) | .state'; }
check_eq "ls: running" "$(ls_state "$cid")" running
docker pause "$cid" >/dev/null
check_eq "status: paused" "$(st "$ws" | jq -r .state)" paused
check_eq "ls: paused" "$(ls_state "$cid")" paused
docker unpause "$cid" >/dev/null
rdev stop "$ws" --json >"$TEST_TMP/stop.json" 2>"$TEST_TMP/stop.err"
check_eq "stop --json counts it stopped by this call" \
	"$(jq -c '[.stopped, .alreadyStopped]' "$TEST_TMP/stop.json")" "[1,0]"
check_eq "... and says nothing on stderr" "$(cat "$TEST_TMP/stop.err")" ""
st "$ws" >"$TEST_TMP/s2.json"
check_eq "stopped after stop" "$(jq -r .state "$TEST_TMP/s2.json")" stopped
check_eq "ls says stopped too (not Docker's exited)" "$(ls_state "$cid")" stopped
check "... in its table as well" sh -c "'$RDEV_BIN_DIR/rdev' ls | grep -qE '^${cid:0:12} +stopped '"
# A second stop stops nothing: said apart, not counted as stopped.
rdev stop "$ws" --json >"$TEST_TMP/stop2.json"
check_eq "stop --json of a stopped container: alreadyStopped" \
	"$(jq -c '[.stopped, .alreadyStopped]' "$TEST_TMP/stop2.json")" "[0,1]"
rdev stop "$ws" >/dev/null 2>"$TEST_TMP/stop.err"
check_eq "stop says it was stopped already" "$(cat "$TEST_TMP/stop.err")" \
	"rdev: the dev container for $ws was stopped already (kept: \`rdev up\` starts it again)"
check "no steps while stopped (they are recorded inside)" jq -e 'has("steps") | not' "$TEST_TMP/s2.json" >/dev/null
check "the background run's record is in the agent's state" \
	test -e "$RDEV_STATE_DIR/lifecycle-$cid.state"
check "... and its log" test -e "$RDEV_STATE_DIR/lifecycle-$cid.log"
rdev down "$ws" >/dev/null
check_eq "absent after down" "$(st "$ws" | jq -r .state)" absent
# The record goes with its container (it stayed behind, one per container).
check "down removes the container's lifecycle record" \
	test ! -e "$RDEV_STATE_DIR/lifecycle-$cid.state"
# ... and its background log (nothing reads it once the container is gone)
check "down removes the container's background lifecycle log" \
	test ! -e "$RDEV_STATE_DIR/lifecycle-$cid.log"
check "... and its lock file" test ! -e "$RDEV_STATE_DIR/lifecycle-$cid.lock"
# A down while the background run still goes: the run ends ("failed", its
# container gone under it) after down removed the record and the log, and
# wrote the record again, for a container that no longer exists. (Its
# process is stopped over the down, so that it ends after it: left alone it
# mostly writes first, and down then removed the record.)
rdev up "$ws" --skip-non-blocking-commands --json >"$TEST_TMP/up2.json"
cid=$(jq -r .containerId "$TEST_TMP/up2.json")
check_eq "a second background run is running" "$(st "$ws" | jq -r .background.state)" running
# the run's process: the one that holds its log (still, once down unlinked it)
bg_run_pids() {
	{ find /proc/[0-9]*/fd -lname "*/lifecycle-$cid.log*" 2>/dev/null || true; } |
		cut -d/ -f3 | sort -u
}
run_pids=$(bg_run_pids)
check "the background run's process is found" test -n "$run_pids"
kill -STOP $run_pids
rdev down "$ws" >/dev/null
kill -CONT $run_pids
bg_run_gone() { [ -z "$(bg_run_pids)" ]; }
EVENTUALLY_SECONDS=60 eventually "the background run ends once its container is gone" bg_run_gone
check "down during the background run: its record stays gone after the run" \
	test ! -e "$RDEV_STATE_DIR/lifecycle-$cid.state"
check "... and its log" test ! -e "$RDEV_STATE_DIR/lifecycle-$cid.log"
check "... and its lock file" test ! -e "$RDEV_STATE_DIR/lifecycle-$cid.lock"

# A step that fails in up itself (not in the background) ran and failed:
# status said "not run" (only the background run's failures were recorded).
wf=$TEST_TMP/ws-status-fail
mkdir -p "$wf"
fail_cfg() {
	cat >"$wf/.devcontainer.json" <<JSON
{
  "image": "$RDEV_RIG_IMAGE_BOOKWORM_DEV",
  "updateRemoteUserUID": false,
  "postCreateCommand": "$1",
  "postStartCommand": "true"
}
JSON
}
fail_cfg "echo broken; exit 3"
trap 'docker ps -aq --filter "label=devcontainer.local_folder=$ws" | xargs -r docker rm -f >/dev/null; docker ps -aq --filter "label=devcontainer.local_folder=$wf" | xargs -r docker rm -f >/dev/null; rig_remote_cleanup rws' EXIT
set +e
rdev up "$wf" >/dev/null 2>"$TEST_TMP/fup.err"
frc=$?
set -e
check_eq "up whose postCreateCommand exits 3 exits 1" "$frc" 1
check "... naming the step" grep -qE 'postCreateCommand failed: .*exit 3.* exited with status 3' "$TEST_TMP/fup.err"
st "$wf" >"$TEST_TMP/f1.json"
check_eq "the failed step says failed" \
	"$(jq -r '.steps[] | select(.name == "postCreateCommand") | .state' "$TEST_TMP/f1.json")" failed
check "--json carries its error" jq -e '.steps[] | select(.name == "postCreateCommand") |
	.error | test("^postCreateCommand failed: .*exited with status 3")' "$TEST_TMP/f1.json" >/dev/null
check_eq "the step after it did not run" \
	"$(jq -r '.steps[] | select(.name == "postStartCommand") | .state' "$TEST_TMP/f1.json")" "not run"
check_eq "no background run for it" "$(jq -r .background.state "$TEST_TMP/f1.json")" none
"$RDEV_BIN_DIR/rdev" status "$wf" >"$TEST_TMP/f1.txt"
check "text form: failed in the table" grep -qE '^  postCreateCommand +failed$' "$TEST_TMP/f1.txt"
check "text form: the error after it" grep -qE '^error +postCreateCommand failed: .*exited with status 3' "$TEST_TMP/f1.txt"
check "text form: background none" grep -qE '^background +none$' "$TEST_TMP/f1.txt"
set +e
"$RDEV_BIN_DIR/rdev" logs "$wf" >/dev/null 2>"$TEST_TMP/flogs.err"
flrc=$?
set -e
check_eq "logs does not call it a failed background run" "$flrc" 0
check "... and says there is no background output" \
	grep -qx "rdev: no background lifecycle output for this container" "$TEST_TMP/flogs.err"
# -f has nothing to wait for: it says the same (not a silent 0)
set +e
timeout 60 "$RDEV_BIN_DIR/rdev" logs -f "$wf" >"$TEST_TMP/flogsf.out" 2>"$TEST_TMP/flogsf.err"
flrc=$?
set -e
check_eq "logs -f with no background run: 0 at once" "$flrc" 0
check "... saying so as plain logs does" \
	grep -qx "rdev: no background lifecycle output for this container" "$TEST_TMP/flogsf.err"
check "... and printing nothing" test ! -s "$TEST_TMP/flogsf.out"
fcid=$(jq -r .containerId "$TEST_TMP/f1.json")
# Fixed in devcontainer.json: the lifecycle commands are the container's
# (its metadata label), so the fix takes a new container, which does not
# show its predecessor's failure.
check "the failure is recorded in the agent's state" \
	test -e "$RDEV_STATE_DIR/lifecycle-$fcid.state"
fail_cfg "true"
rdev up "$wf" --recreate >/dev/null 2>"$TEST_TMP/fup2.err" ||
	{ cat "$TEST_TMP/fup2.err" >&2; fail "up --recreate after the fix failed"; }
check "up --recreate removes the replaced container's record" \
	test ! -e "$RDEV_STATE_DIR/lifecycle-$fcid.state"
st "$wf" >"$TEST_TMP/f2.json"
check "recreated: a new container" test "$(jq -r .containerId "$TEST_TMP/f2.json")" != "$fcid"
check_eq "recreated with the fix: done" \
	"$(jq -r '.steps[] | select(.name == "postCreateCommand") | .state' "$TEST_TMP/f2.json")" done
check "... without the old container's error" jq -e '.steps | all(has("error") | not)' "$TEST_TMP/f2.json" >/dev/null
# Fixed in the workspace: the same container runs the step again, and its
# success clears the failure.
fail_cfg 'if [ ! -e fixed ]; then echo broken; exit 3; fi'
set +e
rdev up "$wf" --recreate >/dev/null 2>"$TEST_TMP/fup3.err"
frc=$?
set -e
check_eq "recreated with a step that fails until the workspace is fixed: up exits 1" "$frc" 1
st "$wf" >"$TEST_TMP/f3.json"
check_eq "... and it says failed" \
	"$(jq -r '.steps[] | select(.name == "postCreateCommand") | .state' "$TEST_TMP/f3.json")" failed
record=$RDEV_STATE_DIR/lifecycle-$(jq -r .containerId "$TEST_TMP/f3.json").state
check "... recorded in the agent's state" test -e "$record"
touch "$wf/fixed"
rdev up "$wf" >/dev/null 2>"$TEST_TMP/fup4.err" ||
	{ cat "$TEST_TMP/fup4.err" >&2; fail "up after the workspace fix failed"; }
st "$wf" >"$TEST_TMP/f4.json"
check_eq "the same container" "$(jq -r .containerId "$TEST_TMP/f4.json")" "$(jq -r .containerId "$TEST_TMP/f3.json")"
check_eq "run again and succeeded: done" \
	"$(jq -r '.steps[] | select(.name == "postCreateCommand") | .state' "$TEST_TMP/f4.json")" done
check_eq "... and the step after it too" \
	"$(jq -r '.steps[] | select(.name == "postStartCommand") | .state' "$TEST_TMP/f4.json")" done
rdev status "$wf" >"$TEST_TMP/f4.txt" || fail "status after the fix failed"
check "... without the error" sh -c "! grep -q '^error' '$TEST_TMP/f4.txt'"
check "... and the record of the failure is gone" test ! -e "$record"
rdev down "$wf" >/dev/null

set +e
rdev status "$ws" --bogus 2>"$TEST_TMP/bad.err"
rc=$?
set -e
check_eq "an unknown option is a usage error" "$rc" 2

# --- remote -------------------------------------------------------------------
check_eq "remote: absent before up" "$(st "$name:~/rws" | jq -r .state)" absent
rdev up "$name:~/rws" --json >/dev/null 2>"$TEST_TMP/rup.err" ||
	{ cat "$TEST_TMP/rup.err" >&2; fail "rdev up $name:~/rws failed"; }
st "$name:~/rws" >"$TEST_TMP/r1.json"
check_eq "remote: running" "$(jq -r .state "$TEST_TMP/r1.json")" running
check_eq "remote: no lifecycle commands, each says so" \
	"$(jq -r '[.steps[].state] | unique | join(",")' "$TEST_TMP/r1.json")" "no command"
check_eq "remote: names its host" "$(jq -r .host "$TEST_TMP/r1.json")" "$name"
check_eq "remote: lists its forward of port 7" "$(jq -r '.forwards | map(.port) | join(",")' "$TEST_TMP/r1.json")" 7
check "remote: text form shows the forward" sh -c "'$RDEV_BIN_DIR/rdev' status '$name:~/rws' | grep -q 'container port 7'"
rdev down "$name:~/rws" >/dev/null 2>"$TEST_TMP/rdown.err"
check_eq "remote: down names the target as typed" "$(cat "$TEST_TMP/rdown.err")" \
	"rdev: removed the dev container for $name:~/rws"
rdev stop "$name:~/rws" >/dev/null 2>"$TEST_TMP/rstop.err"
check_eq "remote: stop names the target as typed" "$(cat "$TEST_TMP/rstop.err")" \
	"rdev: no dev container for $name:~/rws; nothing to stop"
check_eq "remote: absent after down" "$(st "$name:~/rws" | jq -r .state)" absent
# HOST: SOURCE whose folder no up has sent: the agent's error names a
# folder on the host the user never saw; it says what is missing.
mkdir -p "$TEST_TMP/never"
# How many times never.err says ./never is not on the host yet.
never_notes() {
	grep -oF "(./never is not on that host yet: \`rdev up $name: ./never\` puts it there)" \
		"$TEST_TMP/never.err" | wc -l
}
echo '{"image": "x"}' >"$TEST_TMP/never/.devcontainer.json"
for c in status down; do
	set +e
	(cd "$TEST_TMP" && "$RDEV_BIN_DIR/rdev" $c "$name:" ./never) >/dev/null 2>"$TEST_TMP/never.err"
	rc=$?
	set -e
	check_eq "remote: $c of a HOST: SOURCE never sent exits 1" "$rc" 1
	check_eq "... and says once it is not on the host yet ($(cat "$TEST_TMP/never.err"))" \
		"$(never_notes)" 1
done
# (exec and shell too: their error is the agent's, as the command starts)
for c in "exec $name: ./never -- true" "shell $name: ./never"; do
	set +e
	(cd "$TEST_TMP" && "$RDEV_BIN_DIR/rdev" $c) </dev/null >/dev/null 2>"$TEST_TMP/never.err"
	rc=$?
	set -e
	check_eq "remote: ${c%% *} of a HOST: SOURCE never sent exits 125" "$rc" 125
	check_eq "... and says once it is not on the host yet ($(cat "$TEST_TMP/never.err"))" \
		"$(never_notes)" 1
done
# (forward too: the broker's refusal of the folder)
set +e
(cd "$TEST_TMP" && "$RDEV_BIN_DIR/rdev" forward "$name:" ./never 8080) </dev/null >/dev/null 2>"$TEST_TMP/never.err"
rc=$?
set -e
check_eq "remote: forward of a HOST: SOURCE never sent exits 1" "$rc" 1
check_eq "... and says once it is not on the host yet ($(cat "$TEST_TMP/never.err"))" \
	"$(never_notes)" 1
# (forward --auto asks the agent for the ports first: that call's error)
set +e
(cd "$TEST_TMP" && "$RDEV_BIN_DIR/rdev" forward --auto "$name:" ./never) </dev/null >/dev/null 2>"$TEST_TMP/never.err"
rc=$?
set -e
check_eq "remote: forward --auto of a HOST: SOURCE never sent exits 1" "$rc" 1
check_eq "... and says once it is not on the host yet ($(cat "$TEST_TMP/never.err"))" \
	"$(never_notes)" 1
check "... as forward's error, not up's" grep -q '^rdev: forward: ' "$TEST_TMP/never.err"
# The command to paste quotes what a shell would split: './my never'.
mkdir -p "$TEST_TMP/my never"
echo '{"image": "x"}' >"$TEST_TMP/my never/.devcontainer.json"
set +e
(cd "$TEST_TMP" && "$RDEV_BIN_DIR/rdev" status "$name:" "./my never") >/dev/null 2>"$TEST_TMP/never.err"
set -e
check "... a SOURCE with a space is quoted in the hint ($(cat "$TEST_TMP/never.err"))" grep -qF \
	"(./my never is not on that host yet: \`rdev up $name: './my never'\` puts it there)" "$TEST_TMP/never.err"
finish
