# lib.sh - sourced by the benchmarks: their common start (bench_init,
# bench_rdev, bench_ref), their private client (bench_private_client) and
# clean-up (bench_remove_containers, bench_broker_stop), and bench/up-exec.sh's
# timing and statistics helpers.
#
#   set -euo pipefail
#   . "$(dirname "$0")/lib.sh"
#   bench_init
#   bench_import "$src/bench/up-exec.sh" run_cmd stats row ...
#   bench_rdev rdev    # build; $rdev, the image checked
#   bench_ref          # the reference CLI checked

# What every benchmark timed with $EPOCHREALTIME starts with: the C locale
# (its decimal point), bash 5, the source tree as the working directory, and
# the globals src, build (RDEV_BENCH_BUILD), image (RDEV_BENCH_IMAGE) and ref
# (RDEV_DEVCONTAINER_CLI, the reference CLI).
bench_init() {
	export LC_ALL=C
	[ "${BASH_VERSINFO[0]}" -ge 5 ] || { echo "needs bash 5 (\$EPOCHREALTIME)" >&2; exit 1; }
	# (cd's output, which an exported CDPATH makes the path, is not src's)
	src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." >/dev/null && pwd)
	cd "$src"
	build=${RDEV_BENCH_BUILD:-$src/build-bench}
	image=${RDEV_BENCH_IMAGE:-rdev-test/bookworm-dev:r1}
	ref=${RDEV_DEVCONTAINER_CLI:-/var/tmp/rdev-rig/cache/npm/node_modules/.bin/devcontainer}
}

# Build the targets ("$@") as bench_build does, set rdev to the client built,
# and check it, the other programs named (rdev-broker, rdev-agent) and $image
# are there.
bench_rdev() {
	local t
	bench_build "$src" "$build" "$@"
	rdev=$build/rdev
	for t in rdev "$@"; do
		case $t in rdev | rdev-broker | rdev-agent)
			[ -x "$build/$t" ] || { echo "no $t at $build/$t" >&2; exit 1; } ;;
		esac
	done
	docker image inspect "$image" >/dev/null 2>&1 ||
		{ echo "image $image not found (tests/rig/rig.sh images builds it)" >&2; exit 1; }
}

# Check the reference CLI ($ref) is there.
bench_ref() {
	[ -x "$ref" ] || { echo "reference CLI not found at $ref (set RDEV_DEVCONTAINER_CLI)" >&2; exit 1; }
}

# A client private to this run, under the temporary directory $1: its broker
# (XDG_RUNTIME_DIR) and its known_hosts. Run the client as
# "${rdev_env[@]}" "$rdev" ...
bench_private_client() {
	rdev_env=(env -u RDEV_RUNTIME_DIR XDG_RUNTIME_DIR="$1/xdg" RDEV_KNOWN_HOSTS="$1/known_hosts")
	mkdir -m 700 "$1/xdg"
	: >"$1/known_hosts"
}

# Stop the private client's broker, if it was built and runs.
bench_broker_stop() {
	[ -x "$build/rdev-broker" ] || return 0
	"${rdev_env[@]}" "$build/rdev-broker" stop >/dev/null 2>&1 || true
}

# Remove the containers of the workspace folders "$@" (empty ones skipped).
bench_remove_containers() {
	local ws
	for ws in "$@"; do
		[ -n "$ws" ] || continue
		docker ps -aq --filter "label=devcontainer.local_folder=$ws" |
			xargs -r docker rm -f >/dev/null 2>&1 || true
	done
}

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
