#!/usr/bin/env bash
# link.sh - rdev over a link with delay, next to OpenSSH over the same link,
# against the issue 17 goals (bench/README.md).
#
# Starts a rig host (an sshd on loopback whose user is in group docker),
# brings up ~/ws on it with `rdev up HOST:~/ws`, starts the transfer server
# (bench/xfer-server.pl) in the container on 0.0.0.0, and then for each round
# trip time in RDEV_BENCH_RTTS (default "0 20 40 80" ms) reaches the host
# through a delay proxy of that RTT (tests/rig/delay-proxy.c, `rig.sh
# delay-proxy`: RTT/2 each way; 0 is no proxy: sshd itself) with its own ssh
# config, so each RTT is its own SSH session in the one broker and its own
# OpenSSH connections. Per RTT, in interleaved rounds:
#
#   forward:   RDEV_BENCH_LINK_BYTES (default 10^8) downloaded and uploaded
#              through `rdev forward HOST:~/ws LPORT:PORT` and through
#              `ssh -N -L LPORT:CONTAINER_IP:PORT HOST` (the transfer server
#              at the container address; bench/forward_client.py);
#              RDEV_BENCH_RUNS rounds (default 3)
#   first:     a new connection to each after 1.5 s idle (the forward's
#              target due for the agent's check): ms to the first byte of a
#              "GET 1", RDEV_BENCH_RUNS each (no goal: what the setup costs)
#   stream:    the same bytes from `rdev exec HOST:~/ws -- head -c N /dev/zero`
#              (warm broker: the session is up) and from `ssh HOST docker exec
#              CID head -c N /dev/zero` (its own connect included), counted
#   exec:      `rdev exec HOST:~/ws -- true` (warm), `ssh HOST docker exec CID
#              true`, and `docker exec CID true` here (no link: the floor)
#   keystroke: echo of single letters typed into `rdev shell HOST:~/ws` and
#              into `ssh -t HOST docker exec -it CID bash` (tests/e2e/keystroke.py
#              on a real pty), RDEV_BENCH_KEYS letters each (default 100)
#   link:      as many 1-byte round trips through a delay proxy of the same
#              RTT to an echo server here (tests/rig/delay-proxy-check.py
#              pingpong): what "1 RTT" is on this emulated link, tail included
#
# and prints per RTT the medians and the ratios rdev/ssh, then the goals:
# at 40 and 80 ms forward download >= 1.5x ssh -L, upload >= 1.0x, exec
# stream >= 1.5x the data rate of ssh docker exec, keystroke echo p99 <=
# RTT + 5 ms (judged twice: against the RTT as set, and against the link's
# own measured p99, which includes the delay proxy's scheduling tail); a warm
# exec <= docker exec + 2 RTT. Not part of ctest/CI.
#
#   bench/link.sh
#   RDEV_BENCH_BUILD=dir RDEV_BENCH_NO_BUILD=1   use an existing build (and bundle)
#   RDEV_BENCH_RTTS="0 40" RDEV_BENCH_RUNS=3 RDEV_BENCH_LINK_BYTES=100000000
#   RDEV_BENCH_KEYS=100 RDEV_BENCH_EXEC_RUNS=10 RDEV_BENCH_IMAGE=image RDEV_BENCH_HOST=name
#
# Exits 0 even when a goal is missed (a benchmark reports, it does not gate);
# non-zero only when something could not be built or run.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_init
runs=${RDEV_BENCH_RUNS:-3}
exec_runs=${RDEV_BENCH_EXEC_RUNS:-10}
bytes=${RDEV_BENCH_LINK_BYTES:-100000000}
keys=${RDEV_BENCH_KEYS:-100}
read -r -a rtts <<<"${RDEV_BENCH_RTTS:-0 20 40 80}"
host=${RDEV_BENCH_HOST:-lnk$(($$ % 10000))}
rig=$src/tests/rig/rig.sh
client=$src/bench/forward_client.py
goal_fwd_down=1.5 goal_fwd_up=1.0 goal_stream=1.5 goal_key_ms=5

# Helpers of the other benchmarks, taken by name (bench/lib.sh).
bench_import "$src/bench/up-exec.sh" run_cmd time_rounds stats median
bench_import "$src/bench/forward.sh" wait_tcp tp_stats ratio cleanup load

bench_rdev rdev rdev-agent rdev-broker agent-bundle
rdev() { "$build/rdev" "$@"; }

tmp=$(mktemp -d /tmp/rdev-bench-link.XXXXXX)
export RDEV_RUNTIME_DIR=$tmp/rt RDEV_STATE_DIR=$tmp/state
mkdir -m 700 "$RDEV_RUNTIME_DIR"
# forward.sh's cleanup: the ssh -L processes, the broker, the container, the host
host_started=0 home= ssh_pids=() idle_pid=
broker() { "$build/rdev-broker" "$@"; }
trap cleanup EXIT

bench_machine "$src"
echo "ssh:       $(ssh -V 2>&1); libssh $(dpkg-query -W -f '${Version}' 'libssh-4' 2>/dev/null || echo '?')"

# --- the host, the workspace, the server -------------------------------------
host_started=1
cfg=$(bash "$rig" host-start "$host") || { echo "rig host $host did not start" >&2; exit 1; }
home=$(ssh -F "$cfg" "$host" 'echo $HOME')
ssh -F "$cfg" "$host" 'mkdir -p ~/ws && cat > ~/ws/.devcontainer.json' <<JSON
{ "image": "$image", "updateRemoteUserUID": false }
JSON
RDEV_SSH_CONFIG=$cfg rdev up "$host:~/ws" --accept-new-host-key </dev/null >"$tmp/up.out" 2>"$tmp/up.err" ||
	{ cat "$tmp/up.err" >&2; exit 1; }
cid=$(jq -r .containerId "$tmp/up.out")
cip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$cid")
[ -n "$cip" ] || { echo "container ${cid:0:12} has no address" >&2; exit 1; }
p_xfer=7001
docker exec -i "$cid" sh -c 'cat > /tmp/rdev-bench-xfer.pl' <"$src/bench/xfer-server.pl"
docker exec -d "$cid" perl /tmp/rdev-bench-xfer.pl "$p_xfer" 0.0.0.0
wait_tcp "$cip:$p_xfer"
echo "host:      $host ($cfg), container ${cid:0:12} at $cip"
lport=$(bash "$rig" ports $((2 * ${#rtts[@]})) $$)

# --- one RTT ------------------------------------------------------------------
declare -A res # RTT.what -> figure
c_ex_docker() { run_cmd docker exec "$cid" true; }
c_ex_rdev() { run_cmd env RDEV_SSH_CONFIG="$c" "$build/rdev" exec "$host:~/ws" -- true; }
c_ex_ssh() { run_cmd ssh -F "$c" "$host" docker exec "$cid" true; }
# A stream of $bytes bytes through "$@", counted; appends "BYTES SECONDS".
stream() {
	local t0 t1 n
	t0=$EPOCHREALTIME
	n=$("$@" </dev/null 2>"$tmp/err" | wc -c)
	t1=$EPOCHREALTIME
	[ "$n" = "$bytes" ] || { echo "stream via $1: $n of $bytes bytes" >&2; cat "$tmp/err" >&2; return 1; }
	echo "$bytes $t0 $t1" | awk '{ printf "%d %.6f\n", $1, $3 - $2 }'
}

for rtt in "${rtts[@]}"; do
	echo
	echo "=== RTT $rtt ms (load $(load)) ==="
	c=$cfg
	[ "$rtt" = 0 ] || c=$(bash "$rig" delay-proxy "$host" "$rtt")
	lx_ssh=$lport lx_rdev=$((lport + 1))
	lport=$((lport + 2))
	ssh -F "$c" -N -o ExitOnForwardFailure=yes -L "127.0.0.1:$lx_ssh:$cip:$p_xfer" "$host" &
	ssh_pids+=($!)
	RDEV_SSH_CONFIG=$c rdev forward "$host:~/ws" "$lx_rdev:$p_xfer" </dev/null >/dev/null 2>"$tmp/fwd.err" ||
		{ cat "$tmp/fwd.err" >&2; exit 1; }
	wait_tcp "127.0.0.1:$lx_ssh"
	wait_tcp "127.0.0.1:$lx_rdev"
	declare -A ax=([ssh]=127.0.0.1:$lx_ssh [rdev]=127.0.0.1:$lx_rdev)
	for f in get.ssh get.rdev put.ssh put.rdev st.ssh st.rdev; do : >"$tmp/tp.$rtt.$f"; done
	for ((r = 0; r < runs; r++)); do
		order=(ssh rdev)
		[ $((r % 2)) = 1 ] && order=(rdev ssh)
		for p in "${order[@]}"; do
			for d in get put; do
				python3 "$client" "$d" "${ax[$p]}" "$bytes" >>"$tmp/tp.$rtt.$d.$p" ||
					{ echo "transfer $d via $p failed" >&2; exit 1; }
			done
		done
		for p in "${order[@]}"; do
			if [ "$p" = rdev ]; then
				stream env RDEV_SSH_CONFIG="$c" "$build/rdev" exec "$host:~/ws" -- head -c "$bytes" /dev/zero
			else
				stream ssh -F "$c" "$host" docker exec "$cid" head -c "$bytes" /dev/zero
			fi >>"$tmp/tp.$rtt.st.$p" || exit 1
		done
	done
	# A new connection after a pause (the forward's target then due for
	# the agent's check): its setup's round trips, to the first byte.
	python3 "$client" first "$runs" 1.5 "rdev=${ax[rdev]}" "ssh=${ax[ssh]}" >"$tmp/first.$rtt" ||
		{ echo "first-byte connections failed" >&2; exit 1; }
	time_rounds "$exec_runs" c_ex_docker c_ex_rdev c_ex_ssh
	for p in rdev ssh; do
		if [ $p = rdev ]; then
			cmd=(env RDEV_SSH_CONFIG="$c" "$build/rdev" shell "$host:~/ws")
		else
			cmd=(ssh -F "$c" -t "$host" docker exec -it "$cid" bash)
		fi
		python3 "$src/tests/e2e/keystroke.py" "$keys" -- "${cmd[@]}" >"$tmp/key.$rtt.$p" ||
			{ echo "keystrokes via $p failed" >&2; exit 1; }
	done
	# The link's own round trip: 1-byte ping-pong through a delay proxy of
	# the same RTT to an echo server here (no ssh, no rdev). Its tail is the
	# proxy's wake-ups, which the keystrokes through it pay as well.
	if [ "$rtt" != 0 ]; then
		python3 "$src/tests/rig/delay-proxy-check.py" pingpong "$rtt" "$keys" >"$tmp/link.$rtt" ||
			{ echo "the link's own ping-pong failed" >&2; exit 1; }
		res[$rtt.link.p50]=$(sed -n 's/.* p50=\([0-9.]*\).*/\1/p' "$tmp/link.$rtt")
		res[$rtt.link.p99]=$(sed -n 's/.* p99=\([0-9.]*\).*/\1/p' "$tmp/link.$rtt")
		res[$rtt.link.max]=$(sed -n 's/.* max=\([0-9.]*\).*/\1/p' "$tmp/link.$rtt")
	fi
	printf '%-34s %10s %8s %8s %10s %8s %8s %7s\n' "" "rdev" min max "ssh" min max rdev/ssh
	for f in get put st; do
		read -r rm rmin rmax <<<"$(tp_stats "$tmp/tp.$rtt.$f.rdev")"
		read -r sm smin smax <<<"$(tp_stats "$tmp/tp.$rtt.$f.ssh")"
		res[$rtt.$f.rdev]=$rm res[$rtt.$f.ssh]=$sm res[$rtt.$f]=$(ratio "$rm" "$sm")
		case $f in
		get) what="forward download, MB/s" ;;
		put) what="forward upload, MB/s" ;;
		st) what="exec stream of $bytes B, MB/s" ;;
		esac
		printf '%-34s %10s %8s %8s %10s %8s %8s %7s\n' "$what" "$rm" "$rmin" "$rmax" "$sm" "$smin" "$smax" "${res[$rtt.$f]}"
	done
	read -r kr99 <<<"$(cut -d' ' -f2 "$tmp/key.$rtt.rdev")"
	read -r ks99 <<<"$(cut -d' ' -f2 "$tmp/key.$rtt.ssh")"
	res[$rtt.key]=$kr99 res[$rtt.key.ssh]=$ks99
	printf '%-34s %10s %8s %8s %10s %8s %8s\n' "keystroke echo, ms (p50 p99 max)" \
		"$(cut -d' ' -f1 "$tmp/key.$rtt.rdev")" "$kr99" "$(cut -d' ' -f4 "$tmp/key.$rtt.rdev")" \
		"$(cut -d' ' -f1 "$tmp/key.$rtt.ssh")" "$ks99" "$(cut -d' ' -f4 "$tmp/key.$rtt.ssh")"
	[ "$rtt" = 0 ] || printf '%-34s %10s %8s %8s\n' "the link itself, ms (p50 p99 max)" \
		"${res[$rtt.link.p50]}" "${res[$rtt.link.p99]}" "${res[$rtt.link.max]}"
	for p in rdev ssh; do
		res[$rtt.first.$p]=$(awk -v p=$p '$1 == p { print $2 }' "$tmp/first.$rtt" | sort -n |
			awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }')
	done
	printf '%-34s %10s %8s %8s %10s\n' "first byte after 1.5 s idle, ms" \
		"${res[$rtt.first.rdev]}" "" "" "${res[$rtt.first.ssh]}"
	res[$rtt.ex.rdev]=$(median c_ex_rdev) res[$rtt.ex.ssh]=$(median c_ex_ssh) res[$rtt.ex.docker]=$(median c_ex_docker)
	printf '%-34s %10s %8s %8s %10s\n' "exec true, median ms (docker here)" \
		"${res[$rtt.ex.rdev]}" "" "" "${res[$rtt.ex.ssh]}   (docker exec: ${res[$rtt.ex.docker]})"
done

# --- goals ---------------------------------------------------------------------
echo
echo "=== goals (issue 17; ratios of medians in this run) ==="
ge() { awk -v r="$1" -v g="$2" 'BEGIN { print (r >= g ? "PASS" : "FAIL") }'; }
le() { awk -v r="$1" -v g="$2" 'BEGIN { print (r <= g ? "PASS" : "FAIL") }'; }
for rtt in "${rtts[@]}"; do
	[ "$rtt" = 0 ] && continue
	echo "RTT $rtt ms:"
	echo "  forward download rdev/ssh >= $goal_fwd_down: $(ge "${res[$rtt.get]}" $goal_fwd_down) (${res[$rtt.get]})"
	echo "  forward upload   rdev/ssh >= $goal_fwd_up: $(ge "${res[$rtt.put]}" $goal_fwd_up) (${res[$rtt.put]})"
	echo "  exec stream      rdev/ssh >= $goal_stream: $(ge "${res[$rtt.st]}" $goal_stream) (${res[$rtt.st]})"
	lim=$(awk -v r="$rtt" -v g=$goal_key_ms 'BEGIN { print r + g }')
	echo "  keystroke echo p99 <= RTT + $goal_key_ms ms, RTT as set: $(le "${res[$rtt.key]}" "$lim") (${res[$rtt.key]} ms; ssh ${res[$rtt.key.ssh]} ms)"
	lim=$(awk -v r="${res[$rtt.link.p99]}" -v g=$goal_key_ms 'BEGIN { print r + g }')
	echo "  keystroke echo p99 <= the link's own p99 + $goal_key_ms ms: $(le "${res[$rtt.key]}" "$lim") (${res[$rtt.key]} ms; limit $lim ms; ssh ${res[$rtt.key.ssh]} ms)"
	lim=$(awk -v d="${res[$rtt.ex.docker]}" -v r="$rtt" 'BEGIN { print d + 2 * r }')
	echo "  warm exec true <= docker exec + 2 RTT: $(le "${res[$rtt.ex.rdev]}" "$lim") (${res[$rtt.ex.rdev]} ms; limit $lim ms)"
done
