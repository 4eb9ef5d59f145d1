#!/usr/bin/env bash
# run-libfuzzer.sh - real coverage-guided fuzzing of every tests/fuzz/fuzz-*.c
# target with libFuzzer (clang), for a bounded time each, seeded with its
# checked-in corpus. A crash, leak or sanitizer report fails the run.
#
#   tests/fuzz/run-libfuzzer.sh [SECONDS_PER_TARGET]   (default $RDEV_FUZZ_SECONDS or 60)
#   tests/fuzz/run-libfuzzer.sh --build WORK           the archives and the targets, into WORK
#   tests/fuzz/run-libfuzzer.sh --run WORK NAME SECONDS  one target (after --build)
#
# CTest runs --build once, then each target as its own test (fuzz/libfuzzer/NAME),
# at a lower CPU priority, alongside the end-to-end tests. --build does nothing
# when WORK/.built is newer than every source it compiles and was made with the
# same flags: tests/run.sh makes it beside the normal build, before the suite
# (the compile at nice 10 beside the rig's tests took 169 s of the chain).
# A target that does not link leaves --build passing (the others' runs need
# it) and fails its own --run, with the linker's error.
# Needs clang and libclang-rt (tests/run.sh installs them). New inputs found are
# written to a scratch directory, not to the checked-in corpus.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
mode=all
case ${1:-} in
--build) mode=build work=$2 ;;
--run) mode=run work=$2 only=$3 seconds=$4 ;;
--link) mode=link work=$2 only=$3 ;; # (one target, for --build's parallel links)
*) seconds=${1:-${RDEV_FUZZ_SECONDS:-60}} ;;
esac
clang=$(command -v clang || command -v clang-14 || true)
[ -n "$clang" ] || { echo "run-libfuzzer: clang is not installed (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
if [ $mode = all ]; then
	work=$(mktemp -d /tmp/rdev-libfuzzer.XXXXXX)
	trap 'rm -rf "$work"' EXIT
else
	mkdir -p "$work"
fi

# Line tables only: enough for a crash report with file and line, and about
# a sixth less compile time than full -g (measured on 30 agent files).
includes=(-I"$src/common" -I"$src/agent" -I"$src/client" -I"$src/broker" -I"$src/tests/fuzz")
cflags=(-gline-tables-only -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
	-D_GNU_SOURCE -DRDEV_VERSION='"fuzz"' "${includes[@]}")
libs="$(pkg-config --libs libcjson libsodium libevent_core libssh libcrypto yaml-0.1 zlib) -ldl"
dirs=(client broker agent common) # each before what it uses (client uses agent)
archives=()
for dir in "${dirs[@]}"; do
	[ ! -e "$work/lib$dir.a" ] || archives+=("$work/lib$dir.a")
done

# link NAME: the target's program, WORK/NAME (none when it fails: an older
# program left there would pass for this one).
link() {
	rm -f "$work/$1"
	"$clang" "${cflags[@]}" -fsanitize=fuzzer "$src/tests/fuzz/$1.c" "${archives[@]}" $libs -o "$work/$1" ||
		{ rm -f "$work/$1"; return 1; }
}
if [ $mode = link ]; then
	# (--build's: a target that does not link is named and left to its own
	# --run, which links it again and fails with the error; the others run)
	link "$only" || echo "run-libfuzzer: $only did not link (above); its run will fail" >&2
	exit 0
fi

# What the archives and programs were made from: the compiler (its version
# too: an upgrade keeps its path), its flags, the libraries and a hash of the
# sources' names (a deleted file leaves nothing newer than the stamp, but its
# object would stay in an archive), in the stamp; the sources (and this
# script) older than it.
# (A file newer than the stamp makes --build compile all again. The stamp's
# time is when the build began, written to .built.new then, so that a source
# edited while it compiles is newer than the stamp it leaves.)
sources=("$src"/{client,broker,agent,common,relay,tests/fuzz})
key="$clang $("$clang" --version 2>/dev/null | head -1) ${cflags[*]} $libs $(
	find "${sources[@]}" -name '*.[ch]' -print 2>/dev/null | LC_ALL=C sort | sha256sum | cut -c1-16)"
stamp=$work/.built
current() {
	[ -e "$stamp" ] && [ "$(cat "$stamp")" = "$key" ] &&
		[ -z "$(find "${sources[@]}" -newer "$stamp" -name '*.[ch]' -print -quit)" ] &&
		[ "$0" -ot "$stamp" ]
}
if [ $mode = build ] && current; then
	echo "run-libfuzzer: $work is up to date (made $(date -r "$stamp" '+%F %T'))"
	exit 0
fi
# One archive per directory (without the files holding main()), so a target
# pulls in only the modules it uses, as the CMake build does. Compiled on
# every core.
if [ $mode != run ]; then
	rm -f "$stamp"
	[ $mode != build ] || echo "$key" >"$stamp.new"
	rm -f "$work"/obj-*.o
	for dir in "${dirs[@]}"; do
		for c in "$src/$dir"/*.c; do
			case $c in */client/main.c|*/agent/agent.c|*/broker/broker.c) continue ;; esac
			printf '%s\0%s\0' "$work/obj-$dir-$(basename "$c" .c).o" "$c"
		done
	done | xargs -0 -n 2 -P "$(nproc)" "$clang" "${cflags[@]}" -c -o 2>&1 |
		sed 's/^/run-libfuzzer: /' >&2
	for dir in "${dirs[@]}"; do
		rm -f "$work/lib$dir.a"
		set -- "$work"/obj-"$dir"-*.o
		[ -e "$1" ] && ar rcs "$work/lib$dir.a" "$@"
	done
fi
if [ $mode = build ]; then
	# every target linked here, on every core, not one at a time in the chain
	# (one that does not link fails its own run only, not this build: the
	# others' runs need this build to pass)
	for target in "$src"/tests/fuzz/fuzz-*.c; do
		printf '%s\0' "$(basename "$target" .c)"
	done | xargs -0 -n 1 -P "$(nproc)" bash "$0" --link "$work"
	mv "$stamp.new" "$stamp"
	exit 0
fi
archives=()
for dir in "${dirs[@]}"; do
	[ ! -e "$work/lib$dir.a" ] || archives+=("$work/lib$dir.a")
done

failed=0 ran=0
# Each run in an autogroup of its own at nice 19 where the kernel groups by
# session (sched_autogroup): a process's nice ranks it only within its
# autogroup, so `nice -n 10` alone left two fuzzers at full weight against
# the rig's containers (their own cgroups) and its timing checks; their
# autogroup's nice 19 gives them what the rig leaves. (A failure to set it
# is harmless: the run goes as before.)
low=()
if [ -e /proc/self/autogroup ] && command -v setsid >/dev/null; then
	low=(setsid -w sh -c 'echo 19 >/proc/self/autogroup 2>/dev/null; exec "$@"' sh)
fi
for target in "$src"/tests/fuzz/fuzz-*.c; do
	name=$(basename "$target" .c)
	[ $mode = all ] || [ "$name" = "$only" ] || continue
	ran=$((ran + 1))
	bin=$work/$name
	# (linked by --build: again only when older than what it is made of)
	fresh=$bin
	for f in "$target" "$src/tests/fuzz/fuzz.h" "${archives[@]}"; do
		[ "$bin" -nt "$f" ] || fresh=
	done
	if [ -z "$fresh" ] && ! link "$name"; then
		echo "FAIL libFuzzer $name: did not link (the error above)" >&2
		failed=1
		continue
	fi
	mkdir -p "$work/corpus-$name"
	seeds=$src/tests/fuzz/corpus/$name
	[ -d "$seeds" ] || seeds=
	echo "=== libFuzzer: $name for ${seconds}s ==="
	if ! (cd "$work" && "${low[@]}" "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-max_len=65536 -print_final_stats=1 "$work/corpus-$name" $seeds \
		>"$work/$name.log" 2>&1); then
		tail -60 "$work/$name.log"
		echo "FAIL libFuzzer $name (reproducer: crash-* above; log tail shown)" >&2
		failed=1
	else
		grep -E '^stat::number_of_executed_units|^Done' "$work/$name.log" || true
	fi
done
[ $ran -gt 0 ] || { echo "run-libfuzzer: no fuzz target ${only:-at all}" >&2; exit 1; }
exit $failed
