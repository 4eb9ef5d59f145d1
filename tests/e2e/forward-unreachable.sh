#!/usr/bin/env bash
# forward-unreachable.sh - a host whose sshd cannot reach the container's
# address (rootless Docker, Docker in a VM; here a rig host in its own
# network namespace with no route to the Docker bridge, its Docker socket
# still shared): the check `rdev up` makes finds that out (the agent's
# connect fails) and the forward's connections go through "exec" streams of
# the agent session, a Docker exec of the relay's --connect, as the local
# host's do on Docker Desktop: servers on 0.0.0.0 and on 127.0.0.1 answer,
# 3 MB intact, counted as viaExec; a port where nothing listens is reset at
# once, --list saying why. (Before: a clean close with no bytes, and `up` said nothing.)
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker

rig_remote_host u --netns
base=$(rig_ports 3)
p_any=$base p_lo=$((base + 1)) p_none=$((base + 2))
on_host "mkdir -p ~/ws"
on_host "cat > ~/ws/.devcontainer.json" <<JSON
{
  "image": "$RDEV_RIG_IMAGE_BUSYBOX",
  "updateRemoteUserUID": false,
  "forwardPorts": [$p_any, $p_lo, $p_none]
}
JSON
fwd_rule=0
cleanup() {
	[ "$fwd_rule" = 0 ] || iptables -D FORWARD -i "rdvh-$name" -j ACCEPT || true
	docker ps -aq --filter "label=devcontainer.local_folder=$home/ws" |
		xargs -r docker rm -f >/dev/null
	rig_test_cleanup
}
trap cleanup EXIT

rdev up "$name:~/ws" --accept-new-host-key >"$TEST_TMP/up.out" 2>"$TEST_TMP/up.err" ||
	{ cat "$TEST_TMP/up.err" >&2; fail "rdev up failed"; }
cid=$(jq -r .containerId "$TEST_TMP/up.out")
check "up prints the table, no warning: the connections will go through a Docker exec" \
	sh -c "grep -q 'localhost:$p_any -> container port $p_any' '$TEST_TMP/up.err' && ! grep -q warning '$TEST_TMP/up.err'"
docker exec "$cid" sh -c "mkdir -p /www && echo any-answers > /www/q && echo lo-answers > /www/l &&
	head -c 3000000 /dev/urandom > /www/big &&
	httpd -p 0.0.0.0:$p_any -h /www && httpd -p 127.0.0.1:$p_lo -h /www"
want=$(docker exec "$cid" sha256sum /www/big | cut -d' ' -f1)
check "the broker's log says why" grep -q \
	"forward $p_any: the host cannot reach the container ${cid:0:12} (connect to [0-9.]*: Network is unreachable): its connections go through a Docker exec" \
	"$RDEV_RUNTIME_DIR/broker.log"
check_eq "a server on 0.0.0.0 in the container answers on localhost" \
	"$(curl -sf --max-time 20 "http://127.0.0.1:$p_any/q")" any-answers
check_eq "one bound to 127.0.0.1 too" "$(curl -sf --max-time 20 "http://127.0.0.1:$p_lo/l")" lo-answers
check_eq "3 MB arrive intact" \
	"$(curl -sf --max-time 30 "http://127.0.0.1:$p_any/big" | sha256sum | cut -d' ' -f1)" "$want"
fwd() { rdev forward --list --json | jq -r --argjson p "$1" "map(select(.local == \$p))[0] | \"\\(.direct)/\\(.relayed)/\\(.viaExec)\""; }
check_eq "counted as viaExec (direct/relayed/viaExec)" "$(fwd "$p_any") $(fwd "$p_lo")" "0/0/2 0/0/1"
set +e
t0=$(date +%s)
curl -s --max-time 20 "http://127.0.0.1:$p_none/" >/dev/null 2>&1
rc=$?
set -e
check_eq "a port where nothing listens: the connection is reset (curl: recv failure), not closed clean (52)" "$rc" 56
check "at once (within 5 s)" test $(($(date +%s) - t0)) -le 5
check "--list says why: nothing listens there" sh -c "rdev forward --list --json |
	jq -e --argjson p $p_none 'map(select(.local == \$p))[0].lastError | test(\"nothing listens on port $p_none in container\")'"
check_eq "no connection is left open" "$(rdev forward --list --json | jq '[.[].active] | add')" 0

# A new broker restores the forwards without a request's check: its first
# connection finds the relay not reached (even after asking the agent again)
# and goes through the exec too.
"$RDEV_BIN_DIR/rdev-broker" stop >/dev/null 2>&1 || fail "broker stop"
check_eq "a restored forward: its first connection answers through the exec" \
	"$(rdev forward --list >/dev/null && curl -sf --max-time 30 "http://127.0.0.1:$p_lo/l")" lo-answers
check_eq "and the next" "$(curl -sf --max-time 20 "http://127.0.0.1:$p_lo/l")" lo-answers
check_eq "both counted as viaExec" "$(fwd "$p_lo")" 0/0/2

# A host that silently DROPS packets to the container (a route there, a
# firewall eating them): sshd's connect would wait for the kernel's SYN
# timeout (~2 min), twice. The restored forward's stalled first connection
# has the agent check reach (2 s) and goes through the exec. (Before: no
# answer in 30 s.)
ns=$(cat "$hdir/netns")
peer=$(ip -n "$ns" -4 -o addr show | awk '$2 ~ /^rdvn-/ {split($4, a, "/"); print a[1]}' |
	awk -F. '{print $1"."$2"."$3"."$4-1}')
ip -n "$ns" route add 172.16.0.0/12 via "$peer"
ip netns exec "$ns" iptables -A OUTPUT -d 172.16.0.0/12 -j DROP
"$RDEV_BIN_DIR/rdev-broker" stop >/dev/null 2>&1 || fail "broker stop"
rdev forward --list >/dev/null
t0=$(date +%s)
check_eq "packets dropped: a restored forward's first connection answers through the exec" \
	"$(curl -sf --max-time 20 "http://127.0.0.1:$p_any/q")" any-answers
check "within 12 s (the probe's bound and a 2 s reach check)" test $(($(date +%s) - t0)) -le 12
check_eq "and the next at once" "$(curl -sf --max-time 5 "http://127.0.0.1:$p_any/q")" any-answers

# The host reaches the container again (the firewall rule gone): the next
# request's check says so and the forward leaves the Docker exec.
ip netns exec "$ns" iptables -D OUTPUT -d 172.16.0.0/12 -j DROP
# (this machine forwards the host's link to the bridge only with this rule,
# scoped to the test host's veth, removed by cleanup)
iptables -I FORWARD -i "rdvh-$name" -j ACCEPT && fwd_rule=1
caddr=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$cid")
if ip netns exec "$ns" curl -sf --max-time 3 "http://$caddr:$p_any/q" >/dev/null; then
	before=$(fwd "$p_any")
	rdev forward "$name:~/ws" "$p_any" 2>/dev/null || fail "forward $p_any"
	check_eq "reached again: the connection goes the usual way, not an exec" \
		"$(curl -sf --max-time 10 "http://127.0.0.1:$p_any/q")" any-answers
	check "not counted as viaExec ($before, then $(fwd "$p_any"))" \
		test "${before##*/}" = "$(fwd "$p_any" | cut -d/ -f3)"
else
	echo "note: the rig's host does not forward to the Docker bridge: the switch back is not checked"
fi
finish
