#!/usr/bin/env bash
# connect-held.sh - a "connect" whose target is due for a check (its
# forward's target older than 1 s; 0.3 s here, RDEV_FORWARD_TARGET_CHECK_MS,
# the broker the first rdev starts takes it) is held beside the check (broker/
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
on_host "mkdir -p ~/ws && cat > ~/ws/.devcontainer.json" <<JSON
{ "image": "$RDEV_RIG_IMAGE_BOOKWORM", "updateRemoteUserUID": false }
JSON
rdev up "$name:~/ws" >"$TEST_TMP/up.out" 2>"$TEST_TMP/up.err" ||
	{ cat "$TEST_TMP/up.err" >&2; fail "rdev up $name:~/ws failed"; }
cid=$(jq -r .containerId "$TEST_TMP/up.out")
docker exec -d "$cid" perl -MIO::Socket::INET -e \
	'my $l = IO::Socket::INET->new(LocalPort => $ARGV[0], Listen => 16, ReuseAddr => 1) or die;
	 while (my $c = $l->accept) { print $c "hello\n"; sleep 1; close $c }' "$p"
eventually "the server listens" sh -c \
	"docker exec $cid perl -MIO::Socket::INET -e 'IO::Socket::INET->new(\"0.0.0.0:$p\") or exit 1'"
# (the workspace as the broker names it: a forward's)
rdev forward "$name:~/ws" "$p" >/dev/null 2>"$TEST_TMP/fwd.err" ||
	{ cat "$TEST_TMP/fwd.err" >&2; fail "rdev forward failed"; }
ws=$(rdev forward --list --json | jq -r --argjson p "$p" 'map(select(.port == $p))[0].workspace')
c() { python3 "$RDEV_SOURCE_DIR/tests/e2e/connect_first.py" "$name" "$ws" "$p" 2>&1; }
check_eq "a connect answers, then the server's line" "$(c)" "direct hello"
for i in 1 2 3; do
	sleep 0.5
	check_eq "after an idle 0.5 s ($i): the answer before the server's line" "$(c)" "direct hello"
done
finish
