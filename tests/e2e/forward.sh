#!/usr/bin/env bash
# forward.sh - port forwarding through the broker on a real sshd host of the
# rig: forwardPorts after `rdev up HOST:~/ws` reach an HTTP server bound only
# to 127.0.0.1 in the container (through the relay) and one on 0.0.0.0,
# payloads checked by hash (a 5 MB file and 1 GB); portsAttributes labels in
# the table; a Compose service port (db:PORT); requireLocalPort-style
# conflict -> clear error, a busy port -> the next free one; half-close;
# 1,000 concurrent connections through one forward; the relay killed and
# its port taken by a program that closes at once: that connection closed,
# the next through a new relay; a reader that does not
# read keeps the broker's memory bounded; sshd killed: connections
# are closed at once (no hang), and forwards work again once sshd is back,
# without user action; --auto forwards new listening ports (onAutoForward
# openBrowser / ignore), and `up --auto-forward` again with another --config
# moves the watch's auto-forwards to that container (not the explicit ones),
# kept by a new broker, also for a move while the host is away; --list,
# --stop (also with no TARGET: the forward found by its local port, its
# host and workspace named), and `down` ends the forwards.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker

rig_remote_host f
client=$RDEV_SOURCE_DIR/tests/e2e/forward_client.py
# (its takeport mode: a program on a killed relay's port)
relay_client=$RDEV_SOURCE_DIR/tests/e2e/relay_client.py

# Ports: ten free ones, this test's (the forwards must get these numbers).
base=$(rig_ports 10)
p_lo=$base p_any=$((base + 1)) p_echo=$((base + 2)) p_busy=$((base + 3))
p_auto=$((base + 6)) p_ign=$((base + 7))
# (p_req: once p_busy's next free one is stopped; p_cdns: the Compose app's)
p_req=$((base + 4)) p_cdns=$((base + 5)) p_rng=$((base + 9))

# The Compose workspace's folder names its project: one of this test's own.
cws=cws$$
# (ws_config FORWARDPORTS [PORTSATTRIBUTES-ENTRY,]: written again below,
# for a reused container's up)
ws_config() {
	cat <<JSON
{
  "image": "$RDEV_RIG_IMAGE_BOOKWORM",
  "updateRemoteUserUID": false,
  "forwardPorts": [$1],
  "portsAttributes": { $2"$p_lo": { "label": "loopback-only" },
    "$p_auto": { "label": "auto-web", "onAutoForward": "openBrowser" },
    "$p_ign": { "onAutoForward": "ignore" },
    "$p_req": { "label": "required", "requireLocalPort": true },
    "$p_rng-$((p_rng + 1))": { "label": "range" } }
}
JSON
}
on_host "mkdir -p ~/ws ~/$cws/.devcontainer"
ws_config "$p_lo, $p_any, $p_echo" "\"$p_echo\": { \"protocol\": \"https\" }, " | on_host "cat > ~/ws/.devcontainer.json"
on_host "cat > ~/$cws/.devcontainer/docker-compose.yml" <<YAML
version: "3"
services:
  app:
    image: $RDEV_RIG_IMAGE_BUSYBOX
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"]
  db:
    image: $RDEV_RIG_IMAGE_BUSYBOX
    command: ["sh", "-c", "mkdir -p /www && echo db-answers > /www/q && exec httpd -f -p 5432 -h /www"]
    stop_signal: SIGKILL
YAML
on_host "cat > ~/$cws/.devcontainer/devcontainer.json" <<JSON
{
  "dockerComposeFile": "docker-compose.yml",
  "service": "app",
  "workspaceFolder": "/workspace",
  "updateRemoteUserUID": false,
  "forwardPorts": ["db:5432"],
  "portsAttributes": { "5432": { "label": "database" } }
}
JSON
busy_pid= stall= closer_pid= cup=
cleanup() {
	[ -z "$busy_pid" ] || kill "$busy_pid" 2>/dev/null || true
	# (the Compose service's up, made in the background: its containers too)
	[ -z "$cup" ] || wait "$cup" 2>/dev/null || true
	[ -z "$closer_pid" ] || kill "$closer_pid" 2>/dev/null || true
	[ -z "$stall" ] || kill "$stall" 2>/dev/null || true
	broker stop >/dev/null 2>&1 || true
	docker ps -aq --filter "label=devcontainer.local_folder=$home/ws" |
		xargs -r docker rm -f >/dev/null
	local project
	project=$(docker ps -aq --filter "label=devcontainer.local_folder=$home/$cws" | head -n 1 |
		xargs -r docker inspect -f '{{index .Config.Labels "com.docker.compose.project"}}')
	if [ -n "$project" ]; then
		rig_compose_rm "$project"
	fi
	rig_test_cleanup
}
trap cleanup EXIT

rdev up "$name:~/ws" --accept-new-host-key >"$TEST_TMP/up.out" 2>"$TEST_TMP/up.err" ||
	{ cat "$TEST_TMP/up.err" >&2; fail "rdev up failed"; }
cid=$(jq -r .containerId "$TEST_TMP/up.out")
# Servers in the container: busybox httpd on 127.0.0.1 and on 0.0.0.0, and
# the rig's perl echo server on 127.0.0.1 (httpd's listen backlog of 9 is too
# small for 1,000 connections at once).
docker cp /bin/busybox "$cid:/bin/busybox"
docker exec "$cid" sh -c "mkdir -p /www && head -c 5000000 /dev/urandom > /www/blob &&
	busybox httpd -p 127.0.0.1:$p_lo -h /www && busybox httpd -p 0.0.0.0:$p_any -h /www"
docker exec -i "$cid" sh -c 'cat > /tmp/echo-server.pl' <"$RDEV_SOURCE_DIR/tests/rig/echo-server.pl"
# The 1 GB below: made as it is sent (httpd's CGI), hashed on the way, the
# hash left in /tmp/gb.b2 when all is sent. (Made first as a file, it took
# 15 s, loaded: /dev/urandom, sha256sum and the disk, before the transfer's
# 15 s; made as it is sent, beside it. BLAKE2b: b2sum takes a third of
# sha256sum's CPU.)
docker exec -i "$cid" sh -c 'mkdir -p /www/cgi-bin && cat > /www/cgi-bin/gb && chmod +x /www/cgi-bin/gb' <<'CGI'
#!/bin/sh
printf 'Content-Type: application/octet-stream\r\n\r\n'
exec 3>&1
head -c 1000000000 /dev/urandom | tee /dev/fd/3 | b2sum >/tmp/gb.b2.part &&
	mv /tmp/gb.b2.part /tmp/gb.b2
CGI
docker exec -d "$cid" perl /tmp/echo-server.pl "$p_echo" 127.0.0.1
check "up's JSON result is the reference's (the ports it brought are not printed)" \
	jq -e 'has("ports") | not' "$TEST_TMP/up.out"
check "each forwardPorts entry got its own number as the local port" sh -c \
	"'$RDEV_BIN_DIR/rdev' forward --list --json | jq -e '[.[] | select(.port == $p_lo or .port == $p_any or .port == $p_echo) | select(.local == .port)] | length == 3' >/dev/null"
check "up prints the forward table with the label" \
	grep -q "localhost:$p_lo .*container port $p_lo (loopback-only)" "$TEST_TMP/up.err"
want=$(docker exec "$cid" sha256sum /www/blob | cut -d' ' -f1)
check_eq "a server bound to 127.0.0.1 in the container answers on localhost" \
	"$(curl -sf "http://127.0.0.1:$p_lo/blob" | sha256sum | cut -d' ' -f1)" "$want"
check_eq "a server on 0.0.0.0 too, also on ::1" \
	"$(curl -sf "http://[::1]:$p_any/blob" | sha256sum | cut -d' ' -f1)" "$want"
check_eq "half-close: the reply comes after the client shut its write side" \
	"$(python3 "$client" halfclose "$p_lo" /blob)" "$want"
check_eq "half-close on the direct path too" \
	"$(python3 "$client" halfclose "$p_any" /blob)" "$want"
# The 0.0.0.0 server is reached straight at the container address (as ssh -L
# goes); the 127.0.0.1 one only through the relay.
fwd_count() { rdev forward --list --json | jq -r --argjson p "$1" "map(select(.local == \$p))[0].$2"; }
check_eq "the 0.0.0.0 server's connections went direct" \
	"$(fwd_count "$p_any" direct)/$(fwd_count "$p_any" relayed)" "2/0"
check_eq "the 127.0.0.1 server's went through the relay" \
	"$(fwd_count "$p_lo" direct)/$(fwd_count "$p_lo" relayed)" "0/2"

# The relay killed in the container and its port taken by a program that
# accepts and closes at once (the SSH path: the direct-tcpip channel ends
# before the relay's status byte, which only the peer's own end means): the
# connection that meets it is closed, and the next one answers through a
# new relay.
relay_port=$(docker exec "$cid" cat /.rdev-relay.port)
docker exec "$cid" busybox sh -c "p=\$(busybox pidof .rdev-relay) && kill \$p; i=0
	while busybox pidof .rdev-relay >/dev/null; do
		i=\$((i + 1)); [ \$i -le 500 ] || exit 1; busybox usleep 20000
	done" || fail "kill: the relay is not gone"
nsenter -t "$(docker inspect -f '{{.State.Pid}}' "$cid")" -n \
	python3 "$relay_client" takeport "$relay_port" "" - close "$TEST_TMP/close.answered" &
closer_pid=$!
eventually "kill: a program holds the killed relay's port" sh -c \
	"grep -q ':$(printf %04X "$relay_port") [0-9A-F:]* 0A ' /proc/$(docker inspect -f '{{.State.Pid}}' "$cid")/net/tcp"
rc=0
curl -s --max-time 20 "http://127.0.0.1:$p_lo/blob" >/dev/null || rc=$?
check "kill: the connection that meets it is closed (curl: $rc, 52 or 56; 28 a timeout)" \
	test "$rc" = 52 -o "$rc" = 56
check "kill: it met the program (which closed it)" test -s "$TEST_TMP/close.answered"
check_eq "kill: the next connection answers through a new relay" \
	"$(curl -sf --max-time 20 "http://127.0.0.1:$p_lo/blob" | sha256sum | cut -d' ' -f1)" "$want"
check "kill: the broker said why" grep -q "answers, but not as the container's relay" "$RDEV_RUNTIME_DIR/broker.log"
kill "$closer_pid" 2>/dev/null || true
wait "$closer_pid" 2>/dev/null || true
closer_pid=

# A client that reads slower than the data comes (the link's buffer fills and
# libssh keeps the rest): no stalls waiting for a wake-up (5 MB at 10 MB/s).
# The best of up to three tries: the stalls came every time, while a machine
# busy with other tests may slow down one try.
tries=()
for _ in 1 2 3; do
	start=$(date +%s%N)
	got=$(curl -sf --limit-rate 10M "http://127.0.0.1:$p_lo/blob" | sha256sum | cut -d' ' -f1)
	ms=$((($(date +%s%N) - start) / 1000000))
	check_eq "a rate-limited reader gets it all" "$got" "$want"
	tries+=("$ms")
	[ "$ms" -ge 1500 ] || break
done
best=$(printf '%s\n' "${tries[@]}" | sort -n | head -n 1)
check "and without stalls (${tries[*]} ms; 500 at that rate, 2,000 with the 1 s stalls)" \
	test "$best" -lt 1500

# --- conflicts ----------------------------------------------------------------
python3 -c "import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', $p_busy)); s.listen(); time.sleep(600)" &
busy_pid=$!
listening() { ss -ltn | grep -q "127.0.0.1:$1 "; }
eventually "a local process holds port $p_busy" listening "$p_busy"
set +e
rdev forward "$name:~/ws" "$p_busy:$p_any" 2>"$TEST_TMP/req.err"; rc=$?
set -e
check_eq "a required local port in use: exit 1" "$rc" 1
check "and a clear error" grep -q "127.0.0.1:$p_busy is not free" "$TEST_TMP/req.err"
rdev forward "$name:~/ws" "$p_busy" 2>"$TEST_TMP/next.err" || fail "forward $p_busy"
check "a busy port that is not required: the next free one, printed" \
	grep -q "localhost:$((p_busy + 1)) .*container port $p_busy" "$TEST_TMP/next.err"
rdev forward "$name:~/ws" --stop "$((p_busy + 1))" 2>/dev/null
kill "$busy_pid"; busy_pid=

# --- rdev forward PORT takes portsAttributes, as VS Code's does ------------------
rdev forward "$name:~/ws" "$p_rng" 2>/dev/null || fail "forward $p_rng"
check_eq "rdev forward PORT: the label of the portsAttributes range holding it" \
	"$(fwd_count "$p_rng" label)" range
rdev forward "$name:~/ws" --stop "$p_rng" 2>/dev/null
python3 -c "import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', $p_req)); s.listen(); time.sleep(600)" &
busy_pid=$!
eventually "a local process holds port $p_req" listening "$p_req"
set +e
rdev forward "$name:~/ws" "$p_req" 2>"$TEST_TMP/req2.err"; rc=$?
set -e
check_eq "rdev forward PORT whose requireLocalPort is not met here: exit 1" "$rc" 1
check "... naming the port" grep -q "127.0.0.1:$p_req is not free" "$TEST_TMP/req2.err"
# A forward of that port kept at another local port (LOCAL:PORT asks for
# no requireLocalPort): an `up` with the port in forwardPorts does not take
# it as meeting requireLocalPort. The same up on the reused container, its
# configuration's key with a "protocol" removed: no warning names the container's own
# record of the old configuration as the image's metadata.
rdev forward "$name:~/ws" "$((p_req + 1)):$p_req" 2>/dev/null || fail "forward $((p_req + 1)):$p_req"
ws_config "$p_lo, $p_any, $p_echo, $p_req" "" | on_host "cat > ~/ws/.devcontainer.json"
set +e
rdev up "$name:~/ws" >/dev/null 2>"$TEST_TMP/upreq.err"; rc=$?
set -e
check_eq "up: a kept forward at another local port does not meet requireLocalPort: exit 1" "$rc" 1
check "... naming the port" grep -q "127.0.0.1:$p_req is not free" "$TEST_TMP/upreq.err"
check "up of the reused container: a protocol the configuration no longer has is not warned of as the image's" \
	sh -c "! grep 'protocol' '$TEST_TMP/upreq.err'"
ws_config "$p_lo, $p_any, $p_echo" "" | on_host "cat > ~/ws/.devcontainer.json"
rdev forward "$name:~/ws" --stop "$((p_req + 1))" 2>/dev/null
kill "$busy_pid"; busy_pid=

# --- many connections, a big transfer -----------------------------------------
check_eq "1,000 concurrent connections through one forward" \
	"$(python3 "$client" many "$p_echo" 1000 | tail -1)" 1000
# The Compose service's up (its checks below) meanwhile: the transfer's
# rate only sets the stalled reader's wait; the up ends before the broker's
# memory is first measured.
rdev up "$name:~/$cws" >"$TEST_TMP/cup.out" 2>"$TEST_TMP/cup.err" &
cup=$!
# (curl ends when the CGI has ended: its hash is written by then)
start=$(date +%s%N)
got=$(curl -sf "http://127.0.0.1:$p_lo/cgi-bin/gb" | python3 -c 'import hashlib, sys
h, n = hashlib.blake2b(), 0
while b := sys.stdin.buffer.read(1 << 20):
    h.update(b); n += len(b)
print(n, h.hexdigest())')
ms=$((($(date +%s%N) - start) / 1000000))
want_gb=$(docker exec "$cid" cat /tmp/gb.b2 | cut -d' ' -f1)
check "the 1 GB is made (its hash)" test -n "$want_gb"
check_eq "... all of it came" "${got%% *}" 1000000000
check_eq "1 GB through the forward, hash-checked" "${got#* }" "$want_gb"
# (the link's rate, MB/s: how long the stalled reader below must wait)
mbps=$(awk -v ms="$ms" 'BEGIN { printf "%.1f", 1000 / (ms > 1 ? ms : 1) * 1000 }')
# Backpressure: a client that asks for the 1 GB and does not read. The broker
# buffers at most 256 KiB per direction plus the SSH window (2.25 MiB at the
# start: broker/chan-window.h),
# so its memory must not grow by more than a few MB.
# (The reader stalls until it is killed after the measures: one that ended
# by itself 2 s after them could close before a loaded machine took them.)
# (the wait: until the broker holds some of it, then long enough for four
# times the memory bound to come at the rate the 1 GB came, at least 3 s;
# it was a fixed 6 s)
wait "$cup" || { cat "$TEST_TMP/cup.err" >&2; fail "rdev up (compose) failed"; }
cup=
rss0=$(broker_rss)
python3 "$client" stall "$p_lo" /cgi-bin/gb 120 &
stall=$!
links_held() { broker status --json | jq '[.sessions[].buffered] | add'; }
held_some() { [ "$(links_held)" -gt 0 ]; }
eventually "the stalled reader's link holds data" held_some
wait_s=$(rss_wait_seconds "$(rss_bound)" "$mbps")
echo "info waiting $wait_s s (the 1 GB came at $mbps MB/s)"
sleep "$wait_s"
rss1=$(broker_rss)
# The broker's own count of what its links hold (exact, and not blurred by
# ASan's quarantine): the stalled connection's 256 KiB (+ one 64 KiB read).
held=$(links_held)
kill $stall 2>/dev/null || true
wait $stall || true
echo "broker RSS $rss0 kB before, $rss1 kB with a stalled 1 GB reader; links hold $held bytes"
check "a reader that does not read: the broker holds its 256 KiB, not more" \
	test "$held" -gt 131072 -a "$held" -le $(((256 + 64) * 1024 * 2))
check_rss_growth "a reader that does not read: broker memory stays bounded" "$rss0" "$rss1"

# --- a Compose service (its up made above, beside the 1 GB transfer) ------------
lp=$(sed -n 's/.*localhost:\([0-9]*\) *-> db:5432 (database).*/\1/p' "$TEST_TMP/cup.err")
check "the compose forward db:5432 is in the table" test -n "$lp"
check_eq "the db service answers on localhost" "$(curl -sf "http://127.0.0.1:$lp/q")" db-answers
# Auto-forward in a Compose container (a user-defined network): Docker's
# embedded DNS listens on 127.0.0.11 at a random TCP port there; not the
# user's, and never reachable: not forwarded.
capp=$(docker ps -q --filter "label=devcontainer.local_folder=$home/$cws" | head -n 1)
dns_hex=$(docker exec "$capp" cat /proc/net/tcp | awk '$2 ~ /^0B00007F:/ && $4 == "0A" { sub(/.*:/, "", $2); print $2; exit }')
check "the Compose app container has Docker's DNS listener on 127.0.0.11" test -n "$dns_hex"
dns_port=$((16#$dns_hex))
rdev forward "$name:~/$cws" --auto 2>/dev/null || fail "forward --auto (compose)"
docker exec "$capp" sh -c "mkdir -p /www && httpd -p 127.0.0.1:$p_cdns -h /www"
eventually "auto (compose): a new listening port is forwarded" \
	sh -c "'$RDEV_BIN_DIR/rdev' forward --list --json | jq -e --argjson p $p_cdns 'map(select(.port == \$p and .onAutoForward != null)) | length == 1' >/dev/null"
check_eq "auto (compose): Docker's DNS port $dns_port is not" \
	"$(rdev forward --list --json | jq --argjson p "$dns_port" 'map(select(.port == $p)) | length')" 0
rdev forward "$name:~/$cws" --stop-all 2>/dev/null

# --- auto-forward: new listening ports, as onAutoForward says -------------------
rdev forward "$name:~/ws" --auto 2>"$TEST_TMP/auto.err" || fail "forward --auto"
docker exec "$cid" sh -c "busybox httpd -p 127.0.0.1:$p_auto -h /www && busybox httpd -p 127.0.0.1:$p_ign -h /www"
auto_listed() {
	"$RDEV_BIN_DIR/rdev" forward --list --json |
		jq -e --argjson p "$p_auto" 'map(select(.port == $p and .onAutoForward == "openBrowser" and .url != null)) | length == 1' >/dev/null
}
eventually "a new listening port is forwarded by itself (openBrowser: with its URL)" auto_listed
check_eq "and answers" "$(curl -sf "http://127.0.0.1:$p_auto/blob" | sha256sum | cut -d' ' -f1)" "$want"
# (once the watch has seen the ignored port, it has judged it: no fixed wait)
ws_path=$("$RDEV_BIN_DIR/rdev" forward --list --json |
	jq -r --argjson p "$p_auto" 'map(select(.port == $p))[0].workspace')
eventually "the watch has seen the port its attributes ignore" rig_auto_seen "$ws_path" "$p_ign"

# The watch's relay killed and its port taken by a program that accepts and
# says nothing: the listing's 2 s pass and the watch's target is dropped, so
# the agent's probe (never answered either) starts a new relay; without that
# the watch kept the silent port for ever.
# (the broker stopped meanwhile: no listing falls between the relay's end and
# the program's bind, which would drop the target without this check
# running; the program is started first and told to go once the broker is
# stopped, so that the stop lasts only the kill and the bind)
# Still, a listing whose channel open the broker sent just before the stop
# meets the relay before its end, and its channel ends: the target is
# dropped without the check, and the agent's probe (held by the program
# too) starts a new relay. The program then held one connection (the
# probe; the broker's listing and the probe make two): the step is taken
# again with the new relay, up to 3 times.
silent_take() { # (sets relay_port, closer_pid; the program's connections in $TEST_TMP/silent.answered)
	rig_relay_takeover "$cid" silent silent
	relay_port=$takeover_port
	closer_pid=$takeover_pid
}
silent_said() {
	grep -q "the relay at port $relay_port did not list its ports" "$RDEV_RUNTIME_DIR/broker.log"
}
attempt=1
silent_take
while :; do
	EVENTUALLY_SECONDS=40 eventually "auto: a silent program on the watch's relay port: a new relay is started" sh -c \
		"p=\$(docker exec '$cid' cat /.rdev-relay.port) && [ \"\$p\" != '$relay_port' ]"
	silent_said && break
	n=$(wc -l <"$TEST_TMP/silent.answered")
	grep -n "auto-forward\|did not list" "$RDEV_RUNTIME_DIR/broker.log" | tail -5 || true # (pipefail: none found)
	[ "$n" -le 1 ] ||
		fail "auto: the program held $n connections (the broker's listing among them), but the broker never said the relay did not list its ports"
	[ "$attempt" -lt 3 ] ||
		fail "auto: in 3 attempts no listing of the watch's reached the silent program on the relay's port (each time a listing sent before the broker's stop met the relay)"
	echo "info auto: attempt $attempt: no listing reached the program (it held $n, at most the agent's probe); again with the new relay"
	kill "$closer_pid" 2>/dev/null || true
	wait "$closer_pid" 2>/dev/null || true
	sleep 3 # (the agent's answer, then the watch's next listing, through the new relay: its target)
	attempt=$((attempt + 1))
	silent_take
done
check "auto: the broker said why (attempt $attempt)" silent_said
check "auto: the program held the listing (it reached the program)" test -s "$TEST_TMP/silent.answered"
kill "$closer_pid" 2>/dev/null || true
wait "$closer_pid" 2>/dev/null || true
closer_pid=
check "onAutoForward ignore: that port is not forwarded" sh -c \
	"! '$RDEV_BIN_DIR/rdev' forward --list --json | jq -e 'map(.port) | index($p_ign) != null' >/dev/null"
# The watch follows another container of the folder (up --auto-forward
# again, with b.json: no forwardPorts): the port it auto-forwarded from the
# first goes to the second now (before: on to the first), the forwardPorts
# ones (explicit) stay; a new broker keeps that.
on_host "printf '{\"image\": \"%s\", \"updateRemoteUserUID\": false}' '$RDEV_RIG_IMAGE_BOOKWORM' > ~/ws/b.json"
docker exec "$cid" sh -c "echo from-a > /www/which"
rdev up "$name:~/ws" --config "$home/ws/b.json" --auto-forward >"$TEST_TMP/upb.out" 2>"$TEST_TMP/upb.err" ||
	{ cat "$TEST_TMP/upb.err" >&2; fail "rdev up --config b.json --auto-forward failed"; }
cidb=$(jq -r .containerId "$TEST_TMP/upb.out")
check "up --config b.json: another container" test "$cidb" != "$cid"
docker cp /bin/busybox "$cidb:/bin/busybox"
docker exec "$cidb" sh -c "mkdir -p /www && echo from-b > /www/which &&
	busybox httpd -p 127.0.0.1:$p_auto -h /www && busybox httpd -p 127.0.0.1:$p_lo -h /www"
check_eq "the watch moved: its auto-forward answers from the new container" \
	"$(curl -sf --max-time 20 "http://127.0.0.1:$p_auto/which")" from-b
check_eq "a forwardPorts forward stays with the first" \
	"$(curl -sf --max-time 20 "http://127.0.0.1:$p_lo/which")" from-a
check "the broker log warns of the move" grep -q \
	"auto-forward 127.0.0.1:$p_auto -> container port $p_auto of .* moved to the container its watch follows now" \
	"$RDEV_RUNTIME_DIR/broker.log"
broker stop >/dev/null || fail "rdev-broker stop"
check_eq "a new broker: the moved auto-forward still answers from the new container" \
	"$("$RDEV_BIN_DIR/rdev" forward --list >/dev/null && curl -sf --max-time 20 "http://127.0.0.1:$p_auto/which")" from-b
check_eq "and the forwardPorts one from the first" \
	"$(curl -sf --max-time 20 "http://127.0.0.1:$p_lo/which")" from-a

# --- listing ----------------------------------------------------------------------
check "forward --list shows the forwards" sh -c \
	"'$RDEV_BIN_DIR/rdev' forward --list --json | jq -e 'map(.local) | index($p_lo) != null' >/dev/null"
check "broker status lists them" sh -c \
	"'$RDEV_BIN_DIR/rdev-broker' status --json | jq -e '.forwards | length >= 3' >/dev/null"

# --- an unanswered channel open holds up nothing else -------------------------
# SYNs to p_hang at the container's address are dropped, so sshd's connect
# for a connection to that forward (the answer to the broker's channel open)
# hangs for minutes; the broker does not wait for it.
p_hang=$((base + 8))
cpid=$(docker inspect -f '{{.State.Pid}}' "$cid")
cip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$cid")
nsenter -t "$cpid" -n iptables -I INPUT -d "$cip" -p tcp --dport "$p_hang" -j DROP ||
	fail "cannot add a DROP rule in the container's network namespace"
rdev forward "$name:~/ws" "$p_hang" 2>/dev/null || fail "forward $p_hang"
python3 -c "import socket,sys,time; s=socket.create_connection(('127.0.0.1', int(sys.argv[1]))); time.sleep(60)" "$p_hang" &
hang_pid=$!
eventually "the broker took the hanging connection" sh -c \
	"'$RDEV_BIN_DIR/rdev' forward --list --json | jq -e 'map(select(.local == $p_hang))[0].active == 1' >/dev/null"
check_eq "meanwhile another forward answers" \
	"$(curl -sf -m 10 "http://127.0.0.1:$p_any/blob" | sha256sum | cut -d' ' -f1)" "$want"
check_eq "and a new connection to the hanging one's forward waits, not fails" \
	"$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p_hang/" || true)" "000"
kill "$hang_pid" 2>/dev/null; wait "$hang_pid" 2>/dev/null || true
rdev forward "$name:~/ws" --stop "$p_hang" 2>/dev/null || fail "forward --stop $p_hang"
nsenter -t "$cpid" -n iptables -D INPUT -d "$cip" -p tcp --dport "$p_hang" -j DROP
check_eq "a forward stopped while its opens hang: the broker carries on" \
	"$(curl -sf -m 10 "http://127.0.0.1:$p_any/blob" | sha256sum | cut -d' ' -f1)" "$want"

# --- sshd killed and back --------------------------------------------------------
# A raw reader (no Content-Length to check) is mid-transfer when the host
# goes: the cut must show as an error (a reset), not as a clean end.
docker exec "$cid" sh -c 'head -c 50000000 /dev/zero > /www/cut'
python3 "$client" rawcut "$p_any" /cut >"$TEST_TMP/rawcut.out" &
raw=$!
eventually "a raw reader reads through the forward" grep -q started "$TEST_TMP/rawcut.out"
# The listener, and the per-connection sshd (and everything else) of the
# host's user: the broker's connection breaks as if the host went down.
spid=$(cat "$hdir/sshd.pid")
kill "$spid"
pkill -KILL -u "rdev-$name" || true
# (processes that run, not zombies: the killed ones are init's to reap, 1-2 s late)
wait_gone() { pid_gone "$spid" && [ -z "$(pgrep -u "rdev-$name" | alive_pids)" ]; }
eventually "sshd is gone" wait_gone
# The broker notices at its next read or keepalive; a new connection meanwhile
# must be closed, not left hanging.
start=$(date +%s)
check_eq "while the host is away a connection is closed, not hung" \
	"$(python3 "$client" closed "$p_any")" closed
check "and quickly" test $(($(date +%s) - start)) -le 10
eventually "broker status shows the session reconnecting" sh -c \
	"'$RDEV_BIN_DIR/rdev-broker' status --json | jq -e '.sessions[] | select(.state == \"reconnecting\" or .state == \"lost\")' >/dev/null"
wait $raw
check "the raw reader the lost session carried sees a reset, not a clean end ($(tr '\n' ' ' <"$TEST_TMP/rawcut.out"))" \
	grep -q "^reset " "$TEST_TMP/rawcut.out"
check_eq "status: no clients while the session reconnects (its links are gone)" \
	"$("$RDEV_BIN_DIR/rdev-broker" status --json | jq -c '[.sessions[] | select(.state == "reconnecting" or .state == "lost") | .clients]')" "[0]"
check "forward --list says under each of its forwards that the host is away" sh -c \
	"'$RDEV_BIN_DIR/rdev' forward --list | grep -A1 '^  localhost:$p_any ' | grep -q 'its host is away (\\(lost\\|reconnecting\\)'"
# While the host is away the watch is sent back to the first container (the
# request `rdev forward --auto` makes, which the CLI cannot while the host
# is away: it reads the configuration there first): its auto-forward moves
# at once and the move is saved, so a broker started before the host is
# back has it.
ws_path=$("$RDEV_BIN_DIR/rdev" forward --list --json |
	jq -r --argjson p "$p_auto" 'map(select(.port == $p))[0].workspace')
log_lines=$(wc -l <"$RDEV_RUNTIME_DIR/broker.log")
python3 "$RDEV_SOURCE_DIR/tests/e2e/broker_request.py" "$name" forward \
	"$(jq -cn --arg ws "$ws_path" '{workspace: $ws, forwards: [], auto: {}}')" >"$TEST_TMP/away.out" ||
	{ cat "$TEST_TMP/away.out" >&2; fail "an auto request while the host is away"; }
check "the host away, the watch moved back: the broker log warns of it" sh -c \
	"tail -n +$((log_lines + 1)) '$RDEV_RUNTIME_DIR/broker.log' |
	 grep -q 'auto-forward 127.0.0.1:$p_auto -> container port $p_auto of .* moved to the container its watch follows now'"
broker stop >/dev/null || fail "rdev-broker stop (host away)"
"$RDEV_BIN_DIR/rdev" forward --list >/dev/null || fail "a new broker (host away)"
/usr/sbin/sshd -D -e -f "$hdir/sshd_config" >>"$hdir/sshd.log" 2>&1 &
echo $! >"$hdir/sshd.pid"
back() { [ "$(curl -sf -m 5 "http://127.0.0.1:$p_lo/blob" | sha256sum | cut -d' ' -f1)" = "$want" ]; }
# (a try that fails is closed at once: 0.2 s steps, 60 s in all)
deadline=$((SECONDS + 60))
until back || [ $SECONDS -ge $deadline ]; do sleep 0.2; done
check "after sshd is back the forward works again without user action" back
check_eq "and the auto-forward moved while it was away goes to the first container" \
	"$(curl -sf --max-time 20 "http://127.0.0.1:$p_auto/which")" from-a

# --- stop, down --------------------------------------------------------------------
# The watch moved back forgot its seen ports: until it has listed the first
# container again, a listening port whose explicit forward stops is new to
# it, and auto-forwarded (as any port the container listens on that nothing
# forwards): the stop below waits for that listing.
eventually "the watch has listed the first container again" rig_auto_seen "$ws_path" "$p_any"
# (no TARGET: the broker finds the forward at that local port on its host)
stop_out=$(rdev forward --stop "$p_any" 2>&1) || fail "forward --stop $p_any: $stop_out"
check "--stop PORT with no TARGET names the host and workspace" \
	grep -q "^stopped the forward at localhost:$p_any (of $ws_path on [^ ]*)\$" <<<"$stop_out"
check "after --stop the port is closed" sh -c "! curl -sf -m 5 http://127.0.0.1:$p_any/blob >/dev/null"
rdev down "$name:~/ws" >/dev/null 2>&1
check "after down the workspace's forwards are gone" sh -c \
	"! '$RDEV_BIN_DIR/rdev' forward --list --json | jq -e 'map(.local) | index($p_lo) != null' >/dev/null"
rdev down "$name:~/$cws" >/dev/null 2>&1
finish
