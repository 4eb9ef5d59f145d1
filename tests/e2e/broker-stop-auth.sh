#!/usr/bin/env bash
# broker-stop-auth.sh - `rdev-broker stop` while a host session's first
# connect is in authentication, on a host that never answers it (a private
# sshd whose AuthorizedKeysCommand sleeps: the key exchange is done, the
# publickey request waits): authentication blocks in libssh, and the stop
# shuts the session's socket down under it; it finishes at once, the
# waiting client is told "the broker is stopping". No Docker, no rig host.
. "$(dirname "$0")/../rig/lib.sh"

port=$(rig_ports 1)
ssh-keygen -q -t ed25519 -N '' -f "$TEST_TMP/hostkey"
ssh-keygen -q -t ed25519 -N '' -f "$TEST_TMP/id"
cat >"$TEST_TMP/sshd_config" <<EOC
Port $port
ListenAddress 127.0.0.1
HostKey $TEST_TMP/hostkey
PidFile $TEST_TMP/sshd.pid
PermitRootLogin yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile none
AuthorizedKeysCommand /bin/sleep 1000 $$
AuthorizedKeysCommandUser nobody
LoginGraceTime 120
UsePAM no
EOC
mkdir -p /run/sshd
/usr/sbin/sshd -D -e -f "$TEST_TMP/sshd_config" 2>"$TEST_TMP/sshd.log" &
spid=$!
# (the connection's sshd, a child of ours, outlives the listener: it and
# the command it waits for go too)
trap 'rc=$?; set +e; pkill -P "$spid" 2>/dev/null; kill "$spid" 2>/dev/null
	pkill -u nobody -xf "/bin/sleep 1000 $$" 2>/dev/null || true; (exit $rc); rig_test_cleanup' EXIT
listening() { ss -Htln "sport = :$port" | grep -q .; }
eventually "the private sshd listens" listening

echo "[127.0.0.1]:$port $(cut -d' ' -f1-2 "$TEST_TMP/hostkey.pub")" >"$TEST_TMP/known_hosts"
cat >"$TEST_TMP/ssh_config" <<EOC
Host mute
  HostName 127.0.0.1
  Port $port
  User $(id -un)
  IdentityFile $TEST_TMP/id
  IdentitiesOnly yes
  UserKnownHostsFile $TEST_TMP/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  ConnectTimeout 60
  BatchMode yes
EOC
export RDEV_SSH_CONFIG=$TEST_TMP/ssh_config
unset SSH_AUTH_SOCK

rdev exec mute:/tmp -- true >/dev/null 2>"$TEST_TMP/exec.err" &
exec_pid=$!
# (sleep adds its arguments up: this test's pid makes the command its own)
asking() { pgrep -u nobody -xf "/bin/sleep 1000 $$" >/dev/null; }
eventually "the broker's publickey request waits (sshd runs the command)" asking
sleep 0.5
broker_stop_timed
check_eq "rdev-broker stop exits 0" "$stop_st" 0
check "and does not wait for the authentication (< 2 s)" test "$stop_ms" -lt 2000
st=0
wait "$exec_pid" || st=$?
check "the waiting client fails" test "$st" -ne 0
check "told the broker is stopping" grep -q "the broker is stopping" "$TEST_TMP/exec.err"
finish
