#!/usr/bin/env bash
# features.sh - `up` of a workspace with three local Dev Container Features,
# from a warm build cache, against the reference CLI (issue 13; bench/README.md).
#
# Builds rdev in Release (build-bench/), makes two workspace folders with the
# same devcontainer.json (rdev-test/bookworm-dev:r1, remoteUser dev, three
# local Features "./a" "./b" "./c" with an option, containerEnv and an
# install.sh, a postCreateCommand), brings one up with rdev and the other with
# the reference CLI (untimed: this fills Docker's build cache for both), then
# in interleaved rounds removes each tool's container (untimed) and times
#
#   rdev up WS    vs    devcontainer up --workspace-folder WS
#
# each making a new container with the Features installed (the image built
# again from the warm cache, the lifecycle commands run). Prints the median,
# 90th percentile and minimum of each and the goal check: rdev / reference
# <= 0.5 (ratio of the medians). Checks both containers have what the
# Features installed. Removes its containers and the images the two tools
# built for its workspaces when done. Not part of ctest/CI.
#
#   bench/features.sh
#   RDEV_BENCH_RUNS=10 bench/features.sh        rounds (default 7)
#   RDEV_DEVCONTAINER_CLI=path                  the reference CLI
#   RDEV_BENCH_BUILD=dir RDEV_BENCH_NO_BUILD=1  use an existing build of rdev
#
# Exits 0 even when the goal is missed (a benchmark reports, it does not
# gate); non-zero only when something could not be built or run.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_init
runs=${RDEV_BENCH_RUNS:-7}
goal=0.5 # rdev up / reference up, new container, warm build cache
# The reference builds every workspace's Features through one image of a
# fixed name: one of its builds at a time on the engine (tests/rig/lib.sh).
ref_lock=${RDEV_RIG_DIR:-/var/tmp/rdev-rig}/run/reference-features.lock

bench_import "$src/bench/up-exec.sh" run_cmd stats row report median ratio verdict

bench_rdev rdev
bench_ref
mkdir -p "$(dirname "$ref_lock")"

tmp=$(mktemp -d /tmp/rdev-bench-features.XXXXXX)
name=rdevbenchfeat$$
ws_rdev=$tmp/$name-rdev
ws_ref=$tmp/$name-ref
export RDEV_STATE_DIR=$tmp/state
cleanup() {
	bench_remove_containers "$ws_rdev" "$ws_ref"
	docker images --format '{{.Repository}}:{{.Tag}}' |
		grep -E "^(rdev-|vsc-|rdev-uid/rdev-)$name-" |
		xargs -r docker rmi -f >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT

for ws in "$ws_rdev" "$ws_ref"; do
	d=$ws/.devcontainer
	for f in a b c; do
		mkdir -p "$d/$f"
		cat >"$d/$f/devcontainer-feature.json" <<JSON
{
	"id": "$f",
	"version": "1.0.0",
	"options": { "level": { "type": "string", "default": "low" } },
	"containerEnv": { "FEATURE_${f^^}": "installed" }
}
JSON
		printf '#!/bin/sh\nset -e\necho "%s $LEVEL" >> /features.txt\n' "$f" >"$d/$f/install.sh"
	done
	cat >"$d/devcontainer.json" <<JSON
{
	"image": "$image",
	"remoteUser": "dev",
	"features": { "./a": {}, "./b": { "level": "high" }, "./c": {} },
	"postCreateCommand": "echo created > /tmp/created"
}
JSON
done

bench_machine "$src"
echo "reference: $ref ($("$ref" --version 2>/dev/null || echo '?'))"
echo "docker:    $(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?')"

c_up_rdev() { run_cmd "$rdev" up "$ws_rdev"; }
c_up_ref() { run_cmd flock "$ref_lock" "$ref" up --workspace-folder "$ws_ref"; }

echo
echo "=== first up of each workspace: fills the build cache (not timed for the goal) ==="
for f in c_up_rdev c_up_ref; do
	t0=$EPOCHREALTIME
	"$f"
	t1=$EPOCHREALTIME
	awk -v a="$t0" -v b="$t1" -v f="$f" 'BEGIN { printf "%-10s %.0f ms\n", f, (b - a) * 1000 }'
done
for ws in "$ws_rdev" "$ws_ref"; do
	cid=$(docker ps -q --filter "label=devcontainer.local_folder=$ws")
	got=$(docker exec "$cid" sh -c 'cat /features.txt; echo "$FEATURE_B"; cat /tmp/created')
	want=$(printf 'a low\nb high\nc low\ninstalled\ncreated')
	[ "$got" = "$want" ] || { echo "the container of $ws lacks what its Features installed: $got" >&2; exit 1; }
done

# Each round: both containers removed (untimed), then each tool's up of its
# workspace timed, the tool that goes first alternating.
echo
echo "=== new container, warm build cache ($runs rounds, interleaved) ==="
: >"$tmp/times.c_up_rdev"
: >"$tmp/times.c_up_ref"
for ((r = 0; r < runs; r++)); do
	bench_remove_containers "$ws_rdev" "$ws_ref"
	if ((r % 2 == 0)); then order=(c_up_rdev c_up_ref); else order=(c_up_ref c_up_rdev); fi
	for f in "${order[@]}"; do
		t0=$EPOCHREALTIME
		"$f"
		t1=$EPOCHREALTIME
		awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) * 1000 }' >>"$tmp/times.$f"
	done
done
row "" "median ms" "p90 ms" "min ms"
report "rdev up WS" c_up_rdev
report "devcontainer up --workspace-folder WS" c_up_ref
up_rdev=$(median c_up_rdev)
up_ref=$(median c_up_ref)
r_up=$(ratio "$up_rdev" "$up_ref")

echo
echo "=== goal (issue 13; ratio of the medians) ==="
echo "up with 3 local Features, warm cache, rdev / reference <= $goal: $(verdict "$r_up" "$goal")  ($r_up: $up_rdev ms / $up_ref ms)"
