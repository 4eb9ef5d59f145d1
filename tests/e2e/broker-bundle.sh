#!/usr/bin/env bash
# broker-bundle.sh - a broker that starts while its agent bundle is missing
# (a package upgrade's window, a bundle dir moved away) is not broken for
# good: meanwhile a remote command fails naming the bundle's path and the
# fix, the saved forwards are listed with that error (and stay saved), and
# `rdev doctor` fails on it; once the bundle is back the next command works
# and the saved forwards are restored, with no broker restart. No Docker: the
# host's agent answers read-configuration alone.
. "$(dirname "$0")/../rig/lib.sh"

rig_remote_host bb
export XDG_CONFIG_HOME=$TEST_TMP/xdg # (no pool: doctor probes no other host)
state=$RDEV_RUNTIME_DIR/state.json
local_port=$(rig_ports 1)

bundle=$TEST_TMP/bundle
cp -a "$RDEV_BIN_DIR"/agent-bundle/rdev-agent-*-linux-"$(uname -m)" "$bundle"
export RDEV_AGENT_BUNDLE=$bundle
on_host "mkdir -p ~/ws && cat > ~/ws/.devcontainer.json" <<JSON
{ "image": "$RDEV_RIG_IMAGE_BOOKWORM", "name": "bundle-ws" }
JSON
# A forward saved by an earlier broker (broker-state.h's format).
cat >"$state" <<JSON
{"version":1,"hosts":[{"host":"$name","sshConfig":"$cfg",
  "forwards":[{"workspace":"$home/ws","port":3000,"local":$local_port}]}]}
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
finish
