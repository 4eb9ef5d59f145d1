#!/usr/bin/env bash
# doctor.sh - `rdev doctor` against real rig hosts: a healthy host (all ok,
# exit 0, JSON that parses, the agent's version; its DOCKER_HOST naming
# another socket: the fix names it), a locked-down host (no
# forwarding, no sftp: warnings with their fixes, exit 1), an account that is
# not in group docker (FAIL naming the fix, exit 2; its ~/.bashrc is slow: a
# warning with the time), a closed port (FAIL,
# exit 2, at once), a changed host key (FAIL naming the known_hosts file),
# and the checks of this machine with a pool of one host up and one down.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker

# (three hosts start at once; rig_host lists each for the cleanup)
nd=$(rig_host_name dn) ld=$(rig_host_name dl)
rig_host "$nd" >"$TEST_TMP/nd.cfg" &
nd_pid=$!
rig_host "$ld" --locked-down >"$TEST_TMP/ld.cfg" &
ld_pid=$!
rig_remote_host dh
healthy=$name healthy_cfg=$cfg
wait "$nd_pid" || fail "host $nd did not start"
wait "$ld_pid" || fail "host $ld did not start"
nd_cfg=$(cat "$TEST_TMP/nd.cfg") ld_cfg=$(cat "$TEST_TMP/ld.cfg")
# The account of host $nd leaves group docker (under the rig's lock, which
# its useradds take: both rewrite /etc/group), and goes back before the
# rig's cleanup stops its host.
group_lock() { flock -w 60 9 && "$@"; } 9>>"$RDEV_RIG_DIR/run/lock"
doctor_cleanup() {
	local rc=$?
	set +e
	group_lock usermod -aG docker "rdev-$nd" 2>/dev/null
	kill "$hung_pid" 2>/dev/null
	(exit $rc)
	rig_remote_cleanup
}
trap doctor_cleanup EXIT
group_lock gpasswd -d "rdev-$nd" docker >/dev/null
cat "$healthy_cfg" "$nd_cfg" "$ld_cfg" >"$TEST_TMP/ssh_config"
export RDEV_SSH_CONFIG=$TEST_TMP/ssh_config
# The locked-down host's agent installs over an exec channel (slow): its
# doctor runs meanwhile, and the other host's too (doctor_wait below).
doctor_bg() {
	local tag=$1
	shift
	{
		rc=0
		rdev doctor "$@" >"$TEST_TMP/$tag.out" 2>"$TEST_TMP/$tag.err" || rc=$?
		echo "$rc" >"$TEST_TMP/$tag.rc"
	} &
}
# The account without Docker also has a slow ~/.bashrc.
echo 'sleep 1.2' >>"$(dirname "$nd_cfg")/home/.bashrc"
# A hung sshd (stopped: the kernel still accepts TCP on its port, nothing
# speaks SSH), as a listener that accepts and never answers; its doctor
# takes the probe's 10 s, run meanwhile.
hung_port=$(rig_ports 1)
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16); time.sleep(60)
' "$hung_port" &
hung_pid=$!
until (exec 3<>"/dev/tcp/127.0.0.1/$hung_port") 2>/dev/null; do sleep 0.05; done
printf 'Host hung\n  HostName 127.0.0.1\n  Port %s\n  BatchMode yes\n' "$hung_port" >>"$RDEV_SSH_CONFIG"
hung_t0=$(date +%s%N)
doctor_bg hung hung --json
doctor_bg ld "$ld"
doctor_bg nd "$nd"
# doctor_wait TAG: a doctor_bg's output in $out, its exit status in $rc
doctor_wait() {
	while [ ! -s "$TEST_TMP/$1.rc" ]; do sleep 0.1; done
	out=$(cat "$TEST_TMP/$1.out") rc=$(cat "$TEST_TMP/$1.rc")
	cp "$TEST_TMP/$1.err" "$TEST_TMP/doctor.err"
}
# doctor ARGS...: its output in $out, its exit status in $rc
doctor() {
	rc=0
	out=$(rdev doctor "$@" 2>"$TEST_TMP/doctor.err") || rc=$?
}
# want_rc WHAT N: doctor's exit status (its output shown when it is not N)
want_rc() {
	[ "$rc" = "$2" ] || printf '%s\n' "$out" "$(cat "$TEST_TMP/doctor.err")" >&2
	check_eq "$1" "$rc" "$2"
}
# jq_ok FILTER: does the output satisfy it?
jq_ok() { jq -e "$1" <<<"$out" >/dev/null; }
line() { printf '%s\n' "$out" | grep -E "^[a-zA-Z]+ +$1 " || true; }

# --- a healthy host ---------------------------------------------------------------
doctor "$healthy:~/ws" --json
want_rc "healthy: exit 0" 0
check "healthy: the JSON parses" jq_ok '.checks | length > 8'
check_eq "healthy: every check ok" "$(jq -r '[.checks[] | select(.status != "ok")] | length' <<<"$out")" 0
check_eq "healthy: JSON status" "$(jq -r .status <<<"$out")" ok
check "healthy: the agent's version is shown" \
	jq_ok '.checks[] | select(.name == "agent version") | .detail | test("rdev-agent [0-9]")'
check "healthy: the auth method is shown" \
	jq_ok '.checks[] | select(.name == "auth") | .detail | test("publickey with key file .*id_ed25519")'
check "healthy: no fix for an ok check" jq_ok '[.checks[].fix] | all(. == null)'
doctor "$healthy"
want_rc "healthy (text): exit 0" 0
check "healthy (text): one line per check, the agent's transport shown" \
	grep -q '^ok    agent  .*stream-local socket' <<<"$out"

# --- a locked-down host: warnings with their fixes --------------------------------
doctor_wait ld
want_rc "locked-down: exit 1 (warnings)" 1
check "locked-down: sftp missing, with the fix" \
	grep -q 'warn  sftp .*no sftp subsystem.*; fix: add `Subsystem sftp' <<<"$(line sftp)"
check "locked-down: TCP forwarding refused, with the fix" \
	grep -q 'warn  tcp forwarding .*refuses.*fix: AllowTcpForwarding yes' <<<"$(line 'tcp forwarding')"
check "locked-down: stream-local forwarding refused, with the fix" \
	grep -q 'warn  stream-local forwarding .*fix: AllowStreamLocalForwarding yes' \
	<<<"$(line 'stream-local forwarding')"
check "locked-down: the agent is reached over its session" \
	grep -q 'ok    agent .*over streams of its session channel' <<<"$(line agent)"
check_eq "locked-down: nothing failed" "$(grep -c '^FAIL' <<<"$out" || true)" 0

# --- an account without Docker ------------------------------------------------------
doctor_wait nd
want_rc "not in group docker: exit 2" 2
check "not in group docker: FAIL with the fix" \
	grep -q "^FAIL  docker .*permission denied.*fix: add rdev-$nd to the docker group" <<<"$(line docker)"
check "a slow ~/.bashrc: a warning with the time measured and the fix" \
	grep -Eq '^warn  login shell +a command takes (1[2-9]|[2-9][0-9])[0-9]{2} ms .*fix: make ~/.bashrc return early' \
	<<<"$(line 'login shell')"

# --- a hung sshd: the TCP port answers, SSH does not --------------------------------
# (it said "TCP: no answer ... a firewall may drop packets": the broker
# gave one "timeout" for the TCP connect and the handshake; waited for
# before the broker's stops below, which end its probe)
doctor_wait hung
ms=$((($(date +%s%N) - hung_t0) / 1000000))
kill "$hung_pid" 2>/dev/null
want_rc "hung sshd: exit 2" 2
check "hung sshd: FAIL saying no SSH handshake within the doctor's 10 s, not a TCP timeout" \
	jq_ok ".checks[0] | .status == \"fail\" and (.detail | test(\"^no SSH handshake: 127.0.0.1 port $hung_port accepted the TCP connection but did not speak SSH within 10 s \\\\(rdev doctor's connect timeout\\\\)\")) and (.detail | test(\"no SSH banner\"))"
check "hung sshd: the fix asks about sshd, not a firewall" \
	jq_ok '.checks[0].fix | test("sshd on 127.0.0.1 hung") and (test("firewall") | not)'
check "hung sshd: answered by the doctor's bound, 10 s (${ms} ms)" test "$ms" -ge 9500 -a "$ms" -lt 18000

# --- DOCKER_HOST naming another socket (set by the account's ~/.bashrc) -------------
# (the fix names it and its value, rootless Docker's or a mistake: "start
# Docker" sent the user to a daemon that runs; a new session, after the
# broker's stop, has the new env)
hrc=$(dirname "$healthy_cfg")/home/.bashrc
cp "$hrc" "$TEST_TMP/bashrc.healthy"
echo "export DOCKER_HOST=unix:///tmp/rdev-no-docker-$$.sock" >>"$hrc"
broker stop >/dev/null
doctor "$healthy"
want_rc "a wrong DOCKER_HOST: exit 2" 2
check "a wrong DOCKER_HOST: FAIL, the fix names it and its value" \
	grep -q "^FAIL  docker .*fix: the socket tried is DOCKER_HOST's, unix:///tmp/rdev-no-docker-$$.sock, set for rdev-$healthy on $healthy .*if that is rootless Docker, start it" \
	<<<"$(line docker)"
cp "$TEST_TMP/bashrc.healthy" "$hrc"
broker stop >/dev/null

# --- a closed port -------------------------------------------------------------------
port=$(rig_ports 1)
printf 'Host closed\n  HostName 127.0.0.1\n  Port %s\n  BatchMode yes\n' "$port" >>"$RDEV_SSH_CONFIG"
t0=$(date +%s%N)
doctor closed --json
ms=$((($(date +%s%N) - t0) / 1000000))
want_rc "closed port: exit 2" 2
check "closed port: FAIL saying refused, with the fix" \
	jq_ok ".checks[0] | .status == \"fail\" and (.detail | test(\"refused\")) and (.fix | test(\"port $port\"))"
check "closed port: answered in ${ms} ms (< 5000)" test "$ms" -lt 5000

# --- a changed host key ------------------------------------------------------------
ssh-keygen -q -t ed25519 -N '' -f "$TEST_TMP/other_key"
hostpat=$(cut -d' ' -f1 "$(dirname "$healthy_cfg")/known_hosts")
printf '%s %s\n' "$hostpat" "$(cut -d' ' -f1,2 "$TEST_TMP/other_key.pub")" >"$TEST_TMP/known_bad"
sed "s|^Host $healthy\$|Host changed|; s|UserKnownHostsFile .*|UserKnownHostsFile $TEST_TMP/known_bad|" \
	"$healthy_cfg" >>"$RDEV_SSH_CONFIG"
doctor changed
want_rc "changed key: exit 2" 2
# (the fix's words quoted for a shell where they need it: the [HOST]:PORT)
check "changed key: FAIL naming the file and the fix" \
	grep -q "^FAIL  host key .*CHANGED.*$TEST_TMP/known_bad:1.*fix: .*ssh-keygen -f $TEST_TMP/known_bad -R '\\[.*\\]:[0-9]*'" \
	<<<"$(line 'host key')"

# --- BindAddress: the probe binds as sessions do (libssh made its TCP
# connection, without BindAddress: doctor said ok where sessions failed) ------------
sed "s|^Host $healthy\$|Host bound|; s|^\( *HostName .*\)|\1\n  BindAddress 192.0.2.1|" \
	"$healthy_cfg" >>"$RDEV_SSH_CONFIG"
doctor bound --json
want_rc "BindAddress not of this machine: exit 2" 2
check "... the probe bound to it, as a session does" \
	jq_ok '.checks[0] | .status == "fail" and (.detail | test("binding to 192.0.2.1"))'

# --- this machine, with a pool of one host up and one down --------------------------
export XDG_CONFIG_HOME=$TEST_TMP/xdg
rdev hosts add "$healthy" >/dev/null
rdev hosts add closed >/dev/null
# (a new broker with one session open, then two: the count and its word)
broker stop >/dev/null
doctor "$healthy" >/dev/null
doctor
want_rc "local: exit 1 (a pool host is down)" 1
check "local: the broker runs, of this version" grep -q '^ok    broker .*running' <<<"$out"
check "... its one session counted: \"1 session\"" \
	grep -qE '^ok    broker .*running \(pid [0-9]+, rdev-broker [^,]+, 1 session\)$' <<<"$out"
doctor "$nd" >/dev/null
doctor
check "... two sessions: \"2 sessions\"" \
	grep -qE '^ok    broker .*running \(pid [0-9]+, rdev-broker [^,]+, 2 sessions\)$' <<<"$out"
check "local: hosts.json readable" grep -q '^ok    config .*hosts.json: readable' <<<"$out"
check "local: the pool host that is up" grep -q "^ok    pool host $healthy .*up" <<<"$out"
check "local: the pool host that is down, with the fix" \
	grep -q "^warn  pool host closed .*down.*fix: rdev doctor closed" <<<"$out"
echo "$CHECKS_PASSED checks passed"
