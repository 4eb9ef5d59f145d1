#!/usr/bin/env bash
# link-delay.sh - rdev over a link with 40 ms round trips (the rig's delay
# proxy in front of the host's sshd, tests/rig/delay-proxy.c): a 100 MB
# forward download and a 100 MB exec stream arrive byte-exact, and the
# download is faster than libssh's own 1.28 MB window allows there (640 KB a
# round trip: 16 MB/s; the broker grows a busy channel's window,
# broker/chan-window.h); a reader that stops after 20 MB of 1 GB leaves the
# broker holding no more than that window; a keystroke in `rdev shell` comes back
# in about one round trip (tests/e2e/keystroke.py on a real pty).
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker

rig_remote_host l --rtt-ms 40
client=$RDEV_SOURCE_DIR/tests/e2e/forward_client.py
p=$(rig_ports 1)
on_host 'mkdir -p ~/ws && cat > ~/ws/.devcontainer.json' <<JSON
{ "image": "$RDEV_RIG_IMAGE_BOOKWORM", "updateRemoteUserUID": false, "forwardPorts": [$p] }
JSON
trap 'rig_remote_cleanup ws' EXIT
rdev up "$name:~/ws" --accept-new-host-key >"$TEST_TMP/up.out" 2>"$TEST_TMP/up.err" ||
	{ cat "$TEST_TMP/up.err" >&2; fail "rdev up failed"; }
cid=$(jq -r .containerId "$TEST_TMP/up.out")
docker cp /bin/busybox "$cid:/bin/busybox"
docker exec "$cid" sh -c "mkdir -p /www && head -c 100000000 /dev/urandom > /www/blob &&
	busybox httpd -p 0.0.0.0:$p -h /www"
want=$(docker exec "$cid" sha256sum /www/blob | cut -d' ' -f1)
mbps() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", 100 / (b - a) }'; }
gt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > b) }'; }

# The best of two downloads: a machine busy with other tests may slow one.
best=0
for _ in 1 2; do
	t0=$EPOCHREALTIME
	got=$(curl -sf "http://127.0.0.1:$p/blob" | sha256sum | cut -d' ' -f1)
	rate=$(mbps "$t0" "$EPOCHREALTIME")
	check_eq "100 MB forward download at 40 ms RTT, hash-checked ($rate MB/s)" "$got" "$want"
	gt "$rate" "$best" && best=$rate
	gt "$best" 24 && break
done
check "faster than libssh's window allows at 40 ms (16 MB/s): best $best MB/s > 24" gt "$best" 24

t0=$EPOCHREALTIME
got=$(rdev exec "$name:~/ws" -- cat /www/blob </dev/null | sha256sum | cut -d' ' -f1)
check_eq "100 MB exec stream at 40 ms RTT, hash-checked ($(mbps "$t0" "$EPOCHREALTIME") MB/s)" "$got" "$want"

# A reader that takes 20 MB (its channel's window grows) then stops while
# the server has 1 GB more to send: the link's buffer toward the client
# (256 KiB) may take at most one window more with the read that empties
# libssh (host_link_pump: 8 MiB, CHAN_WINDOW_MAX), libssh may then hold
# the window it had given (8 MiB), and no more: 16.25 MiB, 20 with the
# allocator's slack. It waits long enough for four times the bound to come
# at the rate measured above, so a broker that buffered what the reader
# does not read would pass the bound (the peak over that time is taken).
docker exec "$cid" truncate -s 1000000000 /www/huge
bound=$(rss_bound $((20 * 1024)))
wait_s=$(rss_wait_seconds "$bound" "$best")
rss0=$(broker_rss)
python3 "$client" readstop "$p" /huge 20000000 $((wait_s + 20)) >"$TEST_TMP/stop.out" &
stop=$!
reader_stopped() { grep -q '^stopped 20000000' "$TEST_TMP/stop.out"; }
eventually "the reader took 20 MB and stopped" reader_stopped
rss1=$(broker_rss_peak "$wait_s")
held=$(broker status --json | jq '[.sessions[].buffered] | add')
kill $stop 2>/dev/null || true
wait $stop || true
echo "     broker RSS $rss0 kB before, at most $rss1 kB over the $wait_s s the reader stopped; its link holds $held bytes"
check_rss_growth "a reader that stops: the broker holds at most the window more" "$rss0" "$rss1" "$bound"

# Keystroke echo: at least the round trip, and not much more (p50 of 20,
# the best of up to three sessions: a loaded CI machine gave 57.7 and 78.2
# ms in two in a row, while its other tests ran).
best=
for _ in 1 2 3; do
	out=$(python3 "$RDEV_SOURCE_DIR/tests/e2e/keystroke.py" 20 -- "$RDEV_BIN_DIR/rdev" shell "$name:~/ws")
	p50=${out%% *}
	echo "     keystroke echo ms (p50 p99 mean max n): $out"
	gt 40 "$p50" && fail "a keystroke came back in $p50 ms, under the 40 ms round trip"
	if [ -z "$best" ] || gt "$best" "$p50"; then best=$p50; fi
	gt 55 "$best" && break
done
check "keystroke echo in rdev shell at 40 ms RTT: p50 $best ms <= 55" gt 55 "$best"
finish
