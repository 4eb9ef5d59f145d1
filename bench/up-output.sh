#!/usr/bin/env bash
# up-output.sh - a lifecycle command that prints many lines, through a
# remote `rdev up` (bench/README.md, "Lifecycle output through `up`").
#
# Starts one rig host (an sshd on loopback whose user is in group docker),
# puts three workspaces on it whose postAttachCommand (run by every `up`)
# prints nothing (`true`), `seq 200000` and `seq 2000000`, brings their
# containers up once, then times warm `rdev up HOST:~/wsN` of each (the
# median of RDEV_BENCH_RUNS, default 3) in the three ways a user sees the
# output:
#
#   plain:  stderr a file (every line as it comes)
#   json:   --log-format json (one JSON log line per output line)
#   view:   stderr a terminal (`script`): the progress view's updating line
#
# and prints, per row, the seconds of the up, the same minus the up whose
# command prints nothing (the cost of the output), the client's CPU seconds
# (GNU time, user+sys), the broker's (its /proc/PID/stat before and after)
# and the host agent's (its listener's, with the children it has reaped:
# the connection and request processes) and the host's sshd session's.
# Also, as the yardstick,
# `rdev exec HOST:~/ws0 -- seq 2000000`.
# Not part of ctest/CI.
#
#   bench/up-output.sh
#   RDEV_BENCH_RUNS=5                       ups per row (median)
#   RDEV_BENCH_BUILD=dir RDEV_BENCH_NO_BUILD=1   use an existing build (and bundle)
#   RDEV_BENCH_IMAGE=image  RDEV_BENCH_MODES="plain json view"  RDEV_BENCH_SIZES="0 200000 2000000"
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_init
runs=${RDEV_BENCH_RUNS:-3}
modes=${RDEV_BENCH_MODES:-plain json view}
sizes=${RDEV_BENCH_SIZES:-0 200000 2000000}
host=out$(($$ % 10000))
rig=$src/tests/rig/rig.sh

bench_rdev rdev rdev-agent rdev-broker agent-bundle

tmp=$(mktemp -d /tmp/rdev-bench-up-output.XXXXXX)
host_started=0
export RDEV_STATE_DIR=$tmp/state
bench_private_client "$tmp"
cleanup() {
	local n
	for n in $sizes; do
		[ -n "${hdir:-}" ] || break
		bench_remove_containers "$hdir/home/ws$n"
	done
	bench_broker_stop
	[ $host_started -eq 1 ] && bash "$rig" host-stop "$host" || true
	rm -rf "$tmp"
}
trap cleanup EXIT

bench_machine "$src"
host_started=1
cfg=$(bash "$rig" host-start "$host") || { echo "rig host $host did not start" >&2; exit 1; }
hdir=$(dirname "$cfg")
host_user=$(cat "$hdir/user")
for n in $sizes; do
	cmd="seq $n"
	[ "$n" = 0 ] && cmd=true
	mkdir -p "$hdir/home/ws$n"
	cat >"$hdir/home/ws$n/.devcontainer.json" <<JSON
{
	"image": "$image",
	"remoteUser": "dev",
	"updateRemoteUserUID": false,
	"postAttachCommand": "$cmd"
}
JSON
	chown -R "$host_user:" "$hdir/home/ws$n"
done
r() { "${rdev_env[@]}" RDEV_SSH_CONFIG="$cfg" "$rdev" "$@"; }
# The first up of each (untimed): the agent's install, the containers.
for n in $sizes; do
	r up --accept-new-host-key "$host:~/ws$n" </dev/null >/dev/null 2>"$tmp/first.err" ||
		{ tail -5 "$tmp/first.err" >&2; exit 1; }
done
broker_pid=$("${rdev_env[@]}" "$build/rdev-broker" status --json | jq -r .pid)
agent_pid=$("${rdev_env[@]}" "$build/rdev-broker" status --json | jq -r '[.sessions[].agent.pid // empty][0]')
ticks() { awk '{ print $14 + $15 }' "/proc/$broker_pid/stat"; }
# The host's agent: the listener and the processes it forked for each
# connection and request (their times are in its cutime/cstime once they
# have been waited for: the connection's ends with the client's).
aticks() { awk '{ print $14 + $15 + $16 + $17 }' "/proc/$agent_pid/stat"; }
# The host's sshd for the broker's session (it decrypts and encrypts every
# byte): its "USER@notty" processes.
sticks() {
	local p t=0
	for p in $(pgrep -f "^sshd: $host_user@notty"); do
		t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
	done
	echo $t
}
hz=$(getconf CLK_TCK)

# One up: prints "WALL_S CLIENT_CPU_S BROKER_CPU_S AGENT_CPU_S"; the output
# it showed goes to $tmp/out.
one() {
	local mode=$1 ws=$2 t0 t1 b0 b1 a0 a1 s0 s1 args
	args=(up "$host:~/$ws")
	s0=$(sticks)
	a0=$(aticks)
	b0=$(ticks)
	t0=$EPOCHREALTIME
	case $mode in
	plain) /usr/bin/time -f '%U %S' -o "$tmp/cpu" "${rdev_env[@]}" RDEV_SSH_CONFIG="$cfg" \
		RDEV_PROGRESS=plain "$rdev" "${args[@]}" </dev/null >/dev/null 2>"$tmp/out" ;;
	json) /usr/bin/time -f '%U %S' -o "$tmp/cpu" "${rdev_env[@]}" RDEV_SSH_CONFIG="$cfg" \
		"$rdev" "${args[@]}" --log-format json </dev/null >/dev/null 2>"$tmp/out" ;;
	view) TERM=xterm script -qec "/usr/bin/time -f '%U %S' -o '$tmp/cpu' env -u RDEV_RUNTIME_DIR \
		XDG_RUNTIME_DIR='$tmp/xdg' RDEV_KNOWN_HOSTS='$tmp/known_hosts' RDEV_SSH_CONFIG='$cfg' \
		'$rdev' up '$host:~/$ws' 2>&1 >/dev/null" /dev/null </dev/null >"$tmp/out" ||
		echo "view: script exited $?" >&2 ;;
	esac
	t1=$EPOCHREALTIME
	b1=$(ticks)
	sleep 0.5 # (the agent's connection process ends after the client)
	a1=$(aticks)
	s1=$(sticks)
	awk -v a="$t0" -v b="$t1" -v c="$(awk '{ print $1 + $2 }' "$tmp/cpu")" \
		-v d=$((b1 - b0)) -v e=$((a1 - a0)) -v f=$((s1 - s0)) -v hz="$hz" \
		'BEGIN { printf "%.2f %.2f %.2f %.2f %.2f\n", b - a, c, d / hz, e / hz, f / hz }'
}
med() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "host:      $host ($cfg)"
echo
printf '%-6s %-9s %8s %10s %12s %12s %12s %12s\n' mode lines "up s" "output s" "client CPU s" \
	"broker CPU s" "agent CPU s" "sshd CPU s"
for mode in $modes; do
	base=
	for n in $sizes; do
		: >"$tmp/rows"
		for ((i = 0; i < runs; i++)); do
			one "$mode" "ws$n" >>"$tmp/rows"
		done
		w=$(cut -d' ' -f1 "$tmp/rows" | med)
		c=$(cut -d' ' -f2 "$tmp/rows" | med)
		b=$(cut -d' ' -f3 "$tmp/rows" | med)
		a=$(cut -d' ' -f4 "$tmp/rows" | med)
		h=$(cut -d' ' -f5 "$tmp/rows" | med)
		[ -n "$base" ] || base=$w
		printf '%-6s %-9s %8s %10s %12s %12s %12s %12s\n' "$mode" "$n" "$w" \
			"$(awk -v a="$w" -v b="$base" 'BEGIN { printf "%.2f", a - b }')" "$c" "$b" "$a" "$h"
		if [ "$mode" = plain ] && [ "$n" != 0 ]; then
			got=$(grep -c '^[0-9]*$' "$tmp/out" || true)
			[ "$got" = "$n" ] || echo "       (plain: $got numbered lines shown, not $n)"
		fi
	done
done
echo
: >"$tmp/rows"
for ((i = 0; i < runs; i++)); do
	a0=$(aticks)
	b0=$(ticks)
	t0=$EPOCHREALTIME
	/usr/bin/time -f '%U %S' -o "$tmp/cpu" "${rdev_env[@]}" RDEV_SSH_CONFIG="$cfg" \
		"$rdev" exec "$host:~/ws0" -- seq 2000000 </dev/null >/dev/null 2>&1
	t1=$EPOCHREALTIME
	b1=$(ticks)
	sleep 0.5
	a1=$(aticks)
	awk -v a="$t0" -v b="$t1" -v c="$(awk '{ print $1 + $2 }' "$tmp/cpu")" \
		-v d=$((b1 - b0)) -v e=$((a1 - a0)) -v hz="$hz" \
		'BEGIN { printf "%.2f %.2f %.2f %.2f\n", b - a, c, d / hz, e / hz }' >>"$tmp/rows"
done
printf '%-16s %8s %10s %12s %12s %12s\n' "exec seq 2000000" "$(cut -d' ' -f1 "$tmp/rows" | med)" "" \
	"$(cut -d' ' -f2 "$tmp/rows" | med)" "$(cut -d' ' -f3 "$tmp/rows" | med)" \
	"$(cut -d' ' -f4 "$tmp/rows" | med)"
