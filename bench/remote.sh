#!/usr/bin/env bash
# remote.sh - remote `exec` / warm `up` latency, a forward's first connection,
# agent bundle size and agent peak RSS, against the issue 5 and issue 11 goals
# (bench/README.md).
#
# Starts two rig hosts (sshds on loopback whose users are in group docker, the
# same dockerd): a plain one, and one whose ~/.bashrc sleeps 0.3 s (as pyenv,
# nvm or conda init do), puts a workspace at ~/ws on each (image
# rdev-test/bookworm-dev:r1, remoteUser dev) and brings its container up, then
# times side by side, in interleaved rounds (bench/up-exec.sh's time_rounds):
#
#   exec:     docker exec CID true                   (local, the same machine)
#             ssh -F CFG HOST docker exec CID true   (OpenSSH, a new connection each call)
#             rdev exec HOST:~/ws -- true             (warm broker: one SSH session kept)
#             rdev exec SLOW:~/ws -- true             (the same, slow ~/.bashrc account)
#             devcontainer exec --workspace-folder WS true   (reference CLI, local)
#   warm up:  rdev up HOST:~/ws  vs  devcontainer up --workspace-folder WS (local)
#   forward:  after `rdev up HOST:~/ws` made the forward of forwardPorts, the
#             time of its first connection (connect, one echo) and of the next
#             ones, to an echo server in the container (RDEV_BENCH_FWD_RUNS ups)
#
# and prints medians, the ratios and the goal checks (issue 5: exec <= 0.3x
# ssh, <= 0.15x devcontainer exec; warm up <= 0.1x devcontainer up; issue 11:
# exec <= 1.2x local docker exec, also on the slow account, <= 0.2x ssh;
# warm up <= 0.05x devcontainer up; first forwarded connection <= 50 ms more
# than the next ones). Then the
# agent bundle (the build dir's agent-bundle/, CMake target agent-bundle) size against
# 2 MB, and the bundled rdev-agent's peak RSS during `up` (GNU time's
# maximum resident set size, of a creating and of a warm `up` of a local
# workspace) against 4 MB, next to the published DevPod agent size.
#
# The rdev client is pointed at the host with RDEV_SSH_CONFIG=CFG, at a
# private known_hosts (RDEV_KNOWN_HOSTS; the first, untimed call passes
# --accept-new-host-key) and at a private broker (XDG_RUNTIME_DIR in the
# temporary directory; stopped at the end). A client without remote targets
# exits 69: the rdev rows are then reported as unavailable and the other
# figures are still measured. Not part of ctest/CI.
#
#   bench/remote.sh
#   RDEV_BENCH_RUNS=20                       rounds per group (default 20)
#   RDEV_BENCH_BUILD=dir RDEV_BENCH_NO_BUILD=1   use an existing build (and bundle)
#   RDEV_DEVCONTAINER_CLI=path  RDEV_BENCH_IMAGE=image  RDEV_BENCH_HOST=name
#
# Exits 0 even when a goal is missed or rdev's remote targets are missing (a
# benchmark reports, it does not gate); non-zero only when something else
# could not be built or run.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_init
runs=${RDEV_BENCH_RUNS:-20}
host=${RDEV_BENCH_HOST:-bench$(($$ % 10000))}
slow=slow$(($$ % 10000))
rig=$src/tests/rig/rig.sh
goal_exec_ssh=0.2 goal_exec_ref=0.15 goal_up_ref=0.05 goal_exec_docker=1.2 goal_fwd_first_ms=50
fwd_runs=${RDEV_BENCH_FWD_RUNS:-5}
goal_bundle_bytes=2000000 goal_rss_kb=3906 # 2 MB, 4 MB (MB = 10^6 bytes; RSS in KiB)

# The timing and statistics helpers of bench/up-exec.sh, taken from it by
# name (bench/lib.sh).
bench_import "$src/bench/up-exec.sh" run_cmd time_rounds stats row report median ratio verdict

bench_rdev rdev rdev-agent rdev-broker agent-bundle
bench_ref
# The build dir's own bundle (CMake target agent-bundle), the one its
# rdev-broker uploads.
bundle=$(find "$build/agent-bundle" -mindepth 1 -maxdepth 1 -type d -name 'rdev-agent-*' 2>/dev/null | sort | tail -n 1)

tmp=$(mktemp -d /tmp/rdev-bench-remote.XXXXXX)
ws_ref=$tmp/ws-ref
ws_rss=$tmp/ws-rss
host_started=0 slow_started=0
export RDEV_STATE_DIR=$tmp/state
# The client's broker, known_hosts and ssh config: all private to this run.
bench_private_client "$tmp"
cleanup() {
	bench_remove_containers "${ws_host:-}" "${ws_slow:-}" "$ws_ref" "$ws_rss"
	bench_broker_stop
	[ $host_started -eq 1 ] && bash "$rig" host-stop "$host" || true
	[ $slow_started -eq 1 ] && bash "$rig" host-stop "$slow" || true
	rm -rf "$tmp"
}
trap cleanup EXIT

bench_machine "$src"
echo "reference: $ref ($("$ref" --version 2>/dev/null || echo '?'))"
echo "docker:    $(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?')"
echo "ssh:       $(ssh -V 2>&1)"

# --- the host and its workspace ------------------------------------------
host_started=1
cfg=$(bash "$rig" host-start "$host") || { echo "rig host $host did not start" >&2; exit 1; }
hdir=$(dirname "$cfg")
host_user=$(cat "$hdir/user")
ws_host=$hdir/home/ws
slow_started=1
scfg=$(bash "$rig" host-start "$slow" --slow-bashrc) || { echo "rig host $slow did not start" >&2; exit 1; }
sdir=$(dirname "$scfg")
ws_slow=$sdir/home/ws
# One ssh config naming both hosts, for the broker.
cat "$cfg" "$scfg" >"$tmp/ssh_config"
p_fwd=$((20000 + $$ % 5000))
# (only the plain host's workspace forwards p_fwd: one local port, one owner)
for ws in "$ws_host" "$ws_ref" "$ws_slow"; do
	mkdir -p "$ws"
	fwd=
	[ "$ws" = "$ws_host" ] && fwd=", \"forwardPorts\": [$p_fwd]"
	cat >"$ws/.devcontainer.json" <<JSON
{
	"image": "$image",
	"remoteUser": "dev",
	"updateRemoteUserUID": false$fwd
}
JSON
done
chown -R "$host_user:" "$ws_host"
chown -R "$(cat "$sdir/user"):" "$ws_slow"
echo "host:      $host ($cfg), workspace ~/ws = $ws_host"
echo "slow host: $slow ($scfg: ~/.bashrc sleeps 0.3 s), workspace ~/ws = $ws_slow"

echo
echo "=== first up of each workspace (not timed for the goals) ==="
# The host shares this machine's dockerd, so the host workspace's container is
# created here with the local rdev; `rdev up HOST:~/ws` finds it by its
# labels (the same folder) and is warm from its first call. It is made as the
# host's account, whose it must be: the agent refuses a container of another
# uid ("... belongs to root (uid 0), not to you"), and the rdev rows would not
# be measured. (That account's own state folder: $tmp is not its to write.)
as_host_user() { # USER ARGS...: run ARGS as USER, from /
	local u=$1
	shift
	(cd / && runuser -u "$u" -- env -u RDEV_STATE_DIR "$@")
}
as_host_user "$host_user" "$rdev" up "$ws_host" --json >"$tmp/up-host.json" 2>"$tmp/up-host.err" ||
	{ cat "$tmp/up-host.err" >&2; exit 1; }
as_host_user "$(cat "$sdir/user")" "$rdev" up "$ws_slow" --json >"$tmp/up-slow.json" 2>"$tmp/up-slow.err" ||
	{ cat "$tmp/up-slow.err" >&2; exit 1; }
"$ref" up --workspace-folder "$ws_ref" >"$tmp/up-ref.json" 2>"$tmp/up-ref.err" ||
	{ tail -20 "$tmp/up-ref.err" >&2; exit 1; }
cid=$(jq -r .containerId "$tmp/up-host.json")
echo "host workspace: container ${cid:0:12}; reference: $(jq -r .containerId "$tmp/up-ref.json" | cut -c1-12)"
ssh -F "$cfg" "$host" docker exec "$cid" true ||
	{ echo "ssh $host docker exec does not work" >&2; exit 1; }

# rdev with a remote target: the first call (untimed) accepts the host key
# and starts the broker.
have_rdev=1
rdev_note=
set +e
"${rdev_env[@]}" RDEV_SSH_CONFIG="$tmp/ssh_config" "$rdev" up --accept-new-host-key "$host:~/ws" \
	</dev/null >"$tmp/up-rdev.out" 2>"$tmp/up-rdev.err"
rc=$? failed=$host
"${rdev_env[@]}" RDEV_SSH_CONFIG="$tmp/ssh_config" "$rdev" up --accept-new-host-key "$slow:~/ws" \
	</dev/null >/dev/null 2>>"$tmp/up-rdev.err" || { rc=$? failed=$slow; }
set -e
if [ $rc -ne 0 ]; then
	have_rdev=0
	# (the up that failed last: the error's last line is its)
	rdev_note="rdev up $failed:~/ws exited $rc: $(tail -n 1 "$tmp/up-rdev.err")"
	[ $rc -eq 69 ] && rdev_note="remote targets are not available in this rdev (exit 69: $(tail -n 1 "$tmp/up-rdev.err"))"
	echo "rdev:      NOT MEASURED: $rdev_note"
elif [ "$(tail -n 1 "$tmp/up-rdev.out" | jq -r .containerId 2>/dev/null)" != "$cid" ]; then
	echo "rdev:      note: rdev up $host:~/ws gave container $(tail -n 1 "$tmp/up-rdev.out" | jq -r .containerId 2>/dev/null | cut -c1-12), not ${cid:0:12}"
fi

c_ex_docker() { run_cmd docker exec "$cid" true; }
c_ex_ssh() { run_cmd ssh -F "$cfg" "$host" docker exec "$cid" true; }
c_ex_rdev() { run_cmd "${rdev_env[@]}" RDEV_SSH_CONFIG="$tmp/ssh_config" "$rdev" exec "$host:~/ws" -- true; }
c_ex_slow() { run_cmd "${rdev_env[@]}" RDEV_SSH_CONFIG="$tmp/ssh_config" "$rdev" exec "$slow:~/ws" -- true; }
c_ex_ref() { run_cmd "$ref" exec --workspace-folder "$ws_ref" true; }
c_up_rdev() { run_cmd "${rdev_env[@]}" RDEV_SSH_CONFIG="$tmp/ssh_config" "$rdev" up "$host:~/ws"; }
c_up_ref() { run_cmd "$ref" up --workspace-folder "$ws_ref"; }

na_row() { row "$1" "n/a" "" ""; }

echo
echo "=== exec true ($runs rounds, interleaved) ==="
ex_fns=(c_ex_docker c_ex_ssh c_ex_ref)
[ $have_rdev -eq 1 ] && ex_fns+=(c_ex_rdev c_ex_slow)
time_rounds "$runs" "${ex_fns[@]}"
row "" "median ms" "p90 ms" "min ms"
report "docker exec CID true (local)" c_ex_docker
report "ssh HOST docker exec CID true" c_ex_ssh
if [ $have_rdev -eq 1 ]; then
	report "rdev exec HOST:~/ws -- true" c_ex_rdev
	report "rdev exec SLOW:~/ws -- true (slow .bashrc)" c_ex_slow
else
	na_row "rdev exec HOST:~/ws -- true"
fi
report "devcontainer exec --workspace-folder WS true" c_ex_ref

echo
echo "=== warm up: the container is running ($runs rounds, interleaved) ==="
up_fns=(c_up_ref)
[ $have_rdev -eq 1 ] && up_fns+=(c_up_rdev)
time_rounds "$runs" "${up_fns[@]}"
row "" "median ms" "p90 ms" "min ms"
if [ $have_rdev -eq 1 ]; then report "rdev up HOST:~/ws" c_up_rdev; else na_row "rdev up HOST:~/ws"; fi
report "devcontainer up --workspace-folder WS" c_up_ref

# --- a forward's first connection after up ---------------------------------
# An echo server in the container on 0.0.0.0:p_fwd; each round stops the
# host's forwards, runs `rdev up HOST:~/ws` (which forwards forwardPorts
# anew), then times connect + one echo for the first connection and for 10
# more. The client is python (one process for all of a round's connections).
fwd_first= fwd_next=
if [ $have_rdev -eq 1 ]; then
	echo
	echo "=== forward: first connection after up vs the next ($fwd_runs ups) ==="
	docker exec -i "$cid" sh -c 'cat > /tmp/rdev-bench-echo.pl' <"$src/tests/rig/echo-server.pl"
	docker exec -d "$cid" perl /tmp/rdev-bench-echo.pl "$p_fwd" 0.0.0.0
	: >"$tmp/fwd.first"
	: >"$tmp/fwd.next"
	for ((r = 0; r < fwd_runs; r++)); do
		"${rdev_env[@]}" RDEV_SSH_CONFIG="$tmp/ssh_config" "$rdev" forward "$host:~/ws" --stop-all \
			</dev/null >/dev/null 2>&1 || true
		"${rdev_env[@]}" RDEV_SSH_CONFIG="$tmp/ssh_config" "$rdev" up "$host:~/ws" \
			</dev/null >/dev/null 2>"$tmp/fwd-up.err" || { cat "$tmp/fwd-up.err" >&2; break; }
		python3 - "$p_fwd" >>"$tmp/fwd.times" <<'PY' || { echo "forward round failed" >&2; break; }
import socket, sys, time
port = int(sys.argv[1])
def one():
    t0 = time.perf_counter()
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"ping\n")
    got = b""
    while not got.endswith(b"\n"):
        d = s.recv(64)
        if not d:
            raise SystemExit("closed before the echo")
        got += d
    s.close()
    return (time.perf_counter() - t0) * 1000
print("first %.2f" % one())
for _ in range(10):
    print("next %.2f" % one())
PY
	done
	awk '$1 == "first" { print $2 }' "$tmp/fwd.times" >"$tmp/times.c_fwd_first"
	awk '$1 == "next" { print $2 }' "$tmp/fwd.times" >"$tmp/times.c_fwd_next"
	row "" "median ms" "p90 ms" "min ms"
	report "first connection after up" c_fwd_first
	report "next connections" c_fwd_next
	fwd_first=$(median c_fwd_first)
	fwd_next=$(median c_fwd_next)
	"${rdev_env[@]}" "$build/rdev-broker" status --json >"$tmp/status.json" 2>/dev/null || true
	echo "agents:    $(jq -r '[.sessions[] | "\(.host): \(.agent.starts) start(s), \(.agent.channels) channel(s), \(.agent.transport)"] | join("; ")' "$tmp/status.json" 2>/dev/null)"
	echo "shells:    login shells on the slow host since it started: $(wc -l <"$sdir/home/.rdev-shells" 2>/dev/null || echo '?')" \
		"(the rig's own checks included)"
fi

# --- the agent bundle and the agent's memory ------------------------------
echo
echo "=== agent bundle and memory ==="
bundle_bytes= rss_create= rss_warm=
if [ -n "$bundle" ]; then
	bundle_bytes=$(du -sb "$bundle" | cut -f1)
	echo "bundle:    $bundle"
	echo "           $bundle_bytes bytes ($(du -sk "$bundle" | cut -f1) KiB on disk);" \
		"rdev-agent $(stat -c %s "$bundle/rdev-agent") bytes;" \
		"tarball $(stat -c %s "$bundle.tar.gz" 2>/dev/null || echo '?') bytes"
	mkdir -p "$ws_rss"
	cat >"$ws_rss/.devcontainer.json" <<JSON
{
	"image": "$image",
	"remoteUser": "dev",
	"updateRemoteUserUID": false,
	"postCreateCommand": "true"
}
JSON
	# GNU time's %M: the maximum resident set size in KiB of rdev-agent (and of
	# any child it waited for).
	for which in create warm; do
		if /usr/bin/time -f %M -o "$tmp/rss.$which" "$bundle/rdev-agent" up "$ws_rss" --json \
			</dev/null >/dev/null 2>"$tmp/rss.$which.err"; then
			printf -v "rss_$which" '%s' "$(tail -n 1 "$tmp/rss.$which")"
		else
			echo "rdev-agent up ($which) failed:" >&2
			tail -5 "$tmp/rss.$which.err" >&2
		fi
	done
	echo "peak RSS:  rdev-agent up, creating the container: ${rss_create:-?} KiB; warm: ${rss_warm:-?} KiB"
else
	echo "no bundle in $build/agent-bundle/ (make agent-bundle builds it)"
fi
echo "DevPod:    its agent is the devpod binary itself, about 100 MB (maintainer, loft-sh/devpod#1832);"
echo "           devpod 0.6.15 installs 91.1 MiB (Alpine package); no published RSS figure (bench/README.md)"

# --- goals ---------------------------------------------------------------
echo
echo "=== goals (issues 5 and 11; ratios of the medians) ==="
ex_docker=$(median c_ex_docker)
ex_ssh=$(median c_ex_ssh)
ex_ref=$(median c_ex_ref)
up_ref=$(median c_up_ref)
if [ $have_rdev -eq 1 ]; then
	ex_rdev=$(median c_ex_rdev)
	up_rdev=$(median c_up_rdev)
	r1=$(ratio "$ex_rdev" "$ex_ssh")
	r2=$(ratio "$ex_rdev" "$ex_ref")
	r3=$(ratio "$up_rdev" "$up_ref")
	ex_slow=$(median c_ex_slow)
	r4=$(ratio "$ex_rdev" "$ex_docker")
	r5=$(ratio "$ex_slow" "$ex_docker")
	echo "exec,    rdev / local docker exec   <= $goal_exec_docker: $(verdict "$r4" "$goal_exec_docker")  ($r4: $ex_rdev ms / $ex_docker ms)"
	echo "exec,    slow .bashrc / docker exec <= $goal_exec_docker: $(verdict "$r5" "$goal_exec_docker")  ($r5: $ex_slow ms / $ex_docker ms)"
	echo "exec,    rdev / ssh docker exec     <= $goal_exec_ssh: $(verdict "$r1" "$goal_exec_ssh")  ($r1: $ex_rdev ms / $ex_ssh ms)"
	echo "exec,    rdev / devcontainer exec   <= $goal_exec_ref: $(verdict "$r2" "$goal_exec_ref")  ($r2: $ex_rdev ms / $ex_ref ms)"
	echo "warm up, rdev / devcontainer up     <= $goal_up_ref: $(verdict "$r3" "$goal_up_ref")  ($r3: $up_rdev ms / $up_ref ms)"
	if [ -n "$fwd_first" ] && [ -n "$fwd_next" ]; then
		d=$(awk -v a="$fwd_first" -v b="$fwd_next" 'BEGIN { printf "%.1f", a - b }')
		echo "forward, first - next connection    <= $goal_fwd_first_ms ms: $(awk -v d="$d" -v g="$goal_fwd_first_ms" 'BEGIN { print (d <= g ? "PASS" : "FAIL") }')  ($d ms: $fwd_first ms - $fwd_next ms)"
	else
		echo "forward, first - next connection    <= $goal_fwd_first_ms ms: NOT MEASURED"
	fi
else
	echo "exec,    rdev / ssh docker exec     <= $goal_exec_ssh: NOT MEASURED (ssh docker exec: $ex_ssh ms)"
	echo "exec,    rdev / devcontainer exec   <= $goal_exec_ref: NOT MEASURED (devcontainer exec: $ex_ref ms)"
	echo "warm up, rdev / devcontainer up     <= $goal_up_ref: NOT MEASURED (devcontainer up: $up_ref ms)"
	echo "         ($rdev_note)"
fi
if [ -n "$bundle_bytes" ]; then
	echo "bundle size <= 2 MB: $([ "$bundle_bytes" -le $goal_bundle_bytes ] && echo PASS || echo FAIL)  ($bundle_bytes bytes; DevPod's agent: about 100 MB)"
else
	echo "bundle size <= 2 MB: NOT MEASURED (no bundle)"
fi
if [ -n "$rss_create" ] && [ -n "$rss_warm" ]; then
	peak=$((rss_create > rss_warm ? rss_create : rss_warm))
	echo "agent peak RSS during up <= 4 MB: $([ "$peak" -le $goal_rss_kb ] && echo PASS || echo FAIL)  ($peak KiB)"
else
	echo "agent peak RSS during up <= 4 MB: NOT MEASURED"
fi
