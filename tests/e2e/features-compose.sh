#!/usr/bin/env bash
# features-compose.sh - Dev Container Features in Docker Compose
# configurations: a local Feature with an option, containerEnv, capAdd and a
# postCreateCommand, on a service with `image:` and on one with `build:` and
# `user:`.
# - image: the Feature ran in the service container (its option,
#   _REMOTE_USER, _CONTAINER_USER), its ENV and CapAdd, the metadata label,
#   what it wrote and the lifecycle order equal the reference CLI's `up` of
#   the same workspace; up after stop starts the same container and builds
#   nothing; `rdev build` makes the image with the Feature and the label.
# - build: the Feature is on the service's own build, _CONTAINER_USER is the
#   service's user:, UID sync builds on top; a changed option is reported and
#   left alone by a plain up, and `up --recreate` builds again only from the
#   Feature's layer on (the service's build and the builtin env layers come
#   from the cache) and removes the images of the container it replaced (the
#   UID-sync image and the Features image, under their old tags).
# down removes both projects.
# The reference's results are kept for the other build's run of this test on
# the same dockerd (lib.sh, rig_ref_key): what they may hold is named after
# the key (a digest of this script), not the pid: the workspaces' folder,
# hence the Compose projects and the images; another run waits for this one
# (rig_ref_lock).
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
export RDEV_STATE_DIR=$TEST_TMP/state
REF=${RDEV_DEVCONTAINER_CLI:?the reference CLI (rig.sh env)}
key=$(printf '%s\n' "features-compose $RDEV_RIG_IMAGE_BOOKWORM_DEV" "$(sha256sum <"${BASH_SOURCE[0]}")" |
	rig_ref_key)
rig_ref_lock "$key"
REFCACHE=$(rig_ref_cache "$key")
P=fcomp${key:0:10}
ROOT=/tmp/rdev-e2e-features-compose-${key:0:10}
rm -rf "$ROOT" # (left by a run that was killed: ours, under the lock)
mkdir -p "$ROOT"
WI=$ROOT/$P-img
WB=$ROOT/$P-bld
# The owner of the build: workspace, a UID not in the image: dev gets it.
OWNER=$((20000 + 16#${key:0:4} % 40000))
ref_pid=

# The Compose project of a workspace (its compose file is in .devcontainer).
project() { echo "$(basename "$1")_devcontainer"; }
cleanup() {
	local rc=$? w
	set +e
	[ -z "$ref_pid" ] || { kill "$ref_pid" && wait "$ref_pid"; } 2>/dev/null
	for w in "$WI" "$WB"; do
		docker ps -aq --filter "label=com.docker.compose.project=$(project "$w")" |
			xargs -r docker rm -f >/dev/null
		docker network ls -q --filter "label=com.docker.compose.project=$(project "$w")" |
			xargs -r docker network rm >/dev/null 2>&1
	done
	docker images --format '{{.Repository}}:{{.Tag}}' |
		grep -E "^(rdev-$P-|vsc-$P-|rdev-uid/rdev-$P-|${P}-)" |
		xargs -r docker rmi -f --no-prune >/dev/null 2>&1
	[ "${RDEV_KEEP_TMP:-}" = 1 ] || rm -rf "$ROOT"
	(exit $rc)
	rig_test_cleanup
}
trap cleanup EXIT

# workspace DIR SERVICE-YAML CONFIG-JSON-REST
workspace() {
	local d=$1/.devcontainer
	mkdir -p "$d/greet"
	cat >"$d/greet/devcontainer-feature.json" <<'JSON'
{ "id": "greet", "version": "1.0.0",
  "options": { "word": { "type": "string", "default": "hello" } },
  "containerEnv": { "GREET_ENV": "g v" }, "capAdd": ["SYS_PTRACE"],
  "postCreateCommand": "echo greet >> /tmp/order" }
JSON
	# (the run's own, as its layers: an earlier run's images leave their
	# build cache behind (--no-prune), which would give the changed
	# option's layers below from the cache)
	printf '#!/bin/sh\nset -e\necho "$WORD $_REMOTE_USER $_CONTAINER_USER $_REMOTE_USER_HOME" > /greet\n# run %s\n' \
		"$$.$(date +%s%N)" >"$d/greet/install.sh"
	printf 'version: "3"\nservices:\n  app:\n%s\n    volumes:\n      - ..:/workspace\n    command: ["sleep", "infinity"]\n    stop_signal: SIGKILL\n' \
		"$2" >"$d/docker-compose.yml"
	cat >"$d/devcontainer.json" <<JSON
{
  "dockerComposeFile": "docker-compose.yml",
  "service": "app",
  "workspaceFolder": "/workspace",
  "features": { "./greet": { "word": "hi" } },
  "postCreateCommand": "echo config >> /tmp/order"$3
}
JSON
}
workspace "$WI" "    image: $RDEV_RIG_IMAGE_BOOKWORM_DEV" ', "remoteUser": "dev", "updateRemoteUserUID": false'
workspace "$WB" '    build: .
    user: dev' ''
# (A layer of this test's own: another's build cache does not give it.)
printf 'FROM %s\nRUN echo built > /built; echo %s > /test\n' "$RDEV_RIG_IMAGE_BOOKWORM_DEV" "$P" \
	>"$WB/.devcontainer/Dockerfile"
chown -R "$OWNER:$OWNER" "$WB"

label() { docker inspect "$1" --format '{{index .Config.Labels "devcontainer.metadata"}}'; }
envs() { docker inspect "$1" --format '{{json .Config.Env}}' | jq -c sort; }
caps() { docker inspect "$1" --format '{{json .HostConfig.CapAdd}}'; }
image() { docker inspect "$1" --format '{{.Config.Image}}'; }
inside() { docker exec "$1" cat /greet /tmp/order | tr '\n' ,; }
# The COPY and RUN steps of a build's output that came from the cache, and
# those that were built.
cached() { grep -aE '^Step [0-9]+/[0-9]+ : (COPY|RUN)' -A1 "$1" | grep -ac 'Using cache' || true; }
built() { grep -aE '^Step [0-9]+/[0-9]+ : (COPY|RUN)' -A1 "$1" | grep -acE 'Running in|^ ---> [0-9a-f]{12}$' || true; }

# The reference's up of the image: workspace runs meanwhile (another
# project), its temporary files in TEST_TMP (or what it gave is kept from an
# earlier run).
if [ -n "$REFCACHE" ] && [ -f "$REFCACHE/inside" ]; then
	ref_label=$(cat "$REFCACHE/label") ref_env=$(cat "$REFCACHE/env") ref_caps=$(cat "$REFCACHE/caps")
	ref_inside=$(cat "$REFCACHE/inside")
	echo "info the reference's results kept by an earlier run on this dockerd"
else
	mkdir "$TEST_TMP/reftmp"
	# (without the lock's fd: its node must not keep it)
	TMPDIR=$TEST_TMP/reftmp rig_reference_features "$REF" up --workspace-folder "$WI" \
		>"$TEST_TMP/ref.out" 2>"$TEST_TMP/ref.err" {RIG_REF_LOCK_FD}>&- &
	ref_pid=$!
fi

# build: with user:, UID sync.
rdev up "$WB" >"$TEST_TMP/b1.out" 2>"$TEST_TMP/b1.err" ||
	fail "rdev up (build:) failed: $(tail -5 "$TEST_TMP/b1.err")"
bid=$(jq -r .containerId "$TEST_TMP/b1.out")
check_eq "build: the Feature on the service's build, _CONTAINER_USER its user:" \
	"$(docker exec "$bid" cat /built | tr '\n' ,)$(inside "$bid")" "built,hi dev dev /home/dev,greet,config,"
check_eq "build: a label entry for the Feature before the configuration's" \
	"$(label "$bid" | jq -c '[.[] | .id]')" '["./greet",null]'
check_eq "build: the Feature's containerEnv" "$(docker exec "$bid" printenv GREET_ENV)" "g v"
check "build: the Feature's capAdd" grep -q SYS_PTRACE <<<"$(caps "$bid")"
check_eq "build: UID sync on top of the Feature" "$(docker exec "$bid" id -u dev)" "$OWNER"
check "build: the service runs the UID-sync image" grep -q "^rdev-uid/rdev-$P-bld-" <<<"$(image "$bid")"

# The images the container was made from: the UID-sync image, on the
# Features image (its first tagged ancestor).
old_uid=$(docker inspect "$bid" --format '{{.Image}}')
old_features=$old_uid
for _ in $(seq 20); do
	old_features=$(docker image inspect --format '{{.Parent}}' "$old_features")
	[ -z "$(docker image inspect --format '{{join .RepoTags ""}}' "$old_features")" ] || break
done
check "build: the UID-sync image is built on the Features image" grep -q "^rdev-$P-bld-.*-features:" \
	<<<"$(docker image inspect --format '{{join .RepoTags " "}}' "$old_features")"

# A changed option: a plain up says so and keeps the container; --recreate
# builds again from the Feature's layer on, and removes the images of the
# container it replaced (under their own tags: a Features image is tagged
# by what it was built from).
sed -i 's/"word": "hi"/"word": "hey"/' "$WB/.devcontainer/devcontainer.json"
rdev up "$WB" >"$TEST_TMP/b2.out" 2>"$TEST_TMP/b2.err" || fail "up after the change failed"
check_eq "changed option: a plain up keeps the container" "$(jq -r .containerId "$TEST_TMP/b2.out")" "$bid"
check "changed option: and says the configuration changed" \
	grep -q "The configuration changed since container ${bid:0:12}" "$TEST_TMP/b2.err"
rdev up "$WB" --recreate >"$TEST_TMP/b3.out" 2>"$TEST_TMP/b3.err" ||
	fail "up --recreate failed: $(tail -5 "$TEST_TMP/b3.err")"
bid=$(jq -r .containerId "$TEST_TMP/b3.out")
# Cached: the service's RUN, the builtin env COPY and RUN.
check_eq "--recreate: the layers before the Feature come from the cache" "$(cached "$TEST_TMP/b3.err")" 3
check_eq "--recreate: the Feature's COPY and RUN are built again" "$(built "$TEST_TMP/b3.err")" 2
check_eq "--recreate: the new option is installed" "$(docker exec "$bid" cat /greet)" "hey dev dev /home/dev"
for i in "$old_uid" "$old_features"; do
	check "--recreate: the replaced image ${i:7:12} is removed" \
		sh -c "! docker image inspect $i >/dev/null 2>&1"
done
check "--recreate: and says so" \
	grep -qF "Removed image ${old_features:0:19} (replaced, no longer used)" "$TEST_TMP/b3.err"
check_eq "--recreate: only the new container's Features and UID-sync images are left" \
	"$(docker images -q --filter "reference=rdev-$P-bld-*-features" \
		--filter "reference=rdev-uid/rdev-$P-bld-*" | wc -l)" 2

# The reference's container: inspected and removed before rdev's up of the
# same workspace.
if [ -n "$ref_pid" ]; then
	wait "$ref_pid" || fail "the reference's up failed: $(tail -5 "$TEST_TMP/ref.err")"
	ref_pid=
	ref=$(jq -r .containerId "$TEST_TMP/ref.out")
	ref_label=$(label "$ref") ref_env=$(envs "$ref") ref_caps=$(caps "$ref") ref_inside=$(inside "$ref")
	docker rm -f "$ref" >/dev/null
	docker network ls -q --filter "label=com.docker.compose.project=$(project "$WI")" |
		xargs -r docker network rm >/dev/null
	if [ -n "$REFCACHE" ]; then
		printf '%s' "$ref_label" | rig_ref_keep "$REFCACHE/label" &&
			printf '%s' "$ref_env" | rig_ref_keep "$REFCACHE/env" &&
			printf '%s' "$ref_caps" | rig_ref_keep "$REFCACHE/caps" &&
			printf '%s' "$ref_inside" | rig_ref_keep "$REFCACHE/inside"
	fi
fi

rdev up "$WI" >"$TEST_TMP/up.out" 2>"$TEST_TMP/up.err" ||
	fail "rdev up failed: $(tail -5 "$TEST_TMP/up.err")"
cid=$(jq -r .containerId "$TEST_TMP/up.out")
check_eq "image: the reference's metadata label" "$(label "$cid")" "$ref_label"
check "image: the Feature's entry, then the configuration's" \
	grep -q '^\[ {"id":"./greet",.*}, {.*"remoteUser":"dev"' <<<"$ref_label"
check_eq "image: the reference's Env" "$(envs "$cid")" "$ref_env"
check "image: the Feature's containerEnv is there" grep -qF '"GREET_ENV=g v"' <<<"$ref_env"
check_eq "image: the reference's CapAdd" "$(caps "$cid")" "$ref_caps"
check "image: the Feature's capAdd is there" grep -q SYS_PTRACE <<<"$ref_caps"
check_eq "image: what the Feature wrote and the lifecycle order, as the reference's" \
	"$(inside "$cid")" "$ref_inside"
check_eq "image: the option, the users; the Feature's postCreateCommand first" \
	"$ref_inside" "hi dev root /home/dev,greet,config,"
check "image: the service runs rdev's Features image" grep -q "^rdev-$P-img-.*-features:" <<<"$(image "$cid")"
# Stopped without the grace period (sleep as pid 1 ignores SIGTERM; rdev
# stop and down give each container its own, up-compose.sh covers that).
docker stop -t 0 "$cid" >/dev/null
rdev up "$WI" >"$TEST_TMP/up2.out" 2>"$TEST_TMP/up2.err" || fail "up after stop failed"
check_eq "image: up after stop starts the same container" "$(jq -r .containerId "$TEST_TMP/up2.out")" "$cid"
check "image: and builds nothing" sh -c "! grep -qE 'Installing|Building|^Step ' '$TEST_TMP/up2.err'"
check "image: it says it starts the project" grep -q "^Starting Compose project" "$TEST_TMP/up2.err"

# rdev build: the service's image with the Feature and the label.
rdev build "$WI" --image-name "$P-built:1" >"$TEST_TMP/build.out" 2>"$TEST_TMP/build.err" ||
	fail "rdev build failed: $(tail -5 "$TEST_TMP/build.err")"
check_eq "rdev build: the Feature is in the image" "$(docker run --rm "$P-built:1" cat /greet)" \
	"hi dev root /home/dev"
check_eq "rdev build: the label's entries" \
	"$(docker image inspect "$P-built:1" --format '{{index .Config.Labels "devcontainer.metadata"}}' |
		jq -c '[.[] | .id]')" '["./greet",null]'

for w in "$WI" "$WB"; do
	rdev down "$w" >/dev/null
	check_eq "down removes the project's containers ($(basename "$w"))" \
		"$(docker ps -aq --filter "label=com.docker.compose.project=$(project "$w")" | wc -l)" 0
done
finish
