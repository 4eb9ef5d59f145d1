#!/usr/bin/env bash
# sync.sh - uploading a workspace (issue 12, "Sources"): `rdev sync HOST: DIR`
# of a 100 MB folder against `tar -C DIR -c . | ssh HOST tar -x` (the
# baseline, measured in the same rounds), and a one-file change sent again.
#
# Starts a rig host (an sshd on loopback), makes a folder of 100 MB (200
# files of 500 KB of random bytes and 1,000 of 1 KB), then per round, with
# the host's copies removed before each (untimed):
#
#   baseline:  tar -C DIR -c . | ssh -F CFG HOST 'mkdir -p b && tar -C b -x'
#   warm ssh:  the same through an OpenSSH master connection (ssh -S; no
#              connect or authentication per run, as rdev's broker)
#   rdev:      rdev sync HOST: DIR      (a warm broker: the SSH session kept)
#
# and, with the host's copy up to date, N times: change one 1 KB file, then
# `rdev sync HOST: DIR`. Prints medians and the goal checks: upload
# throughput >= 0.8x the baseline's (the ratio of the medians' times,
# baseline / rdev), a one-file change <= 0.3 s. Not part of ctest/CI.
#
#   bench/sync.sh
#   RDEV_BENCH_RUNS=5  RDEV_BENCH_BUILD=dir RDEV_BENCH_NO_BUILD=1
#
# RDEV_BENCH_TREE=10k makes the tree of issue 18's initial-sync goal
# instead: 10,000 files, 200 MB (400 files of 400 KB, 9,600 of 4 KB, in 100
# folders). When rsync is installed (here and on the host), `rsync -a` over
# ssh (a new connection per run) is timed in the same rounds, with the goal
# rdev / rsync >= 1.0 (issue 18).
#
# RDEV_BENCH_TREE=bigfile makes one file of 200 MB instead, and the change
# is 4 KiB overwritten at a random place in it, synced as a block delta
# (docs/SYNC.md) and, in the same rounds, whole (RDEV_SYNC_DELTAS=0): the
# time and the bytes sent of each.
#
# Exits 0 when a goal is missed (a benchmark reports, it does not gate).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_init
runs=${RDEV_BENCH_RUNS:-5}
host=${RDEV_BENCH_HOST:-bsync$(($$ % 10000))}
rig=$src/tests/rig/rig.sh
goal_ratio=0.8 goal_change_ms=300

bench_import "$src/bench/up-exec.sh" stats row report median ratio verdict

bench_build "$src" "$build" rdev rdev-agent rdev-broker agent-bundle
rdev=$build/rdev
tmp=$(mktemp -d /tmp/rdev-bench-sync.XXXXXX)
export RDEV_STATE_DIR=$tmp/state XDG_RUNTIME_DIR=$tmp/rt
mkdir -p -m 700 "$XDG_RUNTIME_DIR"
cleanup() {
	ssh -F "$cfg" -S "$tmp/cm" -O exit "$host" >/dev/null 2>&1 || true
	"$build/rdev-broker" stop >/dev/null 2>&1 || true
	bash "$rig" host-stop "$host" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT

cfg=$(bash "$rig" host-start "$host")
export RDEV_SSH_CONFIG=$cfg
on_host() { ssh -F "$cfg" "$host" "$@"; }

dir=$tmp/app
mkdir -p "$dir/big" "$dir/small"
if [ "${RDEV_BENCH_TREE:-}" = 10k ]; then
	python3 - "$dir" <<'PY'
import os, sys
d = sys.argv[1]
for i in range(1, 401):
    open(f"{d}/big/f{i}", "wb").write(os.urandom(409600))
for j in range(1, 101):
    os.makedirs(f"{d}/small/d{j}", exist_ok=True)
    for i in range(1, 97 if j < 100 else 96):
        open(f"{d}/small/d{j}/s{i}", "wb").write(os.urandom(4096))
open(f"{d}/small/s7", "wb").write(os.urandom(1024))  # (the file changed below)
PY
elif [ "${RDEV_BENCH_TREE:-}" = bigfile ]; then
	head -c 200M /dev/urandom >"$dir/big/f1"
	head -c 1024 /dev/urandom >"$dir/small/s7"
else
	for i in $(seq 1 200); do head -c 512000 /dev/urandom >"$dir/big/f$i"; done
	for i in $(seq 1 1000); do head -c 1024 /dev/urandom >"$dir/small/s$i"; done
fi
bytes=$(du -sb "$dir" | cut -f1)
have_rsync=0
command -v rsync >/dev/null && on_host 'command -v rsync' >/dev/null 2>&1 && have_rsync=1

bench_machine "$src"
echo "folder:    $bytes bytes, $(find "$dir" -type f | wc -l) files"
echo "host:      $host (sshd on loopback, the same machine)"

reset() { on_host 'rm -rf b r rdev/workspaces .rdev/state/sync'; }
c_base() { tar -C "$dir" -c . | ssh -F "$cfg" "$host" 'mkdir -p b && tar -C b -x'; }
c_mux() { tar -C "$dir" -c . | ssh -F "$cfg" -S "$tmp/cm" "$host" 'mkdir -p b && tar -C b -x'; }
c_rsync() { rsync -a -e "ssh -F $cfg" "$dir/" "$host:r/"; }
c_rdev() { "$rdev" sync "$host:" "$dir" >/dev/null 2>"$tmp/err" || { cat "$tmp/err" >&2; return 1; }; }
timed() {
	local t0 t1
	t0=$EPOCHREALTIME
	"$1"
	t1=$EPOCHREALTIME
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", (b - a) * 1000 }' >>"$tmp/times.$1"
}

ssh -F "$cfg" -M -S "$tmp/cm" -fN "$host"
# Untimed: the broker, the agent install, the host's page cache.
"$rdev" sync "$host:" "$dir" --accept-new-host-key >/dev/null 2>&1 || c_rdev
reset
fns=(c_base c_mux c_rdev)
[ "$have_rsync" = 1 ] && fns+=(c_rsync)
for f in "${fns[@]}"; do : >"$tmp/times.$f"; done
echo
echo "=== full upload, $runs rounds (host copies removed before each) ==="
for ((r = 0; r < runs; r++)); do
	for ((i = 0; i < ${#fns[@]}; i++)); do
		reset
		timed "${fns[$(((r + i) % ${#fns[@]}))]}"
	done
done
row "" "median ms" "p90 ms" "min ms"
report "tar c | ssh HOST tar x" c_base
report "tar c | ssh (master connection) HOST tar x" c_mux
[ "$have_rsync" = 1 ] && report "rsync -a -e ssh DIR/ HOST:r/" c_rsync
report "rdev sync HOST: DIR" c_rdev
base_ms=$(median c_base)
mux_ms=$(median c_mux)
rdev_ms=$(median c_rdev)

echo
echo "=== one 1 KB file changed, then rdev sync ($((runs * 2)) times) ==="
c_change() {
	head -c 1024 /dev/urandom >"$dir/small/s7"
	c_rdev
}
: >"$tmp/times.c_change"
for ((r = 0; r < runs * 2; r++)); do timed c_change; done
report "change one file + rdev sync HOST: DIR" c_change
if [ "${RDEV_BENCH_TREE:-}" = bigfile ]; then
	echo
	echo "=== 4 KiB of the 200 MB file changed, then rdev sync ($((runs * 2)) times each way) ==="
	# (the bytes sent: rdev sync --json's sentBytes, the last of each way)
	c_poke() {
		dd if=/dev/urandom of="$dir/big/f1" bs=4096 count=1 conv=notrunc status=none \
			seek=$((RANDOM * 51200 / 32768))
	}
	c_delta() { "$rdev" sync "$host:" "$dir" --json >"$tmp/delta.json" 2>"$tmp/err"; }
	c_whole() { RDEV_SYNC_DELTAS=0 "$rdev" sync "$host:" "$dir" --json >"$tmp/whole.json" 2>"$tmp/err"; }
	: >"$tmp/times.c_delta"
	: >"$tmp/times.c_whole"
	for ((r = 0; r < runs * 2; r++)); do
		c_poke
		timed c_delta
		c_poke
		timed c_whole
	done
	report "4 KiB changed + rdev sync (delta)" c_delta
	report "4 KiB changed + rdev sync (whole)" c_whole
	echo "(bytes sent: delta $(jq .sentBytes "$tmp/delta.json"), whole $(jq .sentBytes "$tmp/whole.json"))"
fi
change_ms=$(median c_change)
"$rdev" sync "$host:" "$dir" --json >"$tmp/last.json" 2>/dev/null
echo "(an unchanged folder: $(jq -r '"\(.sent) entries sent, \(.seconds) s"' "$tmp/last.json"))"

r_tp=$(ratio "$base_ms" "$rdev_ms")
r_mux=$(ratio "$mux_ms" "$rdev_ms")
echo
echo "=== goals (issue 12; medians) ==="
echo "upload throughput, rdev / baseline >= $goal_ratio: $(awk -v r="$r_tp" -v g="$goal_ratio" 'BEGIN { print (r >= g ? "PASS" : "FAIL") }')  ($r_tp: baseline $base_ms ms / rdev $rdev_ms ms; $(awk -v b="$bytes" -v t="$rdev_ms" 'BEGIN { printf "%.0f", b / t / 1000 }') MB/s)"
echo "upload throughput, rdev / warm ssh (no goal): $r_mux  (ssh with a master connection $mux_ms ms / rdev $rdev_ms ms)"
echo "one-file change <= $goal_change_ms ms: $(verdict "$change_ms" "$goal_change_ms")  ($change_ms ms)"
if [ "$have_rsync" = 1 ]; then
	rsync_ms=$(median c_rsync)
	r_rs=$(ratio "$rsync_ms" "$rdev_ms")
	echo "initial sync, rdev / rsync -a >= 1.0 (issue 18): $(awk -v r="$r_rs" 'BEGIN { print (r >= 1.0 ? "PASS" : "FAIL") }')  ($r_rs: rsync $rsync_ms ms / rdev $rdev_ms ms)"
else
	echo "initial sync vs rsync -a (issue 18): not measured (rsync is not installed here or on the host)"
fi
