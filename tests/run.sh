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
# clang + its runtime for the bounded libFuzzer runs; clang-format for the format test
dpkg-query -W -f='${Status}' clang libclang-rt-14-dev clang-format 2>/dev/null | grep -c 'install ok installed' | grep -q 3 ||
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clang libclang-rt-14-dev clang-format >/dev/null

rig_started=0 rig_up= rig_log=
cleanup() {
	local rc=$?
	# (a rig still coming up first, so that `down` stops all it started)
	if [ -n "$rig_up" ]; then
		wait "$rig_up" || true
		cat "$rig_log" >&2
	fi
	[ -z "$rig_log" ] || rm -f "$rig_log"
	[ $rig_started -eq 1 ] && bash tests/rig/rig.sh down || true
	echo "tests/run.sh: finished in $(($(date +%s) - start)) s, exit $rc" >&2
	exit $rc
}
trap cleanup EXIT
rig_started=1
# The rig comes up (dockerd, the base images: debootstrap, docker import and
# builds; the reference CLI from npm: mostly waiting for the network and the
# disk) while the first build compiles: neither needs the other. Its output
# is shown when it is up (or when the run ends first).
rig_log=$(mktemp /tmp/rdev-rig-up.XXXXXX)
bash tests/rig/rig.sh up >"$rig_log" 2>&1 &
rig_up=$!

# libFuzzer runs at once in the normal build (the ctest resource "fuzz")
fuzz_slots=2
build_dir() { case $1 in normal) echo build ;; asan) echo build-asan ;; esac; }

# only_args KIND: the ctest arguments that select KIND's tests (those labelled
# any-build run in the first build only), into the array only.
only_args() {
	only=()
	[ "$1" = "${kinds[0]}" ] || only=(-LE any-build)
}

# build KIND: configure and build it (the libFuzzer runs only in the normal one).
# The normal one's libFuzzer programs are made beside it (un-niced, before the
# suite: fuzz/libfuzzer-build then finds them up to date); at nice 10 in the
# suite, beside the rig's tests, their compile took 169 s at the head of the
# libFuzzer chain, the normal phase's longest path. A failed prebuild leaves
# that test to build them and say why. Not made when CTEST_ARGS selects none of
# the libFuzzer tests (`ctest -N`, after the configure).
build() {
	local kind=$1 dir flags fuzz= rc=0 only selected=
	dir=$(build_dir "$kind")
	case $kind in
	normal) flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DRDEV_SANITIZE=OFF
		-DRDEV_LIBFUZZER=ON -DRDEV_FUZZ_SECONDS="${RDEV_FUZZ_SECONDS:-44}"
		-DRDEV_FUZZ_SLOTS="$fuzz_slots") ;;
	asan) flags=(-DCMAKE_BUILD_TYPE=Debug -DRDEV_SANITIZE=ON) ;;
	*) echo "unknown build kind $kind" >&2; return 2 ;;
	esac
	cmake -S "$src" -B "$dir" "${flags[@]}" >/dev/null || return
	only_args "$kind"
	# (the list first, then grep: grep -q's early exit would end ctest by
	# SIGPIPE, which pipefail counts as a failure)
	[ "$kind" != normal ] || selected=$(cd "$dir" && ctest -N "${only[@]}" ${CTEST_ARGS:-}) ||
		selected=': fuzz/libfuzzer-build' # (unsure: made)
	if [ "$kind" = normal ] && ! grep -qE ': fuzz/libfuzzer(-build$|/)' <<<"$selected"; then
		echo "(no libFuzzer test selected: their programs are not made)"
	elif [ "$kind" = normal ]; then
		mkdir -p "$dir/libfuzzer"
		(
			t0=$(date +%s)
			bash "$src/tests/fuzz/run-libfuzzer.sh" --build "$src/$dir/libfuzzer" &&
				echo "made in $(($(date +%s) - t0)) s"
		) >"$dir/libfuzzer-prebuild.log" 2>&1 &
		fuzz=$!
	fi
	cmake --build "$dir" -j"$(nproc)" || rc=$?
	if [ -n "$fuzz" ]; then
		if wait "$fuzz"; then
			echo "(the libFuzzer programs, beside it: $(tail -1 "$dir/libfuzzer-prebuild.log"))"
		else
			echo "the libFuzzer programs' prebuild failed ($dir/libfuzzer-prebuild.log)"
		fi
	fi
	return $rc
}

# run_tests KIND: its ctest, then its ten slowest tests. Tests that use the rig
# take one of its slots (the ctest resource "rig", rig-resources.json in the
# build dir: two at a time); the others (unit, fuzz replays) run beside them, in
# one more ctest job: the rig's tests mostly wait for Docker. In the normal
# build, a job more for each libFuzzer run past the first that may run at once
# (fuzz_slots, the resource "fuzz": at a lower priority, two at a time; one at a
# time they were the normal phase's longest path).
# The tests labelled any-build (their outcome does not depend on the build:
# tests/CMakeLists.txt) run in the first build only.
run_tests() {
	local kind=$1 dir rc=0 only jobs=$(($(nproc) + 1))
	dir=$(build_dir "$kind")
	only_args "$kind"
	[ "$kind" != normal ] || jobs=$((jobs + fuzz_slots - 1))
	echo "=== $kind tests ==="
	(cd "$dir" &&
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --output-on-failure --timeout 900 -j"$jobs" \
			--resource-spec-file rig-resources.json "${only[@]}" ${CTEST_ARGS:-}) |
		tee "$dir/ctest.out" || rc=$?
	echo "=== $kind: the ten slowest tests ==="
	sed -nE 's/^.* Test +#[0-9]+: ([^ ]+) .* ([0-9.]+) sec$/\2 \1/p' "$dir/ctest.out" |
		sort -rn | head -10 | awk '{ printf "%8.1f s  %s\n", $1, $2 }'
	return $rc
}

# Each build is made while the previous one's tests run (at a lower priority:
# the end-to-end tests mostly wait for Docker); its output goes to a log, shown
# if it fails. Before it, the agent bundle's Release build (build-bundle/,
# deploy/agent-bundle.sh), so that the agent-bundle test finds it made
# instead of compiling in a rig slot: it waits for build-bundle/.prebuild.lock,
# held until then (a failed prebuild leaves the test to build and say why).
kinds=(${RDEV_BUILDS:-normal asan})
echo "=== ${kinds[0]} build ($(build_dir "${kinds[0]}")) ==="
build "${kinds[0]}"
waited=$(date +%s)
if ! wait "$rig_up"; then
	rig_up=
	cat "$rig_log" >&2
	echo "tests/run.sh: the rig did not come up (tests/rig/rig.sh up)" >&2
	exit 1
fi
rig_up=
cat "$rig_log" >&2
echo "(waited $(($(date +%s) - waited)) s for the rig after the ${kinds[0]} build)"
# Docker Compose v1's quicker start (rig.sh compose-env) for the integration
# tests' compose calls too: the e2e tests take it from lib.sh's rig.sh env.
eval "$(bash tests/rig/rig.sh compose-env)"
for i in "${!kinds[@]}"; do
	next=${kinds[$((i + 1))]:-}
	builder=
	if [ -n "$next" ]; then
		mkdir -p "$(build_dir "$next")" build-bundle
		cur=$(build_dir "${kinds[$i]}")
		exec 9>build-bundle/.prebuild.lock 8>"$cur/.package.lock"
		flock 9
		flock 8
		(
			renice -n 10 -p "$BASHPID" >/dev/null || true
			# the Debian package of this build, for e2e/package (which
			# waits for the lock and takes it when its stamp is newer
			# than the programs; a failure leaves the test to build it
			# and say why)
			rm -f "$cur/.package-prebuilt"
			cmake --build "$cur" --target package >"$cur/package-prebuild.log" 2>&1 &&
				touch "$cur/.package-prebuilt" ||
				echo "the package's prebuild failed ($cur/package-prebuild.log)"
			exec 8>&-
			bash deploy/agent-bundle.sh -o build-bundle/prebuilt >build-bundle/prebuild.log 2>&1 ||
				echo "the agent bundle's prebuild failed (build-bundle/prebuild.log)"
			exec 9>&-
			build "$next"
		) >"$(build_dir "$next")/build.log" 2>&1 &
		builder=$!
		exec 9>&- 8>&-
	fi
	rc=0 kind=${kinds[$i]}
	run_tests "$kind" || rc=$?
	if [ -n "$builder" ]; then
		echo "=== $next build ($(build_dir "$next"), made meanwhile) ==="
		waited=$(date +%s)
		if ! wait "$builder"; then
			tail -50 "$(build_dir "$next")/build.log"
			echo "tests/run.sh: the $next build failed (log: $(build_dir "$next")/build.log)" >&2
			exit 1
		fi
		echo "(waited $(($(date +%s) - waited)) s for it after the $kind tests)"
	fi
	[ $rc -eq 0 ] || exit $rc
done
