#!/usr/bin/env bash
# serve-ssh.sh - `rdev-agent serve` over a real SSH exec channel, as the broker
# will run it: HELLO, version, info, read-configuration of a workspace in the
# host user's home, up with progress events, exec with stdin/stdout/stderr on
# channels and the exit status, two execs at once, ls/logs/stop/down, a clean
# end on end of input (containers stay), FATAL on a version mismatch. The
# client is tests/e2e/proto_client.py.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker

name=$(rig_host_name v)
cfg=$(rig_host "$name")
on_host() { ssh -F "$cfg" "$name" "$@"; }
home=$(on_host 'echo $HOME')
run=serve$$

# The agent binary goes into the host user's home: the build tree may not be
# readable by the rig user.
on_host "mkdir -p ~/$run/bin && cat > ~/$run/bin/rdev-agent && chmod 755 ~/$run/bin/rdev-agent" \
	<"$RDEV_BIN_DIR/rdev-agent"
on_host "mkdir -p ~/$run/ws ~/$run/bb ~/$run/bb2 &&
	printf '%s' '{\"image\": \"$RDEV_RIG_IMAGE_BOOKWORM\", // a comment
	}' > ~/$run/ws/.devcontainer.json &&
	printf '%s' '{\"image\": \"$RDEV_RIG_IMAGE_BUSYBOX\", \"updateRemoteUserUID\": false}' > ~/$run/bb/.devcontainer.json &&
	cp ~/$run/bb/.devcontainer.json ~/$run/bb2/"

cleanup() {
	docker ps -aq --filter "label=devcontainer.local_folder=$home/$run/bb" |
		xargs -r docker rm -f >/dev/null
	docker ps -aq --filter "label=devcontainer.local_folder=$home/$run/bb2" |
		xargs -r docker rm -f >/dev/null
	on_host "rm -rf ~/$run" || true
	rig_test_cleanup
}
trap cleanup EXIT

agent=(ssh -F "$cfg" "$name" "$home/$run/bin/rdev-agent" serve)
client=$RDEV_SOURCE_DIR/tests/e2e/proto_client.py

# client MODE ARGS...: run a proto_client.py mode; its checks count as ours.
client() {
	python3 "$client" "$@" | tee "$TEST_TMP/client.out" || fail "proto_client.py $1 failed"
	CHECKS_PASSED=$((CHECKS_PASSED + $(grep -c '^ok ' "$TEST_TMP/client.out")))
}

client scenario "~/$run/ws" "~/$run/bb" -- "${agent[@]}"
client up-and-leave "~/$run/bb2" -- "${agent[@]}"
cid=$(docker ps -q --filter "label=devcontainer.local_folder=$home/$run/bb2")
check "the container stays after serve ended" test -n "$cid"
check_eq "and it is running" "$(docker inspect -f '{{.State.Running}}' "$cid")" true

client mismatch -- "${agent[@]}"
finish
