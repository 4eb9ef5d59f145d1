#!/usr/bin/env bash
# broker-stop-dns.sh - `rdev-broker stop` while a host session's first
# connect waits for the host name's DNS lookup, from a DNS server that never
# answers (libssh 0.10 resolves inside ssh_connect, where nothing can
# abandon it: the stop waited the resolver's timeout, 10 s here): the stop
# finishes at once, the waiting client is told "the broker is stopping".
# The broker runs in a mount namespace of its own whose /etc/resolv.conf
# names this test's DNS server (dns_silent.py, on a loopback address of its
# own: NXDOMAIN for nx-* names, silence for the others) and whose /etc/hosts
# names a rig host. A known_hosts path with %h and a BindAddress given as a
# name no longer leave the lookup to libssh. Before the stop, names work as before: the host's name
# connects (libssh is handed a socket connected to its address), its host key checked under the
# name (known_hosts has the name only; an unknown key accepted is recorded
# under the name), and a name that does not exist fails
# as a DNS failure in libssh's words.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker

rig_remote_host dns
port=$(cat "$hdir/port")
on_host "mkdir -p ~/nows && echo '{\"image\": \"$RDEV_RIG_IMAGE_BOOKWORM_DEV\"}' >~/nows/.devcontainer.json"

# (a loopback address of this test's, so tests side by side do not share one)
dns=127.53.$((($$ >> 8) % 250 + 1)).$(($$ % 250 + 1))
"$RDEV_PYTHON" "$RDEV_SOURCE_DIR/tests/e2e/dns_silent.py" "$dns" "$TEST_TMP/queries" &
dpid=$!
bpid=
trap 'rc=$?; set +e; for p in $dpid $bpid; do kill -9 "$p" 2>/dev/null || true; done; (exit $rc); rig_test_cleanup' EXIT
listening() { ss -Huln "src = $dns" | grep -q .; }
eventually "the DNS server listens" listening

printf 'nameserver %s\noptions timeout:5 attempts:2\n' "$dns" >"$TEST_TMP/resolv.conf"
printf '127.0.0.1 localhost\n127.0.0.1 named.rdev-test\n' >"$TEST_TMP/hosts"
printf '[named.rdev-test]:%s %s\n' "$port" "$(cut -d' ' -f1,2 "$hdir/ssh_host_ed25519_key.pub")" \
	>"$TEST_TMP/known_hosts"
sed -e "s/^Host .*/Host named/" -e "s/^  HostName .*/  HostName named.rdev-test/" \
	-e "s|^  UserKnownHostsFile .*|  UserKnownHostsFile $TEST_TMP/known_hosts|" "$cfg" \
	>"$TEST_TMP/ssh_config"
: >"$TEST_TMP/known_hosts.fresh"
sed -e "s/^Host .*/Host fresh/" -e "s/^  HostName .*/  HostName named.rdev-test/" \
	-e "s|^  UserKnownHostsFile .*|  UserKnownHostsFile $TEST_TMP/known_hosts.fresh|" "$cfg" \
	>>"$TEST_TMP/ssh_config"
# (%h in a known_hosts path: expanded from the name, not an address)
mkdir -p "$TEST_TMP/kh"
cp "$TEST_TMP/known_hosts" "$TEST_TMP/kh/named.rdev-test"
sed -e "s/^Host .*/Host pct/" -e "s/^  HostName .*/  HostName named.rdev-test/" \
	-e "s|^  UserKnownHostsFile .*|  UserKnownHostsFile $TEST_TMP/kh/%h|" "$cfg" \
	>>"$TEST_TMP/ssh_config"
sed -e "s/^Host .*/Host bound/" -e "s/^  HostName .*/  HostName named.rdev-test/" \
	-e "s|^  UserKnownHostsFile .*|  UserKnownHostsFile $TEST_TMP/known_hosts\n  BindAddress named.rdev-test|" \
	"$cfg" >>"$TEST_TMP/ssh_config"
cat >>"$TEST_TMP/ssh_config" <<EOC
Host nx
  HostName nx-nosuch.rdev-test.invalid
  ConnectTimeout 3
  BatchMode yes
Host silent
  HostName nosuch.rdev-test.invalid
  ConnectTimeout 3
  BatchMode yes
Host silentpct
  HostName pct-nosuch.rdev-test.invalid
  UserKnownHostsFile $TEST_TMP/kh/%h
  ConnectTimeout 3
  BatchMode yes
Host silentbind
  HostName named.rdev-test
  BindAddress bind-nosuch.rdev-test.invalid
  ConnectTimeout 3
  BatchMode yes
EOC
export RDEV_SSH_CONFIG=$TEST_TMP/ssh_config

unshare -m sh -c 'mount --bind "$1" /etc/resolv.conf && mount --bind "$2" /etc/hosts &&
	exec "$3" start' sh "$TEST_TMP/resolv.conf" "$TEST_TMP/hosts" "$RDEV_BIN_DIR/rdev-broker" \
	>/dev/null
bpid=$(broker status --json | jq -r .pid)
check "the broker runs in its own mount namespace" \
	test "$(readlink /proc/$bpid/ns/mnt)" != "$(readlink /proc/self/ns/mnt)"

# --- names work as before -----------------------------------------------------
st=0
rdev exec named:~/nows -- true >/dev/null 2>"$TEST_TMP/named.err" || st=$?
check_eq "a host by name: exec gets past the connect (125)" "$st" 125
check "to the host (no container there)" grep -qF 'run `rdev up named:~/nows` first' "$TEST_TMP/named.err"
check "its key checked under the name (known_hosts has the name only)" \
	bash -c "! grep -qi 'host key' '$TEST_TMP/named.err'"
check "an unknown key accepted" rdev ls fresh:~ --accept-new-host-key
check "is recorded under the name" grep -q "^\[named.rdev-test\]:$port " "$TEST_TMP/known_hosts.fresh"
st=0
rdev exec pct:~/nows -- true >/dev/null 2>"$TEST_TMP/pct.err" || st=$?
check_eq "a known_hosts path with %h: exec gets past the connect (125)" "$st" 125
check "its key checked in the file named after the name" \
	grep -qF 'run `rdev up pct:~/nows` first' "$TEST_TMP/pct.err"
st=0
rdev exec bound:~/nows -- true >/dev/null 2>"$TEST_TMP/bound.err" || st=$?
check_eq "BindAddress given as a name: exec gets past the connect (125)" "$st" 125
check "the host had no DNS lookup (/etc/hosts)" bash -c "! grep -q named '$TEST_TMP/queries'"
start=$(date +%s%N)
st=0
rdev exec nx:/tmp -- true >/dev/null 2>"$TEST_TMP/nx.err" || st=$?
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
echo "     (failed after ${elapsed_ms} ms: $(cat "$TEST_TMP/nx.err"))"
check "a name that does not exist fails (exit 125)" test "$st" -eq 125
check "with libssh's words for it" \
	grep -q "Failed to resolve hostname nx-nosuch.rdev-test.invalid" "$TEST_TMP/nx.err"
check "asked to our DNS server" grep -q "^nx-nosuch.rdev-test.invalid$" "$TEST_TMP/queries"

# --- the stop -----------------------------------------------------------------
rdev exec silent:/tmp -- true >/dev/null 2>"$TEST_TMP/exec.err" &
exec_pid=$!
rdev exec silentpct:/tmp -- true >/dev/null 2>"$TEST_TMP/exec.pct.err" &
pct_pid=$!
rdev exec silentbind:/tmp -- true >/dev/null 2>"$TEST_TMP/exec.bind.err" &
bind_pid=$!
asked() { grep -q "^$1$" "$TEST_TMP/queries"; }
eventually "the broker's first connect waits for its DNS lookup" asked nosuch.rdev-test.invalid
eventually "so does one whose known_hosts path says %h" asked pct-nosuch.rdev-test.invalid
eventually "and one whose BindAddress is a name" asked bind-nosuch.rdev-test.invalid
broker_stop_timed
check_eq "rdev-broker stop exits 0" "$stop_st" 0
check "and does not wait for the DNS lookup (< 2 s)" test "$stop_ms" -lt 2000
# (stop returns once the socket is removed, as documented; the process's
# own end follows)
EVENTUALLY_SECONDS=5 eventually "the broker is gone" pid_gone "$bpid"
st=0
wait "$exec_pid" || st=$?
check "the waiting client fails" test "$st" -ne 0
check "told the broker is stopping" grep -q "the broker is stopping" "$TEST_TMP/exec.err"
for p in "$pct_pid" "$bind_pid"; do wait "$p" || true; done
check "so is the %h one" grep -q "the broker is stopping" "$TEST_TMP/exec.pct.err"
check "and the BindAddress one" grep -q "the broker is stopping" "$TEST_TMP/exec.bind.err"
check "its socket is removed (a clean end)" test ! -e "$RDEV_RUNTIME_DIR/broker.sock"
finish
