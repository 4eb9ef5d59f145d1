#!/usr/bin/env bash
# features-oci.sh - Dev Container Features from an OCI registry (the rig's,
# tests/rig/oci-registry.py on localhost, the Feature published there with the
# reference CLI's `features publish`): `rdev up` installs one with its option
# on a local target and on a remote one (the agent bundle's libcurl, loaded
# when a Feature is downloaded); the reference's up agrees on what the
# Feature wrote; a second up of a pinned Feature (devcontainer-lock.json)
# costs no registry request; a lockfile whose digest does not match and a
# tag the registry does not have fail naming the Feature, with no container.
# devcontainer-lock.json: up writes the reference's (byte for byte, on the
# host of a remote target too); after a newer version is published up keeps
# the pinned one and `rdev upgrade` (--dry-run, --feature/--target-version)
# moves it as the reference's upgrade does; --frozen-lockfile fails on a
# missing or stale lockfile building nothing; --no-lockfile neither reads
# nor writes it. OCI Features are ordered as the reference orders them
# (installsAfter, overrideFeatureInstallOrder by id without tag, legacyIds);
# an entry the registry does not have is ignored or fails as there;
# devcontainers-contrib is fetched from devcontainers-extra; an entry whose
# registry cannot be reached is ignored when it names no Feature of the set
# (taken for the Feature whose registry/path it is), and one that is a
# Feature of the set at its tag is not fetched.
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
lock=$TEST_TMP/ws/.devcontainer/devcontainer-lock.json
check "up wrote devcontainer-lock.json" test -s "$lock"
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

check "the lockfile is the one the reference's up wrote, byte for byte" \
	cmp "$lock" "$TEST_TMP/ws-ref/.devcontainer/devcontainer-lock.json"
cp "$lock" "$TEST_TMP/lock-1.0.0"

# Pinned by devcontainer-lock.json: no request at all (the cache has it).
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

# --- devcontainer-lock.json ------------------------------------------------------
# --frozen-lockfile: a missing lockfile, then one that lacks the Feature
# (hello:1.0 here), fail naming it and the Feature; nothing built, nothing
# written.
workspace "$TEST_TMP/ws-frozen" "$reg/$ns/hello:1.0"
frozen_lock=$TEST_TMP/ws-frozen/.devcontainer/devcontainer-lock.json
set +e
rdev build "$TEST_TMP/ws-frozen" --frozen-lockfile >/dev/null 2>"$TEST_TMP/frozen1.err"; rc=$?
cp "$lock" "$frozen_lock"
rdev up "$TEST_TMP/ws-frozen" --frozen-lockfile >/dev/null 2>"$TEST_TMP/frozen2.err"; rc2=$?
set -e
check_eq "--frozen-lockfile without a lockfile: build fails" "$rc" 1
check "and names the lockfile" grep -qF "$frozen_lock does not exist" "$TEST_TMP/frozen1.err"
check_eq "--frozen-lockfile with a stale lockfile: up fails" "$rc2" 1
check "and names the lockfile and the Feature" grep -qF \
	"$frozen_lock does not match the configuration's Features (--frozen-lockfile): Feature '$reg/$ns/hello:1.0' is not in it" \
	"$TEST_TMP/frozen2.err"
check "the stale lockfile is left as it was" cmp "$frozen_lock" "$lock"
check_eq "no container" \
	"$(docker ps -aq --filter "label=devcontainer.local_folder=$TEST_TMP/ws-frozen" | wc -l)" 0

# A newer version, 1.1.0 (tags 1.1.0, 1.1, 1, latest), which also writes
# /etc/hello-version.
sed -i 's/"1.0.0"/"1.1.0"/' "$TEST_TMP/src/hello/devcontainer-feature.json"
echo 'echo 1.1.0 > /etc/hello-version' >>"$TEST_TMP/src/hello/install.sh"
bash "$RIG" registry-publish "$ns" "$TEST_TMP/src" || fail "publishing 1.1.0 failed"
version() { rdev exec "$1" -- sh -c 'cat /etc/hello-version 2>/dev/null || echo none'; }

# up (a new container) keeps the pinned 1.0.0 and its lockfile.
rdev up "$TEST_TMP/ws" --recreate --frozen-lockfile >/dev/null 2>"$TEST_TMP/up3.err" ||
	{ tail -5 "$TEST_TMP/up3.err"; fail "up --recreate --frozen-lockfile failed"; }
check_eq "after 1.1.0 is published, up installs the pinned 1.0.0" "$(version "$TEST_TMP/ws")" none
check "and leaves the lockfile as it was" cmp "$lock" "$TEST_TMP/lock-1.0.0"

# --no-lockfile: the pins are not read (1.1.0 is installed) and nothing is
# written (the 1.0.0 lockfile stays).
workspace "$TEST_TMP/ws-nolock" "$feature"
cp "$TEST_TMP/lock-1.0.0" "$TEST_TMP/ws-nolock/.devcontainer/devcontainer-lock.json"
rdev up "$TEST_TMP/ws-nolock" --no-lockfile >/dev/null 2>"$TEST_TMP/nolock.err" ||
	{ tail -5 "$TEST_TMP/nolock.err"; fail "up --no-lockfile failed"; }
check_eq "--no-lockfile: the tag's newest version, not the pinned one" "$(version "$TEST_TMP/ws-nolock")" 1.1.0
check "--no-lockfile: the lockfile is not written" \
	cmp "$TEST_TMP/ws-nolock/.devcontainer/devcontainer-lock.json" "$TEST_TMP/lock-1.0.0"

# upgrade: the reference's on its copy of the workspace, then rdev's.
TMPDIR=$TEST_TMP "$REF" upgrade --workspace-folder "$TEST_TMP/ws-ref" --dry-run \
	>"$TEST_TMP/ref.dry" 2>"$TEST_TMP/ref-upgrade.err" ||
	{ tail -5 "$TEST_TMP/ref-upgrade.err"; fail "the reference's upgrade --dry-run failed"; }
rdev upgrade "$TEST_TMP/ws" --dry-run >"$TEST_TMP/rdev.dry" 2>"$TEST_TMP/upgrade.err" ||
	{ tail -5 "$TEST_TMP/upgrade.err"; fail "upgrade --dry-run failed"; }
check "upgrade --dry-run prints what the reference's does, byte for byte" cmp "$TEST_TMP/rdev.dry" "$TEST_TMP/ref.dry"
check_eq "which pins 1.1.0" "$(jq -r --arg id "$feature" '.features[$id].version' "$TEST_TMP/rdev.dry")" 1.1.0
check "and writes nothing" cmp "$lock" "$TEST_TMP/lock-1.0.0"
rdev upgrade "$TEST_TMP/ws" >/dev/null 2>"$TEST_TMP/upgrade.err" || { tail -5 "$TEST_TMP/upgrade.err"; fail "upgrade failed"; }
check "upgrade writes that lockfile" cmp "$lock" "$TEST_TMP/ref.dry"
rdev up "$TEST_TMP/ws" --recreate --frozen-lockfile >/dev/null 2>"$TEST_TMP/up4.err" ||
	{ tail -5 "$TEST_TMP/up4.err"; fail "up --frozen-lockfile after upgrade failed"; }
check_eq "the next up installs 1.1.0" "$(version "$TEST_TMP/ws")" 1.1.0

# upgrade --feature ID --target-version V: devcontainer.json and the
# lockfile as the reference's leave them.
for d in ws-tv ws-tv-ref; do workspace "$TEST_TMP/$d" "$feature"; done
TMPDIR=$TEST_TMP "$REF" upgrade --workspace-folder "$TEST_TMP/ws-tv-ref" --feature "$reg/$ns/hello" \
	--target-version 1.0 >/dev/null 2>"$TEST_TMP/ref-tv.err" ||
	{ tail -5 "$TEST_TMP/ref-tv.err"; fail "the reference's upgrade --feature failed"; }
rdev upgrade "$TEST_TMP/ws-tv" --feature "$reg/$ns/hello" --target-version 1.0 >/dev/null 2>"$TEST_TMP/tv.err" ||
	{ tail -5 "$TEST_TMP/tv.err"; fail "upgrade --feature --target-version failed"; }
for f in devcontainer.json devcontainer-lock.json; do
	check "upgrade --feature --target-version: $f as the reference's" \
		cmp "$TEST_TMP/ws-tv/.devcontainer/$f" "$TEST_TMP/ws-tv-ref/.devcontainer/$f"
done
check "which names hello:1.0" grep -qF "\"$reg/$ns/hello:1.0\"" "$TEST_TMP/ws-tv/.devcontainer/devcontainer.json"

# devcontainers-contrib: fetched from devcontainers-extra, as the reference
# redirects it (getRef), its lockfile's "resolved" naming the latter.
bash "$RIG" registry-publish "devcontainers-extra/$ns" "$TEST_TMP/src" || fail "publishing to devcontainers-extra failed"
for d in ws-contrib ws-contrib-ref; do workspace "$TEST_TMP/$d" "$reg/devcontainers-contrib/$ns/hello:1"; done
TMPDIR=$TEST_TMP "$REF" upgrade --workspace-folder "$TEST_TMP/ws-contrib-ref" --dry-run \
	>"$TEST_TMP/ref-contrib.dry" 2>"$TEST_TMP/ref-contrib.err" ||
	{ tail -5 "$TEST_TMP/ref-contrib.err"; fail "the reference's upgrade --dry-run (contrib) failed"; }
rdev upgrade "$TEST_TMP/ws-contrib" --dry-run >"$TEST_TMP/contrib.dry" 2>"$TEST_TMP/contrib.err" ||
	{ tail -5 "$TEST_TMP/contrib.err"; fail "upgrade --dry-run of a devcontainers-contrib Feature failed"; }
check "devcontainers-contrib: the lockfile the reference's upgrade --dry-run prints" \
	cmp "$TEST_TMP/contrib.dry" "$TEST_TMP/ref-contrib.dry"
check "which resolves it in devcontainers-extra" \
	grep -qF "\"resolved\": \"$reg/devcontainers-extra/$ns/hello@sha256:" "$TEST_TMP/contrib.dry"

# --- install order of OCI Features ------------------------------------------------
# As the reference orders them (verified against its up): installsAfter and
# overrideFeatureInstallOrder name another OCI Feature without its tag (the
# reference's featureRef.resource), and a round is sorted by
# registry/namespace and id, not by digest: zzz (the override) first, then
# bbb and ccc, then aaa (installsAfter bbb). legacyIds: "renamed" (also
# published as "legacy", its legacyIds) is installed as "$ns/legacy";
# "waiter" installsAfter "$ns/renamed", which the reference fetches and
# matches by its ids, legacy too: waiter waits for it; and installsAfter
# "$ns/nothere", which the registry does not have: as the reference,
# nothing to wait for (it takes an owner/repo/id it cannot fetch for a
# GitHub release Feature).
mkdir -p "$TEST_TMP/src-order"
for f in aaa bbb ccc zzz renamed waiter; do
	mkdir -p "$TEST_TMP/src-order/$f"
	after='[]' more=
	[ "$f" = aaa ] && after="[\"$reg/$ns/bbb\"]"
	[ "$f" = waiter ] && after="[\"$reg/$ns/renamed\", \"$reg/$ns/nothere\"]"
	[ "$f" = renamed ] && more=', "legacyIds": ["legacy"]'
	printf '{ "id": "%s", "name": "%s", "version": "1.0.0", "installsAfter": %s%s }\n' "$f" "$f" "$after" "$more" \
		>"$TEST_TMP/src-order/$f/devcontainer-feature.json"
	printf '#!/bin/sh\nset -e\necho %s >> /etc/oci-order\n' "$f" >"$TEST_TMP/src-order/$f/install.sh"
	chmod +x "$TEST_TMP/src-order/$f/install.sh"
done
bash "$RIG" registry-publish "$ns" "$TEST_TMP/src-order" || fail "publishing the order Features failed"
mkdir -p "$TEST_TMP/ws-order/.devcontainer"
cat >"$TEST_TMP/ws-order/.devcontainer/devcontainer.json" <<JSON
{ "image": "$RDEV_RIG_IMAGE_BOOKWORM_DEV", "remoteUser": "root",
  "features": { "$reg/$ns/aaa:1": {}, "$reg/$ns/ccc:1": {}, "$reg/$ns/zzz:1": {},
                "$reg/$ns/bbb:1": {}, "$reg/$ns/waiter:1": {}, "$reg/$ns/legacy:1": {} },
  "overrideFeatureInstallOrder": [ "$reg/$ns/zzz" ] }
JSON
rdev up "$TEST_TMP/ws-order" >/dev/null 2>"$TEST_TMP/up-order.err" ||
	{ tail -5 "$TEST_TMP/up-order.err"; fail "up with the order Features failed"; }
check_eq "OCI Features: overrideFeatureInstallOrder, installsAfter (by legacyIds too), then by id" \
	"$(rdev exec "$TEST_TMP/ws-order" -- cat /etc/oci-order | tr '\n' ' ')" "zzz bbb ccc renamed aaa waiter "
check "an installsAfter the registry does not have, owner/repo/id: said" \
	sh -c "grep -F \"Feature '$reg/$ns/nothere': \" '$TEST_TMP/up-order.err' | grep -qF 'nothing to wait for'"
# One the reference cannot take for a GitHub release Feature (four parts)
# fails, as the reference's "could not be processed", before anything is
# built.
mkdir -p "$TEST_TMP/ws-override-gone/.devcontainer"
cat >"$TEST_TMP/ws-override-gone/.devcontainer/devcontainer.json" <<JSON
{ "image": "$RDEV_RIG_IMAGE_BOOKWORM_DEV",
  "features": { "$reg/$ns/zzz:1": {} },
  "overrideFeatureInstallOrder": [ "$reg/$ns/zzz", "$reg/$ns/features/nothere" ] }
JSON
set +e
rdev up "$TEST_TMP/ws-override-gone" >/dev/null 2>"$TEST_TMP/override-gone.err"; rc=$?
set -e
check_eq "an overrideFeatureInstallOrder entry the registry does not have: up fails" "$rc" 1
prefix="  \"overrideFeatureInstallOrder\": [ \"$reg/$ns/zzz\", "
check "naming the file, line, column and entry" grep -qF \
	"$TEST_TMP/ws-override-gone/.devcontainer/devcontainer.json:3:$((${#prefix} + 1)): \"overrideFeatureInstallOrder\" \"$reg/$ns/features/nothere\" cannot be honoured: Feature '$reg/$ns/features/nothere'" \
	"$TEST_TMP/override-gone.err"

# --- a registry that cannot be reached (offline, flaky) ----------------------------
# Unlike the reference (it fails), an installsAfter entry whose registry
# cannot be reached (127.0.0.1:1: connection refused) and that names no
# Feature of the configuration is ignored, said with the reason: official
# Features name ghcr.io ones there, which would make every up need the
# network. Here the Features are pinned by the lockfile and cached, under a
# registry that cannot be reached: the up makes no request. An entry that
# is a Feature's registry/path at another tag is that Feature's, said (one
# untagged, latest, is not even tried when that Feature is the only one of
# its namespace: its metadata could match nothing else); one that names a Feature only by a legacyId keeps the
# reference's error (whether it matches is the entry's metadata's to say).
off=127.0.0.1:1/$ns
offline_ws() { # DIR INSTALLS-AFTER-JSON FEATURE-ID LOCK-FILE LOCK-ID
	mkdir -p "$1/.devcontainer/waiter"
	printf '{ "id": "waiter", "version": "1.0.0", "installsAfter": %s }\n' "$2" \
		>"$1/.devcontainer/waiter/devcontainer-feature.json"
	printf '#!/bin/sh\nset -e\ntest -s /etc/hello-oci\necho waited > /etc/oci-wait\n' \
		>"$1/.devcontainer/waiter/install.sh"
	chmod +x "$1/.devcontainer/waiter/install.sh"
	cat >"$1/.devcontainer/devcontainer.json" <<JSON
{ "image": "$RDEV_RIG_IMAGE_BOOKWORM_DEV", "remoteUser": "root",
  "features": { "./waiter": {}, "$3": {} } }
JSON
	jq --arg id "$5" --arg off "$3" '.features = { ($off): .features[$id] }' "$4" \
		>"$1/.devcontainer/devcontainer-lock.json"
}
offline_ws "$TEST_TMP/ws-offline" "[\"$off/features/x\", \"$off/hello:2\", \"$off/hello\"]" \
	"$off/hello:1" "$TEST_TMP/lock-1.0.0" "$feature"
sed -i "s|\"$off/hello:1\": {}|\"$off/hello:1\": { \"greeting\": \"offline\" }|" "$TEST_TMP/ws-offline/.devcontainer/devcontainer.json"
rdev up "$TEST_TMP/ws-offline" >/dev/null 2>"$TEST_TMP/offline.err" ||
	{ tail -5 "$TEST_TMP/offline.err"; fail "up with an unreachable installsAfter entry failed"; }
check "an unreachable entry that names no Feature: ignored, said with the reason" \
	sh -c "grep -F \"Feature '$off/features/x'\" '$TEST_TMP/offline.err' | grep -F '127.0.0.1' | grep -qF 'names no Feature of this configuration'"
check "an unreachable entry naming a Feature's registry/path: taken for it, said" \
	sh -c "grep -F \"Feature '$off/hello:2'\" '$TEST_TMP/offline.err' | grep -qF \"taken for Feature '$off/hello:1'\""
check "an untagged one, that Feature the only one of its namespace: not tried, not said" \
	sh -c "! grep -qF \"Feature '$off/hello'\" '$TEST_TMP/offline.err'"
check_eq "and it orders that Feature first" \
	"$(rdev exec "$TEST_TMP/ws-offline" -- cat /etc/hello-oci /etc/oci-wait | tr '\n' ' ')" "offline waited "
# "$off/features/legacy:1" is the Feature "renamed" (legacyIds: legacy),
# published there too, fetched once and pinned; "$off/features/renamed"
# names it by its id only (four parts: no GitHub release fallback).
mkdir -p "$TEST_TMP/src-renamed"
cp -r "$TEST_TMP/src-order/renamed" "$TEST_TMP/src-renamed/"
bash "$RIG" registry-publish "$ns/features" "$TEST_TMP/src-renamed" || fail "publishing renamed failed"
mkdir -p "$TEST_TMP/ws-legacy-seed/.devcontainer"
echo '{ "image": "'"$RDEV_RIG_IMAGE_BOOKWORM_DEV"'", "features": { "'"$reg/$ns/features/legacy:1"'": {} } }' \
	>"$TEST_TMP/ws-legacy-seed/.devcontainer/devcontainer.json"
rdev upgrade "$TEST_TMP/ws-legacy-seed" --dry-run >"$TEST_TMP/legacy-seed.lock" 2>"$TEST_TMP/legacy-seed.err" ||
	{ tail -5 "$TEST_TMP/legacy-seed.err"; fail "upgrade --dry-run of the legacy seed failed"; }
offline_ws "$TEST_TMP/ws-offline-legacy" "[\"$off/features/renamed\"]" \
	"$off/features/legacy:1" "$TEST_TMP/legacy-seed.lock" "$reg/$ns/features/legacy:1"
set +e
rdev up "$TEST_TMP/ws-offline-legacy" >/dev/null 2>"$TEST_TMP/offline-legacy.err"; rc=$?
set -e
check_eq "an unreachable entry naming a Feature by an id of its metadata only: up fails" "$rc" 1
check "as the reference's error, naming the entry" grep -qF \
	"\"installsAfter\" \"$off/features/renamed\" cannot be honoured: Feature '$off/features/renamed'" \
	"$TEST_TMP/offline-legacy.err"
# An entry that is a Feature of the set at its tag is not fetched again
# (the reference fetches it): one manifest answered for both (each fetch
# is a 401 then a 200: the rig registry wants a token).
mkdir -p "$TEST_TMP/ws-same/.devcontainer/waiter"
printf '{ "id": "waiter", "version": "1.0.0", "installsAfter": ["%s"] }\n' "$reg/$ns/bbb:1" \
	>"$TEST_TMP/ws-same/.devcontainer/waiter/devcontainer-feature.json"
printf '#!/bin/sh\ntrue\n' >"$TEST_TMP/ws-same/.devcontainer/waiter/install.sh"
cat >"$TEST_TMP/ws-same/.devcontainer/devcontainer.json" <<JSON
{ "image": "$RDEV_RIG_IMAGE_BOOKWORM_DEV", "features": { "./waiter": {}, "$reg/$ns/bbb:1": {} } }
JSON
before=$(grep -c "GET /v2/$ns/bbb/manifests/.* 200$" "$regdir/requests.log" || true)
rdev read-configuration --workspace-folder "$TEST_TMP/ws-same" --include-merged-configuration \
	>"$TEST_TMP/same.out" 2>&1 || { tail -5 "$TEST_TMP/same.out"; fail "read-configuration of ws-same failed"; }
check "its Features' metadata is had" sh -c "! grep -q 'cannot be honoured' '$TEST_TMP/same.out'"
check_eq "an entry that is a Feature of the set at its tag: not fetched again" \
	"$(grep -c "GET /v2/$ns/bbb/manifests/.* 200$" "$regdir/requests.log")" "$((before + 1))"
# Its featuresConfiguration (a local Feature after an OCI one) is the
# reference's, but for its own copies of the Features (cachePath, dstFolder:
# docs/CONFORMANCE.md, D2).
TMPDIR=$TEST_TMP "$REF" read-configuration --workspace-folder "$TEST_TMP/ws-same" \
	--include-merged-configuration >"$TEST_TMP/same.ref" 2>"$TEST_TMP/same.ref.err" ||
	{ tail -5 "$TEST_TMP/same.ref.err"; fail "the reference's read-configuration of ws-same failed"; }
rdev read-configuration --workspace-folder "$TEST_TMP/ws-same" --include-merged-configuration \
	>"$TEST_TMP/same.json" 2>/dev/null || fail "read-configuration of ws-same failed"
fconf() { jq -S '.featuresConfiguration | del(.dstFolder) |
	.featureSets[].features[] |= del(.cachePath)' "$1"; }
check_eq "read-configuration --include-merged-configuration: featuresConfiguration, in install order" \
	"$(fconf "$TEST_TMP/same.json" | jq -c '.featureSets | map(.sourceInformation.type)')" '["oci","file-path"]'
check_eq "... the reference's, field by field" "$(fconf "$TEST_TMP/same.json")" "$(fconf "$TEST_TMP/same.ref")"
# An untagged (latest) entry at the registry/path of the set's only Feature
# of its namespace is not fetched (its metadata's ids could match no other
# Feature), and an entry two Features name is fetched once per run.
mkdir -p "$TEST_TMP/ws-latest/.devcontainer/wa" "$TEST_TMP/ws-latest/.devcontainer/wb"
for w in wa wb; do
	printf '{ "id": "%s", "version": "1.0.0", "installsAfter": ["%s", "%s"] }\n' "$w" \
		"$reg/$ns/bbb" "$reg/$ns/ccc" >"$TEST_TMP/ws-latest/.devcontainer/$w/devcontainer-feature.json"
	printf '#!/bin/sh\ntrue\n' >"$TEST_TMP/ws-latest/.devcontainer/$w/install.sh"
done
cat >"$TEST_TMP/ws-latest/.devcontainer/devcontainer.json" <<JSON
{ "image": "$RDEV_RIG_IMAGE_BOOKWORM_DEV", "features": { "./wa": {}, "./wb": {}, "$reg/$ns/bbb:1": {} } }
JSON
before_bbb=$(grep -c "GET /v2/$ns/bbb/manifests/latest 200$" "$regdir/requests.log" || true)
before_ccc=$(grep -c "GET /v2/$ns/ccc/manifests/latest 200$" "$regdir/requests.log" || true)
rdev read-configuration --workspace-folder "$TEST_TMP/ws-latest" --include-merged-configuration \
	>"$TEST_TMP/latest.out" 2>&1 || { tail -5 "$TEST_TMP/latest.out"; fail "read-configuration of ws-latest failed"; }
check_eq "an untagged entry at the registry/path of the only Feature of its namespace: not fetched" \
	"$(grep -c "GET /v2/$ns/bbb/manifests/latest 200$" "$regdir/requests.log" || true)" "$before_bbb"
check_eq "an entry two Features name: fetched once" \
	"$(grep -c "GET /v2/$ns/ccc/manifests/latest 200$" "$regdir/requests.log" || true)" "$((before_ccc + 1))"

# --- remote (the bundle's agent, its own libcurl) --------------------------------
on_host "mkdir -p ws-remote/.devcontainer"
on_host "cat > ws-remote/.devcontainer/devcontainer.json" <"$TEST_TMP/ws/.devcontainer/devcontainer.json"
rdev up "$name:ws-remote" --accept-new-host-key >"$TEST_TMP/rup.json" 2>"$TEST_TMP/rup.err" ||
	{ tail -5 "$TEST_TMP/rup.err"; fail "remote up with an OCI Feature failed"; }
check_eq "remote: the Feature's install.sh ran with its option" \
	"$(rdev exec "$name:ws-remote" -- cat /etc/hello-oci)" from-oci
on_host cat ws-remote/.devcontainer/devcontainer-lock.json >"$TEST_TMP/remote.lock"
check "remote: up wrote the lockfile in the host's workspace, as the reference's" \
	cmp "$TEST_TMP/remote.lock" "$TEST_TMP/ref.dry"
on_host "rm ws-remote/.devcontainer/devcontainer-lock.json"
rdev upgrade "$name:ws-remote" >/dev/null 2>"$TEST_TMP/rupgrade.err" ||
	{ tail -5 "$TEST_TMP/rupgrade.err"; fail "remote upgrade failed"; }
on_host cat ws-remote/.devcontainer/devcontainer-lock.json >"$TEST_TMP/remote.lock"
check "remote: upgrade writes it there" cmp "$TEST_TMP/remote.lock" "$TEST_TMP/ref.dry"
finish
