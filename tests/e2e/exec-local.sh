#!/usr/bin/env bash
# exec-local.sh - `rdev up/exec/stop/down/ls/logs` on a local workspace: exit
# statuses propagated exactly, streams kept apart, binary-safe stdin, the
# remote user/env/cwd applied, a TTY when stdin is a terminal, clean no-ops.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
export RDEV_STATE_DIR=$TEST_TMP/state

ws=$TEST_TMP/ws-exec
mkdir -p "$ws"
cat >"$ws/.devcontainer.json" <<JSON
{
  "image": "$RDEV_RIG_IMAGE_BOOKWORM_DEV",
  "remoteUser": "dev",
  "containerEnv": { "CE": "container-env" },
  "remoteEnv": { "RE": "remote-\${containerEnv:CE}", "HOSTNAME": null },
  "updateRemoteUserUID": false
}
JSON
trap 'docker ps -aq --filter "label=devcontainer.local_folder=$ws" | xargs -r docker rm -f >/dev/null; rig_test_cleanup' EXIT

set +e
rdev exec "$ws" -- true 2>"$TEST_TMP/noc.err"
rc=$?
set -e
check_eq "exec without a container exits 125" "$rc" 125
check "and says to run up" grep -q "run \`rdev up" "$TEST_TMP/noc.err"
set +e
(cd "$TEST_TMP" && "$RDEV_BIN_DIR/rdev" exec ./ws-exec -- true) 2>"$TEST_TMP/noc2.err"
(cd "$TEST_TMP" && "$RDEV_BIN_DIR/rdev" logs ./ws-exec) 2>"$TEST_TMP/noc3.err"
set -e
check "exec: the hint is the up command for the folder as typed" \
	grep -qF 'run `rdev up ./ws-exec` first' "$TEST_TMP/noc2.err"
check "logs: likewise" grep -qF 'run `rdev up ./ws-exec` first' "$TEST_TMP/noc3.err"

rdev up "$ws" --json >"$TEST_TMP/up.json"
check_eq "up succeeded" "$(jq -r .outcome "$TEST_TMP/up.json")" success

set +e
rdev exec "$ws" -- sh -c 'exit 7'
rc=$?
rdev exec "$ws" -- sh -c 'kill -9 $$'
rc9=$?
set -e
check_eq "exit status is propagated" "$rc" 7
check_eq "death by signal is 128+signal" "$rc9" 137
check_eq "stdout alone on stdout" "$(rdev exec "$ws" -- sh -c 'echo out; echo err >&2' 2>/dev/null)" out
check_eq "stderr alone on stderr" "$(rdev exec "$ws" -- sh -c 'echo out; echo err >&2' 2>&1 >/dev/null)" err
check_eq "runs as the remote user" "$(rdev exec "$ws" -- id -un)" dev
check_eq "in the workspace folder" "$(rdev exec "$ws" -- pwd)" "/workspaces/ws-exec"
check_eq "containerEnv is visible" "$(rdev exec "$ws" -- sh -c 'echo $CE')" container-env
check_eq "remoteEnv is applied with \${containerEnv}" "$(rdev exec "$ws" -- sh -c 'echo $RE')" remote-container-env
check_eq "remoteEnv null removes a variable" "$(rdev exec "$ws" -- sh -c 'echo ${HOSTNAME-unset}')" unset
check_eq "arguments are passed without a shell" "$(rdev exec "$ws" -- printf '%s|' 'a b' '$HOME' ';')" 'a b|$HOME|;|'

head -c $((20 * 1024 * 1024)) /dev/urandom >"$TEST_TMP/blob"
want=$(sha256sum <"$TEST_TMP/blob" | cut -d' ' -f1)
got=$(rdev exec "$ws" -- cat <"$TEST_TMP/blob" | sha256sum | cut -d' ' -f1)
check_eq "20 MB of binary stdin round-trips through cat" "$got" "$want"
check_eq "stdin end-of-file reaches the command" "$(printf 'a\nb\n' | rdev exec "$ws" -- wc -l)" 2

# A terminal on stdin gets a TTY in the container (tests/e2e/pty_drive.py
# provides one; script(1) with stdin at its end typed a NUL into it, which
# showed as "^@" wherever the command's output was when it came).
python3 "$RDEV_SOURCE_DIR/tests/e2e/pty_drive.py" -q --term xterm-256color --timeout 30 \
	--log "$TEST_TMP/tty.log" --step 'exitstatus 0' -- \
	"$RDEV_BIN_DIR/rdev" exec "$ws" -- sh -c 'tty; echo $TERM' || fail "exec with a TTY failed"
tty_out=$(tr -d '\r' <"$TEST_TMP/tty.log")
check "a terminal gets a TTY" sh -c "printf '%s' '$tty_out' | grep -q '/dev/pts/'"
check "TERM is passed into the TTY" sh -c "printf '%s' '$tty_out' | grep -qx xterm-256color"
check_eq "without a terminal there is no TTY" "$(rdev exec "$ws" -- sh -c 'tty || true' </dev/null)" "not a tty"

check "ls lists the container" sh -c "'$RDEV_BIN_DIR/rdev' ls --json | jq -e --arg ws '$ws' 'map(select(.workspace == \$ws)) | length == 1' >/dev/null"
rdev stop "$ws" --json >/dev/null
check_eq "stop stops it" "$(docker inspect -f '{{.State.Running}}' "$(jq -r .containerId "$TEST_TMP/up.json")")" false
set +e
rdev exec "$ws" -- true 2>"$TEST_TMP/stopped.err"
rc=$?
set -e
check_eq "exec on a stopped container exits 125" "$rc" 125
check "and says it is not running" grep -q "not running" "$TEST_TMP/stopped.err"
check_eq "down removes it" "$(rdev down "$ws" --json | jq -r .removed)" 1
check_eq "down again is a no-op" "$(rdev down "$ws" --json | jq -r .removed)" 0
finish
