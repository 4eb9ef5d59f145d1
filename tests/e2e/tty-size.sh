#!/usr/bin/env bash
# tty-size.sh - a command started with a TTY sees the client's window size on
# its very first read: `rdev exec WS -- stty size` through a real pty of 37x101
# (tests/e2e/pty_drive.py) prints "37 101" 20 times out of 20, for a local
# workspace (a Debian image, and a FROM scratch image with only busybox, whose
# stty is busybox's) and for a remote one (a rig sshd host, through the
# broker). On Docker 20.10 (API 1.41, no ConsoleSize) the size used to be set
# only after the command had started, and a fast command read "0 0". Also: a
# missing command with a TTY still fails with 126/127 and a message naming
# it, on a line ending in \r\n (local and remote). Execs go through the
# container's rdev-relay (it sizes the pty before the command starts); the
# Docker exec path (RDEV_EXEC_VIA=docker) is checked too, and without a TTY
# it copies nothing into the container.
# A command typed at a terminal with its stdout sent to a file gets no TTY:
# the file is byte-exact, stderr apart (local and remote).
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
export RDEV_STATE_DIR=$TEST_TMP/state
drive=$RDEV_SOURCE_DIR/tests/e2e/pty_drive.py
wss=()
remote=

cleanup() {
	local rc=$? ws
	set +e # (exit $rc) below must not end the trap
	for ws in "${wss[@]+"${wss[@]}"}"; do
		docker ps -aq --filter "label=devcontainer.local_folder=$ws" |
			xargs -r docker rm -f >/dev/null
	done
	if [ -n "$remote" ]; then
		(exit $rc)
		rig_remote_cleanup ws
		return
	fi
	(exit $rc)
	rig_test_cleanup
}
trap cleanup EXIT

# sizes LABEL TARGET: run `rdev exec TARGET -- stty size` 20 times through a
# pty of 37 rows, 101 columns, four at a time (each in its own pty; the load
# makes a late resize more likely to show, not less); every answer must be
# exactly "37 101".
sizes() {
	local label=$1 target=$2 i pids=() st
	: >"$TEST_TMP/sizes"
	for i in $(seq 20); do
		python3 "$drive" -q --rows 37 --cols 101 --timeout 60 --log "$TEST_TMP/pty-$i.log" \
			--step 'expect \r\n' --step 'exitstatus 0' \
			-- "$RDEV_BIN_DIR/rdev" exec "$target" -- stty size &
		pids+=($!)
		if [ $((i % 4)) -eq 0 ]; then
			for st in "${pids[@]}"; do
				wait "$st" || fail "$label: a run of rdev exec $target -- stty size failed"
			done
			pids=()
		fi
	done
	for i in $(seq 20); do
		tr -d '\r' <"$TEST_TMP/pty-$i.log" >>"$TEST_TMP/sizes"
	done
	echo "     ($label: the answers, counted: $(sort "$TEST_TMP/sizes" | uniq -c | tr -s ' \n' ' '))"
	check_eq "$label: stty size read 37 101 at once, 20 times of 20" \
		"$(grep -cx '37 101' "$TEST_TMP/sizes" || true)" 20
}

# redirected LABEL TARGET: `rdev exec TARGET -- ...` typed at a terminal (stdin
# a real pty) with stdout and stderr sent to files gets no TTY, as the
# reference's exec (a TTY only when stdin and stdout are terminals): stdout is
# byte-exact (no \n made \r\n; it was 1,004,088 bytes for 1,000,000) and
# stderr stays out of it; the exec ends though stdin never does.
redirected() {
	local label=$1 target=$2
	python3 "$drive" -q --timeout 60 --log "$TEST_TMP/redir-pty.log" --step 'exitstatus 0' \
		-- sh -c 'exec "$0" exec "$1" -- sh -c "seq 1 20000; echo to-stderr >&2" >"$2" 2>"$3"' \
		"$RDEV_BIN_DIR/rdev" "$target" "$TEST_TMP/redir.out" "$TEST_TMP/redir.err" ||
		fail "$label: rdev exec at a terminal, stdout to a file, failed"
	seq 1 20000 >"$TEST_TMP/redir.want"
	check "$label: stdin a terminal, stdout a file: the output byte-exact ($(wc -c <"$TEST_TMP/redir.out") bytes)" \
		cmp "$TEST_TMP/redir.out" "$TEST_TMP/redir.want"
	check_eq "$label: stdin a terminal, stdout a file: stderr apart" \
		"$(cat "$TEST_TMP/redir.err")" to-stderr
}

# start_failures LABEL TARGET: a command that cannot start, with a TTY: 127
# for a missing one, 126 for one not executable, with a message naming it
# whose line ends in \r\n (the terminal is raw while the exec runs: a bare \n
# left the shell's prompt after it at the message's last column).
start_failures() {
	local label=$1 target=$2 cmd want rc
	for cmd in no-such-command-xyz /etc/passwd; do
		want=127
		[ "$cmd" = /etc/passwd ] && want=126
		set +e
		python3 "$drive" -q --rows 37 --cols 101 --timeout 60 --log "$TEST_TMP/pty.log" \
			-- "$RDEV_BIN_DIR/rdev" exec "$target" -- "$cmd"
		rc=$?
		set -e
		check_eq "$label, TTY: $cmd fails with $want" "$rc" "$want"
		check "$label, TTY: and the message names it" \
			grep -qiE "\"$cmd\": (executable file not found|permission denied)" "$TEST_TMP/pty.log"
		check "$label, TTY: each line of it ends in \\r\\n ($(od -An -c "$TEST_TMP/pty.log" | tail -c 24 | tr -s ' '))" \
			test "$(grep -c $'\r$' "$TEST_TMP/pty.log")" = "$(wc -l <"$TEST_TMP/pty.log")" \
			-a "$(wc -l <"$TEST_TMP/pty.log")" -ge 1
	done
}

# local_ws LABEL IMAGE [USER]: a local workspace of IMAGE, up, in $lws.
local_ws() {
	lws=$TEST_TMP/ws-$1
	wss+=("$lws")
	mkdir -p "$lws"
	if [ -n "${3:-}" ]; then
		printf '{"image": "%s", "remoteUser": "%s", "updateRemoteUserUID": false}\n' \
			"$2" "$3" >"$lws/.devcontainer.json"
	else
		printf '{"image": "%s", "updateRemoteUserUID": false}\n' "$2" >"$lws/.devcontainer.json"
	fi
	rdev up "$lws" >"$TEST_TMP/up.out" 2>&1 || { cat "$TEST_TMP/up.out" >&2; fail "$1: up failed"; }
}

# --- the wrapper itself, on this machine -------------------------------------------
relay=$RDEV_BIN_DIR/rdev-relay
check "rdev-relay --winsize sets the terminal's size, then runs the command" \
	python3 "$drive" -q --rows 5 --cols 7 --step 'expect ^37 101\r\n' --step 'exitstatus 0' \
	-- "$relay" --winsize 37 101 stty size
check_eq "rdev-relay --winsize passes the arguments and the exit status on" \
	"$(set +e; "$relay" --winsize 2 3 sh -c 'echo "$0:$1"; exit 5' a 'b c' </dev/null; echo "=$?")" \
	"$(printf 'a:b c\n=5')"
set +e
"$relay" --winsize 2 3 no-such-command-xyz </dev/null 2>"$TEST_TMP/relay.err"
rc=$?
"$relay" --winsize 0 3 true </dev/null 2>/dev/null
rc_bad=$?
set -e
check_eq "rdev-relay --winsize: a missing command exits 127" "$rc" 127
check "rdev-relay --winsize: and says so" \
	grep -q '"no-such-command-xyz": executable file not found' "$TEST_TMP/relay.err"
check "rdev-relay --winsize: a size of 0 is refused" test "$rc_bad" -ne 0

# --- local ------------------------------------------------------------------------
local_ws debian "$RDEV_RIG_IMAGE_BOOKWORM_DEV" dev
ws=$lws
sizes "local, Debian" "$ws"
redirected "local, Debian" "$ws"
RDEV_EXEC_VIA=docker sizes "local, Debian, through a Docker exec" "$ws"

start_failures "local" "$ws"
check_eq "local, TTY: the command runs as the remote user" \
	"$(python3 "$drive" -q --rows 37 --cols 101 --timeout 60 --log "$TEST_TMP/pty.log" \
		--step 'expect dev\r\n' -- "$RDEV_BIN_DIR/rdev" exec "$ws" -- id -un >/dev/null &&
		tr -d '\r' <"$TEST_TMP/pty.log")" dev
local_ws scratch "$RDEV_RIG_IMAGE_BUSYBOX"
bws=$lws
bcid=$(docker ps -q --filter "label=devcontainer.local_folder=$bws")
RDEV_EXEC_VIA=docker rdev exec "$bws" -- true </dev/null
check "local, no TTY, through a Docker exec: nothing is copied into the container for it" \
	sh -c "! docker exec '$bcid' test -e /.rdev-relay"
rdev exec "$bws" -- true </dev/null
check "local, no TTY: the exec went through the relay, now in the container" \
	docker exec "$bcid" test -e /.rdev-relay
sizes "local, FROM scratch busybox" "$bws"
RDEV_EXEC_VIA=docker sizes "local, FROM scratch busybox, through a Docker exec" "$bws"

# --- remote ---------------------------------------------------------------------
rig_remote_host t
remote=1
on_host "mkdir -p ~/ws && printf '%s' '{\"image\": \"$RDEV_RIG_IMAGE_BOOKWORM_DEV\",
	\"remoteUser\": \"dev\", \"updateRemoteUserUID\": false}' > ~/ws/.devcontainer.json"
rdev up "$name:~/ws" >"$TEST_TMP/up.out" 2>&1 || { cat "$TEST_TMP/up.out" >&2; fail "remote: up failed"; }
sizes "remote" "$name:~/ws"
start_failures "remote" "$name:~/ws"
redirected "remote" "$name:~/ws"
finish
