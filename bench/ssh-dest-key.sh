#!/usr/bin/env bash
# ssh-dest-key.sh - what the broker's loop pays per request for the
# request's session key (the destination the ssh config resolves the host
# to: broker/ssh-session.c, rdev_ssh_destination_cached).
#
# A rig host; HOME a temporary folder whose ~/.ssh/config has
# RDEV_BENCH_CONFIG_LINES lines (default 200: Host blocks, the rig host's
# among them) and two Includes (a glob of two files, one file); a private
# broker. bench/broker_requests.py sends RDEV_BENCH_REQUESTS (default 2000)
# "unforward" requests for the host one after another (each: connect,
# HELLO, request, answer), the session being connected: requests per
# second, and the broker's CPU time per request. With RDEV_BENCH_STRACE=1,
# `strace -c -f` of the broker over a second run of the requests: the
# openat/read/stat counts show what each request reads.
#
#   bench/ssh-dest-key.sh
#   RDEV_BENCH_BUILD=dir RDEV_BENCH_NO_BUILD=1   use an existing build (e.g.
#                                                an older one, to compare)
#
# Not part of ctest/CI; exits 0 (a benchmark reports, it does not gate).
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
src=$(pwd)
build=${RDEV_BENCH_BUILD:-$src/build-bench}
n=${RDEV_BENCH_REQUESTS:-2000}
lines=${RDEV_BENCH_CONFIG_LINES:-200}
host=${RDEV_BENCH_HOST:-skb$(($$ % 10000))}
rig=$src/tests/rig/rig.sh
. "$src/bench/lib.sh"

bench_build "$src" "$build" rdev rdev-agent rdev-broker
tmp=$(mktemp -d /tmp/rdev-bench-ssh-dest.XXXXXX)
export RDEV_RUNTIME_DIR=$tmp/rt RDEV_STATE_DIR=$tmp/state HOME=$tmp/home
export RDEV_BROKER_AGENT_PATH=${RDEV_BROKER_AGENT_PATH:-$build/rdev-agent}
unset RDEV_SSH_CONFIG
mkdir -m 700 "$RDEV_RUNTIME_DIR" "$HOME" "$HOME/.ssh" "$HOME/.ssh/conf.d"
host_started=0
cleanup() {
	"$build/rdev-broker" stop >/dev/null 2>&1 || true
	[ $host_started -eq 0 ] || bash "$rig" host-stop "$host" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT

bench_machine "$src"
echo "build:     $build"
host_started=1
cfg=$(bash "$rig" host-start "$host")
opt() { sed -n "s/^ *$1 //p" "$cfg"; }
{
	echo "Include conf.d/*.conf"
	echo "Include extra.conf"
	echo "Host $host"
	for k in HostName Port User IdentityFile UserKnownHostsFile; do
		echo "  $k $(opt $k)"
	done
	echo "  IdentitiesOnly yes"
	echo "  BatchMode yes"
} >"$HOME/.ssh/config"
i=0
while [ "$(wc -l <"$HOME/.ssh/config")" -lt "$lines" ]; do
	printf 'Host other%d other%d.example\n  HostName 10.0.%d.%d\n  User u%d\n  Port %d\n' \
		$i $i $((i / 250)) $((i % 250 + 1)) $i $((2200 + i)) >>"$HOME/.ssh/config"
	i=$((i + 1))
done
printf 'Host inc-a*\n  ServerAliveInterval 10\n' >"$HOME/.ssh/conf.d/a.conf"
printf 'Host inc-b*\n  ConnectTimeout 5\n' >"$HOME/.ssh/conf.d/b.conf"
printf 'Host *\n  ServerAliveCountMax 3\n' >"$HOME/.ssh/extra.conf"
echo "config:    $(wc -l <"$HOME/.ssh/config") lines + 2 Includes ($(cat "$HOME"/.ssh/conf.d/*.conf "$HOME/.ssh/extra.conf" | wc -l) lines)"
# (the config files are older than the racy window: the cache trusts them)
sleep 3
"$build/rdev-broker" start >/dev/null
sock=$RDEV_RUNTIME_DIR/broker.sock
python3 "$src/bench/broker_requests.py" "$sock" "$host" 50 >/dev/null # warm
pid=$(cat "$RDEV_RUNTIME_DIR/broker.pid")
cpu() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
tck=$(getconf CLK_TCK)
echo
echo "=== $n unforward requests for $host, one at a time (load $(cut -d' ' -f1-3 /proc/loadavg)) ==="
c0=$(cpu)
read -r cnt secs rate < <(python3 "$src/bench/broker_requests.py" "$sock" "$host" "$n")
c1=$(cpu)
echo "requests/s: $rate ($cnt in $secs s)"
awk -v c=$((c1 - c0)) -v t="$tck" -v n="$cnt" 'BEGIN { printf "broker CPU: %.1f us per request\n", c / t / n * 1e6 }'
if [ "${RDEV_BENCH_STRACE:-0}" = 1 ]; then
	echo
	echo "=== strace -c -f of the broker over 200 requests ==="
	strace -c -f -p "$pid" -o "$tmp/strace" &
	spid=$!
	sleep 1
	python3 "$src/bench/broker_requests.py" "$sock" "$host" 200 >/dev/null
	kill -INT $spid
	wait $spid || true
	grep -E "calls|openat|^ *[0-9.]+ +[0-9.]+ +[0-9]+ +[0-9]+ +[0-9]* *(read|newfstatat|stat|statx|getdents64|fstat) *$" "$tmp/strace" || cat "$tmp/strace"
fi
