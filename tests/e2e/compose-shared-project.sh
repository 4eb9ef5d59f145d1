#!/usr/bin/env bash
# compose-shared-project.sh - two workspace folders whose configurations name
# one docker-compose.yml (the reference's several dev containers of one
# project: front/ and back/, both "../../docker-compose.yml") share its
# project: the second's up is not refused as another workspace's; nor is up
# of the same folder through a symlink (its project directory, written
# otherwise, is the same one).
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
export RDEV_STATE_DIR=$TEST_TMP/state
root=$TEST_TMP/mc$$
mkdir -p "$root/front/.devcontainer" "$root/back/.devcontainer"
cat >"$root/docker-compose.yml" <<YAML
services:
  front:
    image: $RDEV_RIG_IMAGE_BUSYBOX
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
  back:
    image: $RDEV_RIG_IMAGE_BUSYBOX
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
YAML
for s in front back; do cat >"$root/$s/.devcontainer/devcontainer.json" <<JSON
{ "dockerComposeFile": "../../docker-compose.yml", "service": "$s", "runServices": ["$s"], "workspaceFolder": "/", "updateRemoteUserUID": false }
JSON
done
project=$(basename "$root" | tr -cd 'a-z0-9_-')
trap 'docker ps -aq --filter "label=com.docker.compose.project=$project" | xargs -r docker rm -f >/dev/null; docker network ls -q --filter "label=com.docker.compose.project=$project" | xargs -r docker network rm >/dev/null 2>&1' EXIT
rdev up "$root/front" --json >/dev/null 2>"$TEST_TMP/f.err" || { tail "$TEST_TMP/f.err" >&2; fail "front up"; }
rc=0; rdev up "$root/back" --json >/dev/null 2>"$TEST_TMP/b.err" || rc=$?
cat "$TEST_TMP/b.err" | tail -3 >&2
check_eq "back's up of the shared compose file succeeds" "$rc" 0
mkdir "$TEST_TMP/lnk"; ln -s "$root" "$TEST_TMP/lnk/$(basename "$root")"
rc=0; rdev up "$TEST_TMP/lnk/$(basename "$root")/front" --json >/dev/null 2>"$TEST_TMP/l.err" || rc=$?
tail -3 "$TEST_TMP/l.err" >&2
check_eq "up via a symlink of front succeeds" "$rc" 0
# A folder moved (a/mv -> b/mv: the same project name) after its dev
# container was removed by hand, its db left: up of the new place is refused,
# and the error's fix is one that works (`rdev down` of the old place finds
# nothing: the folder is gone and holds the only label).
ws=$TEST_TMP/a/mv$$
mkdir -p "$ws/.devcontainer" "$TEST_TMP/b"
cat >"$ws/.devcontainer/docker-compose.yml" <<YAML
services:
  app:
    image: $RDEV_RIG_IMAGE_BUSYBOX
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
  db:
    image: $RDEV_RIG_IMAGE_BUSYBOX
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
YAML
echo '{ "dockerComposeFile": "docker-compose.yml", "service": "app", "workspaceFolder": "/", "updateRemoteUserUID": false }' \
	>"$ws/.devcontainer/devcontainer.json"
mvp=mv$$_devcontainer
trap 'for p in $project $mvp; do docker ps -aq --filter "label=com.docker.compose.project=$p" | xargs -r docker rm -f >/dev/null; docker network ls -q --filter "label=com.docker.compose.project=$p" | xargs -r docker network rm >/dev/null 2>&1; done' EXIT
rdev up "$ws" >/dev/null 2>"$TEST_TMP/mv.err" || { tail "$TEST_TMP/mv.err" >&2; fail "up of the folder to move"; }
docker rm -f $(docker ps -q --filter "label=com.docker.compose.project=$mvp" \
	--filter label=com.docker.compose.service=app) >/dev/null
mv "$ws" "$TEST_TMP/b/"
rc=0; rdev up "$TEST_TMP/b/mv$$" >/dev/null 2>"$TEST_TMP/mv-up.err" || rc=$?
check_eq "up of a moved folder whose old project is left is refused" "$rc" 1
check "... naming a fix that works for a folder gone" grep -qF \
	"or remove what is left of the other (\`docker compose -p $mvp down\`)" "$TEST_TMP/mv-up.err"
