#!/usr/bin/env bash
# ssh-config-hosts.sh - the ssh config takes rdev to the host `ssh -G`
# names, with two real sshd hosts of the rig (A and B: other ports, other
# users):
#   a negated pattern after a positive one (`Host * !x3` then `Host x1 x3`:
#   x3 is B's, as for ssh; libssh's own parser gave it A's Port and User),
#   also from ~/.ssh/config (rdev's parser reads $HOME's; libssh's own read
#   the password file's home's), and an edit of the config while the broker
#   holds a session: the session is keyed on the destination the config
#   resolves to (user, hostname, port, ProxyCommand/ProxyJump, identities),
#   so the edited alias opens a new session to B instead of reusing A's (it
#   reused A's).
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
trap 'rig_remote_cleanup' EXIT
rig_two_hosts ca cb
common() {
	echo "Host *"
	echo "  IdentityFile $RDEV_RIG_CLIENT_KEY"
	echo "  IdentitiesOnly yes"
	echo "  UserKnownHostsFile $TEST_TMP/known_hosts"
	echo "  GlobalKnownHostsFile /dev/null"
	echo "  BatchMode yes"
}
# logins_on DIR USER: how many logins that host's sshd accepted for USER.
logins_on() { grep -c "Accepted publickey for $2 " "$(dirname "$1")/sshd.log" || true; }
sessions() { broker status --json | jq -r '[.sessions[].host] | sort | join(" ")'; }

# --- Host * !x3, then Host x1 x3 --------------------------------------------
{
	echo "Host * !x3"
	echo "  HostName $host_a"
	echo "  Port $port_a"
	echo "  User $user_a"
	echo "Host x1 x3"
	echo "  HostName $host_b"
	echo "  Port $port_b"
	echo "  User $user_b"
	common
} >"$TEST_TMP/neg_config"
export RDEV_SSH_CONFIG=$TEST_TMP/neg_config
check_eq "ssh -G x3: B's port and user" \
	"$(ssh -G -F "$RDEV_SSH_CONFIG" x3 | grep -E '^(port|user) ' | sort | tr '\n' ' ')" \
	"port $port_b user $user_b "
nb=$(logins_on "$cfg_b" "$user_b")
rdev ls x3: >/dev/null 2>"$TEST_TMP/x3.err" || { cat "$TEST_TMP/x3.err" >&2; true; }
check_eq "rdev ls x3: a session to B (its user and port)" "$(sessions)" "$user_b@x3:$port_b"
check_eq "... and B's sshd accepted it" "$(logins_on "$cfg_b" "$user_b")" $((nb + 1))
check "x2 (not negated): A" sh -c "\"$RDEV_BIN_DIR\"/rdev ls x2: >/dev/null"
check_eq "... a session to A" "$(sessions)" "$user_a@x2:$port_a $user_b@x3:$port_b"
broker stop >/dev/null
# The same in ~/.ssh/config (as the explorer had it; no RDEV_SSH_CONFIG):
# the file rdev's parser reads ($HOME's) is the only one read (libssh's own
# read the password file's home's: another file).
mkdir -p "$TEST_TMP/home/.ssh"
cp "$TEST_TMP/neg_config" "$TEST_TMP/home/.ssh/config"
home_was=$HOME
export HOME=$TEST_TMP/home
unset RDEV_SSH_CONFIG
rdev ls x3: >/dev/null 2>"$TEST_TMP/x3home.err" || { cat "$TEST_TMP/x3home.err" >&2; true; }
check_eq "~/.ssh/config: rdev ls x3: a session to B" "$(sessions)" "$user_b@x3:$port_b"
broker stop >/dev/null
export HOME=$home_was

# --- the config edited while a session to its old destination exists -------
sp_to() {
	echo "Host sp"
	echo "  HostName $1"
	echo "  Port $2"
	echo "  User $3"
	common
}
sp_to "$host_a" "$port_a" "$user_a" >"$TEST_TMP/edit_config"
export RDEV_SSH_CONFIG=$TEST_TMP/edit_config
check "rdev ls sp: (sp is A)" sh -c "\"$RDEV_BIN_DIR\"/rdev ls sp: >/dev/null"
dests() { broker status --json | jq -r '[.sessions[].destination] | sort | join(" ")'; }
dest_a=$(dests)
sp_to "$host_b" "$port_b" "$user_b" >"$TEST_TMP/edit_config"
nb=$(logins_on "$cfg_b" "$user_b")
rdev ls sp: >/dev/null 2>"$TEST_TMP/sp.err" || { cat "$TEST_TMP/sp.err" >&2; true; }
check_eq "after the edit, rdev ls sp: logs in on B" "$(logins_on "$cfg_b" "$user_b")" $((nb + 1))
check_eq "... in a session of its own (A's idles out)" "$(sessions)" "$user_a@sp:$port_a $user_b@sp:$port_b"
check_eq "status: the first session's destination was A's" "$dest_a" "$user_a@$host_a:$port_a"
check_eq "... now both destinations" "$(dests)" \
	"$(printf '%s\n' "$user_a@$host_a:$port_a" "$user_b@$host_b:$port_b" | sort | tr '\n' ' ' | sed 's/ $//')"
check "... also in its text" sh -c "broker() { \"$RDEV_BIN_DIR\"/rdev-broker \"\$@\"; }; broker status | grep -qx '  to $user_b@$host_b:$port_b'"
# An edit that changes only the identity (another IdentityFile) is another
# session too: it is who we are there.
cp "$RDEV_RIG_CLIENT_KEY" "$TEST_TMP/key2"
chmod 600 "$TEST_TMP/key2"
{ sp_to "$host_b" "$port_b" "$user_b" | sed "s|IdentityFile .*|IdentityFile $TEST_TMP/key2|"; } >"$TEST_TMP/edit_config"
check "rdev ls sp: with another IdentityFile" sh -c "\"$RDEV_BIN_DIR\"/rdev ls sp: >/dev/null"
check_eq "... a third session" "$(broker status --json | jq '.sessions | length')" 3
broker stop >/dev/null

finish
