#!/usr/bin/env bash
# pool-replace.sh - where a pool's workspace lives when `up` is refused or
# sent elsewhere, on two real sshd hosts of the rig (q1: maxEnvironmentsPerUser
# 1, q2: no limit; one Docker engine, told apart by hostId):
#   placement skips a host whose user is at its maxEnvironmentsPerUser (q1,
#   first in the pool, already runs one of ours); a refused `up --host q1`
#   keeps the placement that worked (status/down still reach q2's); `up
#   --host` elsewhere and `up` after `hosts rm` of the placed host warn,
#   naming the old host and `rdev down OLD: SOURCE`; status of a workspace
#   whose host left the pool says how to reach it; `doctor @POOL` checks
#   each host, `doctor @POOL SOURCE` the placed one; `hosts ls --pool` of no
#   such pool fails; `hosts add` again without --label keeps the labels; the
#   placed host down: up names the placement and --host, down that the
#   container stays until the host is back, status that its state is
#   unknown. `up --host` moving it stops the broker's sync of the folder and
#   its forwards on the old host, saying so with how to start the sync on
#   the new one; `sync --stop @POOL SOURCE` stops a sync still going to the
#   old host; what cannot be stopped there is up's warning, which -q holds.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker

export XDG_CONFIG_HOME=$TEST_TMP/config
h1=$(rig_host_name q1) h2=$(rig_host_name q2)
shared=$(rig_shared_folder)
cleanup() {
	local rc=$?
	set +e
	rig_remove_host_containers "$h1" "$h2"
	(exit $rc)
	rig_test_cleanup
}
trap cleanup EXIT
printf '{"hostId": "%s", "maxEnvironmentsPerUser": 1}\n' "$h1" >"$shared/$h1.json"
printf '{"hostId": "%s"}\n' "$h2" >"$shared/$h2.json"
rig_host_bg "$h1" --policy "$shared/$h1.json"
rig_host_bg "$h2" --policy "$shared/$h2.json"
rig_hosts_wait
cat "$(rig_host_cfg "$h1")" "$(rig_host_cfg "$h2")" >"$TEST_TMP/ssh_config"
export RDEV_SSH_CONFIG=$TEST_TMP/ssh_config
for w in w0 w5; do
	mkdir -p "$TEST_TMP/$w"
	printf '{"image": "%s"}\n' "$RDEV_RIG_IMAGE_BUSYBOX" >"$TEST_TMP/$w/.devcontainer.json"
done
cd "$TEST_TMP"
rdev hosts add --pool mx --label zone=a "$h1" 2>/dev/null
rdev hosts add --pool mx "$h2" 2>/dev/null
# --- LOWs of hosts add / ls --------------------------------------------------------
rdev hosts add --pool mx "$h1" 2>/dev/null
check_eq "hosts add again without --label keeps the labels" \
	"$(rdev hosts ls --pool mx --json | jq -r --arg h "$h1" '.[] | select(.name == $h) | .labels.zone')" a
s=0; rdev hosts ls --pool nosuch >"$TEST_TMP/ls.out" 2>"$TEST_TMP/ls.err" || s=$?
check_eq "hosts ls --pool of no such pool: exit 1" "$s" 1
check "... naming the pool" grep -q "pool nosuch has no hosts" "$TEST_TMP/ls.err"

# --- placement and maxEnvironmentsPerUser -----------------------------------------
rdev up "$h1:" ./w0 >/dev/null 2>"$TEST_TMP/up.err" ||
	{ cat "$TEST_TMP/up.err" >&2; fail "up $h1: ./w0 failed"; }
check_eq "hosts ls: q1's user runs one (its max)" \
	"$(rdev hosts ls --pool mx --json | jq -r --arg h "$h1" '.[] | select(.name == $h) | "\(.userEnvironments)/\(.maxEnvironmentsPerUser)"')" 1/1
rdev up @mx ./w5 >"$TEST_TMP/up5.json" 2>"$TEST_TMP/up.err" ||
	{ cat "$TEST_TMP/up.err" >&2; fail "up @mx ./w5 failed (placed on a host at its maxEnvironmentsPerUser?)"; }
check_eq "up @mx: the host at its maxEnvironmentsPerUser is skipped" "$(jq -r .host "$TEST_TMP/up5.json")" "$h2"
cid=$(jq -r .containerId "$TEST_TMP/up5.json")

# --- a refused up keeps the placement ---------------------------------------------
s=0; rdev up @mx ./w5 --host "$h1" >"$TEST_TMP/refused.json" 2>"$TEST_TMP/refused.err" || s=$?
check_eq "up --host q1 (at its max): refused" "$s" 1
check_eq "... its JSON error carrying the admission's errorCode" \
	"$(jq -r .errorCode "$TEST_TMP/refused.json")" admission-refused
check "... saying how to choose another host" grep -q -- "--host NAME" "$TEST_TMP/refused.err"
check "... and warning that the one on q2 stays" grep -q "rdev down $h2: $TEST_TMP/w5" "$TEST_TMP/refused.err"
check_eq "... the placement still names q2: status finds it running" \
	"$(rdev status @mx ./w5 --json 2>/dev/null | jq -r .state)" running

# --- doctor @POOL [SOURCE] -------------------------------------------------------------
rdev doctor @mx >"$TEST_TMP/doctor.out" 2>&1 || :
check "... checking each host" sh -c "grep -q 'host .*$h1' '$TEST_TMP/doctor.out' && grep -q 'host .*$h2' '$TEST_TMP/doctor.out'"
check_eq "... its agent's version checked on each" "$(grep -c '^ok *agent version' "$TEST_TMP/doctor.out")" 2
rdev doctor @mx ./w5 >"$TEST_TMP/doctor.out" 2>&1 || :
check "doctor @mx ./w5: the placed host" grep -q "host .*$h2 (@mx" "$TEST_TMP/doctor.out"
check "... not the other" sh -c "! grep -q '$h1' '$TEST_TMP/doctor.out'"

# --- the placed host leaves the pool ---------------------------------------------------
rdev hosts rm --pool mx "$h2" 2>/dev/null
rdev status @mx ./w5 >/dev/null 2>"$TEST_TMP/status.err" || :
check "status: placed on a host no longer in the pool, with how to reach it" \
	grep -q "rdev status $h2: $TEST_TMP/w5" "$TEST_TMP/status.err"
rdev hosts add --pool mx "$h2" 2>/dev/null
rdev down "$h1:" ./w0 >/dev/null 2>&1
rdev hosts rm --pool mx "$h2" 2>/dev/null
rdev up @mx ./w5 >"$TEST_TMP/up6.json" 2>"$TEST_TMP/up6.err" ||
	{ cat "$TEST_TMP/up6.err" >&2; fail "up @mx ./w5 after hosts rm failed"; }
check_eq "up after hosts rm of its host: placed anew" "$(jq -r .host "$TEST_TMP/up6.json")" "$h1"
check "... warning loudly, naming the old host and how to remove its container" \
	grep -q "warning: @mx $TEST_TMP/w5 was placed on $h2, which is no longer in the pool.*rdev down $h2: $TEST_TMP/w5" "$TEST_TMP/up6.err"
rdev down "$h2:" ./w5 >/dev/null 2>&1
check "... which removes the old one" sh -c "! docker inspect '$cid' >/dev/null 2>&1"
# --- up --host moves it: the old host's sync and forwards stop ----------------------
rdev hosts add --pool mx "$h2" 2>/dev/null
fport=$(rig_ports 1)
rdev up @mx ./w5 --sync >/dev/null 2>"$TEST_TMP/up7.err" ||
	{ cat "$TEST_TMP/up7.err" >&2; fail "up @mx ./w5 --sync failed"; }
rdev forward @mx ./w5 "$fport:8080" >/dev/null 2>&1 || fail "forward @mx ./w5 failed"
rdev up @mx ./w5 --host "$h2" >"$TEST_TMP/up8.json" 2>"$TEST_TMP/up8.err" ||
	{ cat "$TEST_TMP/up8.err" >&2; fail "up @mx ./w5 --host q2 failed"; }
check_eq "up --host q2: moved" "$(jq -r .host "$TEST_TMP/up8.json")" "$h2"
check "... saying it stopped q1's sync and forward, and how to sync to q2" \
	grep -qF "rdev: up: @mx ./w5 moved from $h1 to $h2: stopped the broker's sync of its folder and its 1 forward on $h1 (\`rdev up @mx ./w5 --sync\` starts it on $h2)" "$TEST_TMP/up8.err"
check_eq "... the forward to q1's container is gone" \
	"$(rdev forward --list --json | jq --arg p "$fport" '[.[] | select(.local == ($p | tonumber))] | length')" 0
s=0; rdev sync --stop "$h1:" ./w5 2>/dev/null || s=$?
check_eq "... and so is the sync to q1 (sync --stop $h1: finds none)" "$s" 1
rdev up "$h1:" ./w5 --sync >/dev/null 2>&1 || fail "up q1: ./w5 --sync failed"
s=0; rdev sync --stop @mx ./w5 2>"$TEST_TMP/stop.err" || s=$?
check_eq "sync --stop @mx after a move: stops the one still going to q1" "$s" 0
check "... naming q1" grep -qF "stopped the sync of $TEST_TMP/w5 to $h1 (where @mx ./w5 was placed before $h2)" "$TEST_TMP/stop.err"
# A placement on a host no ssh target can name (a placements.json written
# by hand): up --host q2 moves it, and the old host's sync and forwards
# cannot be looked for there; said as up's warning, held by -q.
place_gone() {
	jq --arg s "$TEST_TMP/w5" '(.placements[] | select(.pool == "mx" and .source == $s) | .host) = "-gone"' \
		"$RDEV_STATE_DIR/placements.json" >"$TEST_TMP/placements.json"
	mv "$TEST_TMP/placements.json" "$RDEV_STATE_DIR/placements.json"
}
gone_warning="rdev: up: warning: target '-gone:~': host may not start with '-'"
place_gone
rdev up @mx ./w5 --host "$h2" >/dev/null 2>"$TEST_TMP/up9.err" ||
	{ cat "$TEST_TMP/up9.err" >&2; fail "up @mx ./w5 --host q2 (placed on -gone) failed"; }
check "up moved from a host it cannot name: its warning" grep -qxF "$gone_warning" "$TEST_TMP/up9.err"
place_gone
rdev -q up @mx ./w5 --host "$h2" >/dev/null 2>"$TEST_TMP/up10.err" ||
	{ cat "$TEST_TMP/up10.err" >&2; fail "-q up @mx ./w5 --host q2 (placed on -gone) failed"; }
check "... -q holds it" sh -c "! grep -qF \"\$1\" '$TEST_TMP/up10.err'" sh "$gone_warning"
# --- the placed host down -----------------------------------------------------------
bash "$RIG" host-stop "$h2"
"$RDEV_BIN_DIR/rdev-broker" stop >/dev/null 2>&1 || : # (its session to q2 went on)
s=0; rdev up @mx ./w5 >/dev/null 2>"$TEST_TMP/down.err" || s=$?
check_eq "up @mx with its placed host down: exit 1" "$s" 1
check "... naming the placement and --host" \
	grep -q "cannot connect.*(@mx ./w5 was placed on $h2; \`rdev up @mx ./w5 --host NAME\`" "$TEST_TMP/down.err"
# (down and status gave up's advice, to place it on another host)
s=0; rdev down @mx ./w5 >/dev/null 2>"$TEST_TMP/down2.err" || s=$?
check_eq "down @mx with its placed host down: exit 1" "$s" 1
check "... says the container stays until the host is back, then down removes it" \
	grep -q "cannot connect.*(@mx ./w5 was placed on $h2: its container there, if any, stays until $h2 is back, then \`rdev down @mx ./w5\` removes it; the placement is kept" "$TEST_TMP/down2.err"
s=0; rdev status @mx ./w5 >/dev/null 2>"$TEST_TMP/status.err" || s=$?
check_eq "status @mx with its placed host down: exit 1" "$s" 1
check "... says its state is unknown, not how to place it elsewhere" \
	sh -c "grep -q 'cannot connect.*(@mx ./w5 was placed on $h2: its state is unknown while $h2 cannot be reached' '$TEST_TMP/status.err' &&
		! grep -q -- '--host NAME' '$TEST_TMP/status.err'"
finish
