#!/usr/bin/env bash
# broker-restore.sh - a killed broker loses nothing: forwards (forwardPorts of
# `rdev up`, `rdev forward TARGET SPEC`) and `--auto` watches are saved in
# RUNTIME/state.json and come back when the next broker starts (here started
# by `rdev forward --list`, which starts one when forwards are saved). After
# kill -9 the ports answer again and a port opened in the container later is
# still auto-forwarded; a local port taken while no broker ran is reported
# (status, --list) and left out; a saved forward to container port 0 (an
# older rdev's) is dropped with a warning; a corrupt state file is moved aside, the
# broker starts anyway; `rdev-broker stop` keeps the forwards, `stop --forget`
# drops them; `rdev down` removes the workspace's from the file.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker

rig_remote_host br
state=$RDEV_RUNTIME_DIR/state.json

# Ports: five free ones, this test's.
base=$(rig_ports 5)
p_fwd=$base p_man=$((base + 1)) l_man=$((base + 2)) p_auto1=$((base + 3))
p_auto2=$((base + 4))

on_host "mkdir -p ~/ws && cat > ~/ws/.devcontainer.json" <<JSON
{
  "image": "$RDEV_RIG_IMAGE_BOOKWORM",
  "updateRemoteUserUID": false,
  "forwardPorts": [$p_fwd],
  "portsAttributes": { "$p_auto1": { "label": "auto-one" } }
}
JSON
busy_pid=
cleanup() {
	[ -z "$busy_pid" ] || kill "$busy_pid" 2>/dev/null || true
	rig_remote_cleanup ws
}
trap cleanup EXIT

listening() { ss -Hltn "sport = :$1" | grep -q .; }
listed() { rdev forward --list --json | jq -e "$1" >/dev/null; }
state_has() { jq -e "$1" "$state" >/dev/null; }
broker_pid() { broker status --json | jq -r .pid; }
kill_broker() {
	local pid
	pid=$(broker_pid)
	kill -9 "$pid"
	while pid_alive "$pid"; do sleep 0.1; done
}

rdev up "$name:~/ws" --accept-new-host-key >"$TEST_TMP/up.out" 2>"$TEST_TMP/up.err" ||
	{ cat "$TEST_TMP/up.err" >&2; fail "rdev up failed"; }
cid=$(jq -r .containerId "$TEST_TMP/up.out")
docker exec -i "$cid" sh -c 'cat > /tmp/echo-server.pl' <"$RDEV_SOURCE_DIR/tests/rig/echo-server.pl"
for p in "$p_fwd" "$p_man" "$p_auto1"; do
	docker exec -d "$cid" perl /tmp/echo-server.pl "$p" 127.0.0.1
done
rdev forward "$name:~/ws" "$l_man:$p_man" 2>/dev/null || fail "rdev forward"
rdev forward "$name:~/ws" --auto 2>/dev/null || fail "rdev forward --auto"
eventually "the --auto watch forwards a listening port" \
	listed "map(select(.port == $p_auto1 and .onAutoForward != null)) | length == 1"
check "forwardPorts' port answers" rig_echo_ok "$p_fwd"
check "the manual forward answers" rig_echo_ok "$l_man"
check "the state file is there, 0600" test "$(stat -c %a "$state")" = 600
check "it holds the forwards and the watch" state_has \
	"[$p_fwd, $l_man, $p_auto1] - [.hosts[].forwards[].local] == [] and
	 ([.hosts[].autos[].workspace] | length) == 1"

# --- kill -9: the next rdev command starts a broker that restores them -------
pid0=$(broker_pid)
kill_broker
check "the killed broker's ports are closed" sh -c "! ss -Hltn 'sport = :$l_man' | grep -q ."
listed "[$p_fwd, $l_man, $p_auto1] - map(.local) == []" ||
	{ rdev forward --list --json; fail "forward --list after kill -9 does not list the three forwards"; }
echo "ok   forward --list started a broker, which restored the forwards"
CHECKS_PASSED=$((CHECKS_PASSED + 1))
check "a new broker runs" test "$(broker_pid)" != "$pid0"
check "the manual forward answers again on its local port" rig_echo_ok "$l_man"
check "forwardPorts' port answers again" rig_echo_ok "$p_fwd"
check "the auto-forwarded port answers again" rig_echo_ok "$p_auto1"
check "and is still marked as auto-forwarded" \
	listed "map(select(.port == $p_auto1 and .label == \"auto-one\" and .onAutoForward == \"notify\")) | length == 1"
docker exec -d "$cid" perl /tmp/echo-server.pl "$p_auto2" 127.0.0.1
eventually "the watch is back: a port opened after the restart is auto-forwarded" \
	listed "map(select(.port == $p_auto2 and .onAutoForward != null)) | length == 1"
check "and answers" rig_echo_ok "$p_auto2"

# --- a local port taken while no broker ran --------------------------------------
kill_broker
python3 -c "import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', $l_man)); s.listen(); time.sleep(600)" &
busy_pid=$!
eventually "another program holds $l_man" listening "$l_man"
broker start || fail "rdev-broker start"
check "status reports the forward that could not be restored" sh -c \
	"'$RDEV_BIN_DIR/rdev-broker' status --json | jq -e '.forwards[] | select(.local == $l_man) | .error | test(\"not restored: .*127.0.0.1:$l_man is not free\")' >/dev/null"
broker status >"$TEST_TMP/status.txt"
check "and its text output says so" grep -q "not restored" "$TEST_TMP/status.txt"
check "the others are restored" rig_echo_ok "$p_fwd"
check "it is left out of the saved state" state_has \
	"[.hosts[].forwards[].local] | index($l_man) == null"
rc=0
rdev forward "$name:~/ws" "$l_man:$p_man" 2>"$TEST_TMP/held.err" || rc=$?
check_eq "that port asked for again while the other program holds it: exit 1" "$rc" 1
check "and the error says it is not free" grep -q "127.0.0.1:$l_man is not free" "$TEST_TMP/held.err"
check "but names no forward of rdev's as its holder (the entry not restored holds nothing)" \
	sh -c "! grep -q \"is rdev's forward\" '$TEST_TMP/held.err'"
kill "$busy_pid"; busy_pid=

# --- a forward to container port 0, which an older rdev made and saved -----------
# (it listened on a random port to port 0; config validation and the broker
# refuse that now): dropped with a warning, the rest restored.
kill_broker
jq '.hosts[0].forwards += [{"workspace": .hosts[0].forwards[0].workspace, "port": 0, "local": 0}]' \
	"$state" >"$state.new" && mv "$state.new" "$state"
broker start || fail "rdev-broker start with a forward to port 0 saved"
check "a saved forward to container port 0: the log says it is dropped" \
	grep -q "the saved forward of .* to container port 0 (an older rdev's: not a port, 1-65535) dropped" \
	"$RDEV_RUNTIME_DIR/broker.log"
check "it is not restored, the others are" sh -c \
	"'$RDEV_BIN_DIR/rdev' forward --list --json | jq -e 'map(.port) | index(0) == null and index($p_fwd) != null' >/dev/null"
check "the state file is kept (not moved aside)" sh -c "! ls '$RDEV_RUNTIME_DIR' | grep -q '^state.json.bad-'"

# --- a corrupt state file ----------------------------------------------------------
kill_broker
echo '{"version":1,"hosts":[{"host":' >"$state"
broker start || fail "rdev-broker start with a corrupt state file"
check "a corrupt state file: the broker runs anyway" test -n "$(broker_pid)"
check "the file is moved aside" sh -c "ls '$RDEV_RUNTIME_DIR' | grep -q '^state.json.bad-'"
check "the log says so" grep -q "moved aside to" "$RDEV_RUNTIME_DIR/broker.log"
check "nothing was restored" listed "length == 0"

# --- rdev-broker stop keeps them; stop --forget drops them --------------------------
rdev forward "$name:~/ws" "$l_man:$p_man" 2>/dev/null || fail "rdev forward"
broker stop >/dev/null
check "after a clean stop the state is kept" test -f "$state"
broker start || fail "rdev-broker start"
check "and the next broker restores it" rig_echo_ok "$l_man"
broker stop --forget >/dev/null
check "stop --forget removes the state" test ! -e "$state"
check "the next broker has no forwards" listed "length == 0"

# --- the host's key forgotten while forwards are saved -------------------------------
# The restored session cannot connect (unknown key) and retries; `rdev up`
# without --accept-new-host-key gets that error at once, with it the key is
# recorded and the session (and its forwards) connect again.
rdev forward "$name:~/ws" "$l_man:$p_man" 2>/dev/null || fail "rdev forward"
check "saved again" test -f "$state"
kill_broker
cp "$hdir/known_hosts" "$TEST_TMP/known_hosts.orig"
: >"$hdir/known_hosts"
broker start || fail "rdev-broker start"
session_error() { broker status --json | jq -r '[.sessions[].error // empty] | join(" ")'; }
eventually "the restored session fails on the unknown key" \
	sh -c "'$RDEV_BIN_DIR/rdev-broker' status --json | jq -e '[.sessions[].error // empty] | join(\" \") | test(\"unknown host key\")' >/dev/null"
if rdev up "$name:~/ws" >"$TEST_TMP/up2.out" 2>"$TEST_TMP/up2.err"; then
	fail "rdev up succeeded with an unknown host key and no --accept-new-host-key"
fi
check "without --accept-new-host-key: the key's error, not 'reconnecting'" \
	grep -q "unknown host key.*--accept-new-host-key" "$TEST_TMP/up2.err"
check "and nothing recorded" test ! -s "$hdir/known_hosts"
rdev up "$name:~/ws" --accept-new-host-key >"$TEST_TMP/up3.out" 2>"$TEST_TMP/up3.err" ||
	{ cat "$TEST_TMP/up3.err" >&2; session_error >&2; fail "rdev up --accept-new-host-key failed on a session restored with an unknown key"; }
check "the key is recorded" \
	test "$(cut -d' ' -f2,3 "$hdir/known_hosts")" = "$(cut -d' ' -f2,3 "$TEST_TMP/known_hosts.orig")"
check "the same container" test "$(jq -r .containerId "$TEST_TMP/up3.out")" = "$cid"
check "the session is named as connected ones are (user@host:port: rdev doctor finds it)" \
	sh -c "'$RDEV_BIN_DIR/rdev-broker' status --json | jq -e '[.sessions[].host] == [\"$(cat "$hdir/user")@$name:$(cat "$hdir/port")\"]' >/dev/null"
check "the restored forward answers again" rig_echo_ok "$l_man"
# A live session made by a client that asked to accept (not restored: no
# saved state) loses its connection and reconnects in the background: that
# never records an unknown key.
broker stop --forget >/dev/null
rdev up "$name:~/ws" --accept-new-host-key >/dev/null 2>"$TEST_TMP/up4.err" ||
	{ cat "$TEST_TMP/up4.err" >&2; fail "rdev up --accept-new-host-key with a new broker"; }
check "forwardPorts' port answers" rig_echo_ok "$p_fwd"
: >"$hdir/known_hosts"
pkill -KILL -u "$(cat "$hdir/user")" -x sshd || fail "no sshd of the session to kill"
eventually "the background reconnect fails on the unknown key" \
	sh -c "'$RDEV_BIN_DIR/rdev-broker' status --json | jq -e '[.sessions[].error // empty] | join(\" \") | test(\"unknown host key\")' >/dev/null"
check "a background reconnect records no key" test ! -s "$hdir/known_hosts"
rdev up "$name:~/ws" --accept-new-host-key >/dev/null 2>"$TEST_TMP/up5.err" ||
	{ cat "$TEST_TMP/up5.err" >&2; fail "rdev up --accept-new-host-key after a lost connection"; }
check "accepted by the next up that asks" test -s "$hdir/known_hosts"
check "the forward answers again" rig_echo_ok "$p_fwd"

# --- down removes the workspace's forwards from the file ----------------------------
rdev down "$name:~/ws" >/dev/null 2>&1
check "after down nothing is saved" test ! -e "$state"
finish
