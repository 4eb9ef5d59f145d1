#!/usr/bin/env bash
# relay.sh - the container relay (relay/rdev-relay.c) and the `relay` operation
# of `rdev-agent serve` (agent/relay-install.c), in a Debian image and in a
# FROM scratch image (busybox): the op copies the static relay in and starts it;
# from this machine, through the relay: a server bound only to 127.0.0.1 and
# one on 0.0.0.0 (50 MB each, hash-checked), half-close both ways, 'L' lists
# the listening ports, bad token/magic/command closed without a reply, 1,000
# concurrent connections, the 10 s header timeout; a second op reuses the
# relay; a changed binary replaces it (the old relay goes away by itself;
# one whose port file is taken over serves what is queued, then refuses);
# after `docker restart` a new relay is started; a forward to the
# 127.0.0.1 server answers again after its relay was killed in the
# container, also when another server took the killed relay's port (one
# that says nothing too: that connection is closed after a bound); an
# auto-forward listing from a program that took it makes no forward;
# errors name what is missing.
# The test client is tests/e2e/relay_client.py.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
export RDEV_STATE_DIR=$TEST_TMP/state
# (the silent program's step below: its connection closed after 8 s, not
# 15; not less, so that a status byte slow on a loaded machine under ASan
# elsewhere in this script does not cut a connection)
export RDEV_FORWARD_RELAY_STATUS_MS=8000

client=$RDEV_SOURCE_DIR/tests/e2e/relay_client.py
agent=("$RDEV_BIN_DIR/rdev-agent" serve)
wss=()
echo_pid=
rst_pid=
silent_pid=
digits_pid=
scratch_pid=

cleanup() {
	local ws
	# (the scratch scenario in the background first: its container may
	# not be made yet)
	if [ -n "$scratch_pid" ]; then
		wait "$scratch_pid" 2>/dev/null || true
		cat "$TEST_TMP/scratch.out" 2>/dev/null || true
	fi
	[ -z "$echo_pid" ] || kill "$echo_pid" 2>/dev/null || true
	[ -z "$rst_pid" ] || kill "$rst_pid" 2>/dev/null || true
	[ -z "$silent_pid" ] || kill "$silent_pid" 2>/dev/null || true
	[ -z "$digits_pid" ] || kill "$digits_pid" 2>/dev/null || true
	for ws in "${wss[@]+"${wss[@]}"}"; do
		docker ps -aq --filter "label=devcontainer.local_folder=$ws" |
			xargs -r docker rm -f >/dev/null
	done
	rig_test_cleanup
}
trap cleanup EXIT

check "rdev-relay is built next to rdev-agent" test -x "$RDEV_BIN_DIR/rdev-relay"
check "rdev-relay is static (no program interpreter)" \
	sh -c "! readelf -l '$RDEV_BIN_DIR/rdev-relay' | grep -qi interpreter"
check "rdev-relay needs no shared library" \
	sh -c "! readelf -d '$RDEV_BIN_DIR/rdev-relay' 2>/dev/null | grep -q NEEDED"
echo "info rdev-relay is $(stat -c %s "$RDEV_BIN_DIR/rdev-relay") bytes"
check "rdev-relay refuses to start without a token" \
	sh -c "! env -u RDEV_RELAY_TOKEN '$RDEV_BIN_DIR/rdev-relay' --port-file $TEST_TMP/p 2>/dev/null"
check "rdev-relay refuses a token that is not 64 hex digits" \
	sh -c "! RDEV_RELAY_TOKEN=abc '$RDEV_BIN_DIR/rdev-relay' --port-file $TEST_TMP/p 2>/dev/null"

python3 "$client" replaced "$RDEV_BIN_DIR/rdev-relay" "$TEST_TMP" >"$TEST_TMP/replaced.out" ||
	{ cat "$TEST_TMP/replaced.out"; fail "a replaced relay serves what is queued, then accepts nothing more"; }
CHECKS_PASSED=$((CHECKS_PASSED + $(grep -c '^ok ' "$TEST_TMP/replaced.out")))

# op WS [SERVICE]: the relay op's response JSON.
op() {
	python3 "$client" op "$@" -- "${agent[@]}"
}
# result RESPONSE: its result object (fails the test unless ok).
result() {
	printf '%s' "$1" | jq -e '.ok' >/dev/null || fail "relay op failed: $1"
	printf '%s' "$1" | jq -c .result
}
client_checks() { # LABEL ARGS...
	local out=$TEST_TMP/client-$1.out
	shift
	python3 "$client" checks "$@" | tee "$out" || fail "relay_client.py checks failed"
	CHECKS_PASSED=$((CHECKS_PASSED + $(grep -c '^ok ' "$out")))
}

# wait_port CID PORT: until something listens on PORT in the container.
wait_port() {
	eventually "port $2 listens in the container" sh -c \
		"grep -q ':$(printf %04X "$2") [0-9A-F:]* 0A ' /proc/$(docker inspect -f '{{.State.Pid}}' "$1")/net/tcp"
}

# one IMAGE LABEL: the whole scenario in a dev container of IMAGE.
one() {
	local image=$1 label=$2 ws cid bb r r2 r3 r4 hash
	ws=$TEST_TMP/ws-$label
	wss+=("$ws")
	mkdir -p "$ws"
	printf '{"image": "%s", "updateRemoteUserUID": false}\n' "$image" >"$ws/.devcontainer.json"
	rdev up "$ws" >"$TEST_TMP/up-$label.out" 2>&1 || { cat "$TEST_TMP/up-$label.out"; fail "$label: up failed"; }
	cid=$(docker ps -q --no-trunc --filter "label=devcontainer.local_folder=$ws")
	check "$label: the dev container runs" test -n "$cid"

	# The servers, from busybox (the Debian image gets the host's static one).
	bb=/bin/busybox
	if ! docker exec "$cid" test -x /bin/busybox 2>/dev/null; then
		docker cp /bin/busybox "$cid:/busybox" >/dev/null
		bb=/busybox
	fi
	docker exec "$cid" "$bb" sh -c "mkdir -p /srv &&
		$bb dd if=/dev/urandom of=/srv/big bs=1M count=50 2>/dev/null &&
		echo 'hello relay' > /srv/small"
	docker exec "$cid" "$bb" httpd -p 127.0.0.1:7000 -h /srv
	docker exec "$cid" "$bb" httpd -p 0.0.0.0:7001 -h /srv
	# The echo server (1,000 connections at once) runs in the container's
	# network namespace with this machine's perl: busybox's nc -ll accepts
	# too slowly, and the scratch image has no perl.
	nsenter -t "$(docker inspect -f '{{.State.Pid}}' "$cid")" -n \
		perl "$RDEV_SOURCE_DIR/tests/rig/echo-server.pl" 7002 &
	echo_pid=$!
	nsenter -t "$(docker inspect -f '{{.State.Pid}}' "$cid")" -n \
		python3 "$RDEV_SOURCE_DIR/tests/e2e/rst_server.py" 7003 200000 &
	rst_pid=$!
	wait_port "$cid" 7002
	wait_port "$cid" 7003
	hash=$(docker exec "$cid" "$bb" sha256sum /srv/big | cut -d' ' -f1)

	r=$(result "$(op "$ws")")
	check_eq "$label: the op names the container" "$(printf '%s' "$r" | jq -r .containerId)" "$cid"
	check_eq "$label: the address is the container's IP" "$(printf '%s' "$r" | jq -r .address)" \
		"$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$cid")"
	check "$label: the token is 64 hex digits" sh -c "printf '%s' '$r' | jq -r .token | grep -qxE '[0-9a-f]{64}'"
	check_eq "$label: the relay wrote its port file" \
		"$(docker exec "$cid" "$bb" cat /.rdev-relay.port)" "$(printf '%s' "$r" | jq -r .port)"
	check "$label: the state dir keeps it, 0600" \
		sh -c "[ \$(stat -c %a '$RDEV_STATE_DIR/relay/$cid.json') = 600 ]"
	client_checks "$label" "$r" 7000 7001 7002 "$hash" $((50 << 20))
	check_eq "$label: an answer the server ends with a reset arrives whole (200 kB), then the reset" \
		"$(python3 "$client" rstreply "$r" 7003 200000)" "200000 reset"
	kill "$rst_pid"
	wait "$rst_pid" 2>/dev/null || true
	rst_pid=
	kill "$echo_pid"
	wait "$echo_pid" 2>/dev/null || true
	echo_pid=

	r2=$(result "$(op "$ws")")
	check_eq "$label: a second op reuses the running relay" "$r2" "$r"
	check_eq "$label: one relay runs" "$(docker top "$cid" -o pid,args | grep -c '[.]rdev-relay')" 1

	# A different binary on the agent's side (its hash no longer matches):
	# the op puts the new one in and starts it; the old relay sees its port
	# file taken over and exits.
	jq -c '.hash = "0000"' "$RDEV_STATE_DIR/relay/$cid.json" >"$TEST_TMP/st-$label" &&
		cat "$TEST_TMP/st-$label" >"$RDEV_STATE_DIR/relay/$cid.json"
	r3=$(result "$(op "$ws")")
	check "$label: a changed binary gets a new relay" test "$(printf '%s' "$r3" | jq -r .token)" != "$(printf '%s' "$r" | jq -r .token)"
	check "$label: the new relay answers" python3 "$client" probe "$r3"
	eventually "$label: the old relay goes away by itself" sh -c "! python3 '$client' probe '$r'"
	# (it closes its listeners first, which the probe sees, and exits once
	# its connections are gone: its process is waited for)
	one_relay() { [ "$(docker top "$cid" -o pid,args | grep -c '[.]rdev-relay')" = 1 ]; }
	eventually "$label: one relay runs after the replacement" one_relay
	check "$label: the new relay's listing leaves out both relays' ports" \
		sh -c "! python3 '$client' listing '$r3' | grep -qE '^($(printf '%s' "$r" | jq -r .port)|$(printf '%s' "$r3" | jq -r .port)) '"

	docker restart -t 1 "$cid" >/dev/null
	check "$label: the old relay is gone after docker restart" sh -c "! python3 '$client' probe '$r3'"
	r4=$(result "$(op "$ws")")
	check "$label: after a restart the op starts a new relay" \
		test "$(printf '%s' "$r4" | jq -r .token)" != "$(printf '%s' "$r3" | jq -r .token)"
	check "$label: and it answers" python3 "$client" probe "$r4"
	docker exec "$cid" "$bb" httpd -p 127.0.0.1:7000 -h /srv
	check "$label: a server started after the restart is listed" \
		sh -c "python3 '$client' listing '$r4' | grep -qx '7000 127.0.0.1'"
}

# The scratch image's scenario runs beside the Debian one's (each mostly
# waits: its up, the silent client's 10 s, docker restart; one after the
# other they took 26 + 16 s of the test's 64 here), in a subshell with servers
# of its own; its output is shown after the Debian one's, its checks counted.
# (Each has its own container, relay and files: the label in their names.)
wss+=("$TEST_TMP/ws-scratch") # (its container removed by this shell's cleanup)
(
	trap 'rc=$?; kill ${echo_pid:-} ${rst_pid:-} 2>/dev/null || true; exit $rc' EXIT
	CHECKS_PASSED=0
	one "$RDEV_RIG_IMAGE_BUSYBOX" scratch
	echo "$CHECKS_PASSED" >"$TEST_TMP/scratch.passed"
) >"$TEST_TMP/scratch.out" 2>&1 &
scratch_pid=$!
one "$RDEV_RIG_IMAGE_BOOKWORM" debian
rc=0
wait "$scratch_pid" || rc=$?
scratch_pid=
cat "$TEST_TMP/scratch.out"
[ "$rc" = 0 ] || fail "the scratch image's scenario failed (exit $rc; its output above)"
CHECKS_PASSED=$((CHECKS_PASSED + $(cat "$TEST_TMP/scratch.passed")))

# A forward (the broker's, this machine's engine) to the 127.0.0.1 server of
# the Debian container, and its relay killed in the container: the next
# connection finds it gone and answers through a new relay; the killed
# relay's port is free at once (another server binds it); a relay killed
# and its port taken by another program: the connection that meets that
# program is closed, and the next one answers through a new relay (no stale
# target, no stale record); an auto-forward watch whose relay's port was
# taken by a program that answers with digit lines makes no forward of them
# and gets a new relay.
ws=$TEST_TMP/ws-debian
cid=$(docker ps -q --no-trunc --filter "label=devcontainer.local_folder=$ws")
bb=/busybox
! docker exec "$cid" test -x /bin/busybox 2>/dev/null || bb=/bin/busybox
lport=$(rig_ports 1)
relay_kill() { # (every relay process, then wait up to 10 s for them to be gone: one exec)
	docker exec "$cid" "$bb" sh -c "p=\$($bb pidof .rdev-relay) && kill \$p; i=0
		while $bb pidof .rdev-relay >/dev/null; do
			i=\$((i + 1)); [ \$i -le 500 ] || exit 1; $bb usleep 20000
		done" || fail "kill: the relay is not gone"
}
rdev forward "$ws" "$lport:7000" >/dev/null 2>"$TEST_TMP/fwd.err" ||
	{ cat "$TEST_TMP/fwd.err"; fail "kill: rdev forward failed"; }
check_eq "kill: the forward answers through the relay" \
	"$(curl -sf --max-time 20 "http://127.0.0.1:$lport/small")" "hello relay"
old=$(docker exec "$cid" cat /.rdev-relay.port)
relay_kill
check_eq "kill: the next connection answers (a new relay)" \
	"$(curl -sf --max-time 20 "http://127.0.0.1:$lport/small")" "hello relay"
port=$(docker exec "$cid" cat /.rdev-relay.port)
check "kill: the new relay has another port" test "$port" != "$old"
relay_kill
docker exec "$cid" "$bb" sh -c "mkdir -p /other && echo other-server > /other/small"
check "kill: the killed relay's port is free at once (another server binds it)" \
	docker exec "$cid" "$bb" httpd -p "0.0.0.0:$port" -h /other
check "kill: that server is not taken for the relay (its connection is closed)" \
	sh -c "! curl -sf --max-time 20 'http://127.0.0.1:$lport/small'"
check_eq "kill: the next connection answers through a new relay" \
	"$(curl -sf --max-time 20 "http://127.0.0.1:$lport/small")" "hello relay"
check "kill: the agent's record names the new relay" test \
	"$(jq -r .port "$RDEV_STATE_DIR/relay/$cid.json")" = "$(docker exec "$cid" cat /.rdev-relay.port)"
check "kill: which is not at the other server's port" test "$(docker exec "$cid" cat /.rdev-relay.port)" != "$port"
check "kill: the broker said why" grep -q "answers, but not as the container's relay" "$RDEV_RUNTIME_DIR/broker.log"

# A relay killed and its port taken by a program that accepts and says
# nothing: the connection is closed once the relay's status byte is overdue
# (RDEV_FORWARD_RELAY_STATUS_MS, 8 s here; 40 s by default), not held for
# ever, and the next one answers through a new relay: the target dropped
# without notRelay (a slow relay is not replaced), the agent's probe, which
# the program never answers, starts it.
port=$(docker exec "$cid" cat /.rdev-relay.port)
relay_kill
nsenter -t "$(docker inspect -f '{{.State.Pid}}' "$cid")" -n \
	python3 "$client" takeport "$port" "" - silent "$TEST_TMP/silent.answered" &
silent_pid=$!
wait_port "$cid" "$port"
rc=0
curl -s --max-time 30 "http://127.0.0.1:$lport/small" >/dev/null || rc=$?
check "silent: the connection is closed, not held (curl: $rc, 52 or 56; 28 a timeout)" \
	test "$rc" = 52 -o "$rc" = 56
check "silent: it met the program (which held it)" test -s "$TEST_TMP/silent.answered"
check_eq "silent: the next connection answers through a new relay" \
	"$(curl -sf --max-time 20 "http://127.0.0.1:$lport/small")" "hello relay"
check "silent: the broker said why" grep -q "no answer from the relay at .*:$port in 8000 ms" "$RDEV_RUNTIME_DIR/broker.log"
check "silent: and did not name the port notRelay (the probe decides)" \
	sh -c "! grep -q ':$port answers, but not as the container' '$RDEV_RUNTIME_DIR/broker.log'"
kill "$silent_pid" 2>/dev/null || true
wait "$silent_pid" 2>/dev/null || true

# The auto-forward watch's listing, its relay killed and the port taken by
# a program that answers with digit lines: no forward is made of them, and
# the watch gets a new relay (the target dropped as not the relay's).
rdev forward "$ws" --auto 2>"$TEST_TMP/auto.err" || { cat "$TEST_TMP/auto.err"; fail "auto: rdev forward --auto failed"; }
eventually "auto: the watch has listed the container's ports" rig_auto_seen "$ws" 7000
# The relay is killed and its port bound in one program, the broker stopped
# meanwhile: no listing of the watch's falls between the two (one refused
# there drops the target and starts a new relay without the listing's check
# running at all). The program is started first and told to go once the
# broker is stopped, so that the stop lasts only the kill and the bind.
# Still, a listing whose channel open the broker sent just before the stop
# meets the relay before its end (its channel then ends, or, after a long
# stop, its 2 s run out): the target is dropped without the check, and the
# agent's probe, which the program answers, starts a new relay. The program
# then answered one connection at most (the probe; a broker that got the
# digit lines and did not judge them makes two: its listing, and the
# probe, or one listing a second): the step is taken again with the new
# relay, up to 3 times.
digits_take() { # (sets port, digits_pid; the program's answers in $TEST_TMP/digits.answered)
	rig_relay_takeover "$cid" digits digit
	port=$takeover_port
	digits_pid=$takeover_pid
}
# within SECONDS CMD...: whether CMD succeeds within SECONDS (tried every 0.1 s).
within() {
	local i
	for i in $(seq 1 $(($1 * 10))); do
		"${@:2}" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
auto_said() {
	grep -q ":$port answers, but not as the container's relay" "$RDEV_RUNTIME_DIR/broker.log"
}
attempt=1
digits_take
while ! within 30 auto_said; do
	n=$(wc -l <"$TEST_TMP/digits.answered")
	grep -n "auto-forward\|answers, but" "$RDEV_RUNTIME_DIR/broker.log" | tail -5 || true # (pipefail: none found)
	[ "$n" -le 1 ] ||
		fail "auto: the program answered $n connections (the broker's listing among them), but the broker never said the listing was not the relay's"
	[ "$attempt" -lt 3 ] ||
		fail "auto: in 3 attempts no listing of the watch's reached the program on the relay's port (each time a listing sent before the broker's stop met the relay)"
	echo "info auto: attempt $attempt: no listing reached the program (it answered $n, at most the agent's probe); again with the new relay"
	kill "$digits_pid" 2>/dev/null || true
	wait "$digits_pid" 2>/dev/null || true
	eventually "auto: a new relay is started (attempt $attempt)" sh -c \
		"p=\$(docker exec '$cid' cat /.rdev-relay.port) && [ \"\$p\" != '$port' ] &&
		[ \"\$(jq -r .port '$RDEV_STATE_DIR/relay/$cid.json')\" = \"\$p\" ]"
	sleep 2 # (the watch's next listing, through the new relay: its target)
	attempt=$((attempt + 1))
	digits_take
done
check "auto: the broker said the listing was not the relay's (attempt $attempt)" auto_said
check "auto: the program answered the listing (its digit lines reached the broker)" \
	test -s "$TEST_TMP/digits.answered"
eventually "auto: a new relay is started (not the digit program's port)" sh -c \
	"p=\$(docker exec '$cid' cat /.rdev-relay.port) && [ \"\$p\" != '$port' ]"
auto_none() { # (no forward of the program's ports, none seen)
	rdev forward --list --json | jq -e 'map(select(.port == 4242 or .port == 4343)) | length == 0' >/dev/null &&
		! rig_auto_seen "$ws" 4242 && ! rig_auto_seen "$ws" 4343
}
check "auto: no forward is made of the program's lines, none is seen" auto_none
# (the agent writes its record once it has read the new relay's port
# file, a moment after the relay wrote it)
eventually "auto: the agent's record names the new relay" sh -c \
	"[ \"\$(jq -r .port '$RDEV_STATE_DIR/relay/$cid.json')\" = \"\$(docker exec '$cid' cat /.rdev-relay.port)\" ]"
kill "$digits_pid" 2>/dev/null || true
wait "$digits_pid" 2>/dev/null || true

# Compose: a service is reached at its own IP on the project network, no relay.
# (The folder's name is the project's: this test's own.)
cws=$TEST_TMP/relay-compose-$$
mkdir -p "$cws/.devcontainer"
cat >"$cws/.devcontainer/docker-compose.yml" <<YAML
services:
  app:
    image: $RDEV_RIG_IMAGE_BUSYBOX
    command: ["sh", "-c", "while true; do sleep 1; done"]
  db:
    image: $RDEV_RIG_IMAGE_BUSYBOX
    command: ["sh", "-c", "echo db-here > /tmp/x && httpd -f -p 5432 -h /tmp"]
YAML
printf '{"dockerComposeFile": "docker-compose.yml", "service": "app", "workspaceFolder": "/", "updateRemoteUserUID": false}\n' \
	>"$cws/.devcontainer/devcontainer.json"
project=
cleanup_compose() {
	if [ -n "$project" ]; then
		rig_compose_rm "$project"
	fi
	cleanup
}
trap cleanup_compose EXIT
wss+=("$cws")
rdev up "$cws" >"$TEST_TMP/up.out" 2>&1 || { cat "$TEST_TMP/up.out"; fail "compose: up failed"; }
project=$(docker ps -q --filter "label=devcontainer.local_folder=$cws" | head -n 1 |
	xargs docker inspect -f '{{index .Config.Labels "com.docker.compose.project"}}')
dbid=$(docker ps -q --no-trunc --filter "label=com.docker.compose.project=$project" \
	--filter "label=com.docker.compose.service=db")
r=$(result "$(op "$cws" db)")
check_eq "compose: the op names the service's container" "$(printf '%s' "$r" | jq -r .containerId)" "$dbid"
check_eq "compose: the address is its IP on the project network" "$(printf '%s' "$r" | jq -r .address)" \
	"$(docker inspect -f "{{(index .NetworkSettings.Networks \"${project}_default\").IPAddress}}" "$dbid")"
check_eq "compose: no relay port" "$(printf '%s' "$r" | jq -c '[.port, .token]')" "[null,null]"
check "compose: the service answers at that address" \
	sh -c "curl -sf http://$(printf '%s' "$r" | jq -r .address):5432/x | grep -qx db-here"
out=$(op "$cws" nosuch)
check "compose: an unknown service is an error naming it" \
	sh -c "printf '%s' '$out' | jq -r .error | grep -q 'service \"nosuch\"'"
out=$(op "$TEST_TMP/ws-scratch" db)
check "a service of a workspace without Compose is an error" \
	sh -c "printf '%s' '$out' | jq -r .error | grep -q 'not a Compose workspace'"

# Errors.
ws=$TEST_TMP/ws-debian
out=$(op "$TEST_TMP/nothing-here" 2>/dev/null || true)
mkdir -p "$TEST_TMP/none" && printf '{"image": "%s"}\n' "$RDEV_RIG_IMAGE_BOOKWORM" >"$TEST_TMP/none/.devcontainer.json"
out=$(op "$TEST_TMP/none")
check "no container: the op says to run up first" sh -c "printf '%s' '$out' | jq -r .error | grep -q 'run .rdev up'"
mkdir -p "$TEST_TMP/lone"
cp "$RDEV_BIN_DIR/rdev-agent" "$TEST_TMP/lone/"
out=$(python3 "$client" op "$ws" -- "$TEST_TMP/lone/rdev-agent" serve)
check "no rdev-relay next to the agent: the op says where it looked" \
	sh -c "printf '%s' '$out' | jq -r .error | grep -qF 'relay binary missing: $TEST_TMP/lone/rdev-relay'"
docker stop -t 1 "$(docker ps -q --filter "label=devcontainer.local_folder=$ws")" >/dev/null
out=$(op "$ws")
check "a stopped container: the op says it is not running" \
	sh -c "printf '%s' '$out' | jq -r .error | grep -q 'not running'"
finish
