#!/usr/bin/env bash
# ssh-config-moved.sh - an ssh config edited while a session holds forwards:
# alias sp goes to rig host A, `rdev up sp:~/ws` forwards forwardPorts' port;
# the config is edited to take sp to host B and A's sshd is killed. The
# session's reconnect finds that sp now goes elsewhere: the session ends
# (it retried for ever, every 30 s at most, holding the local port, so a new
# session for sp could not bind it) and its forward goes to a new session
# for B, on the same local port, where it answers (B's own dev container of ~/ws).
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
rig_two_hosts ma mb
sp_to() {
	echo "Host sp"
	echo "  HostName $1"
	echo "  Port $2"
	echo "  User $3"
	echo "  IdentityFile $RDEV_RIG_CLIENT_KEY"
	echo "  IdentitiesOnly yes"
	echo "  UserKnownHostsFile $TEST_TMP/known_hosts"
	echo "  GlobalKnownHostsFile /dev/null"
	echo "  BatchMode yes"
}
p_fwd=$(rig_ports 1)
devcontainer_json() {
	cat <<JSON
{
  "image": "$RDEV_RIG_IMAGE_BOOKWORM",
  "updateRemoteUserUID": false
  ${1-}
}
JSON
}
devcontainer_json ", \"forwardPorts\": [$p_fwd]" | on_host "mkdir -p ~/ws && cat > ~/ws/.devcontainer.json"
# B's dev container of ~/ws (no forwardPorts: the port is A's session's),
# made through alias spb, another identity (a key copy): a session of its
# own, not the one sp's forward goes to.
devcontainer_json | ssh -F "$cfg_b" "$name_b" "mkdir -p ~/ws && cat > ~/ws/.devcontainer.json"
home_b=$(ssh -F "$cfg_b" "$name_b" 'echo $HOME')
cp "$RDEV_RIG_CLIENT_KEY" "$TEST_TMP/key2"
chmod 600 "$TEST_TMP/key2"
cleanup() {
	local rc=$?
	set +e
	[ $rc -eq 0 ] || { broker status >&2; tail -n 30 "$RDEV_RUNTIME_DIR/broker.log" >&2; }
	broker stop --forget >/dev/null 2>&1
	rig_test_containers "devcontainer.local_folder=$home_b/ws"
	(exit $rc)
	rig_remote_cleanup ws
}
trap cleanup EXIT

# dest_of PORT: the destination of the session that holds forward PORT.
dest_of() {
	"$RDEV_BIN_DIR"/rdev-broker status --json | jq -r --argjson p "$1" \
		'([.forwards[] | select(.local == $p and .error == null) | .host][0]) as $h |
		 [.sessions[] | select(.host == $h) | .destination][0] // empty'
}
export -f dest_of

{
	sp_to "$host_a" "$port_a" "$user_a"
	sp_to "$host_b" "$port_b" "$user_b" | sed "s/^Host sp/Host spb/; s|IdentityFile .*|IdentityFile $TEST_TMP/key2|"
} >"$TEST_TMP/config"
export RDEV_SSH_CONFIG=$TEST_TMP/config
# serve_echo TARGET: up, and an echo server on p_fwd in its container.
serve_echo() {
	local cid
	rdev up "$1" >"$TEST_TMP/up.out" 2>"$TEST_TMP/up.err" ||
		{ cat "$TEST_TMP/up.err" >&2; fail "rdev up $1 failed"; }
	cid=$(jq -r .containerId "$TEST_TMP/up.out")
	docker exec -i "$cid" sh -c 'cat > /tmp/echo-server.pl' <"$RDEV_SOURCE_DIR/tests/rig/echo-server.pl"
	docker exec -d "$cid" perl /tmp/echo-server.pl "$p_fwd" 127.0.0.1
}
serve_echo "spb:~/ws"
serve_echo "sp:~/ws"
eventually "forwardPorts' port answers (through A)" rig_echo_ok "$p_fwd"
check_eq "its session goes to A" "$(dest_of "$p_fwd")" "$user_a@$host_a:$port_a"

# sp now goes to B; A's sshd (the session's) is killed.
sed -i "1,/^Host spb/ { s/^  HostName .*/  HostName $host_b/; s/^  Port .*/  Port $port_b/; s/^  User .*/  User $user_b/ }" "$TEST_TMP/config"
pkill -KILL -u "$user_a" -x sshd || fail "no sshd of the session to kill"
eventually "the forward goes to a session for B" \
	bash -c "[ \"\$(dest_of $p_fwd)\" = '$user_b@$host_b:$port_b' ]"
check_eq "A's session is gone (it no longer retries)" \
	"$(broker status --json | jq -r --arg d "$user_a@$host_a:$port_a" '[.sessions[] | select(.destination == $d)] | length')" 0
eventually "the forward's local port answers again, through B" rig_echo_ok "$p_fwd"
check "the broker's log says why" grep -q "the ssh config now takes sp elsewhere: .* its 1 forwards go to the new destination's session" "$RDEV_RUNTIME_DIR"/broker.log
finish
