#!/usr/bin/env bash
# shell-local.sh - an interactive shell in a local workspace, driven through a
# real pseudo-terminal (tests/e2e/pty_drive.py): `rdev exec WS -- sh` with the
# pty as stdin gets a TTY in the container; typed commands run and print; the
# window size is the terminal's and follows a resize (SIGWINCH -> the exec's
# TTY); TERM is passed; ^C interrupts the remote foreground command, not rdev;
# `exit 3` and ^D end it with the shell's status. Also checks that the harness
# itself reports a failed expectation.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
export RDEV_STATE_DIR=$TEST_TMP/state
drive=$RDEV_SOURCE_DIR/tests/e2e/pty_drive.py

ws=$TEST_TMP/ws-shell
mkdir -p "$ws"
cat >"$ws/.devcontainer.json" <<JSON
{
  "image": "$RDEV_RIG_IMAGE_BOOKWORM_DEV",
  "remoteUser": "dev",
  "updateRemoteUserUID": false
}
JSON
trap 'docker ps -aq --filter "label=devcontainer.local_folder=$ws" | xargs -r docker rm -f >/dev/null; rig_test_cleanup' EXIT
rdev up "$ws" >/dev/null 2>"$TEST_TMP/up.err" || { cat "$TEST_TMP/up.err" >&2; fail "up failed"; }

# The harness fails loudly when the output does not come (so the checks
# below can fail): status 255 and the output it saw. (5 s: sh must have
# answered by then, which on a loaded machine 1 s did not always leave; the
# missed expect, after sh has answered, gets 0.5 s.)
set +e
python3 "$drive" --timeout 5 -q --step 'sendline echo one-$((1+1))' --step 'expect one-2' \
	--step 'timeout 0.5' --step 'expect one-3' -- sh 2>"$TEST_TMP/harness.err"
rc=$?
set -e
check_eq "pty_drive: a missed expect exits 255" "$rc" 255
check "pty_drive: and shows the output it got" grep -q 'one-2' "$TEST_TMP/harness.err"

# PS1='P''S1> ': the prompt "PS1> " never appears in the echo of what is typed.
cat >"$TEST_TMP/steps" <<'EOF'
expect [$#] $
sendline PS1='P''S1> '
expect PS1> $
sendline echo hi-$((1+2))
expect \r\nhi-3\r\nPS1> $
sendline stty size
expect \r\n24 80\r\nPS1> $
sendline echo term=$TERM
expect \r\nterm=xterm-256color\r\nPS1> $
sendline tty
expect \r\n/dev/pts/[0-9]+\r\nPS1> $
resize 40 120
# The resize reaches the container asynchronously (rdev gets SIGWINCH, then
# resizes the exec's TTY): poll for it, 5 s at most.
sendline for i in $(seq 50); do [ "$(stty size)" = "40 120" ] && break; sleep 0.1; done; echo size=$(stty size)
expect \r\nsize=40 120\r\nPS1> $
sendline sleep 60
sleep 0.5
intr
expect PS1> $
sendline echo after-^C-$((40+2))
expect \r\nafter-\^C-42\r\nPS1> $
sendline exit 3
exitstatus 3
EOF
t0=$(date +%s%N)
check "shell: type, read, resize, ^C, exit 3 through a pty (rdev exits 3)" \
	python3 "$drive" --rows 24 --cols 80 --term xterm-256color --timeout 15 \
	--log "$TEST_TMP/pty.log" --steps "$TEST_TMP/steps" -- "$RDEV_BIN_DIR/rdev" exec "$ws" -- sh
echo "     (the session took $((($(date +%s%N) - t0) / 1000000)) ms)"

check "shell: ^D at the prompt ends the shell with status 0" \
	python3 "$drive" -q --timeout 15 --step 'expect [$#] $' --step 'eof' --step 'exitstatus 0' \
	-- "$RDEV_BIN_DIR/rdev" exec "$ws" -- sh
# The size seen by a command that asks at once: tests/e2e/tty-size.sh.
finish
