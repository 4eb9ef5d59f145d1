#!/usr/bin/env bash
# exec-local.sh - `rdev up/exec/stop/down/ls/logs` on a local workspace: exit
# statuses propagated exactly, signals sent to rdev passed to the command,
# streams kept apart, binary-safe stdin, the remote user/env/cwd applied, a
# TTY when stdin is a terminal, clean no-ops;
# `ls` shows the caller's containers only (by the owner label, or for one
# another tool made, by who owns its workspace folder), `ls --all` everyone's
# with their owner; `down --volumes` removes the named volumes of the
# configuration's mounts but keeps (and names, with why) one another
# container uses.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
export RDEV_STATE_DIR=$TEST_TMP/state

ws=$TEST_TMP/ws-exec
# A volume another container uses too (unique per run).
shared=rdev-e2e-shared-$(basename "$TEST_TMP" | tr -cd 'A-Za-z0-9')
mkdir -p "$ws"
cat >"$ws/.devcontainer.json" <<JSON
{
  "image": "$RDEV_RIG_IMAGE_BOOKWORM_DEV",
  "remoteUser": "dev",
  "containerEnv": { "CE": "container-env" },
  "remoteEnv": { "RE": "remote-\${containerEnv:CE}", "HOSTNAME": null },
  "mounts": [
    "source=rdev-e2e-\${devcontainerId},target=/cache,type=volume",
    { "type": "volume", "source": "$shared", "target": "/shared" },
    "type=tmpfs,target=/scratch"
  ],
  "updateRemoteUserUID": false,
  "postAttachCommand": "echo attach-ran-as-\$(id -un)-in-\$(pwd)"
}
JSON
others=()
exec_local_cleanup() {
	local rc=$?
	set +e # (exit $rc) below must not end the trap
	docker ps -aq --filter "label=devcontainer.local_folder=$ws" | xargs -r docker rm -f -v >/dev/null
	docker ps -aq --filter "label=devcontainer.local_folder=$TEST_TMP/two" |
		xargs -r docker rm -f >/dev/null
	[ ${#others[@]} -eq 0 ] || docker rm -f "${others[@]}" >/dev/null 2>&1
	docker volume ls -q | grep -E "^(rdev-e2e-[0-9a-v]{52}|$shared)\$" |
		xargs -r docker volume rm >/dev/null 2>&1
	(exit $rc)
	rig_test_cleanup
}
trap exec_local_cleanup EXIT

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
# started with stdin (or stdout) closed: exec's own first socket would take
# descriptor 0 and be read as the command's input (exit 125, or a hang)
check_eq "stdin closed (<&-): the command runs, reads an empty input" \
	"$(timeout 20 "$RDEV_BIN_DIR/rdev" exec "$ws" -- sh -c 'sleep 0.3; cat; echo after' <&- 2>&1; echo "rc=$?")" "after
rc=0"
check_eq "stdout closed (>&-): the status comes back" \
	"$(timeout 20 "$RDEV_BIN_DIR/rdev" exec "$ws" -- sh -c 'echo out; exit 4' 2>/dev/null >&-; echo "rc=$?")" "rc=4"
check_eq "runs as the remote user" "$(rdev exec "$ws" -- id -un)" dev
check_eq "in the workspace folder" "$(rdev exec "$ws" -- pwd)" "/workspaces/ws-exec"
check_eq "containerEnv is visible" "$(rdev exec "$ws" -- sh -c 'echo $CE')" container-env
check_eq "remoteEnv is applied with \${containerEnv}" "$(rdev exec "$ws" -- sh -c 'echo $RE')" remote-container-env
check_eq "remoteEnv null removes a variable" "$(rdev exec "$ws" -- sh -c 'echo ${HOSTNAME-unset}')" unset
check_eq "arguments are passed without a shell" "$(rdev exec "$ws" -- printf '%s|' 'a b' '$HOME' ';')" 'a b|$HOME|;|'
# A devcontainer.json that no longer loads (an edit half-written, a bad
# value): exec finds the running container by its labels, as status and stop
# do, and runs with its recorded configuration (user, remoteEnv, folder),
# warning once with where the file is wrong (it failed: 125, as the
# reference runs the command).
cp "$ws/.devcontainer.json" "$TEST_TMP/good.json"
for bad in '{ "image": ' '{ "image": "x", "forwardPorts": "x" }'; do
	printf '%s' "$bad" >"$ws/.devcontainer.json"
	check_eq "config does not load ($bad): exec runs as the container recorded it" \
		"$(rdev exec "$ws" -- sh -c 'id -un; pwd; echo "$RE ${HOSTNAME-unset}"' 2>"$TEST_TMP/bad.err"; echo "rc=$?")" "dev
/workspaces/ws-exec
remote-container-env unset
rc=0"
	check_eq "... warning once" "$(grep -c . "$TEST_TMP/bad.err")" 1
	check "... naming where the file is wrong, and what is used" grep -qE \
		"^rdev: exec: warning: .*/ws-exec/\\.devcontainer\\.json:1:[0-9]+: .*using the running container's recorded configuration" \
		"$TEST_TMP/bad.err"
	# (run-user-commands likewise: its steps as the container recorded them)
	check_eq "... run-user-commands runs the recorded steps" \
		"$(rdev run-user-commands "$ws" 2>"$TEST_TMP/bad-ruc.err" | jq -r .outcome)" success
	check "... postAttachCommand as the remote user, in the workspace folder" \
		grep -qx "attach-ran-as-dev-in-/workspaces/ws-exec" "$TEST_TMP/bad-ruc.err"
	check "... with the warning" grep -q "^warning: .*using the running container's recorded configuration" "$TEST_TMP/bad-ruc.err"
done
cp "$TEST_TMP/good.json" "$ws/.devcontainer.json"
# A container another tool made (no dev.rdev.devcontainer_id label) whose
# configuration does not load: run-user-commands locks on its own id, not on
# "" (every such workspace waited on one lock: held here, it hung).
refws=$TEST_TMP/refws
mkdir -p "$refws" "$RDEV_STATE_DIR/locks"
printf '{ "image": ' >"$refws/.devcontainer.json"
refc=$(docker run -d --label "devcontainer.local_folder=$refws" \
	--label "devcontainer.config_file=$refws/.devcontainer.json" \
	--label 'devcontainer.metadata=[{"postAttachCommand":"echo ref-attach-ran"}]' \
	-v "$refws:/workspaces/refws" "$RDEV_RIG_IMAGE_BOOKWORM_DEV" sleep infinity)
others+=("$refc")
exec 9>"$RDEV_STATE_DIR/locks/.lock"
flock 9
check_eq "run-user-commands of another tool's container: not held by the \"\" lock" \
	"$(timeout 20 "$RDEV_BIN_DIR/rdev" run-user-commands "$refws" 2>"$TEST_TMP/ref-ruc.err" 9>&- | jq -r .outcome)" success
check "... its recorded postAttachCommand ran" grep -qx "ref-attach-ran" "$TEST_TMP/ref-ruc.err"
exec 9>&-
docker rm -f "$refc" >/dev/null
# In the workspace, a command without `--` is taken for the folder: no such
# folder (or a word after it an option) is a usage error (2, not the
# command's 125) that says the `--` form.
for cmd in "echo hi" "ls -d /"; do
	set +e
	# shellcheck disable=SC2086 # (the words)
	(cd "$ws" && "$RDEV_BIN_DIR/rdev" exec $cmd) >/dev/null 2>"$TEST_TMP/dd.err"
	rc=$?
	set -e
	check_eq "exec $cmd (no --): a usage error" "$rc" 2
	check "... hinting the -- form" grep -qF "did you mean \`rdev exec -- $cmd\`?" "$TEST_TMP/dd.err"
done
# Not when the word is a folder (here, or with a '/') or `--` is on the
# line: a typo after a real folder is an unknown option without the hint
# (it ran the folder as the command), a missing ./path its own error (125).
set +e
"$RDEV_BIN_DIR/rdev" exec "$ws" --bogus -- true 2>"$TEST_TMP/dd2.err"
rc=$?
(cd "$TEST_TMP" && "$RDEV_BIN_DIR/rdev" exec ws-exec --remote-evn A=B) 2>"$TEST_TMP/dd3.err"
rc3=$?
(cd "$TEST_TMP" && "$RDEV_BIN_DIR/rdev" exec ./nothere true) 2>"$TEST_TMP/dd4.err"
rc4=$?
set -e
check_eq "exec FOLDER --bogus -- true: a usage error" "$rc" 2
check "... unknown option --bogus" grep -q "unknown option --bogus" "$TEST_TMP/dd2.err"
check "... without the -- hint" sh -c "! grep -q 'did you mean' '$TEST_TMP/dd2.err'"
check_eq "exec ws-exec (a folder here) --remote-evn: a usage error" "$rc3" 2
check "... without the -- hint" sh -c "! grep -q 'did you mean' '$TEST_TMP/dd3.err'"
check_eq "exec ./nothere true: no such folder, 125 (no hint)" "$rc4" 125
check "... without the -- hint" sh -c "! grep -q 'did you mean' '$TEST_TMP/dd4.err'"

head -c $((20 * 1024 * 1024)) /dev/urandom >"$TEST_TMP/blob"
want=$(sha256sum <"$TEST_TMP/blob" | cut -d' ' -f1)
got=$(rdev exec "$ws" -- cat <"$TEST_TMP/blob" | sha256sum | cut -d' ' -f1)
check_eq "20 MB of binary stdin round-trips through cat" "$got" "$want"
check_eq "stdin end-of-file reaches the command" "$(printf 'a\nb\n' | rdev exec "$ws" -- wc -l)" 2
# A reader that goes away (`| head -1`, of stdout or of stderr) ends the
# exec as SIGPIPE would end the command here (141), and the command with it
# (rdev ignores SIGPIPE, so only its write failed: it read `yes` for ever).
# Through the relay and through a Docker exec (RDEV_EXEC_VIA=docker: the
# route of a container without network or with a read-only filesystem), whose
# command closing the attach does not stop.
pipe_gone() { # VIA LABEL
	local via=$1 what=$2 spipe spipe2
	set +e
	RDEV_EXEC_VIA=$via timeout 30 "$RDEV_BIN_DIR/rdev" exec "$ws" -- yes "pipe$$$via" |
		head -1 >/dev/null
	spipe=${PIPESTATUS[0]}
	RDEV_EXEC_VIA=$via timeout 30 "$RDEV_BIN_DIR/rdev" exec "$ws" -- sh -c "yes pipe$$$via >&2" \
		2>&1 >/dev/null | head -1 >/dev/null
	spipe2=${PIPESTATUS[0]}
	set -e
	check_eq "a reader that goes away ends the exec with 141, not a hang ($what)" "$spipe" 141
	check_eq "... also of stderr ($what)" "$spipe2" 141
	yes_gone() { ! pgrep -f "^yes pipe$$$via" >/dev/null; }
	for _ in $(seq 1 200); do yes_gone && break; sleep 0.1; done
	check "... and the command is gone ($what)" yes_gone
}
pipe_gone relay "through the relay"
pipe_gone docker "through a Docker exec"
# A command that had ended (status 3) before rdev's write of its output
# failed for a reader gone: its own status, not 141 (a false failure under
# pipefail), as on the remote route. Made sure: stdout is a full pipe whose
# reader is closed only once the command has ended and its status (the
# relay's EXIT frame, 12 bytes or more, the only one after the output's) is
# with rdev, in each of the two places it can be: waiting in rdev's socket to
# the relay (the command ended after rdev blocked writing its output), and
# read with the output (rdev stopped until the output's 12-byte frame and the
# status both waited there). (tests/rig/exec_reader_gone.py; it once waited
# 30 s whenever rdev happened to have read the status with the output.)
cid=$(jq -r .containerId "$TEST_TMP/up.json")
reader_gone() { python3 "$RDEV_SOURCE_DIR/tests/rig/exec_reader_gone.py" "$RDEV_BIN_DIR/rdev" "$ws" "$cid" tcp 12 $((12 + 12)) "$1"; }
check_eq "a reader gone after the command ended: its own status, not 141" "$(reader_gone socket)" 3
check_eq "... also when rdev had read the status with the output" "$(reader_gone read)" 3
# Any other write error (a full disk: /dev/full) is no success with the
# output cut: 125 and what failed.
set +e
rdev exec "$ws" -- echo full >/dev/full 2>"$TEST_TMP/full.err"
sfull=$?
set -e
check_eq "output that cannot be written (ENOSPC) ends the exec with 125" "$sfull" 125
check "... saying so" grep -q "^rdev: exec: stdout: No space left on device" "$TEST_TMP/full.err"

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

# Signals sent to rdev (kill, a parent program) reach the command, with a TTY
# or not, as on the remote route: its trap runs, rdev exits with its status.
# They used to end rdev alone (the command never told; a TTY left raw).
intr_cmd='trap "echo got-INT; exit 7" INT; trap "echo got-TERM; exit 9" TERM
	echo ready; while :; do sleep 0.1; done'
# (five times, each sent as soon as "ready" comes: one between the pump's look
# and its wait used to wait for the next output, here for ever)
for i in 1 2 3 4 5; do
	check "exec with a TTY: a SIGINT sent to rdev reaches the command (its trap, its status; $i)" \
		python3 "$RDEV_SOURCE_DIR/tests/e2e/pty_drive.py" --timeout 10 --step 'expect ready' \
		--step 'signal INT' --step 'expect got-INT' --step 'exitstatus 7' -- \
		"$RDEV_BIN_DIR/rdev" exec "$ws" -- bash -c "$intr_cmd"
done
for s in INT:7 TERM:9; do
	# (a background job of a script ignores SIGINT: give it back its default)
	env --default-signal=INT "$RDEV_BIN_DIR/rdev" exec "$ws" -- bash -c "$intr_cmd" \
		</dev/null >"$TEST_TMP/sig.out" 2>&1 &
	pid=$!
	eventually "exec: the trapping command runs" grep -q ready "$TEST_TMP/sig.out"
	kill -"${s%:*}" "$pid"
	set +e
	wait "$pid"
	rc=$?
	set -e
	check_eq "exec: a SIG${s%:*} sent to rdev reaches the command (its status)" "$rc" "${s#*:}"
	check "exec: ... its trap ran" grep -q "got-${s%:*}" "$TEST_TMP/sig.out"
done
# With a TTY a SIGINT reaches the terminal's foreground group, as ^C would:
# the shell's `sleep` too (only the shell got it, which waited out the
# sleep, took it as handled and went on: "after", status 0).
check "exec with a TTY: a SIGINT reaches the foreground job (the shell's sleep dies of it)" \
	python3 "$RDEV_SOURCE_DIR/tests/e2e/pty_drive.py" --timeout 10 --step 'expect ready' \
	--step 'signal INT' --step 'exitstatus 130' -- \
	"$RDEV_BIN_DIR/rdev" exec "$ws" -- bash -c 'echo ready; sleep 30; echo after'
check_exec_signals "$ws"
# Three signals give up even while rdev waits to write output nobody reads
# (a stalled pipeline): the signals were blocked there, and rdev outlived any
# number of them until the reader read again.
mkfifo "$TEST_TMP/stall"
"$RDEV_BIN_DIR/rdev" exec "$ws" -- yes </dev/null >"$TEST_TMP/stall" 2>/dev/null &
pid=$!
exec 3<"$TEST_TMP/stall" # (opened, never read)
# (rdev waits to write once the pipe is full: what the reader's end holds,
# FIONREAD, stops growing, and is most of the pipe (not all of it: a write
# that is not a page multiple leaves a page part-filled); a fixed 2 s took
# that on trust)
stall_full() {
	python3 -c 'import fcntl, struct, termios, time
def held():
    return struct.unpack("i", fcntl.ioctl(3, termios.FIONREAD, b"\0" * 4))[0]
a = held(); time.sleep(0.3); b = held()
raise SystemExit(not (a == b and 2 * b >= fcntl.fcntl(3, fcntl.F_GETPIPE_SZ)))'
}
eventually "exec: rdev's output fills the pipe nobody reads" stall_full
# (each SIGTERM taken before the next is sent: two pending at once are one,
# and a fixed pause between them was no proof under load)
sigterm_pending() { [ $((0x$(awk '/^ShdPnd:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0) & 0x4000)) -ne 0 ]; }
for i in 1 2 3; do
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 500); do sigterm_pending || break; sleep 0.01; done
done
eventually "exec: a third SIGTERM ends rdev while its output waits for a reader" \
	sh -c "! kill -0 $pid"
set +e
wait "$pid"
rc=$?
set -e
exec 3<&-
check_eq "exec: ... dead of it" "$rc" 143

check "ls lists the container" sh -c "'$RDEV_BIN_DIR/rdev' ls --json | jq -e --arg ws '$ws' 'map(select(.workspace == \$ws)) | length == 1' >/dev/null"
check "... its composeProject null (none), as status has it" sh -c "'$RDEV_BIN_DIR/rdev' ls --json | jq -e --arg ws '$ws' 'map(select(.workspace == \$ws))[0] | has(\"composeProject\") and .composeProject == null' >/dev/null"

# Other users' dev containers (labels are the truth), and ones another tool
# made (no owner label: whoever owns the workspace folder).
mkdir -p "$TEST_TMP/theirs" "$TEST_TMP/mine"
chown 4343:4343 "$TEST_TMP/theirs"
other() { # NAME FOLDER [LABEL...]: a created (not started) container
	local name=$1-$(basename "$TEST_TMP" | tr -cd 'A-Za-z0-9') folder=$2 l args=()
	shift 2
	for l in "$@"; do args+=(--label "$l"); done
	docker create --name "$name" --label "devcontainer.local_folder=$folder" \
	    "${args[@]+"${args[@]}"}" "$RDEV_RIG_IMAGE_BUSYBOX" true >/dev/null
	others+=("$name")
}
other someone "$TEST_TMP/someone" dev.rdev.owner_uid=4242 dev.rdev.owner_name=someone
other theirs "$TEST_TMP/theirs"
other mine "$TEST_TMP/mine"
rdev ls --json >"$TEST_TMP/ls.json"
rdev ls --all --json >"$TEST_TMP/ls-all.json"
in_ls() { jq -r --arg p "$TEST_TMP/" '[.[] | select(.workspace | startswith($p)) | .workspace | sub(".*/"; "")] | sort | join(" ")' "$1"; }
check_eq "ls: the caller's own (the owner label; no label: the folder's owner)" \
	"$(in_ls "$TEST_TMP/ls.json")" "mine ws-exec"
check_eq "ls --all: everyone's" "$(in_ls "$TEST_TMP/ls-all.json")" "mine someone theirs ws-exec"
check_eq "ls --all names the owner" \
	"$(jq -r --arg w "$TEST_TMP/someone" '.[] | select(.workspace == $w) | .owner' "$TEST_TMP/ls-all.json")" someone
# (Docker's "created" is "stopped" in rdev's words, as status says)
check "ls --all shows an OWNER column" sh -c "'$RDEV_BIN_DIR/rdev' ls --all | grep -E '^[0-9a-f]{12} +stopped +[^ ]+ +someone '"
check "ls without --all does not" sh -c "! '$RDEV_BIN_DIR/rdev' ls | grep -q '$TEST_TMP/someone'"
# Names with a line break or an escape (a folder's, an owner's) are shown
# quoted, escaped, on their row: raw, one split the table's line, the other
# drove the terminal. The same in status.
esc=$(printf '\033')
mkdir -p "$TEST_TMP/new
line"
echo '{"image": "x"}' >"$TEST_TMP/new
line/.devcontainer.json"
other nl "$TEST_TMP/new
line" dev.rdev.owner_uid=4242 "dev.rdev.owner_name=o$esc[31m"
rdev ls --all >"$TEST_TMP/ls-all.txt"
check_eq "ls --all: a workspace with a line break on one row, quoted" \
	"$(grep -cF " \"$TEST_TMP/new\\u000aline\"" "$TEST_TMP/ls-all.txt")" 1
check "... and no raw escape character in the table" \
	sh -c "! grep -qF '$esc' '$TEST_TMP/ls-all.txt'"
check "... the owner's escaped" grep -qF ' "o\u001b[31m' "$TEST_TMP/ls-all.txt"
check_eq "status: the workspace quoted" \
	"$(rdev status "$TEST_TMP/new
line" | head -1)" "workspace   \"$TEST_TMP/new\\u000aline\""
# An exec running while the container stops: 125, and the message says the
# container stopped under it (it said only "was it killed?").
"$RDEV_BIN_DIR/rdev" exec "$ws" -- sh -c 'echo ready; exec sleep 60' \
	</dev/null >"$TEST_TMP/under.out" 2>"$TEST_TMP/under.err" &
under=$!
eventually "exec: the command runs" grep -q ready "$TEST_TMP/under.out"
rdev stop "$ws" --json >/dev/null
set +e
wait "$under"
rc=$?
set -e
check_eq "stop stops it" "$(docker inspect -f '{{.State.Running}}' "$(jq -r .containerId "$TEST_TMP/up.json")")" false
check_eq "an exec the stop cut: 125" "$rc" 125
check "... saying the container stopped under it" \
	grep -q "^rdev: exec: .*(the dev container stopped under the command)" "$TEST_TMP/under.err"
set +e
rdev exec "$ws" -- true 2>"$TEST_TMP/stopped.err"
rc=$?
set -e
check_eq "exec on a stopped container exits 125" "$rc" 125
check "and says it is not running" grep -q "not running" "$TEST_TMP/stopped.err"

# down --volumes: the volumes of the configuration's mounts go, unless
# another container uses one.
id_volume=rdev-e2e-$(docker inspect -f '{{index .Config.Labels "dev.rdev.devcontainer_id"}}' \
    "$(jq -r .containerId "$TEST_TMP/up.json")")
check "up made the named volumes" docker volume inspect "$id_volume" "$shared"
user=user-$(basename "$TEST_TMP" | tr -cd 'A-Za-z0-9')
docker create --name "$user" -v "$shared:/s" "$RDEV_RIG_IMAGE_BUSYBOX" true >/dev/null
others+=("$user")
rdev down "$ws" --volumes --json >"$TEST_TMP/down.json" 2>"$TEST_TMP/down.err"
check_eq "down --volumes removes the container" "$(jq -r .removed "$TEST_TMP/down.json")" 1
check_eq "and the volume no other container uses" \
	"$(jq -c .removedVolumes "$TEST_TMP/down.json")" "[\"$id_volume\"]"
check_eq "and keeps the one another container uses, saying why" \
	"$(jq -c .keptVolumes "$TEST_TMP/down.json")" \
	"[{\"name\":\"$shared\",\"reason\":\"used by container $user\"}]"
check_eq "on stderr too" "$(cat "$TEST_TMP/down.err")" \
	"rdev: kept volume $shared: used by container $user"
check "the removed one is gone" sh -c "! docker volume inspect '$id_volume' >/dev/null 2>&1"
check "the kept one is there" docker volume inspect "$shared"
check_eq "down again is a no-op" "$(rdev down "$ws" --json | jq -r .removed)" 0

# A folder whose configurations were deleted is found by its folder's label
# (stop, down, status), but not when that label names several containers (one
# per configuration file, made with --config): none is taken for another.
two=$TEST_TMP/two
for c in a b; do
	mkdir -p "$two/.devcontainer/$c"
	printf '{"image": "%s", "containerEnv": {"CFG": "%s"}}' "$RDEV_RIG_IMAGE_BOOKWORM_DEV" "$c" \
		>"$two/.devcontainer/$c/devcontainer.json"
	rdev up "$two" --config "$two/.devcontainer/$c/devcontainer.json" >/dev/null 2>&1 ||
		fail "up of $two with config $c failed"
done
cp -r "$two/.devcontainer" "$TEST_TMP/two-configs"
rm -rf "$two/.devcontainer"
set +e
rdev down "$two" 2>"$TEST_TMP/two.err"
rc=$?
set -e
check_eq "down of a folder whose configurations are gone, two containers: refused" "$rc" 1
check "... saying to name one with --config" grep -q "2 dev containers carry the folder's label: name one with --config" "$TEST_TMP/two.err"
check_eq "... both are still there" \
	"$(docker ps -aq --filter "label=devcontainer.local_folder=$two" | wc -l)" 2
# Its configurations back (several: which one is not said), a's container
# stopped: exec runs in the one running, b's ("several configurations"
# before).
docker kill "$(docker ps -q --filter "label=devcontainer.config_file=$two/.devcontainer/a/devcontainer.json")" >/dev/null
cp -r "$TEST_TMP/two-configs" "$two/.devcontainer"
check_eq "several configurations, one container running: exec runs in it" \
	"$(rdev exec "$two" -- sh -c 'echo $CFG' 2>"$TEST_TMP/two-exec.err")" b
check "... with a warning naming them" grep -q "warning: several dev container configurations" "$TEST_TMP/two-exec.err"
# Another user's running container of the folder (its owner label) does not
# win over this user's own, stopped: exec says none of the user's runs (it
# took the other's, "not to you").
docker stop "$(docker ps -q --filter "label=devcontainer.config_file=$two/.devcontainer/b/devcontainer.json")" >/dev/null
other=$(docker run -d --label "devcontainer.local_folder=$two" \
	--label "devcontainer.config_file=$two/.devcontainer/c/devcontainer.json" \
	--label "dev.rdev.owner_uid=$(($(id -u) + 4242))" --label dev.rdev.owner_name=someone \
	"$RDEV_RIG_IMAGE_BOOKWORM_DEV" sleep infinity)
others+=("$other")
set +e
rdev exec "$two" -- true 2>"$TEST_TMP/two-other.err"
rc=$?
set -e
check_eq "another user's running container, the user's own stopped: exec fails" "$rc" 125
check "... saying none of the user's runs" grep -q "2 dev containers carry the folder's label, none running" "$TEST_TMP/two-other.err"
check "... not taking the other's" sh -c "! grep -q 'not to you' '$TEST_TMP/two-other.err'"
docker rm -f "$other" >/dev/null
check_eq "with --config, that one goes" \
	"$(rdev down "$two" --config "$two/.devcontainer/a/devcontainer.json" --json 2>/dev/null | jq -r .removed)" 1
check_eq "then the folder's one container goes with down alone" \
	"$(rdev down "$two" --json 2>/dev/null | jq -r .removed)" 1
finish
