# lib.sh - sourced by the benchmarks that reuse bench/up-exec.sh's timing and
# statistics helpers.
#
#   . "$src/bench/lib.sh"
#   bench_import "$src/bench/up-exec.sh" run_cmd stats row ...

# Define the functions named in "$@" by reading each "NAME() {" ... "}"
# definition out of FILE ($1) and evaluating it here: one copy to maintain.
bench_import() {
	local file=$1 name def
	shift
	for name in "$@"; do
		def=$(awk -v n="$name" '
			!on && index($0, n "() {") == 1 {
				print; if ($0 ~ /}[[:space:]]*$/) exit; on = 1; next }
			on { print; if ($0 ~ /^}/) exit }' "$file")
		[ -n "$def" ] || { echo "bench: no $name() in $file" >&2; exit 1; }
		eval "$def"
	done
}

# Build the targets ($3...) of the source tree $1 in the build folder $2 in
# Release, unless RDEV_BENCH_NO_BUILD=1 (an existing build is timed).
bench_build() {
	local src=$1 build=$2
	shift 2
	[ "${RDEV_BENCH_NO_BUILD:-}" != 1 ] || return 0
	echo "=== build (Release, $build) ==="
	cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DRDEV_SANITIZE=OFF >/dev/null
	cmake --build "$build" -j"$(nproc)" --target "$@" >/dev/null
}

# The "=== machine ===" block's first lines: date, CPUs, load, the rdev
# commit of the source tree $1. The caller adds its own lines.
bench_machine() {
	local src=$1
	echo "=== machine ==="
	echo "date:      $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "cpus:      $(nproc) ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
	echo "load:      $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min; above $(nproc) the figures are inflated)"
	echo "rdev:      $(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$src" diff --quiet 2>/dev/null || echo ' + local changes')"
}
