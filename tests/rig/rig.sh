#!/usr/bin/env bash
# rig.sh - the real test rig: dockerd, OpenSSH "hosts", local base images and
# the reference CLI, on this one machine. Every later end-to-end test uses it.
#
#   rig.sh up                  deps + docker + images + devcontainer-cli
#   rig.sh deps                install the Debian packages the rig needs (idempotent)
#   rig.sh docker              start dockerd unless one answers; wait for `docker info`
#   rig.sh images              build the local base images (cached)
#   rig.sh devcontainer-cli    install the pinned @devcontainers/cli (cached)
#   rig.sh host-start NAME [--netns] [--slow-bashrc] [--no-sftp] [--max-sessions N]
#                          [--no-streamlocal] [--no-forwarding] [--locked-down]
#                          [--policy FILE] [--rtt-ms MS]
#                              start an sshd "host" NAME; prints its ssh config path.
#                              It removes the containers labelled with its user's uid
#                              (an earlier host's leftovers: a restarted host owns none).
#                              Its user's ~/.bashrc appends a line to ~/.rdev-shells
#                              each time a shell reads it (so tests count the login
#                              shells sshd started); --slow-bashrc also sleeps 0.3 s
#                              there (as pyenv/nvm/conda init do); --no-sftp: no sftp
#                              subsystem; --max-sessions: sshd's MaxSessions (100);
#                              --no-streamlocal: AllowStreamLocalForwarding no;
#                              --no-forwarding: that and AllowTcpForwarding no;
#                              --locked-down: no forwarding, no sftp, MaxSessions 1;
#                              --policy FILE: the host's rdev policy (sshd's
#                              SetEnv RDEV_AGENT_POLICY=FILE for its sessions)
#                              --rtt-ms: the config reaches sshd through a delay
#                              proxy of that round trip (as `delay-proxy`)
#   rig.sh delay-proxy-bin     build (once per source) the delay proxy
#                              (tests/rig/delay-proxy.c) into cache/; prints its path
#   rig.sh delay-proxy NAME MS start a delay proxy (tests/rig/delay-proxy.c: MS/2
#                              each way) in front of host NAME's sshd; prints the
#                              path of an ssh config for NAME through it
#                              (ssh_config.rtt<MS>). Stopped with the host
#   rig.sh delay-freeze NAME on|off
#                              freeze (SIGSTOP) or thaw (SIGCONT) host NAME's
#                              delay proxies: the link stalls, nothing is
#                              refused or reset (a frozen network path)
#   rig.sh host-stop NAME      stop that host (and its network namespace, its
#                              delay proxies)
#   rig.sh host-link NAME up|down
#                              cut or restore a --netns host's network link
#   rig.sh ports N PID         reserve N consecutive free loopback ports for the
#                              process PID (a test); prints the first. Reserved
#                              while PID lives, or until `ports-release PID`
#   rig.sh ports-release PID   drop the reservations of PID
#   rig.sh registry            start (once) the OCI registry for Feature tests
#                              (tests/rig/oci-registry.py, state in run/registry/:
#                              requests.log counts requests, files/ is served at
#                              /files/); prints localhost:PORT
#   rig.sh registry-publish NAMESPACE SRC
#                              publish the Features in SRC (a folder of Feature
#                              folders) with the reference CLI's `features publish`
#   rig.sh down                stop everything the rig started, by pid, and
#                              remove the hosts' accounts (below)
#   rig.sh accounts            list the accounts `down` removes: rdev-NAME
#                              whose home is this rig's run/hosts/NAME/home
#                              (made at a host's start; a test's host names
#                              carry its pid, so they piled up by the thousand)
#   rig.sh env                 print shell exports describing the rig
#   rig.sh compose-env         only its export for Docker Compose v1's start
#                              (rig_compose_env; tests/run.sh: for the
#                              integration tests, which read no rig.sh env)
#
# State: $RDEV_RIG_DIR (default /var/tmp/rdev-rig): cache/ survives runs
# (rootfs tarball, npm install); run/ holds what this rig started (pid files).
# The rig only ever stops processes whose pids it recorded itself, and at
# `down` whatever runs as the host accounts it made (rig_accounts_remove).
#
# Tests run two at a time (tests/CMakeLists.txt): what they share here (host
# users, netns link numbers, port reservations in run/ports/) changes under
# run/lock, one rig.sh at a time.
set -euo pipefail

RIG_DIR=${RDEV_RIG_DIR:-/var/tmp/rdev-rig}
RIG_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RUN_DIR=$RIG_DIR/run
CACHE_DIR=$RIG_DIR/cache
# Bump when an image recipe changes, so cached images are rebuilt.
IMAGE_REV=r1
IMG_BOOKWORM=rdev-test/bookworm:$IMAGE_REV
IMG_BOOKWORM_DEV=rdev-test/bookworm-dev:$IMAGE_REV
IMG_BOOKWORM_META=rdev-test/bookworm-meta:$IMAGE_REV
IMG_BUSYBOX=rdev-test/busybox:$IMAGE_REV
DEVCONTAINER_CLI_VERSION=0.89.0
DEVCONTAINER_CLI=$CACHE_DIR/npm/node_modules/.bin/devcontainer

say() { printf 'rig: %s\n' "$*" >&2; }
die() { printf 'rig: error: %s\n' "$*" >&2; exit 1; }

rig_deps() {
	local pkgs=(docker.io docker-compose debootstrap openssh-server openssh-client
		busybox-static iproute2 jq curl ca-certificates
		man-db bsdextrautils zsh systemd) # e2e/package: man pages (man, col), zsh completion, systemd-analyze
	local missing=() p
	for p in "${pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
	if [ ${#missing[@]} -gt 0 ]; then
		say "installing ${missing[*]}"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			"${missing[@]}" >/dev/null
	fi
}

rig_docker() {
	local before
	mkdir -p "$RUN_DIR"
	before=$(cat "$RUN_DIR/dockerd.pid" 2>/dev/null || true)
	# A dockerd the rig starts has its pid recorded, so `down` stops it (and
	# only it).
	RDEV_DOCKERD_LOG=$RUN_DIR/dockerd.log \
		bash "$RIG_SRC/deploy/ensure-docker.sh" "$RUN_DIR/dockerd.pid" ||
		die "no Docker engine could be started"
	# The tests remove their images with --no-prune (Docker's default also
	# removes their untagged parents: the build cache's intermediate images,
	# which other tests' builds FROM the same base may be using that moment),
	# so the parents stay. A dockerd started just now serves no test yet:
	# those an earlier run left go now (with a dockerd that was running
	# already, nothing is pruned).
	if [ -s "$RUN_DIR/dockerd.pid" ] && [ "$(cat "$RUN_DIR/dockerd.pid")" != "$before" ]; then
		say "removing the untagged images earlier runs left (docker image prune)"
		docker image prune -f >/dev/null || true
	fi
}

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# Build an image from a Dockerfile read on stdin, with the classic builder (no
# buildx plugin here; the classic builder resolves FROM against local images).
build_image() {
	local tag=$1 ctx=$2
	DOCKER_BUILDKIT=0 docker build -q -t "$tag" -f - "$ctx" >"$ctx.log" 2>&1 ||
		{ cat "$ctx.log" >&2; rm -f "$ctx.log"; die "docker build of $tag failed"; }
	rm -f "$ctx.log"
}

rig_images() {
	mkdir -p "$CACHE_DIR"
	if ! image_exists "$IMG_BOOKWORM"; then
		say "building $IMG_BOOKWORM (debootstrap minbase + docker import)"
		RDEV_NO_PULL=1 RDEV_CACHE_DIR=$CACHE_DIR \
			bash "$RIG_SRC/deploy/ensure-base-image.sh" "$IMG_BOOKWORM" ||
			die "could not build $IMG_BOOKWORM"
	fi
	local ctx
	ctx=$(mktemp -d)
	if ! image_exists "$IMG_BOOKWORM_DEV"; then
		say "building $IMG_BOOKWORM_DEV"
		build_image "$IMG_BOOKWORM_DEV" "$ctx" <<-EOF
		FROM $IMG_BOOKWORM
		RUN groupadd -g 1000 dev && useradd -m -u 1000 -g 1000 -s /bin/bash dev
		EOF
	fi
	if ! image_exists "$IMG_BOOKWORM_META"; then
		say "building $IMG_BOOKWORM_META"
		build_image "$IMG_BOOKWORM_META" "$ctx" <<-EOF
		FROM $IMG_BOOKWORM_DEV
		LABEL devcontainer.metadata='[{"remoteUser":"dev","containerEnv":{"FROM_IMAGE_METADATA":"1"},"postCreateCommand":"echo from-image-metadata","capAdd":["SYS_PTRACE"]}]'
		EOF
	fi
	if ! image_exists "$IMG_BUSYBOX"; then
		say "importing $IMG_BUSYBOX"
		local bb=$ctx/bb
		mkdir -p "$bb/bin" "$bb/tmp" "$bb/etc" "$bb/root"
		cp /bin/busybox "$bb/bin/busybox"
		local applet
		for applet in $("$bb/bin/busybox" --list); do
			[ "$applet" = busybox ] || ln -sf busybox "$bb/bin/$applet"
		done
		printf 'root:x:0:0:root:/root:/bin/sh\n' >"$bb/etc/passwd"
		printf 'root:x:0:\n' >"$bb/etc/group"
		chmod 1777 "$bb/tmp"
		tar -C "$bb" -cf - . | docker import -c 'CMD ["/bin/sh"]' - "$IMG_BUSYBOX" >/dev/null
	fi
	rm -rf "$ctx"
}

rig_devcontainer_cli() {
	if [ -x "$DEVCONTAINER_CLI" ] &&
		[ "$("$DEVCONTAINER_CLI" --version 2>/dev/null)" = "$DEVCONTAINER_CLI_VERSION" ]; then
		return 0
	fi
	say "installing @devcontainers/cli@$DEVCONTAINER_CLI_VERSION"
	mkdir -p "$CACHE_DIR/npm"
	npm install --silent --no-audit --no-fund --prefix "$CACHE_DIR/npm" \
		"@devcontainers/cli@$DEVCONTAINER_CLI_VERSION" >/dev/null 2>"$CACHE_DIR/npm.log" ||
		{ tail -20 "$CACHE_DIR/npm.log" >&2; die "npm install of @devcontainers/cli failed"; }
	[ "$("$DEVCONTAINER_CLI" --version)" = "$DEVCONTAINER_CLI_VERSION" ] ||
		die "@devcontainers/cli installed but does not report $DEVCONTAINER_CLI_VERSION"
}

# The client key every rig host accepts.
rig_keys() {
	mkdir -p "$RUN_DIR/keys"
	chmod 700 "$RUN_DIR/keys"
	[ -s "$RUN_DIR/keys/id_ed25519" ] ||
		ssh-keygen -q -t ed25519 -N '' -C rdev-rig -f "$RUN_DIR/keys/id_ed25519"
}

# Run "$@" holding run/lock: one rig.sh at a time changes what concurrent
# tests share (users, netns numbers, port reservations). In a subshell: its
# output is the way back.
with_rig_lock() {
	mkdir -p "$RUN_DIR"
	(
		flock -w 60 9 || die "run/lock: held for 60 s"
		"$@"
	) 9>>"$RUN_DIR/lock"
}

# Any socket on the port (a connection's local port blocks a bind too).
port_in_use() { ss -Hatn "sport = :$1" 2>/dev/null | grep -q .; }

# Reserved: run/ports/PORT names a process that still runs.
port_reserved() {
	local pid
	pid=$(cat "$RUN_DIR/ports/$1" 2>/dev/null) || return 1
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# The first of N consecutive ports, all free and unreserved, now reserved for
# process PID (call with the lock held). Below the ephemeral range (32768 up),
# where outgoing connections come and go.
reserve_ports() {
	local n=$1 owner=$2 base p ok
	mkdir -p "$RUN_DIR/ports"
	for _ in $(seq 1 200); do
		base=$((20000 + RANDOM % (12000 - n)))
		ok=1
		for p in $(seq "$base" $((base + n - 1))); do
			if port_reserved "$p" || port_in_use "$p"; then
				ok=0
				break
			fi
		done
		[ $ok -eq 1 ] || continue
		for p in $(seq "$base" $((base + n - 1))); do
			echo "$owner" >"$RUN_DIR/ports/$p"
		done
		echo "$base"
		return 0
	done
	die "no $n free consecutive ports found"
}

rig_ports() {
	local n=${1:?how many ports} owner=${2:?owner pid}
	[[ $n =~ ^[1-9][0-9]?$ && $owner =~ ^[1-9][0-9]*$ ]] ||
		die "ports: want a count (1-99) and a pid"
	with_rig_lock reserve_ports "$n" "$owner"
}

# Drop PID's reservations, and any whose process is gone.
rig_ports_release() {
	local owner=${1:?owner pid} f pid
	[ -d "$RUN_DIR/ports" ] || return 0
	for f in "$RUN_DIR"/ports/*; do
		[ -e "$f" ] || continue
		pid=$(cat "$f" 2>/dev/null) || continue
		if [ "$pid" = "$owner" ] || ! kill -0 "$pid" 2>/dev/null; then
			rm -f "$f"
		fi
	done
}

# A port for an sshd host, reserved for this rig.sh until its sshd listens.
free_port() { with_rig_lock reserve_ports 1 $$; }

valid_name() {
	[[ $1 =~ ^[a-z][a-z0-9]{0,9}$ ]] || die "host name '$1' must be 1-10 of [a-z0-9], starting with a letter"
}

# Index of a netns host, for its 10.213.N.0/30 link (project-owned test
# addresses); one not in use by a running host (call with the lock held).
netns_index_next() {
	local f=$RUN_DIR/netns-next idx i
	idx=$(cat "$f" 2>/dev/null || echo 1)
	for _ in $(seq 1 250); do
		i=$((idx % 250 + 1))
		idx=$((idx + 1))
		ip -o addr show to "10.213.$i.0/30" 2>/dev/null | grep -q . || break
	done
	echo "$idx" >"$f"
	echo "$i"
}
netns_index() { with_rig_lock netns_index_next; }

# The key, the docker group and the user of host NAME (removed at `down`:
# rig_accounts_remove), with a new empty home
# (a name comes back when a pid does: nothing of an earlier host's
# ~/.rdev or workspaces stays). Call with the lock held.
host_user() {
	local name=$1 hdir=$RUN_DIR/hosts/$1 user=rdev-$1
	rig_keys
	rm -rf "$hdir/home"
	mkdir -p "$hdir/home"
	getent group docker >/dev/null || groupadd docker
	if ! id "$user" >/dev/null 2>&1; then
		useradd -M -d "$hdir/home" -s /bin/bash -G docker -p '*' "$user" # '*': no password, but not "locked"
		return
	fi
	# (an account of another rig dir is that rig's: taking it over would let
	# this rig's `down` delete it under the other's running host)
	local home
	home=$(getent passwd "$user" | cut -d: -f6)
	[ "$home" = "$hdir/home" ] ||
		die "account $user belongs to another rig (home $home): use another host name"
}

# Remove the containers labelled as the dev containers of USER's uid
# (dev.rdev.owner_uid): a host that starts owns none. A container there is an
# earlier one's that no cleanup reached (a test killed, the dockerd stopped
# under it), either of this account (a name comes back when a pid does: its
# home is new too) or of a deleted one whose uid useradd gave to this new
# account (`down` removes the accounts, not the containers; the engine keeps
# them): `rdev ls HOST:~` would list it as this user's, and maxEnvironments-
# PerUser count it (pool-owners once saw a second container id so).
host_leftovers_remove() {
	local uid ids
	uid=$(id -u "$1") || return 0
	ids=$(timeout 20 docker ps -aq --filter "label=dev.rdev.owner_uid=$uid" 2>/dev/null) || return 0
	[ -n "$ids" ] || return 0
	if timeout 60 docker rm -f $ids >/dev/null 2>&1; then
		say "host ${1#rdev-}: removing $(wc -w <<<"$ids") container(s) an earlier host of uid $uid left"
	else
		say "host ${1#rdev-}: could not remove the container(s) an earlier host of uid $uid left: $ids"
	fi
}

rig_host_start() {
	local name=${1:?host name} netns=0 slow_rc=0 sftp=1 max_sessions=100 tcp_fwd=yes unix_fwd=yes
	local policy= rtt_ms=
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		--netns) netns=1 ;;
		--slow-bashrc) slow_rc=1 ;;
		--no-sftp) sftp=0 ;;
		--max-sessions) max_sessions=${2:?--max-sessions N}; shift ;;
		--no-streamlocal) unix_fwd=no ;;
		--no-forwarding) unix_fwd=no tcp_fwd=no ;;
		--locked-down) unix_fwd=no tcp_fwd=no sftp=0 max_sessions=1 ;;
		--policy) policy=${2:?--policy FILE}; shift ;;
		--rtt-ms) rtt_ms=${2:?--rtt-ms MS}; shift ;;
		*) die "host-start: unknown option $1" ;;
		esac
		shift
	done
	valid_name "$name"
	local hdir=$RUN_DIR/hosts/$name user=rdev-$name
	# (a pid file left by a test that was killed is not a running host)
	! kill -0 "$(cat "$hdir/sshd.pid" 2>/dev/null || echo none)" 2>/dev/null ||
		die "host $name is already running (rig.sh host-stop $name)"
	rig_host_stop "$name"
	with_rig_lock host_user "$name"
	host_leftovers_remove "$user"
	# Debian's bash reads ~/.bashrc for every command sshd runs: count them.
	{
		echo 'echo "$$ $(date +%s.%N)" >>"$HOME/.rdev-shells"'
		[ $slow_rc -eq 0 ] || echo 'sleep 0.3'
	} >"$hdir/home/.bashrc"
	chown "$user:" "$hdir/home" "$hdir/home/.bashrc"
	chmod 755 "$hdir/home"
	[ -s "$hdir/ssh_host_ed25519_key" ] ||
		ssh-keygen -q -t ed25519 -N '' -C "rig-$name" -f "$hdir/ssh_host_ed25519_key"
	cp "$RUN_DIR/keys/id_ed25519.pub" "$hdir/authorized_keys"
	mkdir -p /run/sshd
	chmod 755 /run/sshd

	local addr port exec_prefix=()
	if [ $netns -eq 1 ]; then
		local idx ns=rdev-$name
		idx=$(netns_index)
		ip netns add "$ns"
		echo "$ns" >"$hdir/netns"
		ip link add "rdvh-$name" type veth peer name "rdvn-$name"
		ip link set "rdvn-$name" netns "$ns"
		ip addr add "10.213.$idx.1/30" dev "rdvh-$name"
		ip link set "rdvh-$name" up
		ip -n "$ns" addr add "10.213.$idx.2/30" dev "rdvn-$name"
		ip -n "$ns" link set "rdvn-$name" up
		ip -n "$ns" link set lo up
		addr=10.213.$idx.2
		port=22
		exec_prefix=(ip netns exec "$ns")
	else
		addr=127.0.0.1
		port=$(free_port)
	fi
	cat >"$hdir/sshd_config" <<-EOF
	Port $port
	ListenAddress $addr
	HostKey $hdir/ssh_host_ed25519_key
	PidFile $hdir/sshd.daemon.pid
	AuthorizedKeysFile $hdir/authorized_keys
	AllowUsers $user
	StrictModes no
	UsePAM no
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	PubkeyAuthentication yes
	AllowTcpForwarding $tcp_fwd
	AllowStreamLocalForwarding $unix_fwd
	ClientAliveInterval 5
	MaxSessions $max_sessions
	MaxStartups 100
	LogLevel VERBOSE
	EOF
	[ $sftp -eq 0 ] || echo "Subsystem sftp internal-sftp" >>"$hdir/sshd_config"
	# (one SetEnv: sshd takes the first)
	local setenv
	setenv=$(rig_compose_env)
	[ -z "$policy" ] || setenv="RDEV_AGENT_POLICY=$policy${setenv:+ $setenv}"
	[ -z "$setenv" ] || echo "SetEnv $setenv" >>"$hdir/sshd_config"
	"${exec_prefix[@]}" /usr/sbin/sshd -D -e -f "$hdir/sshd_config" >"$hdir/sshd.log" 2>&1 &
	echo $! >"$hdir/sshd.pid"
	# The port stays reserved while this sshd runs (its listener shows too).
	[ $netns -eq 1 ] || echo $! >"$RUN_DIR/ports/$port"
	echo "$addr" >"$hdir/addr"
	echo "$port" >"$hdir/port"
	echo "$user" >"$hdir/user"
	# Known hosts and a client config, so tests can `ssh -F $hdir/ssh_config NAME`.
	local hostpat=$addr
	[ "$port" = 22 ] || hostpat="[$addr]:$port"
	printf '%s %s\n' "$hostpat" "$(cut -d' ' -f1,2 "$hdir/ssh_host_ed25519_key.pub")" \
		>"$hdir/known_hosts"
	cat >"$hdir/ssh_config" <<-EOF
	Host $name
	  HostName $addr
	  Port $port
	  User $user
	  IdentityFile $RUN_DIR/keys/id_ed25519
	  IdentitiesOnly yes
	  UserKnownHostsFile $hdir/known_hosts
	  GlobalKnownHostsFile /dev/null
	  StrictHostKeyChecking yes
	  BatchMode yes
	  LogLevel ERROR
	EOF
	local i cfg=$hdir/ssh_config
	if [ -n "$rtt_ms" ]; then
		cfg=$(rig_delay_proxy "$name" "$rtt_ms") || { rig_host_stop "$name"; exit 1; }
		mv "$cfg" "$hdir/ssh_config"
		cfg=$hdir/ssh_config
	fi
	for i in $(seq 1 100); do
		if ssh -F "$cfg" -o ConnectTimeout=2 "$name" true 2>/dev/null; then
			echo "$cfg"
			return 0
		fi
		kill -0 "$(cat "$hdir/sshd.pid")" 2>/dev/null || break
		sleep 0.1
	done
	tail -20 "$hdir/sshd.log" >&2 || true
	rig_host_stop "$name"
	die "host $name: sshd did not accept the test key (log above)"
}

# The delay proxy's program (tests/rig/delay-proxy.c), built by this
# machine's cc into the cache, named by its source's hash (a changed source
# is built anew; concurrent tests build it once, under a lock of its own).
rig_delay_proxy_bin() {
	local src=$RIG_SRC/tests/rig/delay-proxy.c bin
	bin=$CACHE_DIR/delay-proxy-$(sha256sum "$src" | cut -c1-16)
	if [ ! -x "$bin" ]; then
		mkdir -p "$CACHE_DIR"
		(
			flock 7
			[ -x "$bin" ] ||
				{ "${CC:-cc}" -O2 -Wall -Wextra -Werror -o "$bin.tmp.$$" "$src" >&2 &&
					mv "$bin.tmp.$$" "$bin"; } ||
				die "cannot build the delay proxy ($src)"
		) 7>"$CACHE_DIR/delay-proxy.lock"
	fi
	echo "$bin"
}

# A delay proxy of RTT MS in front of host NAME's sshd, on a port of its own
# (reserved while it runs); prints an ssh config for NAME through it. Its pid
# is in delay-<port>.pid in the host's folder (host-stop stops it), and the
# host's known_hosts gets the proxy's [127.0.0.1]:port.
rig_delay_proxy() {
	local name=${1:?host name} ms=${2:?round trip in ms} hdir=$RUN_DIR/hosts/$1 port pid i bin
	[[ $ms =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "delay-proxy: '$ms' is not a round trip in ms"
	[ -s "$hdir/port" ] || die "delay-proxy: host $name is not running"
	bin=$(rig_delay_proxy_bin)
	port=$(free_port)
	setsid "$bin" \
		"$port" "$(cat "$hdir/addr"):$(cat "$hdir/port")" "$ms" \
		</dev/null >"$hdir/delay-$port.out" 2>"$hdir/delay-$port.log" 9>&- &
	pid=$!
	echo "$pid" >"$hdir/delay-$port.pid"
	echo "$pid" >"$RUN_DIR/ports/$port"
	for i in $(seq 1 100); do
		grep -q '^listening' "$hdir/delay-$port.out" 2>/dev/null && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	grep -q '^listening' "$hdir/delay-$port.out" 2>/dev/null ||
		{ cat "$hdir/delay-$port.log" >&2; die "host $name: the delay proxy did not start"; }
	printf '[127.0.0.1]:%s %s\n' "$port" "$(cut -d' ' -f1,2 "$hdir/ssh_host_ed25519_key.pub")" \
		>>"$hdir/known_hosts"
	sed -e "s/^  HostName .*/  HostName 127.0.0.1/" -e "s/^  Port .*/  Port $port/" \
		"$hdir/ssh_config" >"$hdir/ssh_config.rtt$ms"
	echo "$hdir/ssh_config.rtt$ms"
}

# Freeze or thaw host NAME's delay proxies (one thread each: a stopped
# process moves no byte; the kernel still queues what it can).
rig_delay_freeze() {
	local name=${1:?host name} how=${2:?on or off} hdir=$RUN_DIR/hosts/$1 f sig n=0
	case $how in
	on) sig=STOP ;;
	off) sig=CONT ;;
	*) die "delay-freeze: '$how' is not on or off" ;;
	esac
	for f in "$hdir"/delay-*.pid; do
		[ -s "$f" ] || continue
		kill -"$sig" "$(cat "$f")" && n=$((n + 1))
	done
	[ "$n" -gt 0 ] || die "delay-freeze: host $name has no delay proxy (host-start --rtt-ms)"
}

# pid_alive PID: the process runs (a zombie has ended: pid.sh).
. "$(dirname "${BASH_SOURCE[0]}")/pid.sh"

# Kill a pid we recorded, and wait for it to end.
kill_recorded() {
	local pidfile=$1 pid
	[ -s "$pidfile" ] || return 0
	pid=$(cat "$pidfile")
	if pid_alive "$pid"; then
		kill -CONT "$pid" 2>/dev/null || true # (a frozen delay proxy)
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 1 100); do
			pid_alive "$pid" || break
			sleep 0.1
		done
		! pid_alive "$pid" || kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$pidfile"
}

rig_host_stop() {
	local name=${1:?host name} hdir=$RUN_DIR/hosts/$1
	[ -d "$hdir" ] || return 0
	local f
	for f in "$hdir"/delay-*.pid; do
		[ -e "$f" ] && kill_recorded "$f"
	done
	kill_recorded "$hdir/sshd.pid"
	if [ -s "$hdir/netns" ]; then
		ip link del "rdvh-$name" 2>/dev/null || true
		ip netns del "$(cat "$hdir/netns")" 2>/dev/null || true
		rm -f "$hdir/netns"
	fi
}

rig_host_link() {
	local name=${1:?host name} state=${2:?up or down}
	[ -s "$RUN_DIR/hosts/$name/netns" ] || die "host $name has no network namespace (start it with --netns)"
	ip link set "rdvh-$name" "$state"
}

# The OCI registry: answering on its recorded port, by the pid we recorded.
registry_running() {
	local d=$RUN_DIR/registry
	[ -s "$d/pid" ] && [ -s "$d/port" ] && kill -0 "$(cat "$d/pid")" 2>/dev/null &&
		curl -s -o /dev/null -m 5 "http://127.0.0.1:$(cat "$d/port")/v2/"
}

registry_start() {
	local d=$RUN_DIR/registry port pid
	if ! registry_running; then
		mkdir -p "$d/files"
		port=$(reserve_ports 1 $$)
		setsid python3 "$RIG_SRC/tests/rig/oci-registry.py" "$d" "$port" \
			</dev/null >>"$d/server.log" 2>&1 9>&- &
		pid=$!
		echo "$pid" >"$d/pid"
		echo "$pid" >"$RUN_DIR/ports/$port"
		echo "$port" >"$d/port"
		for _ in $(seq 1 100); do
			registry_running && break
			sleep 0.1
		done
		registry_running || die "the OCI registry did not start (see $d/server.log)"
		say "OCI registry on localhost:$port"
	fi
	echo "localhost:$(cat "$d/port")"
}

rig_registry() { with_rig_lock registry_start; }

rig_registry_publish() {
	local ns=${1:?namespace} src=${2:?source folder} reg
	reg=$(rig_registry)
	(cd "$src/.." && "$DEVCONTAINER_CLI" features publish -r "$reg" -n "$ns" "$src") \
		>"$RUN_DIR/registry/publish.log" 2>&1 ||
		die "features publish failed (see $RUN_DIR/registry/publish.log)"
}

# The accounts host_user made for this rig's hosts that no running host
# uses: rdev-NAME with the home run/hosts/NAME/home (an account by hand, or
# another rig's, has another home). One a line.
rig_accounts() {
	local user name
	getent passwd | awk -F: -v hosts="$RUN_DIR/hosts/" '
		$1 ~ /^rdev-/ && $6 == hosts substr($1, 6) "/home" { print $1 }' |
		while read -r user; do
			name=${user#rdev-}
			pid_alive "$(cat "$RUN_DIR/hosts/$name/sshd.pid" 2>/dev/null || echo none)" ||
				echo "$user"
		done
}

# Remove those accounts (their user groups go with them) and their homes:
# what still runs as one (an agent left by a test, a session sshd left) is
# ended first, userdel refuses an account in use. Call with the lock held.
rig_accounts_remove() {
	local user n=0 left=
	for user in $(rig_accounts); do
		pkill -KILL -u "$user" 2>/dev/null || true
		for _ in $(seq 1 50); do
			userdel "$user" 2>/dev/null && break
			sleep 0.1
		done
		if id "$user" >/dev/null 2>&1; then
			left+=" $user"
		else
			rm -rf "$RUN_DIR/hosts/${user#rdev-}/home"
			n=$((n + 1))
		fi
	done
	[ $n -eq 0 ] || say "removed $n host account(s)"
	[ -z "$left" ] || say "could not remove account(s):$left"
}

rig_down() {
	local h
	if [ -d "$RUN_DIR/hosts" ]; then
		for h in "$RUN_DIR"/hosts/*/; do
			[ -d "$h" ] && rig_host_stop "$(basename "$h")"
		done
	fi
	with_rig_lock rig_accounts_remove
	if [ -s "$RUN_DIR/registry/pid" ]; then
		kill_recorded "$RUN_DIR/registry/pid"
	fi
	if [ -s "$RUN_DIR/dockerd.pid" ]; then
		say "stopping the dockerd this rig started"
		kill_recorded "$RUN_DIR/dockerd.pid"
	fi
}

# Debian's docker-compose (Compose v1, a Python program) imports distutils,
# and setuptools' shim (distutils-precedence.pth) then imports setuptools and
# pkg_resources first: about half of each run's CPU (0.7 -> 0.3 CPU-s here),
# and rdev runs it three or four times an up. SETUPTOOLS_USE_DISTUTILS=stdlib
# has the interpreter's own distutils serve (Python 3.11 and older have one;
# the output is the same): printed, for the environment of the tests and of
# the rig hosts' sessions, when docker-compose's interpreter has it.
# The interpreter's answer (a python3 start, 20 ms of CPU, and every e2e test
# asks through lib.sh's rig.sh env) is kept in run/compose-env, keyed on the
# paths and mtimes of docker-compose and its interpreter (a changed install
# is asked again); an environment that has the setting already (tests/run.sh
# exports it before the tests) is not asked at all.
rig_compose_env() {
	local dc line py key k a f=$RUN_DIR/compose-env
	if [ "${SETUPTOOLS_USE_DISTUTILS-}" = stdlib ]; then
		echo SETUPTOOLS_USE_DISTUTILS=stdlib
		return 0
	fi
	dc=$(command -v docker-compose 2>/dev/null) || return 0
	IFS= read -r line <"$dc" || true
	[[ $line =~ ^\#!\ *([^ ]*python3[^ ]*) ]] || return 0
	py=${BASH_REMATCH[1]}
	key=$(stat -L -c '%n %Y' -- "$dc" "$py" 2>/dev/null) || return 0
	key=${key//$'\n'/ }
	if [ -s "$f" ] && { IFS= read -r k && IFS= read -r a; } <"$f" && [ "$k" = "$key" ]; then
		[ "$a" != stdlib ] || echo SETUPTOOLS_USE_DISTUTILS=stdlib
		return 0
	fi
	a=none
	! "$py" -S -c 'import distutils.spawn' 2>/dev/null || a=stdlib
	# (written whole, then renamed: a reader never sees half of it)
	mkdir -p "$RUN_DIR" 2>/dev/null &&
		printf '%s\n%s\n' "$key" "$a" >"$f.$$" 2>/dev/null &&
		mv -f "$f.$$" "$f" 2>/dev/null || rm -f "$f.$$"
	[ "$a" != stdlib ] || echo SETUPTOOLS_USE_DISTUTILS=stdlib
}
rig_compose_export() {
	local e
	e=$(rig_compose_env)
	[ -z "$e" ] || echo "export $e"
}

rig_env() {
	rig_compose_export
	cat <<-EOF
	export RDEV_RIG_DIR=$RIG_DIR
	export RDEV_RIG_IMAGE_BOOKWORM=$IMG_BOOKWORM
	export RDEV_RIG_IMAGE_BOOKWORM_DEV=$IMG_BOOKWORM_DEV
	export RDEV_RIG_IMAGE_BOOKWORM_META=$IMG_BOOKWORM_META
	export RDEV_RIG_IMAGE_BUSYBOX=$IMG_BUSYBOX
	export RDEV_DEVCONTAINER_CLI=$DEVCONTAINER_CLI
	export RDEV_RIG_CLIENT_KEY=$RUN_DIR/keys/id_ed25519
	EOF
	if registry_running; then
		echo "export RDEV_RIG_REGISTRY=localhost:$(cat "$RUN_DIR/registry/port")"
		echo "export RDEV_RIG_REGISTRY_DIR=$RUN_DIR/registry"
	fi
}

cmd=${1:-}
shift || true
case $cmd in
up) rig_deps; rig_docker; rig_images; rig_devcontainer_cli; rig_keys; rig_registry >/dev/null
	SETUPTOOLS_USE_DISTUTILS= rig_compose_env >/dev/null ;; # (asked once now, kept)
registry) rig_registry ;;
registry-publish) rig_registry_publish "$@" ;;
deps) rig_deps ;;
docker) rig_docker ;;
images) rig_docker; rig_images ;;
devcontainer-cli) rig_devcontainer_cli ;;
host-start) rig_host_start "$@" ;;
host-stop) rig_host_stop "$@" ;;
delay-proxy-bin) rig_delay_proxy_bin ;;
delay-proxy) rig_delay_proxy "$@" ;;
delay-freeze) rig_delay_freeze "$@" ;;
host-link) rig_host_link "$@" ;;
ports) rig_ports "$@" ;;
ports-release) rig_ports_release "$@" ;;
down) rig_down ;;
accounts) rig_accounts ;;
env) rig_env ;;
compose-env) rig_compose_export ;;
*) sed -n '2,/^# State:/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac
