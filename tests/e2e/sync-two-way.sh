#!/usr/bin/env bash
# sync-two-way.sh - `rdev up HOST: ./app --sync --two-way`: what the
# container writes in the workspace comes back to the local folder (a file
# made, changed, deleted; a 20 MiB one, in pieces; ignored paths stay on the
# host) and is not sent
# back; local edits still go out; a killed sync's temporary file is removed
# at the start, never sent; a file changed on both sides keeps the
# local version on both sides and the host's is saved locally as
# NAME.rdev-conflict-YYYYMMDDTHHMMSSZ, counted in status. The conflict is
# made deterministic by editing both sides while no broker runs: the broker
# that resumes the sync (its --two-way kept in the state file) finds both.
# Per-file acks: over 1,000 container files a self-ignoring .rdevignore
# leaves out here (the host never has it) are told once and kept aside by
# the agent, and a later change still comes back; a file that cannot be
# written here (an immutable folder) does not hold back the others, and
# comes once it can. More local files than the agent lists that fail on
# the host (a root-made folder) do not stop the pulls. A local symlink or file where the container made a
# file or folder keeps the host's as a conflict copy on the host, which
# comes back. A sync that starts (`rdev sync --watch --two-way`, `rdev up
# --sync --two-way`) after both sides changed a file while no sync ran keeps
# the host's version as a conflict (its upload's keepHostChanges), never
# replaces it.
# Each wait is 30 s at most (docs/SYNC.md: a host change comes within the
# pull's pause, at most 30 s, plus one pull); the latency is bench/'s.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
rig_remote_host tw
watcher= folder= locked= saved_cfg= priv=
# On a failure, the broker's log and the syncs' status go to the output
# first (a conflict once counted 0 under ASan, in 1 run of 4, could not be
# told apart from the output alone). (set +e: a failing chattr or kill
# must not end the trap before the cleanup)
sync_two_way_exit() {
	local rc=$?
	set +e
	if [ "$rc" != 0 ]; then
		sync_diagnostics
	fi
	[ -z "$locked" ] || chattr -i "$locked" 2>/dev/null
	[ -z "$saved_cfg" ] || cp "$saved_cfg" "$cfg"
	[ -z "$priv" ] || docker exec -u root "$cid" rm -rf "$priv" 2>/dev/null
	[ -z "$watcher" ] || kill "$watcher" 2>/dev/null
	(exit "$rc")
	rig_remote_cleanup ${folder:+"${folder#"$home"/}"}
}
trap sync_two_way_exit EXIT

app=$TEST_TMP/app
mkdir -p "$app"
cat >"$app/.devcontainer.json" <<JSON
{ "image": "$RDEV_RIG_IMAGE_BOOKWORM_DEV", "updateRemoteUserUID": false }
JSON
echo 'build/' >"$app/.rdevignore"
mkdir -p "$app/cache" "$app/ro"
echo '*' >"$app/cache/.rdevignore"
echo one >"$app/f.txt"
echo bye >"$app/gone.txt"
echo bye >"$app/gone2.txt"
echo bye >"$app/gone3.txt"
# A killed sync's leftover (the PID of a process gone): removed when the
# sync starts, never sent.
sh -c 'exit 0' & dead=$!
wait "$dead"
head -c 4096 /dev/zero >"$app/.rdev-back-$dead-p00000001"

rig_sync_up "$app" --sync --two-way
has() { [ "$(in_ctr cat "$1" 2>/dev/null)" = "$2" ]; }
here() { [ "$(cat "$app/$1" 2>/dev/null)" = "$2" ]; }
sync_json() { broker status --json | jq -c '.syncs[0]'; }

rdev exec "$name:" "$app" -- sh -c 'mkdir -p build gen && echo o >build/out.o && echo x >gen/gen.txt &&
	head -c 20971520 /dev/urandom >gen/big.bin' ||
	fail "rdev exec"
EVENTUALLY_SECONDS=30 eventually "a file made in the container appears locally" here gen/gen.txt x
leftover_gone() { [ ! -e "$app/.rdev-back-$dead-p00000001" ]; }
EVENTUALLY_SECONDS=30 eventually "a killed sync's temporary file is removed when the sync starts" leftover_gone
check "... and was never sent" in_ctr sh -c "! ls -a | grep -q rdev-back"
big_sum=$(in_ctr sha256sum gen/big.bin | cut -d' ' -f1)
big_here() { [ "$(sha256sum "$app/gen/big.bin" 2>/dev/null | cut -d' ' -f1)" = "$big_sum" ]; }
EVENTUALLY_SECONDS=30 eventually "a 20 MiB file made in the container arrives byte-exact (in pieces)" big_here
check "... written whole (no temporary file left)" sh -c "! ls -a '$app' '$app/gen' | grep -q rdev-back"
check "an ignored path stays on the host" test ! -e "$app/build"
sent=$(sync_json | jq .sent)
# (three in one pull: the list of deletes applied freed one twice and the
# broker aborted, again at each restart)
in_ctr rm gone.txt gone2.txt gone3.txt
EVENTUALLY_SECONDS=30 eventually "a delete in the container removes the local file" test ! -e "$app/gone.txt"
three_gone() { [ ! -e "$app/gone2.txt" ] && [ ! -e "$app/gone3.txt" ]; }
EVENTUALLY_SECONDS=30 eventually "... three in one pull, all of them" three_gone
check "... and the broker lives on" broker status
# (with a name no sync carries made beside it: the pull skips it, as the
# upload does a local one, and the sync goes on)
in_ctr sh -c 'touch "gen/$(printf "nl\nx")" && echo x2 >gen/gen.txt'
EVENTUALLY_SECONDS=30 eventually "a change in the container comes back" here gen/gen.txt x2
# (a chmod alone: the same bytes, so it was taken as the same on both
# sides and never applied here)
in_ctr chmod 755 gen/gen.txt
EVENTUALLY_SECONDS=30 eventually "a chmod alone in the container comes back" test -x "$app/gen/gen.txt"
check "... a name with a line break made beside it stays on the host" \
	sh -c "test -z \"\$(find '$app' -name '*[[:cntrl:]]*')\""
check_eq "... and the sync has no error" "$(sync_json | jq -r .lastError)" null
check_eq "what came back is not sent again" "$(sync_json | jq .sent)" "$sent"

# 1,100 files under cache/ (ignored here, not on the host), then a change
# that sorts after them: it comes back, not held behind them.
log=$RDEV_RUNTIME_DIR/broker.log
# pulled_past N: the broker counted more than N files pulled (the batch
# that pulled them ended: its log lines are written in the same pass, after
# the pull wrote the files here)
pulled_past() { [ "$(sync_json | jq .pulled)" -gt "$1" ]; }
p0=$(sync_json | jq .pulled)
in_ctr sh -c 'mkdir -p cache && cd cache && seq 1100 | xargs touch && echo x3 >../gen/gen.txt'
EVENTUALLY_SECONDS=30 eventually "past 1,000 files ignored here, a change still comes back" \
	here gen/gen.txt x3
check "... and they stay on the host" test ! -e "$app/cache/1"
EVENTUALLY_SECONDS=30 eventually "... its batch counted" pulled_past "$p0"
told=$(grep -c "ignored here" "$log" || true)
check "... which the broker's log tells" test "$told" -ge 1
p0=$(sync_json | jq .pulled)
in_ctr sh -c 'echo y >gen/y.txt'
EVENTUALLY_SECONDS=30 eventually "... and the next change too" here gen/y.txt y
EVENTUALLY_SECONDS=30 eventually "... its batch counted" pulled_past "$p0"
check_eq "what is ignored here is told once, not at every pull" "$(grep -c "ignored here" "$log" || true)" "$told"
# A file not written here (an immutable folder: root writes through a
# mode): the others come, it comes once it can.
locked=$app/ro # (before: the trap undoes it, whatever happens next)
if chattr +i "$app/ro" 2>/dev/null; then
	in_ctr sh -c 'echo r >ro/r.txt && echo o >gen/o.txt'
	EVENTUALLY_SECONDS=30 eventually "a file not written here does not hold back the others" \
		here gen/o.txt o
	check "... it is not here" test ! -e "$app/ro/r.txt"
	in_ctr sh -c 'echo p >gen/p.txt'
	EVENTUALLY_SECONDS=30 eventually "... nor a later change" here gen/p.txt p
	# (logged when the batch that could not write it ends, after the
	# files it pulled are here)
	EVENTUALLY_SECONDS=30 eventually "... and the log says it is tried again" \
		grep -q "ro/r.txt.*tried again at the next pull" "$log"
	chattr -i "$app/ro"
	locked=
	EVENTUALLY_SECONDS=30 eventually "... which brings it once it can be written" here ro/r.txt r
else
	locked=
	echo "(chattr +i refused here: the not-written steps skipped)"
fi
# More local files fail on the host than the agent lists (1,100 into a
# folder the container made as root, past the 1,000 it lists, fewer for
# their long errors): it names the folder of the rest (failedUnder), so
# the sync retries those entries instead of resending the whole folder,
# and pulls the rest meanwhile (a whole resend pulls nothing); given back
# to the user, they land. (How many more it counts is not pinned: nm itself
# may fail too, 1100.)
docker exec -u root -w "$ws" "$cid" mkdir -p nm
EVENTUALLY_SECONDS=30 eventually "a folder the container made as root comes back" test -d "$app/nm"
(cd "$app/nm" && seq 1100 | sed 's/$/.js/' | xargs touch)
under_told() { sync_json | jq -r .lastError | grep -Eq "and [0-9]+ more entries that could not land on the host, some of them under 'nm/'"; }
EVENTUALLY_SECONDS=30 eventually "1,100 files refused on the host: lastError counts them, naming the folder" under_told
in_ctr sh -c 'echo e >gen/e.txt'
EVENTUALLY_SECONDS=30 eventually "... while they fail, a change in the container still comes back" \
	here gen/e.txt e
# (a retry batch may carry only the entries the last answer did not list:
# its count is of those, and it names no folder; the error stays)
still_told() {
	local e
	e=$(sync_json | jq -r .lastError)
	printf '%s\n' "$e" | grep -Eq "^'nm/[^']*': .*and [0-9]+ more entries that could not land on the host" ||
		{ echo "(lastError: $e)" >&2; false; }
}
check "... and they still fail" still_told
docker exec -u root -w "$ws" "$cid" chown "$(id -u "rdev-$name"):$(id -g "rdev-$name")" nm
EVENTUALLY_SECONDS=30 eventually "... given back to the user, they land" in_ctr test -e nm/1100.js
# (the retried entries land in more than one batch: 1100.js may be in an
# earlier one than the rest; a dry run under load saw 1,073 at that moment)
nm_all() { [ "$(in_ctr ls nm | wc -l)" = 1100 ]; }
EVENTUALLY_SECONDS=30 eventually "... all of them" nm_all
nm_ok() { [ "$(sync_json | jq -r .lastError)" = null ]; }
EVENTUALLY_SECONDS=30 eventually "... and the error is gone" nm_ok
echo two >"$app/f.txt"
EVENTUALLY_SECONDS=30 eventually "a local edit still goes out" has f.txt two
check_eq "status: two-way, files back, no conflict" \
	"$(sync_json | jq -r '"\(.twoWay) \(.pulled >= 2) \(.removedHere) \(.conflicts)"')" "true true 3 0"
# A mode changed on both sides while the local one cannot land on the
# host (a file in a folder root made in the container): the pull that finds
# the host's chmod keeps the local mode (a conflict), sent says the host's,
# and no event of this side's names the file: the batch scans the whole
# folder, so the retry that lands it carries the local mode (it carried
# sent's, the host's, before 900f6ee).
docker exec -u root -w "$ws" "$cid" sh -c 'mkdir md && echo m >md/g.sh && chmod 644 md/g.sh'
EVENTUALLY_SECONDS=30 eventually "a file in a folder the container made as root comes back" here md/g.sh m
chmod 600 "$app/md/g.sh"
md_refused() { sync_json | jq -r .lastError | grep -q "md/g.sh"; }
EVENTUALLY_SECONDS=30 eventually "... chmod-ed here, it cannot land on the host" md_refused
docker exec -u root -w "$ws" "$cid" chmod 755 md/g.sh
EVENTUALLY_SECONDS=30 eventually "... chmod-ed there too: a conflict, the local mode kept" \
	grep -q "conflict md/g.sh: the local mode 0600 kept, the host's 0755 not applied" "$log"
docker exec -u root -w "$ws" "$cid" chown -R "$(id -u "rdev-$name"):$(id -g "rdev-$name")" md
md_there() { [ "$(in_ctr stat -c %a md/g.sh)" = 600 ]; }
EVENTUALLY_SECONDS=30 eventually "... given back to the user, the local mode lands there" md_there
check_eq "... the same bytes there, and here as they were" \
	"$(in_ctr cat md/g.sh) $(stat -c %a "$app/md/g.sh") $(cat "$app/md/g.sh")" "m 600 m"

# Both sides change f.txt while no broker runs; the next one resumes the
# sync (two-way still) and finds both.
broker stop >/dev/null
in_ctr sh -c 'echo remote >f.txt'
echo local >"$app/f.txt"
rdev status "$name:" "$app" >"$TEST_TMP/status.txt" 2>&1 || true
conflict_file() { ls "$app" | grep -E '^f\.txt\.rdev-conflict-[0-9]{8}T[0-9]{6}Z$'; }
EVENTUALLY_SECONDS=30 eventually "a file changed on both sides: a conflict file here" conflict_file
cf=$(conflict_file)
check_eq "... holding the host's version" "$(cat "$app/$cf")" remote
check_eq "... the local file keeps the local version" "$(cat "$app/f.txt")" local
EVENTUALLY_SECONDS=30 eventually "... which the host gets" has f.txt local
# (a batch's counts are the broker's once it ends, after the host got
# f.txt: the agent renames it into place before it writes its index and
# answers)
counted() { [ "$(sync_json | jq -r '"\(.twoWay) \(.conflicts) \(.lastConflict)"')" = "true 1 $cf" ]; }
EVENTUALLY_SECONDS=30 eventually "the broker's status counts it" counted
check "rdev status prints it" sh -c \
	"'$RDEV_BIN_DIR/rdev' status '$name:' '$app' | grep -q '^  conflicts 1 (the last: $cf)'"
check "the broker's log tells it" grep -q "conflict f.txt: the host's version saved as $cf" \
	"$RDEV_RUNTIME_DIR/broker.log"

# The same when the new broker cannot reach the host at first (its ssh
# config names a closed port): its first batch fails, and its retry still
# asks for the host's changes before it sends, so the conflict is found
# here by the pull (a "<-" line), the same way every time, not kept by
# the agent under the send of the whole folder (a "->" line).
broker stop >/dev/null
log=$RDEV_RUNTIME_DIR/broker.log
: >"$log"
in_ctr sh -c 'echo remote2 >f.txt'
echo local2 >"$app/f.txt"
cp "$cfg" "$TEST_TMP/ssh_config.saved"
saved_cfg=$TEST_TMP/ssh_config.saved # (the trap puts it back)
closed=$(rig_ports 1)
sed -i "s/^\( *Port \).*/\1$closed/" "$cfg"
broker start >/dev/null
failed_once() { [ "$(sync_json | jq -r .lastError)" != null ]; }
EVENTUALLY_SECONDS=30 eventually "the host away, a resumed sync's first batch fails" failed_once
cp "$saved_cfg" "$cfg"
saved_cfg=
conflict2() { grep -l remote2 "$app"/f.txt.rdev-conflict-* 2>/dev/null | head -1; }
EVENTUALLY_SECONDS=30 eventually "... back, a conflict file here with the host's version" conflict2
cf2=$(basename "$(conflict2)")
EVENTUALLY_SECONDS=30 eventually "... and the local version on the host" has f.txt local2
# (the broker counts and logs a batch once it ends, after the host got
# f.txt and the pull wrote the conflict file here: the log is read after
# the count, as above)
counted2() { [ "$(sync_json | jq -r '"\(.conflicts) \(.lastConflict) \(.hostChanged)"')" = "1 $cf2 0" ]; }
EVENTUALLY_SECONDS=30 eventually "... counted once as a conflict, nothing replaced" counted2
check "... found by the retry's pull, before its send" \
	grep -q " <- $name: conflict f.txt: the host's version saved as $cf2" "$log"

# A pull that fails every time (a folder root made in the container that
# the host's user cannot read: the agent cannot scan the host's copy) does
# not hold back the local changes: the whole send after a failed pull goes
# without one.
docker exec -u root -w "$ws" "$cid" sh -c 'mkdir -m 700 priv && echo s >priv/s'
priv=$ws/priv # (the trap removes it)
pull_fails() { sync_json | jq -r .lastError | grep -q 'priv.*Permission denied'; }
EVENTUALLY_SECONDS=30 eventually "a host folder its user cannot read: the pulls fail" pull_fails
echo pf >"$app/pf.txt"
EVENTUALLY_SECONDS=30 eventually "... a local change still goes out" has pf.txt pf
docker exec -u root "$cid" rm -rf "$priv"
priv=
in_ctr sh -c 'echo pb >pb.txt'
EVENTUALLY_SECONDS=30 eventually "... and once it is gone, the pulls go on" here pb.txt pb

# A local symlink where the container made a file, and a local file where
# it made a folder (while no broker runs): the agent keeps the host's as
# NAME.rdev-conflict-* (the folder moved whole, with what it holds), never
# replaced silently, and names what it kept ("keptAs"): two conflicts,
# told as a pull's are, nothing counted as replaced in hostChanged; the
# conflict copies come back here. (The pull cannot save the host's folder
# hd here over a local file either: it keeps the local one, and the send
# that follows makes the agent keep the host's.) (lk/ is immutable here when the broker resumes: its pull
# cannot save the host's lk/s here, so it is the agent that must keep it.)
mkdir -p "$app/lk"
EVENTUALLY_SECONDS=30 eventually "a local folder goes out" in_ctr test -d lk
locked=$app/lk
if chattr +i "$app/lk" 2>/dev/null; then
	chattr -i "$app/lk"
	broker stop >/dev/null
	in_ctr sh -c 'echo host-s >lk/s && mkdir -p hd/sub && echo made >hd/sub/made'
	ln -s ../f.txt "$app/lk/s"
	echo local-hd >"$app/hd"
	chattr +i "$app/lk"
	rdev status "$name:" "$app" >"$TEST_TMP/status.txt" 2>&1 || true
	link_there() { [ "$(in_ctr readlink lk/s)" = ../f.txt ]; }
	EVENTUALLY_SECONDS=30 eventually "a local symlink over a file the container made goes out" link_there
	check_eq "... and the host's file is kept as its conflict file there" \
		"$(in_ctr sh -c 'cat lk/s.rdev-conflict-*')" host-s
	EVENTUALLY_SECONDS=30 eventually "a local file over a folder the container made goes out" has hd local-hd
	check_eq "... and the host's folder is kept whole as its conflict name there" \
		"$(in_ctr sh -c 'cat hd.rdev-conflict-*/sub/made')" made
	# (the broker counts and logs the agent's keeps once the batch ends,
	# after the host got the symlink and the file: the last one kept is
	# waited for, then the counts and the log are read)
	last_kept() { sync_json | jq -r .lastConflict | grep -Eqx 'lk/s\.rdev-conflict-[0-9]{8}T[0-9]{6}Z(-[0-9]+)?'; }
	EVENTUALLY_SECONDS=30 eventually "the broker's last conflict is the last one kept (path order)" last_kept
	# (a new broker: its counts start at 0; the pull also counts hd and
	# hd/sub as conflicts, "the host's folder not applied")
	check_eq "... its status counts both as conflicts, none as replaced" \
		"$(sync_json | jq -r '"\(.conflicts >= 2) \(.hostChanged)"')" "true 0"
	check "... and the log tells each as a conflict (the host's symlink)" \
		grep -Eq " -> $name: conflict lk/s: the host's version saved as lk/s\.rdev-conflict-" "$log"
	check "... (the host's folder)" \
		grep -Eq " -> $name: conflict hd: the host's version saved as hd\.rdev-conflict-" "$log"
	check "... never as replaced" sh -c "! grep -q 'the local version replaced it' '$log'"
	chattr -i "$app/lk"
	locked=
	lk_back() { [ "$(cat "$app"/lk/s.rdev-conflict-* 2>/dev/null)" = host-s ]; }
	EVENTUALLY_SECONDS=30 eventually "the host's file comes back here as its conflict file" lk_back
	hd_back() { [ "$(cat "$app"/hd.rdev-conflict-*/sub/made 2>/dev/null)" = made ]; }
	EVENTUALLY_SECONDS=30 eventually "... and the host's folder, with what it holds" hd_back
	check_eq "the local symlink and file stay" "$(readlink "$app/lk/s") $(cat "$app/hd")" \
		"../f.txt local-hd"
else
	locked=
	echo "(chattr +i refused here: the kinds-in-the-way steps skipped)"
fi

# The same in the foreground: `rdev sync --watch --two-way` prints what
# comes back. It starts with a whole upload, before any pull: a file both
# sides changed while no sync ran is kept there by the agent as its
# conflict file (keepHostChanges), told as a conflict, and brought here by
# the first pull; never replaced by the local version (the upload once
# sent without keepHostChanges: the host's version was lost, told only as
# "the local version replaced it").
rdev sync --stop "$name:" "$app" >/dev/null
rc=0
rdev sync "$name:" "$app" --two-way >/dev/null 2>&1 || rc=$?
check_eq "--two-way without --watch is refused (usage)" "$rc" 2
in_ctr sh -c 'echo remote3 >f.txt'
echo local3 >"$app/f.txt"
"$RDEV_BIN_DIR/rdev" sync "$name:" "$app" --watch --two-way >"$TEST_TMP/w.out" 2>"$TEST_TMP/w.err" &
watcher=$!
watching() { grep -q "watching" "$TEST_TMP/w.err"; }
eventually "rdev sync --watch --two-way watches" watching
check_eq "changed on both sides while no sync ran: the host gets the local version" \
	"$(in_ctr cat f.txt)" local3
conflict3() { grep -l remote3 "$app"/f.txt.rdev-conflict-* 2>/dev/null | head -1; }
EVENTUALLY_SECONDS=30 eventually "... and the host's comes here as a conflict file" conflict3
check_eq "... the local file keeps the local version" "$(cat "$app/f.txt")" local3
check "... told as a conflict" grep -q "conflict f.txt: the host's version saved as f.txt.rdev-conflict-" \
	"$TEST_TMP/w.err"
check "... never as replaced" sh -c "! grep -q 'the local version replaced it' '$TEST_TMP/w.err'"
in_ctr sh -c 'echo w >w.txt'
pulled() { here w.txt w && grep -qx "pulled w.txt" "$TEST_TMP/w.out"; }
EVENTUALLY_SECONDS=30 eventually "... brings back a file made in the container, and says so" pulled
kill -INT "$watcher"
wait "$watcher" || fail "the watcher ended with $?"
watcher=

# And `rdev up --sync --two-way` again after both sides changed f.txt while
# no sync ran: its upload keeps the host's version there too, and the
# broker's first pull brings it here.
in_ctr sh -c 'echo remote4 >f.txt'
echo local4 >"$app/f.txt"
rig_sync_up "$app" --sync --two-way
check_eq "up --sync --two-way: the host gets the local version" "$(in_ctr cat f.txt)" local4
check "... the upload tells the host's kept as a conflict" \
	grep -q "conflict f.txt: the host's version saved as f.txt.rdev-conflict-" "$TEST_TMP/up.err"
conflict4() { grep -l remote4 "$app"/f.txt.rdev-conflict-* 2>/dev/null | head -1; }
EVENTUALLY_SECONDS=30 eventually "... and the broker brings it here" conflict4
check "... never told as replaced" sh -c "! grep -q 'the local version replaced it' '$TEST_TMP/up.err'"

rdev down "$name:" "$app" >/dev/null 2>&1 || fail "rdev down"
finish
