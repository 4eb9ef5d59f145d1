#!/usr/bin/env bash
# sync-lockfile.sh - `rdev up HOST: ./app` (a local folder, uploaded) with a
# Feature: the devcontainer-lock.json the agent writes beside the host's copy
# of devcontainer.json comes back into ./app, with the same bytes, and up
# says "Wrote ./app/.devcontainer/devcontainer-lock.json" (not the host's
# path); an up that finds it already so writes nothing (mtime kept, no
# line); `rdev build HOST: ./app` uploads first and keeps a local edit of
# the lockfile; a symlinked local lockfile is refused with a warning naming
# it, what it points at left alone; `rdev upgrade HOST: ./app` writes it
# back too, and with --feature edits the local devcontainer.json first
# (not with --dry-run).
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
rig_remote_host sl
folder=
sync_lockfile_cleanup() {
	local rc=$? repo
	set +e
	if [ -n "$folder" ]; then
		repo=rdev-$(basename "$folder" | tr 'A-Z' 'a-z')-
		docker ps -aq --filter "label=devcontainer.local_folder=$folder" |
			xargs -r docker rm -f >/dev/null
		docker images --format '{{.Repository}}:{{.Tag}}' | grep "^$repo" |
			xargs -r docker rmi -f --no-prune >/dev/null 2>&1
	fi
	(exit $rc)
	rig_remote_cleanup
}
trap sync_lockfile_cleanup EXIT

app=$TEST_TMP/app
d=$app/.devcontainer
mkdir -p "$d/hello"
cat >"$d/devcontainer.json" <<JSON
{ "image": "$RDEV_RIG_IMAGE_BOOKWORM_DEV", "updateRemoteUserUID": false,
  "features": { "./hello": {} } }
JSON
printf '{ "id": "hello", "version": "1.0.0" }\n' >"$d/hello/devcontainer-feature.json"
printf '#!/bin/sh\necho hello >/hello\n' >"$d/hello/install.sh"
lock=$d/devcontainer-lock.json
mtime() { stat -c %Y.%y "$1"; }

cd "$TEST_TMP"
# (without --json, which prints warnings only, as the agent's own lines;
# the host's folder taken first, so that the cleanup finds the container
# whatever fails next)
rc=0
rdev up "$name:" ./app >"$TEST_TMP/up.out" 2>"$TEST_TMP/up1.err" || rc=$?
ws=$(jq -r '.remoteWorkspaceFolder // empty' "$TEST_TMP/up.out" 2>/dev/null || true)
[ -z "$ws" ] || folder=$home/rdev/workspaces/${ws#/workspaces/}
[ "$rc" = 0 ] || { cat "$TEST_TMP/up1.err" >&2; fail "rdev up $name: ./app"; }
[ -n "$folder" ] || fail "rdev up $name: ./app: no remoteWorkspaceFolder on stdout"
check "up: the lockfile is in the local folder" test -f "$lock"
check_eq "... with the host's bytes" \
	"$(on_host cat "$folder/.devcontainer/devcontainer-lock.json" | sha256sum)" "$(sha256sum <"$lock")"
check_eq "... local Features only: no entries" "$(jq -c . "$lock")" '{"features":{}}'
check "... and up says where, as the folder was typed" \
	grep -qx "Wrote ./app/.devcontainer/devcontainer-lock.json" "$TEST_TMP/up1.err"
check "... and not the host's path" sh -c "! grep -q 'Wrote /' '$TEST_TMP/up1.err'"
check "... nor does the answer on stdout carry it" sh -c \
	"! grep -q workspaceLockfile '$TEST_TMP/up.out'"
cp "$lock" "$TEST_TMP/lock.good"

# Again, the container recreated (the lockfile step runs again): the file
# is already so, nothing is written (mtime in ns: no sleep needed).
before=$(mtime "$lock")
rdev up "$name:" ./app --recreate >/dev/null 2>"$TEST_TMP/up.err" ||
	{ cat "$TEST_TMP/up.err" >&2; fail "rdev up --recreate"; }
check_eq "a second up leaves the local lockfile alone" "$(mtime "$lock")" "$before"
check "... and says nothing of it" sh -c "! grep -q '^Wrote' '$TEST_TMP/up.err'"

# The local lockfile edited after the up (the same JSON, spaced as its
# author likes): build uploads first, so the host builds from it and keeps
# its bytes, and the local file is not replaced by the host's older copy.
printf '{"features":{}}\n' >"$lock"
rdev build "$name:" ./app >/dev/null 2>"$TEST_TMP/build.err" ||
	{ cat "$TEST_TMP/build.err" >&2; fail "rdev build $name: ./app"; }
check_eq "build HOST: ./app keeps a local edit of the lockfile" \
	"$(cat "$lock")" '{"features":{}}'
check_eq "... which its upload carried to the host" \
	"$(on_host cat "$folder/.devcontainer/devcontainer-lock.json")" '{"features":{}}'
check "... and says it wrote nothing" sh -c "! grep -q '^Wrote' '$TEST_TMP/build.err'"

# A symlinked local lockfile: not followed (a link to a file of the folder,
# which the host's copy can read; it holds another lockfile, so there is
# something to write).
echo '{"features":{"stale":{}}}' >"$app/other.json"
rm "$lock"
ln -s ../other.json "$lock"
rig_sync_up ./app --recreate
check "a symlinked local lockfile is refused with a warning naming it" \
	grep -q "warning: .*\./app/.devcontainer/devcontainer-lock.json is a symlink" "$TEST_TMP/up.err"
check_eq "... what it points at is left alone" "$(cat "$app/other.json")" '{"features":{"stale":{}}}'
check "... and it is still the link" test -L "$lock"
rm "$lock"

# A build that fails after the host's lockfile was written (a stale one
# uploaded; the Feature's install.sh failing: a name docker cannot tag is
# refused before anything is built now): no answer carries the lockfile,
# so the host's line is shown, and the local file stays as it was.
echo '{"features":{"stale":{}}}' >"$lock"
cp "$d/hello/install.sh" "$TEST_TMP/install.sh.good"
printf '#!/bin/sh\nexit 3\n' >"$d/hello/install.sh"
rc=0
rdev build "$name:" ./app >/dev/null 2>"$TEST_TMP/build.err" || rc=$?
cp "$TEST_TMP/install.sh.good" "$d/hello/install.sh"
check "a build that fails after the lockfile step fails" test "$rc" != 0
check "... and says where the host's lockfile was written" \
	grep -q "^Wrote /.*/\.devcontainer/devcontainer-lock.json" "$TEST_TMP/build.err"
check_eq "... and leaves the local one alone" "$(cat "$lock")" '{"features":{"stale":{}}}'
rm "$lock"

# upgrade uploads and writes it back too.
rdev upgrade "$name:" ./app >/dev/null 2>"$TEST_TMP/upgrade.err" ||
	{ cat "$TEST_TMP/upgrade.err" >&2; fail "rdev upgrade $name: ./app"; }
check "upgrade HOST: ./app writes the local lockfile" cmp -s "$lock" "$TEST_TMP/lock.good"
check "... and says so" \
	grep -qx "Wrote ./app/.devcontainer/devcontainer-lock.json" "$TEST_TMP/upgrade.err"
# upgrade --feature edits the local devcontainer.json (the host's copy is
# replaced by the next upload), as the agent edits a host's: the same text
# edit, comments kept, atomically, mode kept; then uploads it and writes the
# lockfile back. --dry-run edits nothing here. (Local Features in folders
# named "hello:0" and "hello:1": the edit of one id into the other leaves
# a Feature that the upgrade resolves, with no registry.)
cp -r "$d/hello" "$d/hello:0"
cp -r "$d/hello" "$d/hello:1"
cat >"$d/devcontainer.json" <<JSON
{ "image": "$RDEV_RIG_IMAGE_BOOKWORM_DEV", "updateRemoteUserUID": false,
  // ./hello:0 for now
  "features": { "./hello:0": {} } }
JSON
chmod 0640 "$d/devcontainer.json"
cp "$d/devcontainer.json" "$TEST_TMP/dc.before"
sed 's#\./hello:0#./hello:1#g' "$TEST_TMP/dc.before" >"$TEST_TMP/dc.want"
rdev upgrade "$name:" ./app --feature ./hello --target-version 1 --dry-run \
	>"$TEST_TMP/tv-dry.out" 2>"$TEST_TMP/tv-dry.err" ||
	{ cat "$TEST_TMP/tv-dry.err" >&2; fail "rdev upgrade $name: ./app --feature --dry-run"; }
check "upgrade --feature --dry-run with a local folder: the local file unchanged" \
	cmp -s "$d/devcontainer.json" "$TEST_TMP/dc.before"
check_eq "... and the lockfile printed" "$(jq -c . "$TEST_TMP/tv-dry.out")" '{"features":{}}'
rm "$lock"
rdev upgrade "$name:" ./app --feature ./hello --target-version 1 >/dev/null \
	2>"$TEST_TMP/tv.err" ||
	{ cat "$TEST_TMP/tv.err" >&2; fail "rdev upgrade $name: ./app --feature"; }
check "upgrade --feature with a local folder: the local devcontainer.json edited, comment too" \
	cmp -s "$d/devcontainer.json" "$TEST_TMP/dc.want"
check_eq "... its mode kept" "$(stat -c %a "$d/devcontainer.json")" 640
check_eq "... the host's copy is the same" \
	"$(on_host cat "$folder/.devcontainer/devcontainer.json" | sha256sum)" \
	"$(sha256sum <"$TEST_TMP/dc.want")"
check_eq "... said once, naming the local file" \
	"$(grep -E "^Updating" "$TEST_TMP/tv.err")" \
	"Updating './hello' to '1' in devcontainer.json
Updating config file: './app/.devcontainer/devcontainer.json'"
check "... and the lockfile came back" \
	grep -qx "Wrote ./app/.devcontainer/devcontainer-lock.json" "$TEST_TMP/tv.err"
rc=0
rdev upgrade "$name:" ./app --feature ./hello --target-version 1.x >/dev/null \
	2>"$TEST_TMP/tv-bad.err" || rc=$?
check_eq "upgrade --feature with a bad version: fails" "$rc" 1
check "... with the reference's message" grep -qF "Invalid version '1.x'" "$TEST_TMP/tv-bad.err"
check "... and edits nothing" cmp -s "$d/devcontainer.json" "$TEST_TMP/dc.want"
# A usage error is one before anything is edited (the edit, made before
# the upload, came before upgrade's check of its arguments)
rc=0
rdev upgrade "$name:" ./app --feature ./hello --target-version 0 --no-such-option \
	>/dev/null 2>"$TEST_TMP/tv-usage.err" || rc=$?
check_eq "upgrade --feature with an unknown option: a usage error" "$rc" 2
check "... naming it" grep -q "unknown option --no-such-option" "$TEST_TMP/tv-usage.err"
check "... and edits nothing" cmp -s "$d/devcontainer.json" "$TEST_TMP/dc.want"
# A symlinked devcontainer.json is not replaced by a file of the edit (what
# it points at left alone too, as the lockfile's): refused, naming it
mv "$d/devcontainer.json" "$TEST_TMP/shared.json"
ln -s "$TEST_TMP/shared.json" "$d/devcontainer.json"
rc=0
rdev upgrade "$name:" ./app --feature ./hello --target-version 0 \
	>/dev/null 2>"$TEST_TMP/tv-link.err" || rc=$?
check_eq "upgrade --feature with a symlinked devcontainer.json: fails" "$rc" 1
check "... naming it" \
	grep -q "\./app/.devcontainer/devcontainer.json is a symlink" "$TEST_TMP/tv-link.err"
check "... the link kept" test -L "$d/devcontainer.json"
check "... and what it points at unchanged" cmp -s "$TEST_TMP/shared.json" "$TEST_TMP/dc.want"
rm "$d/devcontainer.json"
mv "$TEST_TMP/shared.json" "$d/devcontainer.json"
finish
