#!/usr/bin/env bash
# placement.sh - `rdev up @POOL SOURCE`'s placement over 50 pool entries
# (issue 12: <= 7 s with 10 of them hung, <= 1 s with none), against a
# baseline measured in the same run: the placement over a pool of one host.
#
# Starts 10 rig hosts (sshds on loopback, users in group docker, the same
# dockerd), each with a policy, and names each 5 times in an ssh config
# (aliases bNN: 50 entries, 50 SSH sessions and agents in the broker), plus
# 10 hung entries: TCP listeners that accept and never speak SSH. Pools:
#   one:   1 entry          (the baseline)
#   all:   the 50 real entries
#   hung:  40 real entries + the 10 hung ones
# The workspace asks for 9999 cpus, which no host has: `up` probes every
# entry, places nothing and exits 1 with a line per host, so what is timed
# is the probe and the choice, not a container. Warm: the broker's sessions
# are up (one untimed call first); cold: the broker stopped before each call
# (every entry: SSH handshake, agent check and start).
#
#   bench/placement.sh
#   RDEV_BENCH_RUNS=10          rounds (default 10)
#   RDEV_BENCH_BUILD=DIR        build folder (default build-bench)
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
. "$src/bench/lib.sh"
bench_import "$src/bench/up-exec.sh" time_rounds stats row report median ratio verdict
build=${RDEV_BENCH_BUILD:-$src/build-bench}
runs=${RDEV_BENCH_RUNS:-10}
rig=$src/tests/rig/rig.sh
bench_build "$src" "$build" rdev rdev-broker rdev-agent agent-bundle
rdev=$build/rdev
eval "$(bash "$rig" env)"
bash "$rig" up >/dev/null

tmp=$(mktemp -d /tmp/rdev-bench-placement.XXXXXX)
chmod 755 "$tmp"
hosts=() hung_pids=()
cleanup() {
	set +e
	"$build/rdev-broker" stop >/dev/null 2>&1
	for h in "${hosts[@]}"; do bash "$rig" host-stop "$h"; done
	for p in "${hung_pids[@]}"; do kill "$p" 2>/dev/null; done
	bash "$rig" ports-release $$ >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
export RDEV_RUNTIME_DIR=$tmp/rt RDEV_STATE_DIR=$tmp/state XDG_CONFIG_HOME=$tmp/config
export RDEV_SSH_CONFIG=$tmp/ssh_config RDEV_KNOWN_HOSTS=$tmp/known_hosts
mkdir -p -m 700 "$RDEV_RUNTIME_DIR"
: >"$RDEV_SSH_CONFIG"
: >"$RDEV_KNOWN_HOSTS"

echo "=== starting 10 hosts ==="
for i in $(seq 0 9); do
	h=b$i$$
	h=${h:0:10}
	printf '{"hostId": "%s", "capacity": {"cpus": %d}}\n' "$h" $((4 + i)) >"$tmp/$h.json"
	cfg=$(bash "$rig" host-start "$h" --policy "$tmp/$h.json")
	hosts+=("$h")
	cat "$(dirname "$cfg")/known_hosts" >>"$RDEV_KNOWN_HOSTS"
	for k in 0 1 2 3 4; do
		n=$((i * 5 + k))
		printf 'Host b%02d\n  HostName %s\n  Port %s\n  User %s\n  IdentityFile %s\n  IdentitiesOnly yes\n  BatchMode yes\n' \
			"$n" "$(cat "$(dirname "$cfg")/addr")" "$(cat "$(dirname "$cfg")/port")" \
			"$(cat "$(dirname "$cfg")/user")" "$RDEV_RIG_CLIENT_KEY" >>"$RDEV_SSH_CONFIG"
	done
done
hung_base=$(bash "$rig" ports 10 $$)
for k in $(seq 0 9); do
	perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $ARGV[0],
			Listen => 64, ReuseAddr => 1) or die "listen: $!";
		my @held; while (my $c = $s->accept) { push @held, $c }' $((hung_base + k)) &
	hung_pids+=($!)
	printf 'Host hung%d\n  HostName 127.0.0.1\n  Port %d\n  User nobody\n  BatchMode yes\n' \
		"$k" $((hung_base + k)) >>"$RDEV_SSH_CONFIG"
done
for n in $(seq -f '%02g' 0 49); do
	"$rdev" hosts add --pool all "b$n" 2>/dev/null
	[ "$n" -ge 40 ] || "$rdev" hosts add --pool hung "b$n" 2>/dev/null
done
for k in $(seq 0 9); do "$rdev" hosts add --pool hung "hung$k" 2>/dev/null; done
"$rdev" hosts add --pool one b00 2>/dev/null
mkdir -p "$tmp/ws"
printf '{"image": "%s", "hostRequirements": {"cpus": 9999}}\n' "$RDEV_RIG_IMAGE_BUSYBOX" \
	>"$tmp/ws/.devcontainer.json"
chmod -R a+rX "$tmp/ws"

# A placement that must find no host: exit 1 with a line per entry.
place() { # POOL ENTRIES
	local out=$tmp/place.$1
	if "$rdev" up "@$1" "$tmp/ws" </dev/null >/dev/null 2>"$out"; then
		echo "placement over @$1 did not fail" >&2
		return 1
	fi
	[ "$(grep -c '^  ' "$out")" = "$2" ] || { echo "@$1: not $2 hosts:" >&2; cat "$out" >&2; return 1; }
}
c_one() { place one 1; }
c_all() { place all 50; }
c_hung() { place hung 50; }
c_all_cold() { "$build/rdev-broker" stop >/dev/null 2>&1 || true; place all 50; }

echo "=== warming: the agents installed, the sessions up ==="
"$rdev" hosts ls --pool all --accept-new-host-key >/dev/null
c_all
echo "up: $(grep -c 'needs 9999 cpus' "$tmp/place.all") of 50"

echo
bench_machine "$src"
echo
echo "=== placement, warm broker ($runs rounds, interleaved) ==="
time_rounds "$runs" c_one c_all c_hung
row "" "median ms" "p90 ms" "min ms"
report "rdev up @one (1 entry: the baseline)" c_one
report "rdev up @all (50 entries)" c_all
report "rdev up @hung (40 entries + 10 hung)" c_hung
echo
echo "=== placement, cold broker: stopped before each call ($runs rounds) ==="
time_rounds "$runs" c_all_cold
report "rdev up @all (50 entries), cold" c_all_cold
grep -h 'unreachable' "$tmp/place.all" | sort | uniq -c | head -5 || true

one=$(median c_one) all=$(median c_all) hung=$(median c_hung) cold=$(median c_all_cold)
echo
echo "=== goals (issue 12; medians) ==="
echo "50 entries, none hung, warm <= 1000 ms: $(verdict "$all" 1000)  ($all ms; $(ratio "$all" "$one")x the 1-entry baseline)"
echo "50 entries, 10 hung, warm   <= 7000 ms: $(verdict "$hung" 7000)  ($hung ms; $(ratio "$hung" "$one")x the baseline)"
echo "50 entries, none hung, cold (no goal):   $cold ms; $(ratio "$cold" "$one")x the baseline"
