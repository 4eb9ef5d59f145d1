#!/usr/bin/env bash
# broker-proxy-fds.sh - the descriptors around a ProxyCommand the broker
# runs itself (broker/ssh-session.c): each session through one ends with
# the broker's end of its socket pair closed (libssh does not close a
# descriptor given with SSH_OPTIONS_FD at a disconnect: one leaked per
# session, per reconnect attempt that timed out), and the command gets only
# its stdin, stdout and stderr (not the broker's other descriptors: other
# sessions' TCP sockets, which libssh makes without FD_CLOEXEC); the same
# for a direct host, whose TCP socket the broker connects and gives libssh.
# No Docker, no rig host.
. "$(dirname "$0")/../rig/lib.sh"

cat >"$TEST_TMP/ssh_config" <<EOC
Host slow
  HostName slow.invalid
  ConnectTimeout 1
  BatchMode yes
  ProxyCommand sleep 30
Host silent
  HostName 127.0.0.1
  Port SILENT_PORT
  ConnectTimeout 1
  BatchMode yes
Host fds
  HostName fds.invalid
  ConnectTimeout 1
  BatchMode yes
  ProxyCommand exec ls /proc/self/fd >"$TEST_TMP/proxy.fds"
EOC
# A TCP listener that accepts and never speaks: the broker connects the
# socket itself and gives it to libssh (SSH_OPTIONS_FD), which never closes
# it: each session that timed out at the banner must not leave it.
silent_port=$(rig_ports 1)
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16)
held = []
while True:
    c, _ = s.accept(); held.append(c)
' "$silent_port" &
silent_pid=$!
sed -i "s/SILENT_PORT/$silent_port/" "$TEST_TMP/ssh_config"
export RDEV_SSH_CONFIG=$TEST_TMP/ssh_config
trap 'kill $silent_pid 2>/dev/null; rig_test_cleanup' EXIT

# (the first starts the broker and whatever it opens once)
rdev exec slow:/tmp -- true >/dev/null 2>&1 || true
bpid=$(broker status --json | jq -r .pid)
fds() { ls "/proc/$bpid/fd" | wc -l; }
# three_timeouts HOST: three sessions to HOST, each ending in a timeout;
# before is the broker's descriptor count before them.
three_timeouts() {
	before=$(fds)
	for _ in 1 2 3; do
		rdev exec "$1:/tmp" -- true >/dev/null 2>"$TEST_TMP/exec.err" || true
	done
}
three_timeouts slow
check "the connects timed out" grep -q "Timeout connecting" "$TEST_TMP/exec.err"
check_eq "the broker is the same" "$(broker status --json | jq -r .pid)" "$bpid"
check_eq "no descriptor left by three sessions through a ProxyCommand" "$(fds)" "$before"

rdev exec silent:/tmp -- true >/dev/null 2>&1 || true
three_timeouts silent
check "the direct connects timed out at the banner" grep -q "Timeout connecting" "$TEST_TMP/exec.err"
check_eq "no descriptor left by three sessions over a socket the broker connected" "$(fds)" "$before"

rdev exec fds:/tmp -- true >/dev/null 2>&1 || true
# (ls's own: 0 1 2, and the folder it reads)
check_eq "the ProxyCommand gets only stdin, stdout and stderr" \
	"$(sort -n "$TEST_TMP/proxy.fds" | head -n 3 | tr '\n' ' ')$(wc -l <"$TEST_TMP/proxy.fds")" \
	"0 1 2 4"
finish
