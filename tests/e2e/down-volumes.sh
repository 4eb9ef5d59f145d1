#!/usr/bin/env bash
# down-volumes.sh - `rdev down --volumes` after a plain `rdev down` (the
# container, which knew its volumes, already gone) still removes the
# workspace's volumes that can be found without it: those devcontainer.json's
# mounts name and, for Docker Compose, the project's (by the project name up
# gives it); and it says what it could not look for, when a plain down left
# volumes only the container knew.
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
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"]
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
# Another workspace whose folder has the same name: the same project name,
# but neither its containers (its stop and down, finding no dev container of
# its own, must not take this one's for what is left of its project; its up
# must neither return nor recreate this one's) nor its volumes (nothing
# recorded them as its own).
other=$TEST_TMP/other/$(basename "$ws")
mkdir -p "$other"
cp -r "$ws/.devcontainer" "$other/"
app=$(docker ps -q --no-trunc --filter "label=com.docker.compose.project=$project")
check_eq "stop of another workspace of the same project name stops nothing" \
	"$(rdev stop "$other" --json 2>"$TEST_TMP/other-stop.err" | jq -c '[.stopped, .alreadyStopped]')" "[0,0]"
check_eq "... down removes nothing" \
	"$(rdev down "$other" --json 2>"$TEST_TMP/other-down.err" | jq -r .removed)" 0
check_eq "... up is refused (it would work in this one's container)" \
	"$(rdev up "$other" --json >"$TEST_TMP/other-up.json" 2>"$TEST_TMP/other-up.err"; echo $?)" 1
check "... naming the project and the folder it is" grep -qF \
	"Compose project $project is another workspace's (the workspace folder $ws); " "$TEST_TMP/other-up.err"
# (a top-level `name:` is a fix only where Compose takes one: v2; v1
# refuses the file)
cv=$(docker compose version --short 2>/dev/null || docker-compose version --short)
case $cv in v1.* | 1.*) name_fix= ;; *) name_fix="a top-level \`name:\` in its compose file, " ;; esac
check "... and what made the name: the folder's name" grep -qF \
	"; the name comes from the name of the workspace folder $other (another folder of that name gives the same one); give this one another name (${name_fix}COMPOSE_PROJECT_NAME in $other/.env, or rename the folder), or \`rdev down\` the other" \
	"$TEST_TMP/other-up.err"
check_eq "... and this workspace's container runs on" \
	"$(docker inspect -f '{{.State.Running}}' "$app" 2>&1)" true
check_eq "... the project's only one" \
	"$(docker ps -aq --no-trunc --filter "label=com.docker.compose.project=$project")" "$app"
rdev down "$ws" >/dev/null 2>&1
check_eq "a plain down keeps it" "$(vols)" "${project}_data"
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
check "... and no warning of volumes only the container knew (it had none)" \
	sh -c '! grep -q "warning: no dev container" "$1"' _ "$TEST_TMP/down.err"
rdev down "$ws" --volumes >/dev/null 2>"$TEST_TMP/down2.err"
check "down --volumes again: nothing to remove" \
	grep -qx "rdev: no dev container for $ws; nothing to remove" "$TEST_TMP/down2.err"
# A compose file `docker compose config` refuses: the project's name cannot
# be had, so what is left of it is not looked for, and stop and down say so
# (not only "nothing to do"); but only when something may be left: with no
# Compose container on the host of the workspace (its folder's, its compose
# files' directory's), `docker compose config` is not run at all (~0.5 s),
# and there is nothing to warn about.
broken=$TEST_TMP/broken-$$
mkdir -p "$broken/.devcontainer"
cp "$ws/.devcontainer/devcontainer.json" "$broken/.devcontainer/"
printf 'services:\n  app:\n    image: [not, a, string]\n' >"$broken/.devcontainer/docker-compose.yml"
rdev stop "$broken" --json >/dev/null 2>"$TEST_TMP/broken-none.err"
check "stop with nothing of the workspace on the host runs no \`docker compose config\` (no warning)" \
	sh -c '! grep -q "was not looked for" "$1"' _ "$TEST_TMP/broken-none.err"
# (a service it left: a container of its compose files' directory)
bproject=broken-${$}_devcontainer
left=$(docker run -d --label "com.docker.compose.project=$bproject" \
	--label "com.docker.compose.project.working_dir=$broken/.devcontainer" \
	--label com.docker.compose.service=db "$RDEV_RIG_IMAGE_BUSYBOX" sleep 600)
trap 'cleanup; docker rm -f "$left" >/dev/null 2>&1' EXIT
rdev stop "$broken" --json >/dev/null 2>"$TEST_TMP/broken-stop.err"
check "stop with a compose file Compose refuses warns that the project was not looked for" \
	grep -q "^rdev: stop: warning: what is left of the Compose project .* was not looked for: " \
	"$TEST_TMP/broken-stop.err"
rdev down "$broken" --volumes --json >/dev/null 2>"$TEST_TMP/broken-down.err"
check "... down --volumes too, once" test "$(grep -c "was not looked for: " "$TEST_TMP/broken-down.err")" = 1
check "... naming its volumes" grep -q "^rdev: down: warning: what is left of the Compose project .*, volumes) was not looked for: " \
	"$TEST_TMP/broken-down.err"
docker rm -f "$left" >/dev/null
rdev down "$broken" --volumes --json >/dev/null 2>"$TEST_TMP/broken-down2.err"
check "... and down --volumes with nothing left still looks for the project's volumes (warns)" \
	grep -q "volumes) was not looked for: " "$TEST_TMP/broken-down2.err"
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

# A plain down removes the container's anonymous volume with it (nothing
# could find it later), never a named one. A container with a volume only it
# knew (a named one of runArgs): a plain down leaves it, and the down
# --volumes after it says so, once; a workspace that never had a container
# has nothing to say.
anon=$TEST_TMP/anon-$$
named=rdev-dv-named-$$
mkdir -p "$anon/.devcontainer"
cat >"$anon/.devcontainer/devcontainer.json" <<JSON
{"image": "$RDEV_RIG_IMAGE_BUSYBOX", "updateRemoteUserUID": false,
 "mounts": [{"type": "volume", "target": "/anon"}],
 "runArgs": ["-v", "$named:/named"]}
JSON
trap 'cleanup; docker ps -aq --filter "label=devcontainer.local_folder=$anon" | xargs -r docker rm -f >/dev/null; [ -z "${anon_vol:-}" ] || docker volume rm "$anon_vol" >/dev/null 2>&1 || true; docker volume rm "$named" >/dev/null 2>&1 || true' EXIT
rdev down "$anon" --volumes >/dev/null 2>"$TEST_TMP/never.err"
check "down --volumes of a workspace that never had a container: no warning" \
	sh -c '! grep -q "warning" "$1"' _ "$TEST_TMP/never.err"
rdev up "$anon" --json >/dev/null 2>"$TEST_TMP/anon-up.err" ||
	{ tail -20 "$TEST_TMP/anon-up.err" >&2; fail "rdev up failed"; }
anon_vol=$(docker inspect -f '{{range .Mounts}}{{if eq .Destination "/anon"}}{{.Name}}{{end}}{{end}}' \
	"$(docker ps -aq --filter "label=devcontainer.local_folder=$anon")")
check "the container has an anonymous volume" test -n "$anon_vol"
rdev down "$anon" >/dev/null 2>&1
check "a plain down removes the anonymous volume" \
	sh -c '! docker volume inspect "$1" >/dev/null 2>&1' _ "$anon_vol"
check "and keeps the named one" docker volume inspect "$named"
rdev down "$anon" --volumes >/dev/null 2>"$TEST_TMP/anon.err"
check "down --volumes after a plain down that left a volume only the container knew warns" \
	grep -q "^rdev: down: warning: no dev container: only the named volumes of devcontainer.json's mounts" \
	"$TEST_TMP/anon.err"
check "... (which is still there)" docker volume inspect "$named"
rdev down "$anon" --volumes >/dev/null 2>"$TEST_TMP/anon2.err"
check "... once" sh -c '! grep -q "warning" "$1"' _ "$TEST_TMP/anon2.err"

# Only an anonymous volume: it went with the container, so the down
# --volumes after a plain down has nothing to warn of.
only=$TEST_TMP/only-anon-$$
mkdir -p "$only"
printf '{"image": "%s", "updateRemoteUserUID": false, "mounts": [{"type": "volume", "target": "/anon"}]}\n' \
	"$RDEV_RIG_IMAGE_BUSYBOX" >"$only/.devcontainer.json"
trap 'cleanup; for w in "$anon" "$only"; do docker ps -aq --filter "label=devcontainer.local_folder=$w" | xargs -r docker rm -f >/dev/null; done; [ -z "${anon_vol:-}" ] || docker volume rm "$anon_vol" >/dev/null 2>&1 || true; docker volume rm "$named" >/dev/null 2>&1 || true' EXIT
rdev up "$only" >/dev/null 2>"$TEST_TMP/only-up.err" ||
	{ tail -20 "$TEST_TMP/only-up.err" >&2; fail "rdev up failed"; }
rdev down "$only" >/dev/null 2>&1
rdev down "$only" --volumes >/dev/null 2>"$TEST_TMP/only.err"
check "only an anonymous volume: no warning after a plain down" \
	sh -c '! grep -q "warning" "$1"' _ "$TEST_TMP/only.err"
finish
