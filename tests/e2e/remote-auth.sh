#!/usr/bin/env bash
# remote-auth.sh - SSH authentication that needs the user, through the
# broker (a daemon without a terminal): an identity file with a passphrase
# and no ssh-agent. The broker sends the passphrase prompt to the client,
# which asks on its terminal (driven through a real pty by pty_drive.py);
# with no terminal the command fails with a message naming the key. Then a
# key only in the client's ssh-agent, the broker started with a dead
# SSH_AUTH_SOCK: the client's socket is used, IdentityAgent still wins.
# Then IdentitiesOnly yes with the passphrase key loaded in an ssh-agent
# (ssh-add): as OpenSSH, the agent signs with the listed key, matched by its
# public key (KEY.pub), with no prompt; an agent holding only other keys
# offers none of them.
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

# --- the client's ssh-agent ----------------------------------------------------
# The key only in an ssh-agent of this test, a config naming no key, and a
# broker started with a dead SSH_AUTH_SOCK (as after the login that started it
# ended): the client's SSH_AUTH_SOCK is the one that counts.
broker stop >/dev/null
cp "$RDEV_RIG_CLIENT_KEY" "$TEST_TMP/agentkey"
chmod 600 "$TEST_TMP/agentkey"
ssh-agent -a "$TEST_TMP/agent.sock" >"$TEST_TMP/agent.env"
agent_pid=$(sed -n 's/^SSH_AGENT_PID=\([0-9]*\);.*/\1/p' "$TEST_TMP/agent.env")
trap 'kill "$agent_pid" 2>/dev/null; rig_remote_cleanup' EXIT
SSH_AUTH_SOCK=$TEST_TMP/agent.sock ssh-add -q "$TEST_TMP/agentkey" 2>/dev/null
rm "$TEST_TMP/agentkey"
{
	echo "Host $name"
	sed -n 's/^ *\(HostName\|Port\|User\|UserKnownHostsFile\|GlobalKnownHostsFile\|BatchMode\) /  \1 /p' "$cfg"
} >"$TEST_TMP/ssh_config_agent"
export RDEV_SSH_CONFIG=$TEST_TMP/ssh_config_agent HOME=$TEST_TMP/home
mkdir -p "$HOME"
python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$TEST_TMP/dead.sock"
SSH_AUTH_SOCK=$TEST_TMP/dead.sock broker start >/dev/null

set +e
rdev ls "$name:~" </dev/null >/dev/null 2>"$TEST_TMP/noagent.err"; rc=$?
set -e
check_eq "no agent in the client: the broker's dead one fails" "$rc" 1
check "and the message names the socket tried" grep -q "not reachable at $TEST_TMP/dead.sock" "$TEST_TMP/noagent.err"
check "the client's SSH_AUTH_SOCK: authenticated with the key in its agent" \
	sh -c "SSH_AUTH_SOCK='$TEST_TMP/agent.sock' '$RDEV_BIN_DIR/rdev' ls '$name:~' </dev/null >/dev/null"
# IdentityAgent in the config wins, as in OpenSSH.
{ cat "$TEST_TMP/ssh_config_agent"; echo "  IdentityAgent $TEST_TMP/dead.sock"; } >"$TEST_TMP/ssh_config_ia"
set +e
RDEV_SSH_CONFIG=$TEST_TMP/ssh_config_ia SSH_AUTH_SOCK=$TEST_TMP/agent.sock \
	"$RDEV_BIN_DIR/rdev" ls "$name:~" </dev/null >/dev/null 2>"$TEST_TMP/ia.err"; rc=$?
set -e
check_eq "IdentityAgent in the ssh config wins over the client's socket" "$rc" 1
check "and is the socket tried" grep -q "not reachable at $TEST_TMP/dead.sock" "$TEST_TMP/ia.err"

# --- IdentitiesOnly yes, the listed key (with a passphrase) in the agent ------
printf '#!/bin/sh\necho "open sesame"\n' >"$TEST_TMP/askpass"
chmod +x "$TEST_TMP/askpass"
ssh-agent -a "$TEST_TMP/agent2.sock" >"$TEST_TMP/agent2.env"
agent2_pid=$(sed -n 's/^SSH_AGENT_PID=\([0-9]*\);.*/\1/p' "$TEST_TMP/agent2.env")
trap 'kill "$agent_pid" "$agent2_pid" 2>/dev/null; rig_remote_cleanup' EXIT
SSH_AUTH_SOCK=$TEST_TMP/agent2.sock SSH_ASKPASS=$TEST_TMP/askpass SSH_ASKPASS_REQUIRE=force \
	DISPLAY=none setsid -w ssh-add -q "$TEST_TMP/key" </dev/null 2>/dev/null
check "ssh-add loaded the passphrase key" sh -c "SSH_AUTH_SOCK='$TEST_TMP/agent2.sock' ssh-add -l >/dev/null"
check "ssh (IdentitiesOnly yes, BatchMode): the agent signs with the listed key" \
	sh -c "SSH_AUTH_SOCK='$TEST_TMP/agent2.sock' ssh -F '$TEST_TMP/ssh_config' -o BatchMode=yes '$name' true </dev/null"
set +e
SSH_AUTH_SOCK=$TEST_TMP/agent2.sock RDEV_SSH_CONFIG=$TEST_TMP/ssh_config \
	setsid "$RDEV_BIN_DIR/rdev" ls "$name:~" </dev/null >/dev/null 2>"$TEST_TMP/only.err"; rc=$?
set -e
cat "$TEST_TMP/only.err"
check_eq "rdev too: no prompt, no terminal, authenticated by the agent" "$rc" 0
broker stop >/dev/null
# An agent with only another key, one the host accepts: not offered
# (IdentitiesOnly: the broker's agent filter drops it), said so. (The key
# was not in authorized_keys: offered, it failed all the same.)
ssh-keygen -q -t ed25519 -N '' -f "$TEST_TMP/other" >/dev/null
cat "$TEST_TMP/other.pub" >>"$hdir/authorized_keys"
SSH_AUTH_SOCK=$TEST_TMP/agent.sock ssh-add -D -q 2>/dev/null
SSH_AUTH_SOCK=$TEST_TMP/agent.sock ssh-add -q "$TEST_TMP/other" 2>/dev/null
check "the host accepts the other key (ssh, IdentitiesOnly no)" \
	sh -c "SSH_AUTH_SOCK='$TEST_TMP/agent.sock' ssh -F '$TEST_TMP/ssh_config' -o IdentitiesOnly=no -o BatchMode=yes '$name' true </dev/null"
set +e
SSH_AUTH_SOCK=$TEST_TMP/agent.sock RDEV_SSH_CONFIG=$TEST_TMP/ssh_config \
	setsid "$RDEV_BIN_DIR/rdev" ls "$name:~" </dev/null >/dev/null 2>"$TEST_TMP/other.err"; rc=$?
set -e
check_eq "an agent without the listed key: fails (the other key is not offered; no prompt possible)" "$rc" 1
check "... the agent's key is not offered, and said so" \
	grep -q "agent: 0 of its 1 key listed by IdentityFile (IdentitiesOnly yes)" "$TEST_TMP/other.err"
finish
