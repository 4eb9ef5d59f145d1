#!/usr/bin/env bash
# down-volumes.sh - `rdev down --volumes` after a plain `rdev down` (the
# container, which knew its volumes, already gone) still removes the
# workspace's volumes that can be found without it: those devcontainer.json's
# mounts name and, for Docker Compose, the project's (by the project name up
# gives it); and it says what it could not look for.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
export RDEV_STATE_DIR=$TEST_TMP/state

# Compose names the project after the folder: this test's own.
ws=$TEST_TMP/dv-$$
mkdir -p "$ws/.devcontainer"
cat >"$ws/.devcontainer/docker-compose.yml" <<YAML
services:
  app:
    image: $RDEV_RIG_IMAGE_BUSYBOX
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
    volumes: ["data:/data"]
volumes:
  data: {}
YAML
cat >"$ws/.devcontainer/devcontainer.json" <<'JSON'
{
  "dockerComposeFile": "docker-compose.yml",
  "service": "app",
  "workspaceFolder": "/",
  "updateRemoteUserUID": false
}
JSON
project=$(basename "$ws" | tr -cd 'a-z0-9_-')_devcontainer
cleanup() {
	docker ps -aq --filter "label=com.docker.compose.project=$project" | xargs -r docker rm -f >/dev/null
	docker volume ls -q --filter "label=com.docker.compose.project=$project" |
		xargs -r docker volume rm >/dev/null 2>&1 || true
	docker network ls -q --filter "label=com.docker.compose.project=$project" |
		xargs -r docker network rm >/dev/null 2>&1 || true
}
trap cleanup EXIT
vols() { docker volume ls -q --filter "label=com.docker.compose.project=$project"; }

rdev up "$ws" --json >"$TEST_TMP/up.json" 2>"$TEST_TMP/up.err" ||
	{ tail -20 "$TEST_TMP/up.err" >&2; fail "rdev up failed"; }
check_eq "up made the project's volume" "$(vols)" "${project}_data"
rdev down "$ws" >/dev/null 2>&1
check_eq "a plain down keeps it" "$(vols)" "${project}_data"
# Another workspace whose folder has the same name: the same project name,
# but not its volumes (nothing recorded them as its own).
other=$TEST_TMP/other/$(basename "$ws")
mkdir -p "$other"
cp -r "$ws/.devcontainer" "$other/"
rdev down "$other" --volumes --json >"$TEST_TMP/other.json" 2>"$TEST_TMP/other.err"
check_eq "down --volumes of another workspace of the same project name keeps it" \
	"$(vols)" "${project}_data"
check_eq "... and lists it nowhere as removed" "$(jq -c .removedVolumes "$TEST_TMP/other.json")" "[]"
check "... and says why" grep -q "the volumes of Compose project $project were kept" \
	"$TEST_TMP/other.err"
# One a container uses (here not rdev's) is refused by Docker: kept, not
# listed as removed.
user=$(docker run -d --rm -v "${project}_data:/d" "$RDEV_RIG_IMAGE_BUSYBOX" sleep 600)
rdev down "$ws" --volumes --json >"$TEST_TMP/inuse.json" 2>"$TEST_TMP/inuse.err"
check_eq "down --volumes: a volume in use is not listed as removed" \
	"$(jq -c .removedVolumes "$TEST_TMP/inuse.json")" "[]"
check_eq "... but as kept" "$(jq -r '.keptVolumes[0].name' "$TEST_TMP/inuse.json")" "${project}_data"
docker rm -f "$user" >/dev/null
rdev up "$ws" --json >/dev/null 2>"$TEST_TMP/up2.err" ||
	{ tail -20 "$TEST_TMP/up2.err" >&2; fail "rdev up failed"; }
rdev down "$ws" >/dev/null 2>&1
rdev down "$ws" --volumes --json >"$TEST_TMP/down.json" 2>"$TEST_TMP/down.err"
check_eq "down --volumes after it: no container removed" "$(jq -r .removed "$TEST_TMP/down.json")" 0
check_eq "... but the project's volume, found by its name" \
	"$(jq -c .removedVolumes "$TEST_TMP/down.json")" "[\"${project}_data\"]"
check_eq "... which is gone" "$(vols)" ""
check "... and it says what only the container knew" \
	grep -q "^rdev: down: warning: no dev container: only the named volumes of devcontainer.json's mounts" \
	"$TEST_TMP/down.err"
rdev down "$ws" --volumes >/dev/null 2>"$TEST_TMP/down2.err"
check "down --volumes again: nothing to remove" \
	grep -qx "rdev: no dev container for $ws; nothing to remove" "$TEST_TMP/down2.err"
# A plain down's record of the project goes with a down --volumes that
# finds the container (up again in between): none left to vouch later.
rdev up "$ws" --json >/dev/null 2>"$TEST_TMP/up3.err" ||
	{ tail -20 "$TEST_TMP/up3.err" >&2; fail "rdev up failed"; }
rdev down "$ws" >/dev/null 2>&1
check "a plain down records the project as the workspace's" \
	test -e "$RDEV_STATE_DIR/compose-down/$project"
rdev up "$ws" --json >/dev/null 2>"$TEST_TMP/up4.err" ||
	{ tail -20 "$TEST_TMP/up4.err" >&2; fail "rdev up failed"; }
rdev down "$ws" --volumes >/dev/null 2>&1
check "down --volumes with the container forgets it" \
	test ! -e "$RDEV_STATE_DIR/compose-down/$project"
finish
