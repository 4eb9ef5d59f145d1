#!/usr/bin/env bash
# up-faults.sh - faults during `up`, for real: the agent killed (SIGKILL) or
# interrupted (SIGINT) in the middle of postCreateCommand, then `up` again:
# it completes and postCreateCommand ran to success exactly once; two
# concurrent `up`s of one workspace make one container.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
export RDEV_STATE_DIR=$TEST_TMP/state

# make_ws NAME: a workspace whose postCreateCommand, once started, waits
# for the file go in the workspace (made by the test; 60 s at most), then
# says it succeeded. (A fixed 3 s sleep could end, and the up succeed,
# before a loaded machine saw it start and delivered the signal.)
make_ws() {
	local ws=$TEST_TMP/$1
	mkdir -p "$ws"
	cat >"$ws/.devcontainer.json" <<JSON
{
  "image": "$RDEV_RIG_IMAGE_BUSYBOX",
  "postCreateCommand": "echo started >> /tmp/pc.starts; i=0; while [ ! -e /workspaces/$1/go ] && [ \$i -lt 600 ]; do sleep 0.1; i=\$((i + 1)); done; echo ok >> /tmp/pc.success",
  "waitFor": "postCreateCommand"
}
JSON
	echo "$ws"
}
container_of() { docker ps -aq --no-trunc --filter "label=devcontainer.local_folder=$1"; }
cleanup_all() {
	docker ps -aq --filter "label=devcontainer.local_folder" --filter "label=dev.rdev.devcontainer_id" |
		while read -r c; do
			case $(docker inspect -f '{{index .Config.Labels "devcontainer.local_folder"}}' "$c") in
			"$TEST_TMP"/*) docker rm -f "$c" >/dev/null ;;
			esac
		done
}
trap 'cleanup_all; rig_test_cleanup' EXIT

# pc_shell_gone CID: no process in the container runs the postCreateCommand
# (a docker exec that fails says nothing: not gone).
pc_shell_gone() {
	local ps
	ps=$(docker exec "$1" ps -o args) && ! grep -q pc.success <<<"$ps"
}
# kill_during_postcreate SIGNAL: start up, wait until postCreateCommand runs,
# deliver SIGNAL to the agent, then check that the next up repairs it.
kill_during_postcreate() {
	local sig=$1 ws pid cid
	ws=$(make_ws "ws-$sig")
	env --default-signal=INT "$RDEV_BIN_DIR/rdev-agent" up "$ws" >/dev/null 2>&1 &
	pid=$!
	for _ in $(seq 1 300); do
		cid=$(container_of "$ws")
		[ -n "$cid" ] && docker exec "$cid" test -e /tmp/pc.starts 2>/dev/null && break
		sleep 0.1
	done
	[ -n "$cid" ] || fail "$sig: postCreateCommand never started"
	kill "-$sig" "$pid"
	set +e
	wait "$pid"
	local rc=$?
	set -e
	check "SIG$sig: the interrupted up did not report success" test "$rc" -ne 0
	# Until its shell, the one that would write pc.success, is gone (were it
	# not stopped, it would still wait for go).
	EVENTUALLY_SECONDS=10 eventually "SIG$sig: the postCreateCommand's shell is gone" \
		pc_shell_gone "$cid"
	check "SIG$sig: the half-run postCreateCommand was stopped with its agent" \
		sh -c "docker exec '$cid' true && ! docker exec '$cid' test -e /tmp/pc.success"
	touch "$ws/go"
	out=$(rdev_agent up "$ws" 2>"$TEST_TMP/up-$sig.err") || { cat "$TEST_TMP/up-$sig.err"; fail "SIG$sig: second up failed"; }
	check_eq "SIG$sig: the next up completes on the same container" \
		"$(printf '%s' "$out" | jq -r .containerId)" "$cid"
	check_eq "SIG$sig: postCreateCommand succeeded exactly once" \
		"$(docker exec "$cid" cat /tmp/pc.success | wc -l)" 1
	check_eq "SIG$sig: and was retried once" "$(docker exec "$cid" cat /tmp/pc.starts | wc -l)" 2
	out=$(rdev_agent up "$ws" 2>/dev/null)
	check_eq "SIG$sig: a third up does not run it again" \
		"$(docker exec "$cid" cat /tmp/pc.success | wc -l)" 1
}
kill_during_postcreate KILL
kill_during_postcreate INT

# Two concurrent ups of one workspace: one container, both succeed.
ws=$(make_ws ws-concurrent)
# (go comes 3 s on: the second up comes while the first one's
# postCreateCommand runs, or after it)
(sleep 3 && touch "$ws/go") &
rdev_agent up "$ws" >"$TEST_TMP/a.json" 2>/dev/null &
a=$!
rdev_agent up "$ws" >"$TEST_TMP/b.json" 2>/dev/null &
b=$!
wait "$a" || fail "first concurrent up failed"
wait "$b" || fail "second concurrent up failed"
check_eq "concurrent ups: one container" "$(container_of "$ws" | wc -l)" 1
check_eq "concurrent ups: both name it" "$(jq -r .containerId "$TEST_TMP/a.json")" "$(jq -r .containerId "$TEST_TMP/b.json")"
check_eq "concurrent ups: postCreateCommand ran once" \
	"$(docker exec "$(container_of "$ws")" cat /tmp/pc.success | wc -l)" 1
finish
