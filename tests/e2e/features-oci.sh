#!/usr/bin/env bash
# features-oci.sh - Dev Container Features from an OCI registry (the rig's,
# tests/rig/oci-registry.py on localhost, the Feature published there with the
# reference CLI's `features publish`): `rdev up` installs one with its option
# on a local target and on a remote one (the agent bundle's libcurl, loaded
# when a Feature is downloaded); the reference's up agrees on what the
# Feature wrote; a second up of a pinned Feature (devcontainer-lock.json)
# costs no registry request; a lockfile whose digest does not match and a
# tag the registry does not have fail naming the Feature, with no container.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
export RDEV_STATE_DIR=$TEST_TMP/state
REF=${RDEV_DEVCONTAINER_CLI:?the reference CLI (rig.sh env)}
reg=$(bash "$RIG" registry) || fail "the rig's registry did not start"
regdir=$RDEV_RIG_DIR/run/registry
ns=rdevoci$$

rig_remote_host foci
cleanup() {
	local rc=$? d
	set +e
	for d in "$TEST_TMP"/ws*; do
		docker ps -aq --filter "label=devcontainer.local_folder=$d" | xargs -r docker rm -f >/dev/null
	done
	(exit $rc)
	rig_remote_cleanup ws-remote
}
trap cleanup EXIT

# The Feature, published as $reg/$ns/hello:1.0.0, :1 and :latest.
mkdir -p "$TEST_TMP/src/hello"
cat >"$TEST_TMP/src/hello/devcontainer-feature.json" <<'JSON'
{ "id": "hello", "version": "1.0.0", "name": "Hello",
  "options": { "greeting": { "type": "string", "default": "hi" } },
  "containerEnv": { "HELLO_FEATURE": "installed" } }
JSON
printf '#!/bin/sh\nset -e\necho "$GREETING" > /etc/hello-oci\n' >"$TEST_TMP/src/hello/install.sh"
chmod +x "$TEST_TMP/src/hello/install.sh"
bash "$RIG" registry-publish "$ns" "$TEST_TMP/src" || fail "publishing the Feature failed"
feature=$reg/$ns/hello:1

workspace() { # DIR FEATURE-ID
	mkdir -p "$1/.devcontainer"
	cat >"$1/.devcontainer/devcontainer.json" <<JSON
{ "image": "$RDEV_RIG_IMAGE_BOOKWORM_DEV", "remoteUser": "root",
  "features": { "$2": { "greeting": "from-oci" } } }
JSON
}
requests() { grep -c "/$ns/" "$regdir/requests.log" 2>/dev/null || true; }

# --- local ---------------------------------------------------------------------
workspace "$TEST_TMP/ws" "$feature"
rdev up "$TEST_TMP/ws" >"$TEST_TMP/up.json" 2>"$TEST_TMP/up.err" ||
	{ tail -5 "$TEST_TMP/up.err"; fail "up with an OCI Feature failed"; }
check_eq "local: the Feature's install.sh ran with its option" \
	"$(rdev exec "$TEST_TMP/ws" -- cat /etc/hello-oci)" from-oci
check_eq "local: its containerEnv" "$(rdev exec "$TEST_TMP/ws" -- printenv HELLO_FEATURE)" installed
cid=$(jq -r .containerId "$TEST_TMP/up.json")
check "local: the label has its entry, by the id as written" sh -c \
	"docker inspect $cid --format '{{index .Config.Labels \"devcontainer.metadata\"}}' | grep -qF '\"id\":\"$feature\"'"

# The reference's up of a copy: the Feature wrote the same.
workspace "$TEST_TMP/ws-ref" "$feature"
TMPDIR=$TEST_TMP rig_reference_features "$REF" up --workspace-folder "$TEST_TMP/ws-ref" >"$TEST_TMP/ref.json" 2>"$TEST_TMP/ref.err" ||
	{ tail -5 "$TEST_TMP/ref.err"; fail "the reference's up failed"; }
rcid=$(tail -1 "$TEST_TMP/ref.json" | jq -r .containerId)
check_eq "as the reference's up: what the Feature wrote" \
	"$(docker exec "$cid" cat /etc/hello-oci)" "$(docker exec "$rcid" cat /etc/hello-oci)"

# Pinned by devcontainer-lock.json: no request at all (the cache has it).
TMPDIR=$TEST_TMP "$REF" upgrade --workspace-folder "$TEST_TMP/ws-ref" >/dev/null 2>&1 ||
	fail "the reference's upgrade (writing the lockfile) failed"
lock=$TEST_TMP/ws-ref/.devcontainer/devcontainer-lock.json
[ -s "$lock" ] || fail "the reference wrote no $lock"
cp "$lock" "$TEST_TMP/ws/.devcontainer/"
docker rm -f "$cid" >/dev/null
before=$(requests)
check "the registry's log counts this run's requests (the first up asked it)" test "$before" -gt 0
rdev up "$TEST_TMP/ws" >/dev/null 2>"$TEST_TMP/up2.err" || { tail -5 "$TEST_TMP/up2.err"; fail "up with a lockfile failed"; }
check_eq "a pinned, cached Feature costs no registry request" "$(requests)" "$before"

# A lockfile whose digest is not the Feature's: refused, nothing made.
workspace "$TEST_TMP/ws-badlock" "$feature"
jq --arg id "$feature" '.features[$id].integrity = "sha256:" + ("0" * 64) |
	.features[$id].resolved |= sub("@sha256:.*"; "@sha256:" + ("0" * 64))' "$lock" \
	>"$TEST_TMP/ws-badlock/.devcontainer/devcontainer-lock.json"
set +e
rdev up "$TEST_TMP/ws-badlock" >/dev/null 2>"$TEST_TMP/badlock.err"; rc=$?
workspace "$TEST_TMP/ws-notag" "$reg/$ns/hello:9"
rdev up "$TEST_TMP/ws-notag" >/dev/null 2>"$TEST_TMP/notag.err"; rc2=$?
set -e
check_eq "a lockfile digest the registry does not have: up fails" "$rc" 1
check "and names the Feature" grep -qF "Feature '$feature'" "$TEST_TMP/badlock.err"
check_eq "a tag the registry does not have: up fails" "$rc2" 1
check "and names the Feature and the tag" grep -qF "Feature '$reg/$ns/hello:9'" "$TEST_TMP/notag.err"
check_eq "no container for either" \
	"$(docker ps -aq --filter "label=devcontainer.local_folder=$TEST_TMP/ws-badlock" --filter "label=devcontainer.local_folder=$TEST_TMP/ws-notag" | wc -l)" 0

# --- remote (the bundle's agent, its own libcurl) --------------------------------
on_host "mkdir -p ws-remote/.devcontainer"
on_host "cat > ws-remote/.devcontainer/devcontainer.json" <"$TEST_TMP/ws/.devcontainer/devcontainer.json"
rdev up "$name:ws-remote" --accept-new-host-key >"$TEST_TMP/rup.json" 2>"$TEST_TMP/rup.err" ||
	{ tail -5 "$TEST_TMP/rup.err"; fail "remote up with an OCI Feature failed"; }
check_eq "remote: the Feature's install.sh ran with its option" \
	"$(rdev exec "$name:ws-remote" -- cat /etc/hello-oci)" from-oci
finish
