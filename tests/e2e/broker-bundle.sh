#!/usr/bin/env bash
# broker-bundle.sh - a broker that starts while its agent bundle is missing
# (a package upgrade's window, a bundle dir moved away) is not broken for
# good: meanwhile a remote command fails naming the bundle's path and the
# fix, the saved forwards are listed with that error (and stay saved), and
# `rdev doctor` fails on it, and `rdev forward --stop PORT` forgets one (not
# restored later, not kept saved); once the bundle is back the next command
# works and the saved forwards are restored, with no broker restart. A
# bundle upgraded in place while a host session has not installed its agent
# yet: the session installs the new one (it takes the current bundle at the
# install, not the one current when it was made). No Docker: the host's
# agent answers read-configuration alone.
. "$(dirname "$0")/../rig/lib.sh"

rig_remote_host bb
export XDG_CONFIG_HOME=$TEST_TMP/xdg # (no pool: doctor probes no other host)
state=$RDEV_RUNTIME_DIR/state.json
local_port=$(rig_ports 3) # (and the next two)
stop_port=$((local_port + 1)) shown_port=$((local_port + 2))
# (an uploaded workspace's forward: the host's copy, named as typed)
shown="$name: /home/me/app"

bundle=$TEST_TMP/bundle
cp -a "$RDEV_BIN_DIR"/agent-bundle/rdev-agent-*-linux-"$(uname -m)" "$bundle"
export RDEV_AGENT_BUNDLE=$bundle
on_host "mkdir -p ~/ws && cat > ~/ws/.devcontainer.json" <<JSON
{ "image": "$RDEV_RIG_IMAGE_BOOKWORM", "name": "bundle-ws" }
JSON
# A forward saved by an earlier broker (broker-state.h's format).
cat >"$state" <<JSON
{"version":1,"hosts":[{"host":"$name","sshConfig":"$cfg",
  "forwards":[{"workspace":"$home/ws","port":3000,"local":$local_port},
              {"workspace":"$home/ws","port":3001,"local":$stop_port},
              {"workspace":"$home/upl","shown":"$shown","port":3002,"local":$shown_port}]}]}
JSON
chmod 600 "$state"

mv "$bundle" "$bundle.x"
# `rdev forward --list` starts the broker (forwards are saved), bundle-less.
rdev forward --list --json >"$TEST_TMP/list.json"
check "the saved forward is listed, not dropped" \
	jq -e --argjson l "$local_port" '[.[] | select(.local == $l)] | length == 1' \
	"$TEST_TMP/list.json" >/dev/null
err=$(jq -r --argjson l "$local_port" '.[] | select(.local == $l) | .error // ""' \
	"$TEST_TMP/list.json")
check "its error names the bundle's MANIFEST ($err)" grep -qF "$bundle/MANIFEST" <<<"$err"
check "its error says it is restored once the bundle is loaded" \
	grep -qF "put the bundle back or rebuild it (make agent-bundle, or deploy/agent-bundle.sh): the broker loads it at the next command, no restart needed, and then restores this forward" <<<"$err"
# A forward waiting for the bundle is stopped by its local port, as listed.
listed() { # PORT: how many forwards --list shows at local port PORT
	rdev forward --list --json | jq --argjson l "$1" '[.[] | select(.local == $l)] | length'
}
# A stop that cannot be saved (state.json made a directory: the rename over
# it fails) fails and forgets nothing (else a broker restart would bring it
# back after "forgot").
cp -p "$state" "$TEST_TMP/state.keep"
rm "$state" && mkdir -p "$state/x"
rc=0
rdev forward --stop "$stop_port" 2>"$TEST_TMP/stop.err" || rc=$?
check_eq "a stop whose save fails exits 1 ($(cat "$TEST_TMP/stop.err"))" "$rc" 1
check "it says it could not forget it" \
	grep -qF "cannot forget the saved forward at localhost:$stop_port of $home/ws on $name" \
	"$TEST_TMP/stop.err"
rc=0
rdev forward --stop "$shown_port" 2>"$TEST_TMP/stop.err" || rc=$?
check "... an uploaded workspace's named as --list names it, not by the host's copy ($(cat "$TEST_TMP/stop.err"))" \
	grep -qF "cannot forget the saved forward at localhost:$shown_port of $shown: " \
	"$TEST_TMP/stop.err"
rm -r "$state" && mv "$TEST_TMP/state.keep" "$state"
check_eq "--list still shows it" "$(listed "$stop_port")" 1
rc=0
rdev forward --stop "$stop_port" 2>"$TEST_TMP/stop.err" || rc=$?
check_eq "rdev forward --stop PORT of a forward waiting for the bundle exits 0 ($(cat "$TEST_TMP/stop.err"))" \
	"$rc" 0
check "it says it forgot the saved forward, naming its workspace and host" \
	grep -qF "forgot the saved forward at localhost:$stop_port of $home/ws on $name (it was not restored)" \
	"$TEST_TMP/stop.err"
check_eq "--list no longer shows it" "$(listed "$stop_port")" 0
rc=0
rdev forward --stop "$shown_port" 2>"$TEST_TMP/stop.err" || rc=$?
check_eq "the same of an uploaded workspace's, named as --list names it ($(cat "$TEST_TMP/stop.err"))" \
	"$rc/$(cat "$TEST_TMP/stop.err")" \
	"0/forgot the saved forward at localhost:$shown_port of $shown (it was not restored)"
check_eq "--list no longer shows it" "$(listed "$shown_port")" 0
check "it is no longer saved (a broker restart does not restore it)" \
	jq -e --argjson l "$stop_port" '[.hosts[].forwards[] | select(.local == $l)] | length == 0' \
	"$state" >/dev/null
check_eq "the other is still listed" "$(listed "$local_port")" 1
rc=0
out=$(rdev doctor 2>&1) || rc=$?
check "rdev doctor fails (exit $rc)" test "$rc" -ne 0
check "rdev doctor: the agent bundle fails, with the fix ($out)" \
	grep -qiE "^fail +agent bundle .*$bundle/MANIFEST.*; fix: put the bundle back" <<<"$out"
rc=0
rdev read-configuration "$name:~/ws" --accept-new-host-key >/dev/null 2>"$TEST_TMP/rc.err" || rc=$?
check "a remote command fails while the bundle is missing" test "$rc" -ne 0
check "its error names the path and the fix ($(cat "$TEST_TMP/rc.err"))" \
	grep -qE "$bundle/MANIFEST.*put the bundle back" "$TEST_TMP/rc.err"
check "the saved forward is still saved" \
	jq -e --argjson l "$local_port" '[.hosts[].forwards[] | select(.local == $l)] | length == 1' \
	"$state" >/dev/null
pid=$(broker status --json | jq -r .pid)

mv "$bundle.x" "$bundle"
# (the first command after: the list made after the bundle loads and
# restores the forward, which must be in it)
rdev forward --list --json >"$TEST_TMP/list2.json"
check "at once, the forward --list that loads the bundle lists the saved forward" \
	jq -e --argjson l "$local_port" '[.[] | select(.local == $l)] | length == 1' \
	"$TEST_TMP/list2.json" >/dev/null
out=$(rdev read-configuration "$name:~/ws" --accept-new-host-key 2>"$TEST_TMP/rc.err") ||
	fail "read-configuration with the bundle back: $(cat "$TEST_TMP/rc.err")"
check_eq "with the bundle back, the next remote command works" \
	"$(jq -r .configuration.name <<<"$out")" bundle-ws
check_eq "by the same broker" "$(broker status --json | jq -r .pid)" "$pid"
restored() {
	rdev forward --list --json | jq -e --argjson l "$local_port" \
		'[.[] | select(.local == $l and .error == null)] | length == 1' >/dev/null
}
eventually "the saved forward is restored (listed without an error)" restored
check "it listens" sh -c 'ss -Hltn "sport = :$1" | grep -q .' _ "$local_port"
check_eq "the one stopped while waiting is not restored" "$(listed "$stop_port")" 0
check "and does not listen" sh -c '! ss -Hltn "sport = :$1" | grep -q .' _ "$stop_port"

# A package upgrade replaces the bundle (a new dir renamed over the old): the
# next command's broker runs the new one.
cp -a "$bundle" "$bundle.new"
echo "note: upgraded" >>"$bundle.new/MANIFEST"
hash=$(b2sum -l 256 "$bundle.new/MANIFEST" | cut -d' ' -f1)
printf '%s  MANIFEST\n' "$hash" >"$bundle.new/bundle.hash"
check "the broker ran the first bundle" \
	test "$(broker status --json | jq -r .agentBundle.hash)" != "$hash"
mv "$bundle" "$bundle.old" && mv "$bundle.new" "$bundle"
check_eq "after an upgrade, the next command's broker runs the new bundle" \
	"$(broker status --json | jq -r .agentBundle.hash)" "$hash"
check_eq "still the same broker" "$(broker status --json | jq -r .pid)" "$pid"
rc=0
out=$(rdev doctor 2>&1) || rc=$?
check "rdev doctor: no agent bundle failure now ($out)" bash -c '! grep -q "agent bundle" <<<"$1"' _ "$out"

# An upgrade in place before a host session installs its agent. The session
# is held between its making and its install by its ProxyCommand, which
# connects to the host only once the test says so ($TEST_TMP/go): the
# session is made (bundle A current), the bundle is upgraded in place (a
# file and MANIFEST rewritten in the same dir), and with no command to the
# broker in between (none loads B) the session connects and installs: it
# finds A stale and reads B. (Another ssh config: another session than bb's
# above, which has installed its agent. proxy-pipe.py --hold gives up after
# 60 s.)
rig_proxy_host held "python3 $RDEV_SOURCE_DIR/tests/rig/proxy-pipe.py --hold $TEST_TMP/held.started $TEST_TMP/go %h %p" \
	>"$TEST_TMP/held_config"
# (A, the bundle current now, has never been installed on the host: an
# install of it reads its files, which fails once they are B's.)
hash_a=$(broker status --json | jq -r .agentBundle.hash)
RDEV_SSH_CONFIG=$TEST_TMP/held_config rdev read-configuration held:~/ws \
	--accept-new-host-key >"$TEST_TMP/held.out" 2>"$TEST_TMP/held.err" &
held_pid=$!
eventually "the session's connect waits in its ProxyCommand" test -e "$TEST_TMP/held.started"
# B: a file changed and a new MANIFEST, written over A's in the same dir.
f=licenses/libbrotli1.copyright
echo "upgraded in place" >>"$bundle/$f"
fhash=$(b2sum -l 256 "$bundle/$f" | cut -d' ' -f1)
sed -e "s|^[0-9a-f]*  $f\$|$fhash  $f|" -e '$a note: upgraded in place' \
	"$bundle/MANIFEST" >"$TEST_TMP/MANIFEST.b"
mv "$TEST_TMP/MANIFEST.b" "$bundle/MANIFEST"
hash_b=$(b2sum -l 256 "$bundle/MANIFEST" | cut -d' ' -f1)
printf '%s  MANIFEST\n' "$hash_b" >"$bundle/bundle.hash"
# (no command reaches the broker between the upgrade and the install: the
# session finds the bundle it would install stale and reads it again)
touch "$TEST_TMP/go"
st=0
for _ in $(seq 600); do
	kill -0 "$held_pid" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$held_pid" 2>/dev/null; then
	kill "$held_pid"
	fail "the held session's command still runs after 60 s"
fi
wait "$held_pid" || st=$?
check_eq "the session made under bundle A installs and runs (exit $st: $(cat "$TEST_TMP/held.err"))" \
	"$st" 0
check_eq "its answer" "$(jq -r .configuration.name "$TEST_TMP/held.out")" bundle-ws
installed=$(on_host 'ls ~/.rdev/agent')
check "bundle B is installed on the host ($installed)" grep -q -- "-${hash_b:0:16}\$" <<<"$installed"
check "bundle A is not" bash -c '! grep -q -- "-${1:0:16}\$" <<<"$2"' _ "$hash_a" "$installed"
check_eq "still the same broker" "$(broker status --json | jq -r .pid)" "$pid"
check_eq "and it runs bundle B, as the session read it" \
	"$(broker status --json | jq -r .agentBundle.hash)" "$hash_b"

# A broker restart restores the saved forward, not the one stopped.
broker stop >/dev/null
check_eq "after a broker restart the saved forward is listed" "$(listed "$local_port")" 1
check_eq "and the one stopped while waiting for the bundle is not" "$(listed "$stop_port")" 0
finish
