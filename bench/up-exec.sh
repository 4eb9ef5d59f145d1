#!/usr/bin/env bash
# up-exec.sh - warm `up` and `exec` latency benchmark (bench/README.md).
#
# Builds rdev in Release (build-bench/), makes two workspace folders in a
# temporary directory with the same image-based devcontainer.json
# (rdev-test/bookworm-dev:r1, remoteUser dev), brings one up with rdev and the
# other with the reference CLI (both find their container by the same labels,
# so each tool gets its own folder), then times, in the same run:
#
#   warm up:  rdev up WS            vs  devcontainer up --workspace-folder WS
#   exec:     rdev exec WS -- true  vs  devcontainer exec --workspace-folder WS true
#                                   vs  docker exec CID true
#
# in interleaved rounds (each round calls every command of the group once),
# and prints the median and 90th percentile of each, the ratios of the
# medians and the issue 4 goal check. Every command gets stdin from
# /dev/null (so rdev exec asks for no TTY, as plain docker exec does not). Removes its containers when done.
# Not part of ctest/CI.
#
#   bench/up-exec.sh
#   RDEV_BENCH_UP_RUNS=20 RDEV_BENCH_EXEC_RUNS=50 bench/up-exec.sh
#   RDEV_DEVCONTAINER_CLI=path                the reference CLI
#   RDEV_BENCH_IMAGE=image                    (default rdev-test/bookworm-dev:r1)
#   RDEV_BENCH_BUILD=dir RDEV_BENCH_NO_BUILD=1  use an existing build of rdev
#
# Exits 0 even when a goal is missed (a benchmark reports, it does not gate);
# exits non-zero only when something could not be built or run.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_init
up_runs=${RDEV_BENCH_UP_RUNS:-10}
exec_runs=${RDEV_BENCH_EXEC_RUNS:-30}
up_goal=0.1   # rdev up / reference up
exec_goal=1.0 # rdev exec / docker exec

bench_rdev rdev
bench_ref

tmp=$(mktemp -d /tmp/rdev-bench-up-exec.XXXXXX)
ws_rdev=$tmp/ws-rdev
ws_ref=$tmp/ws-ref
# rdev's state (environment probe cache, locks) stays in the temporary directory.
export RDEV_STATE_DIR=$tmp/state
cleanup() {
	bench_remove_containers "$ws_rdev" "$ws_ref"
	rm -rf "$tmp"
}
trap cleanup EXIT
for ws in "$ws_rdev" "$ws_ref"; do
	mkdir -p "$ws"
	cat >"$ws/.devcontainer.json" <<JSON
{
	"image": "$image",
	"remoteUser": "dev"
}
JSON
done

bench_machine "$src"
echo "reference: $ref ($("$ref" --version 2>/dev/null || echo '?'))"
echo "docker:    $(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?')"

echo
echo "=== first up of each workspace (not timed for the goals) ==="
t0=$(date +%s%N)
"$rdev" up "$ws_rdev" --json >"$tmp/up-rdev.json" 2>"$tmp/up-rdev.err" ||
	{ cat "$tmp/up-rdev.err" >&2; exit 1; }
t1=$(date +%s%N)
"$ref" up --workspace-folder "$ws_ref" >"$tmp/up-ref.json" 2>"$tmp/up-ref.err" ||
	{ tail -20 "$tmp/up-ref.err" >&2; exit 1; }
t2=$(date +%s%N)
cid=$(jq -r .containerId "$tmp/up-rdev.json")
ref_cid=$(jq -r .containerId "$tmp/up-ref.json")
echo "rdev:      $(((t1 - t0) / 1000000)) ms, container ${cid:0:12}"
echo "reference: $(((t2 - t1) / 1000000)) ms, container ${ref_cid:0:12}"
[ "$(docker exec -u dev "$cid" id -un)" = dev ] || { echo "rdev's container is not usable" >&2; exit 1; }

# The commands timed; each is one call, output discarded, failing loudly.
run_cmd() {
	"$@" </dev/null >/dev/null 2>"$tmp/err" || { echo "failed: $*" >&2; cat "$tmp/err" >&2; return 1; }
}
c_up_rdev() { run_cmd "$rdev" up "$ws_rdev"; }
c_up_ref() { run_cmd "$ref" up --workspace-folder "$ws_ref"; }
c_ex_docker() { run_cmd docker exec "$cid" true; }
c_ex_rdev() { run_cmd "$rdev" exec "$ws_rdev" -- true; }
c_ex_ref() { run_cmd "$ref" exec --workspace-folder "$ws_ref" true; }

# Time $1 rounds of the commands (functions) $2...: each round calls each
# command once, starting with a different one each round, so that all of them
# see the same load (on a busy machine, load changes within seconds; timing
# all calls of one tool and then all of the other, as hyperfine does, makes
# the ratio depend on when each ran). One untimed call of each first. Times
# go to $tmp/times.FUNCTION in milliseconds, one per line ($EPOCHREALTIME:
# no process is started to read the clock).
time_rounds() {
	local runs=$1 r i n t0 t1 f
	shift
	local fns=("$@")
	n=${#fns[@]}
	for f in "${fns[@]}"; do
		"$f" || return 1
		: >"$tmp/times.$f"
	done
	for ((r = 0; r < runs; r++)); do
		for ((i = 0; i < n; i++)); do
			f=${fns[$(((r + i) % n))]}
			t0=$EPOCHREALTIME
			"$f" || return 1
			t1=$EPOCHREALTIME
			echo "$t0 $t1" | awk '{ printf "%.3f\n", ($2 - $1) * 1000 }' >>"$tmp/times.$f"
		done
	done
}

# "MEDIAN P90 MIN" of the times of function $1.
stats() {
	sort -g "$tmp/times.$1" | awk '{ a[NR] = $1 + 0 }
		END { p = int(NR * 0.9 + 0.999); if (p > NR) p = NR
		      printf "%.1f %.1f %.1f\n", a[int((NR + 1) / 2)], a[p], a[1] }'
}

row() {
	printf '%-52s %9s %9s %9s\n' "$@"
}

# Print the row of function $2 labelled $1.
report() {
	local s
	s=$(stats "$2")
	read -r -a parts <<<"$s"
	row "$1" "${parts[0]}" "${parts[1]}" "${parts[2]}"
}

median() { stats "$1" | cut -d' ' -f1; }

echo
echo "=== warm up: the container is running ($up_runs rounds, interleaved) ==="
time_rounds "$up_runs" c_up_rdev c_up_ref
row "" "median ms" "p90 ms" "min ms"
report "rdev up WS" c_up_rdev
report "devcontainer up --workspace-folder WS" c_up_ref
up_rdev=$(median c_up_rdev)
up_ref=$(median c_up_ref)

echo
echo "=== exec true ($exec_runs rounds, interleaved) ==="
time_rounds "$exec_runs" c_ex_docker c_ex_rdev c_ex_ref
row "" "median ms" "p90 ms" "min ms"
report "docker exec CID true" c_ex_docker
report "rdev exec WS -- true" c_ex_rdev
report "devcontainer exec --workspace-folder WS true" c_ex_ref
ex_docker=$(median c_ex_docker)
ex_rdev=$(median c_ex_rdev)
ex_ref=$(median c_ex_ref)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }'; }
verdict() { awk -v r="$1" -v g="$2" 'BEGIN { print (r <= g ? "PASS" : "FAIL") }'; }
r_up=$(ratio "$up_rdev" "$up_ref")
r_ex_docker=$(ratio "$ex_rdev" "$ex_docker")
r_ex_ref=$(ratio "$ex_rdev" "$ex_ref")

echo
echo "=== goals (issue 4; ratios of the medians) ==="
echo "warm up,  rdev / reference   <= $up_goal: $(verdict "$r_up" "$up_goal")  ($r_up: $up_rdev ms / $up_ref ms)"
echo "exec,     rdev / docker exec <= $exec_goal: $(verdict "$r_ex_docker" "$exec_goal")  ($r_ex_docker: $ex_rdev ms / $ex_docker ms)"
echo "exec,     rdev / reference   (no goal): $r_ex_ref ($ex_rdev ms / $ex_ref ms)"
