#!/usr/bin/env bash
# compose-shared-project.sh - two workspace folders whose configurations name
# one docker-compose.yml (the reference's several dev containers of one
# project: front/ and back/, both "../../docker-compose.yml") share its
# project: the second's up is not refused as another workspace's; nor is up
# of the same folder through a symlink (its project directory, written
# otherwise, is the same one). Two configurations of one folder
# (front/.devcontainer/side/ beside front's own) are two workspaces of the
# project too: side's down removes its own dev container alone, keeping
# front's running, for front's configuration file (keptFor). While front's
# dev container exists, back's stop and down act on back's own alone
# (front's db and its volume stay); the last running one's stop stops the
# services, the last to go takes the project: its down --volumes removes the
# project's volumes (PROJECT_NAME), not an external one.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
export RDEV_STATE_DIR=$TEST_TMP/state
root=$TEST_TMP/mc$$
mkdir -p "$root/front/.devcontainer/side" "$root/back/.devcontainer"
project=$(basename "$root" | tr -cd 'a-z0-9_-')
# (an external volume named as the project's would be: only its missing
# com.docker.compose.project label tells it apart)
ext=${project}_ext
cat >"$root/docker-compose.yml" <<YAML
services:
  front:
    image: $RDEV_RIG_IMAGE_BUSYBOX
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"]
  back:
    image: $RDEV_RIG_IMAGE_BUSYBOX
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"]
  db:
    image: $RDEV_RIG_IMAGE_BUSYBOX
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"]
    volumes: ["dbdata:/data", "$ext:/ext"]
  side:
    image: $RDEV_RIG_IMAGE_BUSYBOX
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"]
volumes:
  dbdata:
  $ext:
    external: true
YAML
for s in front:'"front", "db"' back:'"back"'; do cat >"$root/${s%%:*}/.devcontainer/devcontainer.json" <<JSON
{ "dockerComposeFile": "../../docker-compose.yml", "service": "${s%%:*}", "runServices": [${s#*:}], "workspaceFolder": "/", "updateRemoteUserUID": false }
JSON
done
echo '{ "dockerComposeFile": "../../../docker-compose.yml", "service": "side", "runServices": ["side"], "workspaceFolder": "/", "updateRemoteUserUID": false }' \
	>"$root/front/.devcontainer/side/devcontainer.json"
# back's own dev container mounts a volume of its own: its down --volumes
# removes it, though the project is kept for front.
bvol=rdev-test-backcache$$
cat >"$root/back/.devcontainer/devcontainer.json" <<JSON
{ "dockerComposeFile": "../../docker-compose.yml", "service": "back", "runServices": ["back"], "workspaceFolder": "/", "updateRemoteUserUID": false,
  "mounts": ["source=$bvol,target=/cache,type=volume"] }
JSON
# app_db_compose FILE: a compose file of two services, app and db.
app_db_compose() {
	cat >"$1" <<YAML
services:
  app:
    image: $RDEV_RIG_IMAGE_BUSYBOX
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"]
  db:
    image: $RDEV_RIG_IMAGE_BUSYBOX
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"]
YAML
}
# The Compose projects this test made, removed at its end (then lib.sh's
# rig_test_cleanup, which the trap replaces, with this test's exit status).
projects=("$project")
cleanup_projects() {
	local rc=$? p
	set +e
	for p in "${projects[@]}"; do
		rig_compose_rm "$p"
	done
	docker volume rm "${project}_dbdata" "${project}_$bvol" "$ext" >/dev/null 2>&1
	(exit $rc)
	rig_test_cleanup
}
trap cleanup_projects EXIT
docker volume create "$ext" >/dev/null
svc() { docker ps -q${2:-} --filter "label=com.docker.compose.project=$project" --filter "label=com.docker.compose.service=$1" | wc -l; }
rdev up "$root/front" --json >/dev/null 2>"$TEST_TMP/f.err" || { tail "$TEST_TMP/f.err" >&2; fail "front up"; }
# Another configuration of front's folder: another workspace (its id labels
# name its file) of the same project. Its down keeps front's running.
side=$root/front/.devcontainer/side/devcontainer.json
rdev up "$root/front" --config "$side" --json >/dev/null 2>"$TEST_TMP/s.err" ||
	{ tail "$TEST_TMP/s.err" >&2; fail "up of front's side configuration"; }
check_eq "the side configuration's up, in front's folder, shares the project" "$(svc side)" 1
rdev down "$root/front" --config "$side" --json >"$TEST_TMP/side-down.json" 2>"$TEST_TMP/side-down.err" ||
	{ tail "$TEST_TMP/side-down.err" >&2; fail "down of front's side configuration"; }
check_eq "its down removes its dev container" "$(svc side a)" 0
check_eq "... not front's, of the same folder" "$(svc front)" 1
check_eq "... nor front's db" "$(svc db)" 1
check "... saying what it kept, for front's configuration file" grep -qF \
	"also holds the dev container of workspace $root/front/.devcontainer/devcontainer.json: kept for it: " \
	"$TEST_TMP/side-down.err"
check "... and its --json names that file" grep -qF \
	"\"keptFor\":\"$root/front/.devcontainer/devcontainer.json\"" "$TEST_TMP/side-down.json"
rc=0; rdev up "$root/back" --json >/dev/null 2>"$TEST_TMP/b.err" || rc=$?
cat "$TEST_TMP/b.err" | tail -3 >&2
check_eq "back's up of the shared compose file succeeds" "$rc" 0
check "... mounting its own volume (Compose names it for the project)" sh -c "docker volume inspect '${project}_$bvol' >/dev/null"
mkdir "$TEST_TMP/lnk"; ln -s "$root" "$TEST_TMP/lnk/$(basename "$root")"
rc=0; rdev up "$TEST_TMP/lnk/$(basename "$root")/front" --json >/dev/null 2>"$TEST_TMP/l.err" || rc=$?
tail -3 "$TEST_TMP/l.err" >&2
check_eq "up via a symlink of front succeeds" "$rc" 0
# While front's dev container exists, back's stop and down act on back's own
# dev container alone: front's db (and its volume) stay; the last workspace
# to go takes the project.
rdev stop --json "$root/back" >"$TEST_TMP/back-stop.json" 2>"$TEST_TMP/back-stop.err" || fail "stop of back"
check_eq "back's stop stops its dev container" "$(svc back)" 0
check_eq "... not front's db" "$(svc db)" 1
check_eq "... nor front" "$(svc front)" 1
check "... saying what it kept, for whom" grep -qF "also holds the running dev container of workspace $root/front: kept running for it: " "$TEST_TMP/back-stop.err"
check "... and its --json names whom for" grep -qF "\"keptFor\":\"$root/front\"" "$TEST_TMP/back-stop.json"
# The last running workspace's stop stops the shared services: back's
# stopped dev container keeps nothing running (it kept db "for back").
rdev stop "$root/front" >/dev/null 2>"$TEST_TMP/front-stop.err" || fail "stop of front"
check_eq "front's stop, the last running, stops its dev container" "$(svc front)" 0
check_eq "... and the shared db" "$(svc db)" 0
check "... keeping nothing for back's stopped one" sh -c "! grep -qF 'kept running' '$TEST_TMP/front-stop.err'"
# down keeps the project for a stopped dev container too.
rdev down --volumes --json "$root/back" >"$TEST_TMP/back-down.json" 2>"$TEST_TMP/back-down.err" || fail "down of back"
check_eq "back's down --volumes removes its dev container" "$(svc back a)" 0
check_eq "... not front's (stopped) db" "$(svc db a)" 1
check "... nor the project's volume" sh -c "docker volume inspect '${project}_dbdata' >/dev/null"
check "... but the volume of its own mounts" sh -c "! docker volume inspect '${project}_$bvol' >/dev/null 2>&1"
check "... saying so" grep -qF "kept for it: " "$TEST_TMP/back-down.err"
check "... and its --json names whom for" grep -qF "\"keptFor\":\"$root/front\"" "$TEST_TMP/back-down.json"
rdev down --volumes --json "$root/front" >"$TEST_TMP/front-down.json" 2>"$TEST_TMP/front-down.err" || fail "down of front"
check_eq "front's down, the last, takes the project" "$(docker ps -aq --filter "label=com.docker.compose.project=$project" | wc -l)" 0
check "... its volume too" sh -c "! docker volume inspect '${project}_dbdata' >/dev/null 2>&1"
check_eq "... which its --json names as removed" "$(jq -c .removedVolumes "$TEST_TMP/front-down.json")" "[\"${project}_dbdata\"]"
check "... but not the external volume" sh -c "docker volume inspect '$ext' >/dev/null"
# A folder moved (a/mv -> b/mv: the same project name) after its dev
# container was removed by hand, its db left: up of the new place is refused,
# and the error's fix is one that works (`rdev down` of the old place finds
# nothing: the folder is gone and holds the only label).
ws=$TEST_TMP/a/mv$$
mkdir -p "$ws/.devcontainer" "$TEST_TMP/b"
app_db_compose "$ws/.devcontainer/docker-compose.yml"
echo '{ "dockerComposeFile": "docker-compose.yml", "service": "app", "workspaceFolder": "/", "updateRemoteUserUID": false }' \
	>"$ws/.devcontainer/devcontainer.json"
mvp=mv$$_devcontainer
projects+=("$mvp")
rdev up "$ws" >/dev/null 2>"$TEST_TMP/mv.err" || { tail "$TEST_TMP/mv.err" >&2; fail "up of the folder to move"; }
# Another folder of the same name is refused naming the other's workspace
# folder, which `rdev down` takes, even when the first container of the
# project listed is a service's (one made last: Docker lists the newest
# first), not its compose files' directory.
docker run -d --label "com.docker.compose.project=$mvp" \
	--label "com.docker.compose.project.working_dir=$ws/.devcontainer" \
	--label com.docker.compose.service=cache --label "dev.rdev.owner_uid=$(id -u)" \
	"$RDEV_RIG_IMAGE_BUSYBOX" sleep 600 >/dev/null ||
	fail "making a service of the project"
same=$TEST_TMP/c/mv$$
mkdir -p "$same" && cp -r "$ws/.devcontainer" "$same/"
rc=0; rdev up "$same" >/dev/null 2>"$TEST_TMP/same-up.err" || rc=$?
check_eq "up of another folder of the same name is refused" "$rc" 1
check "... naming the other's workspace folder (not its project directory)" grep -qF \
	"Compose project $mvp is another workspace's (the workspace folder $ws); the name comes from the name of the workspace folder $same (another folder of that name gives the same one)" \
	"$TEST_TMP/same-up.err"
docker rm -f $(docker ps -q --filter "label=com.docker.compose.project=$mvp" \
	--filter label=com.docker.compose.service=app) >/dev/null
# Its dev container gone, only db names it: by its compose files'
# directory, said to be that, with both fixes.
rc=0; rdev up "$same" >/dev/null 2>"$TEST_TMP/same-up2.err" || rc=$?
check_eq "up with only the other's db left is refused" "$rc" 1
check "... naming the project directory as that" grep -qF \
	"Compose project $mvp is another workspace's (the workspace whose compose files are in project directory $ws/.devcontainer; its dev container is gone, and no container names its folder)" \
	"$TEST_TMP/same-up2.err"
check "... and the fixes for it" grep -qF \
	"or remove what is left of the other (\`docker compose -p $mvp down\`, or \`rdev down\` of that workspace's folder)" \
	"$TEST_TMP/same-up2.err"
mv "$ws" "$TEST_TMP/b/"
rc=0; rdev up "$TEST_TMP/b/mv$$" >/dev/null 2>"$TEST_TMP/mv-up.err" || rc=$?
check_eq "up of a moved folder whose old project is left is refused" "$rc" 1
check "... naming a fix that works for a folder gone" grep -qF \
	"or remove what is left of the other (\`docker compose -p $mvp down\`)" "$TEST_TMP/mv-up.err"
# A name given by COMPOSE_PROJECT_NAME in the folder's .env, not the
# folder's: the refusal says so, with the fix that fits (not "rename the
# folder"). (A compose file's `name:`, which needs Compose v2, is
# unit/test-compose-files'.)
nm=nm$$
projects+=("$nm")
for d in n1 n2; do
	mkdir -p "$TEST_TMP/$d/.devcontainer"
	cat >"$TEST_TMP/$d/.devcontainer/docker-compose.yml" <<YAML
services:
  app:
    image: $RDEV_RIG_IMAGE_BUSYBOX
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"]
YAML
	echo '{ "dockerComposeFile": "docker-compose.yml", "service": "app", "workspaceFolder": "/", "updateRemoteUserUID": false }' \
		>"$TEST_TMP/$d/.devcontainer/devcontainer.json"
	echo "COMPOSE_PROJECT_NAME=$nm" >"$TEST_TMP/$d/.env"
done
rdev up "$TEST_TMP/n1" >/dev/null 2>"$TEST_TMP/n1.err" || { tail "$TEST_TMP/n1.err" >&2; fail "up of n1"; }
rc=0; rdev up "$TEST_TMP/n2" >/dev/null 2>"$TEST_TMP/n2.err" || rc=$?
check_eq "up of a folder whose .env names another's project is refused" "$rc" 1
check "... saying the name comes from COMPOSE_PROJECT_NAME in its .env, and the fix" grep -qF \
	"Compose project $nm is another workspace's (the workspace folder $TEST_TMP/n1); the name comes from COMPOSE_PROJECT_NAME in $TEST_TMP/n2/.env; give this one another name (change it there), or \`rdev down\` the other" \
	"$TEST_TMP/n2.err"
# A workspace's compose files outside its folder, moved (old/dcN to new/dcN:
# the same project name) while its containers are left: they are its own, and
# `up --rebuild` replaces its dev container (it was refused as "another
# workspace's (the workspace folder <this folder>)", and after the removal of
# the dev container, by its db).
dc=dc$$
projects+=("$dc")
mkdir -p "$TEST_TMP/mvf/.devcontainer" "$TEST_TMP/files/old/$dc" "$TEST_TMP/files/new"
app_db_compose "$TEST_TMP/files/old/$dc/docker-compose.yml"
dcjson() { echo "{ \"dockerComposeFile\": \"../../files/$1/$dc/docker-compose.yml\", \"service\": \"app\", \"workspaceFolder\": \"/\", \"updateRemoteUserUID\": false }" >"$TEST_TMP/mvf/.devcontainer/devcontainer.json"; }
dcjson old
rdev up "$TEST_TMP/mvf" >/dev/null 2>"$TEST_TMP/mvf.err" || { tail "$TEST_TMP/mvf.err" >&2; fail "up of mvf"; }
mv "$TEST_TMP/files/old/$dc" "$TEST_TMP/files/new/" && dcjson new
rc=0; rdev up --rebuild "$TEST_TMP/mvf" >/dev/null 2>"$TEST_TMP/mvf2.err" || rc=$?
tail -3 "$TEST_TMP/mvf2.err" >&2
check_eq "up --rebuild of a workspace whose compose files moved succeeds" "$rc" 0
check_eq "... its new dev container made from the moved files" \
	"$(docker ps -q --filter "label=com.docker.compose.project=$dc" --filter label=com.docker.compose.service=app \
		--filter "label=com.docker.compose.project.working_dir=$TEST_TMP/files/new/$dc" | wc -l)" 1
