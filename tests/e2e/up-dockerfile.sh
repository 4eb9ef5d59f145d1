#!/usr/bin/env bash
# up-dockerfile.sh - `rdev up` of a Dockerfile workspace (build.args,
# build.target, build.context), then exec, stop, up: the image is built from
# the right stage with the args, carries the merged metadata label, the
# workspace is mounted, containerEnv/remoteEnv reach exec, and the lifecycle
# commands run the right number of times; `up --rebuild` removes the images
# it replaced (the UID-sync image, the labelled build) once nothing uses
# them, and keeps, saying so, one a container still uses.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
export RDEV_STATE_DIR=$TEST_TMP/state

# The folder's name is the built image's (rdev-<name>-<id>): this test's own.
ws=$TEST_TMP/ws-dockerfile-$$
mkdir -p "$ws/.devcontainer" "$ws/ctx"
echo "from-context" >"$ws/ctx/marker.txt"
cat >"$ws/.devcontainer/Dockerfile" <<DOCKERFILE
ARG BASE=$RDEV_RIG_IMAGE_BOOKWORM_DEV
FROM \$BASE AS base
ARG GREETING=default
RUN echo "\$GREETING" > /greeting
COPY marker.txt /marker.txt

FROM base AS dev
RUN echo dev-stage > /stage

FROM base AS prod
RUN echo prod-stage > /stage
DOCKERFILE
cat >"$ws/.devcontainer/devcontainer.json" <<'JSON'
{
  "build": {
    "dockerfile": "Dockerfile",
    "context": "../ctx",
    "args": { "GREETING": "hello-${localWorkspaceFolderBasename}" },
    "target": "dev"
  },
  "remoteUser": "dev",
  "containerEnv": { "CE": "ce-value" },
  "remoteEnv": { "RE": "re-${containerEnv:CE}" },
  "onCreateCommand": "echo c >> /tmp/create.count",
  "postCreateCommand": { "x": "echo x > /tmp/x", "y": ["sh", "-c", "echo y > /tmp/y"] },
  "postStartCommand": "echo s >> /tmp/start.count",
  "waitFor": "postStartCommand"
}
JSON
# The workspace's owner is not in the image: the remote user gets its UID
# (a UID-sync image built on the labelled one).
chown -R 4331:4331 "$ws"
keeper=keeper-$(basename "$TEST_TMP" | tr -cd 'A-Za-z0-9')
kept_image=
cleanup_ws() {
	docker ps -aq --filter "label=devcontainer.local_folder=$ws" | xargs -r docker rm -f >/dev/null
	docker rm -f "$keeper" >/dev/null 2>&1
	[ -z "$kept_image" ] || docker rmi -f --no-prune "$kept_image" >/dev/null 2>&1
	docker images --format '{{.Repository}}:{{.Tag}}' |
		grep -E "^(rdev-uid/)?rdev-ws-dockerfile-$$-" |
		xargs -r docker rmi -f --no-prune >/dev/null 2>&1 || true
}
trap 'cleanup_ws; rig_test_cleanup' EXIT

rdev up "$ws" >"$TEST_TMP/up.json" 2>"$TEST_TMP/up.err" || { cat "$TEST_TMP/up.err"; fail "up failed"; }
cid=$(jq -r .containerId "$TEST_TMP/up.json")
image=$(docker inspect -f '{{.Config.Image}}' "$cid")
check_eq "build.target chose the dev stage" "$(rdev exec "$ws" -- cat /stage)" dev-stage
check_eq "build.args (with a variable) reached the build" "$(rdev exec "$ws" -- cat /greeting)" "hello-ws-dockerfile-$$"
check_eq "build.context is relative to devcontainer.json" "$(rdev exec "$ws" -- cat /marker.txt)" from-context
check "the built image carries the devcontainer.metadata label" sh -c \
	"docker image inspect -f '{{index .Config.Labels \"devcontainer.metadata\"}}' '$image' | jq -e 'map(select(.remoteUser == \"dev\")) | length == 1' >/dev/null"
check "the workspace is mounted" rdev exec "$ws" -- test -f .devcontainer/Dockerfile
check_eq "remote user" "$(rdev exec "$ws" -- id -un)" dev
check_eq "containerEnv in exec" "$(rdev exec "$ws" -- sh -c 'echo $CE')" ce-value
check_eq "remoteEnv in exec" "$(rdev exec "$ws" -- sh -c 'echo $RE')" re-ce-value
check_eq "both parallel postCreate entries ran" "$(rdev exec "$ws" -- cat /tmp/x /tmp/y | tr -d '\n')" xy
rdev stop "$ws" >/dev/null
rdev up "$ws" >/dev/null 2>&1
check_eq "same container after stop + up" "$(docker ps -q --no-trunc --filter "label=devcontainer.local_folder=$ws")" "$cid"
check_eq "onCreateCommand ran once across up, stop, up" "$(rdev exec "$ws" -- cat /tmp/create.count | wc -l)" 1
check_eq "postStartCommand ran on each start" "$(rdev exec "$ws" -- cat /tmp/start.count | wc -l)" 2
check_eq "the remote user has the workspace owner's UID" "$(rdev exec "$ws" -- id -u)" 4331

# --rebuild of the same configuration: the new build takes the old images'
# tags; those left dangling go once the new container runs, unless in use.
# images_of CID: its image's id and the labelled build's (the UID-sync
# image's base).
images_of() {
	local uid_image
	uid_image=$(docker inspect -f '{{.Image}}' "$1")
	echo "$uid_image $(docker image inspect -f '{{.Id}}' \
	    "$(docker images --format '{{.Repository}}:{{.Tag}}' | grep '^rdev-ws-dockerfile-')")"
}
read -r old_uid old_build <<<"$(images_of "$cid")"
docker create --name "$keeper" "$old_uid" true >/dev/null
kept_image=$old_uid
rdev up "$ws" --rebuild >"$TEST_TMP/up-r1.json" 2>"$TEST_TMP/up-r1.err" ||
	{ cat "$TEST_TMP/up-r1.err"; fail "up --rebuild failed"; }
cid=$(jq -r .containerId "$TEST_TMP/up-r1.json")
check "--rebuild keeps the replaced UID-sync image a container uses" \
	docker image inspect "$old_uid"
check "and says so" grep -qF "Kept image ${old_uid:0:19} (replaced): used by container $keeper" \
	"$TEST_TMP/up-r1.err"
docker rm -f "$keeper" >/dev/null
read -r old_uid old_build <<<"$(images_of "$cid")"
rdev up "$ws" --rebuild >"$TEST_TMP/up-r2.json" 2>"$TEST_TMP/up-r2.err" ||
	{ cat "$TEST_TMP/up-r2.err"; fail "up --rebuild failed"; }
cid=$(jq -r .containerId "$TEST_TMP/up-r2.json")
read -r new_uid new_build <<<"$(images_of "$cid")"
check "the rebuild made new images" test "$new_uid $new_build" != "$old_uid $old_build"
check "--rebuild removes the replaced UID-sync image nothing uses" \
	sh -c "! docker image inspect '$old_uid' >/dev/null 2>&1"
check "and the replaced labelled build" sh -c "! docker image inspect '$old_build' >/dev/null 2>&1"
check "and says so" grep -qF "Removed image ${old_uid:0:19} (replaced, no longer used)" \
	"$TEST_TMP/up-r2.err"
check_eq "the new container runs" "$(rdev exec "$ws" -- cat /stage)" dev-stage

# --rebuild rebuilds (build cache off) and recreates.
sed -i 's/"target": "dev"/"target": "prod"/' "$ws/.devcontainer/devcontainer.json"
rdev up "$ws" --rebuild >"$TEST_TMP/up2.json" 2>/dev/null
check "--rebuild makes a new container" test "$(jq -r .containerId "$TEST_TMP/up2.json")" != "$cid"
check_eq "and builds the changed target" "$(rdev exec "$ws" -- cat /stage)" prod-stage

# A rebuild whose build fails keeps the container it would have replaced, and
# its error says which Dockerfile and step failed and what the step's command printed (the
# legacy builder prints those on stdout), without docker's deprecation banner.
cid=$(jq -r .containerId "$TEST_TMP/up2.json")
echo "RUN no-such-command-$$" >>"$ws/.devcontainer/Dockerfile"
rc=0
rdev up "$ws" --rebuild >"$TEST_TMP/up3.json" 2>"$TEST_TMP/up3.err" || rc=$?
check_eq "a rebuild whose Dockerfile fails: up fails" "$rc" 1
msg=$(jq -r .message "$TEST_TMP/up3.json")
check "its message names the failing step" grep -qF "RUN no-such-command-$$" <<<"$msg"
check "and the Dockerfile" grep -qF "$ws/.devcontainer/Dockerfile: docker exited with status" <<<"$msg"
check "and what the step's command printed" grep -q "no-such-command-$$: .*not found" <<<"$msg"
check "but not docker's deprecation banner" sh -c "! grep -q DEPRECATED" <<<"$msg"
check "the container it would have replaced is kept" \
	test "$(docker inspect -f '{{.State.Running}}' "$cid" 2>/dev/null)" = true
check_eq "and still answers exec" "$(rdev exec "$ws" -- cat /stage)" prod-stage

# A Dockerfile or a context that is not there: the error names the
# property's line:col (docker's names neither), and nothing is built.
bad=$TEST_TMP/ws-missing-$$
mkdir -p "$bad/.devcontainer"
printf '{\n  "build": {"dockerfile": "Nope",\n    "context": "no-ctx"}\n}\n' \
	>"$bad/.devcontainer/devcontainer.json"
rc=0
rdev up "$bad" >/dev/null 2>"$TEST_TMP/missing.err" || rc=$?
check_eq "up of a missing Dockerfile exits 1" "$rc" 1
check "its message names the file, line:col and property" grep -qF \
	"$bad/.devcontainer/devcontainer.json:2:27: \"build\".\"dockerfile\": $bad/.devcontainer/Nope: No such file or directory" \
	"$TEST_TMP/missing.err"
: >"$bad/.devcontainer/Nope"
rc=0
rdev up "$bad" >/dev/null 2>"$TEST_TMP/missing.err" || rc=$?
check "then of the missing context" grep -qF \
	"$bad/.devcontainer/devcontainer.json:3:16: \"build\".\"context\": $bad/.devcontainer/no-ctx: No such file or directory" \
	"$TEST_TMP/missing.err"
finish
