#!/usr/bin/env bash
# run-user-commands.sh - `rdev run-user-commands`, the reference CLI's
# prebuild flow: a container made by `up --skip-post-create` has run no
# lifecycle step; run-user-commands runs onCreate..postAttach once, with the
# reference's JSON result; a second call runs only postAttach (the markers
# say the rest ran); --prebuild runs updateContentCommand again and stops
# there; a failing step is exit 1 naming it, with the reference's error
# object; a reference option rdev does not take is a usage error naming it;
# a stopped container is not started. A remote TARGET (HOST:PATH, through
# the broker to the host's agent) runs the steps the same way, and so does
# HOST: SOURCE (the folder `rdev up HOST: SOURCE` uploaded). Each step
# appends its name to /tmp/order; remoteUser `dev`.
# Fails without the fix: rdev had no run-user-commands.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
command -v jq >/dev/null || fail "jq is needed"
# (the remote host starts meanwhile: taken at the end)
rig_host_bg "$(rig_host_name u)"

ws=$TEST_TMP/ws-ruc
mkdir -p "$ws"
cat >"$ws/.devcontainer.json" <<JSON
{
  "image": "$RDEV_RIG_IMAGE_BOOKWORM_DEV",
  "remoteUser": "dev",
  "updateRemoteUserUID": true,
  "updateRemoteUserUID": false,
  "initializeCommand": "[ ! -e slow ] || { touch started; sleep 2; }",
  "onCreateCommand": "echo onCreate >> /tmp/order",
  "updateContentCommand": "echo updateContent >> /tmp/order",
  "postCreateCommand": "echo postCreate >> /tmp/order",
  "postStartCommand": "echo postStart >> /tmp/order",
  "postAttachCommand": "echo postAttach >> /tmp/order; [ ! -e fail ]"
}
JSON
rig_test_containers "devcontainer.local_folder=$ws"

cid() { docker ps -q --no-trunc --filter "label=devcontainer.local_folder=$ws"; }
order() { docker exec "$(cid)" sh -c 'cat /tmp/order 2>/dev/null' | tr '\n' ' ' | sed 's/ $//'; }
all="onCreate updateContent postCreate postStart postAttach"

# (a boolean's value, as the reference's yargs takes it, is no TARGET)
rdev up --skip-post-create true "$ws" >/dev/null 2>"$TEST_TMP/up.err" ||
	{ cat "$TEST_TMP/up.err" >&2; fail "rdev up --skip-post-create failed"; }
check_eq "up --skip-post-create: no step ran" "$(order)" ""

# --- --skip-non-blocking-commands: up to waitFor, the rest not run (a later call's) --
out=$(rdev run-user-commands "$ws" --skip-non-blocking-commands --json 2>"$TEST_TMP/ruc0.err") ||
	{ cat "$TEST_TMP/ruc0.err" >&2; fail "run-user-commands --skip-non-blocking-commands failed"; }
check_eq "--skip-non-blocking-commands: result skipNonBlocking" "$out" \
	'{"outcome":"success","result":"skipNonBlocking"}'
check_eq "--skip-non-blocking-commands: up to updateContentCommand" "$(order)" \
	"onCreate updateContent"

# --- the steps, once (the rest: nothing left running in the background) -------------
out=$(rdev run-user-commands "$ws" --json 2>"$TEST_TMP/ruc1.err") ||
	{ cat "$TEST_TMP/ruc1.err" >&2; fail "run-user-commands failed"; }
check_eq "run-user-commands: the reference's result" "$out" '{"outcome":"success","result":"done"}'
check_eq "run-user-commands: every step, in order, once" "$(order)" "$all"
grep -q 'warning: .*duplicate property "updateRemoteUserUID"' "$TEST_TMP/ruc1.err" ||
	fail "--json: the configuration's warning is not on stderr (as up's): $(cat "$TEST_TMP/ruc1.err")"
check_eq "and the reference's markers, so it would not run them again" \
	"$(docker exec "$(cid)" sh -c 'cd /home/dev/.devcontainer && ls -A' | tr '\n' ' ')" \
	".onCreateCommandMarker .postCreateCommandMarker .postStartCommandMarker .updateContentCommandMarker "

rdev run-user-commands --prebuild false --no-stop-for-personalization "$ws" \
	--skip-post-attach=false >"$TEST_TMP/ruc2.out" 2>"$TEST_TMP/ruc2.err" ||
	{ cat "$TEST_TMP/ruc2.err" >&2; fail "a second run-user-commands failed"; }
check_eq "a second call: only postAttach (the markers say the rest ran)" "$(order)" "$all postAttach"
check_eq "its result on stdout's last line" "$(tail -n 1 "$TEST_TMP/ruc2.out")" \
	'{"outcome":"success","result":"done"}'
grep -q "Running the postAttachCommand" "$TEST_TMP/ruc2.err" ||
	fail "the steps' progress is not on stderr: $(cat "$TEST_TMP/ruc2.err")"
grep -q 'warning: .*duplicate property "updateRemoteUserUID"' "$TEST_TMP/ruc2.err" ||
	fail "the configuration's warning is not shown: $(cat "$TEST_TMP/ruc2.err")"

# --- --prebuild: updateContentCommand again, and nothing after it ---------------------
out=$(rdev run-user-commands "$ws" --prebuild --json 2>"$TEST_TMP/ruc3.err") ||
	{ cat "$TEST_TMP/ruc3.err" >&2; fail "run-user-commands --prebuild failed"; }
check_eq "--prebuild: result prebuild" "$out" '{"outcome":"success","result":"prebuild"}'
check_eq "--prebuild: updateContentCommand ran again, nothing else" "$(order)" \
	"$all postAttach updateContent"

# --- a failing step -----------------------------------------------------------------
touch "$ws/fail"
rc=0
out=$(rdev run-user-commands "$ws" --json 2>"$TEST_TMP/ruc4.err") || rc=$?
check_eq "a failing step: exit 1" "$rc" 1
check_eq "its error object" "$(jq -c '[.outcome, .description]' <<<"$out")" \
	'["error","postAttachCommand from devcontainer.json failed."]'
check_eq "its message names the step" "$(jq -r '.message | startswith("postAttachCommand failed")' <<<"$out")" true
grep -q "run-user-commands: postAttachCommand failed" "$TEST_TMP/ruc4.err" ||
	fail "stderr does not name the failed step: $(cat "$TEST_TMP/ruc4.err")"
rm "$ws/fail"

# --- the reference's options rdev does not take -------------------------------------
rc=0
rdev run-user-commands "$ws" --container-id "$(cid)" >/dev/null 2>"$TEST_TMP/ruc5.err" || rc=$?
check_eq "--container-id: a usage error (exit 2)" "$rc" 2
grep -q -- "--container-id" "$TEST_TMP/ruc5.err" ||
	fail "the usage error does not name --container-id: $(cat "$TEST_TMP/ruc5.err")"
rc=0
rdev run-user-commands "$ws" --terminal-rows=40 >/dev/null 2>"$TEST_TMP/ruc6.err" || rc=$?
check_eq "--terminal-rows=40: a usage error (exit 2)" "$rc" 2
grep -q -- "--terminal-rows" "$TEST_TMP/ruc6.err" ||
	fail "the usage error does not name --terminal-rows: $(cat "$TEST_TMP/ruc6.err")"
# (one parser with up's: the same answer for a value rdev does not take)
rc=0
rdev run-user-commands "$ws" --log-level bogus >/dev/null 2>"$TEST_TMP/ruc9.err" || rc=$?
check_eq "--log-level bogus: a usage error (exit 2)" "$rc" 2
grep -q -- "--log-level must be one of info, debug, trace" "$TEST_TMP/ruc9.err" ||
	fail "not up's usage error for --log-level bogus: $(cat "$TEST_TMP/ruc9.err")"
check_eq "neither ran a step" "$(order)" "$all postAttach updateContent postAttach"

# --- waiting for a concurrent `up --recreate`: its new container, not the old one ----
touch "$ws/slow"
rdev up "$ws" --recreate --json >/dev/null 2>"$TEST_TMP/rec.err" &
rec=$!
# (that up holds the workspace's lock once its initializeCommand runs)
eventually "up --recreate's initializeCommand runs" test -e "$ws/started"
# (--json: the lock's wait line is still shown, as up's)
rdev run-user-commands "$ws" --json >"$TEST_TMP/ruc8.out" 2>"$TEST_TMP/ruc8.err" ||
	{ cat "$TEST_TMP/ruc8.err" >&2; fail "run-user-commands beside up --recreate failed"; }
wait $rec || { cat "$TEST_TMP/rec.err" >&2; fail "up --recreate failed"; }
rm "$ws/slow" "$ws/started"
check_eq "beside up --recreate: done" "$(tail -n 1 "$TEST_TMP/ruc8.out")" \
	'{"outcome":"success","result":"done"}'
check_eq "in the new container, after its up's steps" "$(order)" "$all postAttach"
grep -q "Waiting for this workspace's lock (held by another rdev command" "$TEST_TMP/ruc8.err" ||
	fail "no lock-wait line naming the holder generically: $(cat "$TEST_TMP/ruc8.err")"

# --- a stopped container is up's to start --------------------------------------------
docker stop -t 0 "$(cid)" >/dev/null
rc=0
rdev run-user-commands "$ws" >/dev/null 2>"$TEST_TMP/ruc7.err" || rc=$?
check_eq "a stopped container: exit 1" "$rc" 1
grep -q "is not running" "$TEST_TMP/ruc7.err" ||
	fail "no 'not running' error: $(cat "$TEST_TMP/ruc7.err")"

# --- remote -------------------------------------------------------------------------
rig_remote_host u
cleanup() {
	local rc=$?
	set +e # (exit $rc) below must not end the trap before its cleanup
	(cd "$TEST_TMP" && rdev down "$name:" ./ws-ruc >/dev/null 2>&1)
	(exit $rc)
	rig_remote_cleanup rws
}
trap cleanup EXIT
on_host "mkdir -p ~/rws && cat > ~/rws/.devcontainer.json" <"$ws/.devcontainer.json"
rcid() { docker ps -q --no-trunc --filter "label=devcontainer.local_folder=$home/rws"; }
rdev up "$name:~/rws" --skip-post-create --json >/dev/null 2>"$TEST_TMP/rup.err" ||
	{ cat "$TEST_TMP/rup.err" >&2; fail "rdev up $name:~/rws --skip-post-create failed"; }
out=$(rdev run-user-commands "$name:~/rws" --json 2>"$TEST_TMP/rruc.err") ||
	{ cat "$TEST_TMP/rruc.err" >&2; fail "remote run-user-commands failed"; }
check_eq "remote: the reference's result" "$out" '{"outcome":"success","result":"done"}'
check_eq "remote: every step, in order" \
	"$(docker exec "$(rcid)" cat /tmp/order | tr '\n' ' ' | sed 's/ $//')" "$all"

# --- HOST: SOURCE, the workspace `rdev up HOST: SOURCE` uploaded, as exec's ----------
# (with --accept-new-host-key, which its --help offers: taken out with the
# target's other words before its own options are read)
(cd "$TEST_TMP" && rdev up "$name:" ./ws-ruc --skip-post-create --json) >/dev/null \
	2>"$TEST_TMP/sup.err" || { cat "$TEST_TMP/sup.err" >&2; fail "rdev up $name: ./ws-ruc failed"; }
out=$(cd "$TEST_TMP" && rdev run-user-commands "$name:" ./ws-ruc --accept-new-host-key --json \
	2>"$TEST_TMP/sruc.err") ||
	{ cat "$TEST_TMP/sruc.err" >&2; fail "run-user-commands $name: ./ws-ruc failed"; }
check_eq "HOST: SOURCE: the reference's result" "$out" '{"outcome":"success","result":"done"}'
check_eq "HOST: SOURCE: every step, in order, in the uploaded workspace's container" \
	"$(cd "$TEST_TMP" && rdev exec "$name:" ./ws-ruc -- cat /tmp/order | tr '\n' ' ' |
		sed 's/ $//')" "$all"
finish
