#!/usr/bin/env bash
# up-image.sh - `rdev-agent up` on an image-based workspace, for real: the
# container runs, the workspace is mounted, containerEnv is set, the metadata
# label of the image is merged, each lifecycle command runs the right number of
# times across up / stop / up, parallel entries run concurrently, UID sync
# gives the workspace owner's UID to the remote user, and a remoteUser the
# image lacks fails up.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
export RDEV_STATE_DIR=$TEST_TMP/state

ws=$TEST_TMP/ws-image
mkdir -p "$ws/.devcontainer"
cat >"$ws/.devcontainer/devcontainer.json" <<JSON
{
  // an image with a devcontainer.metadata label (remoteUser dev, a postCreateCommand)
  "image": "$RDEV_RIG_IMAGE_BOOKWORM_META",
  "containerEnv": { "FROM_CONFIG": "\${localWorkspaceFolderBasename}" },
  "remoteEnv": { "REMOTE_X": "x-\${containerEnv:FROM_CONFIG}" },
  "onCreateCommand": "echo once >> /tmp/oncreate.count",
  "updateContentCommand": ["sh", "-c", "echo u >> /tmp/update.count"],
  "postCreateCommand": {
    "a": "touch /tmp/a.started; for i in \$(seq 600); do [ -e /tmp/b.started ] && exit 0; sleep 0.1; done; exit 1",
    "b": "touch /tmp/b.started; for i in \$(seq 600); do [ -e /tmp/a.started ] && exit 0; sleep 0.1; done; exit 1"
  },
  "postStartCommand": "echo s >> /tmp/start.count",
  "postAttachCommand": "echo \$REMOTE_X > /tmp/remote_x; id -un > /tmp/whoami; echo at >> /tmp/attach.count",
  "waitFor": "postStartCommand",
}
JSON
# The workspace belongs to a user other than the image's dev (UID 1000).
chown -R 4321:4321 "$ws"

cleanup_containers() {
	docker ps -aq --filter "label=devcontainer.local_folder=$ws" | xargs -r docker rm -f >/dev/null
}
trap 'cleanup_containers; rig_test_cleanup' EXIT

# (--skip-non-blocking-commands: the steps after waitFor go on in the
# background; without it up runs every step, as later ups here do)
out=$(rdev_agent up "$ws" --skip-non-blocking-commands 2>"$TEST_TMP/up1.err") ||
	{ cat "$TEST_TMP/up1.err"; fail "first up failed"; }
cid=$(printf '%s' "$out" | jq -r .containerId)
check_eq "up prints outcome success" "$(printf '%s' "$out" | jq -r .outcome)" success
check_eq "remote user comes from the image metadata" "$(printf '%s' "$out" | jq -r .remoteUser)" dev
check_eq "remote workspace folder" "$(printf '%s' "$out" | jq -r .remoteWorkspaceFolder)" /workspaces/ws-image
check_eq "container is running" "$(docker inspect -f '{{.State.Running}}' "$cid")" true
check_eq "labels tie it to the workspace" \
	"$(docker inspect -f '{{index .Config.Labels "devcontainer.local_folder"}}' "$cid")" "$ws"
check "workspace is mounted" docker exec "$cid" test -f /workspaces/ws-image/.devcontainer/devcontainer.json
check_eq "containerEnv from the config" "$(docker exec "$cid" sh -c 'echo $FROM_CONFIG')" ws-image
check_eq "containerEnv from the image metadata" "$(docker exec "$cid" sh -c 'echo $FROM_IMAGE_METADATA')" 1
check_eq "capAdd from the image metadata" "$(docker inspect -f '{{.HostConfig.CapAdd}}' "$cid")" "[SYS_PTRACE]"
check_eq "onCreateCommand ran once" "$(docker exec "$cid" wc -l < /dev/null /tmp/oncreate.count | cut -d' ' -f1)" 1
check_eq "updateContentCommand (array form) ran once" "$(docker exec "$cid" cat /tmp/update.count)" u
check "parallel postCreateCommand entries ran concurrently" docker exec "$cid" test -e /tmp/a.started -a -e /tmp/b.started
check_eq "postStartCommand ran once" "$(docker exec "$cid" cat /tmp/start.count)" s
# postAttachCommand is after waitFor: it runs in the background.
eventually "postAttachCommand ran in the background" docker exec "$cid" test -s /tmp/remote_x
check "logs -f follows it to its end" sh -c "timeout 30 '$RDEV_BIN_DIR/rdev' logs -f '$ws' | grep -q 'postAttachCommand: done'"
check_eq "remoteEnv resolved \${containerEnv:...}" "$(docker exec "$cid" cat /tmp/remote_x)" x-ws-image
check_eq "lifecycle commands run as the remote user" "$(docker exec "$cid" cat /tmp/whoami)" dev
check "the background step is in the container's log" \
	grep -q "postAttachCommand" "$RDEV_STATE_DIR/lifecycle-$cid.log"
check "rdev logs shows it" sh -c "'$RDEV_BIN_DIR/rdev' logs '$ws' | grep -q postAttachCommand"
check "rdev logs --json carries it" sh -c "'$RDEV_BIN_DIR/rdev' logs '$ws' --json | jq -e '.log | contains(\"postAttachCommand\")' >/dev/null"
check_eq "UID sync: dev has the workspace owner's UID" "$(docker exec "$cid" id -u dev)" 4321
docker exec -u dev "$cid" touch /workspaces/ws-image/made-in-container
check_eq "a file made in the container belongs to the host owner" "$(stat -c %u "$ws/made-in-container")" 4321

# A second up reuses the running container: only postAttach runs again,
# before up returns. A --mount it was made without cannot be added: warned
# about, not dropped in silence. The build flags are no warning: an image:
# config without Features builds nothing they change, for a new container
# either (a Dockerfile's or Compose's reuse warns: up-compose.sh).
late="type=bind,source=$TEST_TMP,target=/late"
out2=$(rdev_agent up "$ws" --mount "$late" --build-no-cache --cache-from "none.invalid/x:1" \
	2>"$TEST_TMP/up2.err")
check "a --mount the reused container lacks is warned about" grep -qF \
	"warning: --mount $late: not mounted: container ${cid:0:12} was made without it" \
	"$TEST_TMP/up2.err"
check_eq "--build-no-cache, --cache-from: nothing to warn about for an image: without Features" \
	"$(grep -c 'nothing is built' "$TEST_TMP/up2.err")" 0
check_eq "second up reuses the container" "$(printf '%s' "$out2" | jq -r .containerId)" "$cid"
check_eq "onCreate not repeated" "$(docker exec "$cid" cat /tmp/oncreate.count | wc -l)" 1
check_eq "postStart not repeated on a running container" "$(docker exec "$cid" cat /tmp/start.count | wc -l)" 1
check_eq "postAttach ran again" "$(docker exec "$cid" cat /tmp/attach.count | wc -l)" 2

# Stop it; up starts it again: postStart runs again, create steps do not.
docker stop -t 1 "$cid" >/dev/null
out3=$(rdev_agent up "$ws" 2>/dev/null)
check_eq "up after stop reuses the container" "$(printf '%s' "$out3" | jq -r .containerId)" "$cid"
check_eq "container is running again" "$(docker inspect -f '{{.State.Running}}' "$cid")" true
check_eq "onCreate still once after restart" "$(docker exec "$cid" cat /tmp/oncreate.count | wc -l)" 1
check_eq "postStart ran again after restart" "$(docker exec "$cid" cat /tmp/start.count | wc -l)" 2

# --recreate gives a new container that runs everything again.
out4=$(rdev_agent up "$ws" --recreate --mount "$late" --build-no-cache 2>"$TEST_TMP/up4.err")
cid4=$(printf '%s' "$out4" | jq -r .containerId)
check "recreate makes a new container" test "$cid4" != "$cid"
check_eq "... and --build-no-cache is no warning then" "$(grep -c 'nothing is built' "$TEST_TMP/up4.err")" 0
check "... with the --mount" docker exec "$cid4" test -d /late/ws-image
rdev_agent up "$ws" --mount "$late" >/dev/null 2>"$TEST_TMP/up5.err"
check_eq "then the same --mount is no warning" "$(grep -c 'not mounted' "$TEST_TMP/up5.err")" 0
# Docker reports its mounts' paths cleaned: the same paths written otherwise
# are the mounts it has.
rdev_agent up "$ws" --mount "type=bind,source=$TEST_TMP/./,target=//late/" >/dev/null 2>"$TEST_TMP/up6.err"
check_eq "... nor the same paths written otherwise" "$(grep -c 'not mounted' "$TEST_TMP/up6.err")" 0
check_eq "old container is gone" "$(docker ps -aq --filter id="$cid" | wc -l)" 0
check_eq "onCreate ran in the new container" "$(docker exec "$cid4" cat /tmp/oncreate.count | wc -l)" 1

# A remoteUser the image does not have: up fails saying so (as the
# reference's up fails), not succeeds with every later exec failing.
ghost=$TEST_TMP/ws-ghost
mkdir -p "$ghost"
printf '{"image": "%s", "remoteUser": "ghost", "updateRemoteUserUID": false}\n' \
	"$RDEV_RIG_IMAGE_BOOKWORM" >"$ghost/.devcontainer.json"
rc=0
rdev_agent up "$ghost" >"$TEST_TMP/ghost.json" 2>/dev/null || rc=$?
docker ps -aq --filter "label=devcontainer.local_folder=$ghost" | xargs -r docker rm -f >/dev/null
check_eq "up with a remoteUser the image lacks fails" "$rc" 1
check_eq "... naming it" "$(jq -r .message "$TEST_TMP/ghost.json")" \
	'remoteUser "ghost": unable to find user ghost: no matching entries in passwd file (the image has no such user)'
finish
