#!/usr/bin/env bash
# forward.sh - port forwarding throughput, round-trip latency and broker
# memory, `rdev forward` next to OpenSSH's `ssh -L`, against the issue 6
# goals (bench/README.md).
#
# Starts a rig host (an sshd on loopback whose user is in group docker, the
# same dockerd), brings up ~/ws on it with `rdev up HOST:~/ws`, and starts two
# servers in the container bound to 0.0.0.0 (reached at the container address
# by ssh -L, raw TCP and rdev, which goes there directly too), and the same two
# bound to 127.0.0.1 only (which only rdev reaches, through its relay):
#
#   a transfer server (perl, one process per connection): "GET N" -> N zero
#   bytes from a 1 MiB buffer; "PUT N" + bytes -> the count it read
#   an echo server (tests/rig/echo-server.pl: perl, select loop)
#
# Then the same servers are reached by these paths, all set up at once:
#
#   raw          TCP straight to the container address (the ceiling)
#   ssh          ssh -F CFG -N -L LPORT:CONTAINER_IP:PORT HOST (its default cipher)
#   ssh-gcm      the same with -c aes128-gcm@openssh.com
#   rdev         rdev forward HOST:~/ws LPORT:PORT (default: prefers aes128-gcm)
#   rdev-gcm     the same, RDEV_SSH_CONFIG = a copy of CFG + Ciphers aes128-gcm@openssh.com
#   rdev-chacha  the same, + Ciphers chacha20-poly1305@openssh.com
#   rdev-relay   rdev (default cipher) to the 127.0.0.1-bound servers, through
#                the relay in the container (no goal: ssh -L has no such path)
#   rdev-session rdev (default cipher) to the 0.0.0.0 servers through the
#                agent's session, as on a host whose sshd forbids forwarding
#                (issue 19): a second broker with RDEV_FORWARD_VIA=session,
#                whose agent connects on the host; goal >= 0.8x rdev's
#                throughput, p50 <= 1.2x rdev's
#   rdev-session-b the same through a third broker whose agent is
#                $RDEV_BENCH_AGENT_B, run in place (another build's
#                rdev-agent): two agents compared in the same run, under the
#                same load (only when named in RDEV_BENCH_PATHS)
#
# (each rdev variant has its own ssh config file, so its own SSH session in
# the one broker) and measures, in interleaved rounds:
#
#   1. throughput: download and upload of RDEV_BENCH_FWD_BYTES (default
#      10^9) per path, RDEV_BENCH_RUNS rounds (default 3); MB/s medians,
#      ratios; goal rdev >= 1.0x ssh (defaults of each)
#   2. latency: 1-byte ping-pong with TCP_NODELAY, RDEV_BENCH_RT_ROUNDS
#      (default 10,000) round trips per path in rotating blocks; p50 and
#      p99; goal rdev <= 1.1x ssh, both percentiles
#   3. broker memory: VmRSS of rdev-broker before and with
#      RDEV_BENCH_IDLE_CONNS (default 1,000) idle connections open through
#      the rdev forward (each echoed once first); goal <= 16 MB (10^6 bytes)
#      with them open
#
# The broker is private to the run (RDEV_RUNTIME_DIR in the temporary
# directory; stopped at the end). If the build dir's agent bundle has no
# rdev-relay yet, the broker runs the build dir's rdev-agent directly
# (RDEV_BROKER_AGENT_PATH, which finds rdev-relay next to it); the script
# says so. Not part of ctest/CI.
#
#   bench/forward.sh
#   RDEV_BENCH_BUILD=dir RDEV_BENCH_NO_BUILD=1   use an existing build
#   RDEV_BENCH_RUNS=3 RDEV_BENCH_FWD_BYTES=1000000000 RDEV_BENCH_RT_ROUNDS=10000
#   RDEV_BENCH_IDLE_CONNS=1000 RDEV_BENCH_IMAGE=image RDEV_BENCH_HOST=name
#   RDEV_BENCH_PATHS="rdev rdev-session"   only these paths (0 idle conns: no memory step)
#   RDEV_BENCH_AGENT_B=dir/rdev-agent      the agent of path rdev-session-b
#   RDEV_BENCH_SYSCALLS=1   also count the broker's system calls per transfer (strace -c)
#   RDEV_BENCH_PERF=dir     also profile one transfer each way (perf record)
#   RDEV_BENCH_CPU=1        also the CPU time (utime+stime, /proc) of each rdev
#                           path's broker + the host's sshd processes and what
#                           they run (the agent) per transfer: less disturbed
#                           by a loaded machine than MB/s
#   RDEV_BENCH_RUNS=0       no throughput step (latency only: a quick look)
#   RDEV_BENCH_AGENT_CPU=1  also the CPU time of the rdev-session paths' agents
#                           (/proc/PID/task/*/schedstat and utime+stime) during
#                           the latency rounds, and during keystrokes: 100
#                           1-byte round trips 0.1 s apart (an interactive
#                           session: what the agent burns while idle)
#
# Exits 0 even when a goal is missed (a benchmark reports, it does not gate);
# non-zero only when something could not be built or run.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_init
runs=${RDEV_BENCH_RUNS:-3}
bytes=${RDEV_BENCH_FWD_BYTES:-1000000000}
rt_rounds=${RDEV_BENCH_RT_ROUNDS:-10000}
n_idle=${RDEV_BENCH_IDLE_CONNS:-1000}
host=${RDEV_BENCH_HOST:-fwd$(($$ % 10000))}
rig=$src/tests/rig/rig.sh
client=$src/bench/forward_client.py
goal_tp=1.0 goal_rt=1.1 goal_rss_kb=15625 # 16 MB = 16 * 10^6 bytes, in KiB

bench_rdev rdev rdev-agent rdev-broker rdev-relay agent-bundle
rdev() { "$build/rdev" "$@"; }
broker() { "$build/rdev-broker" "$@"; }

tmp=$(mktemp -d /tmp/rdev-bench-forward.XXXXXX)
export RDEV_RUNTIME_DIR=$tmp/rt RDEV_STATE_DIR=$tmp/state
mkdir -m 700 "$RDEV_RUNTIME_DIR"
agent_note="the agent bundle of $build (uploaded by the broker)"
bundle=$(find "$build/agent-bundle" -mindepth 1 -maxdepth 1 -type d -name 'rdev-agent-*' 2>/dev/null | sort | tail -n 1)
if [ -z "${RDEV_BROKER_AGENT_PATH:-}" ] && { [ -z "$bundle" ] || [ ! -e "$bundle/rdev-relay" ]; }; then
	[ -x "$build/rdev-relay" ] || { echo "no rdev-relay in $build" >&2; exit 1; }
	export RDEV_BROKER_AGENT_PATH=$build/rdev-agent
fi
[ -z "${RDEV_BROKER_AGENT_PATH:-}" ] ||
	agent_note="RDEV_BROKER_AGENT_PATH=$RDEV_BROKER_AGENT_PATH (run in place on the host; the bundle has no rdev-relay)"

host_started=0 home= ssh_pids=() idle_pid=
# the second broker, for rdev-session (its own runtime dir)
session_env=(RDEV_RUNTIME_DIR=$tmp/rt2 RDEV_STATE_DIR=$tmp/state2 RDEV_FORWARD_VIA=session)
mkdir -m 700 "$tmp/rt2"
# and a third, for rdev-session-b
session_env_b=(RDEV_RUNTIME_DIR=$tmp/rt3 RDEV_STATE_DIR=$tmp/state3 RDEV_FORWARD_VIA=session
	"RDEV_BROKER_AGENT_PATH=${RDEV_BENCH_AGENT_B:-}")
mkdir -m 700 "$tmp/rt3"
cleanup() {
	local p
	for p in "${ssh_pids[@]}" $idle_pid; do kill "$p" 2>/dev/null || true; done
	env "${session_env[@]}" "$build/rdev-broker" stop >/dev/null 2>&1 || true
	env "${session_env_b[@]}" "$build/rdev-broker" stop >/dev/null 2>&1 || true
	broker stop >/dev/null 2>&1 || true
	if [ -n "$home" ]; then
		docker ps -aq --filter "label=devcontainer.local_folder=$home/ws" |
			xargs -r docker rm -f >/dev/null 2>&1 || true
	fi
	[ $host_started -eq 1 ] && bash "$rig" host-stop "$host" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
load() { cut -d' ' -f1-3 /proc/loadavg; }

bench_machine "$src"
echo "ssh:       $(ssh -V 2>&1); libssh $(dpkg-query -W -f '${Version}' 'libssh-4' 2>/dev/null || echo '?')"
echo "agent:     $agent_note"

# --- the host, the workspace, the servers ------------------------------------
host_started=1
cfg=$(bash "$rig" host-start "$host") || { echo "rig host $host did not start" >&2; exit 1; }
export RDEV_SSH_CONFIG=$cfg
home=$(ssh -F "$cfg" "$host" 'echo $HOME')
ssh -F "$cfg" "$host" 'mkdir -p ~/ws && cat > ~/ws/.devcontainer.json' <<JSON
{ "image": "$image", "updateRemoteUserUID": false }
JSON
echo "host:      $host ($cfg); ssh's ciphers: $(ssh -G -F "$cfg" "$host" | sed -n 's/^ciphers //p')"
rdev up "$host:~/ws" --accept-new-host-key </dev/null >"$tmp/up.out" 2>"$tmp/up.err" ||
	{ cat "$tmp/up.err" >&2; exit 1; }
cid=$(jq -r .containerId "$tmp/up.out")
cip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$cid")
[ -n "$cip" ] || { echo "container ${cid:0:12} has no address" >&2; exit 1; }
echo "container: ${cid:0:12} at $cip"

p_xfer=7001 p_echo=7002 p_xfer_lo=7003 p_echo_lo=7004
docker exec -i "$cid" sh -c 'cat > /tmp/rdev-bench-xfer.pl' <"$src/bench/xfer-server.pl"
docker exec -i "$cid" sh -c 'cat > /tmp/rdev-bench-echo.pl' <"$src/tests/rig/echo-server.pl"
docker exec -d "$cid" perl /tmp/rdev-bench-xfer.pl "$p_xfer" 0.0.0.0
docker exec -d "$cid" perl /tmp/rdev-bench-echo.pl "$p_echo" 0.0.0.0
# the same on 127.0.0.1 only: ssh -L cannot reach these, rdev through its relay
docker exec -d "$cid" perl /tmp/rdev-bench-xfer.pl "$p_xfer_lo" 127.0.0.1
docker exec -d "$cid" perl /tmp/rdev-bench-echo.pl "$p_echo_lo" 127.0.0.1

# Wait until TCP address $1 accepts connections.
wait_tcp() {
	local i
	for i in $(seq 1 100); do
		python3 -c 'import socket,sys; h,_,p=sys.argv[1].rpartition(":"); socket.create_connection((h,int(p)),1).close()' \
			"$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "nothing listens on $1" >&2
	return 1
}
wait_tcp "$cip:$p_xfer"
wait_tcp "$cip:$p_echo"

# --- the paths ------------------------------------------------------------
all_paths=(raw ssh ssh-gcm rdev rdev-gcm rdev-chacha rdev-relay rdev-session rdev-session-b)
read -r -a paths <<<"${RDEV_BENCH_PATHS:-${all_paths[*]:0:8}}"
# Is path $1 measured in this run?
want() { [[ " ${paths[*]} " == *" $1 "* ]]; }
declare -A ax ae # path -> address of the transfer server, of the echo server
ax[raw]=$cip:$p_xfer ae[raw]=$cip:$p_echo
base=$((10000 + ($$ % 1000) * 16)) # below the ephemeral range (32768 up)
port_free() { ! ss -Htln "sport = :$1" | grep -q .; }
# Set variable $1 to the next free local port from $base on.
next_port() {
	while ! port_free "$base"; do base=$((base + 1)); done
	printf -v "$1" '%s' "$base"
	base=$((base + 1))
}
for p in ssh ssh-gcm; do
	want $p || continue
	next_port lx
	next_port le
	copt=()
	[ $p = ssh-gcm ] && copt=(-c aes128-gcm@openssh.com)
	ssh -F "$cfg" -N -o ExitOnForwardFailure=yes "${copt[@]}" \
		-L "127.0.0.1:$lx:$cip:$p_xfer" -L "127.0.0.1:$le:$cip:$p_echo" "$host" &
	ssh_pids+=($!)
	ax[$p]=127.0.0.1:$lx ae[$p]=127.0.0.1:$le
	# its ports are taken before the next path looks for free ones
	wait_tcp "${ax[$p]}"
	wait_tcp "${ae[$p]}"
done
if want rdev-session-b && [ ! -x "${RDEV_BENCH_AGENT_B:-}" ]; then
	echo "path rdev-session-b: RDEV_BENCH_AGENT_B is not an executable rdev-agent" >&2
	exit 1
fi
for p in rdev rdev-gcm rdev-chacha rdev-relay rdev-session rdev-session-b; do
	want $p || continue
	next_port lx
	next_port le
	px=$p_xfer pe=$p_echo
	[ $p = rdev-relay ] && px=$p_xfer_lo pe=$p_echo_lo
	c=$cfg
	envs=()
	case $p in
	rdev-gcm) c=$tmp/ssh_config.gcm; { cat "$cfg"; echo "  Ciphers aes128-gcm@openssh.com"; } >"$c" ;;
	rdev-chacha) c=$tmp/ssh_config.chacha; { cat "$cfg"; echo "  Ciphers chacha20-poly1305@openssh.com"; } >"$c" ;;
	rdev-session) envs=("${session_env[@]}") ;;
	rdev-session-b) envs=("${session_env_b[@]}") ;;
	esac
	env "${envs[@]}" RDEV_SSH_CONFIG="$c" "$build/rdev" forward "$host:~/ws" "$lx:$px" "$le:$pe" \
		</dev/null >/dev/null 2>"$tmp/fwd.$p.err" ||
		{ cat "$tmp/fwd.$p.err" >&2; exit 1; }
	ax[$p]=127.0.0.1:$lx ae[$p]=127.0.0.1:$le
done
for p in "${paths[@]}"; do
	wait_tcp "${ax[$p]}"
	wait_tcp "${ae[$p]}"
done
bpid=$(broker status --json | jq -r .pid)
[ -n "$bpid" ] && [ -d "/proc/$bpid" ] || { echo "no broker pid (status: $(broker status --json))" >&2; exit 1; }
echo "paths:     $(for p in "${paths[@]}"; do printf '%s=%s ' "$p" "${ax[$p]}"; done)"
sbpid=
want rdev-session && sbpid=$(env "${session_env[@]}" "$build/rdev-broker" status --json | jq -r .pid)
sbpid_b=
want rdev-session-b && sbpid_b=$(env "${session_env_b[@]}" "$build/rdev-broker" status --json | jq -r .pid)
# The host's sshd (the one listening on its port): its descendants are the
# sessions' sshd processes and the agents.
sshd_pid=$(ss -Htlnp "sport = :$(ssh -G -F "$cfg" "$host" | sed -n 's/^port //p')" |
	sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -n 1)
# CPU ticks so far of pid $1 and of every descendant of pid $2 (processes
# come and go while /proc is read: cat skips the gone).
cpu_ticks() {
	{ cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v b="$1" -v root="$2" '
		{
			pid = $1; sub(/^[0-9]+ \(.*\) /, ""); split($0, f, " ")
			pp[pid] = f[2]; t[pid] = f[12] + f[13]
		}
		END {
			for (p in t) {
				q = p
				for (d = 0; d < 64 && q != "" && q + 0 > 1 && q != root; d++) q = pp[q]
				if (p == b || (q == root && p != root)) s += t[p]
			}
			print s + 0
		}'
}
echo "broker:    pid $bpid, $(broker status --json | jq '.sessions | length') sessions, $(broker status --json | jq '.forwards | length') forwards"

# (a path left out by RDEV_BENCH_PATHS has no figure: its ratios are "n/a",
# and a goal on them is "not measured", never a FAIL or a PASS)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || a <= 0 || b <= 0) print "n/a"; else printf "%.3f", a / b }'; }
ge() { [ "$1" = n/a ] && echo "not measured" || awk -v r="$1" -v g="$2" 'BEGIN { print (r >= g ? "PASS" : "FAIL") }'; }
le() { [ "$1" = n/a ] && echo "not measured" || awk -v r="$1" -v g="$2" 'BEGIN { print (r <= g ? "PASS" : "FAIL") }'; }
status_kb() { sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$1/status"; }

# --- 3. broker memory with idle connections (first: before any bulk traffic) --
echo
echo "=== broker memory: $n_idle idle connections through the rdev forward (load $(load)) ==="
rss0=$(status_kb "$bpid" VmRSS) rss1=0
if [ "$n_idle" -gt 0 ]; then
mkfifo "$tmp/idle.in"
python3 "$client" idle "${ae[rdev]}" "$n_idle" <"$tmp/idle.in" >"$tmp/idle.out" 2>"$tmp/idle.err" &
idle_pid=$!
exec 3>"$tmp/idle.in"
for i in $(seq 1 6000); do
	grep -q '^ready' "$tmp/idle.out" 2>/dev/null && break
	kill -0 "$idle_pid" 2>/dev/null || break
	sleep 0.1
done
grep -q "^ready $n_idle" "$tmp/idle.out" ||
	{ echo "the idle client did not get $n_idle connections up:" >&2; cat "$tmp/idle.err" >&2; exit 1; }
sleep 1
rss1=$(status_kb "$bpid" VmRSS)
chans=$(broker status --json | jq "[.forwards[] | (.active // 0)] | add" 2>/dev/null || echo "?")
fds=$(ls "/proc/$bpid/fd" | wc -l)
idle_s=$(sed -n 's/^ready [0-9]* //p' "$tmp/idle.out")
exec 3>&-
wait "$idle_pid" || true
idle_pid=
sleep 1
rss2=$(status_kb "$bpid" VmRSS)
echo "connections: $n_idle opened, then one echo on each, all at once: done after $idle_s s"
echo "broker VmRSS before:          $rss0 KiB"
echo "broker VmRSS with $n_idle open:  $rss1 KiB ($(((rss1 - rss0) * 1024 / n_idle)) bytes per connection; $fds fds; active in broker status: $chans)"
echo "broker VmRSS after closing:   $rss2 KiB"
fi

# --- 1. throughput ---------------------------------------------------------
echo
echo "=== throughput: $bytes bytes per transfer, $runs rounds, interleaved (load $(load)) ==="
for d in get put; do for p in "${paths[@]}"; do : >"$tmp/tp.$d.$p"; done; done
declare -A tp
for p in "${all_paths[@]}"; do tp[get.$p]=0 tp[put.$p]=0; done # (paths not measured)
if [ "$runs" -gt 0 ]; then
n=${#paths[@]}
for ((r = 0; r < runs; r++)); do
	for ((i = 0; i < n; i++)); do
		p=${paths[$(((r + i) % n))]}
		for d in get put; do
			cb=$bpid
			[ $p = rdev-session ] && cb=$sbpid
			[ $p = rdev-session-b ] && cb=$sbpid_b
			[ -n "${RDEV_BENCH_CPU:-}" ] && c0=$(cpu_ticks "$cb" "$sshd_pid")
			python3 "$client" "$d" "${ax[$p]}" "$bytes" >>"$tmp/tp.$d.$p" ||
				{ echo "transfer $d via $p failed" >&2; exit 1; }
			[ -n "${RDEV_BENCH_CPU:-}" ] &&
				echo $((($(cpu_ticks "$cb" "$sshd_pid") - c0) * 1000 / $(getconf CLK_TCK))) >>"$tmp/cpu.$d.$p"
		done
	done
done
# "MEDIAN MIN MAX" in MB/s (10^6 bytes) of file $1 (lines "BYTES SECONDS").
tp_stats() {
	awk '{ print $1 / $2 / 1e6 }' "$1" | sort -g | awk '{ a[NR] = $1 }
		END { printf "%.1f %.1f %.1f\n", a[int((NR + 1) / 2)], a[1], a[NR] }'
}
printf '%-12s %-38s %10s %8s %8s %10s %8s %8s\n' path cipher "down MB/s" min max "up MB/s" min max
for p in "${paths[@]}"; do
	case $p in
	raw) ciph="-" ;;
	ssh) ciph="default: $(ssh -G -F "$cfg" "$host" | sed -n 's/^ciphers \([^,]*\).*/\1/p')" ;;
	ssh-gcm | rdev-gcm) ciph=aes128-gcm@openssh.com ;;
	rdev | rdev-relay | rdev-session | rdev-session-b) ciph="default: aes128-gcm@openssh.com" ;;
	rdev-chacha) ciph=chacha20-poly1305@openssh.com ;;
	esac
	read -r gm gmin gmax <<<"$(tp_stats "$tmp/tp.get.$p")"
	read -r um umin umax <<<"$(tp_stats "$tmp/tp.put.$p")"
	tp[get.$p]=$gm tp[put.$p]=$um
	printf '%-12s %-38s %10s %8s %8s %10s %8s %8s\n' "$p" "$ciph" "$gm" "$gmin" "$gmax" "$um" "$umin" "$umax"
done
if [ -n "${RDEV_BENCH_CPU:-}" ]; then
	echo "CPU ms per transfer, broker + sshd + agent (sshd pid $sshd_pid; each run in order):"
	for p in "${paths[@]}"; do
		case $p in rdev | rdev-session | rdev-session-b) ;; *) continue ;; esac
		echo "  $p: down $(paste -sd' ' "$tmp/cpu.get.$p"); up $(paste -sd' ' "$tmp/cpu.put.$p")"
	done
fi
echo "ratios (medians):"
for d in get put; do
	dn=download; [ $d = put ] && dn=upload
	echo "  $dn: rdev/ssh $(ratio "${tp[$d.rdev]}" "${tp[$d.ssh]}")," \
		"rdev-gcm/ssh-gcm $(ratio "${tp[$d.rdev-gcm]}" "${tp[$d.ssh-gcm]}")," \
		"rdev-chacha/ssh $(ratio "${tp[$d.rdev-chacha]}" "${tp[$d.ssh]}")," \
		"rdev/raw $(ratio "${tp[$d.rdev]}" "${tp[$d.raw]}"), ssh/raw $(ratio "${tp[$d.ssh]}" "${tp[$d.raw]}")," \
		"rdev-relay/ssh $(ratio "${tp[$d.rdev-relay]}" "${tp[$d.ssh]}")"
done
else
	echo "(skipped: RDEV_BENCH_RUNS=0)"
fi

# --- 2. latency -------------------------------------------------------------
echo
echo "=== latency: 1-byte ping-pong, $rt_rounds round trips per path, blocks of 500 rotating (load $(load)) ==="
targets=()
for p in "${paths[@]}"; do targets+=("$p=${ae[$p]}"); done
declare -A apid a_ns0 a_t0 a_ns1 a_t1
agent_paths=()
for p in rdev-session rdev-session-b; do
	[ -n "${RDEV_BENCH_AGENT_CPU:-}" ] && want $p || continue
	# the path's agent: the rdev-agent with a connection to the echo server
	# while one is held open through that path (and no other)
	python3 "$client" hold "${ae[$p]}" 2 >"$tmp/hold.out" &
	hpid=$!
	for i in $(seq 1 50); do grep -q ready "$tmp/hold.out" 2>/dev/null && break; sleep 0.1; done
	apid[$p]=$(ss -Htnp "dst $cip:$p_echo" | sed -n 's/.*"rdev-agent",pid=\([0-9]*\).*/\1/p' | head -n 1)
	wait "$hpid" || true
	if [ -n "${apid[$p]}" ]; then
		agent_paths+=("$p")
	else
		echo "(path $p: no rdev-agent found with a connection to $cip:$p_echo: no agent CPU)"
	fi
done
# The CPU so far of agent pid $1: "NS TICKS" (schedstat of its threads,
# utime+stime).
agent_cpu() {
	echo "$(cat /proc/"$1"/task/*/schedstat | awk '{ s += $1 } END { print s + 0 }')" \
		"$(sed 's/^.*) //' /proc/"$1"/stat | awk '{ print $12 + $13 }')"
}
for p in "${agent_paths[@]}"; do read -r "a_ns0[$p]" "a_t0[$p]" <<<"$(agent_cpu "${apid[$p]}")"; done
python3 "$client" pingpong "$rt_rounds" 500 500 "${targets[@]}" >"$tmp/rt.out"
for p in "${agent_paths[@]}"; do read -r "a_ns1[$p]" "a_t1[$p]" <<<"$(agent_cpu "${apid[$p]}")"; done
declare -A p50 p99
for p in "${all_paths[@]}"; do p50[$p]=0 p99[$p]=0; done
printf '%-14s %9s %9s %9s %9s\n' path "p50 us" "p99 us" "mean us" "max us"
while read -r p a b c m _; do
	p50[$p]=$a p99[$p]=$b
	printf '%-14s %9s %9s %9s %9s\n' "$p" "$a" "$b" "$c" "$m"
done <"$tmp/rt.out"
for p in "${agent_paths[@]}"; do
	a=$((a_ns1[$p] - a_ns0[$p]))
	echo "$p: agent (pid ${apid[$p]}) CPU during the rounds: $((a / 1000000)) ms" \
		"($((a / (rt_rounds + 500))) ns per round trip; utime+stime $((a_t1[$p] - a_t0[$p])) ticks)"
done
for p in "${agent_paths[@]}"; do
	read -r "a_ns0[$p]" "a_t0[$p]" <<<"$(agent_cpu "${apid[$p]}")"
	read -r k50 kmax kn <<<"$(python3 "$client" keys "${ae[$p]}" 100 0.1)"
	read -r "a_ns1[$p]" "a_t1[$p]" <<<"$(agent_cpu "${apid[$p]}")"
	echo "$p: agent CPU during $kn keystrokes 0.1 s apart: $(((a_ns1[$p] - a_ns0[$p]) / 1000)) us" \
		"(utime+stime $((a_t1[$p] - a_t0[$p])) ticks); their round trip p50 $k50 us, max $kmax us"
done

# --- optional: the broker's system calls per transfer (RDEV_BENCH_SYSCALLS=1) --
if [ -n "${RDEV_BENCH_SYSCALLS:-}" ]; then
	echo
	echo "=== broker system calls during one transfer each way via rdev (strace -c; load $(load)) ==="
	for d in get put; do
		strace -c -f -p "$bpid" -o "$tmp/strace.$d" 2>/dev/null &
		spid=$!
		sleep 1
		python3 "$client" "$d" "${ax[rdev]}" "$bytes" >"$tmp/strace.$d.xfer"
		kill -INT "$spid"
		wait "$spid" 2>/dev/null || true
		echo "--- $d: $(awk '{ printf "%.1f MB/s", $1 / $2 / 1e6 }' "$tmp/strace.$d.xfer"); calls per MB:" \
			"$(awk -v mb="$((bytes / 1000000))" '/^ *[0-9.]+ +[0-9.]+ +[0-9]+ +[0-9]+/ && $NF != "total" { n += $4 } END { printf "%.1f", n / mb }' "$tmp/strace.$d")"
		awk '/^ *[0-9.]+ +[0-9.]+ +[0-9]+ +[0-9]+/ && $NF != "total" { print "    " $NF, $4 }' "$tmp/strace.$d" |
			sort -k2,2nr | head -n 6
	done
fi

# --- optional: where the CPU time goes (RDEV_BENCH_PERF=DIR) ---------------
if [ -n "${RDEV_BENCH_PERF:-}" ]; then
	mkdir -p "$RDEV_BENCH_PERF"
	echo
	echo "=== perf: system-wide profile of one transfer each way, ssh and rdev (load $(load)) ==="
	for p in ssh rdev; do
		for d in get put; do
			f=$RDEV_BENCH_PERF/perf.$p.$d
			perf record -q -a -g -F 499 -o "$f.data" -- \
				python3 "$client" "$d" "${ax[$p]}" "$bytes" >"$f.xfer" 2>/dev/null
			{ perf report -i "$f.data" --stdio --no-children --sort comm -g none 2>/dev/null |
				grep -E '^ +[0-9.]+%' | head -n 8 || true; } >"$f.comm"
			{ perf report -i "$f.data" --stdio --no-children --comm rdev-broker \
				--sort dso,sym -g none 2>/dev/null | grep -E '^ +[0-9.]+%' | head -n 25 || true; } >"$f.broker"
			echo "--- $p $d: $(awk '{ printf "%.1f MB/s", $1 / $2 / 1e6 }' "$f.xfer"); samples by command:"
			sed 's/^/    /' "$f.comm"
		done
	done
	echo "(broker symbols: $RDEV_BENCH_PERF/perf.rdev.{get,put}.broker; data: perf.*.data)"
fi

rss3=$(status_kb "$bpid" VmRSS)
hwm=$(status_kb "$bpid" VmHWM)
echo
echo "broker VmRSS at the end: $rss3 KiB (peak VmHWM $hwm KiB, after all transfers, $(broker status --json | jq '.sessions | length') sessions)"

# --- goals ----------------------------------------------------------------
echo
echo "=== goals (issue 6; load $(load)) ==="
r=$(ratio "${tp[get.rdev]}" "${tp[get.ssh]}")
echo "throughput down, rdev / ssh -L  >= $goal_tp: $(ge "$r" "$goal_tp")  ($r: ${tp[get.rdev]} / ${tp[get.ssh]} MB/s; raw ${tp[get.raw]})"
r=$(ratio "${tp[put.rdev]}" "${tp[put.ssh]}")
echo "throughput up,   rdev / ssh -L  >= $goal_tp: $(ge "$r" "$goal_tp")  ($r: ${tp[put.rdev]} / ${tp[put.ssh]} MB/s; raw ${tp[put.raw]})"
r=$(ratio "${tp[get.rdev-gcm]}" "${tp[get.ssh-gcm]}")
echo "  same cipher (aes128-gcm), down: $r; up: $(ratio "${tp[put.rdev-gcm]}" "${tp[put.ssh-gcm]}")  (no goal)"
r=$(ratio "${tp[get.rdev-chacha]}" "${tp[get.ssh]}")
echo "  same cipher (chacha20-poly1305, ssh's default), down: $r; up: $(ratio "${tp[put.rdev-chacha]}" "${tp[put.ssh]}")  (no goal)"
r=$(ratio "${p50[rdev]}" "${p50[ssh]}")
echo "latency p50, rdev / ssh -L      <= $goal_rt: $(le "$r" "$goal_rt")  ($r: ${p50[rdev]} / ${p50[ssh]} us; raw ${p50[raw]})"
r=$(ratio "${p99[rdev]}" "${p99[ssh]}")
echo "latency p99, rdev / ssh -L      <= $goal_rt: $(le "$r" "$goal_rt")  ($r: ${p99[rdev]} / ${p99[ssh]} us; raw ${p99[raw]})"
r=$(ratio "${tp[get.rdev-relay]}" "${tp[get.ssh]}")
echo "  127.0.0.1-bound server through the relay, down: $r; up: $(ratio "${tp[put.rdev-relay]}" "${tp[put.ssh]}");" \
	"p50 $(ratio "${p50[rdev-relay]}" "${p50[ssh]}"), p99 $(ratio "${p99[rdev-relay]}" "${p99[ssh]}")  (no goal)"
r=$(ratio "${tp[get.rdev-session]}" "${tp[get.rdev]}")
echo "through the agent's session (issue 19), down, / rdev direct-tcpip >= 0.8: $(ge "$r" 0.8)  ($r: ${tp[get.rdev-session]} / ${tp[get.rdev]} MB/s)"
r=$(ratio "${tp[put.rdev-session]}" "${tp[put.rdev]}")
echo "through the agent's session (issue 19), up,   / rdev direct-tcpip >= 0.8: $(ge "$r" 0.8)  ($r: ${tp[put.rdev-session]} / ${tp[put.rdev]} MB/s)"
r=$(ratio "${p50[rdev-session]}" "${p50[rdev]}")
echo "through the agent's session (issue 19), p50 / rdev direct-tcpip <= 1.2: $(le "$r" 1.2)  ($r: ${p50[rdev-session]} / ${p50[rdev]} us; p99 $(ratio "${p99[rdev-session]}" "${p99[rdev]}"))"
if want rdev-session-b; then
	echo "  session path b ($RDEV_BENCH_AGENT_B) / session path: p50 $(ratio "${p50[rdev-session-b]}" "${p50[rdev-session]}")" \
		"(${p50[rdev-session-b]} / ${p50[rdev-session]} us), p99 $(ratio "${p99[rdev-session-b]}" "${p99[rdev-session]}")," \
		"down $(ratio "${tp[get.rdev-session-b]}" "${tp[get.rdev-session]}"), up $(ratio "${tp[put.rdev-session-b]}" "${tp[put.rdev-session]}");" \
		"b / direct p50 $(ratio "${p50[rdev-session-b]}" "${p50[rdev]}")"
fi
echo "  the session broker's host: $(env "${session_env[@]}" "$build/rdev-broker" status --json | jq -c '.sessions[0] | {forwarding, transport: .agent.transport}')"
echo "  routes (rdev forward --list): $(rdev forward --list --json | jq -r 'map("\(.port): \(.direct) direct, \(.relayed) relayed") | unique | join("; ")')"
if [ "$n_idle" -gt 0 ]; then
	echo "broker RSS, $n_idle idle conns   <= 16 MB: $([ "$rss1" -le $goal_rss_kb ] && echo PASS || echo FAIL)  ($rss1 KiB; $rss0 KiB before)"
else
	echo "broker RSS with idle conns     <= 16 MB: not measured (RDEV_BENCH_IDLE_CONNS=0)"
fi
