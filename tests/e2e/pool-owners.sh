#!/usr/bin/env bash
# pool-owners.sh - owners and admission on real sshd hosts of the rig (one
# Docker engine, told apart by their policies' hostId):
#   two host accounts A and B: A's container carries its owner labels (the
#   host user, the local user@machine); B, naming A's workspace folder,
#   cannot exec into, read the logs or status of, forward a port of (a
#   server A bound to the container's 127.0.0.1), stop, remove or up it (the
#   agent refuses, naming the owner), and B's read-configuration does not
#   substitute ${containerEnv:...} from it; the same for A's Compose project, which B's
#   up neither reuses nor starts again (B's own folder of the same name: the
#   project's name collides, said so with the fix and A named), every service of it labelled A's, and
#   still refused (up, stop, down) once A's dev container is gone but A's
#   db is left, which A's own stop and down reach (found by the project's
#   name); `ls` shows each their own, `ls --all` everyone's;
#   two brokers of two local users (root and nu2, in group docker) placing at
#   once on a pool whose one host allows one environment per user
#   (maxEnvironmentsPerUser 1, both log in as the same host user): exactly
#   one environment, and one clear refusal; allowedUsers refuses a user not
#   in it;
#   admission of a Docker Compose configuration and of a stopped container
#   that `up` starts again (maxEnvironmentsPerUser 1, limitContainers): the
#   Compose service's container is labelled, counted and limited, a second
#   environment is refused while it runs, a stopped one is not started
#   again while another runs.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
id nu2 >/dev/null 2>&1 || fail "this test needs the local user nu2 (in group docker)"

export XDG_CONFIG_HOME=$TEST_TMP/config
ha=$(rig_host_name oa) hb=$(rig_host_name ob) hc=$(rig_host_name oc)
hd=$(rig_host_name od) he=$(rig_host_name oe)
shared=$(rig_shared_folder)
nu2_dir=$TEST_TMP/nu2
nu2() { # run rdev as nu2, with its own broker, pools and state
	runuser -u nu2 -- env HOME="$nu2_dir" RDEV_RUNTIME_DIR="$nu2_dir/rt" \
		RDEV_STATE_DIR="$nu2_dir/state" XDG_CONFIG_HOME="$nu2_dir/config" \
		RDEV_SSH_CONFIG="$nu2_dir/ssh_config" "$RDEV_BIN_DIR/rdev" "$@"
}
project= # A's Compose project's name
cw=cw$$ iw=iw$$ # a Compose workspace and an image one, uploaded to $he
ca=ca$$ # A's Compose workspace in the shared folder
fwd_port=18998 # B's (refused) forward of A's server
cleanup() {
	local rc=$?
	set +e
	runuser -u nu2 -- env RDEV_RUNTIME_DIR="$nu2_dir/rt" \
		"$RDEV_BIN_DIR/rdev-broker" stop >/dev/null 2>&1
	rdev forward --stop "$fwd_port" >/dev/null 2>&1
	rdev down "$he:" "$TEST_TMP/$cw" >/dev/null 2>&1
	rdev down "$ha:$shared/$ca" >/dev/null 2>&1
	# (a db left by a failure with A's dev container gone)
	if [ -n "${project:-}" ]; then
		docker ps -aq --filter "label=com.docker.compose.project=$project" |
			xargs -r docker rm -f >/dev/null 2>&1
		docker network rm "${project}_default" >/dev/null 2>&1
	fi
	rig_remove_host_containers "$ha" "$hc" "$hd" "$he"
	(exit $rc)
	rig_test_cleanup
}
trap cleanup EXIT
policy() { # HOSTID EXTRA-JSON
	printf '{"hostId": "%s"%s}\n' "$1" "${2:+, $2}" >"$shared/$1.json"
	echo "$shared/$1.json"
}
# A and B: two accounts on one host (one hostId). (The five start at once.)
rig_host_bg "$ha" --policy "$(policy "$ha")"
rig_host_bg "$hb" --policy "$shared/$ha.json"
rig_host_bg "$hc" --policy "$(policy "$hc" '"maxEnvironmentsPerUser": 1')"
rig_host_bg "$hd" --policy "$(policy "$hd" '"allowedUsers": ["nobody-else"]')"
rig_host_bg "$he" --policy "$(policy "$he" '"maxEnvironmentsPerUser": 1, "limitContainers": true')"
rig_hosts_wait
cfg_a=$(rig_host_cfg "$ha") cfg_b=$(rig_host_cfg "$hb") cfg_c=$(rig_host_cfg "$hc")
cfg_d=$(rig_host_cfg "$hd") cfg_e=$(rig_host_cfg "$he")
cat "$cfg_a" "$cfg_b" "$cfg_c" "$cfg_d" "$cfg_e" >"$TEST_TMP/ssh_config"
export RDEV_SSH_CONFIG=$TEST_TMP/ssh_config
user_a=$(cat "$(dirname "$cfg_a")/user") user_b=$(cat "$(dirname "$cfg_b")/user")

ws() { # NAME
	mkdir -p "$shared/$1"
	printf '{"image": "%s"}\n' "$RDEV_RIG_IMAGE_BUSYBOX" >"$shared/$1/.devcontainer.json"
	chmod -R a+rX "$shared/$1"
}

# --- two host accounts -------------------------------------------------------------
ws wa
printf '{"image": "%s", "remoteEnv": {"SEEN": "${containerEnv:PATH}"}}\n' \
	"$RDEV_RIG_IMAGE_BUSYBOX" >"$shared/wa/.devcontainer.json"
rdev up "$ha:$shared/wa" >"$TEST_TMP/up-a.json" 2>"$TEST_TMP/up.err" ||
	{ cat "$TEST_TMP/up.err" >&2; fail "up as A failed"; }
cid=$(jq -r .containerId "$TEST_TMP/up-a.json")
check_eq "A's container: the host user it belongs to" \
	"$(docker inspect -f '{{index .Config.Labels "dev.rdev.owner_name"}}' "$cid")" "$user_a"
check_eq "... and who asked for it, the local user@machine" \
	"$(docker inspect -f '{{index .Config.Labels "dev.rdev.owner_client"}}' "$cid")" \
	"$(id -un)@$(hostname)"
refused() { # WHAT CMD...: CMD fails naming A as the owner
	local what=$1 s
	shift
	set +e
	"$@" >"$TEST_TMP/refused.out" 2>"$TEST_TMP/refused.err"
	s=$?
	set -e
	check "B: $what is refused" test "$s" -ne 0
	check "... naming the owner" \
		grep -q "belongs to $user_a (uid [0-9]*), not to you ($user_b)" "$TEST_TMP/refused.err"
}
refused "exec in A's environment" rdev exec "$hb:$shared/wa" -- touch /tmp/b-was-here
check "... and nothing ran there" sh -c "! docker exec $cid test -e /tmp/b-was-here"
refused "logs of A's environment" rdev logs "$hb:$shared/wa"
refused "status of A's environment" rdev status "$hb:$shared/wa"
# (A's server, bound to the container's loopback: only a relay in the
# container reaches it)
docker exec -d "$cid" sh -c 'echo a-secret >/tmp/index.html; exec httpd -f -p 127.0.0.1:7777 -h /tmp'
refused "forward of A's loopback server" rdev forward "$hb:$shared/wa" "$fwd_port:7777"
check "... and nothing listens locally" sh -c "! ss -Hltn 'sport = :$fwd_port' | grep -q ."
check_eq "... nor is a forward kept" \
	"$(rdev forward --list --json | jq "[.[] | select(.local == $fwd_port)] | length")" 0
check_eq "read-configuration as A: \${containerEnv:PATH} from A's container" \
	"$(rdev read-configuration "$ha:$shared/wa" 2>/dev/null | jq -r .configuration.remoteEnv.SEEN)" \
	"$(docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$cid" | sed -n 's/^PATH=//p')"
check_eq "read-configuration as B: not from A's container" \
	"$(rdev read-configuration "$hb:$shared/wa" 2>"$TEST_TMP/rc.err" | jq -r .configuration.remoteEnv.SEEN)" \
	'${containerEnv:PATH}'
check "... with a warning naming the owner" grep -q "belongs to $user_a" "$TEST_TMP/rc.err"
refused "stop of A's environment" rdev stop "$hb:$shared/wa"
refused "down of A's environment" rdev down "$hb:$shared/wa"
refused "up of A's environment" rdev up "$hb:$shared/wa"
# (its result names no container: not one B's up made, nor B's to clean up)
check_eq "... and its result has no containerId of A's" \
	"$(jq -r '.containerId // "none"' "$TEST_TMP/refused.out")" none
check_eq "A's environment still runs" "$(docker inspect -f '{{.State.Running}}' "$cid")" true
check_eq "ls as A: A's own" "$(rdev ls "$ha:~" --json | jq -r 'map(.containerId) | join(",")')" "$cid"
check_eq "ls as B: none of A's" "$(rdev ls "$hb:~" --json | jq -r 'map(select(.containerId == "'"$cid"'")) | length')" 0
check_eq "ls --all as B: A's too, with its owner" \
	"$(rdev ls "$hb:~" --all --json | jq -r '.[] | select(.containerId == "'"$cid"'") | .owner')" "$user_a"
check "A can still stop it" rdev stop "$ha:$shared/wa"

# --- two host accounts, a Compose project --------------------------------------------
# (the project is found by its name, the folder's: B's up must not reuse or
# start A's service container)
mkdir -p "$shared/$ca/.devcontainer"
# (and a second service, db: a container of A's project that is not the dev
# container; SIGKILL: busybox's sleep as pid 1 ignores SIGTERM)
printf 'version: "2.4"\nservices:\n  app:\n    image: %s\n  db:\n    image: %s
    command: ["sleep", "86400"]\n    stop_signal: SIGKILL\n' \
	"$RDEV_RIG_IMAGE_BUSYBOX" "$RDEV_RIG_IMAGE_BUSYBOX" \
	>"$shared/$ca/.devcontainer/docker-compose.yml"
printf '{"dockerComposeFile": "docker-compose.yml", "service": "app", %s}\n' \
	'"workspaceFolder": "/workspace", "overrideCommand": true' \
	>"$shared/$ca/.devcontainer/devcontainer.json"
chmod -R a+rX "$shared/$ca"
rdev up "$ha:$shared/$ca" >"$TEST_TMP/up-ca.json" 2>"$TEST_TMP/up.err" ||
	{ cat "$TEST_TMP/up.err" >&2; fail "Compose up as A failed"; }
cid=$(jq -r .containerId "$TEST_TMP/up-ca.json")
project=$(jq -r .composeProjectName "$TEST_TMP/up-ca.json")
db=$(docker ps -aq --no-trunc --filter "label=com.docker.compose.project=$project" \
	--filter label=com.docker.compose.service=db)
check_eq "A's db (another service of the project) carries A's owner label too" \
	"$(docker inspect -f '{{index .Config.Labels "dev.rdev.owner_name"}}' "$db")" "$user_a"
refused "exec in A's Compose environment" rdev exec "$hb:$shared/$ca" -- touch /tmp/b-was-here
check "... and nothing ran there" sh -c "! docker exec $cid test -e /tmp/b-was-here"
refused "logs of A's Compose environment" rdev logs "$hb:$shared/$ca"
refused "stop of A's Compose environment" rdev stop "$hb:$shared/$ca"
refused "down of A's Compose environment" rdev down "$hb:$shared/$ca"
refused "up of A's Compose environment (running)" rdev up "$hb:$shared/$ca"
check_eq "... and its result has no containerId of A's" \
	"$(jq -r '.containerId // "none"' "$TEST_TMP/refused.out")" none
# B's own folder of the same name: the same project name, another workspace:
# a name that collides, said so with the fix (not "the dev container of
# A'S FOLDER belongs to A", a folder B never named)
mkdir -p "$shared/b$$"
cp -a "$shared/$ca" "$shared/b$$/"
chmod -R a+rX "$shared/b$$"
set +e
rdev up "$hb:$shared/b$$/$ca" >/dev/null 2>"$TEST_TMP/collide.err"
s=$?
set -e
check "B: up of B's folder of the same name is refused" test "$s" -ne 0
check "... as a Compose project name of another user's workspace, with the fix" \
	grep -q "Compose project $project is another user's workspace (the workspace folder $shared/$ca, of $user_a (uid [0-9]*)); the name comes from .*; give this one another name (.*COMPOSE_PROJECT_NAME in $shared/b$$/$ca/[^ ]*\.env, or rename the folder)" \
	"$TEST_TMP/collide.err"
rm -rf "$shared/b$$"
check_eq "A's Compose environment still runs, its two containers" \
	"$(docker ps -aq --filter "label=com.docker.compose.project=$project" --no-trunc | sort | tr '\n' ' ')" \
	"$(printf '%s\n' "$cid" "$db" | sort | tr '\n' ' ')"
check "A stops it" rdev stop "$ha:$shared/$ca"
refused "up of A's Compose environment (stopped)" rdev up "$hb:$shared/$ca"
check_eq "... and it stays stopped" "$(docker inspect -f '{{.State.Running}}' "$cid")" false
# A's dev container gone, A's db left: the project is still A's
docker rm -f "$cid" >/dev/null
refused "up of A's Compose project (its dev container gone, db left)" rdev up "$hb:$shared/$ca"
check_eq "... and A's db is untouched, the project's one container" \
	"$(docker ps -aq --filter "label=com.docker.compose.project=$project" --no-trunc)" "$db"
check_eq "... still stopped" "$(docker inspect -f '{{.State.Running}}' "$db")" false
# (stop and down find what is left of the project by its name: the refusal
# is the project-wide owner check's)
refused "stop of A's Compose project (its dev container gone, db left)" rdev stop "$hb:$shared/$ca"
refused "down of A's Compose project (its dev container gone, db left)" rdev down "$hb:$shared/$ca"
check_eq "... nor does B's down remove it" "$(docker inspect -f '{{.State.Status}}' "$db")" exited
check_eq "A's stop reaches A's db left without the dev container" \
	"$(rdev stop "$ha:$shared/$ca" --json | jq -c '[.stopped, .alreadyStopped]')" "[0,1]"
check_eq "... and A's down removes it, every container of the project" \
	"$(rdev down "$ha:$shared/$ca" --json | jq -r .removed) $(docker ps -aq \
		--filter "label=com.docker.compose.project=$project" | wc -l)" "1 0"
check "... and its network" sh -c "! docker network inspect ${project}_default >/dev/null 2>&1"

# --- allowedUsers ------------------------------------------------------------------
ws wd
set +e
rdev up "$hd:$shared/wd" >/dev/null 2>"$TEST_TMP/allowed.err"; s=$?
set -e
check "a user not in allowedUsers is refused" test "$s" -ne 0
check "... saying so" grep -q "may not create dev containers here (the host policy's allowedUsers" \
	"$TEST_TMP/allowed.err"

# --- two brokers, two local users, maxEnvironmentsPerUser 1 ------------------------------
mkdir -p "$nu2_dir"
cp "$RDEV_RIG_CLIENT_KEY" "$nu2_dir/key"
cp "$(dirname "$cfg_c")/known_hosts" "$nu2_dir/known_hosts"
sed -e "s|IdentityFile .*|IdentityFile $nu2_dir/key|" \
	-e "s|UserKnownHostsFile .*|UserKnownHostsFile $nu2_dir/known_hosts|" "$cfg_c" >"$nu2_dir/ssh_config"
mkdir -p -m 700 "$nu2_dir/rt"
chown -R nu2: "$nu2_dir"
chmod 600 "$nu2_dir/key"
check "root: hosts add --pool solo" rdev hosts add --pool solo "$hc"
check "nu2: hosts add --pool solo" nu2 hosts add --pool solo "$hc"
ws w1
ws w2
# Both up at once: each broker places, the host's agent admits one.
rdev up @solo "$shared/w1" >"$TEST_TMP/race1.out" 2>"$TEST_TMP/race1.err" &
p1=$!
nu2 up @solo "$shared/w2" >"$TEST_TMP/race2.out" 2>"$TEST_TMP/race2.err" &
p2=$!
set +e
wait $p1; s1=$?
wait $p2; s2=$?
set -e
check_eq "two placements at once: exactly one succeeds" "$(((s1 == 0) + (s2 == 0)))" 1
check_eq "... one environment on the host" \
	"$(docker ps -q --filter "label=dev.rdev.host=$hc" | wc -l)" 1
check "... and the other is told why" \
	grep -qh "has 1 running dev container here, as many as the host policy allows (maxEnvironmentsPerUser 1)" \
	"$TEST_TMP/race1.err" "$TEST_TMP/race2.err"
check "... by whom it was made: root or nu2" \
	sh -c "docker ps --filter label=dev.rdev.host=$hc --format '{{.Label \"dev.rdev.owner_client\"}}' | grep -Eqx '(root|nu2)@$(hostname)'"

# --- Compose and restarted containers: admitted and counted ------------------------
mkdir -p "$TEST_TMP/$cw/.devcontainer" "$TEST_TMP/$iw"
cat >"$TEST_TMP/$cw/.devcontainer/docker-compose.yml" <<YAML
version: "2.4"
services:
  app:
    image: $RDEV_RIG_IMAGE_BUSYBOX
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
YAML
cat >"$TEST_TMP/$cw/.devcontainer/devcontainer.json" <<'JSON'
{ "dockerComposeFile": "docker-compose.yml", "service": "app",
  "workspaceFolder": "/workspace", "overrideCommand": false,
  "hostRequirements": { "cpus": 1, "memory": "512mb" } }
JSON
printf '{"image": "%s"}\n' "$RDEV_RIG_IMAGE_BUSYBOX" >"$TEST_TMP/$iw/.devcontainer.json"
upe() { rdev up "$he:" "$TEST_TMP/$1"; }
upe "$cw" >"$TEST_TMP/up-cw.json" 2>"$TEST_TMP/up.err" ||
	{ cat "$TEST_TMP/up.err" >&2; fail "up of the Compose workspace failed"; }
ccid=$(jq -r .containerId "$TEST_TMP/up-cw.json")
check_eq "Compose: the service's container carries the hostId and its reservation" \
	"$(docker inspect -f '{{index .Config.Labels "dev.rdev.host"}} {{index .Config.Labels "dev.rdev.cpus"}}' "$ccid")" "$he 1"
check_eq "... and limitContainers limits it to its hostRequirements" \
	"$(docker inspect -f '{{.HostConfig.NanoCpus}} {{.HostConfig.Memory}}' "$ccid")" "1000000000 536870912"
check_eq "... and listed as the user's one environment there" \
	"$(rdev ls "$he:~" --json | jq -r 'map(.containerId) | join(",")')" "$ccid"
refused_max() { # WHAT WORKSPACE
	local s
	set +e
	upe "$2" >/dev/null 2>"$TEST_TMP/max.err"
	s=$?
	set -e
	check "$1: refused" test "$s" -ne 0
	check "... by maxEnvironmentsPerUser" \
		grep -q "has 1 running dev container here, as many as the host policy allows (maxEnvironmentsPerUser 1)" \
		"$TEST_TMP/max.err"
}
refused_max "a second environment while the Compose one runs" "$iw"
check "stop the Compose environment" rdev stop "$he:" "$TEST_TMP/$cw"
upe "$iw" >"$TEST_TMP/up-iw.json" 2>"$TEST_TMP/up.err" ||
	{ cat "$TEST_TMP/up.err" >&2; fail "up of the image workspace failed"; }
check "then the other is admitted" jq -e '.containerId | length > 0' "$TEST_TMP/up-iw.json"
refused_max "the stopped Compose environment started again while the other runs" "$cw"
check_eq "... and it stays stopped" "$(docker inspect -f '{{.State.Running}}' "$ccid")" false
check "stop the image environment" rdev stop "$he:" "$TEST_TMP/$iw"
refused_none() { upe "$cw" >/dev/null 2>"$TEST_TMP/up.err" || { cat "$TEST_TMP/up.err" >&2; return 1; }; }
check "the Compose environment starts again once there is room" refused_none
check_eq "... the same container" "$(docker inspect -f '{{.State.Running}}' "$ccid")" true
refused_max "the stopped image environment started again while the Compose one runs" "$iw"
finish
