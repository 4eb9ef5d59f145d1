#!/usr/bin/env bash
# up-waits.sh - `up` runs every lifecycle step before it returns, as the
# reference CLI does (issue 14), on a local and on a remote target:
#   `rdev up ws --recreate && rdev exec ws -- cat /tmp/ready` (the file a 1 s
#   postCreateCommand writes) works $RDEV_UP_WAITS_ROUNDS times out of as many
#   (default 5; an up that returned early fails every round: the exec comes
#   within 0.1 s), and that exec prints nothing on stderr; the progress shows
#   array commands quoted as a shell needs them;
#   --skip-non-blocking-commands returns before the slow postCreateCommand
#   ends (the file is absent right after), says which steps it left (all of
#   them), exec and shell print one line naming them while they run and none
#   after, `rdev logs -f` ends with 0 once they have ended (the file is there
#   then); a failing background step makes `logs -f` exit 1 with its message,
#   and the foreground `up` fails with it;
#   --skip-post-create runs none of the in-container steps (initializeCommand
#   still runs, and says so), --skip-post-attach all but postAttachCommand, the same as the
#   reference CLI's flags on a workspace of its own (local only).
# The local and the remote target's checks run at the same time (they mostly
# wait for lifecycle steps), each with its own output. A test that ends
# early stops them with all they run and leaves no container behind
# (RDEV_UP_WAITS_FAIL_AFTER=S fails it S s after they started, to see that).
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
export RDEV_STATE_DIR=$TEST_TMP/state
rounds=${RDEV_UP_WAITS_ROUNDS:-5}
bg_pids=()

# postCreateCommand sleeps (1 s, or what the workspace's file "nap" says),
# and on while the workspace holds "hold" (until the test removes it; at most
# 60 s, so a regression fails the test rather than hanging it),
# then fails when the workspace holds "fail", else writes /tmp/ready. Arrays,
# to see them shown quoted.
pc_argv='sh -c '\''sleep $(cat nap 2>/dev/null || echo 1); n=0; while [ -e hold ] && [ $n -lt 600 ]; do sleep 0.1; n=$((n+1)); done; if [ -e fail ]; then echo boom >&2; exit 3; fi; echo made > /tmp/ready'\'
config() {
	cat <<JSON
{
  "image": "$RDEV_RIG_IMAGE_BUSYBOX",
  "initializeCommand": "echo init >> init.count",
  "postCreateCommand": ["sh", "-c", "sleep \$(cat nap 2>/dev/null || echo 1); n=0; while [ -e hold ] && [ \$n -lt 600 ]; do sleep 0.1; n=\$((n+1)); done; if [ -e fail ]; then echo boom >&2; exit 3; fi; echo made > /tmp/ready"],
  "postStartCommand": "echo started > /tmp/started",
  "postAttachCommand": ["sh", "-c", "echo attached >> /tmp/attached"]
}
JSON
}

ws=$TEST_TMP/ws-waits
refws=$TEST_TMP/ws-waits-ref
mkdir -p "$ws" "$refws"
config >"$ws/.devcontainer.json"
config >"$refws/.devcontainer.json"
rig_remote_host w
on_host "mkdir -p ~/ws && cat > ~/ws/.devcontainer.json" <"$ws/.devcontainer.json"
# stories_stop: the stories still running (the test ended early) stopped
# with all they run: each is a process group of its own (in_background),
# and a story's subshell killed alone left its `rdev up` running, which
# made a container after the test had gone (24 s later, once). Then no
# request of theirs is left on the host: its agent's workers, cancelled
# once the broker is gone, have ended.
stories_stop() {
	local e g i
	# (a story that ended left an empty group, whose number another
	# process may have by now: only groups whose leader is still this
	# shell's child; one that is empty is never signalled below either)
	for e in "${bg_pids[@]}"; do
		g=${e#*=}
		[ "$(ps -o ppid= -p "$g" 2>/dev/null | tr -d ' ')" = "$$" ] || continue
		kill -TERM -- "-$g" 2>/dev/null || true
	done
	for e in "${bg_pids[@]}"; do
		g=${e#*=}
		wait "$g" 2>/dev/null || true
		for i in $(seq 100); do
			pgrep -g "$g" >/dev/null || break
			[ "$i" -lt 100 ] || kill -KILL -- "-$g" 2>/dev/null || true
			sleep 0.1
		done
	done
	bg_pids=()
	broker stop >/dev/null 2>&1 || true
	for i in $(seq 150); do
		# (running: alive_pids)
		[ -n "$(pgrep -u "rdev-$name" -f 'rdev-agent' | alive_pids)" ] || break
		sleep 0.1
	done
}
cleanup() {
	local rc=$? f
	set +e
	[ ${#bg_pids[@]} -eq 0 ] || stories_stop
	for f in "$ws" "$refws"; do
		docker ps -aq --filter "label=devcontainer.local_folder=$f" | xargs -r docker rm -f >/dev/null
	done
	(exit $rc)
	rig_remote_cleanup ws
}
trap cleanup EXIT

# ws_file TARGET put|rm NAME [TEXT]: a file in TARGET's workspace folder.
ws_file() {
	case $1 in
	"$ws")
		if [ "$2" = put ]; then printf '%s' "${4:-}" >"$ws/$3"; else rm -f "$ws/$3"; fi ;;
	*)
		if [ "$2" = put ]; then on_host "printf '%s' '${4:-}' > ~/ws/$3"; else on_host "rm -f ~/ws/$3"; fi ;;
	esac
}

# rounds_ok TARGET DIR: how many of $rounds `up --recreate && exec cat
# /tmp/ready` printed "made" and nothing else (no warning either: nothing runs
# on); the last up's stderr in DIR/round.err.
rounds_ok() {
	local t=$1 d=$2 i ok=0 got
	for i in $(seq "$rounds"); do
		got=$(rdev up "$t" --recreate 2>"$d/round.err" >/dev/null &&
			rdev exec "$t" -- cat /tmp/ready 2>&1) || true
		if [ "$got" = made ]; then
			ok=$((ok + 1))
		else
			echo "round $i on $t: got '$got'; up said:" >&2
			cat "$d/round.err" >&2
		fi
	done
	echo "$ok"
}

# story TARGET WHAT: the checks above on TARGET (its files in $TEST_TMP/WHAT).
story() {
	local t=$1 what=$2 d=$TEST_TMP/$2 s left
	mkdir -p "$d"
	check_eq "$what: up && exec cat /tmp/ready, $rounds rounds" "$(rounds_ok "$t" "$d")" "$rounds"
	check "$what: up showed the array command quoted" grep -qF \
		"Running the postCreateCommand: \`$pc_argv\`" "$d/round.err"
	check "$what: and its postAttachCommand" grep -qF \
		"Running the postAttachCommand: \`sh -c 'echo attached >> /tmp/attached'\`" \
		"$d/round.err"

	# --- the rest in the background --------------------------------------
	# (held until exec and shell have run: it was a 4 s nap, which a loaded
	# machine could outlast and which the test waited out)
	ws_file "$t" put nap 0
	ws_file "$t" put hold
	rdev up "$t" --recreate --skip-non-blocking-commands >/dev/null 2>"$d/bg-up.err" ||
		{ cat "$d/bg-up.err" >&2; fail "$what: up --skip-non-blocking-commands failed"; }
	set +e
	rdev exec "$t" -- cat /tmp/ready >"$d/bg-exec.out" 2>"$d/bg-exec.err"
	s=$?
	rdev shell "$t" </dev/null >/dev/null 2>"$d/bg-shell.err"
	set -e
	check "$what: up returned before postCreateCommand ended (no /tmp/ready yet)" \
		test "$s" -ne 0
	check_eq "$what: up named every step it left" \
		"$(grep 'in the background' "$d/bg-up.err")" \
		"The remaining lifecycle steps continue in the background (see \`rdev logs -f\`): postCreateCommand, postStartCommand, postAttachCommand"
	left="postCreateCommand, postStartCommand and postAttachCommand are still running in the background (see \`rdev logs -f $t\`)"
	check_eq "$what: exec said once which steps still run" \
		"$(grep '^rdev: ' "$d/bg-exec.err")" "rdev: $left"
	check_eq "$what: shell too" "$(grep '^rdev: ' "$d/bg-shell.err")" "rdev: $left"
	ws_file "$t" rm hold
	set +e
	timeout --foreground 60 "$RDEV_BIN_DIR/rdev" logs -f "$t" >"$d/bg-logs.out" 2>"$d/bg-logs.err"
	s=$?
	set -e
	check_eq "$what: logs -f ended with 0 once the background steps had" "$s" 0
	check "$what: logs -f showed them to the end" grep -q 'postAttachCommand: done' \
		"$d/bg-logs.out"
	check "$what: the log shows the array command quoted" grep -qF \
		"postCreateCommand: running \`$pc_argv\`" "$d/bg-logs.out"
	rdev exec "$t" -- cat /tmp/ready >"$d/after.out" 2>"$d/after.err"
	check_eq "$what: /tmp/ready is there once logs -f has ended" "$(cat "$d/after.out")" made
	check "$what: exec says nothing once they have ended" test ! -s "$d/after.err"
	check_eq "$what: logs --json: the background run is done" \
		"$(rdev logs "$t" --json | jq -r .background.state)" done

	# --- a failing background step -----------------------------------------
	ws_file "$t" put nap 1
	ws_file "$t" put fail
	rdev up "$t" --recreate --skip-non-blocking-commands >/dev/null 2>&1 ||
		fail "$what: up --skip-non-blocking-commands (failing later) failed"
	set +e
	timeout --foreground 60 "$RDEV_BIN_DIR/rdev" logs -f "$t" >"$d/fail-logs.out" 2>"$d/fail-logs.err"
	s=$?
	set -e
	check_eq "$what: logs -f exits 1 when a background step failed" "$s" 1
	check "$what: and says which" grep -qF "rdev: logs: the background lifecycle steps failed: postCreateCommand failed: \`$pc_argv\` exited with status 3" "$d/fail-logs.err"
	check "$what: the log has the step's stderr" grep -q 'postCreateCommand: boom' \
		"$d/fail-logs.out"
	check_eq "$what: logs --json: failed" \
		"$(rdev logs "$t" --json | jq -r .background.state)" failed
	set +e
	rdev up "$t" >/dev/null 2>"$d/fail-up.err"
	s=$?
	set -e
	check_eq "$what: the foreground up runs it again and fails" "$s" 1
	check "$what: with the step's message" grep -qF "postCreateCommand failed: \`$pc_argv\` exited with status 3" "$d/fail-up.err"
	check_eq "$what: a foreground up leaves no background story" \
		"$(rdev logs "$t" --json | jq -r .background.state)" none
	ws_file "$t" rm fail
	ws_file "$t" rm nap

	# --- --skip-post-create, --skip-post-attach --------------------------------
	rdev up "$t" --recreate --skip-post-create >/dev/null 2>"$d/spc.err" ||
		fail "$what: up --skip-post-create failed"
	check "$what: --skip-post-create ran no in-container step" rdev exec "$t" -- \
		sh -c '! ls /tmp/ready /tmp/started /tmp/attached 2>/dev/null'
	check "$what: --skip-post-create: nothing said it ran" \
		sh -c "! grep 'Running the' '$d/spc.err' | grep -qv 'Running the initializeCommand'"
	check "$what: but initializeCommand ran, named as it started" \
		grep -qF 'Running the initializeCommand: `echo init >> init.count`' "$d/spc.err"
	rdev up "$t" --recreate --skip-post-attach >/dev/null 2>&1 ||
		fail "$what: up --skip-post-attach failed"
	check "$what: --skip-post-attach ran the others" rdev exec "$t" -- \
		test -e /tmp/ready -a -e /tmp/started
	check "$what: but not postAttachCommand" rdev exec "$t" -- test ! -e /tmp/attached
	rdev up "$t" >/dev/null 2>&1 || fail "$what: up after --skip-post-attach failed"
	check_eq "$what: the next up runs postAttachCommand" \
		"$(rdev exec "$t" -- cat /tmp/attached)" attached
}

# in_background NAME CMD...: run CMD, checks and all, in the background, its
# output in $TEST_TMP/NAME.out; then background_end waits for them, shows
# their output, counts their checks and fails if one of them did. Each runs
# as a process group of its own (set -m), its commands in it (set +m
# inside: with it each would have a group of its own), for stories_stop.
in_background() {
	local n=$1
	shift
	set -m
	(
		set +m
		"$@"
	) >"$TEST_TMP/$n.out" 2>&1 &
	set +m
	bg_pids+=("$n=$!")
}
background_end() {
	local e n failed=
	for e in "${bg_pids[@]}"; do
		n=${e%%=*}
		wait "${e#*=}" || failed+=" $n"
		cat "$TEST_TMP/$n.out"
		CHECKS_PASSED=$((CHECKS_PASSED + $(grep -c '^ok ' "$TEST_TMP/$n.out" || true)))
	done
	bg_pids=()
	[ -z "$failed" ] || fail "failed:$failed (above)"
}

local_story() {
	local init_before
	story "$ws" local
	init_before=$(wc -l <"$ws/init.count")
	rdev up "$ws" --recreate --skip-post-create >/dev/null 2>&1
	check_eq "local: --skip-post-create still ran initializeCommand" \
		"$(wc -l <"$ws/init.count")" $((init_before + 1))
}
# The local and the remote story at once: each mostly waits for its
# container's lifecycle steps, and they share nothing but the engine.
in_background local local_story
in_background remote story "$name:~/ws" remote
# (RDEV_UP_WAITS_FAIL_AFTER=S: fail S s later, to see the cleanup stop them)
if [ -n "${RDEV_UP_WAITS_FAIL_AFTER:-}" ]; then
	sleep "$RDEV_UP_WAITS_FAIL_AFTER"
	fail "failed on purpose (RDEV_UP_WAITS_FAIL_AFTER) while the stories ran"
fi

# --- the reference's flags, on a workspace of its own ------------------------
REF=${RDEV_DEVCONTAINER_CLI:-}
[ -n "$REF" ] && [ -x "$REF" ] || fail "the reference CLI is not available at '$REF'"
ref_up() {
	TMPDIR=$TEST_TMP "$REF" up --workspace-folder "$refws" "$@" 2>"$TEST_TMP/ref.err" |
		tail -n 1 | jq -r .containerId
}
yes_no() { if "$@" 2>/dev/null; then echo yes; else echo no; fi; }
# What the reference's ups did (one a line): kept for the other build's run
# of this test on the same dockerd (lib.sh, rig_ref_key; they hold no name).
key=$(printf '%s\n' "up-waits $RDEV_RIG_IMAGE_BUSYBOX" "$(sha256sum <"${BASH_SOURCE[0]}")" | rig_ref_key)
REFCACHE=$(rig_ref_cache "$key")
if [ -n "$REFCACHE" ] && [ -f "$REFCACHE/flags" ]; then
	cp "$REFCACHE/flags" "$TEST_TMP/ref-flags"
	echo "info the reference's results kept by an earlier run on this dockerd"
else
	cid=$(ref_up --skip-post-create) || fail "reference up --skip-post-create failed"
	no_step=$(yes_no docker exec "$cid" sh -c '! ls /tmp/ready /tmp/started /tmp/attached 2>/dev/null')
	inits=$(wc -l <"$refws/init.count")
	cid=$(ref_up --remove-existing-container --skip-post-attach) ||
		fail "reference up --skip-post-attach failed"
	others=$(yes_no docker exec "$cid" test -e /tmp/ready -a -e /tmp/started)
	no_attach=$(yes_no docker exec "$cid" test ! -e /tmp/attached)
	printf '%s\n' "$no_step" "$inits" "$others" "$no_attach" >"$TEST_TMP/ref-flags"
	[ -z "$REFCACHE" ] || rig_ref_keep "$REFCACHE/flags" <"$TEST_TMP/ref-flags"
fi
{ read -r no_step; read -r inits; read -r others; read -r no_attach; } <"$TEST_TMP/ref-flags"
check_eq "reference: --skip-post-create ran no in-container step either" "$no_step" yes
check_eq "reference: and initializeCommand ran, as with rdev" "$inits" 1
check_eq "reference: --skip-post-attach ran the others" "$others" yes
check_eq "reference: but not postAttachCommand, as rdev" "$no_attach" yes
background_end
finish
