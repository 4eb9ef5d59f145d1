#!/usr/bin/env bash
# up-error-result.sh - the JSON result of an `rdev up` that fails, as the
# reference CLI's (`devcontainer up`): {"outcome":"error","message",
# "description"[,"containerId"]}. Over SSH (a rig host, through the broker)
# and locally: a failing onCreateCommand names the container it ran in (the
# real one, left running: `docker inspect`) and the reference's description
# ("onCreateCommand from devcontainer.json failed."); a failing command of an
# object names its key ("b of postCreateCommand ..."), a Feature's its Feature
# ("... from Feature './bad' failed."); an up that fails before
# there is a container (an image that cannot be pulled, a failing
# initializeCommand) has no containerId and the generic description (the
# reference's own for initializeCommand); a forwardPorts entry that fails
# after the container is up makes the result an error too, with its id (the
# result and the exit status agree). Then the reference itself on the local
# workspaces: its results have the same keys (and descriptions).
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
command -v jq >/dev/null || fail "jq is needed"

rig_remote_host r
# The Features images both tools build for the feature case are removed at
# the end (the rig's base images stay).
images=$TEST_TMP/images
: >"$images"
ref_pid=
cleanup() {
	local rc=$? c
	set +e # (exit $rc) below must not end the trap
	# (the reference's runs, when the test failed during them: what they
	# made is removed once they are done)
	if [ -n "$ref_pid" ]; then
		wait "$ref_pid" 2>/dev/null
		for c in oncreate member feature noimage init; do
			docker ps -aq --filter "label=devcontainer.local_folder=$ref_ws/$c" | xargs -r docker rm -f >/dev/null
		done
	fi
	{ grep -- '-features' "$images" || true; } | sort -u |
		{ xargs -r docker rmi --no-prune >/dev/null 2>&1 || true; }
	(exit $rc)
	rig_remote_cleanup oncreate member feature noimage fwdfail -exits bigenv
}
trap cleanup EXIT
# rm_container ID...: remove the containers, their images noted for cleanup.
rm_container() {
	docker inspect -f '{{.Config.Image}}' "$@" >>"$images" 2>/dev/null || true
	docker rm -f "$@" >/dev/null
}
img=$RDEV_RIG_IMAGE_BOOKWORM
local_ws=$TEST_TMP/local
ref_ws=$TEST_TMP/ref

# ws NAME JSON: a workspace NAME with devcontainer.json JSON, on the host,
# locally (under $local_ws) and for the reference (under $ref_ws).
ws() {
	on_host "mkdir -p ~/$1 && cat > ~/$1/.devcontainer.json" <<<"$2"
	mkdir -p "$local_ws/$1" "$ref_ws/$1"
	printf '%s\n' "$2" >"$local_ws/$1/.devcontainer.json"
	printf '%s\n' "$2" >"$ref_ws/$1/.devcontainer.json"
}
ws oncreate '{"image": "'"$img"'", "onCreateCommand": "echo oc-ran; exit 3",
	"postCreateCommand": "echo must-not-run"}'
ws member '{"image": "'"$img"'",
	"postCreateCommand": {"a": "true", "b": "exit 4"}}'
ws noimage '{"image": "rdev-test/no-such-image:never"}'
ws init '{"image": "'"$img"'", "initializeCommand": "exit 2"}'
# A forward that fails after the container is up (a service:port of a
# workspace without Compose): up's result is an error too, with the id.
ws fwdfail '{"image": "'"$img"'", "forwardPorts": ["ex:31462"]}'
# A container whose command ends at once (the image's bash, without
# input), with a line on stdout (rdev's entrypoint's) and one on stderr
# (bash's: its LC_ALL is no locale); in a folder whose name starts with
# '-' (HOST:-exits, a path relative to the host's home, is no option).
ws -exits '{"image": "'"$img"'", "overrideCommand": false,
	"containerEnv": {"LC_ALL": "xx_XX.UTF-8"}}'
# A containerEnv value no program can start with (over MAX_ARG_STRLEN).
ws bigenv '{"image": "'"$img"'",
	"containerEnv": {"BIG": "'"$(head -c 200000 /dev/zero | tr '\0' x)"'"}}'
# A Feature's failing postCreateCommand (a local Feature: in .devcontainer/).
mkdir -p "$TEST_TMP/feature/.devcontainer/bad"
printf '%s\n' '{"image": "'"$img"'", "features": {"./bad": {}}}' \
	>"$TEST_TMP/feature/.devcontainer/devcontainer.json"
printf '%s\n' '{"id": "bad", "version": "1.0.0", "postCreateCommand": "exit 5"}' \
	>"$TEST_TMP/feature/.devcontainer/bad/devcontainer-feature.json"
printf '#!/bin/sh\ntrue\n' >"$TEST_TMP/feature/.devcontainer/bad/install.sh"
chmod +x "$TEST_TMP/feature/.devcontainer/bad/install.sh"
tar -C "$TEST_TMP/feature" -cf - . | on_host 'mkdir -p ~/feature && tar -C ~/feature -xf -'
cp -r "$TEST_TMP/feature" "$local_ws/feature"
cp -r "$TEST_TMP/feature" "$ref_ws/feature"

# The reference on its own copies of the workspaces (other folders, so other
# labels than rdev's: neither tool finds the other's containers), in the
# background while rdev's runs below go on; its results are checked at the
# end. (It took 16 s after them, one up after another.)
rig_require_reference
mkdir -p "$TEST_TMP/reftmp"
ref_runs() {
	local c rc cids
	for c in oncreate member feature noimage init; do
		rc=0
		TMPDIR=$TEST_TMP/reftmp "$REF" up --workspace-folder "$ref_ws/$c" \
			>"$TEST_TMP/ref-$c.json" 2>"$TEST_TMP/ref-$c.err" || rc=$?
		echo "$rc" >"$TEST_TMP/ref-$c.rc"
		cids=$(docker ps -aq --filter "label=devcontainer.local_folder=$ref_ws/$c")
		if [ -n "$cids" ]; then rm_container $cids; fi
	done
}
ref_runs &
ref_pid=$!

# up_fails TARGET OUT: rdev up TARGET --json fails with 1, its one stdout
# line in OUT.
up_fails() {
	local rc=0
	rdev up "$1" >"$2" 2>"$2.err" || rc=$?
	check_eq "up $1: exit 1" "$rc" 1
	check_eq "up $1: one line on stdout" "$(wc -l <"$2")" 1
}

# fails_in_container WS DESCRIPTION: up of WS (t, folder, out and where of the
# loop below) fails with DESCRIPTION and the running container's id; removed.
fails_in_container() {
	local r=$out-$1.json cid
	up_fails "$(t "$1")" "$r"
	check_eq "$where $1: description" "$(jq -r .description "$r")" "$2"
	cid=$(jq -r '.containerId // empty' "$r")
	check_eq "$where $1: containerId is the workspace's container" \
		"$(docker ps -q --no-trunc --filter "label=devcontainer.local_folder=$(folder "$1")")" "$cid"
	rm_container "$cid"
}

for where in remote local; do
	if [ $where = remote ]; then
		t() { echo "$name:~/$1"; }
		folder() { echo "$home/$1"; }
	else
		t() { echo "$local_ws/$1"; }
		folder() { echo "$local_ws/$1"; }
	fi
	out=$TEST_TMP/$where
	# --- a failing onCreateCommand: the container is there, running ---
	up_fails "$(t oncreate)" "$out-oncreate.json"
	r=$out-oncreate.json
	check_eq "$where oncreate: outcome" "$(jq -r .outcome "$r")" error
	check "$where oncreate: the message names the step" \
		grep -q 'onCreateCommand failed' "$r"
	check_eq "$where oncreate: the reference's description" \
		"$(jq -r .description "$r")" "onCreateCommand from devcontainer.json failed."
	cid=$(jq -r '.containerId // empty' "$r")
	check "$where oncreate: a containerId" test -n "$cid"
	check_eq "$where oncreate: it is the workspace's container, running" \
		"$(docker inspect -f '{{index .Config.Labels "devcontainer.local_folder"}} {{.State.Running}}' "$cid")" \
		"$(folder oncreate) true"
	check_eq "$where oncreate: the one container of the workspace" \
		"$(docker ps -aq --no-trunc --filter "label=devcontainer.local_folder=$(folder oncreate)")" "$cid"
	check "$where oncreate: postCreateCommand did not run" \
		sh -c "! grep -q must-not-run '$r.err'"
	# A second up retries the step in the same container: the same id.
	up_fails "$(t oncreate)" "$out-oncreate2.json"
	check_eq "$where oncreate again: the same containerId" \
		"$(jq -r .containerId "$out-oncreate2.json")" "$cid"
	rm_container "$cid"

	# --- a failing command of an object: its key ---
	fails_in_container member "b of postCreateCommand from devcontainer.json failed."
	# --- a Feature's command: the reference names the Feature ---
	fails_in_container feature "postCreateCommand from Feature './bad' failed."

	# --- forwardPorts failed after up: exit 1 and an error result (it was
	# exit 1 after {"outcome":"success",...}), the container named ---
	fails_in_container fwdfail "An error occurred setting up the container."
	check_eq "$where fwdfail: outcome" "$(jq -r .outcome "$out-fwdfail.json")" error
	check "$where fwdfail: the message names forwardPorts" \
		grep -q '"message":"forwardPorts: ' "$out-fwdfail.json"
	check "$where fwdfail: stderr names the port" grep -q 'ex:31462\|31462' "$out-fwdfail.json.err"

	# --- failed before a container exists: no containerId ---
	up_fails "$(t noimage)" "$out-noimage.json"
	check_eq "$where noimage: keys" "$(jq -c 'keys' "$out-noimage.json")" \
		'["description","message","outcome"]'
	check_eq "$where noimage: the generic description" \
		"$(jq -r .description "$out-noimage.json")" "An error occurred setting up the container."

	# --- a container that exits as it starts: up's error ends with its
	# log's last lines (a remote host's `docker logs` cannot be run here) ---
	if [ $where = remote ]; then tx=$name:-exits; else tx=$(t -exits); fi
	up_fails "$tx" "$out-exits.json"
	check "$where exits: the message says it exited" \
		grep -qF 'exited (status 0) after it started' <<<"$(jq -r .message "$out-exits.json")"
	check "$where exits: and ends with its log" \
		grep -q '; its log ends:$' <<<"$(jq -r .message "$out-exits.json" | tail -n 3 | head -n 1)"
	# (stdout's and stderr's lines: docker's log may swap lines of the two
	# written within a moment)
	check_eq "$where exits: its log's lines, stdout's and stderr's" \
		"$(jq -r .message "$out-exits.json" | tail -n 2 | sort)" \
		"  /bin/bash: warning: setlocale: LC_ALL: cannot change locale (xx_XX.UTF-8)
  Container started"
	if [ $where = remote ]; then
		# (every command takes HOST:-exits as the folder, not an option)
		check_eq "$where exits: read-configuration of HOST:-exits" \
			"$(rdev read-configuration "$name:-exits" | jq -r .workspace.workspaceFolder)" /workspaces/-exits
		check_eq "$where exits: and of -- HOST:-exits" \
			"$(rdev read-configuration -- "$name:-exits" | jq -r .workspace.workspaceFolder)" /workspaces/-exits
		rc=0
		rdev exec "$name:-exits" -- true 2>"$TEST_TMP/exits-exec.err" || rc=$?
		check "$where exits: exec of HOST:-exits is no usage error" \
			sh -c "test $rc -ne 0 -a $rc -ne 2 && ! grep -q 'unknown option' '$TEST_TMP/exits-exec.err'"
		check_eq "$where exits: down of HOST:-exits" \
			"$(rdev down "$name:-exits" >/dev/null 2>&1; docker ps -aq --filter "label=devcontainer.local_folder=$home/-exits")" ""
	else
		rm_container "$(docker ps -aq --filter "label=devcontainer.local_folder=$(folder -exits)")"
	fi

	# --- containerEnv too long for any program: an error naming the place,
	# before a container is made ---
	up_fails "$(t bigenv)" "$out-bigenv.json"
	check "$where bigenv: the message names the file, line, property and size" \
		grep -qE '\.devcontainer\.json:2:[0-9]+: "containerEnv"\."BIG": NAME=VALUE is 200004 bytes, over the 131071' \
		<<<"$(jq -r .message "$out-bigenv.json")"
	check_eq "$where bigenv: no container" \
		"$(docker ps -aq --filter "label=devcontainer.local_folder=$(folder bigenv)")" ""

	# --- initializeCommand (on the host, before the container): its own words ---
	up_fails "$(t init)" "$out-init.json"
	check_eq "$where init: keys" "$(jq -c 'keys' "$out-init.json")" \
		'["description","message","outcome"]'
	check_eq "$where init: description" "$(jq -r .description "$out-init.json")" \
		"The initializeCommand in the devcontainer.json failed."
done

# --- the reference (run in the background above): the same keys, the same
# descriptions ---
st=0
wait "$ref_pid" || st=$?
ref_pid=
[ "$st" = 0 ] || fail "the reference's runs failed (exit $st)"
for c in oncreate member feature noimage init; do
	check_eq "reference $c: exit 1" "$(cat "$TEST_TMP/ref-$c.rc")" 1
	check_eq "reference $c: the keys of rdev's" \
		"$(jq -c keys "$TEST_TMP/ref-$c.json")" "$(jq -c keys "$TEST_TMP/local-$c.json")"
	check_eq "reference $c: rdev's description" \
		"$(jq -r .description "$TEST_TMP/ref-$c.json")" \
		"$(jq -r .description "$TEST_TMP/local-$c.json")"
done
finish
