#!/usr/bin/env bash
# pool-idle.sh - idle reclaim on a real sshd host of the rig: `up
# --idle-stop 2s` arms the host's watch (rdev-agent idle-watch, detached:
# it outlives the agent's session); an exec that runs longer than that
# keeps the container running; once unused it is stopped; `up` resumes it
# and the watch comes back with it; the host policy's idleStop is the most
# a user may ask for (1h asked, the policy's 4s applied, with a warning);
# `down` removes the watch's files on the host.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker

rig_remote_host pi
shared=$(rig_shared_folder)
mkdir -p "$shared/ws"
printf '{"hostId": "%s", "idleStop": "4s"}\n' "$name" >"$shared/policy.json"
bash "$RIG" host-stop "$name"
cfg=$(bash "$RIG" host-start "$name" --policy "$shared/policy.json")
printf '{"image": "%s"}\n' "$RDEV_RIG_IMAGE_BUSYBOX" >"$shared/ws/.devcontainer.json"
chmod -R a+rX "$shared"
cleanup() {
	local rc=$?
	set +e
	rig_remove_host_containers "$name"
	(exit $rc)
	rig_test_cleanup
}
trap cleanup EXIT
running() { [ "$(docker inspect -f '{{.State.Running}}' "$cid")" = "$1" ]; }
watches() { pgrep -u "$(cat "$hdir/user")" -f "rdev-agent idle-watch $cid" | wc -l; }
# Asked again at each try (eventually runs a command; "$(watches)" in its
# arguments would be counted once). A watch that ends may show twice for a
# moment under ASan: LeakSanitizer's tracer is a clone of it.
no_watches() { [ "$(watches)" = 0 ]; }

rdev up "$name:$shared/ws" --idle-stop 3s >"$TEST_TMP/up.json" 2>"$TEST_TMP/up.err" ||
	{ cat "$TEST_TMP/up.err" >&2; fail "up --idle-stop failed"; }
cid=$(jq -r .containerId "$TEST_TMP/up.json")
# An exec three times the limit keeps it in use. (Started at once: under
# ASan and load the checks below took most of a 2 s limit, and the container
# was stopped, unused, before the exec came.)
rdev exec "$name:$shared/ws" -- sleep 9 &
xpid=$!
t_exec=$(date +%s)
# (Waited for: the watch is a grandchild of the agent, not waited for,
# with the agent's command line until its exec, which a loaded machine
# may not have run yet when up returns.)
one_watch() { [ "$(watches)" = 1 ]; }
eventually "up --idle-stop: one watch of the container on the host" one_watch
check "--idle-stop needs a duration" sh -c "! '$RDEV_BIN_DIR/rdev' up '$name:$shared/ws' --idle-stop soon 2>/dev/null"
while [ $(($(date +%s) - t_exec)) -lt 7 ]; do sleep 0.2; done
check "an exec running longer than the limit keeps it running" running true
wait $xpid
eventually "once unused for the limit, it is stopped" running false
eventually "... and its watch ends" no_watches
rdev up "$name:$shared/ws" >"$TEST_TMP/up2.json" 2>"$TEST_TMP/up.err" ||
	{ cat "$TEST_TMP/up.err" >&2; fail "up (resume) failed"; }
check_eq "up resumes it: the same container" "$(jq -r .containerId "$TEST_TMP/up2.json")" "$cid"
check "... running" running true
eventually "... watched again, and stopped again once unused" running false
# The policy's idleStop (4s) is the most: 1h asked, 4s applied.
t0=$(date +%s)
rdev up "$name:$shared/ws" --idle-stop 1h >/dev/null 2>"$TEST_TMP/up.err" ||
	{ cat "$TEST_TMP/up.err" >&2; fail "up --idle-stop 1h failed"; }
check "... saying so, naming the policy's" \
	grep -q "warning: --idle-stop 3600s is more than this host's policy allows (idleStop 4s)" "$TEST_TMP/up.err"
eventually "--idle-stop beyond the policy's idleStop: the policy's applies" running false
check "... (stopped within $(($(date +%s) - t0)) s)" test $(($(date +%s) - t0)) -lt 20
# `down` takes the watch's files (its limit and lock) with the container.
idle_files() { on_host "ls ~/.rdev/state/idle/ 2>/dev/null" | grep -c "^$cid\." || true; }
check_eq "the watch's files are on the host" "$(idle_files)" 2
rdev down "$name:$shared/ws" >/dev/null 2>"$TEST_TMP/down.err" ||
	{ cat "$TEST_TMP/down.err" >&2; fail "down failed"; }
check_eq "down: the watch's files are gone" "$(idle_files)" 0
finish
