#!/usr/bin/env bash
# sync-upload.sh - `rdev sync HOST: ./app` and `rdev up HOST: ./app` against a
# real sshd host: the folder lands in the host's workspace root under its
# deterministic name, .rdevignore's paths stay home (a nested one's below
# its folder), a second sync sends only
# the changed file (counted by the agent), a deleted file is deleted there
# (a file made on the host is not), symlinks go as links (one pointing out of
# the tree is not followed), a manifest streamed (a limit lowered) works as
# an inline one, and up + exec with `HOST: ./app` reach the
# uploaded workspace (`HOST:./app`'s error, ./app here only, says how to
# upload it; an uploaded devcontainer.json's error names the local file; a
# folder moved here since its upload: `down` of its new path lists the old
# one's host workspace, the first upload's record too; the record goes with
# the host folder; a host folder deleted and made again by an upload: up
# restarts the running container, which mounted the deleted one); the agent's sync state of a workspace whose folder was
# removed on the host goes at the next sync's start.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
rig_remote_host su
trap 'rig_remote_cleanup' EXIT

app=$TEST_TMP/app
mkdir -p "$app/src/deep" "$app/node_modules/pkg" "$app/logs" "$TEST_TMP/outside"
echo "secret outside" >"$TEST_TMP/outside/secret.txt"
cat >"$app/.devcontainer.json" <<JSON
{ "image": "$RDEV_RIG_IMAGE_BOOKWORM_DEV", "updateRemoteUserUID": false }
JSON
printf 'node_modules/\n*.log\n!keep.log\n/build\n' >"$app/.rdevignore"
printf '*.tmp\n' >"$app/src/.rdevignore"
echo t >"$app/src/x.tmp"
echo t >"$app/y.tmp"
echo main >"$app/src/main.c"
echo deep >"$app/src/deep/x.txt"
echo dep >"$app/node_modules/pkg/index.js"
echo noisy >"$app/logs/a.log"
echo kept >"$app/logs/keep.log"
mkdir -p "$app/build" "$app/src/build"
echo out >"$app/build/out.o"
echo nested >"$app/src/build/n.txt"
printf '#!/bin/sh\necho hi\n' >"$app/run.sh"
chmod 755 "$app/run.sh"
ln -s src/main.c "$app/link-in"
ln -s "$TEST_TMP/outside" "$app/link-out"
ln -s ../../outside/secret.txt "$app/src/rel-out"

sync() { rdev sync "$name:" "$app" --json; }
# The first sync's manifest streamed after the request, as one beyond 16 MiB
# is (the limit lowered to 100 bytes); the later ones inline.
RDEV_SYNC_INLINE_MAX=100 sync >"$TEST_TMP/s1.json" 2>"$TEST_TMP/s1.err" ||
	{ cat "$TEST_TMP/s1.err" >&2; fail "first sync (streamed manifest)"; }
folder=$(jq -r .folder "$TEST_TMP/s1.json")
case $folder in
"$home"/rdev/workspaces/app-????????????) echo "ok   the host folder is ~/rdev/workspaces/app-HASH ($folder)" ;;
*) fail "unexpected host folder $folder" ;;
esac
check_eq "every file and link sent the first time (9 + 3)" "$(jq .sent "$TEST_TMP/s1.json")" 12
check_eq "a file arrives" "$(on_host cat "$folder/src/main.c")" main
check_eq "a deep file arrives" "$(on_host cat "$folder/src/deep/x.txt")" deep
check "an ignored folder stays home" on_host "! test -e '$folder/node_modules'"
check "an ignored pattern stays home" on_host "! test -e '$folder/logs/a.log'"
check "a nested .rdevignore leaves out below its folder" on_host "! test -e '$folder/src/x.tmp'"
check_eq "... only there" "$(on_host cat "$folder/y.tmp")" t
check_eq "a negated pattern is sent" "$(on_host cat "$folder/logs/keep.log")" kept
check "an anchored pattern leaves the top build/ home" on_host "! test -e '$folder/build'"
check_eq "... not src/build/" "$(on_host cat "$folder/src/build/n.txt")" nested
check "the exec bit travels" on_host "test -x '$folder/run.sh'"
check_eq "a link inside goes as a link" "$(on_host readlink "$folder/link-in")" src/main.c
check_eq "a link out of the tree goes as a link" "$(on_host readlink "$folder/link-out")" "$TEST_TMP/outside"
check_eq "a relative link out goes as a link" "$(on_host readlink "$folder/src/rel-out")" ../../outside/secret.txt
check "... and nothing it points at was copied" on_host "! find '$folder' -type f -exec grep -l 'secret outside' {} + | grep -q ."

# Second sync: nothing changed, nothing sent.
sync >"$TEST_TMP/s2.json"
check_eq "an unchanged folder sends nothing" "$(jq .sent "$TEST_TMP/s2.json")" 0
check_eq "the same folder again" "$(jq -r .folder "$TEST_TMP/s2.json")" "$folder"

# One changed file: only it is sent.
echo "main v2" >"$app/src/main.c"
sync >"$TEST_TMP/s3.json"
check_eq "one changed file: one entry sent" "$(jq .sent "$TEST_TMP/s3.json")" 1
check_eq "... its bytes only" "$(jq .sentBytes "$TEST_TMP/s3.json")" 8
check_eq "the change arrives" "$(on_host cat "$folder/src/main.c")" "main v2"

# Names no sync carries (a control character) stay home, and one warning
# names the first five (sorted, quoted as a live sync names them) and how
# many (it only counted them, in --json's "skipped"); a FIFO is counted,
# not named.
mkdir "$app/weird"
for i in 7 6 5 4 3 2 1; do
	touch "$app/weird/$(printf 'n%s\nx' "$i")"
done
mkfifo "$app/weird/fifo"
sync >"$TEST_TMP/s-bad.json" 2>"$TEST_TMP/s-bad.err" ||
	{ cat "$TEST_TMP/s-bad.err" >&2; fail "sync with bad names"; }
check_eq "bad names and a FIFO: counted as skipped" "$(jq .skipped "$TEST_TMP/s-bad.json")" 8
check_eq "... one warning" "$(grep -c 'skipped' "$TEST_TMP/s-bad.err")" 1
check "... naming the first five, quoted, and how many more" grep -qF "rdev: warning: $app: 7 names skipped: \"weird/n1\\u000ax\", \"weird/n2\\u000ax\", \"weird/n3\\u000ax\", \"weird/n4\\u000ax\", \"weird/n5\\u000ax\" and 2 more (a control character" "$TEST_TMP/s-bad.err"
check "... and they stay home" on_host "test -d '$folder/weird' && test -z \"\$(ls -A '$folder/weird')\""
# (sync's warnings are not held by -q as up's are: nothing would show them)
rdev -q sync "$name:" "$app" --json >/dev/null 2>"$TEST_TMP/s-badq.err" ||
	{ cat "$TEST_TMP/s-badq.err" >&2; fail "-q sync with bad names"; }
check "... -q sync still says it" grep -qF "rdev: warning: $app: 7 names skipped:" "$TEST_TMP/s-badq.err"
# (build's upload is as up's: -q holds the warning, shown only with an
# error; here none)
rdev -q build "$name:" "$app" >"$TEST_TMP/b-badq.json" 2>"$TEST_TMP/b-badq.err" ||
	{ cat "$TEST_TMP/b-badq.err" >&2; fail "-q build with bad names"; }
on_host docker rmi "$(jq -r '.imageName[0]' "$TEST_TMP/b-badq.json")" >/dev/null
check_eq "-q build $name: ./app: the upload's warning held, nothing on stderr" "$(cat "$TEST_TMP/b-badq.err")" ""
rm -rf "$app/weird"
sync >/dev/null 2>&1 || fail "the sync after the bad names"

# A deleted file (and folder) is deleted there; a file made there stays.
on_host "echo made-on-host >'$folder/src/host-made.txt'"
rm "$app/src/deep/x.txt"
rmdir "$app/src/deep"
sync >"$TEST_TMP/s4.json"
check_eq "a deleted file and its folder: 2 deleted" "$(jq .deleted "$TEST_TMP/s4.json")" 2
check "the deleted file is gone there" on_host "! test -e '$folder/src/deep'"
check_eq "a file made on the host stays" "$(on_host cat "$folder/src/host-made.txt")" made-on-host

# A file changed on the host is put back (one way), by content.
on_host "echo tampered >'$folder/src/main.c'"
sync >"$TEST_TMP/s5.json" 2>"$TEST_TMP/s5.err"
check_eq "a file changed on the host is sent again" "$(jq .sent "$TEST_TMP/s5.json")" 1
check_eq "... and is the local one again" "$(on_host cat "$folder/src/main.c")" "main v2"
check_eq "... counted as a host change replaced" "$(jq .hostChanged "$TEST_TMP/s5.json")" 1
check "... and named in a warning, not overwritten silently" \
	grep -q "warning: .*src/main.c was changed on the host since the last sync" "$TEST_TMP/s5.err"
# A file only touched on the host (same content), then changed here: sent,
# and no change on the host to report.
on_host "touch '$folder/src/main.c'"
echo "main v3" >"$app/src/main.c"
sync >"$TEST_TMP/s6.json" 2>"$TEST_TMP/s6.err"
check_eq "a touched file changed here is sent" "$(jq .sent "$TEST_TMP/s6.json")" 1
check_eq "... and is no change on the host" "$(jq .hostChanged "$TEST_TMP/s6.json")" 0
check "... nor warned about" sh -c "! grep -q 'changed on the host' '$TEST_TMP/s6.err'"
echo "main v2" >"$app/src/main.c"
sync >/dev/null

# up + exec with HOST: ./app, from the folder's parent (a relative SOURCE).
cd "$TEST_TMP"
rdev up "$name:" ./app --json >"$TEST_TMP/up.json" 2>"$TEST_TMP/up.err" ||
	{ cat "$TEST_TMP/up.err" >&2; fail "rdev up $name: ./app"; }
trap 'rig_remote_cleanup "${folder#"$home"/}"' EXIT
check_eq "up: the container's workspace is the uploaded folder" \
	"$(jq -r .remoteWorkspaceFolder "$TEST_TMP/up.json")" "/workspaces/$(basename "$folder")"
check_eq "exec HOST: ./app runs in the uploaded workspace" \
	"$(rdev exec "$name:" ./app -- cat src/main.c)" "main v2"
check_eq "status HOST: ./app" "$(rdev status "$name:" ./app --json | jq -r .state)" running
check_eq "read-configuration HOST: ./app" \
	"$(rdev read-configuration "$name:" ./app | jq -r .workspace.workspaceFolder)" "/workspaces/$(basename "$folder")"
check_eq "read-configuration HOST: ./app --config ./app/FILE reads the host's copy of that local file" \
	"$(rdev read-configuration "$name:" ./app --config ./app/.devcontainer.json | jq -r .configuration.image)" \
	"$RDEV_RIG_IMAGE_BOOKWORM_DEV"
check_eq "... and --config=ABSOLUTE-LOCAL-PATH too" \
	"$(rdev read-configuration "$name:" ./app "--config=$app/.devcontainer.json" | jq -r .configuration.image)" \
	"$RDEV_RIG_IMAGE_BOOKWORM_DEV"
check "... a path that is no local file is the host's: an error that names it" sh -c \
	"! '$RDEV_BIN_DIR/rdev' read-configuration '$name:' ./app --config ./app/none.json 2>'$TEST_TMP/none.err' >/dev/null &&
	 grep -q 'app/none.json' '$TEST_TMP/none.err'"
# --log-format json: stderr is one JSON object per line, the upload's line
# among them (it was the one plain line there).
rdev up "$name:" ./app --log-format json >/dev/null 2>"$TEST_TMP/up-jl.err" ||
	{ cat "$TEST_TMP/up-jl.err" >&2; fail "rdev up $name: ./app --log-format json"; }
check "up HOST: ./app --log-format json: every stderr line is a JSON object" \
	jq -es 'all(type == "object")' "$TEST_TMP/up-jl.err"
check "... the upload's among them, a text line" \
	jq -es 'any(.[]; .type == "text" and (.text | test("[0-9]+ of [0-9]+ entries sent")))' "$TEST_TMP/up-jl.err"
# The host folder deleted (rm -rf) and made again by the next up's upload:
# the running container, which still mounts the deleted one, is restarted
# (the same container) and sees the folder there now.
on_host "rm -rf '$folder'"
rdev up "$name:" ./app --json >"$TEST_TMP/up-del.json" 2>"$TEST_TMP/up-del.err" ||
	{ cat "$TEST_TMP/up-del.err" >&2; fail "rdev up $name: ./app (its host folder deleted)"; }
check_eq "up over a host folder deleted and made again: exec sees the folder there now" \
	"$(rdev exec "$name:" ./app -- cat src/main.c 2>&1)" "main v2"
check_eq "... in the same container" "$(jq -r .containerId "$TEST_TMP/up-del.json")" "$(jq -r .containerId "$TEST_TMP/up.json")"
check "... restarted, as up said" \
	grep -qF "mounts $folder as it was before it was deleted on this host" "$TEST_TMP/up-del.err"
# A usage error the client can find is found before the upload: nothing of
# a new folder lands on the host (it was uploaded, then refused).
mkdir -p "$TEST_TMP/fresh" && cp "$app/.devcontainer.json" "$TEST_TMP/fresh/"
for args in "--json --log-format json" "--dotfiles-target-path /d"; do
	set +e
	(cd "$TEST_TMP" && "$RDEV_BIN_DIR/rdev" up "$name:" ./fresh $args) >/dev/null 2>"$TEST_TMP/fresh.err"
	rc=$?
	set -e
	check_eq "up HOST: ./fresh $args: a usage error (exit 2)" "$rc" 2
	check "... found before the upload: no entries sent" sh -c "! grep -q 'entries sent' '$TEST_TMP/fresh.err'"
	check_eq "... nothing of it on the host" "$(on_host 'ls ~/rdev/workspaces' | grep -c '^fresh-' || true)" 0
done
# HOST:./app (a path on the host, none there) while ./app is here: the
# error says how to upload it.
set +e
rdev up "$name:./app" >/dev/null 2>"$TEST_TMP/hp.err"
set -e
check "up HOST:./app, no such folder there but here: the error says how to upload it" \
	grep -qF "(./app exists here: to upload it use \`rdev up $name: ./app\`)" "$TEST_TMP/hp.err"
set +e
rdev forward "$name:./app" 3000 >/dev/null 2>"$TEST_TMP/hpf.err"
set -e
check "... forward HOST:./app's too" \
	grep -qF "(./app exists here: to upload it use \`rdev up $name: ./app\`)" "$TEST_TMP/hpf.err"
# An uploaded folder's devcontainer.json error names the local file (the
# user's), at its line, the host's copy after it.
mkdir -p "$TEST_TMP/badcfg"
printf '{\n  "image": "%s",\n  "forwardPorts": "x"\n}\n' "$RDEV_RIG_IMAGE_BOOKWORM_DEV" \
	>"$TEST_TMP/badcfg/.devcontainer.json"
set +e
rdev up "$name:" ./badcfg >"$TEST_TMP/bad.out" 2>"$TEST_TMP/bad.err"
set -e
bad_local="$(realpath "$TEST_TMP")/badcfg/.devcontainer.json:3:19: \"forwardPorts\""
check "up HOST: ./badcfg: a config error names the local file, line and property" \
	grep -qF "$name: $bad_local" "$TEST_TMP/bad.err"
check "... the host's copy after it" \
	grep -qE "\\(the host's copy: $home/rdev/workspaces/badcfg-[0-9a-f]{12}/.devcontainer.json\\)" "$TEST_TMP/bad.err"
check "... --json's message too" sh -c "jq -r .message '$TEST_TMP/bad.out' | grep -qF '$bad_local'"
# The uploaded folder moved here: its new path names another workspace;
# the error lists the host's workspace of the old one with the command that
# reaches it, which works.
# (its upload the first from this machine: STATE/sources/ made for the
# record too, not only the cache)
cp "$app/.devcontainer.json" "$TEST_TMP/badcfg/"
rm -rf "$RDEV_STATE_DIR/sources"
rdev sync "$name:" ./badcfg >/dev/null 2>"$TEST_TMP/badsync.err" ||
	{ cat "$TEST_TMP/badsync.err" >&2; fail "rdev sync $name: ./badcfg"; }
check "... no warning" sh -c "! grep -q warning '$TEST_TMP/badsync.err'"
mv "$TEST_TMP/badcfg" "$TEST_TMP/moved"
set +e
rdev down "$name:" ./moved >/dev/null 2>"$TEST_TMP/moved.err"
set -e
bad_host=$(on_host 'ls -d ~/rdev/workspaces/badcfg-*')
check "down HOST: ./moved (moved here since its upload): the error lists the old folder's host workspace and how to remove it" \
	grep -qF "$bad_host from $(realpath "$TEST_TMP")/badcfg (\`rdev down $name:$bad_host\`)" "$TEST_TMP/moved.err"
check "... and that command works" rdev down "$name:$bad_host"
on_host rm -rf "$bad_host" # (the root's entries matter below)
# Gone here and there: the record goes (listed no more, asked no more).
check "... its record is there" sh -c "ls '$RDEV_STATE_DIR'/sources/badcfg-*.from"
set +e
rdev down "$name:" ./moved >/dev/null 2>"$TEST_TMP/moved2.err"
set -e
check "... its host folder removed: not listed" sh -c "! grep -q 'no longer here' '$TEST_TMP/moved2.err'"
check "... and its record dropped" sh -c "! ls '$RDEV_STATE_DIR'/sources/badcfg-*.from 2>/dev/null"
rdev logs "$name:" ./app >/dev/null
echo "ok   logs HOST: ./app"
rdev ssh-config "$name:" ./app >"$TEST_TMP/ssh.cfg"
check "ssh-config HOST: ./app: the proxy gets the source folder, absolute" \
	grep -qF "ssh-proxy $name: $(realpath "$TEST_TMP/app")" "$TEST_TMP/ssh.cfg"
check_eq "... and ssh through it, from another folder, is in the uploaded workspace" \
	"$(cd / && ssh -F "$TEST_TMP/ssh.cfg" -o BatchMode=yes rdev-app cat src/main.c)" "main v2"
check "ssh-config HOST: without a SOURCE is a usage error" \
	sh -c "'$RDEV_BIN_DIR/rdev' ssh-config '$name:' 2>/dev/null; [ \$? = 2 ]"
base=$(rig_ports 2)
rdev forward "$name:" ./app "$base:7" >/dev/null
check_eq "forward HOST: ./app forwards the uploaded workspace's container" \
	"$(rdev forward --list --json | jq -r --argjson p "$base" '.[] | select(.local == $p) | .workspace')" "$folder"
# ... and lists it as the user named it, not by the host's copy.
check_eq "... its listing names the workspace as typed, its folder absolute" \
	"$(rdev forward --list --json | jq -r --argjson p "$base" '.[] | select(.local == $p) | .shown')" \
	"$name: $(realpath "$app")"
check "... in the table too" sh -c "'$RDEV_BIN_DIR/rdev' forward --list | grep -qF -- 'localhost:$base -> container port 7 of $name: $(realpath "$app")'"
check "... never by the host's copy" sh -c "! '$RDEV_BIN_DIR/rdev' forward --list | grep -qF -- '$folder'"
# `forward --stop PORT` (no TARGET) names it as --list does.
rdev forward "$name:" ./app "$((base + 1)):7" >/dev/null
stop_out=$(cd / && "$RDEV_BIN_DIR/rdev" forward --stop "$((base + 1))" 2>&1) ||
	fail "forward --stop $((base + 1)): $stop_out"
check_eq "... and --stop PORT names it so too" "$stop_out" \
	"stopped the forward at localhost:$((base + 1)) (of $name: $(realpath "$app"))"
rdev stop "$name:" ./app >/dev/null
check_eq "stop HOST: ./app" "$(rdev status "$name:" ./app --json | jq -r .state)" stopped
# The forward's "no dev container" error, once its container is gone, names
# the up command the broker keeps with it: its folder absolute, right when
# shown later from another folder (not `./app`, relative to where forward ran).
docker rm -f $(docker ps -aq --filter "label=devcontainer.local_folder=$folder") >/dev/null
last_error() { (cd / && "$RDEV_BIN_DIR/rdev" forward --list --json) |
	jq -r --argjson p "$base" '.[] | select(.local == $p) | .lastError // ""'; }
for _ in 1 2 3 4 5; do
	sleep 1.1 # (a connection has its target checked when the last check is 1 s old)
	(cd / && curl -s -m 20 "http://127.0.0.1:$base/" >/dev/null) || true
	case $(last_error) in *"no dev container"*) break ;; esac
done
check "container removed: the forward's error names the up command, its folder absolute" \
	grep -qF "(run \`rdev up $name: $(realpath "$app")\` first)" <<<"$(last_error)"
# The agent's sync state of a workspace (STATE/sync/NAME.json...) stays
# with its folder, which `down` keeps (the index must stay with the files
# it describes); once the folder is removed on the host, the start of the
# next whole sync (of any workspace) removes that state.
ws_name=${folder##*/}
# (the agent's state folder, as agent_state_dir finds it: $XDG_STATE_HOME/rdev)
state_files() { on_host 'd=${RDEV_STATE_DIR:-}; case ${XDG_STATE_HOME:-} in /*) d=${d:-$XDG_STATE_HOME/rdev} ;; esac; ls -a "${d:-$HOME/.rdev/state}/sync"' | grep -c "^$ws_name\.json" || true; }
check "the workspace's sync state is on the host after its syncs" test "$(state_files)" -ge 1
rdev down "$name:" ./app >/dev/null
check_eq "down HOST: ./app" "$(rdev status "$name:" ./app --json | jq -r .state)" absent
check "... and stays after down (its folder does too)" test "$(state_files)" -ge 1
on_host rm -rf "$folder"
app2=$TEST_TMP/app2
mkdir -p "$app2"
echo other >"$app2/other.txt"
rdev sync "$name:" "$app2" >/dev/null 2>&1 || fail "rdev sync of a second folder"
# (a root whose only entry is the folder its sync just made counts as
# empty, as an unmounted disk's mount point: nothing goes then)
check "a root holding only the new sync's folder: the state stays" test "$(state_files)" -ge 1
app3=$TEST_TMP/app3
mkdir -p "$app3"
echo third >"$app3/third.txt"
rdev sync "$name:" "$app3" >/dev/null 2>&1 || fail "rdev sync of a third folder"
check_eq "the folder removed on the host, the next sync's start removes its state" \
	"$(state_files)" 0
finish
