# lib.sh - sourced by end-to-end tests (tests/e2e/*.sh): the rig, seen from a test.
#
#   . "$RDEV_SOURCE_DIR/tests/rig/lib.sh"
#   rig_require_docker              # fails the test (not skip) if Docker is unusable
#   cfg=$(rig_host NAME [--netns])  # an sshd host, stopped when the test exits
#   rig_remote_host PREFIX [OPTS]   # a host for remote targets (below; OPTS: rig.sh host-start's)
#   rig_host_bg NAME [OPTS]; ...; rig_hosts_wait; cfg=$(rig_host_cfg NAME)  # hosts started at once
#   base=$(rig_ports N)             # N consecutive free local ports, this test's until it exits
#   rdev ARGS...                    # the built client ($RDEV_BIN_DIR/rdev)
#   check "what" CMD...             # run CMD; fail the test with "what" if it fails
#   pid_alive PID / pid_gone PID    # a process runs / has ended (a zombie has ended)
#   rig_test_containers LABEL...    # containers with label LABEL (K=V) are removed at the exit
#   sync_diagnostics                # the broker's log and syncs on stderr (a failed sync test)
#   finish                          # prints "N passed, 0 failed"; exits 0
#
# Tests print "ok <what>" per check and exit non-zero on the first failure.
#
# Tests run two at a time (tests/CMakeLists.txt), and other builds' tests may
# run on the same Docker engine: a test names what it makes after its own pid
# or TEST_TMP, takes ports from rig_ports, and gets its own rdev state and
# runtime folders (RDEV_STATE_DIR, RDEV_RUNTIME_DIR: its own broker).
set -euo pipefail

RDEV_SOURCE_DIR=${RDEV_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
RDEV_BIN_DIR=${RDEV_BIN_DIR:-$RDEV_SOURCE_DIR/build}
RIG=$RDEV_SOURCE_DIR/tests/rig/rig.sh
eval "$(bash "$RIG" env)"

TEST_NAME=$(basename "$0" .sh)
TEST_TMP=$(mktemp -d "/tmp/rdev-e2e-$TEST_NAME.XXXXXX")
RIG_TEST_HOSTS=()
RIG_TEST_LABELS=()
CHECKS_PASSED=0
export RDEV_STATE_DIR=$TEST_TMP/state RDEV_RUNTIME_DIR=$TEST_TMP/rt
mkdir -p -m 700 "$RDEV_RUNTIME_DIR"

# python3 through a pyenv shim takes about a second to start, and the tests
# start it hundreds of times: the interpreter it resolves to (RDEV_PYTHON,
# found by CMake) goes first on PATH as python3.
rig_python() {
	local py=${RDEV_PYTHON:-}
	if [ -z "$py" ] || [ ! -x "$py" ]; then
		py=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) || return 0
	fi
	mkdir -p "$TEST_TMP/bin"
	ln -sf "$py" "$TEST_TMP/bin/python3"
	export PATH=$TEST_TMP/bin:$PATH RDEV_PYTHON=$py
}
rig_python

# rig_test_containers LABEL...: the containers with any of these labels
# ("devcontainer.local_folder=$ws": this test's workspaces) are this test's:
# rig_test_cleanup removes them, whatever the exit trap that calls it.
rig_test_containers() {
	RIG_TEST_LABELS+=("$@")
}

# Remove the containers (with their anonymous volumes) and networks of the
# Compose projects named (a test's own; never fails).
rig_compose_rm() {
	local p
	for p in "$@"; do
		docker ps -aq --filter "label=com.docker.compose.project=$p" |
			xargs -r docker rm -fv >/dev/null 2>&1
		docker network ls -q --filter "label=com.docker.compose.project=$p" |
			xargs -r docker network rm >/dev/null 2>&1
	done
	return 0
}

rig_test_cleanup() {
	local rc=$? h
	set +e # (exit $rc) below must not end the trap
	rig_ref_end
	for h in "${RIG_TEST_LABELS[@]+"${RIG_TEST_LABELS[@]}"}"; do
		docker ps -aq --filter "label=$h" | xargs -r docker rm -f >/dev/null
	done
	# (hosts still starting in the background: stopped once started)
	for h in "${RIG_HOST_BG[@]+"${RIG_HOST_BG[@]}"}"; do
		wait "${h#*=}" 2>/dev/null
	done
	# A broker this test's commands started (its socket is in TEST_TMP),
	# first: it holds this test's ports while it runs, as rig_remote_cleanup's.
	[ ! -S "$RDEV_RUNTIME_DIR/broker.sock" ] ||
		"$RDEV_BIN_DIR/rdev-broker" stop >/dev/null 2>&1 || true
	# (rig_host usually runs in $(...): the hosts are listed in a file too)
	# The hosts stop at once, and this test's ports are released meanwhile:
	# each is a rig.sh of its own that mostly waits (a process to end, bash
	# to start on a loaded machine: 2-3 s each, one after the other, was
	# paid by every test). A reservation that names a host's sshd still
	# running is dropped by a later release, once it has gone.
	local stops=()
	for h in $({
		printf '%s\n' "${RIG_TEST_HOSTS[@]+"${RIG_TEST_HOSTS[@]}"}"
		cat "$TEST_TMP/rig-hosts" 2>/dev/null || true
	} | sort -u); do
		bash "$RIG" host-stop "$h" &
		stops+=($!)
	done
	bash "$RIG" ports-release $$ &
	stops+=($!)
	for h in "${stops[@]}"; do
		wait "$h"
	done
	if [ "${RDEV_KEEP_TMP:-}" = 1 ]; then
		echo "kept $TEST_TMP" >&2
	else
		rm -rf "$TEST_TMP"
	fi
	if [ $rc -ne 0 ]; then
		echo "FAIL $TEST_NAME (exit $rc)" >&2
	fi
	return $rc
}
trap rig_test_cleanup EXIT

fail() {
	echo "FAIL $TEST_NAME: $*" >&2
	exit 1
}

# The reference CLI builds every workspace's Features through one image of a
# fixed name (dev_container_feature_content_temp): two of its builds with
# Features at once would take each other's. Such a run of it goes through
# here, which gives it a docker and a docker-compose that name that image
# after this run (tests/rig/ref-docker.sh) and a TMPDIR of its own (under
# TMPDIR, else TEST_TMP) for the files it writes, so that its runs need not take turns:
#   rig_reference_features "$REF" up --workspace-folder WS
rig_reference_features() {
	local tmp tag rc
	tmp=$(mktemp -d "${TMPDIR:-$TEST_TMP}/ref-features.XXXXXX") || return 1
	tag=$(basename "$tmp" | tr -dc 'a-zA-Z0-9' | tr 'A-Z' 'a-z')
	RIG_REF_TAG=$tag TMPDIR=$tmp "$@" \
		--docker-path "$RDEV_SOURCE_DIR/tests/rig/ref-docker.sh" \
		--docker-compose-path "$RDEV_SOURCE_DIR/tests/rig/ref-docker-compose.sh"
	rc=$?
	docker image rm --no-prune "dev_container_feature_content_temp_$tag" >/dev/null 2>&1 || true
	return $rc
}
export -f rig_reference_features

# The reference CLI (`devcontainer`): REF names it, the rig's, installed
# when RDEV_DEVCONTAINER_CLI names none; the test fails without it.
rig_require_reference() {
	REF=${RDEV_DEVCONTAINER_CLI:-}
	if [ -z "$REF" ] || [ ! -x "$REF" ]; then
		bash "$RIG" devcontainer-cli >&2 || fail "cannot install the reference CLI"
		eval "$(bash "$RIG" env)"
		REF=$RDEV_DEVCONTAINER_CLI
	fi
	[ -x "$REF" ] || fail "the reference CLI is not available at '$REF'"
}

# The reference CLI's results, kept for the other build's run of a test
# (tests/run.sh runs each test in the normal, then in the ASan build, on the
# same dockerd): what it makes and prints does not depend on the build.
#   key=$(printf '%s\n' MATERIAL... | rig_ref_key)
# a digest of everything the results depend on (the material: the test's
# workspaces, scripts and environment) and of the reference CLI and the
# rig's images. The test names what it makes after the key, not its pid
# (the results hold those names: folders, images, Compose projects), so it
# first takes  rig_ref_lock "$key"  (held until it exits; its fd,
# $RIG_REF_LOCK_FD, is best closed for children that may outlive it).
#   cache=$(rig_ref_cache "$key")
# a folder for the results, or nothing (the reference is run) when the rig
# did not start this dockerd or RDEV_REF_CACHE=0: named after the dockerd's
# pid and start time too, so results live only as long as that dockerd
# (in CI, one run of tests/run.sh).
#   rig_ref_keep "$cache/NAME" <RESULT
# keeps a result: written whole, then renamed into place (a reader never sees
# half of it); in a test that took the lock (case workers: export -f
# rig_ref_keep), only while the run that took it goes on: its pid
# alive (with the start time it had) and its generation the key's current
# one (rig_ref_lock starts a new one, rig_ref_end ends it). A test killed
# mid-case can leave its case workers running; one that ends after the
# lock went to the next run, or while its own test's exit trap removes what
# it inspects, would otherwise keep a torn result that later runs reuse.
# Write the file a reader checks for (the marker) last.
rig_ref_key() {
	local cli pkg
	# (the reference CLI's package.json names its version: `devcontainer
	# --version` loads the whole CLI first, 3.5 s on a loaded machine, paid
	# by each run of each test that keeps results)
	cli=$(readlink -f "$RDEV_DEVCONTAINER_CLI")
	pkg=$(dirname "$cli")/package.json
	{
		cat
		if [ -f "$pkg" ]; then
			echo "$RDEV_DEVCONTAINER_CLI $cli $(sha256sum <"$pkg") $(node --version 2>&1)"
		else
			echo "$RDEV_DEVCONTAINER_CLI $("$RDEV_DEVCONTAINER_CLI" --version 2>&1) $(node --version 2>&1)"
		fi
		docker image inspect -f '{{.Id}}' "$RDEV_RIG_IMAGE_BOOKWORM" "$RDEV_RIG_IMAGE_BOOKWORM_DEV" \
			"$RDEV_RIG_IMAGE_BOOKWORM_META" "$RDEV_RIG_IMAGE_BUSYBOX" 2>&1
		# (the wrappers the reference runs docker and compose through
		# shape its results too)
		cat "$RDEV_SOURCE_DIR/tests/rig/ref-docker.sh" "$RDEV_SOURCE_DIR/tests/rig/ref-docker-compose.sh" 2>&1
	} | sha256sum | cut -c1-40
}
rig_ref_lock() {
	local d=$RDEV_RIG_DIR/run/ref-cache
	mkdir -p "$d"
	exec {RIG_REF_LOCK_FD}>"$d/$1.lock"
	flock "$RIG_REF_LOCK_FD"
	# (exported: the case workers keep results; the pid's start time tells
	# a reused pid apart)
	RIG_REF_GEN="$$ $(awk '{ print $22 }' "/proc/$$/stat") $EPOCHREALTIME"
	RIG_REF_GEN_FILE=$d/$1.gen
	export RIG_REF_GEN RIG_REF_GEN_FILE
	rig_ref_gen_swap "" "$RIG_REF_GEN"
}
# rig_ref_gen_swap FROM TO: under the generation file's lock, the key's
# generation becomes TO when it is FROM now (FROM empty: whatever it is).
rig_ref_gen_swap() {
	touch "$RIG_REF_GEN_FILE"
	(
		flock 9 || exit 1
		IFS= read -r g <&9 || g=
		[ -z "$1" ] || [ "$g" = "$1" ] || exit 0
		printf '%s\n' "$2" >"$RIG_REF_GEN_FILE"
	) 9<"$RIG_REF_GEN_FILE"
}
# The end of this run's generation (its exit trap, before it removes what
# its workers may still inspect): nothing it started keeps a result after.
rig_ref_end() {
	[ -z "${RIG_REF_GEN_FILE-}" ] || [ "${RIG_REF_GEN%% *}" != $$ ] ||
		rig_ref_gen_swap "$RIG_REF_GEN" ended
}
rig_ref_keep() {
	local f=$1 tmp
	tmp=${f%/*}/.${f##*/}.$BASHPID
	cat >"$tmp" || { rm -f "$tmp"; return 1; }
	# (a test without the lock keeps results from its own process only)
	[ -n "${RIG_REF_GEN_FILE-}" ] || { mv -f "$tmp" "$f"; return; }
	if (
		flock 9 || exit 1
		IFS= read -r g <&9 || g=
		set -- $RIG_REF_GEN
		[ "$g" = "$RIG_REF_GEN" ] &&
			[ "$(awk '{ print $22 }' "/proc/$1/stat" 2>/dev/null)" = "$2" ] &&
			mv -f "$tmp" "$f"
	) 9<"$RIG_REF_GEN_FILE"; then
		return 0
	fi
	rm -f "$tmp"
	echo "rig_ref_keep: $f not kept: the run that took its lock (pid ${RIG_REF_GEN%% *}) has ended" >&2
	return 1
}
rig_ref_cache() {
	local pid start
	[ "${RDEV_REF_CACHE:-1}" != 0 ] || return 0
	pid=$(cat "$RDEV_RIG_DIR/run/dockerd.pid" 2>/dev/null) || return 0
	start=$(awk '{ print $22 }' "/proc/$pid/stat" 2>/dev/null) || return 0
	[ -n "$start" ] || return 0
	# (those of an earlier dockerd are of no more use)
	find "$RDEV_RIG_DIR/run/ref-cache" -mindepth 1 -maxdepth 1 -type d ! -name "*-$pid-$start" \
		-exec rm -rf {} + 2>/dev/null || true
	find "$RDEV_RIG_DIR/run/ref-cache" -maxdepth 1 \( -name '*.lock' -o -name '*.gen' \) -mmin +1440 \
		-delete 2>/dev/null || true
	mkdir -p "$RDEV_RIG_DIR/run/ref-cache/$1-$pid-$start"
	echo "$RDEV_RIG_DIR/run/ref-cache/$1-$pid-$start"
}

rig_require_docker() {
	# (the base image's inspect answers only from a usable engine: when it
	# does, that one docker call is all, about 1 s less per test, loaded)
	timeout 20 docker image inspect "$RDEV_RIG_IMAGE_BOOKWORM" >/dev/null 2>&1 && return 0
	if ! timeout 20 docker info >/dev/null 2>&1; then
		bash "$RIG" docker ||
			fail "needs a Docker engine and none could be started (see the dockerd log above; run tests/rig/rig.sh up)"
	fi
	docker image inspect "$RDEV_RIG_IMAGE_BOOKWORM" >/dev/null 2>&1 ||
		bash "$RIG" images || fail "the rig's base images could not be built"
}

# A host name of this test process: PREFIX (1-3 letters) and its pid, so that
# no test running at the same time has it (host names are 1-10 of [a-z0-9]).
rig_host_name() {
	printf '%s%d' "${1:-h}" $$
}

# The first of N consecutive local ports, free now and reserved for this test
# (other tests' rig_ports and rig hosts leave them alone) until it exits.
rig_ports() {
	bash "$RIG" ports "$1" $$
}

# Start an sshd host for this test; prints its ssh config path.
rig_host() {
	local name=$1
	shift
	RIG_TEST_HOSTS+=("$name")
	echo "$name" >>"$TEST_TMP/rig-hosts"
	bash "$RIG" host-start "$name" "$@"
}

# Several hosts at once (a host's start is mostly a chain of short waits:
# useradd under the rig's lock, sshd coming up; about 7 s each, loaded):
# rig_host_bg NAME [OPTS] starts one in the background, rig_hosts_wait waits
# for all of them and fails naming those that did not start (with their
# errors), then $(rig_host_cfg NAME) is a host's ssh config path.
RIG_HOST_BG=()
rig_host_bg() {
	rig_host "$@" >"$TEST_TMP/host-$1.cfg" 2>"$TEST_TMP/host-$1.err" &
	RIG_HOST_BG+=("$1=$!")
}
rig_hosts_wait() {
	local e failed=
	for e in "${RIG_HOST_BG[@]+"${RIG_HOST_BG[@]}"}"; do
		wait "${e#*=}" || failed+=" ${e%%=*}"
		cat "$TEST_TMP/host-${e%%=*}.err" >&2
	done
	RIG_HOST_BG=()
	[ -z "$failed" ] || fail "host(s) did not start:$failed"
}
rig_host_cfg() {
	[ -s "$TEST_TMP/host-$1.cfg" ] || fail "host $1: not started with rig_host_bg"
	cat "$TEST_TMP/host-$1.cfg"
}

# A host for tests of remote targets: sets name, cfg (its ssh config), hdir
# (its rig folder) and home (the host user's home), points rdev at the host
# (RDEV_SSH_CONFIG) and at a broker of this test's own (RDEV_RUNTIME_DIR).
# on_host CMD runs CMD there; broker ARGS runs rdev-broker. A host that
# `rig_host_bg "$(rig_host_name PREFIX)" OPTS` started earlier (a second host
# the test needs later) is waited for and taken (OPTS given there).
rig_remote_host() {
	name=$(rig_host_name "$1")
	shift
	if [ -e "$TEST_TMP/host-$name.cfg" ]; then
		[ $# -eq 0 ] || fail "rig_remote_host: $name was started by rig_host_bg: give its options there"
		rig_hosts_wait
		cfg=$(rig_host_cfg "$name")
	else
		cfg=$(rig_host "$name" "$@")
	fi
	hdir=$(dirname "$cfg")
	home=$(on_host 'echo $HOME')
	export RDEV_SSH_CONFIG=$cfg
}
on_host() { ssh -F "$cfg" "$name" "$@"; }
# Two rig hosts behind one alias (tests of an ssh config that takes it to
# A, then B): rig_two_hosts PREFIX_A PREFIX_B starts B beside A, A taken as
# rig_remote_host PREFIX_A's (name, cfg, ...), and waits for both; sets
# name_a cfg_a host_a port_a user_a, the same of B (HostName, Port, User of
# their ssh configs), and writes $TEST_TMP/known_hosts with both hosts' keys.
rig_two_hosts() {
	rig_host_bg "$(rig_host_name "$2")"
	rig_remote_host "$1"
	rig_hosts_wait
	name_a=$name cfg_a=$cfg
	name_b=$(rig_host_name "$2")
	cfg_b=$(rig_host_cfg "$name_b")
	host_a=$(rig_cfg_opt "$cfg_a" HostName) port_a=$(rig_cfg_opt "$cfg_a" Port)
	user_a=$(rig_cfg_opt "$cfg_a" User)
	host_b=$(rig_cfg_opt "$cfg_b" HostName) port_b=$(rig_cfg_opt "$cfg_b" Port)
	user_b=$(rig_cfg_opt "$cfg_b" User)
	cat "$(rig_cfg_opt "$cfg_a" UserKnownHostsFile)" \
		"$(rig_cfg_opt "$cfg_b" UserKnownHostsFile)" >"$TEST_TMP/known_hosts"
}
# rig_cfg_opt CFG KEY: KEY's value in a rig host's ssh config
rig_cfg_opt() { sed -n "s/^ *$2 //p" "$1"; }
# rig_echo_ok PORT: a line sent to localhost:PORT (a forward to the rig
# images' echo server) comes back, and the forward carries the half-close
# both ways: all that comes back until the close is that line (tcp_line
# --eof, below).
rig_echo_ok() { [ "$(tcp_line --eof "$1" ping 20)" = ping ]; }
# The pids of the `rdev-agent serve` processes on the host that serve
# clients (the session's long-lived agent, `serve --listen`, is not one), and
# how many there are (running ones: alive_pids).
client_serve_pids() {
	local agent
	agent=$(broker status --json 2>/dev/null |
		jq -r '[.sessions[].agent.pid // empty | tostring] | join("|")' || true)
	pgrep -u "rdev-$name" -f 'rdev-agent serve' | alive_pids |
		{ if [ -n "$agent" ]; then grep -Evx "$agent" || true; else cat; fi; }
}
client_serves() { client_serve_pids | wc -l; }
# The long-lived agent's pid (rdev-broker status), empty when none runs.
agent_pid() { broker status --json | jq -r '[.sessions[].agent.pid // empty][0] // empty'; }
broker() { "$RDEV_BIN_DIR/rdev-broker" "$@"; }
# pid_alive PID (tests/rig/pid.sh): the process runs (a zombie has ended);
# pid_gone PID: it does not.
. "$RDEV_SOURCE_DIR/tests/rig/pid.sh"
pid_gone() { ! pid_alive "$1"; }
# sync_diagnostics: on stderr, the end of the broker's log and its syncs'
# status (what a failed sync test needs to be told apart).
sync_diagnostics() {
	{
		echo "--- the broker's log (last 60 lines):"
		tail -n 60 "$RDEV_RUNTIME_DIR/broker.log" 2>/dev/null
		echo "--- rdev-broker status --json, syncs:"
		broker status --json 2>/dev/null | jq -c '.syncs' 2>/dev/null
	} >&2
}
# alive_pids: of the pids read (one a line: pgrep's output), those that run
# (pid_alive; `pgrep -r` looks at the first thread's state alone, a zombie
# while the others still end).
alive_pids() {
	local p
	while read -r p; do
		! pid_alive "$p" || echo "$p"
	done
}
# tcp_line [--eof] PORT [WORD [SECONDS]]: connect to 127.0.0.1:PORT, send
# WORD and a newline when WORD is given, print the first line that comes back
# (the bound, 300 s unless given, only keeps a broken broker from hanging a
# test). --eof: then half-close (SHUT_WR) and print all that comes back until
# the server closes: a forward that loses the half-close, or the server's
# close, times out (and prints nothing) instead of passing on the first line.
tcp_line() {
	local eof=0
	if [ "${1-}" = --eof ]; then
		eof=1
		shift
	fi
	python3 - "$1" "${2-}" "${3:-300}" "$#" "$eof" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=int(sys.argv[3]))
eof = sys.argv[5] == "1"
if int(sys.argv[4]) >= 2:
	s.sendall(sys.argv[2].encode() + b"\n")
if eof:
	s.shutdown(socket.SHUT_WR)
got = b""
while eof or not got.endswith(b"\n"):
	d = s.recv(4096)
	if not d:
		break
	got += d
print(got.decode(errors="replace").strip())
PY
}
# broker_stop_timed: `rdev-broker stop`, its stderr in $TEST_TMP/stop.err;
# sets stop_st (its exit status) and stop_ms (how long it took).
broker_stop_timed() {
	local start
	start=$(date +%s%N)
	stop_st=0
	broker stop >/dev/null 2>"$TEST_TMP/stop.err" || stop_st=$?
	stop_ms=$((($(date +%s%N) - start) / 1000000))
	echo "     (rdev-broker stop took ${stop_ms} ms)"
}
# The broker's VmRSS in kB.
broker_rss() { awk '/^VmRSS/ {print $2}' "/proc/$(broker status --json | jq -r .pid)/status"; }
# rss_bound [KB]: how much a broker may grow while a reader stops, in kB: KB
# (default 8 MB), 64 MB under AddressSanitizer, whose quarantine keeps freed
# memory (RSS grows with any churn). ctest says which build it is
# (RDEV_SANITIZE=1 or 0, tests/CMakeLists.txt); run by hand, the broker's
# libraries tell.
rss_bound() {
	# (ldd's whole output first: `ldd | grep -q` under pipefail fails when
	# grep ends before ldd has written all, and an ASan build got 12 MB)
	if [ "${RDEV_SANITIZE:-}" = 1 ] ||
		{ [ -z "${RDEV_SANITIZE:-}" ] && [[ $(ldd "$RDEV_BIN_DIR/rdev-broker") == *libasan* ]]; }; then
		echo 65536
	else
		echo "${1:-8192}"
	fi
}
# check_rss_growth WHAT RSS0 RSS1 [KB]: the broker grew by less than
# rss_bound KB. Only a check when the reader stopped long enough for several
# times the bound to come (rss_wait_seconds) and RSS1 is the peak over that
# time (broker_rss_peak): a reader that stops after a few MB of a 100 MB file
# leaves less to buffer than the bound allows, and a broker that buffered it
# would pass.
check_rss_growth() {
	local bound
	bound=$(rss_bound "${4:-}")
	check "$1 ($(($3 - $2)) kB more, < $((bound / 1024)) MB)" test $(($3 - $2)) -lt "$bound"
}
# rss_wait_seconds KB MBPS: how long a stopped reader must wait for a link
# carrying MBPS MB/s (measured in the same test) to bring four times KB kB:
# at least 3 s.
rss_wait_seconds() {
	awk -v kb="$1" -v r="$2" 'BEGIN { s = 4 * kb * 1024 / (r * 1e6); s = s < 3 ? 3 : s; printf "%d", s + 0.999 }'
}
# broker_rss_peak SECONDS [PID]: the broker's highest VmRSS in kB over
# SECONDS (or until process PID ended), sampled every 0.2 s.
broker_rss_peak() {
	local pid peak=0 r i
	pid=$(broker status --json | jq -r .pid)
	for ((i = 0; i < $1 * 5; i++)); do
		r=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
		[ "$r" -gt "$peak" ] && peak=$r
		[ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null && break
		sleep 0.2
	done
	echo "$peak"
}
# The exit trap of such a test: stop its broker, remove the containers of the
# host folders given (relative to the host user's home), then the usual.
rig_remote_cleanup() {
	local rc=$? f
	set +e # (exit $rc) below must not end the trap
	broker stop >/dev/null 2>&1 || true
	for f in "$@"; do
		rig_test_containers "devcontainer.local_folder=$home/$f"
	done
	(exit $rc)
	rig_test_cleanup
}

# rig_proxy_host NAME COMMAND: an ssh_config block (on stdout) of host NAME,
# rig_remote_host's ($cfg: its address, user, key and known hosts) reached
# through ProxyCommand COMMAND (%h %p %r expanded by libssh; the rig's pipe
# is tests/rig/proxy-pipe.py).
rig_proxy_host() {
	echo "Host $1"
	sed -n 's/^ *\(HostName\|Port\|User\|IdentityFile\|IdentitiesOnly\|UserKnownHostsFile\|GlobalKnownHostsFile\|StrictHostKeyChecking\|BatchMode\) /  \1 /p' "$cfg"
	echo "  ProxyCommand $2"
}

rdev() { "$RDEV_BIN_DIR/rdev" "$@"; }

# check_exec_signals TARGET: `rdev exec TARGET` (local or remote route) with
# signals that tests of both routes check alike: one rdev was started
# ignoring (nohup's SIGHUP) stays ignored (it was caught and passed on,
# ending the command nohup was to keep running), and two that come in one
# wait (both sent while rdev is stopped) are both passed on (one slot kept
# the one and lost the other, while both counted towards the three that
# give up).
check_exec_signals() {
	local target=$1 pid rc
	local hup_cmd='trap "echo got-HUP; exit 3" HUP; trap "echo got-TERM; exit 9" TERM
	echo ready; while :; do sleep 0.1; done'
	local two_cmd='trap "" INT; trap "echo got-TERM; exit 9" TERM
	echo ready; while :; do sleep 0.1; done'
	env --ignore-signal=HUP "$RDEV_BIN_DIR/rdev" exec "$target" -- bash -c "$hup_cmd" \
		</dev/null >"$TEST_TMP/hup.out" 2>&1 &
	pid=$!
	eventually "exec under nohup: the command runs" grep -q ready "$TEST_TMP/hup.out"
	kill -HUP "$pid"
	sleep 1
	check "exec: a SIGHUP rdev ignores does not reach the command" kill -0 "$pid"
	kill -TERM "$pid"
	set +e
	wait "$pid"
	rc=$?
	set -e
	check_eq "exec: ... a SIGTERM still does (its status)" "$rc" 9
	check "exec: ... and no HUP trap ran" sh -c "! grep -q got-HUP '$TEST_TMP/hup.out'"
	env --default-signal=INT "$RDEV_BIN_DIR/rdev" exec "$target" -- bash -c "$two_cmd" \
		</dev/null >"$TEST_TMP/two.out" 2>&1 &
	pid=$!
	eventually "exec: the command runs" grep -q ready "$TEST_TMP/two.out"
	kill -STOP "$pid"
	kill -INT "$pid"
	kill -TERM "$pid"
	kill -CONT "$pid"
	eventually "exec: a SIGTERM that came with a SIGINT reaches the command" \
		grep -q got-TERM "$TEST_TMP/two.out"
	set +e
	wait "$pid"
	rc=$?
	set -e
	check_eq "exec: ... its status" "$rc" 9
}
# rig_relay_takeover CID MODE WHAT: the relay of container CID killed and
# its port bound by one program (tests/e2e/relay_client.py takeport MODE;
# the connections it met in $TEST_TMP/MODE.answered), the broker stopped
# meanwhile, so that no listing of an auto-forward watch falls between the
# kill and the bind; the program is started first and told to go once the
# broker is stopped, so that the stop lasts only the kill and the bind.
# WHAT names the program in the messages. Sets takeover_port (the relay's
# port) and takeover_pid (the program, in the background).
rig_relay_takeover() {
	local cid=$1 mode=$2 what=$3 relay_pids bpid
	takeover_port=$(docker exec "$cid" cat /.rdev-relay.port)
	relay_pids=$(docker top "$cid" -o pid,args | awk '/[.]rdev-relay --port-file/ { print $1 }')
	[ -n "$relay_pids" ] || fail "auto: no relay process in the container"
	rm -f "$TEST_TMP/$mode.bound" "$TEST_TMP/$mode.go"
	: >"$TEST_TMP/$mode.answered"
	nsenter -t "$(docker inspect -f '{{.State.Pid}}' "$cid")" -n \
		python3 "$RDEV_SOURCE_DIR/tests/e2e/relay_client.py" takeport "$takeover_port" "$relay_pids" \
		"$TEST_TMP/$mode.bound" "$mode" "$TEST_TMP/$mode.answered" "$TEST_TMP/$mode.go" &
	takeover_pid=$!
	bpid=$(broker status --json | jq -r .pid)
	kill -STOP "$bpid"
	: >"$TEST_TMP/$mode.go"
	(eventually "auto: the $what program has the relay's port" test -e "$TEST_TMP/$mode.bound") ||
		{ kill -CONT "$bpid"; fail "auto: the $what program did not bind"; }
	kill -CONT "$bpid"
}
# status_reader_gone CMD...: CMD's exit status (printed) when its stdout is a
# pipe whose reader was closed before it started: its first write fails with
# EPIPE, no race with a reader that may still be there (`| head -c1`).
status_reader_gone() {
	python3 -c 'import os, subprocess, sys
r, w = os.pipe()
os.close(r)
print(subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=w, stderr=subprocess.DEVNULL).returncode)' "$@"
}
# check_logs_write_errors TARGET: `rdev logs` of TARGET, with -f and
# without, whose stdout cannot be written (a full disk: /dev/full) ends at
# once with 125 and says what failed, as exec's output (the error was
# ignored: 0 with the log cut or lost, -f following on until the step
# ended); and plain logs whose reader is gone (status_reader_gone) ends
# with 141. (e2e/status: a local target; e2e/remote-ssh: over SSH.)
check_logs_write_errors() {
	local target=$1 follow rc
	for follow in -f ""; do
		set +e
		timeout 60 "$RDEV_BIN_DIR/rdev" logs ${follow:+"$follow"} "$target" \
			>/dev/full 2>"$TEST_TMP/logs-full.err"
		rc=$?
		set -e
		check_eq "logs${follow:+ $follow} $target: stdout that cannot be written: 125" "$rc" 125
		check_eq "logs${follow:+ $follow} $target: ... saying so" "$(cat "$TEST_TMP/logs-full.err")" \
			"rdev: logs: stdout: No space left on device"
	done
	check_eq "logs $target: a reader gone: 141" \
		"$(status_reader_gone "$RDEV_BIN_DIR/rdev" logs "$target")" 141
}
# rig_auto_seen WS PORT: the broker's saved auto-forward watch of workspace
# WS (as its state file names it) has seen container port PORT: a listing
# of the container it follows took it.
rig_auto_seen() {
	jq -e --arg ws "$1" --argjson p "$2" \
		'[.hosts[].autos[]? | select(.workspace == $ws) | (.seen // [])[] | select(. == $p)] | length == 1' \
		"$RDEV_RUNTIME_DIR/state.json" >/dev/null
}

# rig_sync_up APP [ARG...]: `rdev up "$name:" APP ARG... --json` (the sync
# tests); sets ws (the container's workspace folder), folder (the host's
# copy, for rig_remote_cleanup) and cid (the container). in_ctr CMD...: run
# in the container's workspace.
rig_sync_up() {
	local app=$1
	shift
	rdev up "$name:" "$app" "$@" --json >"$TEST_TMP/up.json" 2>"$TEST_TMP/up.err" ||
		{ cat "$TEST_TMP/up.err" >&2; fail "rdev up $name: $app $*"; }
	ws=$(jq -r .remoteWorkspaceFolder "$TEST_TMP/up.json")
	folder=$home/rdev/workspaces/${ws#/workspaces/}
	cid=$(docker ps -q --filter "label=devcontainer.local_folder=$folder")
	[ -n "$cid" ] || fail "no container for $folder"
}
in_ctr() { docker exec -w "$ws" "$cid" "$@"; }

# A folder every rig host's user can read (workspaces named by the same path
# on several hosts, host policies): $TEST_TMP/shared, printed.
rig_shared_folder() {
	mkdir -p "$TEST_TMP/shared"
	chmod 755 "$TEST_TMP" "$TEST_TMP/shared"
	echo "$TEST_TMP/shared"
}
# Remove the containers of the hosts whose policies' hostIds are given
# (label dev.rdev.host): a test's own, all on the one Docker engine.
rig_remove_host_containers() {
	local h
	for h in "$@"; do
		docker ps -aq --filter "label=dev.rdev.host=$h" | xargs -r docker rm -f >/dev/null
	done
}
rdev_agent() { "$RDEV_BIN_DIR/rdev-agent" "$@"; }

check() {
	local what=$1
	shift
	if "$@"; then
		echo "ok   $what"
		CHECKS_PASSED=$((CHECKS_PASSED + 1))
	else
		fail "$what (command: $*)"
	fi
}

# check_eq WHAT GOT WANT
check_eq() {
	if [ "$2" = "$3" ]; then
		echo "ok   $1"
		CHECKS_PASSED=$((CHECKS_PASSED + 1))
	else
		fail "$1: got '$2', want '$3'"
	fi
}

# eventually WHAT CMD...: CMD succeeds within 15 s (for work that goes on in
# the background; EVENTUALLY_SECONDS=N eventually ...: within N s).
eventually() {
	local what=$1 i s=${EVENTUALLY_SECONDS:-15}
	shift
	for i in $(seq 1 $((s * 10))); do
		if "$@" 2>/dev/null; then
			echo "ok   $what"
			CHECKS_PASSED=$((CHECKS_PASSED + 1))
			return 0
		fi
		sleep 0.1
	done
	fail "$what (within $s s; command: $*)"
}

finish() {
	echo "$CHECKS_PASSED passed, 0 failed"
	exit 0
}
