#!/usr/bin/env bash
# forward-local.sh - port forwarding for a LOCAL target (this machine's
# Docker engine, no SSH), through the broker's local host: `rdev up ./ws`
# forwards forwardPorts (a server on 0.0.0.0 reached direct, one bound to
# 127.0.0.1 only reached through the relay), prints the table with labels;
# `rdev forward ./ws PORT` adds one; `--list --json` shows them with host
# "local", and so do `rdev status` and `rdev-broker status`; a broker killed
# with -9 is replaced and the forwards answer again; a bad spec and a taken
# required port give clear errors naming the port (-q: the table of the
# forward that worked shown before the error; a port moved from its taken
# number said in one line); --auto forwards the ports
# the container starts listening on later, and its watch is restored with
# the broker;
# `rdev forward --stop` (with no TARGET too: the forward found by its local
# port, its target named; no forward there: exit 1) and `rdev down` end them
# (the ports stop listening);
# a container made with `up --id-label` has its forwardPorts forwarded too
# (the broker asks the agent with those labels), and `down --id-label` ends
# them; `up --auto-forward` again with another --config moves the watch's
# earlier auto-forwards to the new container (with the new portsAttributes,
# a warning each in the broker log; one it ignores is stopped), not an
# explicit forward, and a new broker after `rdev-broker stop` keeps them
# there. `up --auto-forward` again for the same container after an edit of
# its portsAttributes: its auto-forwards take the new label/onAutoForward, a
# port now ignored is stopped, one ignored before and not now is
# forwarded; with `--config` naming the default file (absolute, or relative
# from the workspace) it is the same container: no move. Keys removed from
# portsAttributes (or renamed) count without --recreate: a port whose
# "ignore" at creation was removed is forwarded, unlabelled.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker

base=$(rig_ports 19)
p_any=$base p_lo=$((base + 1)) p_add=$((base + 2)) p_busy=$((base + 3)) p_id=$((base + 4)) p_auto=$((base + 5)) p_auto2=$((base + 6)) p_move=$((base + 7)) p_exp=$((base + 8)) p_ig=$((base + 9))
p_r1=$((base + 10)) p_r2=$((base + 11)) p_r3=$((base + 12)) p_fp=$((base + 13))
p_o1=$((base + 14)) p_o2=$((base + 15)) p_o3=$((base + 16)) p_o4=$((base + 17))
p_nl=$((base + 18))
ws=$TEST_TMP/ws
mkdir -p "$ws"
cat >"$ws/.devcontainer.json" <<JSON
{
  "image": "$RDEV_RIG_IMAGE_BUSYBOX",
  "forwardPorts": [$p_any, $p_lo],
  "portsAttributes": { "$p_any": { "label": "any-web" },
    "$p_lo": { "label": "loopback-only" } }
}
JSON
busy_pid=
cleanup() {
	[ -z "$busy_pid" ] || kill "$busy_pid" 2>/dev/null || true
	docker ps -aq --filter "label=devcontainer.local_folder=$ws" | xargs -r docker rm -f >/dev/null
	docker ps -aq --filter "label=rdevfwd.case=$$" | xargs -r docker rm -f >/dev/null
	docker ps -aq --filter "label=devcontainer.local_folder=$TEST_TMP/ws-move" |
		xargs -r docker rm -f >/dev/null
	docker ps -aq --filter "label=devcontainer.local_folder=$TEST_TMP/ws-attr" |
		xargs -r docker rm -f >/dev/null
	rig_test_cleanup
}
trap cleanup EXIT

rdev up "$ws" >"$TEST_TMP/up.out" 2>"$TEST_TMP/up.err" ||
	{ cat "$TEST_TMP/up.err" >&2; fail "rdev up failed"; }
cid=$(jq -r .containerId "$TEST_TMP/up.out")
docker exec "$cid" sh -c "mkdir -p /www && echo any-answers > /www/q && echo lo-answers > /www/l &&
	httpd -p 0.0.0.0:$p_any -h /www && httpd -p 127.0.0.1:$p_lo -h /www"
check "up prints the forward table with the labels" sh -c \
	"grep -q 'forwarded ports' '$TEST_TMP/up.err' &&
	 grep -q 'localhost:$p_any .*container port $p_any (any-web)' '$TEST_TMP/up.err' &&
	 grep -q 'localhost:$p_lo .*container port $p_lo (loopback-only)' '$TEST_TMP/up.err'"
check "and no 'not forwarded' warning" sh -c "! grep -q 'not forwarded' '$TEST_TMP/up.err'"
check_eq "a server on 0.0.0.0 in the container answers on localhost" \
	"$(curl -sf --max-time 20 "http://127.0.0.1:$p_any/q")" any-answers
check_eq "a server bound to 127.0.0.1 in the container answers (the relay)" \
	"$(curl -sf --max-time 20 "http://127.0.0.1:$p_lo/l")" lo-answers
check_eq "also on ::1" "$(curl -sf --max-time 20 "http://[::1]:$p_lo/l")" lo-answers
list() { rdev forward --list --json; }
fwd() { list | jq -r --argjson p "$1" "map(select(.local == \$p))[0].$2"; }
check_eq "the 0.0.0.0 server's connection went direct" "$(fwd "$p_any" direct)/$(fwd "$p_any" relayed)" 1/0
check_eq "the 127.0.0.1 server's through the relay" "$(fwd "$p_lo" direct)/$(fwd "$p_lo" relayed)" 0/2
check_eq "--list --json names the local host" "$(fwd "$p_any" host)/$(fwd "$p_lo" host)" local/local
check_eq "and the workspace" "$(fwd "$p_any" workspace)" "$ws"

rdev forward "$ws" "$p_add:$p_lo" 2>"$TEST_TMP/add.err" || { cat "$TEST_TMP/add.err"; fail "forward $p_add"; }
check "rdev forward ./ws adds one and prints it" grep -q "localhost:$p_add .*container port $p_lo" "$TEST_TMP/add.err"
check_eq "it answers" "$(curl -sf --max-time 20 "http://127.0.0.1:$p_add/l")" lo-answers
check_eq "rdev status shows the workspace's forwards" \
	"$(rdev status "$ws" --json | jq -c '[.forwards[].local] | sort')" "[$p_any,$p_lo,$p_add]"
check "rdev-broker status shows the local host" sh -c \
	"'$RDEV_BIN_DIR/rdev-broker' status | grep -q '^local .*connected'"

# --- auto-forward --------------------------------------------------------------
rdev forward "$ws" --auto 2>"$TEST_TMP/auto.err" || { cat "$TEST_TMP/auto.err"; fail "forward --auto"; }
check "--auto says it watches the container" grep -q "watching the container" "$TEST_TMP/auto.err"
docker exec "$cid" sh -c "httpd -p 127.0.0.1:$p_auto -h /www"
auto_local() { list | jq -r --argjson p "$1" 'map(select(.port == $p and .onAutoForward == "notify"))[0].local // empty'; }
auto_forwarded() { [ -n "$(auto_local "$1")" ]; }
eventually "a port the container listens on later is forwarded (onAutoForward notify)" \
	auto_forwarded "$p_auto"
check_eq "it answers" "$(curl -sf --max-time 20 "http://127.0.0.1:$(auto_local "$p_auto")/l")" lo-answers
check "the list marks it [auto]" grep -q "container port $p_auto .*\[auto\]" <(rdev forward --list)
check "and names its workspace (two on one host: which is whose)" \
	grep -qF "container port $p_auto of $ws on local" <(rdev forward --list)

# --- errors ------------------------------------------------------------------
python3 -c "import socket,time
ss = [socket.socket() for p in ($p_busy, $p_o1)]
for s, p in zip(ss, ($p_busy, $p_o1)):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', p)); s.listen()
time.sleep(600)" &
busy_pid=$!
eventually "a local process holds port $p_busy" sh -c "ss -ltn | grep -q '127.0.0.1:$p_busy '"
eventually "and port $p_o1" sh -c "ss -ltn | grep -q '127.0.0.1:$p_o1 '"
# One request: its required local port and the ports that are free keep
# their numbers; only the taken one moves, past them (before: the taken
# $p_o1 took $p_o2, $p_o2 took $p_o3, and the required $p_o3 failed).
rdev forward "$ws" "$p_o1" "$p_o2" "$p_o3:$p_lo" 2>"$TEST_TMP/order.err" ||
	{ cat "$TEST_TMP/order.err" >&2; fail "a required port after one moved from a taken port"; }
check_eq "a taken port moves past the request's other ports (local:container)" \
	"$(list | jq -r --argjson a "$p_o2" --argjson b "$p_o3" --argjson c "$p_o4" \
		'[$a, $b, $c] as $ls | map(select(.local as $l | $ls | index($l))) |
		 sort_by(.local) | map("\(.local):\(.port)") | join(" ")')" \
	"$p_o2:$p_o2 $p_o3:$p_lo $p_o4:$p_o1"
check "and the table keeps the request's order" sh -c \
	"grep -o 'localhost:[0-9]* ' '$TEST_TMP/order.err' | tr -d '\n' | grep -q 'localhost:$p_o4 localhost:$p_o2 localhost:$p_o3 '"
for p in "$p_o2" "$p_o3" "$p_o4"; do rdev forward --stop "$p" >/dev/null; done
set +e
rdev forward "$ws" "$p_busy:$p_any" 2>"$TEST_TMP/req.err"; rc=$?
rdev forward "$ws" "1:2:3:4" 2>"$TEST_TMP/bad.err"; rc_bad=$?
set -e
check_eq "a required local port in use: exit 1" "$rc" 1
check "and a clear error naming the port" grep -q "port $p_any: 127.0.0.1:$p_busy is not free" "$TEST_TMP/req.err"
check_eq "a bad spec: exit 2" "$rc_bad" 2
st=0
rdev forward "$ws" "$p_any:$p_lo" 2>"$TEST_TMP/own.err" || st=$?
check_eq "a local port rdev's own forward holds: exit 1" "$st" 1
check "and rdev names its forward there and how to free it" grep -qF \
	"localhost:$p_any is rdev's forward of $(realpath "$ws") on local (\`rdev forward --stop $p_any\` frees it)" "$TEST_TMP/own.err"
check "not a process of another program's" sh -c "! grep -q \"rdev's forward\" '$TEST_TMP/req.err'"
# -q: the table of what worked is held, and shown before the error of the
# forward that failed (as without -q); a port that moved (its own number
# taken) is the command's result: said under -q too, one line.
st=0
rdev -q forward "$ws" "$p_o1" "$p_busy:$p_lo" 2>"$TEST_TMP/q.err" || st=$?
check_eq "-q forward, one of two failing: exit 1" "$st" 1
check "-q: the table held is shown, before the error" sh -c \
	"sed -n '/is not free/q;p' '$TEST_TMP/q.err' | grep -q '^  localhost:[0-9]* *-> container port $p_o1\$'"
check "... then the error" grep -q "^rdev: forward: .*127.0.0.1:$p_busy is not free" "$TEST_TMP/q.err"
moved=$(list | jq -r --argjson p "$p_o1" --arg ws "$ws" 'map(select(.port == $p and .workspace == $ws))[0].local')
rdev forward --stop "$moved" >/dev/null 2>&1
rdev -q forward "$ws" "$p_o1" 2>"$TEST_TMP/q1.err" || { cat "$TEST_TMP/q1.err" >&2; fail "-q forward $p_o1"; }
moved=$(list | jq -r --argjson p "$p_o1" --arg ws "$ws" 'map(select(.port == $p and .workspace == $ws))[0].local')
check_eq "-q forward, its port taken: one line, where it is" "$(cat "$TEST_TMP/q1.err")" \
	"rdev: forward: localhost:$moved -> container port $p_o1 (not $p_o1: it could not be bound)"
rdev forward --stop "$moved" >/dev/null 2>&1
mkdir -p "$TEST_TMP/none"
cp "$ws/.devcontainer.json" "$TEST_TMP/none/"
set +e
rdev forward "$TEST_TMP/none" "$p_id" 2>"$TEST_TMP/none.err"; rc_none=$?
set -e
check_eq "a workspace without a container: exit 1" "$rc_none" 1
check "and the error says what to run, as the user would type it" \
	grep -qF "no dev container for $TEST_TMP/none (run \`rdev up $TEST_TMP/none\` first): not forwarded: port $p_id" "$TEST_TMP/none.err"
check "and prints no forwards table" sh -c "! grep -q 'forwarded ports' '$TEST_TMP/none.err'"
"$RDEV_BIN_DIR/rdev" forward --list --json >"$TEST_TMP/none-list.json" || fail "rdev forward --list --json"
check "and makes no forward" jq -e "map(.local) | index($p_id) == null" "$TEST_TMP/none-list.json"
check "and leaves nothing listening" sh -c "! ss -ltn | grep -q '127.0.0.1:$p_id '"
check "and it is named" grep -q "forward spec '1:2:3:4'" "$TEST_TMP/bad.err"
st=0
rdev forward "$ws" "db:$p_any" 2>"$TEST_TMP/svc.err" || st=$?
check_eq "a service's port of a workspace that is no Compose one: exit 1" "$st" 1
check "and says so, and that it is not forwarded" grep -qF \
	"$(realpath "$ws") is not a Compose workspace (no service \"db\"): not forwarded: port db:$p_any" "$TEST_TMP/svc.err"
check "and no such forward is made (it could never answer)" sh -c \
	"'$RDEV_BIN_DIR/rdev' forward --list --json | jq -e 'map(select(.service == \"db\")) | length == 0' >/dev/null"
# Some forwards of one request cannot be made (services of a workspace that
# has no Compose): each is an error naming it, neither is listed as
# forwarded; the one that works is.
svc=$(rig_ports 3)
set +e
rdev forward "$ws" "$svc:$p_lo" "$((svc + 1)):db:3000" "$((svc + 2)):cache:6379" 2>"$TEST_TMP/svc2.err"
rc_svc=$?
set -e
check_eq "forwards to services of a workspace without Compose: exit 1" "$rc_svc" 1
check "each is an error naming it (db)" \
	grep -q "^rdev: forward: .*not a Compose workspace (no service \"db\").*$((svc + 1)):db:3000" "$TEST_TMP/svc2.err"
check "... (cache)" \
	grep -q "^rdev: forward: .*not a Compose workspace (no service \"cache\").*$((svc + 2)):cache:6379" "$TEST_TMP/svc2.err"
check_eq "the table of forwarded ports lists the one that works only" \
	"$(grep -c '^  localhost:' "$TEST_TMP/svc2.err")" 1
check "... that one" grep -q "^  localhost:$svc *-> container port $p_lo" "$TEST_TMP/svc2.err"
for p in "$svc" "$((svc + 1))" "$((svc + 2))"; do rdev forward --stop "$p" >/dev/null 2>&1 || true; done
# "P" beside "Q:P" in one request: two forwards, at P and at Q (the exact
# pass binds Q first; P is not that one again).
pq=$(rig_ports 2)
rdev forward "$ws" "$pq" "$((pq + 1)):$pq" 2>"$TEST_TMP/pq.err" || { cat "$TEST_TMP/pq.err" >&2; fail "forward P Q:P"; }
check "P and Q:P: a forward at P" grep -q "^  localhost:$pq *-> container port $pq\b" "$TEST_TMP/pq.err"
check "... and one at Q" grep -q "^  localhost:$((pq + 1)) *-> container port $pq\b" "$TEST_TMP/pq.err"
# P asked again with both there (Q's made last, so first in the broker's
# list): the answer is the one at P, not Q's
rdev forward "$ws" --stop "$((pq + 1))" >/dev/null 2>&1
rdev forward "$ws" "$((pq + 1)):$pq" >/dev/null 2>&1 || fail "forward Q:P again"
rdev forward "$ws" "$pq" 2>"$TEST_TMP/pq2.err" || { cat "$TEST_TMP/pq2.err" >&2; fail "forward P again"; }
check "P again, with both there: the one at P is the answer (not Q's)" \
	grep -q "^  localhost:$pq *-> container port $pq\b" "$TEST_TMP/pq2.err"
for p in "$pq" "$((pq + 1))"; do rdev forward --stop "$p" >/dev/null 2>&1 || true; done
kill "$busy_pid"; busy_pid=

# --- a port nothing listens on in the container ---------------------------------
# The client sees an empty reply (as ssh -L's): why is the forward's
# lastError and in the broker's log.
rdev forward "$ws" "$p_nl" 2>"$TEST_TMP/nl.err" || { cat "$TEST_TMP/nl.err"; fail "forward $p_nl"; }
curl -sf --max-time 20 "http://127.0.0.1:$p_nl/q" >/dev/null && fail "a port nothing listens on answered"
check_eq "nothing listens: lastError says so" "$(fwd "$p_nl" lastError)" \
	"nothing listens on that port in the container"
check_eq "... met by a connection" "$(fwd "$p_nl" lastErrorFrom)" connection
check "nothing listens: the broker's log warns of it" \
	grep -q "warning: forward $p_nl (local, port $p_nl): a connection failed: nothing listens" \
	"$RDEV_RUNTIME_DIR/broker.log"
rdev forward --stop "$p_nl" >/dev/null 2>&1 || fail "forward --stop $p_nl"

# --- a killed broker ---------------------------------------------------------
pid=$("$RDEV_BIN_DIR/rdev-broker" status --json | jq .pid)
kill -9 "$pid"
check_eq "the next command starts a broker that restores them" \
	"$(list | jq -c '[.[] | select(.host == "local") | .port] | sort')" "[$p_any,$p_lo,$p_lo,$p_auto]"
check "a new broker" test "$("$RDEV_BIN_DIR/rdev-broker" status --json | jq .pid)" != "$pid"
check_eq "the 0.0.0.0 server answers again" "$(curl -sf --max-time 20 "http://127.0.0.1:$p_any/q")" any-answers
check_eq "the 127.0.0.1 server too" "$(curl -sf --max-time 20 "http://127.0.0.1:$p_lo/l")" lo-answers
docker exec "$cid" sh -c "httpd -p 0.0.0.0:$p_auto2 -h /www"
eventually "and the auto-forward watch: a port listened on after the restart is forwarded" \
	auto_forwarded "$p_auto2"

# --- a container stopped outside rdev: the list says why its forward fails ------
# (a connection right after the stop goes to the address the forward has,
# fresh, that answers nothing now: it used to send the forward through
# Docker execs for good, as for Docker Desktop)
sleep 1.1 # (the next connection has the target checked: fresh for 1 s)
curl -sf --max-time 20 "http://127.0.0.1:$p_any/q" >/dev/null || fail "$p_any before the stop"
docker kill "$cid" >/dev/null && docker wait "$cid" >/dev/null
start=$(date +%s%N)
curl -sf --max-time 20 "http://127.0.0.1:$p_any/q" >/dev/null &&
	fail "a forward to a stopped container answered"
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
echo "     (refused after ${elapsed_ms} ms)"
# (its old address answers nothing: the connect waited for an ARP timeout
# or 10 s, 2-10 s, before the broker asked the agent; now it asks after
# 200 ms without an answer)
check "that connection is closed as soon as the agent says the container is not running (< 2 s: the old address's ARP timeout is 3 s)" \
	test "$elapsed_ms" -lt 2000
check "and its forward's lastError says so" sh -c \
	"'$RDEV_BIN_DIR/rdev' forward --list --json | jq -e --argjson p $p_any 'map(select(.local == \$p))[0].lastError | test(\"is not running\")' >/dev/null"
sleep 1.1 # (past the target's freshness: the connection asks the agent)
curl -sf --max-time 20 "http://127.0.0.1:$p_lo/l" >/dev/null &&
	fail "a forward to a stopped container answered"
check "--list says why a forward does not answer (the container stopped)" sh -c \
	"'$RDEV_BIN_DIR/rdev' forward --list | grep -A1 -- '-> container port $p_lo of ' |
	 grep -q 'its last connection failed: local: the dev container .* is not running (run \`rdev up '"
check "--list --json has it as lastError" sh -c \
	"'$RDEV_BIN_DIR/rdev' forward --list --json | jq -e 'map(select(.port == $p_lo and .lastError != null)) | length > 0' >/dev/null"
check_eq "... met by a connection" "$(fwd "$p_lo" lastErrorFrom)" connection
# A request's check (`rdev forward` again) that meets it stopped: the list
# says a check failed, not a connection (none was made).
rdev forward "$ws" "$p_lo" >/dev/null 2>"$TEST_TMP/fwd-stopped.err" || true
# (its portsAttributes cannot be read either: said, not left out in silence)
check "rdev forward PORT of a stopped container warns that its port attributes were not read ($(grep "port attributes" "$TEST_TMP/fwd-stopped.err"))" \
	grep -qE '^rdev: forward: warning: port attributes not read \(.*is not running.*\): forwarded as typed$' \
	"$TEST_TMP/fwd-stopped.err"
check "--list words a request's failed check as a check" sh -c \
	"'$RDEV_BIN_DIR/rdev' forward --list | grep -A1 -- '-> container port $p_lo of ' |
	 grep -q 'the last check of its target (by \`rdev up\` or \`rdev forward\`) failed: local: the dev container .* is not running'"
check_eq "--list --json: lastErrorFrom says so" "$(fwd "$p_lo" lastErrorFrom)" check
docker start "$cid" >/dev/null
docker exec "$cid" sh -c "httpd -p 127.0.0.1:$p_lo -h /www && httpd -p 0.0.0.0:$p_any -h /www"
check_eq "started again, it answers" "$(curl -sf --max-time 30 "http://127.0.0.1:$p_lo/l")" lo-answers
check_eq "and the error is gone" "$(fwd "$p_lo" lastError)" null
# ($p_any's is still there, from before the start; an add's check finds
# the container running: its table does not say the forward fails)
check "$p_any's connection after the stop failed too" test "$(fwd "$p_any" lastError)" != null
rdev forward "$ws" "$p_any" 2>"$TEST_TMP/readd.err" ||
	{ cat "$TEST_TMP/readd.err" >&2; fail "rdev forward of a stopped and started container"; }
check "forwarded again once started: the table has no stale failure" sh -c \
	"grep -q -- '-> container port $p_any' '$TEST_TMP/readd.err' && ! grep -q 'its last connection failed' '$TEST_TMP/readd.err'"
exec0=$(fwd "$p_any" viaExec)
check_eq "the 0.0.0.0 server answers again" "$(curl -sf --max-time 30 "http://127.0.0.1:$p_any/q")" any-answers
check_eq "straight to the container, not through a Docker exec" "$(fwd "$p_any" viaExec)" "$exec0"

# --- a restarted container: a new address and relay, asked again ---------------
docker restart -t 1 "$cid" >/dev/null
docker exec "$cid" sh -c "httpd -p 0.0.0.0:$p_any -h /www && httpd -p 127.0.0.1:$p_lo -h /www"
check_eq "after a container restart the relay is asked for again" \
	"$(curl -sf --max-time 30 "http://127.0.0.1:$p_lo/l")" lo-answers

# --- stop, down ----------------------------------------------------------------
# (options that choose a TARGET's container or host, with none: a usage error)
st=0
rdev forward --id-label a=b --stop "$p_add" 2>"$TEST_TMP/stop0.err" || st=$?
check_eq "--stop PORT with no TARGET but --id-label: usage error, exit 2" "$st" 2
check "which names the option" grep -q -- "--id-label" "$TEST_TMP/stop0.err"
check "and the forward is still there" sh -c "ss -ltn | grep -q '127.0.0.1:$p_add '"
# (no TARGET: the broker finds the forward at that local port, names its target)
rdev forward --stop "$p_add" 2>"$TEST_TMP/stop.err" || { cat "$TEST_TMP/stop.err" >&2; fail "forward --stop $p_add"; }
check_eq "--stop PORT with no TARGET names the forward's target" "$(cat "$TEST_TMP/stop.err")" \
	"stopped the forward at localhost:$p_add (of $(realpath "$ws"))"
check "--stop frees its port" sh -c "! ss -ltn | grep -q '127.0.0.1:$p_add '"
st=0
rdev forward --stop "$p_add" 2>"$TEST_TMP/stop2.err" || st=$?
check_eq "--stop PORT again: nothing there, exit 1" "$st" 1
check_eq "naming the port" "$(cat "$TEST_TMP/stop2.err")" "rdev: forward: no forward at local port $p_add"
rdev down "$ws" >/dev/null 2>"$TEST_TMP/down.err" || fail "down"
check_eq "down says what it removed" "$(cat "$TEST_TMP/down.err")" \
	"rdev: removed the dev container for $ws"
check "down ends the workspace's forwards (the ports no longer listen)" sh -c \
	"! ss -ltn | grep -qE '127.0.0.1:($p_any|$p_lo) '"
check_eq "and none are listed" "$(list | jq length)" 0
# --- a container found by --id-label ------------------------------------------
ws2=$TEST_TMP/ws-id
mkdir -p "$ws2"
sed "s/\"forwardPorts\": \[$p_any, $p_lo\]/\"forwardPorts\": [$p_id]/" "$ws/.devcontainer.json" >"$ws2/.devcontainer.json"
rdev up "$ws2" --id-label "rdevfwd.case=$$" >"$TEST_TMP/up2.out" 2>"$TEST_TMP/up2.err" ||
	{ cat "$TEST_TMP/up2.err" >&2; fail "rdev up --id-label failed"; }
docker exec "$(jq -r .containerId "$TEST_TMP/up2.out")" sh -c \
	"mkdir -p /www && echo id-answers > /www/i && httpd -p 127.0.0.1:$p_id -h /www"
check_eq "up --id-label: its forwardPorts answer (the relay, found by the labels)" \
	"$(curl -sf --max-time 20 "http://127.0.0.1:$p_id/i")" id-answers
rdev down "$ws2" --id-label "rdevfwd.case=$$" >/dev/null 2>&1 || fail "down --id-label"
check "down --id-label removes the container" sh -c "[ -z \"\$(docker ps -aq --filter label=rdevfwd.case=$$)\" ]"
check "and ends its forward" sh -c "! ss -ltn | grep -q '127.0.0.1:$p_id '"

# --- a watch that follows another container -------------------------------------
# Two configs of one folder, two containers; in each, servers on 127.0.0.1
# that say which container answers. The watch of `up --auto-forward`
# auto-forwards p_move from the first; `rdev forward` adds p_exp there
# (explicit); `up --config b.json --auto-forward` moves the watch to the
# second: the auto-forward goes there (before: it stayed on the first), the
# explicit one does not.
ws3=$TEST_TMP/ws-move
mkdir -p "$ws3"
cat >"$ws3/.devcontainer.json" <<JSON
{ "image": "$RDEV_RIG_IMAGE_BUSYBOX",
  "portsAttributes": { "$p_move": { "label": "a-web", "onAutoForward": "openBrowser" } } }
JSON
cat >"$ws3/b.json" <<JSON
{ "image": "$RDEV_RIG_IMAGE_BUSYBOX",
  "portsAttributes": { "$p_move": { "label": "b-web", "onAutoForward": "silent" },
    "$p_ig": { "onAutoForward": "ignore" } } }
JSON
serve() { # container, what it says
	docker exec "$1" sh -c "mkdir -p /www && echo $2 > /www/w &&
		httpd -p 127.0.0.1:$p_move -h /www && httpd -p 127.0.0.1:$p_exp -h /www &&
		httpd -p 127.0.0.1:$p_ig -h /www"
}
rdev up "$ws3" --auto-forward >"$TEST_TMP/up-a.out" 2>"$TEST_TMP/up-a.err" ||
	{ cat "$TEST_TMP/up-a.err" >&2; fail "rdev up $ws3 --auto-forward"; }
cid_a=$(jq -r .containerId "$TEST_TMP/up-a.out")
serve "$cid_a" from-a
rdev forward "$ws3" "$p_exp" 2>/dev/null || fail "forward $p_exp"
moved() { list | jq -r --argjson p "$p_move" "map(select(.port == \$p and .workspace == \"$ws3\"))[0].$1 // empty"; }
a_forwarded() { [ "$(moved onAutoForward)" = openBrowser ]; }
eventually "the watch auto-forwards the first container's port" a_forwarded
ig_forwarded() { list | jq -e --argjson p "$p_ig" 'map(select(.port == $p and .onAutoForward == "notify")) | length == 1' >/dev/null; }
eventually "and another one, which the second config says to ignore" ig_forwarded
l_ig=$(list | jq -r --argjson p "$p_ig" 'map(select(.port == $p))[0].local')
l_move=$(moved local)
check_eq "... which answers from the first container" \
	"$(curl -sf --max-time 20 "http://127.0.0.1:$l_move/w")" from-a
rdev up "$ws3" --config "$ws3/b.json" --auto-forward >"$TEST_TMP/up-b.out" 2>"$TEST_TMP/up-b.err" ||
	{ cat "$TEST_TMP/up-b.err" >&2; fail "rdev up $ws3 --config b.json --auto-forward"; }
cid_b=$(jq -r .containerId "$TEST_TMP/up-b.out")
check "up --config b.json: another container" test "$cid_b" != "$cid_a"
# (checked before anything else is asked of the broker: the move is made
# at once, in the pass that takes up's request)
check "the broker log warns of the move as up returns" grep -q \
	"auto-forward 127.0.0.1:$l_move -> container port $p_move of $ws3 moved to the container its watch follows now" \
	"$RDEV_RUNTIME_DIR/broker.log"
serve "$cid_b" from-b
check_eq "the moved auto-forward answers from the new container, at the same local port" \
	"$(curl -sf --max-time 20 "http://127.0.0.1:$l_move/w")" from-b
check_eq "with the new config's portsAttributes (not the old container's)" \
	"$(moved label)/$(moved onAutoForward)/$(moved local)" "b-web/silent/$l_move"
check "an auto-forward of a port the new config ignores is stopped" sh -c \
	"! ss -ltn | grep -q '127.0.0.1:$l_ig ' && grep -q 'auto-forward 127.0.0.1:$l_ig -> container port $p_ig of $ws3 stopped: the container its watch follows now ignores that port' '$RDEV_RUNTIME_DIR/broker.log'"
check_eq "the explicit forward stays on the container it was asked for" \
	"$(curl -sf --max-time 20 "http://127.0.0.1:$p_exp/w")" from-a
broker stop >/dev/null || fail "rdev-broker stop"
check_eq "a new broker: the moved auto-forward still goes to the new container" \
	"$(list >/dev/null && curl -sf --max-time 20 "http://127.0.0.1:$l_move/w")" from-b
check_eq "and the explicit one to the first" \
	"$(curl -sf --max-time 20 "http://127.0.0.1:$p_exp/w")" from-a
# The move forgot the watch's seen ports: p_ig seen again (saved) is a
# listing of the new container, taken with its config's portsAttributes.
eventually "the watch lists the new container (its ports seen afresh)" rig_auto_seen "$ws3" "$p_ig"
check_eq "which forwards its port $p_move once and the one its config ignores not at all" \
	"$(list | jq -r --arg ws "$ws3" --argjson p "$p_move" --argjson i "$p_ig" \
		'map(select(.workspace == $ws)) |
		"\(map(select(.port == $p)) | length)/\(map(select(.port == $i)) | length)"')" 1/0
# --- the same container again, with new portsAttributes -------------------------
# A watch of ws4 (no --config: .devcontainer/devcontainer.json) forwards
# p_r1 and p_r2, not p_r3 (ignore). The user edits portsAttributes (p_r1:
# another label and onAutoForward; p_r2: ignore; p_r3: not ignored) and runs
# `up --auto-forward` again: before, the watch kept its old attributes.
ws4=$TEST_TMP/ws-attr
mkdir -p "$ws4/.devcontainer"
attrs() { # label of p_r1, its onAutoForward, p_r2's and p_r3's onAutoForward
	cat >"$ws4/.devcontainer/devcontainer.json" <<JSON
{ "image": "$RDEV_RIG_IMAGE_BUSYBOX",
  "portsAttributes": { "$p_r1": { "label": "$1", "onAutoForward": "$2" },
    "$p_r2": { "label": "two", "onAutoForward": "$3" },
    "$p_r3": { "label": "three", "onAutoForward": "$4" } } }
JSON
}
attrs one-v1 notify notify ignore
rdev up "$ws4" --auto-forward >"$TEST_TMP/up-r.out" 2>"$TEST_TMP/up-r.err" ||
	{ cat "$TEST_TMP/up-r.err" >&2; fail "rdev up $ws4 --auto-forward"; }
cid_r=$(jq -r .containerId "$TEST_TMP/up-r.out")
docker exec "$cid_r" sh -c "mkdir -p /www && echo r-answers > /www/r &&
	httpd -p 127.0.0.1:$p_r1 -h /www && httpd -p 127.0.0.1:$p_r2 -h /www &&
	httpd -p 127.0.0.1:$p_r3 -h /www"
of4() { list | jq -r --arg ws "$ws4" --argjson p "$1" "map(select(.port == \$p and .workspace == \$ws))[0].$2 // empty"; }
r_forwarded() { [ -n "$(of4 "$p_r1" local)" ] && [ -n "$(of4 "$p_r2" local)" ]; }
eventually "the watch forwards p_r1 and p_r2" r_forwarded
eventually "and has seen p_r3" rig_auto_seen "$ws4" "$p_r3"
check_eq "p_r3 (ignore) is not forwarded" "$(of4 "$p_r3" local)" ""
l_r1=$(of4 "$p_r1" local) l_r2=$(of4 "$p_r2" local)
check_eq "p_r2 answers" "$(curl -sf --max-time 20 "http://127.0.0.1:$l_r2/r")" r-answers
attrs one-v2 silent ignore notify
rdev up "$ws4" --auto-forward >"$TEST_TMP/up-r2.out" 2>"$TEST_TMP/up-r2.err" ||
	{ cat "$TEST_TMP/up-r2.err" >&2; fail "rdev up $ws4 --auto-forward (again)"; }
check_eq "up again: the same container" "$(jq -r .containerId "$TEST_TMP/up-r2.out")" "$cid_r"
check_eq "the auto-forward takes the new label and onAutoForward, at its local port" \
	"$(of4 "$p_r1" label)/$(of4 "$p_r1" onAutoForward)/$(of4 "$p_r1" local)" "one-v2/silent/$l_r1"
check "a port now ignored is stopped (its port closed), with a warning" sh -c \
	"! ss -ltn | grep -q '127.0.0.1:$l_r2 ' &&
	 grep -q 'auto-forward 127.0.0.1:$l_r2 -> container port $p_r2 of $ws4 stopped: its watch.s new portsAttributes ignore that port' '$RDEV_RUNTIME_DIR/broker.log'"
check "and no longer answers" sh -c "! curl -sf --max-time 5 'http://127.0.0.1:$l_r2/r'"
r3_forwarded() { [ "$(of4 "$p_r3" onAutoForward)" = notify ]; }
eventually "a port ignored before and not now is forwarded" r3_forwarded
check_eq "and answers" "$(curl -sf --max-time 20 "http://127.0.0.1:$(of4 "$p_r3" local)/r")" r-answers
r2_unforwarded() { [ -z "$(of4 "$p_r2" local)" ]; }
check "p_r2 is not forwarded again (seen ports stay seen)" r2_unforwarded
check "no move for the same container" sh -c "! grep -q 'of $ws4 moved to' '$RDEV_RUNTIME_DIR/broker.log'"
# The default file named (absolute, then relative from the workspace: the
# client makes it absolute) is the same container as no --config: before,
# a move (a warning, the targets checked again).
rdev up "$ws4" --config "$ws4/.devcontainer/devcontainer.json" --auto-forward \
	>"$TEST_TMP/up-r3.out" 2>"$TEST_TMP/up-r3.err" ||
	{ cat "$TEST_TMP/up-r3.err" >&2; fail "rdev up $ws4 --config (the default) --auto-forward"; }
check_eq "--config naming the default file: the same container" \
	"$(jq -r .containerId "$TEST_TMP/up-r3.out")" "$cid_r"
(cd "$ws4" && rdev up . --config ./.devcontainer/devcontainer.json --auto-forward \
	>"$TEST_TMP/up-r4.out" 2>"$TEST_TMP/up-r4.err") ||
	{ cat "$TEST_TMP/up-r4.err" >&2; fail "rdev up . --config ./.devcontainer/devcontainer.json --auto-forward"; }
check_eq "--config relative from the workspace: the same container" \
	"$(jq -r .containerId "$TEST_TMP/up-r4.out")" "$cid_r"
rdev up "$ws4" --auto-forward >"$TEST_TMP/up-r5.out" 2>"$TEST_TMP/up-r5.err" ||
	{ cat "$TEST_TMP/up-r5.err" >&2; fail "rdev up $ws4 --auto-forward (after --config)"; }
check_eq "no --config again: the same container" \
	"$(jq -r .containerId "$TEST_TMP/up-r5.out")" "$cid_r"
check "no move warning for the default config named or not" sh -c \
	"! grep -q 'of $ws4 moved to' '$RDEV_RUNTIME_DIR/broker.log'"
check_eq "the auto-forward is as it was" \
	"$(of4 "$p_r1" label)/$(of4 "$p_r1" onAutoForward)/$(of4 "$p_r1" local)" "one-v2/silent/$l_r1"
check_eq "and answers" "$(curl -sf --max-time 20 "http://127.0.0.1:$l_r1/r")" r-answers
# Keys removed from portsAttributes since the container was made count too
# (its label records what the image gave): p_r2's and p_r3's entries go.
# p_r3 was "ignore" when the container was made: before, its frozen
# metadata kept it ignored (its forward stopped) and p_r2 kept "two".
# A port added to forwardPorts is forwarded by that up (before: the
# container's frozen forwardPorts, none).
l_r3=$(of4 "$p_r3" local)
cat >"$ws4/.devcontainer/devcontainer.json" <<JSON
{ "image": "$RDEV_RIG_IMAGE_BUSYBOX", "forwardPorts": [$p_fp],
  "portsAttributes": { "$p_r1": { "label": "one-v3" } } }
JSON
rdev up "$ws4" --auto-forward >"$TEST_TMP/up-r6.out" 2>"$TEST_TMP/up-r6.err" ||
	{ cat "$TEST_TMP/up-r6.err" >&2; fail "rdev up $ws4 --auto-forward (keys removed)"; }
check_eq "keys removed, no --recreate: the same container" \
	"$(jq -r .containerId "$TEST_TMP/up-r6.out")" "$cid_r"
check "a port added to forwardPorts is forwarded" \
	grep -q -- "-> container port $p_fp\$" "$TEST_TMP/up-r6.err"
check_eq "and listed" "$(of4 "$p_fp" local)" "$p_fp"
check_eq "the kept key's new label counts" "$(of4 "$p_r1" label)/$(of4 "$p_r1" local)" "one-v3/$l_r1"
check_eq "a port whose ignore-at-creation entry was removed stays forwarded, unlabelled" \
	"$(of4 "$p_r3" local)/$(of4 "$p_r3" label)" "$l_r3/"
check_eq "and answers" "$(curl -sf --max-time 20 "http://127.0.0.1:$l_r3/r")" r-answers
r2_back() { [ -n "$(of4 "$p_r2" local)" ]; }
eventually "a port ignored before, its entry now removed, is forwarded" r2_back
check_eq "unlabelled (not its label at creation)" "$(of4 "$p_r2" label)" ""
# Renamed: the three exact keys made one range. `forward --auto` asks the
# agent (read-configuration's ports) rather than up: the range labels all
# three, no frozen exact key wins over it.
cat >"$ws4/.devcontainer/devcontainer.json" <<JSON
{ "image": "$RDEV_RIG_IMAGE_BUSYBOX",
  "portsAttributes": { "$p_r1-$p_r3": { "label": "range" } } }
JSON
rdev forward "$ws4" --auto 2>"$TEST_TMP/auto-r7.err" ||
	{ cat "$TEST_TMP/auto-r7.err" >&2; fail "rdev forward $ws4 --auto (key renamed)"; }
check_eq "forward --auto: a key renamed to a range, the range's label for each" \
	"$(of4 "$p_r1" label)/$(of4 "$p_r2" label)/$(of4 "$p_r3" label)" "range/range/range"
check_eq "still the same container" \
	"$(docker ps -q --no-trunc --filter "label=devcontainer.local_folder=$ws4")" "$cid_r"
finish
