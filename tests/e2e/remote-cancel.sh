#!/usr/bin/env bash
# remote-cancel.sh - a remote `up` interrupted in its postCreateCommand, over
# a real sshd host of the rig, the real broker and Docker:
#   (a) SIGINT to rdev: it sends "cancel", prints "rdev: up: cancelled" and
#       exits 130 within 10 s; the command's processes in the container
#       (a `sleep` child of its shell) are gone; the step's marker was not
#       written, so the next `up` runs postCreateCommand again, to the end;
#   (b) SIGKILL to rdev: the broker drops the agent's channel, `serve` sees
#       the end of its input and cancels the `up`: the sleep is gone within
#       10 s and no `rdev-agent serve` stays on the host; the same for two
#       SIGINTs (the second while rdev waits for the cancel's answer: it
#       exits 130 at once, without waiting);
#   (c) the protocol itself (tests/e2e/proto_client.py on `rdev-agent serve`
#       over ssh): {"op":"cancel","request":M} answers {} and M answers
#       {"ok":false,"error":"cancelled","exitStatus":130}; errors for a request
#       that does not run and for an exec.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker

rig_remote_host c

# postCreateCommand sleeps unless the workspace holds a file "quick"; the
# sleep is a child of the command's shell (not the exec's process itself).
nap=3$$
cat >"$TEST_TMP/devcontainer.json" <<JSON
{
  "image": "$RDEV_RIG_IMAGE_BOOKWORM_DEV",
  "remoteUser": "dev",
  "updateRemoteUserUID": false,
  "postCreateCommand": "echo begun >> /tmp/pc-begun; test -e /workspaces/ws/quick || sleep $nap; echo done > /tmp/pc-done",
  "waitFor": "postCreateCommand"
}
JSON
on_host 'mkdir -p ~/ws && cat > ~/ws/.devcontainer.json' <"$TEST_TMP/devcontainer.json"
stopped=
trap '[ -z "$stopped" ] || kill -CONT $stopped 2>/dev/null; rig_remote_cleanup ws' EXIT

container() { docker ps -q --filter "label=devcontainer.local_folder=$home/ws"; }
# The postCreateCommand's sleep itself (not the shells whose arguments name it).
napping() {
	local cid
	cid=$(container)
	[ -n "$cid" ] && docker top "$cid" -eo pid,comm,args |
		awk -v n="$nap" '$2 == "sleep" && $3 == "sleep" && $4 == n { f = 1 } END { exit !f }'
}
not_napping() { ! napping; }
serves() { client_serves; }
no_serves() { [ "$(serves)" -eq 0 ]; } # asked at each try of eventually
now_ms() { date +%s%3N; }
# up_until_napping: start `rdev up` (the binary itself, so that $! is rdev,
# with SIGINT not ignored as it would be in a background job) and wait until
# postCreateCommand sleeps. Sets pid.
up_until_napping() {
	env --default-signal=INT "$RDEV_BIN_DIR/rdev" up "$name:~/ws" \
		>"$TEST_TMP/$1.out" 2>"$TEST_TMP/$1.err" &
	pid=$!
	for _ in $(seq 1 600); do
		napping && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$TEST_TMP/$1.err" >&2
	fail "$1: postCreateCommand never started sleeping"
}
# gone_within WHAT MS: the sleep is gone within MS ms; prints how long it took.
gone_within() {
	local t0 t
	t0=$(now_ms)
	while napping; do
		[ $(($(now_ms) - t0)) -lt "$2" ] || fail "$1: the sleep still runs after $2 ms"
		sleep 0.05
	done
	t=$(($(now_ms) - t0))
	echo "ok   $1 (${t} ms more)"
	CHECKS_PASSED=$((CHECKS_PASSED + 1))
}

# --- (a) ^C in the client -----------------------------------------------------
up_until_napping up1
cid=$(container)
t0=$(now_ms)
kill -INT "$pid"
set +e
for _ in $(seq 1 150); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$pid" 2>/dev/null && { kill -9 "$pid"; fail "SIGINT: rdev still runs 15 s later"; }
wait "$pid"
rc=$?
set -e
t=$(($(now_ms) - t0))
echo "     SIGINT -> rdev exited after $t ms"
check_eq "SIGINT: rdev up exits 130" "$rc" 130
check "SIGINT: ... within 10 s" test "$t" -lt 10000
check "SIGINT: rdev says it cancelled" grep -qx 'rdev: up: cancelled' "$TEST_TMP/up1.err"
check "SIGINT: no success JSON" sh -c "! grep -q success '$TEST_TMP/up1.out'"
gone_within "SIGINT: the sleep in the container is gone" 3000
sleep 1 # anything still racing would write now
check "SIGINT: the interrupted postCreateCommand did not finish" \
	sh -c "! docker exec '$cid' test -e /tmp/pc-done"
eventually "SIGINT: no rdev-agent serve stays on the host" no_serves

on_host 'touch ~/ws/quick'
rdev up "$name:~/ws" >"$TEST_TMP/up2.out" 2>"$TEST_TMP/up2.err" ||
	{ cat "$TEST_TMP/up2.err" >&2; fail "the up after the cancelled one failed"; }
check_eq "the next up uses the same container" "$(jq -r .containerId "$TEST_TMP/up2.out")" \
	"$(docker inspect -f '{{.Id}}' "$cid")"
check "the next up ran postCreateCommand again (no marker)" \
	grep -q 'Running the postCreateCommand' "$TEST_TMP/up2.err"
check_eq "postCreateCommand started twice" "$(docker exec "$cid" cat /tmp/pc-begun | wc -l)" 2
check_eq "and finished once" "$(docker exec "$cid" cat /tmp/pc-done)" done

# --- (b) the client killed --------------------------------------------------------
rdev down "$name:~/ws" >/dev/null
on_host 'rm ~/ws/quick'
up_until_napping up3
cid=$(container)
kill -9 "$pid"
{ wait "$pid"; } 2>/dev/null || true
gone_within "SIGKILL: the sleep in the container is gone (serve cancelled the up)" 10000
eventually "SIGKILL: no rdev-agent serve stays on the host" no_serves
check "SIGKILL: the interrupted postCreateCommand did not finish" \
	sh -c "! docker exec '$cid' test -e /tmp/pc-done"
on_host 'touch ~/ws/quick'
rdev up "$name:~/ws" >"$TEST_TMP/up4.out" 2>"$TEST_TMP/up4.err" ||
	{ cat "$TEST_TMP/up4.err" >&2; fail "the up after the killed one failed"; }
check_eq "SIGKILL: the next up ran postCreateCommand again, to the end" \
	"$(docker exec "$cid" cat /tmp/pc-begun | wc -l),$(docker exec "$cid" cat /tmp/pc-done)" 2,done

rdev down "$name:~/ws" >/dev/null
on_host 'rm ~/ws/quick'
up_until_napping up5
# The serve processes of the up are stopped first, so that the cancel the
# first SIGINT sends gets no answer: rdev still waits for it (up to 10 s) when
# the second comes. (Else a quick answer could end rdev between the two
# signals, or two signals pending at once would be one.)
stopped=$(client_serve_pids | tr '\n' ' ')
[ -n "$stopped" ] || fail "two SIGINTs: no serve process of the up found"
kill -STOP $stopped
# sigint_pending: rdev has not run its handler for the first SIGINT yet.
sigint_pending() { [ $((0x$(awk '/^ShdPnd:/ { print $2 }' "/proc/$pid/status") & 2)) -ne 0 ]; }
kill -INT "$pid"
for _ in $(seq 1 500); do sigint_pending || break; sleep 0.01; done
kill -0 "$pid" 2>/dev/null || fail "two SIGINTs: rdev ended after the first, its cancel unanswered"
t0=$(now_ms)
kill -INT "$pid"
set +e
wait "$pid"
rc=$?
set -e
t=$(($(now_ms) - t0))
kill -CONT $stopped
stopped=
echo "     two SIGINTs -> rdev exited ${t} ms after the second"
check_eq "two SIGINTs: rdev exits 130" "$rc" 130
check "two SIGINTs: at once, without waiting for the cancel's answer (10 s)" test "$t" -lt 5000
gone_within "two SIGINTs: the sleep in the container is gone (serve cancelled the up)" 10000
eventually "two SIGINTs: no rdev-agent serve stays on the host" no_serves

# --- (c) the cancel request ---------------------------------------------------------
agent=$(on_host 'ls ~/.rdev/agent/*/rdev-agent')
PYTHONPATH=$RDEV_SOURCE_DIR/tests/e2e python3 - "$nap" ssh -F "$cfg" "$name" "$agent" serve \
	>"$TEST_TMP/c.out" <<'PY' || { cat "$TEST_TMP/c.out"; fail "the cancel request"; }
import json, subprocess, sys, time
from proto_client import Client, CONTROL
nap, argv = sys.argv[1], sys.argv[2:]
c = Client(argv)
c.next_id = 10  # ids 1 and 2 are ours
def napping():
    ids = subprocess.run(["docker", "ps", "-q"], capture_output=True, text=True).stdout.split()
    for cid in ids:
        top = subprocess.run(["docker", "top", cid, "-eo", "pid,comm,args"],
                             capture_output=True, text=True).stdout
        if any(l.split()[1:] == ["sleep", "sleep", nap] for l in top.splitlines()):
            return True
    return False
c.send(CONTROL, 0, {"id": 1, "op": "up", "workspace": "~/ws", "recreate": True})
deadline = time.time() + 120
while not napping():
    assert time.time() < deadline, "postCreateCommand never slept"
    time.sleep(0.1)
t0 = time.time()
c.send(CONTROL, 0, {"id": 2, "op": "cancel", "request": 1})
_, r2 = c.wait(2)
print("cancel answers %s" % json.dumps(r2))
assert r2 == {"id": 2, "ok": True, "result": {}}, r2
_, r1 = c.wait(1)
t = time.time() - t0
print("the up answers %s after %.2f s" % (json.dumps(r1), t))
assert r1 == {"id": 1, "ok": False, "error": "cancelled", "exitStatus": 130}, r1
assert t < 7, t
assert not napping(), "the sleep still runs after the cancelled answer"
_, r = c.request("cancel", request=99)
print("cancel of nothing: %s" % json.dumps(r))
assert not r["ok"] and "no request 99" in r["error"] and "exitStatus" not in r, r
rid = c.exec_start(7, "~/ws", ["sleep", "30"])
_, r = c.wait(rid)
assert r.get("ok"), r
_, r = c.request("cancel", request=rid)
print("cancel of an exec: %s" % json.dumps(r))
assert not r["ok"] and "exec" in r["error"], r
_, r = c.request("cancel")
assert not r["ok"] and "request" in r["error"], r
print("serve ends with %d" % c.close())
PY
cat "$TEST_TMP/c.out"
check "cancel request: answered {}, the up answered cancelled (130), errors for nothing and an exec" \
	grep -q '^serve ends with 0' "$TEST_TMP/c.out"
check "cancel request: the sleep is gone" not_napping
finish
