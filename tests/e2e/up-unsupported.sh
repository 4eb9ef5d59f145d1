#!/usr/bin/env bash
# up-unsupported.sh - what `rdev up` cannot honour yet is never ignored in
# silence (docs/STATUS.md): a Feature that cannot be fetched (an OCI one; no
# registry is reachable from the rig) stops
# `up` before anything is made (no initializeCommand, no container), naming
# the file, line:col and the Feature id, while read-configuration still
# reads the file; properties that are harmless to leave aside (here
# shutdownAction; hostRequirements' cpus and memory are checked by the host,
# not warned about; a local target's forwardPorts are
# forwarded, and --auto-forward watches it) bring the container up with one warning each, with --json
# too; and Features already in an image (its devcontainer.metadata label) are
# no reason to fail. The same through a remote target: the OCI Feature refused,
# a port attribute the forwards do not use warned about, forwardPorts not.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
export RDEV_STATE_DIR=$TEST_TMP/state

feat=$TEST_TMP/ws-features
# (the folder's name is the built image's, rdev-<name>-<id>: this test's own)
warn=$TEST_TMP/ws-warned-$$
bad=$TEST_TMP/ws-bad-$$
reused=$TEST_TMP/ws-reused
cleanup_containers() {
	local ws
	for ws in "$feat" "$warn" "$bad" "$reused"; do
		docker ps -aq --filter "label=devcontainer.local_folder=$ws" |
			xargs -r docker rm -f >/dev/null
	done
	docker images --format '{{.Repository}}:{{.Tag}}' | grep -E "^rdev-ws-(warned|bad)-$$-" |
		xargs -r docker rmi -f --no-prune >/dev/null 2>&1 || true
}
# The exit trap: set +e, or `(exit $rc)` after a failure would end it before
# the host and the broker are stopped.
cleanup() {
	local rc=$?
	set +e
	cleanup_containers
	(exit $rc)
	if [ -n "${home:-}" ]; then
		rig_remote_cleanup rfeat rwarn
	else
		rig_test_cleanup
	fi
}
trap cleanup EXIT

containers_of() {
	docker ps -aq --filter "label=devcontainer.local_folder=$1" | wc -l
}

# 1. Features in devcontainer.json: an error, nothing made.
mkdir -p "$feat/.devcontainer"
cat >"$feat/.devcontainer/devcontainer.json" <<JSON
{
  "image": "$RDEV_RIG_IMAGE_BUSYBOX",
  "initializeCommand": "touch $TEST_TMP/initialize-ran",
  // not fetched by rdev yet
  "features": {
    "ghcr.io/devcontainers/features/node:1": { "version": "20" }
  }
}
JSON
file=$feat/.devcontainer/devcontainer.json
rc=0
rdev up "$feat" >"$TEST_TMP/feat.out" 2>"$TEST_TMP/feat.err" || rc=$?
check_eq "up with features exits 1 (a configuration error)" "$rc" 1
check "the message names file:line:col of \"features\" and the ids" grep -qF \
	"$file:6:5: \"features\".\"ghcr.io/devcontainers/features/node:1\": Feature 'ghcr.io/devcontainers/features/node:1': https://ghcr.io/v2/devcontainers/features/node/manifests/1: " \
	"$TEST_TMP/feat.err"
check_eq "the JSON result says error" "$(jq -r .outcome "$TEST_TMP/feat.out")" error
check_eq "no container was created" "$(containers_of "$feat")" 0
check "initializeCommand did not run" test ! -e "$TEST_TMP/initialize-ran"

# 1c. A container up reuses was made already (by an earlier configuration,
# or by the reference CLI, whose runArgs rdev may not take): the same runArgs
# are only warned about; --recreate is refused, before initializeCommand.
mkdir -p "$reused/.devcontainer"
printf '{"image": "%s"}\n' "$RDEV_RIG_IMAGE_BUSYBOX" >"$reused/.devcontainer/devcontainer.json"
rcid=$(rdev up "$reused" --json 2>/dev/null | jq -r .containerId)
cat >"$reused/.devcontainer/devcontainer.json" <<JSON
{
  "image": "$RDEV_RIG_IMAGE_BUSYBOX",
  "initializeCommand": "touch $TEST_TMP/reused-init-ran",
  "runArgs": ["--memory", "lots"]
}
JSON
rc=0
out=$(rdev up "$reused" --json 2>"$TEST_TMP/reused.err") || rc=$?
check_eq "up reusing a container with a bad runArgs exits 0" "$rc" 0
check_eq "... and reuses it" "$(printf '%s' "$out" | jq -r .containerId)" "$rcid"
check "... warning about the runArgs" grep -qF \
	"runArgs[0]: --memory: invalid size: 'lots' (container ${rcid:0:12} is reused" \
	"$TEST_TMP/reused.err"
rm -f "$TEST_TMP/reused-init-ran"
rc=0
rdev up "$reused" --recreate >/dev/null 2>"$TEST_TMP/reused2.err" || rc=$?
check_eq "up --recreate with it exits 1" "$rc" 1
check "... at the element" grep -qF "devcontainer.json:4:15: runArgs[0]: --memory" \
	"$TEST_TMP/reused2.err"
check "... before initializeCommand" test ! -e "$TEST_TMP/reused-init-ran"
check_eq "... the container kept" "$(docker ps -aq --no-trunc --filter "label=devcontainer.local_folder=$reused")" "$rcid"
rc=0
rdev_agent up "$feat" --json >/dev/null 2>"$TEST_TMP/feat-agent.err" || rc=$?
check_eq "rdev-agent up refuses it too" "$rc" 1
check "rdev-agent names the place" grep -qF "$file:6:5: \"features\"" "$TEST_TMP/feat-agent.err"
check_eq "still no container" "$(containers_of "$feat")" 0
check_eq "read-configuration still reads it" \
	"$(rdev read-configuration "$feat" | jq -r '.configuration.features | keys | join(",")')" \
	"ghcr.io/devcontainers/features/node:1"

# 1b. runArgs (and mounts, appPort) the container's creation would refuse:
# refused before the image is built, at the element's line:col.
mkdir -p "$bad/.devcontainer"
printf 'FROM %s\n' "$RDEV_RIG_IMAGE_BUSYBOX" >"$bad/.devcontainer/Dockerfile"
cat >"$bad/.devcontainer/devcontainer.json" <<JSON
{
  "build": { "dockerfile": "Dockerfile" },
  "initializeCommand": "touch $TEST_TMP/initialize-ran",
  "runArgs": ["--init",
    "--memory", "lots"]
}
JSON
file=$bad/.devcontainer/devcontainer.json
rc=0
rdev up "$bad" >/dev/null 2>"$TEST_TMP/bad.err" || rc=$?
check_eq "up with a bad runArgs value exits 1" "$rc" 1
check "the message names file:line:col of the element" grep -qF \
	"$file:5:5: runArgs[1]: --memory: invalid size: 'lots'" "$TEST_TMP/bad.err"
check_eq "no image was built" \
	"$(docker images -q "rdev-ws-bad-$$-*" | wc -l)" 0
check_eq "no container was created" "$(containers_of "$bad")" 0
check "initializeCommand did not run" test ! -e "$TEST_TMP/initialize-ran"

# 2. Warned properties: the container comes up, each warning once. The image
# says a Feature is in it; its lifecycle command runs, nothing fails.
mkdir -p "$warn/.devcontainer"
cat >"$warn/.devcontainer/Dockerfile" <<DOCKERFILE
FROM $RDEV_RIG_IMAGE_BUSYBOX
LABEL devcontainer.metadata='[{"id":"ghcr.io/devcontainers/features/node:1","postCreateCommand":"touch /tmp/from-feature"}]'
DOCKERFILE
wport=$(rig_ports 1)
cat >"$warn/.devcontainer/devcontainer.json" <<JSON
{
  "build": { "dockerfile": "Dockerfile" },
  "features": {},
  "hostRequirements": { "cpus": 1, "memory": "64mb", "gpu": "optional" },
  "shutdownAction": "stopContainer",
  "forwardPorts": [$wport]
}
JSON
file=$warn/.devcontainer/devcontainer.json
out=$(rdev up "$warn" --auto-forward 2>"$TEST_TMP/warn.err") || { cat "$TEST_TMP/warn.err"; fail "up with warned properties failed"; }
cid=$(printf '%s' "$out" | jq -r .containerId)
check_eq "the container runs" "$(docker inspect -f '{{.State.Running}}' "$cid")" true
eventually "the image's Feature entry was merged (its postCreateCommand ran)" \
	docker exec "$cid" test -e /tmp/from-feature
check_eq "hostRequirements cpus and memory: not warned (the host checks them: admission), an optional GPU once" \
	"$(grep -cF "hostRequirements" "$TEST_TMP/warn.err")/$(grep -cF "warning: $file:4:3: \"hostRequirements\": \"gpu\": \"optional\": the container gets no GPU" "$TEST_TMP/warn.err")" 1/1
check_eq "shutdownAction warned once" \
	"$(grep -cF "warning: $file:5:3: \"shutdownAction\": \"stopContainer\" is not acted on" "$TEST_TMP/warn.err")" 1
check_eq "forwardPorts of a local target forwarded (the broker's local host), not warned" \
	"$(grep -cF "\"forwardPorts\": not forwarded" "$TEST_TMP/warn.err")/$(grep -c "localhost:$wport " "$TEST_TMP/warn.err")" 0/1
check "--auto-forward of a local target watches it, without a warning" sh -c \
	"grep -q 'watching the container' '$TEST_TMP/warn.err' && ! grep -q 'warning: --auto-forward' '$TEST_TMP/warn.err'"
check "an empty \"features\" is not mentioned" sh -c "! grep -q '\"features\"' '$TEST_TMP/warn.err'"

# --json: only the result on stdout, the warnings still on stderr.
out=$(rdev up "$warn" --json 2>"$TEST_TMP/warn-json.err")
check_eq "--json reuses the container" "$(printf '%s' "$out" | jq -r .containerId)" "$cid"
check_eq "--json prints one line of JSON" "$(printf '%s\n' "$out" | wc -l)" 1
check_eq "--json still warns (shutdownAction, the optional GPU), once each" \
	"$(grep -c '^warning: ' "$TEST_TMP/warn-json.err")" 2
check "--json shows no progress" sh -c "! grep -qv '^warning: ' '$TEST_TMP/warn-json.err'"
# Both taken out of the configuration: the reused container's metadata label
# still ends with the configuration's entry as it was made, which is not the
# image's devcontainer.metadata (its only entry is a Feature's): no warning.
cat >"$warn/.devcontainer/devcontainer.json" <<JSON
{
  "build": { "dockerfile": "Dockerfile" },
  "forwardPorts": [$wport]
}
JSON
out=$(rdev up "$warn" --json 2>"$TEST_TMP/warn-gone.err") || { cat "$TEST_TMP/warn-gone.err"; fail "up after removing the warned properties failed"; }
check_eq "up after removing them reuses the container" "$(printf '%s' "$out" | jq -r .containerId)" "$cid"
check "... and warns of neither as the image's metadata" \
	sh -c "! grep -E 'shutdownAction|hostRequirements|devcontainer.metadata' '$TEST_TMP/warn-gone.err'"

# 3. A remote target: the host's agent refuses and warns the same way; its
# forwardPorts are forwarded, so only the attribute rdev does not use is
# warned about.
rig_remote_host u
on_host 'mkdir -p ~/rfeat ~/rwarn && cat > ~/rfeat/.devcontainer.json' \
	<"$feat/.devcontainer/devcontainer.json"
cat >"$TEST_TMP/rwarn.json" <<JSON
{
  "image": "$RDEV_RIG_IMAGE_BUSYBOX",
  "forwardPorts": [3000],
  "portsAttributes": { "3000": { "protocol": "https" } }
}
JSON
on_host 'cat > ~/rwarn/.devcontainer.json' <"$TEST_TMP/rwarn.json"
rc=0
rdev up "$name:~/rfeat" >/dev/null 2>"$TEST_TMP/rfeat.err" || rc=$?
check_eq "remote up with features exits 1" "$rc" 1
check "the remote message names the host's file:line:col and the ids" grep -qF \
	"$home/rfeat/.devcontainer.json:6:5: \"features\".\"ghcr.io/devcontainers/features/node:1\": Feature 'ghcr.io/devcontainers/features/node:1': https://ghcr.io/v2/devcontainers/features/node/manifests/1: " \
	"$TEST_TMP/rfeat.err"
check_eq "no container on the host" \
	"$(docker ps -aq --filter "label=devcontainer.local_folder=$home/rfeat" | wc -l)" 0
rdev up "$name:~/rwarn" >/dev/null 2>"$TEST_TMP/rwarn.err" ||
	{ cat "$TEST_TMP/rwarn.err"; fail "remote up with a warned attribute failed"; }
check_eq "remote: the unused protocol warned once" "$(grep -cF \
	"warning: $home/rwarn/.devcontainer.json:4:34: \"portsAttributes\".\"3000\".\"protocol\": \"https\" is not used" \
	"$TEST_TMP/rwarn.err")" 1
check "remote: forwardPorts not warned (they are forwarded)" \
	sh -c "! grep -q 'forwardPorts' '$TEST_TMP/rwarn.err'"
check "remote: port 3000 is forwarded" grep -q "container port 3000" "$TEST_TMP/rwarn.err"
finish
