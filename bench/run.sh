#!/usr/bin/env bash
# run.sh - configuration engine benchmark (bench/README.md).
#
# Builds rdev and bench/config-throughput in Release (build-bench/), runs the
# in-process throughput benchmark over the fixture corpus, then times
# `read-configuration --include-merged-configuration` as one process per call,
# rdev against the reference CLI, on the same folders in the same run, and
# prints the ratios and the issue 3 goal check. Not part of ctest/CI.
#
#   bench/run.sh                      everything
#   RDEV_BENCH_SECONDS=10 bench/run.sh   longer throughput run (default 3)
#   RDEV_BENCH_RUNS=9 bench/run.sh       calls per CLI and folder (default 5)
#   RDEV_BENCH_FIXTURES="dir ..."        folders for the CLI timings
#   RDEV_DEVCONTAINER_CLI=path           the reference CLI
#
# Exits 0 even when the goal is missed (a benchmark reports, it does not gate);
# exits non-zero only when something could not be built or run.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)
build=${RDEV_BENCH_BUILD:-$src/build-bench}
seconds=${RDEV_BENCH_SECONDS:-3}
runs=${RDEV_BENCH_RUNS:-5}
goal=20000
ref=${RDEV_DEVCONTAINER_CLI:-/var/tmp/rdev-rig/cache/npm/node_modules/.bin/devcontainer}
# One image, one Dockerfile and one Compose configuration whose images the
# rig has (rdev-test/bookworm-meta:r1), so neither tool waits on a failing
# docker pull; tests/data/config's fixtures name images nobody builds.
default_fixtures="tests/conformance/cases/rig-meta-image tests/conformance/cases/legacy-dockerfile tests/conformance/cases/compose-basic"
[ -d tests/conformance/cases/rig-meta-image ] ||
	default_fixtures="tests/data/config/image tests/data/config/dockerfile tests/data/config/compose"
read -r -a fixtures <<<"${RDEV_BENCH_FIXTURES:-$default_fixtures}"

echo "=== build (Release, $build) ==="
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DRDEV_SANITIZE=OFF \
	-DRDEV_BENCH=ON >/dev/null
cmake --build "$build" -j"$(nproc)" --target rdev config-throughput >/dev/null
rdev=$build/rdev

echo "=== machine ==="
echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "cpus:    $(nproc) ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min; above $(nproc) the wall figures are inflated)"
echo "rdev:    $(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$src" diff --quiet 2>/dev/null || echo ' + local changes')"

echo
echo "=== in-process throughput: config_load + config_subst(metadata) + config_merge ==="
out=$("$build/bench/config-throughput" -t "$seconds")
echo "$out" | grep -v '^RESULT'
result=$(echo "$out" | grep '^RESULT')
wall_rate=$(echo "$result" | sed -n 's/.*overall_per_sec=\([0-9]*\).*/\1/p')
cpu_rate=$(echo "$result" | sed -n 's/.*cpu_per_sec=\([0-9]*\).*/\1/p')

# Median wall time in milliseconds of $runs calls of "$@" (stdout discarded);
# prints "MEDIAN_MS STATUS" where STATUS is the last call's exit code.
time_calls() {
	local i t0 t1 rc=0 times=()
	for ((i = 0; i < runs; i++)); do
		t0=$(date +%s%N)
		"$@" >/dev/null 2>/tmp/rdev-bench.$$.err && rc=0 || rc=$?
		t1=$(date +%s%N)
		times+=($(((t1 - t0) / 1000)))
	done
	printf '%s\n' "${times[@]}" | sort -n |
		awk -v rc="$rc" '{ a[NR] = $1 } END { printf "%.1f %d\n", a[int((NR + 1) / 2)] / 1000, rc }'
}

echo
echo "=== one process per call: read-configuration --include-merged-configuration (median of $runs) ==="
have_ref=1
if [ ! -x "$ref" ]; then
	have_ref=0
	echo "reference CLI not found at $ref (set RDEV_DEVCONTAINER_CLI); its column is left empty"
else
	echo "reference: $ref ($("$ref" --version 2>/dev/null || echo '?'))"
fi
printf '%-44s %12s %12s %16s\n' "folder" "rdev ms" "reference ms" "rdev/reference"
for f in "${fixtures[@]}"; do
	abs=$(cd "$f" && pwd)
	read -r r_ms r_rc < <(time_calls "$rdev" read-configuration "$abs" --include-merged-configuration)
	r_note=""; [ "$r_rc" -ne 0 ] && r_note=" (exit $r_rc)"
	if [ $have_ref -eq 1 ]; then
		read -r d_ms d_rc < <(time_calls "$ref" read-configuration --workspace-folder "$abs" --include-merged-configuration)
		d_note=""; [ "$d_rc" -ne 0 ] && d_note=" (exit $d_rc)"
		ratio=$(awk -v a="$r_ms" -v b="$d_ms" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')
		printf '%-44s %12s %12s %16s\n' "$f" "$r_ms$r_note" "$d_ms$d_note" "$ratio"
	else
		printf '%-44s %12s %12s %16s\n' "$f" "$r_ms$r_note" "-" "-"
	fi
done
rm -f /tmp/rdev-bench.$$.err
echo "(per call: process start-up, the pipeline, 'docker image inspect' of the image"
echo " for its metadata label, printing; the reference also runs 'docker-compose config'"
echo " for Compose, which rdev does not do yet. The in-process rate above has no"
echo " start-up and no docker call.)"

echo
echo "=== goal (issue 3) ==="
verdict() { [ "$1" -ge $goal ] && echo PASS || echo FAIL; }
echo ">= 20,000 configs/s (wall): $(verdict "$wall_rate")  ($wall_rate/s)"
echo ">= 20,000 configs/s (CPU):  $(verdict "$cpu_rate")  ($cpu_rate/s; process CPU time, not inflated by other load)"
