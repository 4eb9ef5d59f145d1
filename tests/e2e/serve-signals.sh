#!/usr/bin/env bash
# serve-signals.sh - `rdev-agent serve` over a real SSH exec channel: the
# `signal` op (INT/TERM/KILL give 128+N, a shell on a TTY runs its INT trap,
# as root and as a non-root remoteUser), and a client that goes away leaves
# nothing behind: the execs' processes (with and without a TTY, children
# that ignore SIGHUP) and the serve processes are gone within 5 s, whether
# the ssh client is killed, only its channel is closed on a connection that
# stays (an OpenSSH ControlMaster, as the broker keeps one session), or the
# client sends CLOSE on each channel. The rig hosts run on this machine, so
# pgrep sees the containers' processes. The client is proto_client.py.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker

name=$(rig_host_name g)
cfg=$(rig_host "$name")
on_host() { ssh -F "$cfg" "$name" "$@"; }
home=$(on_host 'echo $HOME')
run=sig$$
cm=$TEST_TMP/cm

on_host "mkdir -p ~/$run/bin && cat > ~/$run/bin/rdev-agent && chmod 755 ~/$run/bin/rdev-agent" \
	<"$RDEV_BIN_DIR/rdev-agent"
on_host "mkdir -p ~/$run/bb ~/$run/dev &&
	printf '%s' '{\"image\": \"$RDEV_RIG_IMAGE_BUSYBOX\", \"updateRemoteUserUID\": false}' > ~/$run/bb/.devcontainer.json &&
	printf '%s' '{\"image\": \"$RDEV_RIG_IMAGE_BOOKWORM_DEV\", \"remoteUser\": \"dev\", \"updateRemoteUserUID\": false}' > ~/$run/dev/.devcontainer.json"

cleanup() {
	local ws
	ssh -F "$cfg" -o ControlPath="$cm" -O exit "$name" 2>/dev/null || true
	for ws in bb dev; do
		docker ps -aq --filter "label=devcontainer.local_folder=$home/$run/$ws" |
			xargs -r docker rm -f >/dev/null
	done
	on_host "rm -rf ~/$run" || true
	rig_test_cleanup
}
trap cleanup EXIT

agent_path=$home/$run/bin/rdev-agent
agent=(ssh -F "$cfg" "$name" "$agent_path" serve)
client=$RDEV_SOURCE_DIR/tests/e2e/proto_client.py

# client MODE ARGS...: run a proto_client.py mode; its checks count as ours.
client() {
	python3 "$client" "$@" | tee "$TEST_TMP/client.out"
	[ "${PIPESTATUS[0]}" = 0 ] || fail "proto_client.py $1 failed"
	CHECKS_PASSED=$((CHECKS_PASSED + $(grep -c '^ok ' "$TEST_TMP/client.out")))
}

client signals "~/$run/bb" root -- "${agent[@]}"
client signals "~/$run/dev" dev -- "${agent[@]}"

# The execs sleep BASE..BASE+23 seconds, numbers of this test's own (they are
# looked for among all of this machine's processes).
base=$((1000000 + $$ * 30))
# The ssh client killed: the connection drops.
client vanish "~/$run/bb" "$base" kill "$agent_path" -- "${agent[@]}"
# Only the channel closed, the connection stays (as the broker's session).
ssh -F "$cfg" -o ControlMaster=yes -o ControlPath="$cm" -o ControlPersist=no -N -f "$name" ||
	fail "cannot start an ssh ControlMaster"
client vanish "~/$run/dev" "$((base + 10))" kill "$agent_path" -- \
	ssh -F "$cfg" -o ControlMaster=no -o ControlPath="$cm" "$name" "$agent_path" serve
check "the ControlMaster connection is still up" \
	ssh -F "$cfg" -o ControlPath="$cm" -O check "$name"
# The client gives up on each exec with CLOSE and stays.
client vanish "~/$run/bb" "$((base + 20))" close "$agent_path" -- "${agent[@]}"
finish
