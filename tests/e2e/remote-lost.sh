#!/usr/bin/env bash
# remote-lost.sh - a host that stops answering (a --netns host whose link is
# cut: packets vanish, no reset): the broker declares its session lost within
# 10 s (ServerAliveInterval 3 s x ServerAliveCountMax 3 by default; 12 s
# allowed for slow builds), and from then on a connection to one of the
# host's forwards is closed at once, also while the broker's reconnect waits
# in a connect that goes nowhere (up to ConnectTimeout: the link back, its
# packets dropped).
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker

rig_remote_host l --netns
client=$RDEV_SOURCE_DIR/tests/e2e/forward_client.py
on_host "mkdir -p ~/ws && printf '%s' '{\"image\": \"$RDEV_RIG_IMAGE_BOOKWORM\",
	\"updateRemoteUserUID\": false}' > ~/ws/.devcontainer.json"
# (rig_remote_host's host is started in a subshell, so stopped here.) The
# broker is killed, not stopped: its reconnect waits in a connect that goes
# nowhere at the end, and a stop waits for that connect to time out (the
# session's thread is joined: up to ConnectTimeout, 20 s by default; 16 s of
# this test's 33). It is this test's own broker (lib.sh: RDEV_RUNTIME_DIR).
trap 'rc=$?; set +e; kill -9 "$(broker status --json 2>/dev/null | jq -r ".pid // empty")" 2>/dev/null
	bash "$RIG" host-stop "$name" || true; (exit $rc); rig_remote_cleanup ws' EXIT

port=$(rig_ports 1)

rdev up "$name:~/ws" >/dev/null 2>"$TEST_TMP/up.err" ||
	{ cat "$TEST_TMP/up.err" >&2; fail "rdev up $name:~/ws failed"; }
rdev forward "$name:~/ws" "$port" >/dev/null 2>"$TEST_TMP/fw.err" ||
	{ cat "$TEST_TMP/fw.err" >&2; fail "rdev forward $port failed"; }
state() { broker status --json | jq -r '.sessions[0].state'; }
check_eq "the session is connected" "$(state)" connected

bash "$RIG" host-link "$name" down
start=$(date +%s%N)
lost=
for _ in $(seq 1 120); do
	case $(state) in lost | reconnecting) lost=1; break ;; esac
	sleep 0.1
done
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
echo "     (declared lost after ${elapsed_ms} ms)"
check "the broker declares the session lost within 10 s of the cut (12 s slack)" \
	test -n "$lost" -a "$elapsed_ms" -le 12000
check_eq "then a connection to its forward is closed, not held" \
	"$(python3 "$client" closed "$port")" closed
# Now a host that drops every packet (the link back, sshd's port dropped in
# the host's namespace): the reconnect's connect waits for ConnectTimeout;
# connections meanwhile are closed too.
ip netns exec "rdev-$name" iptables -I INPUT -p tcp --dport 22 -j DROP ||
	fail "cannot add a DROP rule in the host's network namespace"
bash "$RIG" host-link "$name" up
sleep 3
check_eq "and while the broker tries to reconnect" \
	"$(python3 "$client" closed "$port")" closed
check_eq "the session is reconnecting" "$(state)" reconnecting
broker status --json | jq -r '"     (" + .sessions[0].error + ")"'
finish
