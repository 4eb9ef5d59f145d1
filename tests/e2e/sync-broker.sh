#!/usr/bin/env bash
# sync-broker.sh - `rdev up HOST: ./app --sync`: the broker keeps the host's
# copy in step with the folder after `up` returns (an edit, a delete show in
# the container); `rdev status` and `rdev-broker status` show the sync; a
# killed broker's successor resumes it (the edits made meanwhile arrive,
# files deleted while it scans the whole folder do not stop it); a
# frozen link queues the edits, which all arrive once it thaws, as does a
# hung agent; a large file's small change goes as a block delta (far fewer
# bytes than the file, the host's copy byte-exact); a local file where the
# container made a folder keeps that folder as its conflict name (one that
# cannot be kept, or a folder made by root in the container, fails that
# entry alone: named, the rest lands, tried again); a file the
# container changed and deleted here stays there, reported; a
# hung agent (after the batch's idle limit); `rdev sync
# --stop` and `rdev down` end it; --sync without a local SOURCE is refused.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
# (through the rig's delay proxy, which the test freezes; keepalives every
# second, so that a frozen link is found lost in ~3 s)
rig_remote_host sb --rtt-ms 2
# (a batch whose connection moves nothing for 3 s gives up: a hung agent)
export RDEV_SYNC_IDLE_MS=3000
# (entries that cannot land: tried again at least each second, not 5 s)
export RDEV_SYNC_RETRY_MAX_MS=1000
printf '  ServerAliveInterval 1\n  ServerAliveCountMax 2\n' >>"$cfg"
folder=
# What a part of the test must undo when it fails (run first on exit).
undo=
# On a failure, the broker's log and the syncs' status go to the test's
# output first (an edit right after up that never arrived, 2 runs in about
# 30 across sessions 21-22, could not be told apart from the output alone;
# it was a file deleted during the first batch's scan, which stopped the
# sync).
sync_broker_exit() {
	local rc=$?
	set +e # (exit $rc) below must not end the trap
	eval "$undo"
	if [ "$rc" != 0 ]; then
		sync_diagnostics
	fi
	(exit "$rc")
	rig_remote_cleanup ${folder:+"${folder#"$home"/}"}
}
trap sync_broker_exit EXIT

app=$TEST_TMP/app
mkdir -p "$app/src"
cat >"$app/.devcontainer.json" <<JSON
{ "image": "$RDEV_RIG_IMAGE_BOOKWORM_DEV", "updateRemoteUserUID": false }
JSON
echo main >"$app/src/main.c"
echo old >"$app/old.txt"
head -c 20M /dev/urandom >"$app/big.bin"

rc=0
rdev up "$name:" https://example.com/org/app.git --sync >/dev/null 2>"$TEST_TMP/err" || rc=$?
check_eq "--sync with a git URL is refused (usage)" "$rc" 2
check "... saying why" grep -q "needs a local folder as SOURCE" "$TEST_TMP/err"
rc=0
rdev up "$app" --sync >/dev/null 2>"$TEST_TMP/err" || rc=$?
check_eq "--sync of a local workspace is refused (usage)" "$rc" 2

rig_sync_up "$app" --sync
# (each arrival is waited for up to 30 s, docs/SYNC.md's bound, not 5: under
# ASan beside other tests the first edit after up once took longer;
# bench/sync-watch.sh measures how fast they come)
has() { [ "$(in_ctr cat "$1" 2>/dev/null)" = "$2" ]; }

echo v2 >"$app/src/main.c"
rm "$app/old.txt"
EVENTUALLY_SECONDS=30 eventually "an edit after up arrives" has src/main.c v2
eventually "... and a delete" in_ctr test ! -e old.txt
sync_json() { rdev status "$name:" "$app" --json | jq -c .sync; }
# (the container has the edit while its batch runs: the sync is "sending"
# until the batch ends, and the broker counts it then)
sync_watching() { [ "$(sync_json | jq -r .state)" = watching ]; }
# A name no sync carries (a line break in it) made while the sync runs is
# skipped, as up's upload skips one: the sync stays watching, with no
# error, and later files land (it went to "error" for good: "not a path
# inside the folder", the raw line break in status and the log).
touch "$app/src/$(printf 'nl\nx')"
echo cc >"$app/z-cc.txt"
EVENTUALLY_SECONDS=30 eventually "a file after a name with a line break arrives" has z-cc.txt cc
check "... that name stays home" in_ctr sh -c 'test -z "$(find . -name "*[[:cntrl:]]*")"'
check "... named in the broker's log, quoted" grep -qF '"src/nl\u000ax": skipped (a control character' "$RDEV_RUNTIME_DIR/broker.log"
eventually "rdev status shows the sync watching" sync_watching
check_eq "... with no error" "$(sync_json | jq -r .lastError)" null
check "... with what it sent" test "$(sync_json | jq .sent)" -ge 1
check "... and the last change" test "$(sync_json | jq -r .lastChange)" != null
check_eq "rdev-broker status lists it" \
	"$(broker status --json | jq -r '.syncs[0] | [.host, .path, .state] | join(" ")')" \
	"$name $app watching"
check "rdev status prints it" sh -c "'$RDEV_BIN_DIR/rdev' status '$name:' '$app' | grep -q '^sync  *watching'"
# A large file's small change goes as a delta (docs/PROTOCOL.md, "Deltas"):
# 4 KiB changed in its middle, 1 MiB appended; a few blocks are sent.
sent0=$(sync_json | jq .sentBytes)
dd if=/dev/urandom of="$app/big.bin" bs=4096 seek=2600 count=1 conv=notrunc status=none
head -c 1M /dev/urandom >>"$app/big.bin"
want=$(sha256sum <"$app/big.bin")
big_same() { [ "$(in_ctr sh -c 'sha256sum <big.bin')" = "$want" ]; }
EVENTUALLY_SECONDS=20 eventually "a large file's change arrives byte-exact" big_same
# (counted when its batch ends, after the file is in place; the dd and the
# append may be two batches: the first one's count alone is not the file's,
# so the sync is also back to watching, the batch that wrote it ended)
counted_bytes() { [ "$(sync_json | jq -r "\"\(.state) \(.sentBytes > $sent0)\"")" = "watching true" ]; }
eventually "... its batch counted" counted_bytes
sent=$(($(sync_json | jq .sentBytes) - sent0))
check "... as a delta: $sent bytes sent for 21 MiB (< 2 MiB)" test "$sent" -lt 2097152

# A file changed in the container and then locally: the local version wins,
# never silently (status counts and names it); a touch is no change.
in_ctr touch src/main.c
in_ctr sh -c 'echo from-container >src/host.c'
echo local >"$app/src/host.c"
EVENTUALLY_SECONDS=30 eventually "a new file arrives" has src/host.c local
in_ctr sh -c 'echo changed-in-container >src/host.c'
echo local2 >"$app/src/host.c"
echo v3 >"$app/src/main.c"
EVENTUALLY_SECONDS=30 eventually "a file changed on both sides: the local version" has src/host.c local2
eventually "... and the touched file's edit" has src/main.c v3
changed_is() { [ "$(sync_json | jq -r '"\(.hostChanged) \(.lastHostChanged)"')" = "$1" ]; }
# (a file is in place before the agent answers and the broker counts it)
eventually "... counted as one change on the host replaced (a touch is none)" \
	changed_is "1 src/host.c"
check "... and printed by rdev status" sh -c \
	"'$RDEV_BIN_DIR/rdev' status '$name:' '$app' | grep -q '^  replaced  1 file changed on the host (the last: src/host.c)'"
check "... and told by the broker's log" grep -q \
	"src/host.c was changed on the host since the last sync; the local version replaced it" \
	"$RDEV_RUNTIME_DIR/broker.log"

# A folder the container made (root's: the agent cannot delete what is in
# it) where a local file then comes: one way too, the folder is kept whole
# as gen.rdev-conflict-* (it was deleted when it could be, else every batch
# failed with "Is a directory"), and named as a host change replaced.
docker exec -u root -w "$ws" "$cid" sh -c 'mkdir gen && echo made >gen/made'
echo local-gen >"$app/gen"
EVENTUALLY_SECONDS=30 eventually "a local file over a folder the container made arrives" has gen local-gen
check_eq "... and the host's folder is kept whole as its conflict name" \
	"$(in_ctr sh -c 'cat gen.rdev-conflict-*/made')" made
eventually "... counted and named as a host change replaced" changed_is "2 gen"

# A host version that cannot be kept (a folder the container made, here
# immutable: neither moved nor linked) where a local file comes fails that
# entry alone: the rest of the batch (after it in path order) lands, the sync says which path and
# why (lastError, the broker's log), the folder stays as it was, and the
# entry is tried again until it can be kept (then it lands, the folder kept
# as its conflict name).
docker exec -u root -w "$ws" "$cid" sh -c 'mkdir stuck && echo made >stuck/made'
# (chattr +i needs a filesystem that has it: not tmpfs, nor overlay)
if chattr +i "$folder/stuck" 2>/dev/null; then
	stuck_n=1
	undo='chattr -i "$folder/stuck" 2>/dev/null || true'
	echo local-stuck >"$app/stuck"
	echo tail >"$app/tail.txt"
	eventually "a file beside one whose host version cannot be kept lands" \
		has tail.txt tail
	stuck_told() { sync_json | jq -r .lastError | grep -q "'stuck': keeping the host's version as stuck.rdev-conflict-"; }
	eventually "... the other's path and reason are the sync's lastError" stuck_told
	check "... and the broker's log tells it" grep -q \
		"'stuck': keeping the host's version as stuck.rdev-conflict-.*(tried again later)" \
		"$RDEV_RUNTIME_DIR/broker.log"
	check_eq "... the host's folder is untouched" "$(in_ctr cat stuck/made)" made
	# (it may be sending the entry again just then: a retry's batch)
	still_runs() { case "$(sync_json | jq -r .state)" in watching | sending) ;; *) return 1 ;; esac; }
	check "... the sync still runs (watching, or sending a retry)" still_runs
	echo later >"$app/z-later.txt"
	eventually "... and later edits still land" has z-later.txt later
	chattr -i "$folder/stuck"
	EVENTUALLY_SECONDS=15 eventually "once it can be kept, the entry is tried again and lands" \
		has stuck local-stuck
	check_eq "... the host's folder kept as its conflict name" \
		"$(in_ctr sh -c 'cat stuck.rdev-conflict-*/made')" made
	eventually "... counted and named as a host change replaced" changed_is "3 stuck"
else
	echo "  (chattr +i refused here: the in-the-way entry checks skipped)"
	docker exec -u root -w "$ws" "$cid" rm -rf stuck
	stuck_n=0
fi
no_error() { [ "$(sync_json | jq -r .lastError)" = null ]; }
eventually "... and the error is gone" no_error

# A folder the container made as root (not the SSH user's: not writable
# for the agent) where a local file then goes: that file fails alone,
# named, saying the folder belongs to root and what to do (rdev takes
# nothing back as root); the rest of the batch lands.
docker exec -u root -w "$ws" "$cid" mkdir -p rootmade
mkdir -p "$app/rootmade"
echo x >"$app/rootmade/x.c"
echo next >"$app/z-next.txt"
eventually "a file beside one a root-made folder refuses lands" \
	has z-next.txt next
root_told() { sync_json | jq -r .lastError | grep -q "'rootmade/x.c': Permission denied: the host folder 'rootmade' belongs to root (made in the container as root?), not to this user (uid $(id -u "rdev-$name"))"; }
eventually "... the refused file's path, the folder's owner and why are lastError" root_told
# (the path in the command quoted for a shell: the container names it)
what_to_do=$("$RDEV_BIN_DIR/rdev" status "$name:" "$app" --json | jq -r .sync.lastError)
check "... with what to do, its path quoted" grep -qF \
	"sudo chown -R $(id -u "rdev-$name"):$(id -g "rdev-$name") '$folder/rootmade'" <<<"$what_to_do"
docker exec -u root -w "$ws" "$cid" chown "$(id -u "rdev-$name"):$(id -g "rdev-$name")" rootmade
EVENTUALLY_SECONDS=15 eventually "... given back to the user, it lands" has rootmade/x.c x
eventually "... and the error is gone" no_error

# A synced file the container changed, then deleted locally: one way, it
# stays in the container, never deleted silently (docs/SYNC.md): counted,
# named in status and in the broker's log. A file left as synced goes.
echo keep >"$app/keep.txt"
echo plain >"$app/plain.txt"
EVENTUALLY_SECONDS=30 eventually "two new files arrive" has keep.txt keep
eventually "... both" has plain.txt plain
in_ctr sh -c 'echo changed-in-container >keep.txt'
rm "$app/keep.txt" "$app/plain.txt"
EVENTUALLY_SECONDS=30 eventually "a file deleted here, as synced there, is deleted" \
	in_ctr test ! -e plain.txt
kept_one() { [ "$(sync_json | jq -r '"\(.hostKept) \(.lastHostKept)"')" = "1 keep.txt" ]; }
eventually "... one the container changed is counted and named as kept" kept_one
check "... and is still in the container, as the container wrote it" \
	has keep.txt changed-in-container
check "... which the broker's log tells" grep -q \
	"keep.txt was changed on the host since the last sync; deleted here, kept on the host" \
	"$RDEV_RUNTIME_DIR/broker.log"
check "... and rdev status prints" sh -c \
	"'$RDEV_BIN_DIR/rdev' status '$name:' '$app' | grep -q '^  kept      1 entry deleted here, changed on the host (the last: keep.txt)'"
# The local file back (git checkout back): the container's kept version is
# not replaced silently: kept as its conflict name, counted as changed.
echo keep-again >"$app/keep.txt"
EVENTUALLY_SECONDS=30 eventually "the local file made again arrives" has keep.txt keep-again
check_eq "... the container's kept version saved as its conflict name" \
	"$(in_ctr sh -c 'cat keep.txt.rdev-conflict-*')" changed-in-container
eventually "... and counted as a change on the host the local version replaced" \
	changed_is "$((3 + stuck_n)) keep.txt"

# A folder of 22 synced files the container changed, moved away here (one
# event, one batch): all 22 kept and counted; the broker's log names the
# first 20 and counts the rest, and never the folder (what is in it is named).
mkdir "$app/many"
for i in $(seq -w 0 21); do echo "$i" >"$app/many/f$i"; done
EVENTUALLY_SECONDS=30 eventually "a folder of 22 files arrives" has many/f21 21
in_ctr sh -c 'for f in many/f*; do echo changed >"$f"; done'
mv "$app/many" "$TEST_TMP/many-moved"
kept_many() { [ "$(sync_json | jq -r .hostKept)" = 23 ]; }
EVENTUALLY_SECONDS=30 eventually "... moved away here: its 22 files are counted as kept" kept_many
check "... the broker's log names the first" grep -q \
	"many/f00 was changed on the host since the last sync; deleted here, kept on the host" \
	"$RDEV_RUNTIME_DIR/broker.log"
check "... and counts the 2 it does not name" grep -q \
	"and 2 entries changed on the host since the last sync were deleted here and kept on the host" \
	"$RDEV_RUNTIME_DIR/broker.log"
check "... but not the folder" sh -c \
	"! grep -q ': many was changed on the host' '$RDEV_RUNTIME_DIR/broker.log'"

# The broker is killed: edits made meanwhile arrive once a new broker (here
# started by the next command) has resumed the sync. Its first batch scans
# the whole folder while files in it come and go (churn-N, each deleted
# soon after it is made, and all of them at once when the scan opens
# big.bin, after it listed the folder: gone by the time it comes to them):
# those are left out and the sync goes on (it stopped for good on the
# first, "churn-N: No such file or directory", as it did when the first
# edit after `up --sync`, a deletion, came during that scan: the edit then
# never arrived).
pid=$(broker status --json | jq -r .pid)
kill -KILL "$pid"
echo v3 >"$app/src/main.c"
echo new >"$app/new.txt"
# (it ends when killed, when the folder goes, or after 2 minutes)
python3 - "$app" "$TEST_TMP/churning" <<'PY' &
import ctypes, os, select, sys, time
d, i, live, end = sys.argv[1], 0, [], time.monotonic() + 120
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init1(os.O_NONBLOCK)
IN_OPEN = 0x20
try:
	if fd < 0 or libc.inotify_add_watch(fd, os.path.join(d, "big.bin").encode(), IN_OPEN) < 0:
		raise OSError(ctypes.get_errno(), "inotify")
	open(sys.argv[2], "w").close()
	while time.monotonic() < end:
		live.append(os.path.join(d, "churn-%d" % i))
		open(live[-1], "w").close()
		i += 1
		if len(live) > 20:
			os.unlink(live.pop(0))
		if select.select([fd], [], [], 0.002)[0]:
			os.read(fd, 4096)
			while live:
				os.unlink(live.pop())
except OSError:
	pass
PY
churn=$!
undo='kill $churn 2>/dev/null || true'
# (churning before the new broker starts)
EVENTUALLY_SECONDS=30 eventually "files come and go in the folder" test -e "$TEST_TMP/churning"
# (a client starts the new broker, whose environment lowers the inline limit:
# the resumed sync's rescan streams its manifest, as one beyond 16 MiB is)
RDEV_SYNC_INLINE_MAX=100 rdev status "$name:" "$app" >/dev/null 2>&1 || true
eventually "a new broker resumes the sync: the edits made meanwhile arrive" \
	sh -c "test \"\$(docker exec -w '$ws' '$cid' cat src/main.c new.txt)\" = 'v3
new'"
kill "$churn"
wait "$churn" 2>/dev/null || true
undo=
rm -f "$app"/churn-*
not_stopped() { [ "$(sync_json | jq -r .state)" != error ]; }
check "... files deleted while it scanned the folder did not stop it" not_stopped
eventually "... and their deletions arrive" sh -c "! docker exec -w '$ws' '$cid' sh -c 'ls churn-*' >/dev/null 2>&1"

# The link freezes (nothing refused, nothing reset): the edits made
# meanwhile are queued, and all arrive after it thaws.
bash "$RIG" delay-freeze "$name" on
for i in 1 2 3; do
	echo "frozen $i" >"$app/f$i.txt"
	sleep 0.3
done
echo v4 >"$app/src/main.c"
queued() { [ "$(broker status --json | jq -r '.syncs[0].state')" = queued ]; }
EVENTUALLY_SECONDS=15 eventually "a frozen link leaves the sync queued" queued
bash "$RIG" delay-freeze "$name" off
all_in() { [ "$(in_ctr cat f1.txt f2.txt f3.txt src/main.c 2>/dev/null)" = "frozen 1
frozen 2
frozen 3
v4" ]; }
EVENTUALLY_SECONDS=30 eventually "the edits made while frozen all arrive after the thaw" all_in
watching() { [ "$(sync_json | jq -r .state)" = watching ]; }
eventually "... and the sync watches again" watching

# The agent hangs (its processes stopped, the session's and the one that
# serves the sync: the session stays up): each batch gives up once its
# connection has moved nothing for RDEV_SYNC_IDLE_MS, and the sync stays
# queued; the agent back, the edit arrives.
stopped="$(agent_pid) $(client_serve_pids | tr '\n' ' ')"
kill -STOP $stopped
undo='kill -CONT $stopped 2>/dev/null || true'
echo hung >"$app/hung.txt"
# (the broker's status: `rdev status` would ask the stopped agent)
gave_up() { broker status --json | jq -r '.syncs[0].lastError' | grep -q "for 3 s"; }
EVENTUALLY_SECONDS=20 eventually "a hung agent: the batch gives up (idle limit)" gave_up
kill -CONT $stopped
EVENTUALLY_SECONDS=20 eventually "... and once it is back the edit arrives" has hung.txt hung
eventually "... and the sync watches again" watching

# The folder goes away (renamed): the sync waits for it, saying so in
# status (it stayed in "error" for good: the folder back, nothing more
# was sent); renamed back, it is sent whole and watched again. Removed and
# made again at the same path: the same.
bstate() { broker status --json | jq -r '.syncs[0].state'; }
berror() { broker status --json | jq -r '.syncs[0].lastError'; }
away() { [ "$(bstate)" = away ]; }
mv "$app" "$app.gone"
undo='[ -e "$app" ] || mv "$app.gone" "$app"'
eventually "a folder renamed away leaves the sync away" away
berror_has() { berror | grep -qF -- "$1"; }
check "... saying so" berror_has "$app: the folder went away (the sync resumes when it is back)"
echo renamed >"$app.gone/renamed.txt"
echo back >"$app.gone/f1.txt"
mv "$app.gone" "$app"
undo=
EVENTUALLY_SECONDS=30 eventually "... renamed back: what changed meanwhile arrives" has f1.txt back
eventually "... with the file made while away" has renamed.txt renamed
eventually "... and the sync watches again" watching
check_eq "... with no error" "$(berror)" null
echo after >"$app/after.txt"
EVENTUALLY_SECONDS=30 eventually "... and an edit after it arrives (watched anew)" has after.txt after
cp -a "$app" "$TEST_TMP/app-copy"
rm -rf "$app"
undo='[ -e "$app" ] || mv "$TEST_TMP/app-copy" "$app"'
eventually "a folder removed leaves the sync away" away
mkdir "$app"
cp -a "$TEST_TMP/app-copy/." "$app/"
undo=
rm -rf "$TEST_TMP/app-copy"
echo again >"$app/again.txt"
rm "$app/after.txt"
EVENTUALLY_SECONDS=30 eventually "... made again: its differences arrive" has again.txt again
eventually "... a deletion too" in_ctr test ! -e after.txt
eventually "... and the sync watches again" watching

# A symbolic link back at the folder's path is not the folder (the watch
# never follows one): the sync stays away, saying why (it resumed,
# "watching" no folder, so no later edit went, and sent the link's target).
mv "$app" "$TEST_TMP/app-real"
ln -s "$TEST_TMP/app-real" "$app"
undo='rm -f "$app"; [ -e "$app" ] || mv "$TEST_TMP/app-real" "$app"'
eventually "a symbolic link at the folder's path: away, saying so" \
	berror_has "$app: a symbolic link, not a folder"
sleep 1
check "... and it stays away" away
# A new broker while the folder is away keeps the sync, away (it dropped
# it for good: "saved sync not resumed").
rm "$app"
kill -KILL "$(broker status --json | jq -r .pid)"
broker start || fail "rdev-broker start"
eventually "a new broker keeps the sync away" away
check "... saying why" berror_has "$app: no folder there"
# The folder back bit by bit (a clone filling it) is sent once it has been
# quiet for a second, so the host's files it does not hold yet are not
# deleted meanwhile (sent at once, its first entry alone deleted the rest
# on the host: counted in "deleted").
deleted0=$(broker status --json | jq '.syncs[0].deleted')
mkdir "$app"
undo='for e in "$TEST_TMP/app-real"/* "$TEST_TMP/app-real"/.[!.]*; do [ -e "$e" ] && mv "$e" "$app/"; done'
# (an entry every 0.3 s for 1.5 s, then the rest: the broker looks every
# 0.5 s, so it sees the folder with a few entries)
i=0
for e in "$TEST_TMP/app-real"/* "$TEST_TMP/app-real"/.[!.]*; do
	[ -e "$e" ] || continue
	mv "$e" "$app/"
	if [ $((i += 1)) -le 5 ]; then sleep 0.3; fi
done
undo=
rmdir "$TEST_TMP/app-real"
echo filled >"$app/filled.txt"
EVENTUALLY_SECONDS=30 eventually "... back: it arrives" has filled.txt filled
eventually "... and the sync watches again" watching
check_eq "... no host file deleted meanwhile" "$(broker status --json | jq '.syncs[0].deleted')" "$deleted0"
check "... the others still there" has f1.txt back

# sync --stop ends it: a later edit stays here.
rdev sync --stop "$name:" "$app" 2>"$TEST_TMP/stop.err"
check "sync --stop says so" grep -q "stopped the sync of $app" "$TEST_TMP/stop.err"
check_eq "... and the broker keeps none" "$(broker status --json | jq '.syncs | length')" 0
echo v5 >"$app/src/main.c"
sleep 1
check "an edit after --stop stays here" has src/main.c v4
rc=0
rdev sync --stop "$name:" "$app" 2>/dev/null || rc=$?
check_eq "a second --stop: there was none (1)" "$rc" 1

# down ends a sync too.
rdev up "$name:" "$app" --sync >/dev/null 2>&1 || fail "the second up --sync"
eventually "the second up --sync sends the edit" has src/main.c v5
rdev down "$name:" "$app" >/dev/null 2>&1 || fail "rdev down"
check_eq "down ends the sync" "$(broker status --json | jq '.syncs | length')" 0
finish
