#!/usr/bin/env bash
# up-env-file.sh - runArgs' --env-file, read on the Docker host as the
# reference's docker CLI reads it: docker's format (comments, blank lines,
# the value as written, quotes and all; a CRLF line's \r dropped; a bare
# name not set on the Docker host left out with a warning), a relative path from the workspace folder,
# ${localWorkspaceFolder}/..., --env-file=PATH, several files in order (a
# later one wins), and -e and containerEnv winning over every file; a bad
# line stops up naming the file and line, a missing file before any image
# build. Through a remote target with an
# uploaded workspace: a file in the upload is read, one outside it refused
# by name, one in a folder left out of the upload said to be missing there.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
export RDEV_STATE_DIR=$TEST_TMP/state

ws=$TEST_TMP/envfile
bad=$TEST_TMP/envfile-bad
cleanup() {
	local rc=$? w
	set +e
	for w in "$ws" "$bad" "$TEST_TMP/envfile-typo"; do
		docker ps -aq --filter "label=devcontainer.local_folder=$w" | xargs -r docker rm -f >/dev/null
	done
	[ -z "${name:-}" ] || (cd "$TEST_TMP" && rdev down "$name:" ./app >/dev/null 2>&1)
	(exit $rc)
	rig_remote_cleanup
}
trap cleanup EXIT
# try_up OUT ARGS...: rdev up ARGS, its output in $TEST_TMP/OUT, its exit
# status in $rc
try_up() {
	local out=$1
	shift
	rc=0
	rdev up "$@" >"$TEST_TMP/$out" 2>&1 || rc=$?
}
# app_up PATH OUT: the uploaded workspace ./app with runArgs --env-file PATH
# up on host $name (try_up OUT), from $TEST_TMP (left there)
app_up() {
	cat >"$TEST_TMP/app/.devcontainer/devcontainer.json" <<JSON
{"image": "$RDEV_RIG_IMAGE_BUSYBOX", "updateRemoteUserUID": false,
 "runArgs": ["--env-file", "$1"]}
JSON
	cd "$TEST_TMP"
	try_up "$2" "$name:" ./app
}

mkdir -p "$ws/.devcontainer" "$bad"
printf '# a comment\n\n  A=from-file\nQ= "quoted" x \nCRLF=yes\r\nBARE\nC=from-first\nD=from-file\nE=from-file\n' \
	>"$ws/.devcontainer/.env"
printf 'C=from-second\n' >"$ws/second.env"
cat >"$ws/.devcontainer/devcontainer.json" <<JSON
{"image": "$RDEV_RIG_IMAGE_BUSYBOX", "updateRemoteUserUID": false,
 "containerEnv": {"D": "from-containerEnv"},
 "runArgs": ["-e", "E=from-e", "--env-file", ".devcontainer/.env",
	"--env-file=\${localWorkspaceFolder}/second.env"]}
JSON
rdev up "$ws" >"$TEST_TMP/up.out" 2>&1 || { cat "$TEST_TMP/up.out" >&2; fail "rdev up failed"; }
cid=$(docker ps -q --filter "label=devcontainer.local_folder=$ws")
env=$(docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$cid")
check_eq "a variable of the file (relative to the workspace folder)" "$(grep '^A=' <<<"$env")" A=from-file
check_eq "the value as written: quotes and spaces kept" "$(grep '^Q=' <<<"$env")" 'Q= "quoted" x '
check_eq "a CRLF line's \\r dropped" "$(grep '^CRLF=' <<<"$env")" CRLF=yes
check_eq "a later file (\${localWorkspaceFolder}, --env-file=) wins" "$(grep '^C=' <<<"$env")" C=from-second
check_eq "containerEnv wins over the file" "$(grep '^D=' <<<"$env")" D=from-containerEnv
check_eq "an -e before it wins too" "$(grep '^E=' <<<"$env")" E=from-e
check "a bare name is left out" sh -c '! grep -q "^BARE" <<EOF
$1
EOF' _ "$env"
check "... with a warning naming the file and line" \
	grep -qF ".devcontainer/.env:6: BARE has no value and is not set on the Docker host" "$TEST_TMP/up.out"

printf 'OK=1\nMY VAR=1\n' >"$bad/bad.env"
cat >"$bad/.devcontainer.json" <<JSON
{"image": "$RDEV_RIG_IMAGE_BUSYBOX", "runArgs": ["--env-file", "bad.env"]}
JSON
try_up bad.out "$bad"
check_eq "a bad line stops up" "$rc" 1
check "naming the file and line" grep -qF \
	"runArgs[0]: --env-file: bad.env:2: poorly formatted environment: variable 'MY VAR' contains whitespaces" \
	"$TEST_TMP/bad.out"

# A mistyped path stops up before the Dockerfile is built (not after).
typo=$TEST_TMP/envfile-typo
mkdir -p "$typo/.devcontainer"
printf 'FROM %s\nRUN echo cfg14b-typo-build-ran\n' "$RDEV_RIG_IMAGE_BUSYBOX" >"$typo/.devcontainer/Dockerfile"
cat >"$typo/.devcontainer/devcontainer.json" <<JSON
{"build": {"dockerfile": "Dockerfile"}, "runArgs": ["--env-file", ".devcontainer/typo.env"]}
JSON
try_up typo.out "$typo"
check_eq "a missing env file stops up" "$rc" 1
check "naming it" grep -qE "runArgs\[0\]: --env-file: .*typo.env" "$TEST_TMP/typo.out"
check "before the image is built" sh -c '! grep -q cfg14b-typo-build-ran "$1" &&
	! grep -qi "building" "$1"' _ "$TEST_TMP/typo.out"

# An uploaded workspace: its own files are on the host, no other.
rig_remote_host ef
mkdir -p "$TEST_TMP/app/.devcontainer"
printf 'UP=uploaded\n' >"$TEST_TMP/app/.devcontainer/.env"
printf 'OUT=1\n' >"$TEST_TMP/outside.env"
app_up .devcontainer/.env rup.out
[ "$rc" = 0 ] || { cat "$TEST_TMP/rup.out" >&2; fail "remote up failed"; }
check_eq "an uploaded workspace's file is read on the host" \
	"$(rdev exec "$name:" ./app -- sh -c 'echo $UP')" uploaded
rdev down "$name:" ./app >/dev/null
app_up ../outside.env rout.out
check_eq "a file outside the uploaded workspace stops up" "$rc" 1
check "naming it" grep -qE \
	"outside.env is outside the uploaded workspace .*/rdev/workspaces/app-[0-9a-f]+: only the workspace's files are uploaded" \
	"$TEST_TMP/rout.out"
# One in a folder left out of the upload is missing there, not outside.
printf 'skipped/\n' >"$TEST_TMP/app/.rdevignore"
mkdir -p "$TEST_TMP/app/skipped"
printf 'S=1\n' >"$TEST_TMP/app/skipped/s.env"
app_up skipped/s.env rskip.out
check_eq "a file left out of the upload stops up" "$rc" 1
check "said to be missing in the uploaded workspace" grep -qF \
	"skipped/s.env: no such file in the uploaded workspace" "$TEST_TMP/rskip.out"
finish
