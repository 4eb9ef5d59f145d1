#!/usr/bin/env bash
# compose-mount-strings.sh - devcontainer.json mount strings of a Docker
# Compose configuration, read as the reference reads them for Compose (its
# parseMount(): lax, not docker's --mount syntax):
# - one that does not parse (an unclosed quote) fails up before the
#   service is built, naming the mount;
# - "source=${localEnv:UNSET},target=/data,type=volume" (an empty source) is
#   an anonymous volume at /data, as with the reference, not an error.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
export RDEV_STATE_DIR=$TEST_TMP/state
unset RDEV_TEST_UNSET_DATA

ws=$TEST_TMP/ws-cms-$$
project=$(basename "$ws")_devcontainer
mkdir -p "$ws/.devcontainer"
printf 'FROM %s\nRUN touch /built\n' "$RDEV_RIG_IMAGE_BUSYBOX" >"$ws/.devcontainer/Dockerfile"
cat >"$ws/.devcontainer/docker-compose.yml" <<'YAML'
services:
  app:
    build: .
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"]
YAML
devcontainer() {
	cat >"$ws/.devcontainer/devcontainer.json" <<JSON
{
  "dockerComposeFile": "docker-compose.yml",
  "service": "app",
  "workspaceFolder": "/",
  "mounts": [$1]
}
JSON
}
cleanup() {
	rig_compose_rm "$project"
	docker images --format '{{.Repository}}:{{.Tag}}' | grep -E "^(vsc-)?${project}[-_]" |
		xargs -r docker rmi -f --no-prune >/dev/null 2>&1 || true
	rig_test_cleanup
}
trap cleanup EXIT

devcontainer '"\"source=/a,target=/b"'
check "up of an unparsable mount string fails" \
	eval '! rdev up "$ws" >"$TEST_TMP/bad.json" 2>"$TEST_TMP/bad.err"'
check "it names the mount and why" grep -qF \
	'mounts[0] "source=/a,target=/b: missing closing " in quoted field' "$TEST_TMP/bad.err"
check "before the service is built" eval '! grep -q "Building the images" "$TEST_TMP/bad.err"'

devcontainer '"source=${localEnv:RDEV_TEST_UNSET_DATA},target=/data,type=volume"'
rdev up "$ws" >"$TEST_TMP/up.json" 2>"$TEST_TMP/up.err" ||
	{ cat "$TEST_TMP/up.err"; fail "up with an empty mount source failed"; }
cid=$(jq -r .containerId "$TEST_TMP/up.json")
check_eq "an empty source is an anonymous volume at /data" \
	"$(docker inspect -f '{{range .Mounts}}{{if eq .Destination "/data"}}{{.Type}} {{.Name}}{{end}}{{end}}' "$cid" | cut -c1-7)" "volume "
check "and the service was built" rdev exec "$ws" -- test -e /built
check "(up says when it builds)" grep -q "Building the images" "$TEST_TMP/up.err"
finish
