#!/usr/bin/env bash
# forward-reset.sh - a forwarded connection that one end resets (SO_LINGER 0)
# ends with a reset at the other end too, where rdev's own path carries it
# (docs/CLI.md, "Port forwarding"; docs/PROTOCOL.md, a stream's CLOSE
# "reset"), after the bytes before it:
#   - through streams of the agent session (RDEV_FORWARD_VIA=session): a
#     server in the container that sends 300 kB and resets, bound to 0.0.0.0
#     (the agent connects to it) and to 127.0.0.1 (through the container's
#     relay, which passes the reset on): the local client reads all 300 kB,
#     then ECONNRESET (before: a clean EOF, the client could not tell it
#     from a whole answer), also when it reads them late (the reset waits
#     for the bytes on the way: in the broker, the agent, the relay and
#     their sockets); a local client that sends 100 kB and resets: the
#     server reads them, then ECONNRESET (before: EOF); a client that
#     floods a server that stops reading: the reset waits on the way
#     (broker and agent) until they are sent (before: ~120 kB, then the
#     reset, which threw away what the broker held and the agent's socket
#     had not sent), and the broker reads the client's socket as they go,
#     not all at once (its peak RSS); a client that uploads 200 kB,
#     half-closes, reads some of the answer of a server that reads late and
#     resets: the server reads them all, then EOF (the FIN came before the
#     reset), and its writes fail (the reset) (before, through the relay:
#     ~115 kB, the relay's write to the reset client failed and it reset
#     the server's connection at once, throwing away what its socket held);
#   - a local target's forward (the broker connects to the container, or
#     its relay, itself): the same, both ways;
#   - through a direct-tcpip channel (sshd forwards, the default): SSH cannot
#     carry a reset (its channel has only EOF and close; `ssh -L` is the
#     same), so the local client reads all 300 kB, then EOF: stated here so
#     that a change of that is seen.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker

rig_remote_host fr
base=$(rig_ports 16)
p_any=$base p_lo=$((base + 1)) p_sink=$((base + 2)) p_slow=$((base + 10))
d_any=$((base + 3)) d_lo=$((base + 4)) d_sink=$((base + 5))
l_any=$((base + 6)) l_lo=$((base + 7)) l_sink=$((base + 8)) l_gone=$((base + 9))
l_echo=$((base + 11))
p_up_any=$((base + 12)) p_up_lo=$((base + 13)) l_up_any=$((base + 14)) l_up_lo=$((base + 15))
lws=$TEST_TMP/lws
peer=$RDEV_SOURCE_DIR/tests/e2e/reset_peer.py
pids=()
cleanup() {
	local rc=$? p
	set +e
	for p in "${pids[@]+"${pids[@]}"}"; do kill "$p" 2>/dev/null; done
	RDEV_RUNTIME_DIR=$TEST_TMP/rt2 RDEV_STATE_DIR=$TEST_TMP/state2 broker stop >/dev/null 2>&1
	docker ps -aq --filter "label=devcontainer.local_folder=$lws" | xargs -r docker rm -f >/dev/null
	(exit $rc)
	rig_remote_cleanup ws
}
trap cleanup EXIT
on_host "mkdir -p ~/ws && cat > ~/ws/.devcontainer.json" <<JSON
{ "image": "$RDEV_RIG_IMAGE_BOOKWORM", "updateRemoteUserUID": false }
JSON
RDEV_FORWARD_VIA=session broker -vv start >/dev/null
rdev up "$name:~/ws" --accept-new-host-key >"$TEST_TMP/up.out" 2>"$TEST_TMP/up.err" ||
	{ cat "$TEST_TMP/up.err" >&2; fail "rdev up failed"; }
cid=$(jq -r .containerId "$TEST_TMP/up.out")
pid=$(docker inspect -f '{{.State.Pid}}' "$cid")
# The servers run in the container's network namespace with this machine's
# python (the image has none); each port in the container is the one the
# forward of the same number goes to.
serve() { nsenter -t "${in_pid:-$pid}" -n python3 "$peer" "$@" & pids+=($!); }
serve serve 0.0.0.0 "$p_any" 300000
serve serve 127.0.0.1 "$p_lo" 300000
serve sink 0.0.0.0 "$p_sink" "$TEST_TMP/sink.out"
serve pause 0.0.0.0 "$p_slow" "$TEST_TMP/slow.out" 67108864 1.2
serve slow-sink 0.0.0.0 "$p_up_any" "$TEST_TMP/up_any_session.out" 0.5
serve slow-sink 127.0.0.1 "$p_up_lo" "$TEST_TMP/up_lo_session.out" 0.5
serve serve 0.0.0.0 "$d_any" 300000
serve serve 127.0.0.1 "$d_lo" 300000
serve sink 0.0.0.0 "$d_sink" "$TEST_TMP/dsink.out"
listening() { nsenter -t "${in_pid:-$pid}" -n ss -Hltn | grep -q ":$1 "; }
for p in "$p_any" "$p_lo" "$p_sink" "$p_slow" "$p_up_any" "$p_up_lo" "$d_any" "$d_lo" "$d_sink"; do
	eventually "the server at $p listens" listening "$p"
done

# --- streams of the agent session -------------------------------------------------
rdev forward "$name:~/ws" "$p_any" "$p_lo" "$p_sink" "$p_slow" "$p_up_any" "$p_up_lo" >/dev/null 2>"$TEST_TMP/fwd.err" ||
	{ cat "$TEST_TMP/fwd.err" >&2; fail "rdev forward failed"; }
# (each client reads 0.3 s late, the two at once: the bytes wait on the way,
# in the broker's buffers and in the sockets' queues, which a reset passed on
# at once would throw away; common/sock-drain.h)
python3 "$peer" read "$p_any" 0.3 >"$TEST_TMP/any.out" & reader=$!
lo=$(python3 "$peer" read "$p_lo" 0.3)
wait "$reader"
check_eq "session: a server (0.0.0.0) that resets after 300 kB: the client gets them, then a reset" \
	"$(cat "$TEST_TMP/any.out")" "reset 300000"
check_eq "session: the same through the relay (127.0.0.1): the bytes, then a reset" \
	"$lo" "reset 300000"
python3 "$peer" reset "$p_sink" 100000 || fail "the client through $p_sink did not reach the server"
sank() { [ -s "$TEST_TMP/sink.out" ]; }
eventually "session: the server sees the client's connection end" sank
check_eq "session: a client that resets after 100 kB: the server gets them, then a reset" \
	"$(cat "$TEST_TMP/sink.out")" "reset 100000"
# upload PREFIX PORT_ANY PORT_LO: a client of each server (0.0.0.0, and
# 127.0.0.1 through the relay) uploads 200 kB, half-closes, reads some of
# the answer and resets while the server, which writes from the start,
# reads only 0.5 s later: the bytes wait on the way when the reset comes (in
# the relay's socket too: its write of the server's answer to the reset
# client fails). The server reads them all, then EOF: the FIN came before
# the reset, which finds its socket closing (CLOSE_WAIT) and fails its
# writes (EPIPE) while its reads end at the FIN. (Before, through the relay:
# ~115 kB; the failed write reset the server's connection at once.)
uploaded() { [ -s "$TEST_TMP/up_any_$1.out" ] && [ -s "$TEST_TMP/up_lo_$1.out" ]; }
upload() {
	local what=$1 any=$2 lo=$3 up
	python3 "$peer" upload-reset "$any" 200000 & up=$!
	python3 "$peer" upload-reset "$lo" 200000 || fail "$what: the client through $lo did not reach the server"
	wait "$up" || fail "$what: the client through $any did not reach the server"
	eventually "$what: the servers see the uploads end" uploaded "$what"
	check_eq "$what: a client that uploads 200 kB, half-closes and resets, the server (0.0.0.0) reading late: all of them, EOF, its writes fail" \
		"$(cat "$TEST_TMP/up_any_$what.out")" "eof 200000, writes failed"
	check_eq "$what: the same through the relay (127.0.0.1)" \
		"$(cat "$TEST_TMP/up_lo_$what.out")" "eof 200000, writes failed"
}
upload session "$p_up_any" "$p_up_lo"
# A client that floods a server that stops reading after 64 MB, and resets
# once its sends stop going: the bytes wait on the way (broker and agent,
# and their sockets: the broker's grew with the 64 MB, up to tcp_rmem's
# max) until the server reads again; it gets them all, then a reset
# (before: ~120 kB, then the reset, which threw away what the broker held
# and the agent's socket had not sent). The broker reads the client's socket
# as the stream takes them, not all at once (before: all it held, up to
# 32 MB, held in the broker; its peak RSS is checked: 12 MB, six times the
# most seen with the fix (2 MB) under load; the old broker grew by 2-37 MB,
# as much as the kernel had let its socket take: test-host-mux is the exact
# check).
bpid=$(broker status --json | jq -r .pid)
echo 5 >"/proc/$bpid/clear_refs" # (VmHWM from now)
rss0=$(awk '/^VmRSS/ {print $2}' "/proc/$bpid/status")
left=$(python3 "$peer" flood-reset "$p_slow" 0.3) || fail "the client through $p_slow did not reach the server"
slow_sank() { [ -s "$TEST_TMP/slow.out" ]; }
eventually "session: the paused server sees the client's connection end" slow_sank
check_eq "session: a client that floods a paused server and resets: the server gets all that left the client ($left), then a reset" \
	"$(cat "$TEST_TMP/slow.out")" "reset $left"
# (not under ASan: its allocator's quarantine keeps ~100 MB of the freed
# buffers of this traffic: 111 MB more in a dry run)
[ "${RDEV_SANITIZE:-0}" = 1 ] ||
	check_rss_growth "session: the broker's peak RSS while it passed them on" \
		"$rss0" "$(awk '/^VmHWM/ {print $2}' "/proc/$bpid/status")" 12288
check_eq "session: the forwards went through streams (status)" \
	"$(broker status --json | jq -r '.sessions[0].forwarding.tcp')" "not used (RDEV_FORWARD_VIA=session)"

# --- a local target: the broker's own TCP connection to the container ----------
mkdir -p "$lws"
printf '{"image": "%s", "updateRemoteUserUID": false}\n' "$RDEV_RIG_IMAGE_BOOKWORM" >"$lws/.devcontainer.json"
rdev up "$lws" >"$TEST_TMP/lup.out" 2>"$TEST_TMP/lup.err" ||
	{ cat "$TEST_TMP/lup.err" >&2; fail "rdev up (local) failed"; }
in_pid=$(docker inspect -f '{{.State.Pid}}' "$(jq -r .containerId "$TEST_TMP/lup.out")")
serve serve 0.0.0.0 "$l_any" 300000
serve serve 127.0.0.1 "$l_lo" 300000
serve sink 0.0.0.0 "$l_sink" "$TEST_TMP/lsink.out"
serve serve-asked 0.0.0.0 "$l_gone"
serve echo 0.0.0.0 "$l_echo" "$TEST_TMP/lecho.out"
serve slow-sink 0.0.0.0 "$l_up_any" "$TEST_TMP/up_any_local.out" 0.5
serve slow-sink 127.0.0.1 "$l_up_lo" "$TEST_TMP/up_lo_local.out" 0.5
for p in "$l_any" "$l_lo" "$l_sink" "$l_gone" "$l_echo" "$l_up_any" "$l_up_lo"; do
	eventually "the local container's server at $p listens" listening "$p"
done
unset in_pid
rdev forward "$lws" "$l_any" "$l_lo" "$l_sink" "$l_gone" "$l_echo" "$l_up_any" "$l_up_lo" >/dev/null 2>"$TEST_TMP/lfwd.err" ||
	{ cat "$TEST_TMP/lfwd.err" >&2; fail "rdev forward (local) failed"; }
python3 "$peer" read "$l_any" 0.3 >"$TEST_TMP/lany.out" & reader=$! # (as above)
llo=$(python3 "$peer" read "$l_lo" 0.3)
wait "$reader"
check_eq "local: a server (0.0.0.0) that resets after 300 kB: the client gets them, then a reset" \
	"$(cat "$TEST_TMP/lany.out")" "reset 300000"
check_eq "local: the same through the relay (127.0.0.1)" "$llo" "reset 300000"
python3 "$peer" reset "$l_sink" 100000 || fail "the client through $l_sink did not reach the server"
lsank() { [ -s "$TEST_TMP/lsink.out" ]; }
eventually "local: the server sees the client's connection end" lsank
check_eq "local: a client that resets after 100 kB: the server gets them, then a reset" \
	"$(cat "$TEST_TMP/lsink.out")" "reset 100000"
upload local "$l_up_any" "$l_up_lo" # (as above)
# Clients that go (close, unread bytes: a reset) while the broker still holds
# bytes of a server that reset: the links end. (They were kept for good once
# the server's reset was read before the client left: its socket's errors were
# ignored. The sizes span what the client's socket and the broker's 256 KiB
# hold, whatever the kernel's buffers are.)
python3 "$peer" gone "$l_gone" $(seq 1000000 100000 4200000)
lgone_ended() {
	[ "$(broker status --json | jq --argjson p "$l_gone" '[.. | objects | select(has("active") and .port == $p) | .active] | add')" = 0 ]
}
eventually "local: the links whose client went after the server's reset end" lgone_ended
# A client that sends to a server that writes back as it reads, reads none of
# it, and resets once its sends stop going: the server's connection ends and
# so does the link. (The server's bytes, which the client will never read,
# were held for it: the server, blocked writing them, stopped reading, and
# the link waited for good. How much the server reads is not checked: its
# write may meet the reset first, which ends its reads as a close would.)
lflood=$(python3 "$peer" flood-reset "$l_echo") || fail "the client through $l_echo did not reach the server"
echo "     (the client's bytes that left its socket: $lflood)"
lechoed() { [ -s "$TEST_TMP/lecho.out" ]; }
eventually "local: the echoing server sees the client's connection end" lechoed
echo "     (the server: $(cat "$TEST_TMP/lecho.out"))"
lecho_ended() {
	[ "$(broker status --json | jq --argjson p "$l_echo" '[.. | objects | select(has("active") and .port == $p) | .active] | add')" = 0 ]
}
eventually "local: ... and its link ends" lecho_ended

# --- direct-tcpip: a reset cannot cross SSH ----------------------------------------
# (a second broker of the test's own, which tries direct-tcpip first)
mkdir -p -m 700 "$TEST_TMP/rt2"
b2() { RDEV_RUNTIME_DIR=$TEST_TMP/rt2 RDEV_STATE_DIR=$TEST_TMP/state2 "$@"; }
b2 broker -vv start >/dev/null
b2 rdev forward "$name:~/ws" "$d_any" "$d_lo" "$d_sink" --accept-new-host-key >/dev/null 2>"$TEST_TMP/fwd2.err" ||
	{ cat "$TEST_TMP/fwd2.err" >&2; fail "rdev forward (direct-tcpip) failed"; }
check_eq "direct-tcpip: the server's reset reaches the client as EOF, after all 300 kB (SSH has no reset)" \
	"$(python3 "$peer" read "$d_any")" "eof 300000"
check_eq "direct-tcpip: through the relay too" \
	"$(python3 "$peer" read "$d_lo")" "eof 300000"
python3 "$peer" reset "$d_sink" 100000 || fail "the client through $d_sink did not reach the server"
dsank() { [ -s "$TEST_TMP/dsink.out" ]; }
eventually "direct-tcpip: the server sees the client's connection end" dsank
check_eq "direct-tcpip: a client's reset reaches the server as EOF" \
	"$(cat "$TEST_TMP/dsink.out")" "eof 100000"
check_eq "direct-tcpip: the forwards went through direct-tcpip channels (status)" \
	"$(b2 broker status --json | jq -r '.sessions[0].forwarding.tcp')" allowed
finish
