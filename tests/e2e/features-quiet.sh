#!/usr/bin/env bash
# features-quiet.sh - `rdev -q` ("errors only") on a local workspace with a
# local Feature: up (a Features build, the postCreateCommand), build, exec,
# run-user-commands and down print nothing on stderr (exec's command's output
# is its output, shown); a failing install.sh or lifecycle step shows its
# last output with the error. Without -q the build log has each Feature's
# banner and the values the reference takes with a warning ("true" for a
# boolean option, 18 for a string one) are installed as it installs them.
# read-configuration --include-merged-configuration fails, as up does, on a
# Feature option value up refuses and on a plain http:// tarball URL.
# (The remote route's -q: tests/e2e/build.sh.)
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
ws=$TEST_TMP/ws-fq-$$
d=$ws/.devcontainer
cleanup_fq() {
	set +e
	docker ps -aq --filter "label=devcontainer.local_folder=$ws" | xargs -r docker rm -f >/dev/null
	docker images --format '{{.Repository}}:{{.Tag}}' | grep -E "^rdev-ws-fq-$$-" |
		xargs -r docker rmi -f --no-prune >/dev/null 2>&1
	rig_test_cleanup
}
trap cleanup_fq EXIT
mkdir -p "$d/f1"
cat >"$d/f1/devcontainer-feature.json" <<'JSON'
{ "id": "f1", "name": "Feature One", "version": "1.2.3",
  "options": { "str": { "type": "string", "default": "a" },
               "flag": { "type": "boolean", "default": false } } }
JSON
# (this run's own: docker's cache would skip the install and its log)
printf '#!/bin/sh\nset -e\necho "installing f1 %s"\necho "$STR $FLAG" > /f1\n' "$$" >"$d/f1/install.sh"
config() { # FEATURE-VALUE POST-CREATE
	printf '{ "image": "%s",\n  "features": { "./f1": %s },\n  "postCreateCommand": "%s" }\n' \
		"$RDEV_RIG_IMAGE_BOOKWORM_DEV" "$1" "$2" >"$d/devcontainer.json"
}
config '{ "str": 18, "flag": "true" }' 'echo hi-from-post-create'

# Without -q: the banner, the warnings, the values as the reference's.
rdev up "$ws" >"$TEST_TMP/up.out" 2>"$TEST_TMP/up.err" ||
	fail "up failed: $(tail -5 "$TEST_TMP/up.err")"
check "the Feature's banner: name" grep -q '^Feature       : Feature One$' "$TEST_TMP/up.err"
check "the banner: id, version" sh -c "grep -q '^Id            : ./f1$' '$TEST_TMP/up.err' && grep -q '^Version       : 1.2.3$' '$TEST_TMP/up.err'"
check "the banner: options passed" grep -q '^    STR="18"$' "$TEST_TMP/up.err"
check "18 for a string option: warned with file:line:col" \
	grep -qF "devcontainer.json:2:17: \"features\".\"./f1\": option \"str\": the number 18 for a string option" "$TEST_TMP/up.err"
check "\"true\" for a boolean option: warned" \
	grep -qF "option \"flag\": the string \"true\" for a boolean option, taken as true" "$TEST_TMP/up.err"
cid=$(jq -r .containerId "$TEST_TMP/up.out")
check_eq "installed as the reference installs them" "$(docker exec "$cid" cat /f1)" "18 true"

# -q: nothing on stderr, for a new container with a new Features build.
quiet() { # NAME CMD... : runs rdev -q CMD, stdout to $TEST_TMP/NAME.out
	local n=$1 rc=0
	shift
	rdev -q "$@" >"$TEST_TMP/$n.out" 2>"$TEST_TMP/$n.err" || rc=$?
	check_eq "-q $n: exit 0" "$rc" 0
	check_eq "-q $n: nothing on stderr" "$(cat "$TEST_TMP/$n.err")" ""
}
echo 'echo changed' >>"$d/f1/install.sh"
quiet down down "$ws"
quiet up up "$ws"
check_eq "-q up: the result on stdout" "$(jq -r .outcome "$TEST_TMP/up.out")" success
quiet build build "$ws"
rdev -q exec "$ws" sh -c 'echo exec-out; echo exec-err >&2' >"$TEST_TMP/exec.out" 2>"$TEST_TMP/exec.err" ||
	fail "-q exec failed"
check_eq "-q exec: the command's output is shown" "$(cat "$TEST_TMP/exec.out")" exec-out
check_eq "-q exec: its stderr too, and nothing else" "$(cat "$TEST_TMP/exec.err")" exec-err
quiet run-user-commands run-user-commands "$ws"
quiet down2 down "$ws"

# -q and a failure: the last lines of what failed, with the error. (Both
# checks need what -q held: a build's error carries its last 8 lines, a
# step's its last line.)
rc=0
# (more lines after it than the build's error carries: its first line is
# shown only from what -q held back)
printf '#!/bin/sh\necho "f1 broke here %s"\nfor i in 1 2 3 4 5 6 7 8 9; do echo "f1 after $i"; done\nexit 3\n' "$$" >"$d/f1/install.sh"
rdev -q up "$ws" >/dev/null 2>"$TEST_TMP/bad.err" || rc=$?
check_eq "-q up, install.sh fails: exit 1" "$rc" 1
check "... its output is shown" grep -q '^f1 broke here' "$TEST_TMP/bad.err"
check "... with the error" grep -q '^rdev: up: installing the Features' "$TEST_TMP/bad.err"
check "... which does not carry that line (it is what -q held)" \
	sh -c "sed -n '/^rdev: up: /,\$p' '$TEST_TMP/bad.err' | grep -q 'f1 after 9' && ! sed -n '/^rdev: up: /,\$p' '$TEST_TMP/bad.err' | grep -q 'f1 broke here'"
printf '#!/bin/sh\necho ok %s > /f1\n' "$$" >"$d/f1/install.sh"
config '{}' 'echo post-create-line-1; echo post-create-line-2; exit 4'
rc=0
rdev -q up "$ws" >/dev/null 2>"$TEST_TMP/badpc.err" || rc=$?
check_eq "-q up, postCreateCommand fails: exit 1" "$rc" 1
check "... its output is shown" grep -q '^post-create-line-1$' "$TEST_TMP/badpc.err"
check "... with the error" grep -q '^rdev: up: .*postCreateCommand' "$TEST_TMP/badpc.err"
rdev -q down "$ws" >/dev/null 2>&1 || true

# read-configuration reads the Features as up does: what up refuses fails.
rc_of() { local rc=0; "$@" >/dev/null 2>"$TEST_TMP/rc.err" || rc=$?; echo "$rc"; }
config '{ "str": null }' true
check_eq "read-configuration, merged: a null option fails" \
	"$(rc_of rdev read-configuration "$ws" --include-merged-configuration)" 1
check "... naming the file:line:col and the option" \
	grep -qF 'devcontainer.json:2:17: "features"."./f1": option "str": expected a string, got null' "$TEST_TMP/rc.err"
printf '{ "image": "%s",\n  "features": { "http://example.com/devcontainer-feature-x.tgz": {} } }\n' \
	"$RDEV_RIG_IMAGE_BOOKWORM_DEV" >"$d/devcontainer.json"
check_eq "read-configuration, merged: an http:// tarball fails" \
	"$(rc_of rdev read-configuration "$ws" --include-merged-configuration)" 1
check "... naming the file:line:col and the Feature" \
	grep -qF "devcontainer.json:2:17: \"features\".\"http://example.com/devcontainer-feature-x.tgz\": Feature 'http://example.com/devcontainer-feature-x.tgz': a tarball URL must be https://" "$TEST_TMP/rc.err"
check_eq "up refuses it too" "$(rc_of rdev -q up "$ws")" 1
finish
