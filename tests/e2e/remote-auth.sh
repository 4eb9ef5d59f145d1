#!/usr/bin/env bash
# remote-auth.sh - SSH authentication that needs the user, through the
# broker (a daemon without a terminal): an identity file with a passphrase
# and no ssh-agent. The broker sends the passphrase prompt to the client,
# which asks on its terminal (driven through a real pty by pty_drive.py);
# with no terminal the command fails with a message naming the key.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
rig_remote_host a
trap 'rig_remote_cleanup' EXIT
unset SSH_AUTH_SOCK
drive=$RDEV_SOURCE_DIR/tests/e2e/pty_drive.py

# The rig's key, encrypted with a passphrase, and a config without BatchMode.
cp "$RDEV_RIG_CLIENT_KEY" "$TEST_TMP/key"
cp "$RDEV_RIG_CLIENT_KEY.pub" "$TEST_TMP/key.pub"
chmod 600 "$TEST_TMP/key"
ssh-keygen -q -p -P '' -N 'open sesame' -f "$TEST_TMP/key" >/dev/null
{
	echo "Host $name"
	sed -n 's/^ *\(HostName\|Port\|User\|UserKnownHostsFile\|GlobalKnownHostsFile\) /  \1 /p' "$cfg"
	echo "  IdentityFile $TEST_TMP/key"
	echo "  IdentitiesOnly yes"
} >"$TEST_TMP/ssh_config"
export RDEV_SSH_CONFIG=$TEST_TMP/ssh_config

cat >"$TEST_TMP/steps" <<'STEPS'
expect Enter passphrase for key .*key.: $
sendline open sesame
expect CONTAINER
exitstatus 0
STEPS
check "a key with a passphrase: the prompt reaches the client's terminal" \
	python3 "$drive" --timeout 30 --steps "$TEST_TMP/steps" -- "$RDEV_BIN_DIR/rdev" ls "$name:~"
check "the session stays: the next command asks nothing" \
	sh -c "setsid '$RDEV_BIN_DIR/rdev' ls '$name:~' </dev/null >/dev/null"
broker stop >/dev/null

set +e
setsid "$RDEV_BIN_DIR/rdev" ls "$name:~" </dev/null >/dev/null 2>"$TEST_TMP/err"; rc=$?
set -e
check_eq "no terminal to ask on: exit 1" "$rc" 1
check "and the message names the key and what to do" grep -q "$TEST_TMP/key (.*no terminal.*ssh-add" "$TEST_TMP/err"
cat "$TEST_TMP/err"
finish
