#!/usr/bin/env bash
# connect-held.sh - a "connect" whose target is due for a check (its
# forward's target older than 1 s; 0.3 s here, RDEV_FORWARD_TARGET_CHECK_MS,
# which the broker started below takes: its -vv log shows each check) is
# held beside the check (broker/
# host-forward.c, host_link's hold); a server that speaks first (sshd's
# banner) sends its bytes while the link is held: the request's answer
# still comes before them ("after this response the connection carries the
# server's bytes", docs/PROTOCOL.md).
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker

rig_remote_host ch
export RDEV_FORWARD_TARGET_CHECK_MS=300
p=$(rig_ports 1)
trap 'rig_remote_cleanup ws' EXIT
log=$RDEV_RUNTIME_DIR/broker.log
broker -vv start >/dev/null
on_host "mkdir -p ~/ws && cat > ~/ws/.devcontainer.json" <<JSON
{ "image": "$RDEV_RIG_IMAGE_BOOKWORM", "updateRemoteUserUID": false }
JSON
rdev up "$name:~/ws" >"$TEST_TMP/up.out" 2>"$TEST_TMP/up.err" ||
	{ cat "$TEST_TMP/up.err" >&2; fail "rdev up $name:~/ws failed"; }
cid=$(jq -r .containerId "$TEST_TMP/up.out")
# (a process a connection: one server that kept each connection 1 s would
# make the next connect, 0.5 s later, wait for it, and the idles between
# the connects longer than a target's 1 s)
docker exec -d "$cid" perl -MIO::Socket::INET -e \
	'$SIG{CHLD} = "IGNORE";
	 my $l = IO::Socket::INET->new(LocalPort => $ARGV[0], Listen => 16, ReuseAddr => 1) or die;
	 while (my $c = $l->accept) { if (!fork) { print $c "hello\n"; sleep 1; exit } close $c }' "$p"
eventually "the server listens" sh -c \
	"docker exec $cid perl -MIO::Socket::INET -e 'IO::Socket::INET->new(\"0.0.0.0:$p\") or exit 1'"
# (the workspace as the broker names it: a forward's)
rdev forward "$name:~/ws" "$p" >/dev/null 2>"$TEST_TMP/fwd.err" ||
	{ cat "$TEST_TMP/fwd.err" >&2; fail "rdev forward failed"; }
ws=$(rdev forward --list --json | jq -r --argjson p "$p" 'map(select(.port == $p))[0].workspace')
c() { python3 "$RDEV_SOURCE_DIR/tests/e2e/connect_first.py" "$name" "$ws" "$p" 2>&1; }
# checks: the checks of port $p's target the broker's log has (host-forward.c,
# host_forward_resolved).
checks() { grep -c "forward $p: the agent's relay answer (a check)" "$log" || true; }
check_eq "a connect answers, then the server's line" "$(c)" "direct hello"
n0=$(checks)
for i in 1 2 3; do
	sleep 0.5
	check_eq "after an idle 0.5 s ($i): the answer before the server's line" "$(c)" "direct hello"
done
# (without the test setting reaching the broker the target, 1 s, is due at
# most every other connection here: they are 0.6-0.8 s apart)
# (a check's answer can come after the connection went on, at its bound:
# its log line may follow later)
checks_at_least() { [ "$(checks)" -ge "$1" ]; }
EVENTUALLY_SECONDS=5 eventually "each connection after an idle found its target due: a check each" \
	checks_at_least $((n0 + 3))
finish
