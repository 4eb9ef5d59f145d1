#!/usr/bin/env bash
# up-compose.sh - `rdev up` of a Docker Compose workspace with two services:
# runServices limits what starts, the workspace is mounted by the service's
# own volumes (workspaceMount is ignored, as by the reference),
# containerEnv/remoteEnv reach exec, lifecycle commands run the right number
# of times across up / stop / up, down removes the project, and
# --rebuild of a built service removes the image it replaced.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
export RDEV_STATE_DIR=$TEST_TMP/state

# The folder's name is the Compose project's: this test's own. The app's
# command ends on SIGTERM (a bare `sleep infinity` as PID 1 ignores it:
# `rdev stop` would wait Docker's 10 s for the kill).
ws=$TEST_TMP/ws-compose-$$
mkdir -p "$ws/.devcontainer"
cat >"$ws/.devcontainer/docker-compose.yml" <<YAML
version: "3"
services:
  app:
    image: $RDEV_RIG_IMAGE_BOOKWORM_DEV
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep infinity & wait"]
    volumes:
      - ..:/workspace
  db:
    image: $RDEV_RIG_IMAGE_BUSYBOX
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"]
YAML
cat >"$ws/.devcontainer/devcontainer.json" <<'JSON'
{
  "dockerComposeFile": "docker-compose.yml",
  "service": "app",
  "runServices": ["app"],
  "workspaceFolder": "/workspace",
  "workspaceMount": "type=bind,source=${localWorkspaceFolder},target=/wsmount",
  "remoteUser": "dev",
  "updateRemoteUserUID": false,
  "containerEnv": { "CE": "compose-ce" },
  "remoteEnv": { "RE": "re-${containerEnv:CE}" },
  "onCreateCommand": "echo c >> /tmp/create.count",
  "postCreateCommand": {
    "a": "touch /tmp/a; for i in $(seq 600); do [ -e /tmp/b ] && exit 0; sleep 0.1; done; exit 1",
    "b": "touch /tmp/b; for i in $(seq 600); do [ -e /tmp/a ] && exit 0; sleep 0.1; done; exit 1"
  },
  "postStartCommand": "echo s >> /tmp/start.count",
  "waitFor": "postStartCommand"
}
JSON
project=
cleanup_ws() {
	[ -z "$project" ] && project=$(docker ps -aq --filter "label=devcontainer.local_folder=$ws" |
		head -n 1 | xargs -r docker inspect -f '{{index .Config.Labels "com.docker.compose.project"}}')
	if [ -n "$project" ]; then
		rig_compose_rm "$project"
	fi
}
dws=
cleanup_dying() {
	[ -n "$dws" ] || return 0
	docker ps -aq --filter "label=devcontainer.local_folder=$dws" | xargs -r docker rm -f >/dev/null
	docker network ls -q --filter "name=$(basename "$dws")" | xargs -r docker network rm >/dev/null 2>&1 || true
}
trap 'cleanup_ws; cleanup_dying; rig_test_cleanup' EXIT

rdev up "$ws" >"$TEST_TMP/up.json" 2>"$TEST_TMP/up.err" || { cat "$TEST_TMP/up.err"; fail "up failed"; }
cid=$(jq -r .containerId "$TEST_TMP/up.json")
project=$(docker inspect -f '{{index .Config.Labels "com.docker.compose.project"}}' "$cid")
check_eq "the dev container is the app service" \
	"$(docker inspect -f '{{index .Config.Labels "com.docker.compose.service"}}' "$cid")" app
check_eq "runServices: db was not started" \
	"$(docker ps -q --filter "label=com.docker.compose.project=$project" --filter "label=com.docker.compose.service=db" | wc -l)" 0
check_eq "remoteWorkspaceFolder" "$(jq -r .remoteWorkspaceFolder "$TEST_TMP/up.json")" /workspace
check_eq "up names the Compose project, as the reference's answer does" \
	"$(jq -r .composeProjectName "$TEST_TMP/up.json")" "$project"
touch "$ws/made-on-host"
check "the service's own volume mounts the workspace" rdev exec "$ws" -- test -e /workspace/made-on-host
# workspaceMount is ignored for Compose, as the reference's up ignores it
# (it mounts nothing): said, and not mounted.
check "up warns that workspaceMount is ignored" grep -q 'workspaceMount' "$TEST_TMP/up.err"
check "workspaceMount is not mounted" rdev exec "$ws" -- test ! -e /wsmount
check_eq "exec runs in the workspace folder" "$(rdev exec "$ws" -- pwd)" /workspace
check_eq "remote user" "$(rdev exec "$ws" -- id -un)" dev
check_eq "containerEnv in exec" "$(rdev exec "$ws" -- sh -c 'echo $CE')" compose-ce
check_eq "remoteEnv in exec" "$(rdev exec "$ws" -- sh -c 'echo $RE')" re-compose-ce
check "parallel postCreate entries ran concurrently" rdev exec "$ws" -- test -e /tmp/a -a -e /tmp/b
rdev stop "$ws" >/dev/null
check_eq "stop stops the project" \
	"$(docker ps -q --filter "label=com.docker.compose.project=$project" | wc -l)" 0
rdev up "$ws" >"$TEST_TMP/up2.json" 2>/dev/null
check_eq "up after stop reuses the container" "$(jq -r .containerId "$TEST_TMP/up2.json")" "$cid"
check_eq "onCreateCommand ran once across up, stop, up" "$(rdev exec "$ws" -- cat /tmp/create.count | wc -l)" 1
check_eq "postStartCommand ran on each start" "$(rdev exec "$ws" -- cat /tmp/start.count | wc -l)" 2
# An edited compose file (here another service's) changes the
# configuration as an edited devcontainer.json does: up says so.
# (the build flags on the running service's container: nothing is built,
# said for each)
rdev up "$ws" --build-no-cache --cache-from none.invalid/x:1 >/dev/null 2>"$TEST_TMP/up3.err"
check "an unchanged configuration is not said to have changed" sh -c "! grep -q 'configuration changed' '$TEST_TMP/up3.err'"
for flag in --build-no-cache --cache-from; do
	check "$flag on the existing service container is warned about" grep -qF \
		"warning: $flag: nothing is built: the container exists (${cid:0:12}): use --remove-existing-container to rebuild" \
		"$TEST_TMP/up3.err"
done
# An up of a running service's container lists the project's containers
# once: that one listing serves both the owner check and the finding of
# the service's container (the agent's -vv log shows each Docker call).
rdev_agent -vv up "$ws" >/dev/null 2>"$TEST_TMP/up-calls.err" || { cat "$TEST_TMP/up-calls.err"; fail "agent up of the running project failed"; }
check_eq "an up of a running service lists the project's containers once" \
	"$(grep -c 'docker: GET [^ ]*/containers/json[^ ]*com.docker.compose.project' "$TEST_TMP/up-calls.err")" 1
# The Compose CLI and its version, asked at the first up, are remembered
# (compose-cli-cache.h): no `docker-compose version` run on every up.
check_eq "the first up remembered the Compose CLI's version" \
	"$(jq -r .version "$RDEV_STATE_DIR/compose-cli.json")" \
	"$({ docker compose version --short 2>/dev/null || docker-compose version --short; } | head -n 1)"
check "a later up takes the Compose CLI from what was remembered" \
	grep -q 'Compose CLI: .* (remembered)' "$TEST_TMP/up-calls.err"
# A remembered answer gone wrong (an install the key did not see change):
# the up that fails on it forgets it, and the next one asks again.
jq -c '.v2 = (.v2 | not)' "$RDEV_STATE_DIR/compose-cli.json" >"$TEST_TMP/cli.json"
mv "$TEST_TMP/cli.json" "$RDEV_STATE_DIR/compose-cli.json"
if rdev up "$ws" >/dev/null 2>"$TEST_TMP/up-stale.err"; then fail "up with a wrong remembered Compose CLI succeeded"; fi
check "the failed up forgot the remembered Compose CLI" test ! -e "$RDEV_STATE_DIR/compose-cli.json"
rdev up "$ws" >/dev/null 2>"$TEST_TMP/up-asked.err" || { cat "$TEST_TMP/up-asked.err"; fail "the up after a forgotten Compose CLI failed"; }
check "the next up asked the CLIs again" test -s "$RDEV_STATE_DIR/compose-cli.json"
printf '    environment:\n      EDITED: "1"\n' >>"$ws/.devcontainer/docker-compose.yml"
rdev up "$ws" >/dev/null 2>"$TEST_TMP/up4.err"
check "an edited compose file is said to change the configuration" \
	grep -qF "The configuration changed since container ${cid:0:12} was created" "$TEST_TMP/up4.err"
# Without runServices, up starts every service.
sed -i 's/"runServices": \["app"\],//' "$ws/.devcontainer/devcontainer.json"
check "the container's userEnvProbe cache is in the agent's state folder" test -e "$RDEV_STATE_DIR/env-probe-$cid.json"
rdev up "$ws" --recreate >"$TEST_TMP/up-recreate.json" 2>"$TEST_TMP/up-recreate.err" ||
	{ cat "$TEST_TMP/up-recreate.err"; fail "up --recreate failed"; }
check "the replaced container's userEnvProbe cache went with it" test ! -e "$RDEV_STATE_DIR/env-probe-$cid.json"
cid=$(jq -r .containerId "$TEST_TMP/up-recreate.json")
check "the new container has its own" test -e "$RDEV_STATE_DIR/env-probe-$cid.json"
check_eq "without runServices db runs too" \
	"$(docker ps -q --filter "label=com.docker.compose.project=$project" --filter "label=com.docker.compose.service=db" | wc -l)" 1
# A devcontainer.json that no longer loads (a comma gone) keeps neither stop
# nor down from the project: its containers are found by the labels the
# configuration would give, and the error is told as a warning.
cp "$ws/.devcontainer/devcontainer.json" "$TEST_TMP/devcontainer.json.good"
sed -i 's/"service": "app",/"service": "app"/' "$ws/.devcontainer/devcontainer.json"
rdev stop "$ws" >/dev/null 2>"$TEST_TMP/stop-broken.err" || { cat "$TEST_TMP/stop-broken.err"; fail "stop with a configuration that does not load failed"; }
check_eq "stop with a configuration that does not load stops the project" \
	"$(docker ps -q --filter "label=com.docker.compose.project=$project" | wc -l)" 0
check "and warns, naming the file, line and column" grep -qE "stop: warning: .*devcontainer.json:[0-9]+:[0-9]+: .*found by its labels" "$TEST_TMP/stop-broken.err"
rdev down "$ws" --volumes >/dev/null 2>"$TEST_TMP/down-broken.err" || { cat "$TEST_TMP/down-broken.err"; fail "down with a configuration that does not load failed"; }
check_eq "down with a configuration that does not load removes the project's containers" \
	"$(docker ps -aq --filter "label=com.docker.compose.project=$project" | wc -l)" 0
check "down removed the container's userEnvProbe cache" test ! -e "$RDEV_STATE_DIR/env-probe-$cid.json"
check "and warns that the mounts' volumes were kept" grep -qE "down: warning: .*devcontainer.json:[0-9]+:[0-9]+: .*volumes of its mounts were kept" "$TEST_TMP/down-broken.err"
cp "$TEST_TMP/devcontainer.json.good" "$ws/.devcontainer/devcontainer.json"
if rdev down "$ws-gone" 2>"$TEST_TMP/down-gone.err"; then fail "down of a workspace folder that does not exist succeeded"; fi
check "which is an error naming the folder" grep -qF "$ws-gone: No such file or directory" "$TEST_TMP/down-gone.err"
# A service whose command ends at once (overrideCommand is false for
# Compose): up fails saying so, as the reference's does, not "success" with
# a dev container nothing can run in.
cp "$ws/.devcontainer/docker-compose.yml" "$TEST_TMP/docker-compose.yml.good"
sed -i '0,/command: .*/s//command: ["sh", "-c", "exit 3"]/' "$ws/.devcontainer/docker-compose.yml"
rc=0
rdev up "$ws" >"$TEST_TMP/up-exit.json" 2>"$TEST_TMP/up-exit.err" || rc=$?
check_eq "up of a service whose command ends fails" "$rc" 1
check "saying the container exited and why" grep -qF 'exited (status 3) after it started (with "overrideCommand": false' \
	<<<"$(jq -r .message "$TEST_TMP/up-exit.json")"
rdev down "$ws" >/dev/null
cp "$TEST_TMP/docker-compose.yml.good" "$ws/.devcontainer/docker-compose.yml"
# A service Compose builds: --rebuild builds it again (no cache) under the
# same tag, and the image it replaced, dangling and unused, is removed.
# (The RUN line names this run: no other run's cached layer, such as the one
# a failed build below leaves, can stand in for this run's images.)
printf 'FROM %s\nRUN echo %s > /built-by && date +%%s%%N > /built\n' "$RDEV_RIG_IMAGE_BOOKWORM_DEV" \
	"$(basename "$TEST_TMP")" >"$ws/.devcontainer/Dockerfile"
sed -i "s|    image: $RDEV_RIG_IMAGE_BOOKWORM_DEV|    build: .|" "$ws/.devcontainer/docker-compose.yml"
rdev up "$ws" >"$TEST_TMP/up-b1.json" 2>"$TEST_TMP/up-b1.err" || { cat "$TEST_TMP/up-b1.err"; fail "up of a built service failed"; }
old_image=$(docker inspect -f '{{.Image}}' "$(jq -r .containerId "$TEST_TMP/up-b1.json")")
rdev up "$ws" --rebuild >"$TEST_TMP/up-b2.json" 2>"$TEST_TMP/up-b2.err" || { cat "$TEST_TMP/up-b2.err"; fail "up --rebuild failed"; }
new_image=$(docker inspect -f '{{.Image}}' "$(jq -r .containerId "$TEST_TMP/up-b2.json")")
check "--rebuild built a new image" test "$new_image" != "$old_image"
check "--rebuild removes the service image it replaced" sh -c "! docker image inspect '$old_image' >/dev/null 2>&1"
check "and says so" grep -qF "Removed image ${old_image:0:19} (replaced, no longer used)" "$TEST_TMP/up-b2.err"
# A rebuild whose build fails keeps the service's container it would have
# replaced.
b2=$(jq -r .containerId "$TEST_TMP/up-b2.json")
# (An edited Dockerfile of the service is a changed configuration, said.)
echo "# edited" >>"$ws/.devcontainer/Dockerfile"
rdev up "$ws" >/dev/null 2>"$TEST_TMP/up-df.err"
check "an edited service Dockerfile is said to change the configuration" \
	grep -qF "The configuration changed since container ${b2:0:12} was created" "$TEST_TMP/up-df.err"
echo "RUN no-such-command-$$" >>"$ws/.devcontainer/Dockerfile"
rc=0
rdev up "$ws" --rebuild >"$TEST_TMP/up-b3.json" 2>"$TEST_TMP/up-b3.err" || rc=$?
check_eq "a rebuild whose service build fails: up fails" "$rc" 1
check "its message says what failed" grep -q "no-such-command-$$" <<<"$(jq -r .message "$TEST_TMP/up-b3.json")"
check "the container it would have replaced is kept, running" \
	test "$(docker inspect -f '{{.State.Running}}' "$b2" 2>/dev/null)" = true
rdev down "$ws" >/dev/null
check_eq "down removes the project's containers" \
	"$(docker ps -aq --filter "label=com.docker.compose.project=$project" | wc -l)" 0
docker image rm -f --no-prune "$new_image" >/dev/null 2>&1 || true
# Stop gives each container its own grace period (Compose sets StopTimeout
# from stop_grace_period; no fixed 10 s), all at once: two that take 2 s on
# TERM and one that ignores it with a 1 s grace stop in about 2 s (in turn,
# with 10 s each: 14 s).
gs=$TEST_TMP/grace-$$
mkdir -p "$gs/stack$$" "$gs/wa/.devcontainer" "$gs/wb/.devcontainer"
cat >"$gs/stack$$/docker-compose.yml" <<YAML
version: "3"
services:
  app:
    image: $RDEV_RIG_IMAGE_BUSYBOX
    command: ["sh", "-c", "trap 'sleep 2; exit 0' TERM; sleep 100000 & wait"]
    stop_grace_period: 30s
    user: "1000:1000"
  slow:
    image: $RDEV_RIG_IMAGE_BUSYBOX
    command: ["sh", "-c", "trap 'sleep 2; exit 0' TERM; sleep 100000 & wait"]
    volumes: ["gdata:/data"]
  deaf:
    image: $RDEV_RIG_IMAGE_BUSYBOX
    command: ["sleep", "100000"]
    stop_grace_period: 1s
volumes:
  gdata:
YAML
for w in wa wb; do
	printf '{ "dockerComposeFile": "../../stack%s/docker-compose.yml", "service": "app",\n  "workspaceFolder": "/tmp" }\n' \
		"$$" >"$gs/$w/.devcontainer/devcontainer.json"
done
gproject=stack$$
cleanup_grace() {
	rig_compose_rm "$gproject"
	docker volume rm "${gproject}_gdata" >/dev/null 2>&1 || true
}
trap 'cleanup_ws; cleanup_dying; cleanup_grace; rig_test_cleanup' EXIT
rdev up "$gs/wa" >"$TEST_TMP/up-wa.json" 2>"$TEST_TMP/up-wa.err" || { cat "$TEST_TMP/up-wa.err"; fail "up of wa failed"; }
acid=$(jq -r .containerId "$TEST_TMP/up-wa.json")
# (up answers the user of "USER:GROUP", as the reference's up does)
check_eq "remoteUser of a service with user: \"1000:1000\"" "$(jq -r .remoteUser "$TEST_TMP/up-wa.json")" 1000
check_eq "StopTimeout is stop_grace_period's (Compose's)" "$(docker inspect -f '{{.Config.StopTimeout}}' "$acid")" 30
t0=$(date +%s%N)
rdev stop "$gs/wa" >/dev/null 2>"$TEST_TMP/stop-wa.err"
ms=$((($(date +%s%N) - t0) / 1000000))
check "stop says first how long it may take" grep -qxF "stopping 3 containers (up to 30 s: their stop_grace_period)" "$TEST_TMP/stop-wa.err"
check "stop takes each container's grace, at once (${ms} ms; in turn 14 s)" test "$ms" -lt 5000
for s in app:0 slow:0 deaf:137; do
	check_eq "service ${s%:*} exited with ${s#*:}" "$(docker ps -aq --filter "label=com.docker.compose.project=$gproject" \
		--filter "label=com.docker.compose.service=${s%:*}" | xargs docker inspect -f '{{.State.ExitCode}}')" "${s#*:}"
done
# A second workspace whose configuration names the same compose files and
# service (one project, its name from the compose files' folder): its up
# refuses the first's dev container, and its stop and down leave that alone,
# and the project's other services and volumes, which the first's runs with.
docker ps -aq --filter "label=com.docker.compose.project=$gproject" | xargs docker start >/dev/null
rc=0
rdev up "$gs/wb" >"$TEST_TMP/up-wb.json" 2>/dev/null || rc=$?
check_eq "up of a second workspace naming the same compose files and service fails" "$rc" 1
check "naming the other workspace and the way out" grep -qE "another workspace \(the workspace folder $gs/wa\).*COMPOSE_PROJECT_NAME" \
	<<<"$(jq -r .message "$TEST_TMP/up-wb.json")"
rc=0
rdev stop "$gs/wb" >/dev/null 2>"$TEST_TMP/stop-wb.err" || rc=$?
check_eq "its stop succeeds" "$rc" 0
check_eq "its stop leaves wa's dev container running" "$(docker inspect -f '{{.State.Running}}' "$acid")" true
check_eq "... and wa's other services" "$(docker ps -q --filter "label=com.docker.compose.project=$gproject" | wc -l)" 3
check "saying it stopped nothing, kept for wa" grep -qF "nothing of $gs/wb was stopped: its Compose project is kept for workspace $gs/wa" "$TEST_TMP/stop-wb.err"
check "... naming what it kept" sh -c "grep 'kept running for it: ' '$TEST_TMP/stop-wb.err' | grep slow | grep -q deaf"
rc=0
rdev down --volumes "$gs/wb" >/dev/null 2>"$TEST_TMP/down-wb.err" || rc=$?
check_eq "its down --volumes succeeds" "$rc" 0
check "its down leaves wa's dev container" sh -c "docker inspect '$acid' >/dev/null"
check_eq "... and wa's other services" "$(docker ps -q --filter "label=com.docker.compose.project=$gproject" | wc -l)" 3
check "... and the project's volume" sh -c "docker volume inspect '${gproject}_gdata' >/dev/null"
check "saying it removed nothing, kept for wa" grep -qF "nothing of $gs/wb was removed: its Compose project is kept for workspace $gs/wa" "$TEST_TMP/down-wb.err"
# Down stops a project first, as `docker-compose down` does: its TERM trap
# ends the dev container (0), where a forced removal kills it (137). The
# last workspace of a project takes it all. (--until to the nanosecond: a
# whole second rounds down, before the die event of that second)
ev0=$(date +%s)
rdev down "$gs/wa" >/dev/null
check "down of wa removes its dev container" sh -c "! docker inspect '$acid' >/dev/null 2>&1"
check_eq "... and, the last workspace of the project, its services" "$(docker ps -aq --filter "label=com.docker.compose.project=$gproject" | wc -l)" 0
check_eq "down let its TERM trap end it" "$(docker events --since "$ev0" --until "$(date +%s.%N)" --filter "container=$acid" \
	--filter event=die --format '{{.Actor.Attributes.exitCode}}')" 0
# A service in profiles none of which is active is not started: up's error
# names its profiles and COMPOSE_PROFILES.
pws=$TEST_TMP/prof-$$
mkdir -p "$pws/.devcontainer"
printf 'version: "3.9"\nservices:\n  app:\n    image: %s\n    profiles: ["extra", "more"]\n' \
	"$RDEV_RIG_IMAGE_BUSYBOX" >"$pws/.devcontainer/docker-compose.yml"
echo '{ "dockerComposeFile": "docker-compose.yml", "service": "app", "workspaceFolder": "/tmp" }' \
	>"$pws/.devcontainer/devcontainer.json"
rc=0
rdev up "$pws" >"$TEST_TMP/up-prof.json" 2>/dev/null || rc=$?
check_eq "up of a service whose profiles are not active fails" "$rc" 1
check "saying so, with COMPOSE_PROFILES" grep -qF "the service has profiles (extra,more), none of them active; activate one with COMPOSE_PROFILES" \
	<<<"$(jq -r .message "$TEST_TMP/up-prof.json")"
# (the network Compose made: rdev down finds nothing of a project without
# containers)
docker network ls -q --filter "label=com.docker.compose.project=prof-$$_devcontainer" | xargs -r docker network rm >/dev/null 2>&1 || true
# A service whose command ends while a step runs (the step's exec dies with
# it): up says the container exited, not the step's "exited with status
# 137" (Docker marks the container exited a moment after that exec ends;
# without waiting for it about half such ups lost the race: one up here,
# for CI's time, catches that about every other run).
dws=$TEST_TMP/ws-dying-$$
mkdir -p "$dws/.devcontainer"
printf 'version: "3"\nservices:\n  app:\n    image: %s\n    command: ["sh", "-c", "sleep 1; exit 7"]\n' \
	"$RDEV_RIG_IMAGE_BUSYBOX" >"$dws/.devcontainer/docker-compose.yml"
printf '{ "dockerComposeFile": "docker-compose.yml", "service": "app", "workspaceFolder": "/tmp",\n  "postCreateCommand": "sleep 3" }\n' \
	>"$dws/.devcontainer/devcontainer.json"
explained=0
for i in 1; do
	rdev up "$dws" --recreate >"$TEST_TMP/up-dying.json" 2>/dev/null || true
	jq -r .message "$TEST_TMP/up-dying.json" >>"$TEST_TMP/up-dying.msgs"
	if grep -qF 'exited (status 7) after it started' <<<"$(jq -r .message "$TEST_TMP/up-dying.json")"; then
		explained=$((explained + 1))
	fi
done
[ "$explained" = 1 ] || cat "$TEST_TMP/up-dying.msgs" >&2
check_eq "a command ending during a step: up says the container exited" "$explained" 1
rdev down "$dws" >/dev/null 2>&1 || true
finish
