#!/usr/bin/env bash
# rig-delay.sh - the rig's delay proxy (tests/rig/delay-proxy.c), the stand-in
# for a distant host: a round trip through it takes the RTT it was given (and
# not much more), it is no bottleneck of its own at 0 ms nor at 40 ms (it
# delays, it does not become the window), it keeps the bytes and their order
# (delay-proxy-check.py checks a pattern both ways), and a rig host started
# behind one (`rig.sh host-start --rtt-ms`, `rig.sh delay-proxy`) is reached
# through it by ssh.
. "$(dirname "$0")/../rig/lib.sh"
chk="python3 $RDEV_SOURCE_DIR/tests/rig/delay-proxy-check.py"

# "KEY=VALUE" field KEY of the line on stdin.
field() { tr ' ' '\n' | sed -n "s/^$1=//p"; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }

# Round trips at 40 ms: never below the RTT (the delay is real); the median
# within 2 ms above it, in the best of three tries (the machine is shared; the
# C proxy's own share is tens of microseconds: the rest is the Python client
# and server here, 40.5 ms at load 3, where the Python proxy took 40.9).
best=
for _ in 1 2 3; do
	out=$($chk pingpong 40 20)
	echo "     $out"
	min=$(field min <<<"$out")
	p50=$(field p50 <<<"$out")
	le 40 "$min" || fail "a round trip through a 40 ms proxy took $min ms"
	if [ -z "$best" ] || le "$p50" "$best"; then best=$p50; fi
	le "$best" 42 && break
done
check "a 1-byte round trip through a 40 ms proxy takes 40-42 ms (median $best ms)" le "$best" 42
connect=$(field connect <<<"$out")
# (the proxy connects one RTT late, and what the client sent meanwhile is
# due half an RTT after it came: 1.5 RTT to the first echo, where a real
# link takes 2)
check "a new connection pays the proxy's connect RTT too ($connect ms >= 60)" le 60 "$connect"

# Bulk, 50 MB each way, the bytes checked: at 40 ms about as fast as at 0 ms
# (a proxy that held back reading would be the window: 64 KiB per 40 ms is
# 1.6 MB/s), and at 0 ms well above what SSH carries through it at 40 ms here
# (40-50 MB/s): at least 80 MB/s each way. The direct path is shown for
# scale. Best of two.
ok=0
for _ in 1 2; do
	direct=$($chk direct 50000000)
	d40=$($chk bulk 40 50000000)
	d0=$($chk bulk 0 50000000)
	echo "     $direct; $d0; $d40 (MB/s)"
	# each direction against its own 0 ms rate: 0.3x that, or 60 MB/s when
	# that is more (a fast 0 ms run must not raise the bar beyond what
	# proves the proxy reads as it goes: 1.6 MB/s when it does not)
	floor_down=$(awk -v d="$(field down <<<"$d0")" 'BEGIN { f = d * 0.3; print (f > 60 ? 60 : f) }')
	floor_up=$(awk -v d="$(field up <<<"$d0")" 'BEGIN { f = d * 0.3; print (f > 60 ? 60 : f) }')
	if le 80 "$(field down <<<"$d0")" && le 80 "$(field up <<<"$d0")" &&
		le "$floor_down" "$(field down <<<"$d40")" && le "$floor_up" "$(field up <<<"$d40")"; then
		ok=1
		break
	fi
done
check "50 MB through the proxy: byte-exact, >= 80 MB/s at 0 ms, at 40 ms >= min(0.3x that, 60 MB/s)" test $ok = 1

# A side that hangs up (the proxy had shut its write side, then its EOF
# came) while the proxy is paused over --max-queue: what its socket still
# holds goes on before the EOF, all of it (it was cut at the next chunk).
out=$($chk halfclose 20 20000000) || true
check "20 MB then EOF from a client the proxy had half-closed, paused at 64 KiB: all through ($out)" \
	test "$out" = "halfclose 20.0 got=20000000 of 20000000"

# Out of fds: the connections over the limit fail (reset), the proxy and
# the others go on, and it accepts again once fds are free (it exited).
out=$($chk fdlimit 20 2>/dev/null) || true
check "a proxy allowed 32 fds, 30 connections at once: still running, echoes after ($out)" \
	test "$out" = "fdlimit 20.0 alive=1 echo=1"

# A host behind a 40 ms proxy: ssh through it works, and pays the delay
# (key exchange, auth, the channel: several round trips).
name=$(rig_host_name d)
cfg=$(rig_host "$name" --rtt-ms 40)
port=$(sed -n 's/^  Port //p' "$cfg")
check "the host's ssh config names the proxy's port, not sshd's" \
	test "$port" != "$(cat "$(dirname "$cfg")/port")"
t0=$EPOCHREALTIME
check_eq "ssh through the 40 ms proxy" "$(ssh -F "$cfg" "$name" echo hi)" hi
ms=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }')
check "an ssh connect + command through it takes at least 4 RTT ($ms ms)" le 160 "$ms"
head -c 3000000 /dev/urandom >"$TEST_TMP/blob"
check "3 MB through ssh and the proxy, byte-exact" \
	sh -c "ssh -F '$cfg' '$name' cat <'$TEST_TMP/blob' | cmp - '$TEST_TMP/blob'"
cfg20=$(bash "$RIG" delay-proxy "$name" 20)
check_eq "a second proxy (20 ms) in front of the same host" "$(ssh -F "$cfg20" "$name" echo hi)" hi
pids=$(cat "$(dirname "$cfg")"/delay-*.pid)
bash "$RIG" host-stop "$name"
for p in $pids; do
	check "host-stop stops its delay proxy $p" pid_gone "$p"
done
finish
