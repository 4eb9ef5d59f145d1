#!/usr/bin/env bash
# build.sh - `rdev build` on a local and a remote workspace: the image gets
# the devcontainer.metadata label up would give it, every --image-name tags
# it, no container is made, and the next `up` runs that very image (same
# id: its build is all cache); the answer and the labels are the reference
# CLI's (`devcontainer build`) for the same workspace, for a Dockerfile, an
# image and a Compose configuration; OCI Features fail loudly (exit 1, the
# JSON error on stdout), an unknown option is a usage error (exit 2); a
# build whose image is removed meanwhile (the first stage's, before the
# second stage's COPY --from) is built once more and succeeds. -q (errors
# only) on the remote route: build, up, exec and down say nothing on stderr
# (up's forwardPorts table and its --auto-forward line neither); an up
# whose required local port is taken shows what -q held (the table of the
# forward made), then the forward's error, then up's error.
# The reference's results (its answer, the labels) are kept for the other
# build's run of this test on the same dockerd (lib.sh, rig_ref_key): they
# hold no name of this run's (the labels are the configurations as written,
# the answer's image name is left out), so the names stay the pid's.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
export RDEV_STATE_DIR=$TEST_TMP/state
REF=${RDEV_DEVCONTAINER_CLI:?the reference CLI (rig.sh env)}
key=$(printf '%s\n' "build $RDEV_RIG_IMAGE_BOOKWORM_DEV" "$(sha256sum <"${BASH_SOURCE[0]}")" | rig_ref_key)
REFCACHE=$(rig_ref_cache "$key")

# Names of this test's own: the folders' names are the built images' and
# the Compose project's (rdev-<name>-<id>, <name>_devcontainer_app).
tag=rdevb$$
ws=$TEST_TMP/ws-build-$$
imgws=$TEST_TMP/ws-bimg-$$
cws=$TEST_TMP/ws-bcmp-$$
mkdir -p "$ws/.devcontainer" "$imgws" "$cws/.devcontainer"
cat >"$ws/.devcontainer/Dockerfile" <<DOCKERFILE
FROM $RDEV_RIG_IMAGE_BOOKWORM_DEV
RUN echo built-$$ > /built
DOCKERFILE
cat >"$ws/.devcontainer/devcontainer.json" <<'JSON'
{
  "build": { "dockerfile": "Dockerfile" },
  "remoteUser": "dev",
  "updateRemoteUserUID": false,
  "containerEnv": { "CE": "ce-${localWorkspaceFolderBasename}" },
  "postCreateCommand": "true"
}
JSON
cat >"$imgws/.devcontainer.json" <<JSON
{ "image": "$RDEV_RIG_IMAGE_BOOKWORM_DEV", "remoteUser": "dev", "containerEnv": { "A": "1" } }
JSON
cp "$ws/.devcontainer/Dockerfile" "$cws/.devcontainer/Dockerfile"
cat >"$cws/.devcontainer/docker-compose.yml" <<'YAML'
version: "3"
services:
  app:
    build: { context: ., dockerfile: Dockerfile }
    command: ["sleep", "infinity"]
YAML
cat >"$cws/.devcontainer/devcontainer.json" <<'JSON'
{ "dockerComposeFile": "docker-compose.yml", "service": "app",
  "workspaceFolder": "/workspace", "remoteUser": "dev" }
JSON

rig_remote_host b
# (the host's copy forwards two ports, the second one's local port only)
rport=$(rig_ports 2)
on_host "mkdir -p ~/rbws/.devcontainer"
on_host "cat > ~/rbws/.devcontainer/Dockerfile" <"$ws/.devcontainer/Dockerfile"
jq --argjson p "$rport" '. + { forwardPorts: [$p, $p + 1],
	portsAttributes: { "\($p + 1)": { requireLocalPort: true } } }' \
	"$ws/.devcontainer/devcontainer.json" | on_host "cat > ~/rbws/.devcontainer/devcontainer.json"
busy_pid=
cleanup_build() {
	local f
	set +e # (a grep that finds nothing must not end the trap)
	# (the lost-image case's build and listener, when it failed midway)
	[ -z "${bpid:-}" ] || kill "$bpid" 2>/dev/null
	[ -z "${lpid:-}" ] || kill "$lpid" 2>/dev/null
	[ -z "$busy_pid" ] || kill "$busy_pid" 2>/dev/null
	for f in "$ws" "$imgws" "$cws" "$home/rbws"; do
		docker ps -aq --filter "label=devcontainer.local_folder=$f" | xargs -r docker rm -f >/dev/null
	done
	# The lost-image case's images with their untagged parents: all its
	# steps are this run's alone (see there).
	docker images --format '{{.Repository}}:{{.Tag}}' | grep -E "^($tag:lost|rdev-ws-blost-$$-)" |
		xargs -r docker rmi -f >/dev/null 2>&1
	docker images -q --filter dangling=true --filter "label=rdev.test.blost=$$" |
		xargs -r docker rmi >/dev/null 2>&1
	# The others without (--no-prune): their parents are the build cache's
	# steps FROM the rig's images, which other tests' builds share.
	docker images --format '{{.Repository}}:{{.Tag}}' |
		grep -E "^($tag|ref$tag|rdev-ws-(build|bimg)-$$-|ws-bcmp-${$}_devcontainer_app:)" |
		xargs -r docker rmi -f --no-prune >/dev/null 2>&1
	cat "$TEST_TMP/remote-tags" 2>/dev/null | xargs -r docker rmi -f --no-prune >/dev/null 2>&1
	return 0
}
trap 'cleanup_build; rig_remote_cleanup rbws' EXIT

image_id() { docker image inspect -f '{{.Id}}' "$1"; }
meta() { docker image inspect -f '{{index .Config.Labels "devcontainer.metadata"}}' "$1" | jq -cS .; }
containers_of() { docker ps -aq --filter "label=devcontainer.local_folder=$1" | wc -l; }

# --- local: a Dockerfile ------------------------------------------------------
rdev build "$ws" --image-name "$tag:a" --image-name="$tag:b" >"$TEST_TMP/b1.json" 2>"$TEST_TMP/b1.err" ||
	{ cat "$TEST_TMP/b1.err" >&2; fail "rdev build $ws failed"; }
check_eq "the answer names the --image-name tags" "$(cat "$TEST_TMP/b1.json")" \
	"{\"outcome\":\"success\",\"imageName\":[\"$tag:a\",\"$tag:b\"]}"
check "progress went to stderr" grep -q "Building image" "$TEST_TMP/b1.err"
id=$(image_id "$tag:a")
check_eq "both names are the one image" "$(image_id "$tag:b")" "$id"
check_eq "the image has the Dockerfile's layer" \
	"$(docker run --rm "$tag:a" cat /built)" "built-$$"
check_eq "its metadata label: the configuration as written" \
	"$(meta "$tag:a" | jq -c '.[-1]')" \
	'{"containerEnv":{"CE":"ce-${localWorkspaceFolderBasename}"},"postCreateCommand":"true","remoteUser":"dev","updateRemoteUserUID":false}'
check_eq "no container was created" "$(containers_of "$ws")" 0

rdev build --workspace-folder "$ws" >"$TEST_TMP/b2.json" 2>/dev/null
own=$(jq -r '.imageName[0]' "$TEST_TMP/b2.json")
check "without --image-name: rdev's own tag" grep -q "^rdev-ws-build-$$-" <<<"$own"
check_eq "built again: the same image (cache)" "$(image_id "$own")" "$id"

rdev up "$ws" --json >"$TEST_TMP/up.json" 2>"$TEST_TMP/up.err" ||
	{ cat "$TEST_TMP/up.err" >&2; fail "rdev up $ws failed"; }
cid=$(jq -r .containerId "$TEST_TMP/up.json")
check_eq "up runs the built image" "$(docker inspect -f '{{.Image}}' "$cid")" "$id"
check_eq "up made no other image under the tag" "$(image_id "$own")" "$id"
check_eq "the container's label is the image's" \
	"$(docker inspect -f '{{index .Config.Labels "devcontainer.metadata"}}' "$cid" | jq -cS .)" \
	"$(meta "$id")"
rdev down "$ws" >/dev/null

# --- an image of the build's is removed during it: built again ---------------
# As another test's `docker rmi` (untagged parents go too) or a prune can
# remove an image the legacy builder took from its cache: the first stage's
# image goes while the second stage's RUN waits for this test's word (a
# connection to a port of its own: the build runs on the host's network);
# its COPY --from=0 then fails ("No such image: sha256:..."), and rdev
# builds once more, which builds the first stage anew.
# Every step is this run's own ($$): no other build shares them. Not under
# ASan: the retry's code runs there in unit/test-build-run; this is about
# Docker's part, the same in both runs (4-5 s).
if [ "${RDEV_SANITIZE:-0}" != 1 ]; then
	lws=$TEST_TMP/ws-blost-$$
	port=$(rig_ports 1)
	mkdir -p "$lws/.devcontainer"
	cat >"$lws/.devcontainer/Dockerfile" <<-DOCKERFILE
	FROM $RDEV_RIG_IMAGE_BUSYBOX
	LABEL rdev.test.blost=$$
	RUN echo stage0-$$ > /s0
	FROM $RDEV_RIG_IMAGE_BUSYBOX
	LABEL rdev.test.blost=$$
	RUN : $$; n=0; until nc 127.0.0.1 $port </dev/null 2>/dev/null; do n=\$((n + 1)); [ \$n -lt 600 ] || exit 1; sleep 0.05; done
	COPY --from=0 /s0 /s0
	DOCKERFILE
	echo '{ "build": { "dockerfile": "Dockerfile", "options": ["--network=host"] } }' \
		>"$lws/.devcontainer/devcontainer.json"
	rdev build "$lws" --image-name "$tag:lost" >"$TEST_TMP/bl.json" 2>"$TEST_TMP/bl.err" &
	bpid=$!
	blost_stage0() { docker images -q --filter dangling=true --filter "label=rdev.test.blost=$$"; }
	blost_waits() { grep -q "^Step 6/7 : RUN" "$TEST_TMP/bl.err" && [ -n "$(blost_stage0)" ]; }
	blost_remove() { docker rmi $(blost_stage0) >/dev/null; }
	eventually "the second stage waits, the first stage's image made" blost_waits
	check "the first stage's image removed" blost_remove
	python3 -c 'import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
while True:
    s.accept()[0].close()' "$port" &
	lpid=$!
	rc=0
	wait "$bpid" || rc=$?
	kill "$lpid"
	bpid= lpid=
	check_eq "the build whose image went succeeds" "$rc" 0
	check "Docker said the image was gone" grep -q "No such image: sha256:" "$TEST_TMP/bl.err"
	check_eq "rdev said it builds again, once" \
		"$(grep -c "^Docker's build cache lost an image during the build (removed by another build or a prune); building again$" "$TEST_TMP/bl.err")" 1
	check_eq "the answer" "$(cat "$TEST_TMP/bl.json")" \
		"{\"outcome\":\"success\",\"imageName\":[\"$tag:lost\"]}"
fi

# --- the reference's build of the same workspaces ----------------------------
# ref_build NAME WS: the reference's build of WS as ref$tag:NAME; its
# metadata label in $TEST_TMP/ref-NAME.meta, its answer in
# $TEST_TMP/ref-NAME.json (or both kept from an earlier run).
ref_build() {
	local n=$1 w=$2
	if [ -n "$REFCACHE" ] && [ -f "$REFCACHE/$n.meta" ]; then
		cp "$REFCACHE/$n.json" "$TEST_TMP/ref-$n.json"
		cp "$REFCACHE/$n.meta" "$TEST_TMP/ref-$n.meta"
		echo "info the reference's build ($n) kept by an earlier run on this dockerd"
		return 0
	fi
	"$REF" build --workspace-folder "$w" --image-name "ref$tag:$n" >"$TEST_TMP/ref-$n.json" 2>"$TEST_TMP/ref-$n.err" ||
		{ tail -20 "$TEST_TMP/ref-$n.err" >&2; fail "the reference's build ($n) failed"; }
	meta "ref$tag:$n" >"$TEST_TMP/ref-$n.meta" || fail "the reference's image ref$tag:$n has no metadata label"
	if [ -n "$REFCACHE" ]; then
		rig_ref_keep "$REFCACHE/$n.json" <"$TEST_TMP/ref-$n.json" &&
			rig_ref_keep "$REFCACHE/$n.meta" <"$TEST_TMP/ref-$n.meta"
	fi
}
ref_build df "$ws"
check_eq "the reference's answer, but for its ociAuthDiagnostics" \
	"$(jq -c 'del(.ociAuthDiagnostics) | .imageName = ["X"]' "$TEST_TMP/ref-df.json")" \
	"$(jq -c '.imageName = ["X"]' "$TEST_TMP/b1.json")"
check_eq "Dockerfile: the reference's metadata label" "$(cat "$TEST_TMP/ref-df.meta")" "$(meta "$id")"

rdev build "$imgws" --image-name "$tag:img" >"$TEST_TMP/bi.json" 2>/dev/null
ref_build img "$imgws"
check_eq "image: the answer" "$(jq -r '.imageName | join(",")' "$TEST_TMP/bi.json")" "$tag:img"
check_eq "image: the reference's metadata label" "$(cat "$TEST_TMP/ref-img.meta")" "$(meta "$tag:img")"
check "image: the label is on an image of its own" \
	test "$(image_id "$tag:img")" != "$(image_id "$RDEV_RIG_IMAGE_BOOKWORM_DEV")"
check_eq "image: no container" "$(containers_of "$imgws")" 0

rdev build "$cws" --image-name "$tag:cmp" >"$TEST_TMP/bc.json" 2>"$TEST_TMP/bc.err" ||
	{ cat "$TEST_TMP/bc.err" >&2; fail "rdev build $cws failed"; }
ref_build cmp "$cws"
check_eq "Compose: the reference's metadata label" "$(cat "$TEST_TMP/ref-cmp.meta")" "$(meta "$tag:cmp")"
check_eq "Compose: the service's layer" "$(docker run --rm "$tag:cmp" cat /built)" "built-$$"
check_eq "Compose: no container" "$(containers_of "$cws")" 0

# --- what build refuses -------------------------------------------------------
mkdir -p "$TEST_TMP/feat"
echo '{ "image": "'"$RDEV_RIG_IMAGE_BOOKWORM_DEV"'", "features": { "ghcr.io/x/y:1": {} } }' \
	>"$TEST_TMP/feat/.devcontainer.json"
set +e
rdev build "$TEST_TMP/feat" --image-name "$tag:feat" >"$TEST_TMP/f.json" 2>"$TEST_TMP/f.err"
rc=$?
rdev build "$ws" --push >/dev/null 2>"$TEST_TMP/u.err"
urc=$?
# An image name Docker refuses: refused before anything is built (Docker
# refused it only when tagging the built image), on both routes.
rdev build "$ws" --image-name "$tag:ok" --image-name Bad:Name >/dev/null 2>"$TEST_TMP/n.err"
nrc=$?
rdev build "$name:~/rbws" --image-name "reg.io/x@sha256:0123456789abcdef0123456789abcdef" \
	>/dev/null 2>"$TEST_TMP/rn.err"
rnrc=$?
set -e
check_eq "--image-name Bad:Name: a usage error" "$nrc" 2
check "... naming the flag, the value and why" grep -qF \
	"rdev build: --image-name Bad:Name: repository name must be lowercase" "$TEST_TMP/n.err"
check_eq "... said in one line, before any build" "$(wc -l <"$TEST_TMP/n.err")" 1
check "... nothing tagged" sh -c "! docker image inspect '$tag:ok' >/dev/null 2>&1"
check_eq "remote: a digest for --image-name: a usage error" "$rnrc" 2
check "... named likewise" grep -qF -e \
	"--image-name reg.io/x@sha256:0123456789abcdef0123456789abcdef: an image is tagged with a name, not a digest" \
	"$TEST_TMP/rn.err"
check_eq "Features: exit 1" "$rc" 1
check_eq "Features: the JSON error" "$(jq -r .outcome "$TEST_TMP/f.json")" error
check "Features: the message names them" grep -q "Feature 'ghcr.io/x/y:1': https://ghcr.io/v2/x/y/manifests/1: " "$TEST_TMP/f.err"
check "Features: nothing tagged" sh -c "! docker image inspect '$tag:feat' >/dev/null 2>&1"
check_eq "the reference's --push (true): a usage error" "$urc" 2
check "it is named, with its default" grep -q -- "--push true: rdev takes only false" "$TEST_TMP/u.err"

# --- remote -------------------------------------------------------------------
rdev build "$name:~/rbws" --image-name "$tag:remote" >"$TEST_TMP/rb.json" 2>"$TEST_TMP/rb.err" ||
	{ cat "$TEST_TMP/rb.err" >&2; fail "rdev build $name:~/rbws failed"; }
check_eq "remote: the answer" "$(cat "$TEST_TMP/rb.json")" \
	"{\"outcome\":\"success\",\"imageName\":[\"$tag:remote\"]}"
rdev -q build "$name:~/rbws" >"$TEST_TMP/rb2.json" 2>"$TEST_TMP/rb2.err"
check_eq "remote: -q build says nothing on stderr" "$(cat "$TEST_TMP/rb2.err")" ""
rtag=$(jq -r '.imageName[0]' "$TEST_TMP/rb2.json")
echo "$rtag" >"$TEST_TMP/remote-tags"
check "remote: rdev's own tag" grep -q "^rdev-rbws-" <<<"$rtag"
rid=$(on_host docker image inspect -f '{{.Id}}' "$tag:remote")
check_eq "remote: both names are the one image" "$(on_host docker image inspect -f '{{.Id}}' "$rtag")" "$rid"
check_eq "remote: its metadata label" \
	"$(on_host docker image inspect -f "'{{index .Config.Labels \"devcontainer.metadata\"}}'" "$tag:remote" | jq -c '.[-1].remoteUser')" '"dev"'
check_eq "remote: no container" "$(on_host docker ps -aq --filter "label=devcontainer.local_folder=$home/rbws" | wc -l)" 0
rdev -q up "$name:~/rbws" --auto-forward >"$TEST_TMP/rup.json" 2>"$TEST_TMP/rup.err" ||
	{ cat "$TEST_TMP/rup.err" >&2; fail "rdev up $name:~/rbws failed"; }
check_eq "remote: -q up (a postCreateCommand, forwardPorts, --auto-forward) says nothing on stderr" \
	"$(cat "$TEST_TMP/rup.err")" ""
check_eq "remote: its forwards are made" \
	"$(rdev forward --list --json | jq -c '[.[] | select(.workspace == "~/rbws") | .local] | sort')" \
	"[$rport,$((rport + 1))]"
rcid=$(jq -r .containerId "$TEST_TMP/rup.json")
check_eq "remote: up runs the built image" "$(on_host docker inspect -f '{{.Image}}' "$rcid")" "$rid"
rdev -q exec "$name:~/rbws" echo remote-out >"$TEST_TMP/rex.out" 2>"$TEST_TMP/rex.err"
check_eq "remote: -q exec shows the command's output" "$(cat "$TEST_TMP/rex.out")" remote-out
check_eq "remote: and nothing on stderr" "$(cat "$TEST_TMP/rex.err")" ""
# -q and a failure: the required local port taken by another program.
rdev forward "$name:~/rbws" --stop-all 2>/dev/null
python3 -c "import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', $((rport + 1)))); s.listen(); time.sleep(600)" &
busy_pid=$!
eventually "a local process holds port $((rport + 1))" sh -c "ss -ltn | grep -q '127.0.0.1:$((rport + 1)) '"
rc=0
rdev -q up "$name:~/rbws" >"$TEST_TMP/rupf.json" 2>"$TEST_TMP/rupf.err" || rc=$?
kill "$busy_pid"
busy_pid=
check_eq "remote: -q up, a required port taken: exit 1" "$rc" 1
check "... what -q held first: the forward made" sh -c "sed -n '/is not free/q;p' '$TEST_TMP/rupf.err' |
	grep -q '^  localhost:$rport  *-> container port $rport\$'"
check "... then the forward's error" grep -q "^rdev: forward: .*127.0.0.1:$((rport + 1)) is not free" "$TEST_TMP/rupf.err"
check "... then up's error, last" sh -c "tail -1 '$TEST_TMP/rupf.err' |
	grep -q '^rdev: up: forwardPorts: not every port was forwarded'"
check_eq "... the result on stdout says so" "$(jq -r .outcome "$TEST_TMP/rupf.json")" error
rdev -q down "$name:~/rbws" >/dev/null 2>"$TEST_TMP/rdown.err"
check_eq "remote: -q down says nothing on stderr" "$(cat "$TEST_TMP/rdown.err")" ""
finish
