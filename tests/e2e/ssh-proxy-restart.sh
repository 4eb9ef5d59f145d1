#!/usr/bin/env bash
# ssh-proxy-restart.sh - `rdev ssh-proxy` keeps the SSH connection when its
# link to the agent drops (docs/SSH-PROXY.md, "A lost agent"): with the host's
# agents killed (pkill -KILL 'rdev-agent serve') and then the broker killed
# (kill -9), a running `ssh -N -L` stays up and its new connections work (the
# proxy connects again: a new agent, a new broker), a ControlMaster's new
# sessions work, a session running on the lost link ends as sshd's end would
# (exit-signal: ssh exits 255) with the reason on its stderr, and the broker's
# end is told as rdev exec tells it. The proxy's errors say `rdev:
# ssh-proxy:` (no container, a devcontainer.json that does not parse, the
# container stopped under a session), and a host key made anew says so and
# what to run. Real OpenSSH client, real rig host.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker

rig_remote_host spr
export HOME=$TEST_TMP/home
mkdir -p "$HOME"
fwd= master= run= stopped= term=
ssh_proxy_restart_cleanup() {
	local rc=$? pids i
	# (set -e: the (exit $rc) below, on a failure, ended the trap there,
	# before rig_remote_cleanup: the broker, the test's container and rig
	# host were left running)
	set +e
	# (a broker left stopped by a failed check would hold the rig's cleanup)
	if [ -n "$stopped" ]; then kill -CONT "$stopped" 2>/dev/null || true; fi
	for p in $fwd $master $run $term; do kill "$p" 2>/dev/null || true; done
	# (the proxies end with their ssh; one still inside a reconnect would
	# try for its window and start a broker after the broker stop below:
	# ended, and waited for, first)
	pids=$(pgrep -f -- "ssh-proxy '?$name:")
	if [ -n "$pids" ]; then
		kill $pids 2>/dev/null
		for i in $(seq 50); do
			[ -n "$(pgrep -f -- "ssh-proxy '?$name:")" ] || break
			sleep 0.1
		done
	fi
	(exit $rc)
	rig_remote_cleanup ws
}
trap ssh_proxy_restart_cleanup EXIT
on_host "mkdir -p ~/ws && printf '%s' '{\"image\": \"$RDEV_RIG_IMAGE_BOOKWORM_DEV\",
	\"remoteUser\": \"dev\", \"updateRemoteUserUID\": false}' > ~/ws/.devcontainer.json &&
	mkdir -p ~/nows ~/bad && cp ~/ws/.devcontainer.json ~/nows/ && echo '{\"image\": ' > ~/bad/.devcontainer.json"
rdev up "$name:~/ws" >"$TEST_TMP/up.out" 2>"$TEST_TMP/up.err" ||
	{ cat "$TEST_TMP/up.err" >&2; fail "rdev up $name:~/ws failed"; }
rdev ssh-config "$name:~/ws" --write >/dev/null 2>&1
sshp() { ssh -F "$HOME/.ssh/rdev.config" -o BatchMode=yes "$@"; }

# busybox httpd on the container's 127.0.0.1 (the relay) and 0.0.0.0 (direct).
cid=$(jq -r .containerId "$TEST_TMP/up.out")
docker cp /bin/busybox "$cid:/bin/busybox"
docker exec "$cid" sh -c "mkdir -p /www && echo from-ws > /www/x &&
	busybox httpd -p 127.0.0.1:8301 -h /www && busybox httpd -p 0.0.0.0:8303 -h /www"
base=$(rig_ports 2)
# (background ones call ssh itself: `kill $!` of a function's subshell would
# leave its ssh, and its proxy, running)
ssh -F "$HOME/.ssh/rdev.config" -o BatchMode=yes -N -o ExitOnForwardFailure=yes -L "$base:localhost:8301" -L "$((base + 1)):localhost:8303" \
	rdev-ws 2>"$TEST_TMP/L.err" &
fwd=$!
eventually "ssh -L listens" bash -c "exec 3<>/dev/tcp/127.0.0.1/$base"
# A ControlMaster (as VS Code's and many users' configs keep one).
ssh -F "$HOME/.ssh/rdev.config" -o BatchMode=yes -N -o ControlMaster=yes -o ControlPath="$TEST_TMP/cm" rdev-ws 2>"$TEST_TMP/cm.err" &
master=$!
eventually "the ControlMaster listens" test -S "$TEST_TMP/cm"
cms() { sshp -o ControlMaster=no -o ControlPath="$TEST_TMP/cm" rdev-ws "$@"; }
check_eq "ssh -L works" "$(curl -sf "http://127.0.0.1:$base/x")" from-ws
check_eq "a session through the ControlMaster works" "$(cms echo cm-ok)" cm-ok
# A session running on the link that is lost below.
ssh -F "$HOME/.ssh/rdev.config" -o BatchMode=yes rdev-ws 'echo started; sleep 60' >"$TEST_TMP/run.out" 2>"$TEST_TMP/run.err" &
run=$!
eventually "the long session runs" grep -q started "$TEST_TMP/run.out"

# --- the host's agents killed ------------------------------------------------------
on_host "pkill -KILL -u \$(id -u) -f 'rdev-agent serve'"
st=0
wait "$run" || st=$?
check_eq "the session on the lost link ends: 255 (exit-signal, as sshd's end)" "$st" 255
check "... with the reason on its stderr ($(tr '\n' ' ' <"$TEST_TMP/run.err"))" \
	grep -q '^rdev: ssh-proxy: .*the command is hung up' "$TEST_TMP/run.err"
check "... and its proxy's count: 1 session hung up" \
	grep -q '^rdev: ssh-proxy: .*; 1 session hung up; new channels connect again$' "$TEST_TMP/run.err"
check "the ssh -L connection stays up" pid_alive "$fwd"
check "the ControlMaster stays up" pid_alive "$master"
# (the broker carries connections to the container's own ports: those need
# no agent, so no new one is made for them)
eventually "ssh -L's proxy saw the agent end" grep -q 'connect again' "$TEST_TMP/L.err"
check "... and says no session was running on it (none was: not 'its sessions are hung up') ($(tr '\n' ' ' <"$TEST_TMP/L.err"))" \
	grep -q '; no session was running on it; new channels connect again$' "$TEST_TMP/L.err"
check_eq "ssh -L: a new connection works (direct)" "$(curl -sf "http://127.0.0.1:$((base + 1))/x")" from-ws
check "... without connecting to an agent again ($(tr '\n' ' ' <"$TEST_TMP/L.err"))" \
	bash -c "! grep -q 'connected to the agent again' '$TEST_TMP/L.err'"
check_eq "ssh -L: a new connection works (relay)" "$(curl -sf "http://127.0.0.1:$base/x")" from-ws
check_eq "a new ControlMaster session works (a new agent)" "$(cms echo again)" again

# --- the broker killed -------------------------------------------------------------
bpid=$(broker status --json | jq -r .pid)
kill -KILL "$bpid"
eventually "the broker is gone" pid_gone "$bpid"
proxy_told() { grep -q 'the connection ended (the SSH connection to the host was lost, or rdev-broker stopped' "$TEST_TMP/cm.err"; }
eventually "the proxy says the connection ended as rdev exec does ($(tr '\n' ' ' <"$TEST_TMP/cm.err"))" proxy_told
check "not 'the agent closed the connection'" bash -c "! grep -q 'the agent closed the connection' '$TEST_TMP/cm.err'"
check_eq "a new ControlMaster session works (a new broker)" "$(cms echo after-broker)" after-broker
check_eq "ssh -L: a new connection works after the broker's end" \
	"$(curl -sf "http://127.0.0.1:$base/x")" from-ws
check "the ssh -L connection stays up" pid_alive "$fwd"
check "the ControlMaster stays up" pid_alive "$master"

# --- a broker that cannot start: the reconnect fails, the proxy lives on -------------
# (a proxy run from a copy of rdev whose sibling rdev-broker, what the client
# starts, fails while $TEST_TMP/nobroker exists)
mkdir -p "$TEST_TMP/bin2"
cp "$RDEV_BIN_DIR/rdev" "$TEST_TMP/bin2/rdev"
printf '#!/bin/sh\nif [ -e %q ]; then echo "test: no broker today" >&2; exit 1; fi\nexec %q "$@"\n' \
	"$TEST_TMP/nobroker" "$RDEV_BIN_DIR/rdev-broker" >"$TEST_TMP/bin2/rdev-broker"
chmod +x "$TEST_TMP/bin2/rdev-broker"
pcmd=$(awk '$1 == "Host" { in_ws = ($2 == "rdev-ws") } in_ws && $1 == "ProxyCommand" { $1 = ""; print; exit }' "$HOME/.ssh/rdev.config")
pcmd="$TEST_TMP/bin2/rdev ssh-proxy ${pcmd#* ssh-proxy }"
# (its reconnect window 5 s, not 30: RDEV_SSH_PROXY_RELINK_MS, docs/DEVELOPING.md;
# a failed one then takes ~3.8 s, not ~24, and new channels wait 5 s at most)
relink_ms=5000
RDEV_SSH_PROXY_RELINK_MS=$relink_ms ssh -F "$HOME/.ssh/rdev.config" -o BatchMode=yes -o ProxyCommand="$pcmd" -N -o ControlMaster=yes \
	-o ControlPath="$TEST_TMP/cm2" rdev-ws 2>"$TEST_TMP/cm2.err" &
master2=$!
master="$master $master2"
eventually "a second ControlMaster (the copied rdev) listens" test -S "$TEST_TMP/cm2"
# (ProxyCommand false: ssh falls back to a connection of its own when the
# master refuses the session)
cms2() { sshp -o ProxyCommand=false -o ControlMaster=no -o ControlPath="$TEST_TMP/cm2" rdev-ws "$@"; }
check_eq "a session through it works" "$(cms2 echo cm2-ok)" cm2-ok
touch "$TEST_TMP/nobroker"
bpid=$(broker status --json | jq -r .pid)
kill -KILL "$bpid"
eventually "the broker is gone" pid_gone "$bpid"
proxy2_told() { grep -q 'the connection ended' "$TEST_TMP/cm2.err"; }
eventually "the proxy saw the connection end ($(tr '\n' ' ' <"$TEST_TMP/cm2.err"))" proxy2_told
st=0
cms2 echo no-broker >"$TEST_TMP/nob.out" 2>"$TEST_TMP/nob.err" || st=$?
check "a new session while no broker can start is refused (exit $st)" test "$st" -ne 0
check "... and the proxy says why ($(tr '\n' ' ' <"$TEST_TMP/cm2.err"))" \
	grep -q "^rdev: ssh-proxy: a new session refused: .*could not start the broker" "$TEST_TMP/cm2.err"
# (a failed reconnect is not tried again for 5 s: the next opens are refused
# at once with its reason, not after another try, ~3.8 s here, each)
t0=$(date +%s%N)
st=0
cms2 echo no-broker-2 >/dev/null 2>&1 || st=$?
ms=$((($(date +%s%N) - t0) / 1000000))
check "a second session right after is refused too (exit $st)" test "$st" -ne 0
check "... at once (${ms} ms)" test "$ms" -lt 3000
check "... with the same reason" test "$(grep -c 'a new session refused: .*could not start the broker' "$TEST_TMP/cm2.err")" -eq 2
check "the ControlMaster survives the failed reconnect" pid_alive "$master2"
check "... with no memory error ($(tr '\n' ' ' <"$TEST_TMP/cm2.err"))" \
	bash -c "! grep -q 'AddressSanitizer' '$TEST_TMP/cm2.err'"
rm "$TEST_TMP/nobroker"
nobroker_failed=$(date +%s%N)
# (the failure's 5 s pass meanwhile: the sections below, then the check)

# --- the proxy's errors are its own ------------------------------------------------
rdev ssh-config "$name:~/nows" --write >/dev/null 2>&1
rdev ssh-config "$name:~/bad" --write >/dev/null 2>&1
st=0
sshp rdev-nows true 2>"$TEST_TMP/nows.err" || st=$?
check_eq "no container: 125" "$st" 125
check "... told as the proxy's ($(tr '\n' ' ' <"$TEST_TMP/nows.err"))" \
	grep -q '^rdev: ssh-proxy: no dev container for' "$TEST_TMP/nows.err"
sshp rdev-bad true 2>"$TEST_TMP/bad.err" || true
check "a devcontainer.json that does not parse: told as the proxy's ($(tr '\n' ' ' <"$TEST_TMP/bad.err"))" \
	grep -q '^rdev: ssh-proxy: .*devcontainer.json' "$TEST_TMP/bad.err"

# --- the host key made anew ---------------------------------------------------------
rm "$RDEV_STATE_DIR/ssh-proxy/host_key"
st=0
sshp -o ControlPath=none rdev-ws true 2>"$TEST_TMP/key.err" || st=$?
check_eq "a re-made host key is refused by ssh" "$st" 255
check "... and the proxy says it was made anew and what to run ($(tr '\n' ' ' <"$TEST_TMP/key.err"))" \
	grep -q "^rdev: ssh-proxy: the proxy's host key was made anew ($RDEV_STATE_DIR/ssh-proxy/host_key.*run \`rdev ssh-config --write\` again" "$TEST_TMP/key.err"
rdev ssh-config "$name:~/ws" --write >/dev/null 2>&1
check_eq "after ssh-config --write ssh takes it" "$(sshp -o ControlPath=none rdev-ws echo pinned 2>"$TEST_TMP/key2.err")" pinned
check "... and the proxy says nothing more" test ! -s "$TEST_TMP/key2.err"
# (the pinned key past the file's first 4 KiB: still no note)
kh=$RDEV_STATE_DIR/ssh-proxy/known_hosts
{ for i in $(seq 200); do echo "# padding line $i: a known_hosts longer than 4 KiB"; done; cat "$kh"; } >"$kh.new"
cat "$kh.new" >"$kh"
check_eq "a long known_hosts: ssh takes the key" "$(sshp -o ControlPath=none rdev-ws echo long 2>"$TEST_TMP/key3.err")" long
check "... and the proxy says nothing ($(tr '\n' ' ' <"$TEST_TMP/key3.err"))" test ! -s "$TEST_TMP/key3.err"

# --- (the broker that could not start) ---------------------------------------------
# (stopped: the copied rdev's wrapper starts it again for the reconnect)
broker stop >/dev/null
wait_quiet_over() { # $1: when the reconnect failed (date +%s%N)
	local left=$((relink_ms + 300 - ($(date +%s%N) - $1) / 1000000))
	if [ "$left" -gt 0 ]; then sleep "$(printf '%d.%03d' $((left / 1000)) $((left % 1000)))"; fi
}
wait_quiet_over "$nobroker_failed"
check_eq "once the broker can start, a new session works" "$(cms2 echo broker-back)" broker-back
check "the ControlMaster stays up" pid_alive "$master2"

# --- a stopped broker: the reconnect gives up within its window ------------------------
# (SIGSTOP: the broker's socket still takes connections, nothing answers; the
# proxy's loop waits only until its deadline, a new channel is refused then
# with the reason, and one carried by the broker ends at its deadline too)
lost_before=$(grep -c 'connect again' "$TEST_TMP/cm2.err")
on_host "pkill -KILL -u \$(id -u) -f 'rdev-agent serve'"
proxy2_lost() { [ "$(grep -c 'connect again' "$TEST_TMP/cm2.err")" -gt "$lost_before" ]; }
eventually "the proxy saw its agent end ($(tr '\n' ' ' <"$TEST_TMP/cm2.err"))" proxy2_lost
# (sessions ran on that link and ended: none was running, not "none ran")
check "... and says no session was running on it ($(tail -n 1 "$TEST_TMP/cm2.err"))" \
	bash -c "grep 'connect again' '$TEST_TMP/cm2.err' | tail -n 1 | grep -q '; no session was running on it; new channels connect again\$'"
bpid=$(broker status --json | jq -r .pid)
stopped=$bpid
kill -STOP "$bpid"
t0=$(date +%s%N)
# (-W: a direct-tcpip to the container's port, carried by the broker)
timeout 40 ssh -F "$HOME/.ssh/rdev.config" -o BatchMode=yes -o ProxyCommand=false -o ControlMaster=no \
	-o ControlPath="$TEST_TMP/cm2" -W localhost:8303 rdev-ws </dev/null >"$TEST_TMP/w.out" 2>"$TEST_TMP/w.err" &
wpid=$!
# (its open first: the session's reconnect below holds the proxy's loop)
sleep 0.5
st=0
timeout 40 ssh -F "$HOME/.ssh/rdev.config" -o BatchMode=yes -o ProxyCommand=false -o ControlMaster=no \
	-o ControlPath="$TEST_TMP/cm2" rdev-ws echo stopped >"$TEST_TMP/stopped.out" 2>&1 || st=$?
ms=$((($(date +%s%N) - t0) / 1000000))
stopped_failed=$(date +%s%N)
wst=0
wait "$wpid" || wst=$?
wms=$((($(date +%s%N) - t0) / 1000000))
kill -CONT "$bpid"
stopped=
check "a stopped broker: a new session is refused (exit $st)" test "$st" -ne 0 -a "$st" -ne 124
check "... within the proxy's window, ${relink_ms} ms, not 30 s or for ever (${ms} ms)" \
	test "$ms" -lt $((relink_ms + 3000))
check "... naming the host and the broker ($(tr '\n' ' ' <"$TEST_TMP/cm2.err"))" \
	grep -q "^rdev: ssh-proxy: a new session refused: $name: cannot reach the agent again (tried for [0-9.]* s): the broker did not answer in time" "$TEST_TMP/cm2.err"
# (its deadline is checked once the session's reconnect has let the loop go)
check "... ssh -W (carried by the broker) ends too (exit $wst), within its window (${wms} ms)" \
	test "$wst" -ne 124 -a "$wms" -lt $((2 * relink_ms + 3000))
check "... and the proxy says why" \
	grep -q "^rdev: ssh-proxy: port 8303: the broker did not answer within 5 s" "$TEST_TMP/cm2.err"
check "the ControlMaster stays up" pid_alive "$master2"
check_eq "the broker goes on (SIGCONT): ssh -W works at once" \
	"$(printf 'GET /x HTTP/1.0\r\n\r\n' | sshp -o ProxyCommand=false -o ControlMaster=no -o ControlPath="$TEST_TMP/cm2" -W localhost:8303 rdev-ws | tail -n 1)" from-ws

# --- a block written before --fdpass: the same workspace, refreshed in place ---------
sed -i 's/ --fdpass$//' "$HOME/.ssh/rdev.config"
check "(the rdev-ws block now has no --fdpass)" bash -c "! grep -q 'ssh-proxy.*~/ws.*--fdpass' '$HOME/.ssh/rdev.config'"
rdev ssh-config "$name:~/ws" --write >/dev/null 2>"$TEST_TMP/old.err"
check "ssh-config --write over it: no 'another workspace' ($(tr '\n' ' ' <"$TEST_TMP/old.err"))" \
	bash -c "! grep -q 'another workspace' '$TEST_TMP/old.err'"
check "... Host rdev-ws written again" grep -q '^rdev: wrote Host rdev-ws to' "$TEST_TMP/old.err"
check_eq "... one block for the workspace, with --fdpass" \
	"$(grep -c "ssh-proxy.*~/ws'\?\( \|\$\)" "$HOME/.ssh/rdev.config"):$(grep -c "ssh-proxy.*~/ws'\? --fdpass" "$HOME/.ssh/rdev.config")" 1:1

# (the stopped broker's failure's 5 s have passed meanwhile, or pass now)
wait_quiet_over "$stopped_failed"
check_eq "after the stopped broker's failure, a new session works (a new agent)" "$(cms2 echo after-cont)" after-cont
check "the ControlMaster stays up" pid_alive "$master2"

# --- a passphrase needed while connecting again: refused, never asked -------------
# (a ControlMaster whose proxy has a terminal (script's pty); its ssh config
# then names the rig's key with a passphrase and no ssh-agent, and the
# broker is killed: the reconnect's prompt is refused, nothing is written to
# or read from the terminal, and the refusal says why)
cp "$cfg" "$TEST_TMP/pp.cfg"
cp "$RDEV_RIG_CLIENT_KEY" "$TEST_TMP/ppkey"
cp "$RDEV_RIG_CLIENT_KEY.pub" "$TEST_TMP/ppkey.pub"
chmod 600 "$TEST_TMP/ppkey"
ssh-keygen -q -p -P '' -N 'open sesame' -f "$TEST_TMP/ppkey" >/dev/null
env -u SSH_AUTH_SOCK RDEV_SSH_CONFIG="$TEST_TMP/pp.cfg" RDEV_SSH_PROXY_RELINK_MS=$relink_ms \
	script -qfec "ssh -F '$HOME/.ssh/rdev.config' -o BatchMode=yes -n -N -o ControlMaster=yes \
	-o ControlPath='$TEST_TMP/cm3' rdev-ws 2>'$TEST_TMP/cm3.err'" /dev/null >"$TEST_TMP/cm3.tty" </dev/null &
term=$!
eventually "a ControlMaster on a terminal listens" test -S "$TEST_TMP/cm3"
cms3() { sshp -o ProxyCommand=false -o ControlMaster=no -o ControlPath="$TEST_TMP/cm3" rdev-ws "$@"; }
check_eq "a session through it works" "$(cms3 echo cm3-ok)" cm3-ok
# (and no BatchMode, which the rig's configs have: the broker would ask nobody)
sed -i "s|^\( *IdentityFile \).*|\1$TEST_TMP/ppkey|; /^ *BatchMode /d" "$TEST_TMP/pp.cfg"
bpid=$(broker status --json | jq -r .pid)
kill -KILL "$bpid"
eventually "the broker is gone" pid_gone "$bpid"
st=0
# (bounded: a proxy reading its terminal would hold it for ever)
timeout 20 ssh -F "$HOME/.ssh/rdev.config" -o BatchMode=yes -o ProxyCommand=false -o ControlMaster=no \
	-o ControlPath="$TEST_TMP/cm3" rdev-ws echo pp >/dev/null 2>&1 || st=$?
check "a key with a passphrase while connecting again: the session is refused (exit $st)" test "$st" -ne 0 -a "$st" -ne 124
check "... saying a passphrase is needed and that none is asked now ($(tr '\n' ' ' <"$TEST_TMP/cm3.err"))" \
	grep -q "^rdev: ssh-proxy: a new session refused: .*(a passphrase or password is needed, and ssh-proxy asks for none while it connects again: add the key to ssh-agent, or run \`rdev ls $name:\` once in a terminal)" "$TEST_TMP/cm3.err"
check "... and nothing was asked on the terminal ($(tr '\n' ' ' <"$TEST_TMP/cm3.tty"))" test ! -s "$TEST_TMP/cm3.tty"
ssh -o ControlPath="$TEST_TMP/cm3" -O exit rdev-ws 2>/dev/null || true

# --- the container stopped under a session ------------------------------------------
ssh -F "$HOME/.ssh/rdev.config" -o BatchMode=yes -o ControlPath=none rdev-ws 'echo started; sleep 60' >"$TEST_TMP/stop.out" 2>"$TEST_TMP/stop.err" &
run=$!
eventually "the session runs" grep -q started "$TEST_TMP/stop.out"
docker stop -t 1 "$cid" >/dev/null
wait "$run" || true
check "the container stopped: told as the proxy's ($(tr '\n' ' ' <"$TEST_TMP/stop.err"))" \
	grep -q "^rdev: ssh-proxy: the container's relay ended the exec" "$TEST_TMP/stop.err"

# --- rdev-broker stop under idle connections ------------------------------------------
# (the proxies connect again only for a new channel: a stop is not undone)
broker stop >/dev/null
sleep 3
check "rdev-broker stop with ssh -L and a ControlMaster up: no broker is started again" \
	test ! -S "$RDEV_RUNTIME_DIR/broker.sock"
check "... and they stay up" sh -c "kill -0 $fwd && kill -0 $master"
finish
