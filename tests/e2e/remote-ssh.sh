#!/usr/bin/env bash
# remote-ssh.sh - rdev against a real sshd host of the rig, through the real
# broker, with the agent installed by the broker from the bundle:
#   up HOST:~/ws; exec exit codes (0, 3, 130), stdout/stderr kept apart, a
#   100 MB binary stdin round trip, repeated execs on one SSH connection (no
#   new handshake: sshd logs one login), `shell` through a real terminal
#   (type, read, resize, exit status), a SIGINT/SIGQUIT sent to rdev with a
#   TTY reaching the command, a lifecycle command's 200,000 lines through up
#   (plain and --log-format json; a line before a pause shown at once; a
#   20 MiB line and a 3 MB one of control bytes arrive whole, in pieces),
#   ls/logs/read-configuration/stop/down (also of
#   a workspace folder deleted on the host),
#   two clients at once, the connection lost (sshd killed, then stopped:
#   the keepalive gives up) under an exec and under a forwarded stream its
#   server had ended whole (its reader gets it all, and an EOF), a client killed mid-exec (nothing left running on
#   the host), `rdev up localhost:PATH` through this machine's sshd, the
#   broker killed (the next command starts a new one; also with its socket
#   left, and with a listener there that drops connections), host
#   keys (unknown: refused with the fingerprint; accepted with the flag and
#   recorded; changed: refused), `rdev-broker status`/`stop`.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker

rig_remote_host r
drive=$RDEV_SOURCE_DIR/tests/e2e/pty_drive.py

on_host "mkdir -p ~/ws && printf '%s' '{\"image\": \"$RDEV_RIG_IMAGE_BOOKWORM_DEV\",
	\"remoteUser\": \"dev\", \"updateRemoteUserUID\": false,
	\"postStartCommand\": \"echo started-in-background\", \"waitFor\": \"postCreateCommand\"}' \
	> ~/ws/.devcontainer.json"
trap 'rig_remote_cleanup ws gone lines' EXIT
logins() { grep -c 'Accepted publickey' "$hdir/sshd.log" || true; }

# --- up, with the agent installed from scratch --------------------------------
rdev up "$name:~/ws" --skip-non-blocking-commands >"$TEST_TMP/up.out" 2>"$TEST_TMP/up.err" ||
	{ cat "$TEST_TMP/up.err" >&2; fail "rdev up $name:~/ws failed"; }
check "up prints success JSON" grep -q '"outcome":"success"' "$TEST_TMP/up.out"
check "up reports installing the agent" grep -q 'installing rdev-agent' "$TEST_TMP/up.err"
check "the agent is installed on the host" on_host 'test -x ~/.rdev/agent/*/rdev-agent'
cid=$(docker ps -q --filter "label=devcontainer.local_folder=$home/ws")
check "a container labelled with the remote folder runs" test -n "$cid"
check_eq "broker status: one connected session" \
	"$(broker status --json | jq -r '.sessions | map(.state) | join(",")')" connected

# --- exec ---------------------------------------------------------------------
# A workspace without a container: the hint is the command to run here.
on_host 'mkdir -p ~/nows && cp ~/ws/.devcontainer.json ~/nows/'
set +e
rdev exec "$name:~/nows" -- true 2>"$TEST_TMP/noc.err"; snoc=$?
rdev logs "$name:~/nows" 2>"$TEST_TMP/noc-logs.err"
set -e
check_eq "exec without a container: 125" "$snoc" 125
check "exec without a container: says to run rdev up with the target as typed" \
	grep -qF "run \`rdev up $name:~/nows\` first" "$TEST_TMP/noc.err"
check "logs without a container: likewise" \
	grep -qF "run \`rdev up $name:~/nows\` first" "$TEST_TMP/noc-logs.err"
n0=$(logins)
set +e
rdev exec "$name:~/ws" -- true; s0=$?
rdev exec "$name:~/ws" -- sh -c 'echo to-out; echo to-err >&2; exit 3' \
	>"$TEST_TMP/o" 2>"$TEST_TMP/e"; s3=$?
rdev exec "$name:~/ws" -- sh -c 'kill -INT $$'; s130=$?
rdev exec "$name:~/ws" -- no-such-command-xyz >"$TEST_TMP/e125" 2>&1; s127=$?
set -e
check_eq "exec: status 0" "$s0" 0
check_eq "exec: status 3" "$s3" 3
check_eq "exec: killed by SIGINT is 130" "$s130" 130
check_eq "exec: stdout alone on stdout" "$(cat "$TEST_TMP/o")" to-out
check_eq "exec: stderr alone on stderr" "$(cat "$TEST_TMP/e")" to-err
check "exec: a missing command fails (126/127)" \
	test "$s127" -ge 126 -a "$s127" -le 127
# (dockerd sends its "executable file not found" on the exec's stdout stream,
# as `docker exec` shows it)
check "exec: and the message names it" grep -q 'no-such-command-xyz.*not found' "$TEST_TMP/e125"
set +e
rdev exec "$name:~/no-such-ws" -- true 2>"$TEST_TMP/e-nows"; s_nows=$?
set -e
check "exec: a missing workspace fails, naming the host and the folder" \
	sh -c "test $s_nows -ne 0 && grep -q 'exec: $name: workspace folder .*no-such-ws' '$TEST_TMP/e-nows'"
check_eq "exec: stdin closed (<&-): the command runs, reads an empty input" \
	"$(timeout 20 "$RDEV_BIN_DIR/rdev" exec "$name:~/ws" -- sh -c 'sleep 0.3; cat; echo after' <&- 2>&1; echo "rc=$?")" "after
rc=0"
check_eq "exec: the user is remoteUser" "$(rdev exec "$name:~/ws" -- id -un)" dev
check_eq "exec: in the workspace folder" "$(rdev exec "$name:~/ws" -- pwd)" /workspaces/ws
# A reader that goes away (`| head -1`) ends the exec as SIGPIPE would end
# the command here (141), and the command with it (rdev ignores SIGPIPE, so
# only its write failed: it used to read `yes` for ever).
set +e
timeout 30 "$RDEV_BIN_DIR/rdev" exec "$name:~/ws" -- yes "pipe$$" | head -1 >/dev/null
spipe=${PIPESTATUS[0]}
timeout 30 "$RDEV_BIN_DIR/rdev" exec "$name:~/ws" -- sh -c "yes pipe$$ >&2" 2>&1 >/dev/null |
	head -1 >/dev/null
spipe2=${PIPESTATUS[0]}
set -e
check_eq "exec: a reader that goes away ends it with 141, not a hang" "$spipe" 141
check_eq "exec: ... also of stderr" "$spipe2" 141
yes_gone() { ! pgrep -f "^yes pipe$$" >/dev/null; }
for _ in $(seq 1 200); do yes_gone && break; sleep 0.1; done
check "exec: ... and the command is gone" yes_gone
# A command that had ended (status 3) before rdev's write of its output
# failed for a reader gone: its own status, not 141 (a false failure under
# pipefail). Made sure: stdout is a full pipe whose reader is closed only
# once the command has ended and its status (the CLOSE, the only frame after
# the output's, 12 bytes of header and more) is with rdev, in each of the two
# places it can be: waiting in rdev's socket to the broker (the command ended
# after rdev blocked writing its output), and read with the output (rdev
# stopped until the output's 16-byte frame and the CLOSE both waited there).
# (tests/rig/exec_reader_gone.py; it once waited 30 s whenever rdev happened
# to have read the status with the output.)
reader_gone() {
	python3 "$RDEV_SOURCE_DIR/tests/rig/exec_reader_gone.py" "$RDEV_BIN_DIR/rdev" "$name:~/ws" \
		"$cid" unix $((12 + 1)) $((16 + 12 + 1)) "$1"
}
check_eq "exec: a reader gone after the command ended: its own status, not 141" "$(reader_gone socket)" 3
check_eq "exec: ... also when rdev had read the status with the output" "$(reader_gone read)" 3
# Any other write error (a full disk: /dev/full) is no success with the
# output cut: 125 and what failed, as on the local route.
set +e
rdev exec "$name:~/ws" -- echo full >/dev/full 2>"$TEST_TMP/full.err"
sfull=$?
set -e
check_eq "exec: output that cannot be written (ENOSPC) ends the exec with 125" "$sfull" 125
check "exec: ... saying so" grep -q "^rdev: exec: stdout: No space left on device" "$TEST_TMP/full.err"

head -c 100000000 /dev/urandom >"$TEST_TMP/big"
want=$(sha256sum <"$TEST_TMP/big" | cut -d' ' -f1)
got=$(rdev exec "$name:~/ws" -- cat <"$TEST_TMP/big" | sha256sum | cut -d' ' -f1)
check_eq "exec: 100 MB of binary stdin comes back unchanged" "$got" "$want"
rm -f "$TEST_TMP/big"
check_eq "exec: no new SSH login for repeated commands" "$(logins)" "$n0"
# A devcontainer.json half-written on the host: the running container is
# found by its labels and the command runs as it recorded (125 before), the
# warning in the exec's answer, once.
on_host 'cp ~/ws/.devcontainer.json ~/ws-good.json && printf "{ \"image\": " >~/ws/.devcontainer.json'
check_eq "exec: a configuration that does not load: runs with the container's recorded one" \
	"$(rdev exec "$name:~/ws" -- sh -c 'id -un; pwd' 2>"$TEST_TMP/bad.err"; echo "rc=$?")" "dev
/workspaces/ws
rc=0"
check_eq "... one warning, naming the file's error" \
	"$(grep -c "^rdev: exec: warning: .*/\.devcontainer\.json:1:[0-9]*: .*using the running container's recorded configuration" "$TEST_TMP/bad.err")" 1
on_host 'mv ~/ws-good.json ~/ws/.devcontainer.json'

# --- shell through a real terminal -------------------------------------------
check "shell: typed commands, TERM, resize and exit status through a pty" \
	python3 "$drive" --rows 24 --cols 80 --term xterm-256color --timeout 20 \
	--steps "$RDEV_SOURCE_DIR/tests/e2e/shell-pty.steps" -- "$RDEV_BIN_DIR/rdev" shell "$name:~/ws"
# A SIGINT sent to rdev itself (kill, a parent program; not ^C typed, a byte
# in raw mode) reaches the command with a TTY too: its trap runs and rdev exits
# with its status. It used to kill rdev (130, the terminal left raw, the
# command hung up untold); SIGQUIT likewise. Sent as soon as the command's
# "ready" comes, while rdev is busy with that output, five times: a signal
# coming between the loop's look and its wait used to wait for the next
# output (here: for ever; about one run in two, TTY or not).
intr_cmd='trap "echo got-INT; exit 7" INT; trap "echo got-QUIT; exit 8" QUIT
	echo ready; while :; do sleep 0.1; done'
for i in 1 2 3 4 5; do
	check "exec with a TTY: a SIGINT sent to rdev reaches the command (its trap, its status; $i)" \
		python3 "$drive" --timeout 10 --step 'expect ready' --step 'signal INT' \
		--step 'expect got-INT' --step 'exitstatus 7' -- \
		"$RDEV_BIN_DIR/rdev" exec "$name:~/ws" -- bash -c "$intr_cmd"
done
check "exec with a TTY: and a SIGQUIT" \
	python3 "$drive" --timeout 20 --step 'expect ready' --step 'signal QUIT' \
	--step 'expect got-QUIT' --step 'exitstatus 8' -- \
	"$RDEV_BIN_DIR/rdev" exec "$name:~/ws" -- bash -c "$intr_cmd"
check_exec_signals "$name:~/ws"

# --- the other commands ---------------------------------------------------------
check "ls HOST lists the container" sh -c \
	"'$RDEV_BIN_DIR/rdev' ls '$name:~' --json | jq -e >/dev/null --arg c '$cid' 'map(.containerId | startswith(\$c)) | any'"
eventually "logs shows the background postStartCommand" sh -c \
	"'$RDEV_BIN_DIR/rdev' logs '$name:~/ws' | grep -q started-in-background"
# logs (-f or not) whose output cannot be written: 125, or 141 for a reader
# gone, as exec (lib.sh)
check_logs_write_errors "$name:~/ws"
check_eq "read-configuration over SSH names the remote file" \
	"$(rdev read-configuration "$name:~/ws" | jq -r '.configuration.configFilePath.fsPath')" \
	"$home/ws/.devcontainer.json"

# --- a lifecycle command's many lines through up ---------------------------------
# Its output travels many lines per event (agent/progress.h): all 200,000
# lines arrive, in order, in the plain log and as --log-format json's "raw"
# lines (one per line); a line printed before a pause shows before the pause
# ends (the runner flushes what it read): the pause lasts until the test has
# seen the line (the file go-on in the workspace; at most 90 s), not a fixed
# 4 s that the up then waited out. (One line per event took 3 s for
# 200,000 lines here, 28 s for 2,000,000: bench/README.md.)
on_host "mkdir -p ~/lines && printf '%s' '{\"image\": \"$RDEV_RIG_IMAGE_BOOKWORM_DEV\",
	\"remoteUser\": \"dev\", \"updateRemoteUserUID\": false,
	\"postCreateCommand\": \"echo before-pause; i=0; while [ ! -e go-on ] && [ \$i -lt 900 ]; do sleep 0.1; i=\$((i + 1)); done; echo after-pause\",
	\"postAttachCommand\": \"seq -f line-%06g 200000; sh big.sh\"}' >~/lines/.devcontainer.json"
# Lines too long for one frame (16 MiB; 3 MB of control bytes is 21 MB
# escaped twice in json) went nowhere but the agent's log: they come in
# pieces of 1 MiB, each a line, every byte kept (docs/CLI.md).
on_host "cat >~/lines/big.sh" <<'SH'
head -c 20971520 /dev/zero | tr '\0' x; echo
head -c 3000000 /dev/zero | tr '\0' '\001'; echo
echo after-big
SH
# big_bytes FILE BYTE: the bytes of FILE's lines made only of BYTE
big_bytes() { LC_ALL=C grep -aE "^$2+\$" "$1" | tr -d '\n' | wc -c; }
seq -f line-%06g 200000 >"$TEST_TMP/lines.want"
RDEV_PROGRESS=plain "$RDEV_BIN_DIR/rdev" up "$name:~/lines" >"$TEST_TMP/lines.out" \
	2>"$TEST_TMP/lines.err" &
pl=$!
for _ in $(seq 1 600); do
	grep -q '^before-pause$' "$TEST_TMP/lines.err" && break
	kill -0 $pl 2>/dev/null || break
	sleep 0.1
done
check "up: a line before a pause shows before the pause ends" \
	sh -c "grep -q '^before-pause\$' '$TEST_TMP/lines.err' && ! grep -q '^after-pause\$' '$TEST_TMP/lines.err'"
on_host "touch ~/lines/go-on"
wait $pl || { tail -5 "$TEST_TMP/lines.err" >&2; fail "rdev up $name:~/lines failed"; }
grep '^line-' "$TEST_TMP/lines.err" >"$TEST_TMP/lines.got" || true
check "up: 200,000 lines of postAttachCommand, all of them in order" \
	cmp -s "$TEST_TMP/lines.got" "$TEST_TMP/lines.want"
check_eq "up: ... the first and the last" \
	"$(head -n 1 "$TEST_TMP/lines.got") $(tail -n 1 "$TEST_TMP/lines.got")" "line-000001 line-200000"
check_eq "up: a 20 MiB line arrives whole, in 20 lines of 1 MiB" \
	"$(big_bytes "$TEST_TMP/lines.err" x) $(LC_ALL=C grep -acE '^x+$' "$TEST_TMP/lines.err")" "20971520 20"
check_eq "up: ... and 3 MB of control bytes" "$(big_bytes "$TEST_TMP/lines.err" $'\x01')" 3000000
check "up: ... and the line after them" grep -qx after-big "$TEST_TMP/lines.err"
rdev up "$name:~/lines" --log-format json >/dev/null 2>"$TEST_TMP/lines.json" ||
	{ tail -5 "$TEST_TMP/lines.json" >&2; fail "rdev up $name:~/lines --log-format json failed"; }
jq -j 'select(.type == "raw" and .channel == "postCreate") | .text' "$TEST_TMP/lines.json" |
	grep '^line-' >"$TEST_TMP/lines.jgot" || true
check "up --log-format json: the 200,000 lines, in order" \
	cmp -s "$TEST_TMP/lines.jgot" "$TEST_TMP/lines.want"
check_eq "up --log-format json: one JSON line per output line" \
	"$(grep -c '"text":"line-[0-9]*\\n"' "$TEST_TMP/lines.json")" 200000
check "up --log-format json: every line of stderr is a JSON object" \
	sh -c "jq -e 'type == \"object\"' '$TEST_TMP/lines.json' >/dev/null"
jq -j 'select(.type == "raw" and .channel == "postCreate") | .text' "$TEST_TMP/lines.json" >"$TEST_TMP/lines.jtext"
check_eq "up --log-format json: the 20 MiB line arrives whole, and the 3 MB of control bytes" \
	"$(big_bytes "$TEST_TMP/lines.jtext" x) $(big_bytes "$TEST_TMP/lines.jtext" $'\x01')" "20971520 3000000"
check "up --log-format json: ... and the line after them" grep -qx after-big "$TEST_TMP/lines.jtext"

# --- two clients at once --------------------------------------------------------
rdev exec "$name:~/ws" -- sh -c 'sleep 1; echo first' >"$TEST_TMP/c1" &
p1=$!
rdev exec "$name:~/ws" -- sh -c 'sleep 1; echo second' >"$TEST_TMP/c2" &
p2=$!
wait $p1 && wait $p2 || fail "two concurrent execs"
check_eq "two clients at once: first" "$(cat "$TEST_TMP/c1")" first
check_eq "two clients at once: second" "$(cat "$TEST_TMP/c2")" second

# --- a client killed mid-exec ------------------------------------------------
"$RDEV_BIN_DIR/rdev" exec "$name:~/ws" -- sleep 3$$ </dev/null &
pk=$!
eventually "the long exec runs in the container" sh -c \
	"docker top $cid -eo pid,args | grep -q '[s]leep 3$$'"
kill -9 $pk
wait $pk 2>/dev/null || true
eventually "after the client is killed nothing of it runs in the container" sh -c \
	"! docker top $cid -eo pid,args | grep -q '[s]leep 3$$'"
eventually "and no rdev-agent serve of it stays on the host" \
	eval 'test "$(client_serves)" -eq 0'

# --- localhost:PATH: this machine through its own sshd --------------------------
# A config whose "localhost" is the rig host's sshd on this machine.
{
	echo "Host localhost"
	sed -n 's/^ *\(HostName\|Port\|User\|IdentityFile\|IdentitiesOnly\|UserKnownHostsFile\|GlobalKnownHostsFile\|BatchMode\) /  \1 /p' "$cfg"
} >"$TEST_TMP/ssh_config_localhost"
check_eq "localhost:PATH goes through this machine's sshd to the same container" \
	"$(RDEV_SSH_CONFIG=$TEST_TMP/ssh_config_localhost "$RDEV_BIN_DIR/rdev" up localhost:~/ws \
	--accept-new-host-key 2>/dev/null | jq -r .containerId)" "$(docker inspect -f '{{.Id}}' "$cid")"

# --- the broker killed ------------------------------------------------------------
pid=$(broker status --json | jq -r .pid)
kill -9 "$pid"
check_eq "after the broker was killed, the next exec starts a new one" \
	"$(rdev exec "$name:~/ws" -- echo again)" again
check "a new broker runs" test "$(broker status --json | jq -r .pid)" != "$pid"
pid=$(broker status --json | jq -r .pid)
kill -9 "$pid"
while pid_alive "$pid"; do sleep 0.1; done
check "a killed broker leaves its socket file" test -S "$RDEV_RUNTIME_DIR/broker.sock"
check_eq "a stale socket file: the next exec starts a new broker" \
	"$(rdev exec "$name:~/ws" -- echo again)" again
# A socket whose listener takes connections and drops them, as a broker being
# killed does: before the HELLO (close), or after it, before the answer (hello).
for mode in close hello; do
	broker stop >/dev/null
	python3 "$RDEV_SOURCE_DIR/tests/e2e/dying_broker.py" "$RDEV_RUNTIME_DIR/broker.sock" \
		"$mode" >"$TEST_TMP/dying.$mode" &
	dpid=$!
	# (listening, not only bound: a refused connect would look like a stale socket)
	for _ in $(seq 1 100); do grep -q '^ready' "$TEST_TMP/dying.$mode" && break; sleep 0.1; done
	check_eq "a broker socket that drops connections ($mode): exec starts a real broker" \
		"$(rdev exec "$name:~/ws" -- echo again)" again
	check "and the client had met the dropping one" grep -q '^conn' "$TEST_TMP/dying.$mode"
	check "a real broker answers" sh -c "broker_sw=\$('$RDEV_BIN_DIR/rdev-broker' status --json | jq -r .software) && test \"\${broker_sw#rdev-broker}\" != \"\$broker_sw\""
	kill "$dpid"
	wait "$dpid" 2>/dev/null || true
done

# The broker's SSH connection killed under an exec (its sshd process): the
# exec exits 125 with the broker's FATAL frame, naming the host and the lost
# connection (the client's guess named both the lost connection and a
# stopped broker, which ran on), and the next exec reconnects.
# (a unique sleep, to see it hung up; the broker must be the same one after)
lost_sleep=600$$
bpid=$("$RDEV_BIN_DIR/rdev-broker" status --json | jq -r .pid)
rdev exec "$name:~/ws" -- sh -c "echo started; sleep $lost_sleep" >"$TEST_TMP/lost.out" 2>"$TEST_TMP/lost.err" &
epid=$!
started() { grep -q started "$TEST_TMP/lost.out"; }
for _ in $(seq 1 300); do started && break; sleep 0.1; done
started || fail "the exec under which the connection is to be lost did not start"
sshd_pids=$(pgrep -u "rdev-$name" -f "sshd(-session)?: rdev-$name@notty") ||
	fail "no sshd process of the broker's connection to kill"
kill -9 $sshd_pids
set +e
wait "$epid"
rc=$?
set -e
check_eq "the SSH connection lost under an exec: 125" "$rc" 125
check "and the message names the host and the lost connection" \
	grep -q "^rdev: exec: lost the SSH connection to [^ ]*@$name:[0-9]*: " "$TEST_TMP/lost.err"
check "and not a stopped broker" sh -c "! grep -q 'rdev-broker\|stopped or killed' '$TEST_TMP/lost.err'"
check_eq "the broker ran on (the same pid)" \
	"$("$RDEV_BIN_DIR/rdev-broker" status --json | jq -r .pid)" "$bpid"
sleep_gone() { ! pgrep -f "^sleep $lost_sleep\$" >/dev/null; }
for _ in $(seq 1 200); do sleep_gone && break; sleep 0.1; done
check "the command under the lost connection is hung up" sleep_gone
check_eq "the next exec reconnects" "$(rdev exec "$name:~/ws" -- echo again)" again
# The connection hung under an exec (its sshd process stopped: the host's
# kernel still takes the bytes, nothing answers): the keepalive gives up
# (3 s x 3 by default; 60 s allowed) and the exec ends the same way, 125
# with the broker's FATAL naming the host and the unanswered keepalive.
# Through it too, a forwarded connection whose server had sent its whole
# stream (3 MB) and closed, to a reader that has not read it yet (most of it
# waits in the broker's socket): the lost session must not reset it, which
# throws that tail away (a reset came after 127,574 bytes); the reader gets
# all of it, then the EOF.
pw=$(rig_ports 1)
docker exec -d "$cid" perl -MIO::Socket::INET -e '
	my $s = IO::Socket::INET->new(LocalPort => '"$pw"', Listen => 1,
		ReuseAddr => 1) or die;
	my $c = $s->accept; print $c "x" x 3000000; close $c;
	open(my $f, ">", "/tmp/sent-'"$pw"'") and close $f'
listening() { docker exec "$cid" grep -qi ":$(printf %04X "$pw") 00000000:0000 0A " /proc/net/tcp; }
eventually "a server in the container listens" listening
rdev forward "$name:~/ws" "$pw" >/dev/null 2>"$TEST_TMP/fw.err" ||
	{ cat "$TEST_TMP/fw.err" >&2; fail "rdev forward $pw failed"; }
python3 "$RDEV_SOURCE_DIR/tests/e2e/forward_client.py" paused "$pw" "$TEST_TMP/go" >"$TEST_TMP/paused.out" &
paused_pid=$!
# (the reader, waiting for GO for 2 min, goes with a failure before it)
trap 'rc=$?; set +e; kill $paused_pid 2>/dev/null; (exit $rc); rig_remote_cleanup ws gone lines' EXIT
sent() { docker exec "$cid" test -e "/tmp/sent-$pw"; }
eventually "the server sent its 3 MB and closed" sent
# (the broker holds none of it: the reader's socket is full, and the
# broker's holds the rest, its FIN after it)
shut() { [ -n "$(ss -Htn state fin-wait-1 "( sport = :$pw )")" ]; }
eventually "the broker passed all of it to the reader's socket, and the end" shut
rdev exec "$name:~/ws" -- sh -c "echo started; sleep $lost_sleep" >"$TEST_TMP/hung.out" 2>"$TEST_TMP/hung.err" &
epid=$!
for _ in $(seq 1 300); do grep -q started "$TEST_TMP/hung.out" && break; sleep 0.1; done
grep -q started "$TEST_TMP/hung.out" || fail "the exec under which the connection is to hang did not start"
sshd_pids=$(pgrep -u "rdev-$name" -f "sshd(-session)?: rdev-$name@notty") ||
	fail "no sshd process of the broker's connection to stop"
trap 'rc=$?; set +e; kill -CONT $sshd_pids 2>/dev/null; kill $epid $paused_pid 2>/dev/null; (exit $rc); rig_remote_cleanup ws gone lines' EXIT
kill -STOP $sshd_pids
for _ in $(seq 1 600); do kill -0 "$epid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$epid" 2>/dev/null && fail "the exec under the hung connection still runs after 60 s"
set +e
wait "$epid"
rc=$?
set -e
kill -CONT $sshd_pids
trap 'rc=$?; set +e; kill $paused_pid 2>/dev/null; (exit $rc); rig_remote_cleanup ws gone lines' EXIT
check_eq "the SSH connection hung under an exec: 125" "$rc" 125
check "and the message names the host and the unanswered keepalive" \
	grep -q "^rdev: exec: lost the SSH connection to [^ ]*@$name:[0-9]*: .*keepalive" "$TEST_TMP/hung.err"
touch "$TEST_TMP/go"
wait "$paused_pid" || :
trap 'rig_remote_cleanup ws gone lines' EXIT
check_eq "a reader of a stream its server had ended whole gets all of it and an EOF" \
	"$(tail -1 "$TEST_TMP/paused.out")" "eof 3000000"
for _ in $(seq 1 200); do sleep_gone && break; sleep 0.1; done
check "the command under the hung connection is hung up" sleep_gone
check_eq "the next exec reconnects again" "$(rdev exec "$name:~/ws" -- echo again)" again
# The broker itself killed under an exec: no FATAL frame, the stream just
# ends; the client names both causes it cannot tell apart.
rdev exec "$name:~/ws" -- sh -c "echo started; sleep $lost_sleep" >"$TEST_TMP/bk.out" 2>"$TEST_TMP/bk.err" &
epid=$!
for _ in $(seq 1 300); do grep -q started "$TEST_TMP/bk.out" && break; sleep 0.1; done
kill -9 "$("$RDEV_BIN_DIR/rdev-broker" status --json | jq -r .pid)"
set +e
wait "$epid"
rc=$?
set -e
check_eq "the broker killed under an exec: 125" "$rc" 125
check "and the message names the host and both causes" \
	grep -q "^rdev: exec: $name: the connection ended before the command did (the SSH connection to the host was lost, or rdev-broker stopped" "$TEST_TMP/bk.err"

# --- stop/down ----------------------------------------------------------------
rdev stop "$name:~/ws" --json >"$TEST_TMP/stop.out"
check_eq "stop over SSH" "$(jq -r .stopped "$TEST_TMP/stop.out")" 1
check_eq "the container is stopped" "$(docker inspect -f '{{.State.Running}}' "$cid")" false
rdev down "$name:~/ws" --json >"$TEST_TMP/down.out"
check_eq "down over SSH" "$(jq -r .removed "$TEST_TMP/down.out")" 1
check "the container is gone" sh -c "! docker inspect $cid >/dev/null 2>&1"

# A workspace folder deleted on the host does not strand its container:
# status, stop and down find it by the folder's label, with a warning. They refused
# ("workspace folder ...: No such file or directory"), leaving it running
# for `docker rm` by hand.
on_host 'mkdir -p ~/gone && cp ~/ws/.devcontainer.json ~/gone/'
rdev up "$name:~/gone" >/dev/null 2>"$TEST_TMP/gup.err" ||
	{ cat "$TEST_TMP/gup.err" >&2; fail "rdev up $name:~/gone failed"; }
gcid=$(docker ps -q --filter "label=devcontainer.local_folder=$home/gone")
on_host 'rm -rf ~/gone'
set +e
rdev status "$name:~/gone" --json >"$TEST_TMP/gstatus.out" 2>"$TEST_TMP/gstatus.err"
rdev stop "$name:~/gone" --json >"$TEST_TMP/gstop.out" 2>"$TEST_TMP/gstop.err"
rdev down "$name:~/gone" --json >"$TEST_TMP/gdown.out" 2>"$TEST_TMP/gdown.err"
set -e
check_eq "status of a workspace whose folder was deleted: its container, running" \
	"$(jq -r '.containerId[:12] + " " + .state' "$TEST_TMP/gstatus.out")" "${gcid:0:12} running"
check "... with a warning" grep -q "^rdev: status: warning: workspace folder $home/gone: No such file" \
	"$TEST_TMP/gstatus.err"
check_eq "stop of a workspace whose folder was deleted: its container" \
	"$(jq -r .stopped "$TEST_TMP/gstop.out")" 1
check "... saying the folder is gone" \
	grep -q "^rdev: stop: warning: workspace folder $home/gone: No such file" "$TEST_TMP/gstop.err"
check_eq "down of it: removed" "$(jq -r .removed "$TEST_TMP/gdown.out")" 1
check "... the container is gone" sh -c "test -n '$gcid' && ! docker inspect '$gcid' >/dev/null 2>&1"

# --- host keys --------------------------------------------------------------------
export RDEV_KNOWN_HOSTS=$TEST_TMP/known_hosts
: >"$RDEV_KNOWN_HOSTS"
set +e
rdev ls "$name:~" >/dev/null 2>"$TEST_TMP/hk1"; rc=$?
set -e
check_eq "unknown host key: refused" "$rc" 1
fp=$(ssh-keygen -lf "$hdir/ssh_host_ed25519_key.pub" | awk '{print $2}')
check "unknown host key: the message shows the fingerprint" grep -qF "$fp" "$TEST_TMP/hk1"
check "unknown host key: and the flag that accepts it" \
	grep -q -- '--accept-new-host-key' "$TEST_TMP/hk1"
check "accepted with --accept-new-host-key" sh -c "\"$RDEV_BIN_DIR/rdev\" ls \"$name:~\" --accept-new-host-key >/dev/null"
check "and recorded" test -s "$RDEV_KNOWN_HOSTS"
broker stop >/dev/null
# Another key for the same host in the file: the real one is now "changed".
ssh-keygen -q -t ed25519 -N '' -f "$TEST_TMP/otherkey"
port=$(cat "$hdir/port")
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$TEST_TMP/otherkey.pub")" >"$RDEV_KNOWN_HOSTS"
set +e
rdev ls "$name:~" --accept-new-host-key >/dev/null 2>"$TEST_TMP/hk2"; rc=$?
set -e
check_eq "changed host key: refused even with the flag" "$rc" 1
check "changed host key: OpenSSH's warning" grep -qi 'changed\|IDENTIFICATION' "$TEST_TMP/hk2"
unset RDEV_KNOWN_HOSTS

broker stop >/dev/null
set +e
broker status >/dev/null; rc=$?
set -e
check_eq "rdev-broker stop: status then says not running (3)" "$rc" 3
finish
