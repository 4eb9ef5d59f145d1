#!/usr/bin/env bash
# locked-down.sh - a hardened host: sshd with AllowTcpForwarding no,
# AllowStreamLocalForwarding no, no sftp subsystem and MaxSessions 1, and an
# account that has never seen rdev. Everything rides on the agent's one exec
# channel (docs/PROTOCOL.md, "Streams of the agent session"): the agent
# installs (without SFTP), `up` works, 10 execs run at once, forwardPorts to
# a 127.0.0.1-bound and a 0.0.0.0-bound server answer, auto-forward works,
# ssh -L through `rdev ssh-proxy` (its direct-tcpip) reaches the container,
# 100 MB pass a forward byte-exact, 64 MB go up one byte-exact (alone, then
# while 100 MB come down another: each stream's flow control both ways), a
# reader that does not read keeps the broker's memory bounded while another
# connection goes on, and status (--json and the table) says which
# forwarding sshd refused: the first to find TCP forwarding refused is `up
# --auto-forward`'s watch, and the broker's log names it. Then kill -9 of
# the agent, whose one process carries every client there: a forwarded
# download is cut (a raw reader sees a reset, not a clean end; a reader
# that stopped is not kept), `rdev logs -f` says the agent ended, and the
# next command and the forward work on a new agent.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker

rig_remote_host ld --locked-down
client=$RDEV_SOURCE_DIR/tests/e2e/forward_client.py
trap 'rig_remote_cleanup ws ws2' EXIT
check_eq "the account has never seen rdev" "$(on_host 'ls -A ~/.rdev 2>/dev/null | wc -l')" 0

base=$(rig_ports 6)
p_lo=$base p_any=$((base + 1)) p_auto=$((base + 2)) p_ssh=$((base + 3)) p_up=$((base + 4))
p_sink=$((base + 5))
on_host "mkdir -p ~/ws && cat > ~/ws/.devcontainer.json" <<JSON
{
  "image": "$RDEV_RIG_IMAGE_BOOKWORM",
  "updateRemoteUserUID": false,
  "forwardPorts": [$p_lo, $p_any, $p_up, $p_sink],
  "portsAttributes": { "$p_auto": { "label": "auto-web", "onAutoForward": "notify" } }
}
JSON

rdev up "$name:~/ws" --accept-new-host-key --auto-forward >"$TEST_TMP/up.out" 2>"$TEST_TMP/up.err" ||
	{ cat "$TEST_TMP/up.err" >&2; fail "rdev up on the locked-down host failed"; }
cid=$(jq -r .containerId "$TEST_TMP/up.out")
check "the agent was installed (no SFTP there)" \
	on_host 'test -x ~/.rdev/agent/*/rdev-agent'
st() { broker status --json | jq -r ".sessions[0].$1"; }
check_eq "status: sshd refuses stream-local forwarding" "$(st forwarding.streamlocal)" denied
check_eq "status: clients reach the agent over its session" "$(st agent.transport)" session
check_eq "one agent for everything" "$(st agent.starts)" 1
# No connection to a forward was made yet: the --auto watch's first listing
# of the container's ports finds TCP forwarding refused, and the broker's
# log says so of the watch (it said "forward 0").
tcp_denied() { [ "$(st forwarding.tcp)" = denied ]; }
eventually "the --auto watch finds sshd refusing TCP forwarding" tcp_denied
check "the broker's log names the watch" \
	grep -q ": auto-forward: sshd refuses TCP forwarding" "$RDEV_RUNTIME_DIR/broker.log"

# --- execs: ten at once over the one session channel -----------------------------
for i in $(seq 1 10); do
	rdev exec "$name:~/ws" -- sh -c "echo exec-$i" >"$TEST_TMP/exec-$i.out" 2>&1 &
done
wait
ok=0
for i in $(seq 1 10); do
	[ "$(cat "$TEST_TMP/exec-$i.out")" = "exec-$i" ] && ok=$((ok + 1))
done
check_eq "10 parallel execs" "$ok" 10
check_eq "an exec's exit status comes back" \
	"$(rdev exec "$name:~/ws" -- sh -c 'exit 7' >/dev/null 2>&1; echo $?)" 7

# --- forwards: through the agent, to 127.0.0.1 (the relay) and 0.0.0.0 ----------
docker cp /bin/busybox "$cid:/bin/busybox"
docker exec "$cid" sh -c "mkdir -p /www && head -c 5000000 /dev/urandom > /www/blob &&
	busybox httpd -p 127.0.0.1:$p_lo -h /www && busybox httpd -p 0.0.0.0:$p_any -h /www"
want=$(docker exec "$cid" sha256sum /www/blob | cut -d' ' -f1)
# An upload server: answers each connection with the sha256 of what it got.
docker exec -d "$cid" busybox nc -ll -p "$p_up" -e busybox sha256sum
# A server that never reads what it is sent.
docker exec -d "$cid" busybox nc -ll -p "$p_sink" -e busybox sleep 600
check "up printed the forwards" grep -q "localhost:$p_lo .*container port $p_lo" "$TEST_TMP/up.err"
check_eq "a server bound to 127.0.0.1 answers" \
	"$(curl -sf "http://127.0.0.1:$p_lo/blob" | sha256sum | cut -d' ' -f1)" "$want"
check_eq "a server on 0.0.0.0 answers" \
	"$(curl -sf "http://127.0.0.1:$p_any/blob" | sha256sum | cut -d' ' -f1)" "$want"
check_eq "status: sshd refuses TCP forwarding" "$(st forwarding.tcp)" denied
# (the session's lines: its destination "  to USER@HOST:PORT", then this)
under=$(broker status | grep -A2 "^rdev-$name@" | tail -n +2)
check "plain rdev-broker status says so under the host's session ($under)" \
	grep -q "^  sshd refuses TCP and stream-local forwarding: " <<<"$under"
fwd_count() { rdev forward --list --json | jq -r --argjson p "$1" "map(select(.local == \$p))[0].$2"; }
check_eq "the 0.0.0.0 server's connection went direct (the agent connected)" \
	"$(fwd_count "$p_any" direct)" 1
check_eq "the 127.0.0.1 server's through the relay" "$(fwd_count "$p_lo" relayed)" 1
check_eq "half-close through the agent's session" \
	"$(python3 "$client" halfclose "$p_lo" /blob)" "$want"

# --- auto-forward ------------------------------------------------------------------
rdev forward "$name:~/ws" --auto 2>"$TEST_TMP/auto.err" || fail "forward --auto"
docker exec "$cid" sh -c "busybox httpd -p 127.0.0.1:$p_auto -h /www"
auto_listed() {
	rdev forward --list --json | jq -e --argjson p "$p_auto" 'map(select(.port == $p)) | length == 1' >/dev/null
}
eventually "a new listening port is forwarded by itself" auto_listed
check_eq "and answers" "$(curl -sf "http://127.0.0.1:$p_auto/blob" | sha256sum | cut -d' ' -f1)" "$want"

# --- ssh -L through rdev ssh-proxy: its direct-tcpip rides the same session -------
rdev ssh-config "$name:~/ws" >"$TEST_TMP/ssh.cfg"
ssh -F "$TEST_TMP/ssh.cfg" -o BatchMode=yes -N -o ExitOnForwardFailure=yes \
	-L "$p_ssh:localhost:$p_lo" rdev-ws 2>"$TEST_TMP/L.err" &
ssh_l=$!
eventually "ssh -L through rdev ssh-proxy listens" bash -c "exec 3<>/dev/tcp/127.0.0.1/$p_ssh"
check_eq "ssh -L through rdev ssh-proxy: the 127.0.0.1 server answers, byte-exact" \
	"$(curl -sf "http://127.0.0.1:$p_ssh/blob" | sha256sum | cut -d' ' -f1)" "$want"
kill $ssh_l
wait $ssh_l 2>/dev/null || true

# --- 100 MB down byte-exact --------------------------------------------------------
docker exec "$cid" sh -c 'head -c 100000000 /dev/urandom > /www/big'
want_big=$(docker exec "$cid" sha256sum /www/big | cut -d' ' -f1)
t0=$EPOCHREALTIME
check_eq "100 MB through the forward, byte-exact" \
	"$(curl -sf "http://127.0.0.1:$p_lo/big" | sha256sum | cut -d' ' -f1)" "$want_big"
rate=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", 100 / (b - a) }')

# --- 64 MB up byte-exact, alone and while 100 MB come down another stream ------------
head -c 64000000 /dev/urandom >"$TEST_TMP/up.bin"
want_up=$(sha256sum "$TEST_TMP/up.bin" | cut -d' ' -f1)
t0=$EPOCHREALTIME
check_eq "64 MB up through the forward, byte-exact" \
	"$(python3 "$client" upload "$p_up" "$TEST_TMP/up.bin")" "$want_up"
up_rate=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", 64 / (b - a) }')
echo "down $rate MB/s, up $up_rate MB/s through the agent's session"
t0=$EPOCHREALTIME
python3 "$client" upload "$p_up" "$TEST_TMP/up.bin" >"$TEST_TMP/up2.out" &
up=$!
check_eq "100 MB down while 64 MB go up another connection, byte-exact" \
	"$(curl -sf "http://127.0.0.1:$p_lo/big" | sha256sum | cut -d' ' -f1)" "$want_big"
wait $up || true
echo "100 MB down and 64 MB up at once: $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"
check_eq "and the 64 MB up, byte-exact" "$(cat "$TEST_TMP/up2.out")" "$want_up"
rm -f "$TEST_TMP/up.bin"

# --- a reader that does not read -----------------------------------------------------
# A reader that does not read a 1 GB file: it waits long enough for four
# times the bound to come at the rate just measured, so a broker that
# buffered what the reader does not read would pass the bound (the peak over
# that time is taken).
docker exec "$cid" truncate -s 1000000000 /www/huge
bound=$(rss_bound)
wait_s=$(rss_wait_seconds "$bound" "$rate")
rss0=$(broker_rss)
python3 "$client" stall "$p_lo" /huge $((wait_s + 20)) &
stall=$!
sleep 1
check_eq "meanwhile another connection goes on (the stalled one stalls nobody)" \
	"$(curl -sf "http://127.0.0.1:$p_any/blob" | sha256sum | cut -d' ' -f1)" "$want"
check_eq "and an exec" "$(rdev exec "$name:~/ws" -- echo still)" still
rss1=$(broker_rss_peak "$wait_s")
held=$(broker status --json | jq '[.sessions[].buffered] | add')
kill $stall 2>/dev/null || true
wait $stall || true
echo "broker RSS $rss0 kB before, at most $rss1 kB over $wait_s s with a stalled 1 GB reader ($rate MB/s before); links hold $held bytes"
check_rss_growth "a reader that does not read: broker memory stays bounded" "$rss0" "$rss1"
# Its stream's window (2 MiB, HOST_MUX_FORWARD_WINDOW): the agent sends no
# more.
check "a reader that does not read: the broker holds its stream's 2 MiB window, not more" \
	test "$held" -gt 1048576 -a "$held" -le $((2048 * 1024 + 64 * 1024))
docker exec "$cid" rm -f /www/big /www/huge

# --- a server that does not read an upload ----------------------------------------
# Sent to until the forward takes nothing for 2 s: the broker stops reading
# the client once the agent grants no more (its stream's 2 MiB window), so
# it neither grows (its peak while sending, for at most as long as four
# times the bound takes at the upload rate above) nor takes all. What the
# forward takes is what the hops hold (socket buffers, the ssh channel's
# window, the pipe, two 2 MiB windows: about 20 MB here), whatever the rate.
wait_s=$(rss_wait_seconds "$bound" "$up_rate")
rss0=$(broker_rss)
python3 "$client" upstall "$p_sink" 60 64000000 >"$TEST_TMP/upstall.out" &
upstall=$!
rss1=$(broker_rss_peak "$wait_s" "$upstall")
wait $upstall || true
read -r sent last <"$TEST_TMP/upstall.out" || true
echo "broker RSS $rss0 kB before, at most $rss1 kB sending to a server that does not read; the forward took $sent bytes, $last in its last 2 s"
check_rss_growth "a server that does not read an upload: broker memory stays bounded" "$rss0" "$rss1"
check "and the forward stopped taking ($sent bytes in all, < 64 MB; $last in the last 2 s)" \
	test "${sent:-0}" -gt 0 -a "${sent:-0}" -lt 64000000 -a "${last:-1}" -eq 0

check_eq "still one agent" "$(st agent.starts)" 1

# --- kill -9 of the agent: its one process carries every client ----------------
# A download through a forward (100 MB at 2 MB/s) and `rdev logs -f` of
# background steps are cut; logs -f says that the agent ended (not "writing to the broker:
# Broken pipe": it was between two polls); the next command and the forward
# work on a new agent.
on_host "mkdir -p ~/ws2 && cat > ~/ws2/.devcontainer.json" <<JSON
{ "image": "$RDEV_RIG_IMAGE_BOOKWORM", "updateRemoteUserUID": false,
  "postCreateCommand": "for i in \$(seq 1 30); do echo tick-\$i; sleep 0.5; done" }
JSON
rdev up "$name:~/ws2" --skip-non-blocking-commands >/dev/null 2>"$TEST_TMP/up2.err" ||
	{ cat "$TEST_TMP/up2.err" >&2; fail "rdev up ~/ws2"; }
"$RDEV_BIN_DIR/rdev" logs -f "$name:~/ws2" >"$TEST_TMP/logs.out" 2>"$TEST_TMP/logs.err" &
logs=$!
docker exec "$cid" sh -c 'head -c 100000000 /dev/urandom > /www/big'
curl -sf --limit-rate 2m -o /dev/null "http://127.0.0.1:$p_lo/big" &
dl=$!
ticked() { grep -q tick-2 "$TEST_TMP/logs.out"; }
eventually "logs -f follows the background steps" ticked
# A raw reader of the same file (no Content-Length to check) and one that
# stopped reading: the first must see an error, not a clean end; the
# second must not keep its connection open.
python3 "$client" rawcut "$p_lo" /big >"$TEST_TMP/rawcut.out" &
raw=$!
python3 "$client" readstop "$p_lo" /big 1000000 60 >"$TEST_TMP/readstop.out" &
stopped=$!
active() { [ "$(fwd_count "$p_lo" active)" = 3 ]; }
eventually "three connections through the forward are open" active
raw_started() { grep -q started "$TEST_TMP/rawcut.out" && grep -q stopped "$TEST_TMP/readstop.out"; }
eventually "the raw reader reads, the other stopped" raw_started
# (logs -f stopped meanwhile: it sleeps between its polls most of the time,
# and goes on once the broker has seen the agent end and closed its link)
kill -STOP $logs
kill -KILL "$(agent_pid)"
new_agent() { [ "$(st agent.starts)" = 2 ]; }
eventually "a new agent starts" new_agent
kill -CONT $logs
rc=0
wait $logs || rc=$?
check_eq "logs -f fails (exit 1) when the agent is killed" "$rc" 1
check "and says the agent ended ($(cat "$TEST_TMP/logs.err"))" \
	grep -q "^rdev: logs: the agent on .* ended unexpectedly" "$TEST_TMP/logs.err"
rc=0
wait $dl || rc=$?
check "the download it carried is cut, not hung nor whole (curl exit $rc)" test "$rc" -ne 0
wait $raw
check "the raw reader sees a reset, not a clean end ($(cat "$TEST_TMP/rawcut.out" | tr '\n' ' '))" \
	grep -q "^reset " "$TEST_TMP/rawcut.out"
# (within the broker's 2 s for a client to take what it holds, and the
# eventually's 15: it stayed open for ever)
none_active() { [ "$(fwd_count "$p_lo" active)" = 0 ]; }
eventually "the connection of the reader that stopped is not kept open" none_active
kill $stopped 2>/dev/null; wait $stopped 2>/dev/null || true
check_eq "the next exec works" "$(rdev exec "$name:~/ws" -- echo again)" again
check_eq "on the new agent" "$(st agent.starts)" 2
check_eq "and the forward answers" \
	"$(curl -sf "http://127.0.0.1:$p_lo/blob" | sha256sum | cut -d' ' -f1)" "$want"
rdev down "$name:~/ws2" >/dev/null || fail "rdev down ~/ws2"
rdev down "$name:~/ws" >/dev/null || fail "rdev down"
finish
