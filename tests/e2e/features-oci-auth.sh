#!/usr/bin/env bash
# features-oci-auth.sh - registry credentials for OCI Features, found where
# the agent runs as the reference CLI finds them (agent/oci-cred.c): a
# "private/" Feature in a registry of this test's own (tests/rig/oci-registry.py:
# a token only for Basic rig:rig or its refresh-token grant), read by
# `rdev read-configuration --include-merged-configuration` (which fetches the
# Feature for its metadata; no container), with DOCKER_CONFIG in TEST_TMP and
# a credential helper of the test's own on PATH. Credentials from (a) a
# credHelpers entry, (b) credsStore, (c) a helper's identity token (the
# refresh_token POST), (d) DEVCONTAINERS_OCI_AUTH, which goes first; without
# any, with a helper that fails or is missing and with an identity token the
# registry refuses, the error names the registry, where it looked and what
# the helper said. No secret in any output.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
REF=${RDEV_DEVCONTAINER_CLI:?the reference CLI (rig.sh env)}

# The registry: this test's, so that it is this tree's version.
port=$(rig_ports 1)
reg=localhost:$port
python3 "$RDEV_SOURCE_DIR/tests/rig/oci-registry.py" "$TEST_TMP/registry" "$port" \
	>"$TEST_TMP/registry.out" 2>&1 &
regpid=$!
trap 'rc=$?; set +e; kill $regpid 2>/dev/null; (exit $rc); rig_test_cleanup' EXIT
for _ in $(seq 1 100); do
	curl -s -o /dev/null -m 2 "http://127.0.0.1:$port/v2/" && break
	sleep 0.1
done
curl -s -o /dev/null -m 2 "http://127.0.0.1:$port/v2/" ||
	fail "the registry did not start: $(cat "$TEST_TMP/registry.out")"

# The Feature, published as $reg/private/auth$$/hello:1 (the reference's
# publish, itself logged in through DEVCONTAINERS_OCI_AUTH).
mkdir -p "$TEST_TMP/src/hello" "$TEST_TMP/docker" "$TEST_TMP/bin" "$TEST_TMP/ref-home"
cat >"$TEST_TMP/src/hello/devcontainer-feature.json" <<'JSON'
{ "id": "hello", "version": "1.0.0", "name": "Hello",
  "capAdd": [ "SYS_PTRACE" ] }
JSON
printf '#!/bin/sh\ntrue\n' >"$TEST_TMP/src/hello/install.sh"
(cd "$TEST_TMP" && HOME=$TEST_TMP/ref-home DOCKER_CONFIG=$TEST_TMP/ref-home \
	DEVCONTAINERS_OCI_AUTH="$reg|rig|rig" \
	"$REF" features publish -r "$reg" -n "private/auth$$" "$TEST_TMP/src") \
	>"$TEST_TMP/publish.log" 2>&1 || { tail -5 "$TEST_TMP/publish.log"; fail "publishing failed"; }
feature=$reg/private/auth$$/hello:1

mkdir -p "$TEST_TMP/ws/.devcontainer"
cat >"$TEST_TMP/ws/.devcontainer/devcontainer.json" <<JSON
{ "image": "$RDEV_RIG_IMAGE_BOOKWORM", "features": { "$feature": {} } }
JSON

# The helper: RDEVTEST_MODE says what it answers; it notes who asked.
cat >"$TEST_TMP/bin/docker-credential-rdevtest" <<'SH'
#!/bin/sh
[ "$1" = get ] || { echo "rdevtest: unexpected arguments: $*" >&2; exit 2; }
reg=$(cat)
echo "$reg" >>"$RDEVTEST_ASKED"
case $RDEVTEST_MODE in
basic) printf '{"ServerURL":"%s","Username":"rig","Secret":"rig"}\n' "$reg" ;;
token) printf '{"ServerURL":"%s","Username":"<token>","Secret":"rig-refresh-token"}\n' "$reg" ;;
oldtoken) printf '{"ServerURL":"%s","Username":"<token>","Secret":"rig-expired-token"}\n' "$reg" ;;
*) echo "rdevtest: the keyring is locked" >&2; exit 3 ;;
esac
SH
chmod +x "$TEST_TMP/bin/docker-credential-rdevtest"
export PATH=$TEST_TMP/bin:$PATH DOCKER_CONFIG=$TEST_TMP/docker RDEVTEST_ASKED=$TEST_TMP/asked
unset DEVCONTAINERS_OCI_AUTH GITHUB_TOKEN

config() { printf '%s\n' "$1" >"$DOCKER_CONFIG/config.json"; }
# read_config NAME: read-configuration into $TEST_TMP/NAME.{json,err}
read_config() {
	rdev read-configuration "$TEST_TMP/ws" --include-merged-configuration \
		>"$TEST_TMP/$1.json" 2>"$TEST_TMP/$1.err"
}
fetched() { # NAME: the Feature's metadata is merged (an empty output, a
	# read-configuration that failed as up would, is not)
	jq -e -s 'length == 1 and (.[0].mergedConfiguration.capAdd // [] | index("SYS_PTRACE") != null)' \
		"$TEST_TMP/$1.json" >/dev/null
}
not() { ! "$@"; }
warning() { jq -r '.warnings // [] | join("\n")' "$TEST_TMP/$1.json" 2>/dev/null; cat "$TEST_TMP/$1.err"; }

# Without credentials: refused, saying where it looked.
rm -f "$DOCKER_CONFIG/config.json"
read_config none || true
check "no credentials: the Feature is not fetched" not fetched none
check "and the error names the registry's refusal" grep -qF "registry $reg: token request refused (HTTP 401); no credentials for $reg" <(warning none)
check "and where it looked" grep -qF "$DOCKER_CONFIG/config.json does not exist" <(warning none)

# (a) credHelpers, the registry on the helper's stdin
config "{\"credHelpers\": {\"$reg\": \"rdevtest\"}}"
RDEVTEST_MODE=basic read_config helpers || { cat "$TEST_TMP/helpers.err"; fail "read-configuration failed"; }
check "credHelpers: fetched with the helper's login" fetched helpers
check_eq "the helper was asked for the registry, on stdin" "$(cat "$TEST_TMP/asked")" "$reg"

# (b) credsStore
config '{"credsStore": "rdevtest", "auths": {"ghcr.io": {}}}'
RDEVTEST_MODE=basic read_config store
check "credsStore: fetched" fetched store

# (c) an identity token: the refresh_token grant
posts=$(grep -c '^POST /token 200' "$TEST_TMP/registry/requests.log" || true)
RDEVTEST_MODE=token read_config token
check "identity token: fetched" fetched token
check_eq "through the token endpoint's refresh_token POST" \
	"$(grep -c '^POST /token 200' "$TEST_TMP/registry/requests.log")" $((posts + 1))

# An identity token the endpoint refuses: one anonymous try after it (as the
# reference), then an error that says the credentials were refused.
RDEVTEST_MODE=oldtoken read_config oldtoken || true
check "a refused identity token: not fetched" not fetched oldtoken
check "the error says the token endpoint refused the helper's credentials" grep -qF \
	"token request refused (HTTP 401); the token endpoint refused the credentials from docker-credential-rdevtest (credsStore in $DOCKER_CONFIG/config.json) (HTTP 401)" <(warning oldtoken)
check_eq "its POST, then the anonymous GET" \
	"$(grep '/token' "$TEST_TMP/registry/requests.log" | tail -2 | cut -d' ' -f1,3 | tr '\n' ' ')" "POST 401 GET 401 "

# (d) DEVCONTAINERS_OCI_AUTH goes before config.json (its failing helper is not run)
: >"$TEST_TMP/asked"
DEVCONTAINERS_OCI_AUTH="ghcr.io|x|y,$reg|rig|rig" RDEVTEST_MODE=fail read_config env
check "DEVCONTAINERS_OCI_AUTH: fetched" fetched env
check_eq "and the helper was not asked" "$(wc -c <"$TEST_TMP/asked")" 0

# A helper that fails: a clear error naming it, the registry and its words.
RDEVTEST_MODE=fail read_config fail || true
check "a failing helper: not fetched" not fetched fail
check "the error names the helper, where it is configured, the registry and its stderr" grep -qF \
	"docker-credential-rdevtest (credsStore in $DOCKER_CONFIG/config.json) failed for $reg: exited with status 3: rdevtest: the keyring is locked" <(warning fail)

# A helper that is not installed: anonymous, and said so.
config "{\"credHelpers\": {\"$reg\": \"rdevmissing\"}}"
read_config missing || true
check "a helper that is not installed is named in the error" grep -qF \
	"docker-credential-rdevmissing (credHelpers in $DOCKER_CONFIG/config.json) is not installed" <(warning missing)

check "no secret in any output" sh -c "! grep -l -e rig-refresh-token -e rig-expired-token -e cmlnOnJpZw== '$TEST_TMP'/*.json '$TEST_TMP'/*.err"
finish
