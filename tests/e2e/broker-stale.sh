#!/usr/bin/env bash
# broker-stale.sh - a broker left running by an older build of the same
# install is named, not restarted: rdev, rdev-broker and their siblings are
# copied into an install folder of this test's; rdev-broker there is replaced
# by a copy with a new inode (cp + mv, as a package upgrade does). Each rdev
# command then prints one warning line naming the broker's pid, the path and
# `rdev-broker restart`, and runs against the old broker as before; rdev of
# another install (another path) says nothing. The check reads the broker's
# pid file (RUNTIME/broker.pid) and never connects: a stopped (SIGSTOP) broker
# does not delay it; no pid file, or a dead pid in it, means no warning.
# `rdev doctor` gives it as a warning of its broker check, with that fix.
# `rdev-broker restart` switches: a new broker of the new file, the forward
# answers through it, the live sync (`up --sync`) goes on, and the warning is
# gone.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker

rig_remote_host bs
base=$(rig_ports 2)
p_web=$base l_web=$((base + 1))

on_host "mkdir -p ~/ws && cat > ~/ws/.devcontainer.json" <<JSON
{ "image": "$RDEV_RIG_IMAGE_BUSYBOX", "updateRemoteUserUID": false }
JSON
sync_rel= stopped_pid=
cleanup() {
	[ -z "$stopped_pid" ] || kill -CONT "$stopped_pid" 2>/dev/null || true
	rig_remote_cleanup ws ${sync_rel:+"$sync_rel"}
}
trap cleanup EXIT

# The install: copies (not links: /proc/PID/exe names the file run), and
# the agent bundle where rdev-broker looks for it (next to itself).
inst=$TEST_TMP/inst
mkdir -p "$inst"
for p in rdev rdev-broker rdev-agent rdev-relay; do
	cp "$RDEV_BIN_DIR/$p" "$inst/$p"
done
[ ! -d "$RDEV_BIN_DIR/agent-bundle" ] || ln -s "$RDEV_BIN_DIR/agent-bundle" "$inst/agent-bundle"
rd() { "$inst/rdev" "$@"; }
rb() { "$inst/rdev-broker" "$@"; }
broker_pid() { rb status --json | jq -r .pid; }
broker_exe() { readlink "/proc/$1/exe"; }
web_ok() { [ "$(curl -sf --max-time 20 "http://127.0.0.1:$l_web/q")" = web-answers ]; }
# upgrade: rdev-broker of the install replaced by a new file, the old one
# still running.
upgrade() {
	cp "$inst/rdev-broker" "$inst/.rdev-broker.new"
	mv "$inst/.rdev-broker.new" "$inst/rdev-broker"
}

rd up "$name:~/ws" --accept-new-host-key >"$TEST_TMP/up.out" 2>"$TEST_TMP/up.err" ||
	{ cat "$TEST_TMP/up.err" >&2; fail "rdev up failed"; }
cid=$(jq -r .containerId "$TEST_TMP/up.out")
docker exec "$cid" sh -c "mkdir -p /www && echo web-answers > /www/q && httpd -p 127.0.0.1:$p_web -h /www"
rd forward "$name:~/ws" "$l_web:$p_web" 2>"$TEST_TMP/fwd.err" ||
	{ cat "$TEST_TMP/fwd.err" >&2; fail "rdev forward"; }
check "the forward answers" web_ok
# A live sync (`up --sync`), kept by the broker over a connection of its own:
# saved and resumed by the next broker.
app=$TEST_TMP/app
mkdir -p "$app"
echo "{ \"image\": \"$RDEV_RIG_IMAGE_BUSYBOX\", \"updateRemoteUserUID\": false }" \
	>"$app/.devcontainer.json"
echo one >"$app/f.txt"
rd up "$name:" "$app" --sync --json >"$TEST_TMP/up2.json" 2>"$TEST_TMP/up2.err" ||
	{ cat "$TEST_TMP/up2.err" >&2; fail "rdev up --sync"; }
sws=$(jq -r .remoteWorkspaceFolder "$TEST_TMP/up2.json")
sync_rel=rdev/workspaces/${sws#/workspaces/}
scid=$(docker ps -q --filter "label=devcontainer.local_folder=$home/$sync_rel")
[ -n "$scid" ] || fail "no container for the synced workspace"
synced() { [ "$(docker exec -w "$sws" "$scid" cat "$1" 2>/dev/null)" = "$2" ]; }
sync_state() { [ "$(rb status --json | jq -r '.syncs[0].state')" = "$1" ]; }
eventually "the sync is watching" sync_state watching
echo two >"$app/f.txt"
eventually "an edit arrives" synced f.txt two

pidfile=$RDEV_RUNTIME_DIR/broker.pid
pid0=$(broker_pid)
check_eq "the broker runs the install's rdev-broker" "$(broker_exe "$pid0")" "$inst/rdev-broker"
check_eq "its pid file names it" "$(cat "$pidfile")" "$pid0"
rd forward --list >/dev/null 2>"$TEST_TMP/same.err"
check "the same build: nothing said" test ! -s "$TEST_TMP/same.err"

upgrade
check_eq "after the upgrade the broker runs the old file" \
	"$(broker_exe "$pid0")" "$inst/rdev-broker (deleted)"

# --- an older build: one warning, the command runs against it ---------------------
warning="^rdev: warning: rdev-broker (pid $pid0) runs an older build of $inst/rdev-broker: \`$inst/rdev-broker restart\` switches to this one"
rd forward --list --json >"$TEST_TMP/list0.json" 2>"$TEST_TMP/old.err" ||
	{ cat "$TEST_TMP/old.err" >&2; fail "rdev forward --list with the old broker"; }
check_eq "one warning line" "$(wc -l <"$TEST_TMP/old.err")" 1
check "naming the pid, the path and rdev-broker restart" grep -q "$warning" "$TEST_TMP/old.err"
check "the command still works against the old broker" \
	jq -e "map(select(.local == $l_web)) | length == 1" "$TEST_TMP/list0.json"
check_eq "which is not restarted" "$(broker_pid)" "$pid0"
check "and still forwards" web_ok

# doctor names it too: a warning (exit 1 at least), with the fix, not "ok running"
doctor_broker() { jq -c '.checks[] | select(.name == "broker")' "$TEST_TMP/doctor.json"; }
set +e
rd doctor --json >"$TEST_TMP/doctor.json" 2>/dev/null
drc=$?
set -e
check "doctor: the broker check warns ($(doctor_broker))" \
	jq -e --arg exe "$inst/rdev-broker" --arg pid "$pid0" '.checks[] | select(.name == "broker") |
	.status == "warn" and (.detail | contains("pid \($pid), ") and endswith("an older build of \($exe)")) and
	(.fix | startswith("\($exe) restart: it switches to this one ("))' "$TEST_TMP/doctor.json"
check "doctor: exits with a warning's status at least ($drc)" test "$drc" -ge 1

# --- another install's rdev: not its broker ----------------------------------------
"$RDEV_BIN_DIR/rdev" forward --list >/dev/null 2>"$TEST_TMP/other.err"
check "rdev of another path says nothing about it" test ! -s "$TEST_TMP/other.err"

# --- the check never connects: a stopped broker delays nothing ---------------------
kill -STOP "$pid0"
stopped_pid=$pid0
set +e
timeout 20 "$inst/rdev" read-configuration "$app" >/dev/null 2>"$TEST_TMP/stopped.err"
rc=$?
set -e
kill -CONT "$pid0"
stopped_pid=
check "a command that needs no broker is not held by a stopped one" test "$rc" != 124
check "and still warns" grep -q "$warning" "$TEST_TMP/stopped.err"

# --- no pid file, or a dead pid in it: nothing said --------------------------------
mv "$pidfile" "$TEST_TMP/broker.pid.saved"
rd read-configuration "$app" >/dev/null 2>"$TEST_TMP/nopid.err" || true
check "no pid file: no warning" sh -c "! grep -q 'rdev-broker' '$TEST_TMP/nopid.err'"
sh -c 'exit 0' &
dead=$!
wait "$dead" || true
echo "$dead" >"$pidfile"
rd read-configuration "$app" >/dev/null 2>"$TEST_TMP/dead.err" || true
check "a dead pid: no warning" sh -c "! grep -q 'rdev-broker' '$TEST_TMP/dead.err'"
mv "$TEST_TMP/broker.pid.saved" "$pidfile"

# --- rdev-broker restart ------------------------------------------------------------
rb restart >"$TEST_TMP/restart.out" 2>"$TEST_TMP/restart.err" ||
	{ cat "$TEST_TMP/restart.err" >&2; fail "rdev-broker restart"; }
check_eq "rdev-broker restart says restarted" "$(cat "$TEST_TMP/restart.out")" restarted
pid1=$(broker_pid)
check "a new broker runs" test "$pid1" != "$pid0"
check_eq "the new file" "$(broker_exe "$pid1")" "$inst/rdev-broker"
check_eq "its pid file names it" "$(cat "$pidfile")" "$pid1"
# (a zombie until whoever adopted it reaps it)
gone() { [ ! -e "/proc/$1" ] || grep -q '^State:.*Z' "/proc/$1/status"; }
eventually "the old one is gone" gone "$pid0"
eventually "the forward answers through the new broker" web_ok
eventually "the sync is resumed by the new broker" sync_state watching
echo three >"$app/f.txt"
eventually "and an edit made after the restart arrives" synced f.txt three
rd forward --list >/dev/null 2>"$TEST_TMP/after.err"
check "the warning is gone" test ! -s "$TEST_TMP/after.err"
rd doctor --json >"$TEST_TMP/doctor.json" 2>/dev/null || true
check "doctor: the broker is ok again ($(doctor_broker))" \
	jq -e '.checks[] | select(.name == "broker") | .status == "ok"' "$TEST_TMP/doctor.json"
check_eq "and the new broker kept" "$(broker_pid)" "$pid1"
rb stop >/dev/null
check "a clean stop removes the pid file" test ! -e "$pidfile"
finish
