#!/usr/bin/env bash
# examples.sh - the workspaces in examples/ work as their READMEs say, with
# the local target: examples/hello (image) and examples/compose-db (Compose:
# an app container and a MariaDB service built from Debian packages). Each is
# copied to a temporary folder (so a developer's own `rdev up examples/...`
# container is never touched), brought up, checked with `rdev exec`, and
# taken down.
#
# The base image debian:bookworm-slim is made available as the quick start
# does (deploy/ensure-base-image.sh, from the rig's cached rootfs tarball; no
# registry needed). The two images Compose builds for compose-db
# (rdev-example-compose-db-{app,db}:1) are kept afterwards as a build cache,
# like the rig's own images, so a warm run builds nothing; set
# RDEV_EXAMPLES_REMOVE_IMAGES=1 to remove them too. Containers, networks and
# volumes of the test's projects are always removed.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
export RDEV_STATE_DIR=$TEST_TMP/state
t_start=$(date +%s)

RDEV_NO_PULL=1 RDEV_CACHE_DIR=$RDEV_RIG_DIR/cache \
	bash "$RDEV_SOURCE_DIR/deploy/ensure-base-image.sh" debian:bookworm-slim ||
	fail "debian:bookworm-slim could not be made available"

suffix=$$
hello=$TEST_TMP/hello-$suffix
cdb=$TEST_TMP/compose-db-$suffix
cp -a "$RDEV_SOURCE_DIR/examples/hello" "$hello"
cp -a "$RDEV_SOURCE_DIR/examples/compose-db" "$cdb"
# Compose names the project after the folder: <basename>_devcontainer.
project=compose-db-${suffix}_devcontainer
example_images=(rdev-example-compose-db-app:1 rdev-example-compose-db-db:1)

cleanup_examples() {
	docker ps -aq --filter "label=devcontainer.local_folder=$hello" | xargs -r docker rm -f >/dev/null
	rig_compose_rm "$project"
	docker volume ls -q --filter "label=com.docker.compose.project=$project" |
		xargs -r docker volume rm >/dev/null 2>&1 || true
	if [ "${RDEV_EXAMPLES_REMOVE_IMAGES:-}" = 1 ]; then
		docker rmi --no-prune "${example_images[@]}" >/dev/null 2>&1 || true
	fi
}
trap 'cleanup_examples; rig_test_cleanup' EXIT

# --- examples/hello ------------------------------------------------------
t0=$(date +%s)
rdev up "$hello" >"$TEST_TMP/hello-up.json" 2>"$TEST_TMP/hello-up.err" ||
	{ cat "$TEST_TMP/hello-up.err" >&2; fail "rdev up examples/hello failed"; }
check_eq "hello: up succeeded" "$(jq -r .outcome "$TEST_TMP/hello-up.json")" success
check "hello: the postCreateCommand wrote /tmp/greeting from containerEnv" \
	sh -c "'$RDEV_BIN_DIR/rdev' exec '$hello' -- cat /tmp/greeting | grep -q '^hello from hello-$suffix, created '"
check_eq "hello: containerEnv with \${localWorkspaceFolderBasename}" \
	"$(rdev exec "$hello" -- sh -c 'echo $GREETING')" "hello from hello-$suffix"
check_eq "hello: remoteEnv" "$(rdev exec "$hello" -- sh -c 'echo $EDITOR')" vi
check_eq "hello: the postStartCommand ran once" "$(rdev exec "$hello" -- cat /tmp/starts)" started
check_eq "hello: exec runs in the workspace folder" "$(rdev exec "$hello" -- pwd)" "/workspaces/hello-$suffix"
check "hello: the workspace is mounted" rdev exec "$hello" -- test -f README.md
check_eq "hello: down removes the container" "$(rdev down "$hello" --json | jq -r .removed)" 1
echo "     (hello: $(($(date +%s) - t0)) s)"

# --- examples/compose-db -------------------------------------------------
t0=$(date +%s)
cold=cold
docker image inspect "${example_images[@]}" >/dev/null 2>&1 && cold=warm
rdev up "$cdb" >"$TEST_TMP/cdb-up.json" 2>"$TEST_TMP/cdb-up.err" ||
	{ tail -40 "$TEST_TMP/cdb-up.err" >&2; fail "rdev up examples/compose-db failed"; }
echo "     (compose-db: first up took $(($(date +%s) - t0)) s, images $cold)"
check_eq "compose-db: up succeeded" "$(jq -r .outcome "$TEST_TMP/cdb-up.json")" success
cid=$(jq -r .containerId "$TEST_TMP/cdb-up.json")
check_eq "compose-db: the dev container is the app service" \
	"$(docker inspect -f '{{index .Config.Labels "com.docker.compose.service"}}' "$cid")" app
check_eq "compose-db: the project is the folder's" \
	"$(docker inspect -f '{{index .Config.Labels "com.docker.compose.project"}}' "$cid")" "$project"
db_cid=$(docker ps -q --no-trunc --filter "label=com.docker.compose.project=$project" \
	--filter "label=com.docker.compose.service=db")
[ -n "$db_cid" ] || fail "compose-db: the db service is not running"
check "compose-db: the postCreateCommand reached the database" \
	grep -q 'db-check: connected to .*MariaDB.*; 1 greeting(s) stored' "$TEST_TMP/cdb-up.err"
check_eq "compose-db: exec runs in /workspace" "$(rdev exec "$cdb" -- pwd)" /workspace
check "compose-db: the workspace is mounted by docker-compose.yml" rdev exec "$cdb" -- test -f README.md
check_eq "compose-db: the app container reads the row the postCreateCommand stored" \
	"$(rdev exec "$cdb" -- mariadb -N -e 'SELECT text FROM greetings')" "hello from the app container"
# The server that answered is the db container (its hostname is the container's short id).
check_eq "compose-db: the answer comes from the db container" \
	"$(rdev exec "$cdb" -- mariadb -N -e 'SELECT @@hostname')" "${db_cid:0:12}"
check_eq "compose-db: the app container is not the db" \
	"$(rdev exec "$cdb" -- sh -c 'command -v mariadbd || echo none')" none
check_eq "compose-db: the app writes through exec" \
	"$(rdev exec "$cdb" -- mariadb -N -e "INSERT INTO greetings (text) VALUES ('from exec'); SELECT COUNT(*) FROM greetings")" 2

# down keeps the named volume: the data survive a new container.
rdev down "$cdb" --json >"$TEST_TMP/cdb-down.json"
check_eq "compose-db: down removes the project's containers" \
	"$(docker ps -aq --filter "label=com.docker.compose.project=$project" | wc -l)" 0
check_eq "compose-db: down keeps the db volume" \
	"$(docker volume ls -q --filter "label=com.docker.compose.project=$project" | wc -l)" 1
t1=$(date +%s)
rdev up "$cdb" >"$TEST_TMP/cdb-up2.json" 2>"$TEST_TMP/cdb-up2.err" ||
	{ tail -40 "$TEST_TMP/cdb-up2.err" >&2; fail "second rdev up examples/compose-db failed"; }
echo "     (compose-db: up after down took $(($(date +%s) - t1)) s)"
check "compose-db: a new container was created" \
	test "$(jq -r .containerId "$TEST_TMP/cdb-up2.json")" != "$cid"
check_eq "compose-db: the rows survived down (volume kept; postCreate added one)" \
	"$(rdev exec "$cdb" -- mariadb -N -e 'SELECT COUNT(*) FROM greetings')" 3
rdev down "$cdb" --volumes >/dev/null
check_eq "compose-db: down --volumes removes the volume" \
	"$(docker volume ls -q --filter "label=com.docker.compose.project=$project" | wc -l)" 0
check_eq "compose-db: and the network" \
	"$(docker network ls -q --filter "label=com.docker.compose.project=$project" | wc -l)" 0
echo "     (compose-db: $(($(date +%s) - t0)) s; whole test $(($(date +%s) - t_start)) s)"
finish
