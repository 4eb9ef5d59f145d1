#!/usr/bin/env bash
# down-waits-up.sh - `rdev down` and `rdev stop` wait for an `up` still at
# work on the same workspace (its per-workspace lock), over a real sshd host
# of the rig, the real broker and Docker, so that they act on what up made:
#   (a) down during up's foreground postCreateCommand: it says it waits
#       (the lock's line), up ends well, and then down removes its container;
#   (b) down during up's image build: after both, no container runs (down
#       removed what up then made, not "nothing" before it);
#   (c) stop during up's postCreateCommand: up ends well, then the
#       container is stopped;
#   (d) steps left to the background (--skip-non-blocking-commands: a
#       postStartCommand that never ends)
#       are not waited for: down returns at once and removes the container;
#   (e) ^C (SIGINT) ends a down that waits: exit 130 within a few seconds;
#   (f) a lock that cannot be opened (a directory in its place) is not
#       waited for: down and stop fail at once naming it and the cause.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker

rig_remote_host w
trap 'rm -f "$TEST_TMP"/go-*; rig_remote_cleanup ws wb' EXIT
wait_line="Waiting for this workspace's lock (held by another rdev command"
container() { docker ps -aq --filter "label=devcontainer.local_folder=$home/$1"; }
running() { docker ps -q --filter "label=devcontainer.local_folder=$home/$1"; }
# The postCreateCommand runs until the host's file ~/ws/go exists.
cat >"$TEST_TMP/ws.json" <<JSON
{
  "image": "$RDEV_RIG_IMAGE_BUSYBOX",
  "updateRemoteUserUID": false,
  "workspaceFolder": "/workspaces/ws",
  "postCreateCommand": "touch /tmp/pc-begun; i=0; while [ ! -e /workspaces/ws/go ] && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i+1)); done",
  "waitFor": "postCreateCommand",
  "containerEnv": { "DCID": "\${devcontainerId}" }
}
JSON
on_host 'mkdir -p ~/ws && cat > ~/ws/.devcontainer.json' <"$TEST_TMP/ws.json"
pc_begun() { c=$(running ws) && [ -n "$c" ] && docker exec "$c" test -e /tmp/pc-begun; }
# during_up PART CMD: CMD (down or stop) run while up's postCreateCommand
# runs says it waits for the lock and acts on nothing yet; both end well
# once the step does
during_up() {
	local p=$1 cmd=$2 up c rc
	on_host 'rm -f ~/ws/go'
	rdev up "$name:~/ws" >"$TEST_TMP/$p-up.out" 2>"$TEST_TMP/$p-up.err" &
	up=$!
	eventually "($p) up's postCreateCommand runs" pc_begun
	rdev "$cmd" "$name:~/ws" >"$TEST_TMP/$p-$cmd.out" 2>"$TEST_TMP/$p-$cmd.err" &
	c=$!
	eventually "($p) $cmd says it waits for the lock" grep -q "$wait_line" "$TEST_TMP/$p-$cmd.err"
	check_eq "($p) ... and has done nothing yet" "$(running ws | wc -l)" 1
	on_host 'touch ~/ws/go'
	rc=0
	wait $up || rc=$?
	check_eq "($p) up ends well (its container was not removed or stopped under it)" "$rc" 0
	rc=0
	wait $c || rc=$?
	check_eq "($p) $cmd ends well" "$rc" 0
}

# --- (a) down during up's postCreateCommand -------------------------------------
during_up a down
check_eq "(a) down removed what up made" "$(container ws)" ""

# --- (c) stop during up's postCreateCommand --------------------------------------
during_up c stop
check_eq "(c) the container is kept, stopped" \
	"$(docker inspect -f '{{.State.Running}}' "$(container ws)")" false

# --- (e) ^C ends a down that waits --------------------------------------------------
rdev down "$name:~/ws" >/dev/null 2>&1 || fail "down of the stopped container failed"
on_host 'rm -f ~/ws/go'
rdev up "$name:~/ws" >"$TEST_TMP/e-up.out" 2>"$TEST_TMP/e-up.err" &
up=$!
eventually "(e) up's postCreateCommand runs" pc_begun
env --default-signal=INT "$RDEV_BIN_DIR/rdev" down "$name:~/ws" \
	>"$TEST_TMP/e-down.out" 2>"$TEST_TMP/e-down.err" &
down=$!
eventually "(e) down waits" grep -q "$wait_line" "$TEST_TMP/e-down.err"
kill -INT $down
t0=$(date +%s)
rc=0
wait $down || rc=$?
check_eq "(e) ^C: down exits 130" "$rc" 130
[ $(($(date +%s) - t0)) -le 5 ] || fail "(e) down took over 5 s to end on ^C"
check_eq "(e) ... and removed nothing" "$(running ws | wc -l)" 1
on_host 'touch ~/ws/go'
wait $up || fail "(e) up failed: $(cat "$TEST_TMP/e-up.err")"

# --- (f) a lock that cannot be opened is not waited for ----------------------------
id=$(docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$(running ws)" | sed -n 's/^DCID=//p')
lockf=.rdev/state/locks/$id.lock
on_host "test -f ~/$lockf && rm ~/$lockf && mkdir ~/$lockf" || fail "(f) no lock file ~/$lockf"
for cmd in down stop; do
	t0=$(date +%s%N)
	rc=0
	timeout 20 "$RDEV_BIN_DIR/rdev" $cmd "$name:~/ws" >/dev/null 2>"$TEST_TMP/f-$cmd.err" || rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	check "(f) $cmd fails (exit $rc; 124: it waited)" test "$rc" != 0 -a "$rc" != 124
	check "(f) ... at once ($ms ms < 10000)" test "$ms" -lt 10000
	check "(f) ... naming the lock and the cause" \
		grep -q "cannot take the lock .*/$lockf: Is a directory" "$TEST_TMP/f-$cmd.err"
done
check_eq "(f) ... and the container still runs" "$(running ws | wc -l)" 1
on_host "rmdir ~/$lockf"

# --- (d) background steps are not waited for -------------------------------------
cat >"$TEST_TMP/wsd.json" <<JSON
{
  "image": "$RDEV_RIG_IMAGE_BUSYBOX",
  "updateRemoteUserUID": false,
  "workspaceFolder": "/workspaces/ws",
  "postStartCommand": "sleep 600"
}
JSON
on_host 'cat > ~/ws/.devcontainer.json' <"$TEST_TMP/wsd.json"
rdev up "$name:~/ws" --remove-existing-container --skip-non-blocking-commands \
	>/dev/null 2>"$TEST_TMP/d-up.err" ||
	fail "(d) up failed: $(cat "$TEST_TMP/d-up.err")"
grep -q "continue in the background" "$TEST_TMP/d-up.err" ||
	fail "(d) postStartCommand is not left to the background: $(cat "$TEST_TMP/d-up.err")"
t0=$(date +%s)
rdev down "$name:~/ws" >/dev/null 2>"$TEST_TMP/d-down.err" ||
	fail "(d) down failed: $(cat "$TEST_TMP/d-down.err")"
[ $(($(date +%s) - t0)) -le 20 ] || fail "(d) down waited for the background postStartCommand"
check_eq "(d) down removed the container" "$(container ws)" ""
if grep -q "$wait_line" "$TEST_TMP/d-down.err"; then
	fail "(d) down waited for the background steps: $(cat "$TEST_TMP/d-down.err")"
fi

# --- (b) down during up's image build ---------------------------------------------
on_host 'mkdir -p ~/wb/.devcontainer && cat > ~/wb/.devcontainer/Dockerfile' <<DOCKERFILE
FROM $RDEV_RIG_IMAGE_BUSYBOX
RUN sleep 6; echo $$ > /built
DOCKERFILE
on_host 'cat > ~/wb/.devcontainer/devcontainer.json' <<'JSON'
{ "build": { "dockerfile": "Dockerfile" }, "updateRemoteUserUID": false }
JSON
rdev up "$name:~/wb" >"$TEST_TMP/b-up.out" 2>"$TEST_TMP/b-up.err" &
up=$!
eventually "(b) up builds" grep -q "sleep 6" "$TEST_TMP/b-up.err"
rc=0
rdev down "$name:~/wb" >"$TEST_TMP/b-down.out" 2>"$TEST_TMP/b-down.err" || rc=$?
check_eq "(b) down ends well" "$rc" 0
wait $up || fail "(b) up failed: $(cat "$TEST_TMP/b-up.err")"
grep -q "$wait_line" "$TEST_TMP/b-down.err" ||
	fail "(b) down did not wait for up: $(cat "$TEST_TMP/b-down.err")"
check_eq "(b) no container after the down (it removed what up made)" "$(container wb)" ""
docker images -q --filter "label=devcontainer.local_folder=$home/wb" | xargs -r docker rmi -f >/dev/null 2>&1 || true

