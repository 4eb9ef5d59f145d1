#!/usr/bin/env bash
# ssh-config-hosts.sh - the ssh config takes rdev to the host `ssh -G`
# names, with two real sshd hosts of the rig (A and B: other ports, other
# users):
#   a negated pattern after a positive one (`Host * !x3` then `Host x1 x3`:
#   x3 is B's, as for ssh; libssh's own parser gave it A's Port and User),
#   and an edit of the config while the broker holds a session: the session
#   is keyed on the destination the config resolves to (user, hostname,
#   port, ProxyCommand/ProxyJump, identities), so the edited alias opens a
#   new session to B instead of reusing A's (it reused A's).
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
rig_host_bg "$(rig_host_name cb)"
rig_remote_host ca
trap 'rig_remote_cleanup' EXIT
rig_hosts_wait
name_a=$name cfg_a=$cfg
name_b=$(rig_host_name cb)
cfg_b=$(rig_host_cfg "$name_b")
opt() { sed -n "s/^ *$2 //p" "$1"; }
host_a=$(opt "$cfg_a" HostName) port_a=$(opt "$cfg_a" Port) user_a=$(opt "$cfg_a" User)
host_b=$(opt "$cfg_b" HostName) port_b=$(opt "$cfg_b" Port) user_b=$(opt "$cfg_b" User)
cat "$(opt "$cfg_a" UserKnownHostsFile)" "$(opt "$cfg_b" UserKnownHostsFile)" >"$TEST_TMP/known_hosts"
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

finish
