#!/usr/bin/env bash
# run.sh - the whole test suite, as CI runs it (README: "Running the tests").
#
# Installs what it needs (Debian packages, the pinned reference CLI), starts the
# rig (dockerd, base images), then builds and runs every test twice: a normal
# build (build/) and an AddressSanitizer + UBSan build (build-asan/). Stops what
# the rig started when done. Exits non-zero on any failure.
#
#   tests/run.sh             both builds
#   RDEV_BUILDS=normal tests/run.sh      one build only (normal|asan)
#   CTEST_ARGS="-R jsonc" tests/run.sh   pass arguments to ctest
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)
start=$(date +%s)

bash deploy/install-build-deps.sh
bash tests/rig/rig.sh deps
# clang + its runtime for the bounded libFuzzer runs
dpkg-query -W -f='${Status}' clang libclang-rt-14-dev 2>/dev/null | grep -c 'install ok installed' | grep -q 2 ||
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clang libclang-rt-14-dev >/dev/null

rig_started=0
cleanup() {
	local rc=$?
	[ $rig_started -eq 1 ] && bash tests/rig/rig.sh down || true
	echo "tests/run.sh: finished in $(($(date +%s) - start)) s, exit $rc" >&2
	exit $rc
}
trap cleanup EXIT
rig_started=1
bash tests/rig/rig.sh up

run_build() {
	local kind=$1 dir flags
	case $kind in
	normal) dir=build flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DRDEV_SANITIZE=OFF
		-DRDEV_LIBFUZZER=ON -DRDEV_FUZZ_SECONDS="${RDEV_FUZZ_SECONDS:-44}") ;;
	asan) dir=build-asan flags=(-DCMAKE_BUILD_TYPE=Debug -DRDEV_SANITIZE=ON) ;;
	*) echo "unknown build kind $kind" >&2; return 2 ;;
	esac
	echo "=== $kind build ($dir) ==="
	cmake -S "$src" -B "$dir" "${flags[@]}" >/dev/null
	cmake --build "$dir" -j"$(nproc)"
	echo "=== $kind tests ==="
	# Tests that use the rig hold its lock (one at a time); the others
	# (unit, fuzz, libFuzzer at a lower priority) run beside them.
	local rc=0
	(cd "$dir" &&
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --output-on-failure --timeout 900 -j"$(nproc)" ${CTEST_ARGS:-}) |
		tee "$dir/ctest.out" || rc=$?
	echo "=== $kind: the ten slowest tests ==="
	sed -nE 's/^.* Test +#[0-9]+: ([^ ]+) .* ([0-9.]+) sec$/\2 \1/p' "$dir/ctest.out" |
		sort -rn | head -10 | awk '{ printf "%8.1f s  %s\n", $1, $2 }'
	return $rc
}

for kind in ${RDEV_BUILDS:-normal asan}; do
	run_build "$kind"
done
