#!/usr/bin/env bash
# run-libfuzzer.sh - real coverage-guided fuzzing of every tests/fuzz/fuzz-*.c
# target with libFuzzer (clang), for a bounded time each, seeded with its
# checked-in corpus. A crash, leak or sanitizer report fails the run.
#
#   tests/fuzz/run-libfuzzer.sh [SECONDS_PER_TARGET]   (default $RDEV_FUZZ_SECONDS or 60)
#
# Needs clang and libclang-rt (tests/run.sh installs them). New inputs found are
# written to a scratch directory, not to the checked-in corpus.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-${RDEV_FUZZ_SECONDS:-60}}
clang=$(command -v clang || command -v clang-14 || true)
[ -n "$clang" ] || { echo "run-libfuzzer: clang is not installed (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
work=$(mktemp -d /tmp/rdev-libfuzzer.XXXXXX)
trap 'rm -rf "$work"' EXIT

includes=(-I"$src/common" -I"$src/agent" -I"$src/client" -I"$src/broker" -I"$src/tests/fuzz")
cflags=(-g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
	-D_GNU_SOURCE -DRDEV_VERSION='"fuzz"' "${includes[@]}")
libs=$(pkg-config --libs libcjson libsodium libevent_core libssh)

# One archive per directory (without the files holding main()), so a target
# pulls in only the modules it uses, as the CMake build does.
archives=()
for dir in agent client broker common; do
	objs=()
	for c in "$src/$dir"/*.c; do
		case $c in */client/cmd.c|*/agent/agent.c|*/broker/broker.c) continue ;; esac
		o=$work/obj-$dir-$(basename "$c" .c).o
		"$clang" "${cflags[@]}" -c "$c" -o "$o"
		objs+=("$o")
	done
	if [ ${#objs[@]} -gt 0 ]; then
		ar rcs "$work/lib$dir.a" "${objs[@]}"
		archives+=("$work/lib$dir.a")
	fi
done

failed=0
for target in "$src"/tests/fuzz/fuzz-*.c; do
	name=$(basename "$target" .c)
	bin=$work/$name
	"$clang" "${cflags[@]}" -fsanitize=fuzzer "$target" "${archives[@]}" $libs -o "$bin"
	mkdir -p "$work/corpus-$name"
	seeds=$src/tests/fuzz/corpus/$name
	[ -d "$seeds" ] || seeds=
	echo "=== libFuzzer: $name for ${seconds}s ==="
	if ! (cd "$work" && "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-max_len=65536 -print_final_stats=1 "$work/corpus-$name" $seeds \
		>"$work/$name.log" 2>&1); then
		tail -60 "$work/$name.log"
		echo "FAIL libFuzzer $name (reproducer: crash-* above; log tail shown)" >&2
		failed=1
	else
		grep -E '^stat::number_of_executed_units|^Done' "$work/$name.log" || true
	fi
done
exit $failed
