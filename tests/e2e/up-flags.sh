#!/usr/bin/env bash
# up-flags.sh - the reference CLI's flags of `up` and `exec` (issue 14), rdev
# against `devcontainer` 0.89.0 on the same workspace, on a local target and
# on a remote one (the reference, which has no remote targets, runs once per
# workspace, on the local folder: what is compared holds no folder path, so
# the remote rdev is compared with the same results):
#   up --secrets-file --remote-env (twice) --mount (a volume and a bind)
#   --log-format json [--workspace-folder]: what postCreateCommand saw
#   ($FOO from --remote-env, $BAR where remoteEnv wins over --remote-env, a
#   hash of the secret), the container's mounts, the JSON log lines (every
#   line JSON; the reference's "progress" lines for postCreateCommand; its
#   output a "raw" line on channel postCreate, the secret masked);
#   exec --remote-env; rdev's exec --secrets-file (the reference's exec has
#   none: the command sees the secret as the lifecycle commands do);
#   up --override-config (no devcontainer.json) --id-label (twice): the
#   labels, ${devcontainerId} and the container found again by them (by
#   up, and by exec as the reference's; status, stop and down);
#   up --build-no-cache and --cache-from: a Dockerfile step runs again (the
#   classic builder takes only the images --cache-from names), plain up
#   reuses it, and so does rdev's up --build-no-cache false (the value read
#   as the flag's, not taken for "true");
#   up --mount-workspace-git-root false --include-configuration
#   --include-merged-configuration --log-level info in the folder sub of a
#   git work tree: the workspace folder and mount (the folder itself), the
#   result's configuration and mergedConfiguration as the reference's, and
#   read-configuration's workspace with the flag (false, and the default);
#   exec and shell --mount-workspace-git-root false start in that folder;
#   so do a later plain exec, shell, ssh through ssh-proxy, up (its
#   remoteWorkspaceFolder) and read-configuration (the container's label),
#   while exec --mount-workspace-git-root true still goes by the flag;
#   --remove-existing-container replaces the container;
#   unknown flags and malformed values exit 2 (the reference's flags rdev
#   takes only at their default, named: up's, exec's, read-configuration's
#   and build's --oci-auth-hardening, --log-level, --log-format, ...; at
#   the default they are taken).
# Secrets: a random value (with a space and a quote) is searched for after up
# and exec, in docker inspect, every file under the agent's and the broker's
# state folders (RDEV_STATE_DIR, RDEV_RUNTIME_DIR, the host's ~/.rdev and its
# sshd's folder), the client's output and `rdev logs` (of a run whose steps
# went to the background): never found.
# The reference's results are kept for the other build's run of this test on
# the same dockerd (lib.sh, rig_ref_key): what they may hold is named after
# the key (a digest of this script), not the pid: the workspaces' folder (W),
# the tag (workspaces, volume, id labels); the secret is one of that run's
# (the reference's log is searched for it); another run waits for this one
# (rig_ref_lock).
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
command -v jq >/dev/null || fail "jq is needed"
command -v git >/dev/null || fail "git is needed"
export RDEV_STATE_DIR=$TEST_TMP/state
REF=${RDEV_DEVCONTAINER_CLI:-}
[ -n "$REF" ] && [ -x "$REF" ] || fail "the reference CLI is not installed (tests/rig/rig.sh up)"

key=$(printf '%s\n' "up-flags $RDEV_RIG_IMAGE_BOOKWORM $RDEV_RIG_IMAGE_BOOKWORM_DEV $RDEV_RIG_IMAGE_BUSYBOX" \
	"$(sha256sum <"${BASH_SOURCE[0]}")" | rig_ref_key)
rig_ref_lock "$key"
REFCACHE=$(rig_ref_cache "$key")
W=/tmp/rdev-e2e-up-flags-${key:0:10}
rm -rf "$W" # (left by a run that was killed: ours, under the lock)
mkdir -p "$W"
tag=rdevflags${key:0:10}
if [ -n "$REFCACHE" ]; then
	# (read before written: one pipeline with cat and tee of the same file
	# could truncate it before cat reads it)
	[ -s "$REFCACHE/secret" ] || od -An -tx8 -N12 /dev/urandom | tr -d ' \n' | rig_ref_keep "$REFCACHE/secret"
	secret="s3cr3t-$(cat "$REFCACHE/secret") it's"
else
	secret="s3cr3t-$(od -An -tx8 -N12 /dev/urandom | tr -d ' \n') it's"
fi
secret_sha=$(printf '%s' "$secret" | sha256sum | cut -c1-64)
jq -n --arg s "$secret" '{MYSECRET: $s, OTHER: "x"}' >"$W/secrets.json"
mkdir -p "$W/reftmp" "$W/bindsrc" "$TEST_TMP/out"
vol=$tag-vol

# Workspace A: postCreateCommand writes what it saw into out/ (writable by
# the remote user dev) and prints the secret, to be masked.
config_a() {
	jq -n --arg img "$RDEV_RIG_IMAGE_BOOKWORM_DEV" '{
	  image: $img, remoteUser: "dev", updateRemoteUserUID: false,
	  remoteEnv: {BAR: "from-config"},
	  postCreateCommand: "o=${containerWorkspaceFolder}/out; printf %s \"$FOO\" > $o/foo; printf %s \"$BAR\" > $o/bar; printf %s \"$MYSECRET\" | sha256sum | cut -c1-64 > $o/secret; echo \"created $MYSECRET\""
	}'
}
# Workspace B: no devcontainer.json, the configuration from an override.
config_b() {
	jq -n --arg img "$RDEV_RIG_IMAGE_BUSYBOX" '{image: $img,
	  containerEnv: {DCID: "${devcontainerId}"}}'
}
# Workspace C: a Dockerfile whose RUN step leaves its time.
# (the label makes its build steps this key's: another key's run on the same
# dockerd, with --build-no-cache, would otherwise change which cached step a
# plain up reuses, and "plain up reuses the step" fail)
dockerfile_c='FROM '$RDEV_RIG_IMAGE_BOOKWORM'
LABEL rdevflags.case='$tag'
RUN date +%s%N > /built
'
make_ws() { # DIR: the four workspaces under DIR (an existing folder)
	mkdir -p "$1/$tag-a/out" "$1/$tag-b" "$1/$tag-c/.devcontainer" "$1/$tag-d/sub"
	git init -q "$1/$tag-d"
	jq -n --arg img "$RDEV_RIG_IMAGE_BUSYBOX" '{image: $img,
	  containerEnv: {WSF: "${containerWorkspaceFolder}"}}' >"$1/$tag-d/sub/.devcontainer.json"
	chmod 777 "$1/$tag-a/out"
	config_a >"$1/$tag-a/.devcontainer.json"
	printf '%s' "$dockerfile_c" >"$1/$tag-c/.devcontainer/Dockerfile"
	echo '{"build": {"dockerfile": "Dockerfile"}}' >"$1/$tag-c/.devcontainer/devcontainer.json"
}
make_ws "$W"
config_b >"$W/override-b.json"

rig_remote_host f
on_host "mkdir -p ~/ws" >/dev/null
on_host "cat > ~/ws/override-b.json" <"$W/override-b.json"
# The remote workspaces: made as the host's user, then filled by root here
# (the host is this machine).
make_ws "$home/ws"
chown -R "rdev-$name:" "$home/ws"

ref_bc_pid=
cleanup() {
	local rc=$? f img
	set +e
	# (the reference's B and C, when the test failed during them: what they
	# make is removed below once they are done)
	if [ -n "$ref_bc_pid" ]; then
		wait "$ref_bc_pid" 2>/dev/null
		# (its reason, should it have failed too: printed only on success)
		[ "$rc" -eq 0 ] || cat "$TEST_TMP/out/ref-bc.log" 2>/dev/null
	fi
	for f in "$W" "$home/ws"; do
		rm_ws_container "$f/$tag-a"
		rm_ws_container "$f/$tag-c"
		rm_ws_container "$f/$tag-d/sub"
	done
	docker ps -aq --filter "label=rdevflags.case=$tag" | xargs -r docker rm -f >/dev/null
	docker volume rm "$vol" >/dev/null 2>&1
	# (in one command: a docker command costs a second or so loaded)
	img=$(docker images --format '{{.Repository}}:{{.Tag}}' | grep -E "^(vsc-|rdev-)$tag-")
	[ -z "$img" ] || docker image rm -f --no-prune $img >/dev/null 2>&1
	[ "${RDEV_KEEP_TMP:-}" = 1 ] || rm -rf "$W"
	(exit $rc)
	rig_remote_cleanup
}
trap cleanup EXIT

ref() { TMPDIR=$W/reftmp "$REF" "$@"; }
# ref_kept SET: true when an earlier run kept the reference's results SET
# (they are copied into out/); ref_keep SET FILE...: keep them.
ref_kept() {
	[ -n "$REFCACHE" ] && [ -f "$REFCACHE/$1.kept" ] || return 1
	cp "$REFCACHE/$1/"* "$TEST_TMP/out/"
	echo "info the reference's results ($1) kept by an earlier run on this dockerd"
}
ref_keep() {
	local set=$1 f
	shift
	[ -n "$REFCACHE" ] || return 0
	mkdir -p "$REFCACHE/$set"
	for f; do
		rig_ref_keep "$REFCACHE/$set/${f##*/}" <"$f" || return 0
	done
	rig_ref_keep "$REFCACHE/$set.kept" </dev/null
}
# The container of workspace folder F.
cid_of() { docker ps -q --no-trunc --filter "label=devcontainer.local_folder=$1" | head -1; }
rm_ws_container() { docker ps -aq --filter "label=devcontainer.local_folder=$1" | xargs -r docker rm -f >/dev/null; }
# Never found: fail when the secret is in any of the files given.
no_secret() {
	local what=$1 hits
	shift
	hits=$(grep -rlF -- "$secret" "$@" 2>/dev/null || true)
	check_eq "the secret is nowhere in $what" "$hits" ""
}
# The mounts beside the workspace's, comparable across tools.
mounts_of() {
	docker inspect "$1" | jq -c '[.[0].Mounts[] | select(.Destination | startswith("/workspaces") | not) |
	  {Type, Destination, Name: (if .Type == "volume" then .Name else null end),
	   Source: (if .Type == "bind" then .Source else null end)}] | sort_by(.Destination)'
}

# --- up with secrets, remote env, mounts, JSON log ------------------------------

# up_a TOOL DIR TARGET OUT: the up of workspace A with the flags, by the
# reference (TARGET ignored) or rdev; records out/*, the mounts, the logs
# under OUT.* (the container stays: the caller removes it).
up_a() {
	local tool=$1 dir=$2 target=$3 out=$4 cid
	rm -f "$dir/$tag-a/out/"*
	local flags=(--secrets-file "$W/secrets.json" --remote-env FOO=from-cli
		--remote-env BAR=from-cli --mount "type=volume,source=$vol,target=/vol"
		--mount "type=bind,source=$W/bindsrc,target=/bindmnt" --log-format json)
	if [ "$tool" = ref ]; then
		ref up --workspace-folder "$dir/$tag-a" "${flags[@]}" >"$out.out" 2>"$out.err" ||
			{ tail -5 "$out.err"; fail "ref: up failed"; }
	else
		rdev up "${flags[@]}" --workspace-folder "$target" >"$out.out" 2>"$out.err" ||
			{ tail -5 "$out.err"; fail "rdev: up $target failed"; }
	fi
	cid=$(tail -1 "$out.out" | jq -r .containerId)
	[ "$cid" = "$(cid_of "$dir/$tag-a")" ] || fail "$tool: no container for $dir/$tag-a"
	for f in foo bar secret; do cat "$dir/$tag-a/out/$f" >"$out.$f"; done
	mounts_of "$cid" >"$out.mounts"
	docker inspect "$cid" >"$out.inspect"
}

# JSON-log checks of one tool's stderr.
json_log_checks() {
	local who=$1 err=$2
	check "$who: every stderr line is a JSON object" \
	    jq -es 'all(type == "object")' "$err"
	check "$who: JSON log lines have the reference's types" \
	    jq -es 'all(.[]; .type as $t | ["text","raw","start","stop","progress"] | index($t))' "$err"
	check "$who: progress running/succeeded for postCreateCommand" \
	    jq -es '[.[] | select(.type == "progress" and .name == "Running postCreateCommand...") | .status] |
	      index("running") != null and index("succeeded") != null' "$err"
	check "$who: the command's output is a raw line on channel postCreate, masked" \
	    jq -es 'any(.[]; .type == "raw" and .channel == "postCreate" and (.text | test("created \\*{8}")))' "$err"
	check "$who: text lines carry level and timestamp" \
	    jq -es 'all(.[] | select(.type == "text"); (.level | type) == "number" and (.timestamp | type) == "number")' "$err"
}

compare_a() { # WHERE REF_OUT RDEV_OUT
	local where=$1 r=$2 d=$3
	check_eq "$where: --remote-env reaches postCreateCommand (as the reference)" "$(cat "$d.foo")" "$(cat "$r.foo")"
	check_eq "$where: ... and was from-cli" "$(cat "$d.foo")" from-cli
	check_eq "$where: remoteEnv wins over --remote-env (as the reference)" "$(cat "$d.bar")" "$(cat "$r.bar")"
	check_eq "$where: ... from-config" "$(cat "$d.bar")" from-config
	check_eq "$where: the secret reached postCreateCommand (as the reference)" "$(cat "$d.secret")" "$(cat "$r.secret")"
	check_eq "$where: ... its hash" "$(cat "$d.secret")" "$secret_sha"
	check_eq "$where: --mount: the same mounts as the reference" "$(cat "$d.mounts")" "$(cat "$r.mounts")"
	check "$where: ... a volume and a bind" jq -e 'length == 2' "$d.mounts"
	json_log_checks "$where: ref" "$r.err"
	json_log_checks "$where: rdev" "$d.err"
	no_secret "$where: rdev's output, docker inspect" "$d.out" "$d.err" "$d.inspect"
	no_secret "$where: the reference's log (it masks too)" "$r.err"
}

# exec_and_background WHERE TARGET DIR OUT REF_OUT: rdev's exec
# --remote-env (compared with the reference's, in REF_OUT.x.ref) and
# --secrets-file, then an up whose steps go to the background and its `rdev
# logs`, on workspace A (TARGET, the folder DIR/$tag-a); the secret is then
# searched for in what they printed and in docker inspect.
exec_and_background() {
	local where=$1 target=$2 dir=$3 out=$4 refout=$5
	rdev exec --workspace-folder "$target" --remote-env X=ex sh -c 'echo "$X:$FOO:$BAR"' \
	    >"$out.x.rdev" 2>"$out.x.err"
	check_eq "$where: exec --remote-env (as the reference's exec)" "$(cat "$out.x.rdev")" "$(cat "$refout.x.ref")"
	check_eq "$where: ... X set, FOO not kept from up, BAR from remoteEnv" "$(cat "$out.x.rdev")" "ex::from-config"
	rdev exec "$target" --secrets-file "$W/secrets.json" -- \
	    sh -c 'printf %s "$MYSECRET" | sha256sum | cut -c1-64' >"$out.s.rdev" 2>>"$out.x.err"
	check_eq "$where: exec --secrets-file: the command sees the secret" "$(cat "$out.s.rdev")" "$secret_sha"
	rdev up "$target" --recreate --skip-non-blocking-commands \
	    --secrets-file "$W/secrets.json" >"$out.bg.out" 2>"$out.bg.err"
	rdev logs -f "$target" >"$out.bg.logs" 2>&1
	check "$where: rdev logs shows the masked line" grep -q 'created \*\*\*\*\*\*\*\*' "$out.bg.logs"
	check_eq "$where: ... and the background step saw the secret" "$(cat "$dir/$tag-a/out/secret")" "$secret_sha"
	docker inspect "$(cid_of "$dir/$tag-a")" >"$out.bg.inspect"
	no_secret "$where: exec's, up's and logs' output, docker inspect" "$out.x.rdev" \
	    "$out.x.err" "$out.s.rdev" "$out.bg.out" "$out.bg.err" "$out.bg.logs" "$out.bg.inspect"
	rm_ws_container "$dir/$tag-a"
}

# ref_a DIR OUT: the reference's results of workspace A (DIR/$tag-a): up,
# exec --remote-env, in OUT.*.ref (or those an earlier run kept).
ref_a() {
	local dir=$1 refout=$2
	ref_kept a && return 0
	up_a ref "$dir" "" "$refout.a.ref"
	ref exec --workspace-folder "$dir/$tag-a" --remote-env X=ex sh -c 'echo "$X:$FOO:$BAR"' \
	    >"$refout.x.ref" 2>/dev/null || fail "ref: exec in $dir/$tag-a failed"
	rm_ws_container "$dir/$tag-a"
	ref_keep a "$refout".a.ref.* "$refout.x.ref"
}

# flags_case WHERE DIR TARGET OUT REF_OUT: workspace A (DIR/$tag-a, rdev's
# TARGET) by rdev, compared with the reference's results (ref_a's, in
# REF_OUT.*.ref).
flags_case() {
	local where=$1 dir=$2 target=$3 out=$4 refout=$5
	up_a rdev "$dir" "$target" "$out.a.rdev"
	compare_a "$where" "$refout.a.ref" "$out.a.rdev"
	exec_and_background "$where" "$target" "$dir" "$out" "$refout"
}


# --- --override-config and --id-label -------------------------------------------

# up_b TOOL FOLDER TARGET OVERRIDE OUT: up twice with the flags; OUT gets the
# labels, DCID and whether the second up found the first's container.
up_b() {
	local tool=$1 dir=$2 target=$3 ov=$4 out=$5 id1 id2 i
	local flags=(--override-config "$ov" --id-label "rdevflags.case=$tag" --id-label rdevflags.other=y)
	for i in 1 2; do
		if [ "$tool" = ref ]; then
			ref up --workspace-folder "$dir" "${flags[@]}" >"$out.$i" 2>"$out.err" ||
				{ tail -5 "$out.err"; fail "ref: up (B) failed"; }
		else
			rdev up "$target" "${flags[@]}" >"$out.$i" 2>"$out.err" ||
				{ tail -5 "$out.err"; fail "rdev: up $target (B) failed"; }
		fi
	done
	id1=$(tail -1 "$out.1" | jq -r .containerId)
	id2=$(tail -1 "$out.2" | jq -r .containerId)
	echo "$id1" >"$out.id1"
	docker inspect "$id1" | jq -c '.[0].Config.Labels | with_entries(select(.key | startswith("dev.rdev.") | not)) |
	  del(."devcontainer.metadata")' >"$out.labels"
	docker inspect "$id1" | jq -r '.[0].Config.Env[] | select(startswith("DCID="))' >"$out.dcid"
	[ "$id1" = "$id2" ] && echo same >"$out.reuse" || echo different >"$out.reuse"
	# The other commands find it by the id labels too: exec as the
	# reference's; rdev's status, stop and down.
	if [ "$tool" = ref ]; then
		ref exec --workspace-folder "$dir" --config "$ov" "${flags[@]:2}" -- cat /etc/hostname \
		    >"$out.exec" 2>"$out.err" || echo failed >"$out.exec"
	else
		rdev exec "$target" --config "$ov" "${flags[@]:2}" -- cat /etc/hostname \
		    >"$out.exec" 2>"$out.err" || echo failed >"$out.exec"
		rdev status "$target" --config "$ov" "${flags[@]:2}" --json | jq -r .containerId >"$out.status"
		# ls lists it (it has no folder label); exec without the
		# --id-label names it and the flag (not "run up": a second one)
		local lsarg=()
		[ "$target" = "$dir" ] || lsarg=("${target%%:*}:")
		rdev ls "${lsarg[@]+"${lsarg[@]}"}" --json |
			jq -r --arg id "$id1" '.[] | select(.containerId == $id) | .workspace == ""' >"$out.ls"
		rdev exec "$target" --config "$ov" -- true 2>"$out.noid" || true
		# (a folder below it with its own configuration is not that
		# container's: run up, not "made with --id-label")
		if [ "$target" = "$dir" ]; then
			mkdir -p "$dir/sub"
			printf '{"image": "%s"}' "$RDEV_RIG_IMAGE_BOOKWORM_DEV" >"$dir/sub/.devcontainer.json"
			rdev exec "$dir/sub" -- true 2>"$out.sub" || true
			rm -rf "$dir/sub"
		fi
		rdev stop "$target" --config "$ov" "${flags[@]:2}" >/dev/null 2>&1
		docker inspect -f '{{.State.Running}}' "$id1" >"$out.stopped"
		rdev down "$target" --config "$ov" "${flags[@]:2}" >/dev/null 2>&1
		docker inspect "$id1" >/dev/null 2>&1 && echo kept >"$out.down" || echo removed >"$out.down"
	fi
	[ "$(cat "$out.exec")" = "${id1:0:12}" ] && echo yes >"$out.found" || echo no >"$out.found"
	docker rm -f "$id1" >/dev/null 2>&1 || true
}
compare_b() {
	local where=$1 r=$2 d=$3
	check_eq "$where: --id-label: the same labels as the reference (no local_folder/config_file)" \
	    "$(cat "$d.labels")" "$(cat "$r.labels")"
	check_eq "$where: ... the labels given" "$(jq -r '."rdevflags.case"' "$d.labels")" "$tag"
	check_eq "$where: \${devcontainerId} from the id labels, as the reference" "$(cat "$d.dcid")" "$(cat "$r.dcid")"
	check_eq "$where: up again finds the container by them (as the reference)" "$(cat "$d.reuse")" "$(cat "$r.reuse")"
	check_eq "$where: ... the same one" "$(cat "$d.reuse")" same
	check_eq "$where: exec --id-label finds it, as the reference's" "$(cat "$d.found")" "$(cat "$r.found")"
	check_eq "$where: ... in the container up made" "$(cat "$d.found")" yes
	check_eq "$where: status --id-label shows it" "$(cat "$d.status")" "$(cat "$d.id1")"
	check_eq "$where: ls lists it" "$(cat "$d.ls")" true
	check "$where: exec without --id-label: names the container and the flag" \
		grep -qF "container $(head -c 12 "$d.id1"), which mounts it, was made with --id-label" "$d.noid"
	check "$where: ... giving its labels" \
		grep -qF "(--id-label rdevflags.case=$tag --id-label rdevflags.other=y)" "$d.noid"
	if [ -f "$d.sub" ]; then
		check "$where: exec of a folder below it with its own configuration: run up" \
			grep -qF "(run \`rdev up" "$d.sub"
		check "$where: ... not 'made with --id-label'" sh -c "! grep -q 'made with --id-label' '$d.sub'"
	fi
	check_eq "$where: stop --id-label stops it" "$(cat "$d.stopped")" false
	check_eq "$where: down --id-label removes it" "$(cat "$d.down")" removed
}

# --- --build-no-cache and --cache-from ------------------------------------------

# built TOOL DIR TARGET [FLAGS...]: up workspace C, print /built, remove the
# container.
built() {
	local tool=$1 dir=$2 target=$3 cid
	shift 3
	if [ "$tool" = ref ]; then
		ref up --workspace-folder "$dir/$tag-c" "$@" >"$TEST_TMP/out/c.out" 2>"$TEST_TMP/out/c.err"
	else
		rdev up "$target" "$@" >"$TEST_TMP/out/c.out" 2>"$TEST_TMP/out/c.err"
	fi || { tail -5 "$TEST_TMP/out/c.err" >&2; fail "$tool: up (C) $* failed"; }
	cid=$(tail -1 "$TEST_TMP/out/c.out" | jq -r .containerId)
	docker exec "$cid" cat /built
	docker rm -f "$cid" >/dev/null
}
# build_cases TOOL DIR TARGET: "reused rebuilt rebuilt" when plain up reuses
# the step, --build-no-cache and --cache-from run it again (the last one's
# /built in out/c.TOOL.last).
build_cases() {
	local b0 b1 b2 b3
	b0=$(built "$@")
	b1=$(built "$@")
	b2=$(built "$@" --build-no-cache)
	b3=$(built "$@" --cache-from "none.invalid/$tag:1")
	echo "$b3" >"$TEST_TMP/out/c.$1.last"
	echo "$([ "$b1" = "$b0" ] && echo reused || echo rebuilt)" \
	    "$([ "$b2" != "$b1" ] && echo rebuilt || echo reused)" \
	    "$([ "$b3" != "$b2" ] && echo rebuilt || echo reused)"
}
# --- the runs ------------------------------------------------------------------
# The reference's A first (rdev's A finds its container by the same
# labels), then its B and C in the background while rdev does A locally and
# remotely: other workspaces and id labels than A's, and rdev's B and C wait
# for them (the same workspaces: each tool finds the other's container).
# 33 s of the reference's runs, which waited for rdev's 23 s of A before.
ref_a "$W" "$TEST_TMP/out/l"
ref_bc() {
	if ! ref_kept b; then
		up_b ref "$W/$tag-b" "" "$W/override-b.json" "$TEST_TMP/out/lb.ref"
		ref_keep b "$TEST_TMP"/out/lb.ref.*
	fi
	if ! ref_kept c; then
		build_cases ref "$W" "" >"$TEST_TMP/out/c.ref.builds"
		ref_keep c "$TEST_TMP/out/c.ref.builds"
	fi
}
ref_bc >"$TEST_TMP/out/ref-bc.log" 2>&1 &
ref_bc_pid=$!
flags_case local "$W" "$W/$tag-a" "$TEST_TMP/out/l" "$TEST_TMP/out/l"
no_secret "local: the agent's state" "$RDEV_STATE_DIR"
# Remote: rdev through SSH, compared with the reference's local results.
flags_case remote "$home/ws" "$name:~/ws/$tag-a" "$TEST_TMP/out/r" "$TEST_TMP/out/l"
no_secret "remote: the broker's folder (state.json, broker.log), the host's ~/.rdev and sshd folder" \
    "$RDEV_RUNTIME_DIR" "$home/.rdev" "$hdir"
st=0
wait "$ref_bc_pid" || st=$?
ref_bc_pid= # (waited for, its log printed here)
cat "$TEST_TMP/out/ref-bc.log"
[ "$st" = 0 ] || fail "the reference's runs of B and C failed (exit $st)"

up_b rdev "$W/$tag-b" "$W/$tag-b" "$W/override-b.json" "$TEST_TMP/out/lb.rdev"
compare_b "local" "$TEST_TMP/out/lb.ref" "$TEST_TMP/out/lb.rdev"
up_b rdev "$home/ws/$tag-b" "$name:~/ws/$tag-b" "$home/ws/override-b.json" "$TEST_TMP/out/rb.rdev"
compare_b "remote (--override-config: a path on the host)" "$TEST_TMP/out/lb.ref" "$TEST_TMP/out/rb.rdev"

ref_builds=$(cat "$TEST_TMP/out/c.ref.builds")
check_eq "the reference: plain up reuses the step, --build-no-cache and --cache-from run it" \
    "$ref_builds" "reused rebuilt rebuilt"
check_eq "local: the same with rdev" "$(build_cases rdev "$W" "$W/$tag-c")" "$ref_builds"
# (the classic builder reuses the newest image of the step: the
# --cache-from run's)
check_eq "local: up --build-no-cache false reuses the step (no no-cache build)" \
    "$(built rdev "$W" "$W/$tag-c" --build-no-cache false)" "$(cat "$TEST_TMP/out/c.rdev.last")"
check_eq "remote: the same with rdev" "$(build_cases rdev "$home/ws" "$name:~/ws/$tag-c")" "$ref_builds"

# --- --mount-workspace-git-root, --include-*configuration, --remove-existing-container

# norm DIR: the JSON on stdin with DIR in its strings as "DIR", without what
# differs from run to run or is the reference's alone.
norm() { jq -c --arg d "$1" 'walk(if type == "string" then split($d) | join("DIR") else . end) |
	  del(.containerId, .ociAuthDiagnostics)'; }
# up_d TOOL DIR TARGET OUT: workspace D's sub (DIR/$tag-d/sub, rdev's
# TARGET): read-configuration's workspace (default, and the git root not
# mounted), then up with the flags: OUT.* hold them, normalised, and the
# container's workspace mount; the container stays.
up_d() {
	local tool=$1 dir=$2 target=$3 out=$4 cid
	local flags=(--mount-workspace-git-root false --include-configuration
		--include-merged-configuration --log-level info)
	if [ "$tool" = ref ]; then
		ref read-configuration --workspace-folder "$dir/$tag-d/sub" >"$out.rct" 2>"$out.err"
		ref read-configuration --workspace-folder "$dir/$tag-d/sub" --mount-workspace-git-root false \
		    >"$out.rcf" 2>"$out.err"
		ref up --workspace-folder "$dir/$tag-d/sub" "${flags[@]}" >"$out.up" 2>"$out.err" ||
			{ tail -5 "$out.err"; fail "ref: up (D) failed"; }
		ref exec --workspace-folder "$dir/$tag-d/sub" --mount-workspace-git-root false pwd \
		    >"$out.pwd.n" 2>"$out.err" || echo failed >>"$out.pwd.n"
	else
		rdev read-configuration "$target" >"$out.rct" 2>"$out.err"
		# (the flag's value before TARGET: not taken for it)
		rdev read-configuration --mount-workspace-git-root false "$target" >"$out.rcf" 2>"$out.err" ||
			{ tail -5 "$out.err"; fail "rdev: read-configuration $target failed"; }
		rdev up "$target" "${flags[@]}" >"$out.up" 2>"$out.err" ||
			{ tail -5 "$out.err"; fail "rdev: up $target (D) failed"; }
		rdev exec "$target" --mount-workspace-git-root false pwd >"$out.pwd.n" 2>"$out.err" ||
			echo failed >>"$out.pwd.n"
		echo pwd | rdev shell --mount-workspace-git-root false "$target" >"$out.shpwd" 2>"$out.err" ||
			echo failed >>"$out.shpwd"
		# Without the flag: as that up made the container (its label);
		# the flag given still wins.
		rdev exec "$target" pwd >"$out.plain.exec" 2>"$out.err" || echo failed >>"$out.plain.exec"
		echo pwd | rdev shell "$target" >"$out.plain.shell" 2>"$out.err" ||
			echo failed >>"$out.plain.shell"
		rdev exec "$target" --mount-workspace-git-root true pwd >"$out.true.exec" 2>"$out.true.err" ||
			echo "failed $?" >>"$out.true.exec"
		rdev up "$target" --json >"$out.plain.up" 2>"$out.err" || echo failed >>"$out.plain.up"
		rdev read-configuration "$target" >"$out.plain.rc" 2>"$out.err" || echo failed >>"$out.plain.rc"
		rdev ssh-config "$target" --host-alias "rdev-$tag-d" >"$out.sshcfg" 2>"$out.err" &&
			ssh -F "$out.sshcfg" -o BatchMode=yes "rdev-$tag-d" pwd >"$out.plain.ssh" 2>"$out.err" ||
			echo failed >>"$out.plain.ssh"
	fi
	cid=$(tail -1 "$out.up" | jq -r .containerId)
	echo "$cid" >"$out.id"
	docker inspect "$cid" | jq -r '.[0].Mounts[] | select(.Destination | startswith("/workspaces")) |
	  "\(.Source) \(.Destination)"' | sed "s|$dir|DIR|" >"$out.mount"
	jq .workspace "$out.rct" | norm "$dir" >"$out.rct.n"
	jq .workspace "$out.rcf" | norm "$dir" >"$out.rcf.n"
	tail -1 "$out.up" | norm "$dir" >"$out.up.n"
}
compare_d() { # WHERE REF_OUT RDEV_OUT
	local where=$1 r=$2 d=$3
	check_eq "$where: read-configuration: the git root mounted by default (as the reference)" \
	    "$(cat "$d.rct.n")" "$(cat "$r.rct.n")"
	check_eq "$where: read-configuration --mount-workspace-git-root false: the folder itself (as the reference)" \
	    "$(cat "$d.rcf.n")" "$(cat "$r.rcf.n")"
	check_eq "$where: ... /workspaces/sub" "$(jq -r .workspaceFolder "$d.rcf.n")" /workspaces/sub
	check_eq "$where: up --mount-workspace-git-root false --include-*: the result as the reference's" \
	    "$(cat "$d.up.n")" "$(cat "$r.up.n")"
	check "$where: ... with configuration and mergedConfiguration" \
	    jq -e '.configuration.containerEnv.WSF == "/workspaces/sub" and
	      .mergedConfiguration.containerEnv.WSF == "/workspaces/sub"' "$d.up.n"
	check_eq "$where: ... the folder itself is mounted (as the reference)" "$(cat "$d.mount")" "$(cat "$r.mount")"
	check_eq "$where: ... at /workspaces/sub" "$(cat "$d.mount")" "DIR/$tag-d/sub /workspaces/sub"
	check_eq "$where: exec --mount-workspace-git-root false starts there (as the reference's)" \
	    "$(cat "$d.pwd.n")" "$(cat "$r.pwd.n")"
	check_eq "$where: ... /workspaces/sub" "$(cat "$d.pwd.n")" /workspaces/sub
	check_eq "$where: shell --mount-workspace-git-root false too" "$(cat "$d.shpwd")" /workspaces/sub
	check_eq "$where: then a plain exec starts there too (the container's label)" \
	    "$(cat "$d.plain.exec")" /workspaces/sub
	check_eq "$where: ... a plain shell" "$(cat "$d.plain.shell")" /workspaces/sub
	check_eq "$where: ... ssh through ssh-proxy" "$(cat "$d.plain.ssh")" /workspaces/sub
	check_eq "$where: ... a plain up reuses it there" \
	    "$(jq -r '.outcome + " " + .remoteWorkspaceFolder' "$d.plain.up" 2>&1)" "success /workspaces/sub"
	check_eq "$where: ... a plain read-configuration says so" \
	    "$(jq -r .workspace.workspaceFolder "$d.plain.rc" 2>&1)" /workspaces/sub
	check_eq "$where: ... exec --mount-workspace-git-root true still wins (no such folder: 126)" \
	    "$(tail -1 "$d.true.exec")" "failed 126"
	check "$where: ... its error names the git root's folder" grep -q 'chdir to cwd.*/workspaces/.*/sub' "$d.true.err"
}
if ! ref_kept d; then
	up_d ref "$W" "" "$TEST_TMP/out/d.ref"
	rm_ws_container "$W/$tag-d/sub"
	ref_keep d "$TEST_TMP"/out/d.ref.*.n "$TEST_TMP/out/d.ref.mount"
fi
up_d rdev "$W" "$W/$tag-d/sub" "$TEST_TMP/out/d.rdev"
compare_d local "$TEST_TMP/out/d.ref" "$TEST_TMP/out/d.rdev"
rdev up "$W/$tag-d/sub" --remove-existing-container --json >"$TEST_TMP/out/d.again" 2>"$TEST_TMP/out/d.err" ||
	{ tail -5 "$TEST_TMP/out/d.err"; fail "rdev: up --remove-existing-container failed"; }
d1=$(cat "$TEST_TMP/out/d.rdev.id")
d2=$(jq -r .containerId "$TEST_TMP/out/d.again")
check "local: up --remove-existing-container: a new container" test "$d2" != "$d1" -a -n "$d2"
check "... the old one is gone" sh -c "! docker inspect $d1 >/dev/null 2>&1"
# A read-back that fails once the container is up (its postCreateCommand
# breaks the file here) is a warning: up's result and exit status stand.
mkdir -p "$W/$tag-e"
printf '{"image":"%s","runArgs":["--label","rdevflags.case=%s"],"postCreateCommand":"echo { broken > .devcontainer.json"}\n' \
	"$RDEV_RIG_IMAGE_BUSYBOX" "$tag" >"$W/$tag-e/.devcontainer.json"
rdev up "$W/$tag-e" --include-configuration --json >"$TEST_TMP/out/e.json" 2>"$TEST_TMP/out/e.err" ||
	{ tail -5 "$TEST_TMP/out/e.err"; fail "up --include-configuration whose read-back fails failed"; }
check_eq "up --include-configuration, its read-back failing: up's result stands" \
	"$(jq -r '.outcome + " " + (.configuration == null | tostring)' "$TEST_TMP/out/e.json")" "success true"
check "... and stderr says why" grep -q 'warning: --include-configuration: the configuration could not be read back' "$TEST_TMP/out/e.err"
rm_ws_container "$W/$tag-d/sub"
up_d rdev "$home/ws" "$name:~/ws/$tag-d/sub" "$TEST_TMP/out/rd.rdev"
compare_d remote "$TEST_TMP/out/d.ref" "$TEST_TMP/out/rd.rdev"
rm_ws_container "$home/ws/$tag-d/sub"

# --- usage errors ---------------------------------------------------------------
usage_rc() { set +e; rdev "$@" >/dev/null 2>"$TEST_TMP/out/usage.err"; echo $?; set -e; }
check_eq "up: an unknown flag exits 2" "$(usage_rc up "$W/$tag-a" --no-such-flag)" 2
check "up: ... with the usage hint" grep -q 'rdev up --help' "$TEST_TMP/out/usage.err"
check_eq "up: --mount of another form exits 2" "$(usage_rc up "$W/$tag-a" --mount type=tmpfs,target=/x)" 2
check_eq "up: --id-label without a value exits 2" "$(usage_rc up "$W/$tag-a" --id-label name=)" 2
check_eq "up: --log-format xml exits 2" "$(usage_rc up "$W/$tag-a" --log-format xml)" 2
check_eq "up: --mount-workspace-git-root maybe exits 2" "$(usage_rc up "$W/$tag-a" --mount-workspace-git-root=maybe)" 2
for f in "--log-level debug" "--default-user-env-probe none" "--update-remote-user-uid-default off"; do
	# shellcheck disable=SC2086 # (the flag and its value)
	check_eq "up: $f (not the reference's default) exits 2" "$(usage_rc up "$W/$tag-a" $f)" 2
	check "... naming it" grep -qF -- "$f:" "$TEST_TMP/out/usage.err"
done
# The reference's flags rdev takes at their default only (the sweep of its
# `up`, `exec`, `read-configuration` and `build` --help): another value exits
# 2 naming it; the default is taken (exec runs, the others reach the folder).
for cf in "up --oci-auth-hardening" "up --workspace-mount-consistency delegated" \
	"up --expect-existing-container" "up --prebuild" "exec --oci-auth-hardening=true" \
	"exec --log-level debug" "exec --log-format json" "read-configuration --oci-auth-hardening" \
	"read-configuration --log-level trace" "read-configuration --log-format json" \
	"build --oci-auth-hardening" \
	"build --log-level debug" "build --push"; do
	# shellcheck disable=SC2086 # (the command, the flag and its value)
	check_eq "$cf (not the reference's default) exits 2" "$(usage_rc $cf "$W/$tag-a" -- true)" 2
	f=${cf#* }
	check "... naming it" grep -qE -- "${f/=/ } ?[a-z]*: rdev takes only" "$TEST_TMP/out/usage.err"
done
check_eq "exec at the reference's defaults (--oci-auth-hardening false --log-level info --log-format text): as without them" \
	"$(usage_rc exec --oci-auth-hardening false --log-level info --log-format=text "$W/$tag-a" -- true)" \
	"$(usage_rc exec "$W/$tag-a" -- true)"
for c in "up --workspace-mount-consistency cached --expect-existing-container false --prebuild=false" \
	"read-configuration --include-features-configuration false --log-format text" \
	"build --push false --log-level info --oci-auth-hardening false"; do
	# shellcheck disable=SC2086 # (the command and its flags)
	check_eq "${c%% *} at the reference's defaults: taken (fails on the missing folder, exit 1)" \
		"$(usage_rc $c "$W/no-such-folder")" 1
done
# The reference's booleans read as yargs does (NAME true|false, NAME=V,
# --no-NAME): the value is never taken for the workspace.
for c in "up --build-no-cache false" "up --no-build-no-cache --no-lockfile false" \
	"up --frozen-lockfile false --no-lockfile" "build --no-lockfile false --frozen-lockfile=true"; do
	# shellcheck disable=SC2086 # (the command and its flags)
	check_eq "$c: taken (fails on the missing folder, exit 1)" "$(usage_rc $c "$W/no-such-folder")" 1
done
check_eq "up: --build-no-cache=maybe exits 2" "$(usage_rc up "$W/$tag-a" --build-no-cache=maybe)" 2
check "... naming it" grep -qF -- "--build-no-cache takes true or false" "$TEST_TMP/out/usage.err"
# (one table of them: a value the reference does not take either says so)
check_eq "exec: --log-level bogus exits 2" "$(usage_rc exec --log-level bogus "$W/$tag-a" -- true)" 2
check "... with the choices" grep -qF -- "--log-level must be one of info, debug, trace" "$TEST_TMP/out/usage.err"
check_eq "exec: --remote-env without = exits 2" "$(usage_rc exec "$W/$tag-a" --remote-env X -- true)" 2
check_eq "exec: an unknown flag exits 2" "$(usage_rc exec "$W/$tag-a" --no-such-flag -- true)" 2
echo '{"A": 1}' >"$TEST_TMP/bad-secrets.json"
set +e
rdev up "$W/$tag-a" --secrets-file "$TEST_TMP/bad-secrets.json" >/dev/null 2>"$TEST_TMP/out/bad.err"
rc=$?
set -e
check_eq "up: a secrets file that is not an object of strings fails" "$rc" 1
check "... naming the file, line and column" grep -qF "$TEST_TMP/bad-secrets.json:1:7: secret \"A\": expected a string, got number" "$TEST_TMP/out/bad.err"
finish
