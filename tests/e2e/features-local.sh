#!/usr/bin/env bash
# features-local.sh - local Dev Container Features ("./name" next to
# devcontainer.json): options with defaults, a dependsOn chain, installsAfter,
# one Feature twice ({} and, from a dependsOn, an option: ordered as written),
# containerEnv, capAdd, init, mounts and postCreateCommands in install order
# before the configuration's; the container's devcontainer.metadata label,
# Env, CapAdd and Init equal the reference CLI's `up` on the same workspace,
# and so does the devcontainer-lock.json up writes (no entries: local only);
# a Dockerfile base; a changed option rebuilds only from its Feature's layer
# on; an unknown option, a value outside "enum", a dependency cycle, a
# missing install.sh and an OCI Feature that cannot be fetched (no registry is
# reachable from the rig) each fail naming the Feature, with no container
# left.
# The reference's results are kept for the other build's run of this test on
# the same dockerd (lib.sh, rig_ref_key): what they may hold is named after
# the key (a digest of this script), not the pid: the workspaces' folder and
# the Feature's volume; another run waits for this one (rig_ref_lock).
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
export RDEV_STATE_DIR=$TEST_TMP/state
REF=${RDEV_DEVCONTAINER_CLI:?the reference CLI (rig.sh env)}
key=$(printf '%s\n' "features-local $RDEV_RIG_IMAGE_BOOKWORM_DEV" "$(sha256sum <"${BASH_SOURCE[0]}")" |
	rig_ref_key)
rig_ref_lock "$key"
REFCACHE=$(rig_ref_cache "$key")
ROOT=/tmp/rdev-e2e-features-local-${key:0:10}
rm -rf "$ROOT" # (left by a run that was killed: ours, under the lock)
P=flocal${key:0:10}
WS=$ROOT/$P
VOL=flvol${key:0:10}

ref_pid=
cleanup() {
	local rc=$? d
	set +e
	# (not killed: its node would outlive the subshell, and what it makes
	# after the removals below would stay; a failed test waits for it)
	[ -z "$ref_pid" ] || wait "$ref_pid" 2>/dev/null
	for d in "$WS" "$WS-df" "$WS"-bad*; do
		docker ps -aq --filter "label=devcontainer.local_folder=$d" |
			xargs -r docker rm -f >/dev/null
	done
	docker volume rm "$VOL" >/dev/null 2>&1
	docker images --format '{{.Repository}}:{{.Tag}}' |
		grep -E "^(rdev-$P|vsc-$P|rdev-uid/rdev-$P)" |
		xargs -r docker rmi -f --no-prune >/dev/null 2>&1
	[ "${RDEV_KEEP_TMP:-}" = 1 ] || rm -rf "$ROOT"
	(exit $rc)
	rig_test_cleanup
}
trap cleanup EXIT

# feature DIR ID JSON-REST INSTALL-LINE
feature() {
	mkdir -p "$1"
	printf '{ "id": "%s", "version": "1.0.0"%s }\n' "$2" "$3" >"$1/devcontainer-feature.json"
	printf '#!/bin/sh\nset -e\n%s\n' "$4" >"$1/install.sh"
}
d=$WS/.devcontainer
feature "$d/base" base ', "options": { "level": { "type": "string", "default": "low" } }, "postCreateCommand": "echo base >> /tmp/order"' \
	'echo "base $LEVEL" >> /order'
feature "$d/mid" mid ', "dependsOn": { "./base": { "level": "high" } }, "containerEnv": { "MID_ENV": "m v" }, "capAdd": ["SYS_PTRACE"], "postCreateCommand": "echo mid >> /tmp/order"' \
	'echo mid >> /order'
feature "$d/top" top ', "options": { "greeting": { "type": "string", "default": "hello", "enum": ["hello", "hi"] }, "loud": { "type": "boolean", "default": false } }, "dependsOn": { "./mid": {} }, "init": true, "mounts": [{ "type": "volume", "source": "'"$VOL"'", "target": "/flvol" }], "postCreateCommand": "echo top >> /tmp/order"' \
	'echo "top $GREETING $LOUD $_REMOTE_USER $_REMOTE_USER_HOME $_CONTAINER_USER" >> /order'
feature "$d/late" late ', "installsAfter": ["./top"]' 'echo late >> /order'
# (top's layers this run's own: the images of an earlier run on this dockerd
# leave their build cache behind (--no-prune), which would give the changed
# option's layers below from the cache)
echo "# run $$.$(date +%s%N)" >>"$d/top/install.sh"
cat >"$d/devcontainer.json" <<JSON
{
  "image": "$RDEV_RIG_IMAGE_BOOKWORM_DEV",
  "remoteUser": "dev",
  "features": { "./late": {}, "./top": { "greeting": "hi" }, "./base": {} },
  "postCreateCommand": "echo config >> /tmp/order"
}
JSON

inspect() { docker inspect "$1" --format \
	'{{index .Config.Labels "devcontainer.metadata"}}|{{json .Config.Env}}|{{json .HostConfig.Init}}'; }

# The reference first, in the background; its container is inspected and
# removed (or what it gave is kept from an earlier run).
if [ -n "$REFCACHE" ] && [ -f "$REFCACHE/order" ]; then
	ref_inspect=$(cat "$REFCACHE/inspect")
	ref_caps=$(cat "$REFCACHE/caps")
	ref_order=$(cat "$REFCACHE/order")
	cp "$REFCACHE/lock.json" "$TEST_TMP/ref-lock.json"
	echo "info the reference's results kept by an earlier run on this dockerd"
else
	rig_reference_features "$REF" up --workspace-folder "$WS" >"$TEST_TMP/ref.out" 2>"$TEST_TMP/ref.err" &
	ref_pid=$!
fi

# The Dockerfile base and the errors run while the reference does (they
# read the Features' folders, which it leaves as they are, and have
# workspaces of their own).
# - A Dockerfile base.
mkdir -p "$WS-df/.devcontainer"
cp -r "$d/base" "$WS-df/.devcontainer/"
printf 'FROM %s\nRUN echo df > /df\n' "$RDEV_RIG_IMAGE_BOOKWORM_DEV" >"$WS-df/.devcontainer/Dockerfile"
echo '{ "build": { "dockerfile": "Dockerfile" }, "features": { "./base": { "level": "df" } } }' \
	>"$WS-df/.devcontainer/devcontainer.json"
rdev up "$WS-df" --json >"$TEST_TMP/df.out" 2>"$TEST_TMP/df.err" ||
	fail "Dockerfile up failed: $(tail -5 "$TEST_TMP/df.err")"
dcid=$(jq -r .containerId "$TEST_TMP/df.out")
check_eq "a Feature on the Dockerfile's image" "$(docker exec "$dcid" cat /df /order | tr '\n' ,)" "df,base df,"
check "its label has the Feature's entry" sh -c "docker inspect $dcid --format '{{index .Config.Labels \"devcontainer.metadata\"}}' | grep -q '\"id\":\"./base\"'"
# --include-features-configuration: the reference's featuresConfiguration
# with a container too (--include-merged-configuration alone then has none:
# that merge is the container's label).
rdev read-configuration --workspace-folder "$WS-df" --include-features-configuration \
	>"$TEST_TMP/df-fc.json" 2>"$TEST_TMP/df-fc.err" || fail "read-configuration --include-features-configuration: $(cat "$TEST_TMP/df-fc.err")"
check_eq "--include-features-configuration with a container: the Feature's set" \
	"$(jq -c '[.featuresConfiguration.featureSets[] | .sourceInformation.type, .sourceInformation.resolvedFilePath, .features[0].id]' "$TEST_TMP/df-fc.json")" \
	"[\"file-path\",\"$WS-df/.devcontainer/base\",\"base\"]"
check_eq "... --include-merged-configuration alone: none with a container" \
	"$(rdev read-configuration --workspace-folder "$WS-df" --include-merged-configuration 2>/dev/null | jq -c 'has("featuresConfiguration")')" false

# - Errors: each names the Feature; nothing is made.
bad() { # NAME FEATURES-JSON EXPECTED-TEXT
	local w=$WS-bad$1 rc=0
	mkdir -p "$w/.devcontainer"
	cp -r "$d"/base "$d"/mid "$d"/top "$w/.devcontainer/"
	echo '{ "image": "'"$RDEV_RIG_IMAGE_BOOKWORM_DEV"'", "features": '"$2"' }' >"$w/.devcontainer/devcontainer.json"
	rdev up "$w" >/dev/null 2>"$TEST_TMP/bad$1.err" || rc=$?
	check_eq "$1: up fails" "$rc" 1
	check "$1: the message says $3" grep -qF "$3" "$TEST_TMP/bad$1.err"
	check_eq "$1: no container" "$(docker ps -aq --filter "label=devcontainer.local_folder=$w" | wc -l)" 0
}
bad unknown '{ "./top": { "colour": "red" } }' \
	'"features"."./top": unknown option "colour" (the Feature "top" has other options)'
bad enum '{ "./top": { "greeting": "yo" } }' 'option "greeting": "yo" is not one of "hello", "hi"'
# A short deprecated id is the reference's ghcr.io/devcontainers/features/ID:1
# ("golang": go), fetched as that.
bad oci '{ "golang": {} }' \
	"Feature 'ghcr.io/devcontainers/features/go:1': https://ghcr.io/v2/devcontainers/features/go/manifests/1: "
# A deprecated "maven" is ghcr.io/devcontainers/features/java:1 with
# installMaven, as the reference folds it.
bad fold '{ "maven": true }' \
	"\"features\": \"ghcr.io/devcontainers/features/java:1\" (for a deprecated Feature, as the reference CLI adds it): Feature 'ghcr.io/devcontainers/features/java:1': https://ghcr.io/v2/"
mkdir -p "$WS-badcycle/.devcontainer"
feature "$WS-badcycle/.devcontainer/x" x ', "dependsOn": { "./y": {} }' true
feature "$WS-badcycle/.devcontainer/y" y ', "dependsOn": { "./x": {} }' true
bad cycle '{ "./x": {} }' 'Features ./x, ./y depend on each other'
mkdir -p "$WS-badnoinstall/.devcontainer/n"
echo '{ "id": "n" }' >"$WS-badnoinstall/.devcontainer/n/devcontainer-feature.json"
bad noinstall '{ "./n": {} }' 'Feature "./n": '
check "noinstall: names install.sh" grep -q 'install.sh' "$TEST_TMP/badnoinstall.err"
mkdir -p "$WS-badjson/.devcontainer/j"
printf '{ "id": "j",\n  "options": { "a": { "type": 3 } } }\n' >"$WS-badjson/.devcontainer/j/devcontainer-feature.json"
touch "$WS-badjson/.devcontainer/j/install.sh"
bad json '{ "./j": {} }' 'j/devcontainer-feature.json:2:31: "options"."a"."type"'
# A local Feature outside the .devcontainer folder: the reference refuses it.
mkdir -p "$WS-badoutside/.devcontainer"
cp -r "$d/base" "$WS-badoutside/outer"
bad outside '{ "../outer": {} }' "\"features\".\"../outer\": $WS-badoutside/outer is not inside $WS-badoutside/.devcontainer"
# An installsAfter or overrideFeatureInstallOrder entry that cannot be
# honoured (not an id, a folder outside .devcontainer): the reference fails
# ("could not be processed"); rdev says where. An OCI one whose registry
# cannot be reached ("node" is ghcr.io/devcontainers/features/node:1 for the
# reference; this rig has no network) fails the reference too, but names no
# Feature of the configuration: rdev ignores it, saying why (the Features'
# metadata is had: no "cannot be honoured").
mkdir -p "$WS-after/.devcontainer"
feature "$WS-after/.devcontainer/a" a ', "installsAfter": ["node"]' true
echo '{ "image": "'"$RDEV_RIG_IMAGE_BOOKWORM_DEV"'", "features": { "./a": {} } }' \
	>"$WS-after/.devcontainer/devcontainer.json"
rdev read-configuration --workspace-folder "$WS-after" --include-merged-configuration \
	>"$TEST_TMP/after.out" 2>&1 || fail "read-configuration with an unreachable installsAfter failed"
check "unreachable installsAfter: the Features are ordered" \
	sh -c "! grep -q 'cannot be honoured' '$TEST_TMP/after.out'"
check "and the entry is said ignored, with the reason" \
	sh -c "grep -F \"'node': Feature 'ghcr.io/devcontainers/features/node:1': https://ghcr.io/v2/devcontainers/features/node/manifests/1: \" '$TEST_TMP/after.out' | grep -qF 'names no Feature of this configuration'"
mkdir -p "$WS-badafterout/.devcontainer"
feature "$WS-badafterout/.devcontainer/a" a ', "installsAfter": ["../x"]' true
bad afterout '{ "./a": {} }' 'Feature "./a": "installsAfter" "../x" cannot be honoured: '"$WS-badafterout/x is not inside"
bad override '{ "./top": {} },
  "overrideFeatureInstallOrder": [ "./mid", "fish" ]' \
	'devcontainer.json:2:45: "overrideFeatureInstallOrder" "fish" cannot be honoured: Feature '"'fish'"' is not'
# Without Features the reference reads no overrideFeatureInstallOrder.
mkdir -p "$WS-nofeat/.devcontainer"
echo '{ "image": "'"$RDEV_RIG_IMAGE_BOOKWORM_DEV"'", "overrideFeatureInstallOrder": [ "fish" ] }' \
	>"$WS-nofeat/.devcontainer/devcontainer.json"
rdev read-configuration --workspace-folder "$WS-nofeat" --include-merged-configuration \
	>"$TEST_TMP/nofeat.out" 2>&1 || fail "read-configuration without Features failed"
check "no Features: overrideFeatureInstallOrder is not read" \
	sh -c "! grep -q 'cannot be honoured' '$TEST_TMP/nofeat.out'"
# The reference's results (its container inspected and removed before
# rdev's up of the same workspace).
if [ -n "$ref_pid" ]; then
	wait "$ref_pid" || fail "the reference's up failed: $(tail -5 "$TEST_TMP/ref.err")"
	ref_pid=
	ref=$(jq -r .containerId "$TEST_TMP/ref.out")
	ref_inspect=$(inspect "$ref")
	ref_caps=$(docker inspect "$ref" --format '{{json .HostConfig.CapAdd}}')
	ref_order=$(docker exec "$ref" cat /order)
	docker rm -f "$ref" >/dev/null
	mv "$d/devcontainer-lock.json" "$TEST_TMP/ref-lock.json" || fail "the reference's up wrote no lockfile"
	if [ -n "$REFCACHE" ]; then
		printf '%s' "$ref_inspect" | rig_ref_keep "$REFCACHE/inspect" &&
			printf '%s' "$ref_caps" | rig_ref_keep "$REFCACHE/caps" &&
			rig_ref_keep "$REFCACHE/lock.json" <"$TEST_TMP/ref-lock.json" &&
			printf '%s' "$ref_order" | rig_ref_keep "$REFCACHE/order"
	fi
fi

rdev up "$WS" --json >"$TEST_TMP/up.out" 2>"$TEST_TMP/up.err" ||
	fail "rdev up failed: $(tail -5 "$TEST_TMP/up.err")"
cid=$(jq -r .containerId "$TEST_TMP/up.out")
check "devcontainer-lock.json as the reference's, byte for byte" \
	cmp "$d/devcontainer-lock.json" "$TEST_TMP/ref-lock.json"
check_eq "metadata label, Env and Init as the reference's" "$(inspect "$cid")" "$ref_inspect"
check "the reference gives CAP_SYS_PTRACE" grep -q SYS_PTRACE <<<"$ref_caps"
check "capAdd from a Feature" sh -c "docker inspect $cid --format '{{json .HostConfig.CapAdd}}' | grep -q SYS_PTRACE"
check "the Feature's volume is mounted" sh -c "docker inspect $cid --format '{{json .Mounts}}' | grep -q '\"Name\":\"$VOL\"'"
check_eq "install order and options as the reference's" "$(docker exec "$cid" cat /order)" "$ref_order"
# (base twice: {} as written sorts before mid's {"level": "high"}, as the
# reference's; rdev sorted the defaults filled in, "low" after "high")
check_eq "install order: dependsOn chain first, installsAfter last" \
	"$(docker exec "$cid" cat /order | tr '\n' ,)" "base low,base high,mid,top hi false dev /home/dev root,late,"
check_eq "Feature postCreateCommands first, in install order" \
	"$(docker exec "$cid" cat /tmp/order | tr '\n' ,)" "base,base,mid,top,config,"
check_eq "containerEnv is in the image" "$(docker exec "$cid" printenv MID_ENV)" "m v"

# A changed option of the last-but-one Feature: the layers before it come
# from the cache, its own and the ones after are built again.
rdev down "$WS" >/dev/null 2>&1 || true
sed -i 's/"greeting": "hi"/"greeting": "hello"/' "$d/devcontainer.json"
rdev up "$WS" >"$TEST_TMP/re.out" 2>"$TEST_TMP/re.err" || fail "up after the change failed"
steps=$(grep -aE '^Step [0-9]+/[0-9]+ : (COPY|RUN)' -A1 "$TEST_TMP/re.err" | grep -ac 'Using cache' || true)
built=$(grep -aE '^Step [0-9]+/[0-9]+ : (COPY|RUN)' -A1 "$TEST_TMP/re.err" | grep -acE 'Running in|^ ---> [0-9a-f]{12}$' || true)
# builtin env COPY+RUN and base twice, mid (COPY+RUN each) cached: 8; top,
# late rebuilt.
check_eq "layers before the changed Feature come from the cache" "$steps" 8
check "the changed Feature and the one after it are built again" test "$built" -ge 3

# A new container, nothing changed: no build at all (the image's tag is a
# digest of what its build reads). A changed install.sh, options the same:
# built again.
rdev down "$WS" >/dev/null 2>&1 || true
rdev up "$WS" >/dev/null 2>"$TEST_TMP/same.err" || fail "up with nothing changed failed"
check "nothing changed: the Features' image is used as it is" grep -q '^Features unchanged: using ' "$TEST_TMP/same.err"
check_eq "nothing changed: no build step" "$(grep -c '^Step ' "$TEST_TMP/same.err" || true)" 0
echo 'echo late-again >> /order' >>"$d/late/install.sh"
# (An existing container: a changed configuration, said, as an edited
# devcontainer.json is.)
rdev up "$WS" >/dev/null 2>"$TEST_TMP/edited.err" || fail "up after editing install.sh, container kept, failed"
check "an edited local Feature is said to change the configuration" \
	grep -qF "The configuration changed since container" "$TEST_TMP/edited.err"
rdev down "$WS" >/dev/null 2>&1 || true
rdev up "$WS" --json >"$TEST_TMP/edit.out" 2>"$TEST_TMP/edit.err" || fail "up after editing install.sh failed"
check_eq "an edited install.sh is built again" \
	"$(docker exec "$(jq -r .containerId "$TEST_TMP/edit.out")" tail -1 /order)" late-again
rdev down "$WS" >/dev/null 2>&1 || true

finish
