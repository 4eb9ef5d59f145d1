#!/usr/bin/env bash
# conformance.sh - the configuration conformance suite (issue 3): for every
# workspace under tests/conformance/cases/, compare
#   rdev read-configuration WS [--config F] --include-merged-configuration
# with the reference CLI's (@devcontainers/cli 0.89.0)
#   devcontainer read-configuration --workspace-folder WS [--config F] \
#       --include-merged-configuration
# field by field (tests/conformance/compare.py). Any difference not listed,
# with its reason, in docs/CONFORMANCE.md fails the test; the per-case,
# per-field diff is printed. A "plain" case is compared without
# --include-merged-configuration too; a "container=running|stopped" case has
# a container, made by the reference's `up` before the comparison (both
# tools then substitute ${devcontainerId} and ${containerEnv:...}) and
# removed after it.
#
# Needs Docker (the reference inspects images for their devcontainer.metadata
# label and looks for an existing container) and the reference CLI: without
# either the test FAILS, it does not skip. The images the cases use are built
# here from tests/conformance/images/NAME.Dockerfile (classic builder, FROM
# the rig's local images, no registry) as rdev-test-conformance/NAME:r<key>
# (the cases' copies name that tag instead of :1: a run of other cases on the
# same Docker engine has its own; a run of the same cases waits, below), and
# removed at the end.
#
# The reference's outputs are kept for the other build's run of the same
# cases while the rig's dockerd runs (lib.sh, rig_ref_key; not those of the
# container=... cases, whose container the reference's `up` makes in each
# run): that run compares its rdev with them instead of running the
# reference again. So the workspaces' folder (which the outputs and the
# devcontainerId hold) and the images' tag are named after the key (a digest
# of the cases, images, this script and the environment they read), not the
# pid; a run of the same cases waits for another (rig_ref_lock).
#
# Per-case options: tests/conformance/cases.txt ("NAME key=value ...").
# Environment: RDEV_BIN_DIR, RDEV_SOURCE_DIR, RDEV_DEVCONTAINER_CLI (from the
# rig), RDEV_CONFORMANCE_JOBS (parallel cases, default 3),
# RDEV_CONFORMANCE_CASES (a regex: run only matching cases), RDEV_REF_CACHE=0
# (the reference runs for every case).
# shellcheck source=tests/rig/lib.sh
. "$(cd "$(dirname "$0")/.." && pwd)/rig/lib.sh"

conf=$RDEV_SOURCE_DIR/tests/conformance
docs=$RDEV_SOURCE_DIR/docs/CONFORMANCE.md
RDEV=$RDEV_BIN_DIR/rdev
[ -x "$RDEV" ] || fail "rdev not found at $RDEV (set RDEV_BIN_DIR)"
[ -f "$docs" ] || fail "$docs is missing"
command -v python3 >/dev/null || fail "python3 is needed to compare outputs"
command -v jq >/dev/null || fail "jq is needed"

rig_require_docker

rig_require_reference
ref_version=$("$REF" --version 2>/dev/null) || fail "the reference CLI at $REF does not run"
echo "reference CLI: $REF ($ref_version)"

cases=()
for d in "$conf"/cases/*/; do
	name=$(basename "$d")
	if [ -n "${RDEV_CONFORMANCE_CASES:-}" ] && ! [[ $name =~ $RDEV_CONFORMANCE_CASES ]]; then
		continue
	fi
	cases+=("$name")
done
[ ${#cases[@]} -gt 0 ] || fail "no cases"
# Every option line names an existing case.
while read -r name _; do
	case $name in '' | '#'*) continue ;; esac
	[ -d "$conf/cases/$name" ] || fail "cases.txt names '$name', which has no folder"
done <"$conf/cases.txt"

# The environment both tools see (${localEnv:...} cases).
export CONF_USER=alice
export CONF_EMPTY=
export CONF_SPACES='two words "quoted" \back'
export CONF_PORT=8123
# shellcheck disable=SC2016 # a variable for the tools to substitute
export CONF_ID_REF='${devcontainerId}'
unset CONF_UNSET

# The key of the reference's outputs (above), the lock, the cache (a folder,
# or none: the reference runs for every case).
key=$( {
	echo "conformance: ${cases[*]}"
	tar -C "$conf" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - \
	    cases cases.txt images | sha256sum
	sha256sum <"${BASH_SOURCE[0]}"
	env | grep -E '^(CONF_[A-Z_]*|HOME)=' | sort
} | rig_ref_key)
rig_ref_lock "$key"
REFCACHE=$(rig_ref_cache "$key")
ROOT=/tmp/rdev-e2e-conformance-${key:0:10}
rm -rf "$ROOT" # (left by a run that was killed: ours, under the lock)

# Images, this key's (see above), built at the same time. Removed on exit,
# with everything else.
tag=r${key:0:10}
built_images=()
conformance_cleanup() {
	local rc=$?
	set +e # clean up all there is; `(exit $rc)` below must not end the trap
	rig_ref_end # (a case still running keeps nothing now)
	# Containers of the container=... cases first: they use the images.
	docker ps -a --filter label=devcontainer.local_folder --format \
	    '{{.ID}} {{.Label "devcontainer.local_folder"}}' |
		awk -v p="$ROOT/" 'index($2, p) == 1 { print $1 }' |
		xargs -r docker rm -f -v >/dev/null 2>&1
	# (in one command, which removes them in this order and goes on past
	# one it cannot remove: a docker command costs a second or so loaded)
	[ ${#built_images[@]} -eq 0 ] || docker image rm -f --no-prune "${built_images[@]}" >/dev/null 2>&1 || true
	[ "${RDEV_KEEP_TMP:-}" = 1 ] || rm -rf "$ROOT"
	(exit $rc)
	rig_test_cleanup
}
trap conformance_cleanup EXIT

mkdir -p "$TEST_TMP/empty"
builds=()
for df in "$conf"/images/*.Dockerfile; do
	name=$(basename "$df" .Dockerfile)
	img=rdev-test-conformance/$name:$tag
	built_images+=("$img")
	DOCKER_BUILDKIT=0 docker build -q -t "$img" -f "$df" "$TEST_TMP/empty" \
	    >"$TEST_TMP/build-$name.log" 2>&1 &
	builds+=("$!:$name")
done
for b in "${builds[@]}"; do
	wait "${b%%:*}" ||
		{ cat "$TEST_TMP/build-${b#*:}.log"; fail "cannot build the image of ${b#*:}.Dockerfile"; }
done
echo "built ${#built_images[@]} images"

# Workspaces: copies outside any git work tree (the tests may run inside
# one), so that each case decides whether it is in a repository; they name
# this run's images (".../NAME:1": a Dockerfile may spell the repository
# with an ARG).
mkdir -p "$ROOT/ws" "$TEST_TMP/out" "$ROOT/reftmp"
cp -r "$conf/cases/." "$ROOT/ws/"
retag=()
for img in "${built_images[@]}"; do
	img=${img%:*}
	retag+=(-e "s#/${img#*/}:1\\b#/${img#*/}:$tag#g")
done
grep -rlZ ':1\b' "$ROOT/ws" | xargs -0 -r sed -i "${retag[@]}"

# ref_conf ID WS OUT ARGS...: the reference's read-configuration ARGS, run
# in WS, into OUT.ref.json and OUT.ref.err; its exit status. Kept in REFCACHE
# as ID (none: not kept) when it succeeds, or whatever it does when
# REF_KEEP_FAILED is 1 (a case where the reference must fail).
ref_conf() {
	local id=$1 ws=$2 out=$3 rc
	shift 3
	if [ -n "$REFCACHE" ] && [ -n "$id" ] && [ -f "$REFCACHE/$id.rc" ]; then
		cp "$REFCACHE/$id.json" "$out.ref.json"
		cp "$REFCACHE/$id.err" "$out.ref.err"
		echo "$id" >>"$TEST_TMP/out/kept"
		return "$(cat "$REFCACHE/$id.rc")"
	fi
	(cd "$ws" && "$REF" read-configuration "$@") >"$out.ref.json" 2>"$out.ref.err"
	rc=$?
	if [ -n "$REFCACHE" ] && [ -n "$id" ] && { [ $rc -eq 0 ] || [ "${REF_KEEP_FAILED:-}" = 1 ]; }; then
		rig_ref_keep "$REFCACHE/$id.json" <"$out.ref.json" &&
			rig_ref_keep "$REFCACHE/$id.err" <"$out.ref.err" &&
			echo "$rc" | rig_ref_keep "$REFCACHE/$id.rc"
	fi
	return $rc
}

# compare_outputs NAME MODE WS ARG EXTRA...: both tools' read-configuration
# of WS (given as ARG, from inside WS), with --include-merged-configuration
# when MODE is "merged"; writes out/NAME.MODE.{rdev,ref}.{json,err} and
# prints the comparison (its last line "fields N documented D failed F");
# returns 1 for an undocumented difference.
compare_outputs() {
	local name=$1 mode=$2 ws=$3 wsarg=$4 out=$TEST_TMP/out/$1.$2 merged=() rc refrc
	shift 4
	[ "$mode" = merged ] && merged=(--include-merged-configuration)
	(cd "$ws" && "$RDEV" read-configuration "$wsarg" "$@" "${merged[@]+"${merged[@]}"}") \
	    >"$out.rdev.json" 2>"$out.rdev.err"
	rc=$?
	ref_conf "${keep_id:+$keep_id.$mode}" "$ws" "$out" --workspace-folder "$wsarg" "$@" \
	    "${merged[@]+"${merged[@]}"}"
	refrc=$?
	if [ $rc -ne 0 ] || [ $refrc -ne 0 ]; then
		echo "  DIFF ($mode) exit status: rdev $rc, reference $refrc"
		sed 's/^/  rdev: /' "$out.rdev.err"
		tail -5 "$out.ref.err" | sed 's/^/  reference: /'
		echo "fields 1 documented 0 failed 1"
		return 1
	fi
	if [ "$mode" = merged ]; then
		python3 "$conf/compare.py" "$name" "$out.rdev.json" "$out.ref.json" "$ws" "$docs"
		return
	fi
	python3 "$conf/compare.py" "$name" "$out.rdev.json" "$out.ref.json" "$ws" "$docs" |
		sed "s/^  \(DIFF\|documented\|STALE\)/  \1 ($mode)/"
	return "${PIPESTATUS[0]}"
}

# The container of a "container=STATE" case, made by the reference's `up`
# (so that both tools see the same one) and stopped for STATE "stopped".
make_container() {
	local ws=$1 state=$2 log=$3 cid
	TMPDIR=$ROOT/reftmp "$REF" up --workspace-folder "$ws" >"$log" 2>&1 ||
		{ tail -5 "$log"; return 1; }
	cid=$(tail -1 "$log" | jq -r '.containerId // empty')
	[ -n "$cid" ] || { tail -5 "$log"; return 1; }
	[ "$state" = running ] || docker stop -t 1 "$cid" >/dev/null
}

remove_containers() {
	docker ps -aq --filter "label=devcontainer.local_folder=$1" |
		xargs -r docker rm -f -v >/dev/null 2>&1 || true
}

# One case: NAME, options from cases.txt. Writes out/NAME.{log,rc}; the last
# line of the log is "fields N documented D failed F", summed over the
# comparisons made (with --include-merged-configuration, and without it for
# "plain").
run_case() {
	local name=$1 root=$ROOT/ws/$1 ws opts=() o extra=() out=$TEST_TMP/out/$1 keep_id=$1
	local rejects='' rejecter='' wsarg='' rc refrc modes=(merged) container='' m
	local nf=0 nd=0 nfail=0 status=0
	ws=$root
	read -r -a opts <<<"$(awk -v n="$name" '$1 == n { $1 = ""; print }' "$conf/cases.txt")"
	for o in "${opts[@]+"${opts[@]}"}"; do
		case $o in
		config=*) extra+=(--config "$root/${o#config=}") ;;
		override=*) extra+=(--override-config "$root/${o#override=}") ;;
		features=*) extra+=(--additional-features "$(cat "$root/${o#features=}")") ;;
		workspace=*) ws=$root/${o#workspace=} ;;
		git)
			git -C "$root" init -q >/dev/null 2>&1 ||
				{ echo "  cannot git init $root" >"$out.log"; echo 1 >"$out.rc"; return; }
			;;
		relative) wsarg=. ;;
		trailing-slash) wsarg=slash ;;
		plain) modes+=(plain) ;;
		container=running | container=stopped) container=${o#container=} keep_id= ;;
		rdev-rejects=* | ref-rejects=*)
			rejecter=${o%%-*}
			rejects=${o#*=}
			;;
		*) echo "  bad option '$o' in cases.txt" >"$out.log"; echo 1 >"$out.rc"; return ;;
		esac
	done
	# Both tools run from inside the workspace; it is given as an absolute
	# path, or as "." (relative; then --config is relative as well) or with a
	# trailing "/" (trailing-slash).
	case $wsarg in
	'') wsarg=$ws ;;
	slash) wsarg=$ws/ ;;
	.)	# --config relative too, as typed from the workspace.
		if [ ${#extra[@]} -gt 0 ]; then
			extra[1]=$(realpath -m --relative-to="$ws" "${extra[1]}")
		fi
		;;
	esac
	if [ -n "$rejects" ]; then
		(cd "$ws" && "$RDEV" read-configuration "$wsarg" "${extra[@]+"${extra[@]}"}" \
		    --include-merged-configuration) >"$out.rdev.json" 2>"$out.rdev.err"
		rc=$?
		REF_KEEP_FAILED=$([ "$rejecter" = ref ] && echo 1) ref_conf "${keep_id:+$keep_id.rejects}" "$ws" \
		    "$out" --workspace-folder "$wsarg" "${extra[@]+"${extra[@]}"}" \
		    --include-merged-configuration
		refrc=$?
		# A documented case where one tool refuses what the other accepts.
		if ! grep -Eq "^#+ *$rejects\b" "$docs"; then
			echo "  documented difference $rejects is not described in $docs" >"$out.log"
			echo 1 >"$out.rc"
		elif { [ "$rejecter" = rdev ] && [ $rc -eq 1 ] && [ $refrc -eq 0 ]; } ||
		    { [ "$rejecter" = ref ] && [ $rc -eq 0 ] && [ $refrc -ne 0 ]; }; then
			{
				echo "  documented ($rejects) exit status: rdev $rc, reference $refrc"
				sed 's/^/    rdev: /' "$out.rdev.err"
				echo "fields 1 documented 1 failed 0"
			} >"$out.log"
			echo 0 >"$out.rc"
		else
			{
				echo "  DIFF exit status: rdev $rc, reference $refrc; documented ($rejects) is: $rejecter rejects"
				sed 's/^/  rdev: /' "$out.rdev.err"
				tail -5 "$out.ref.err" | sed 's/^/  reference: /'
				echo "fields 1 documented 0 failed 1"
			} >"$out.log"
			echo 1 >"$out.rc"
		fi
		return
	fi
	: >"$out.log"
	if [ -n "$container" ] && ! make_container "$ws" "$container" "$out.up.log" >>"$out.log"; then
		remove_containers "$ws"
		{ echo "  the reference's up failed"; echo "fields 1 documented 0 failed 1"; } >>"$out.log"
		echo 1 >"$out.rc"
		return
	fi
	for m in "${modes[@]}"; do
		compare_outputs "$name" "$m" "$ws" "$wsarg" "${extra[@]+"${extra[@]}"}" \
		    >"$out.$m.log" 2>&1 || status=1
		grep -v '^fields ' "$out.$m.log" >>"$out.log"
		if [[ $(tail -1 "$out.$m.log") =~ ^fields\ ([0-9]+)\ documented\ ([0-9]+)\ failed\ ([0-9]+) ]]; then
			nf=$((nf + BASH_REMATCH[1]))
			nd=$((nd + BASH_REMATCH[2]))
			nfail=$((nfail + BASH_REMATCH[3]))
		fi
	done
	[ -z "$container" ] || remove_containers "$ws"
	echo "fields $nf documented $nd failed $nfail" >>"$out.log"
	echo "$status" >"$out.rc"
}
export -f compare_outputs make_container remove_containers ref_conf rig_ref_keep
export -f run_case
export TEST_TMP RDEV REF conf docs ROOT REFCACHE

# (without the lock's fd: nothing the cases start keeps it)
# shellcheck disable=SC2016 # $1 is for the inner bash
printf '%s\n' "${cases[@]}" |
	xargs -P "${RDEV_CONFORMANCE_JOBS:-3}" -I{} bash -c 'run_case "$1"' _ {} {RIG_REF_LOCK_FD}>&-

ncases=0 nfields=0 ndoc=0 failed=()
for name in "${cases[@]}"; do
	out=$TEST_TMP/out/$name
	ncases=$((ncases + 1))
	rc=$(cat "$out.rc" 2>/dev/null || echo 1)
	last=$(tail -1 "$out.log" 2>/dev/null)
	if [[ $last =~ ^fields\ ([0-9]+)\ documented\ ([0-9]+) ]]; then
		nfields=$((nfields + BASH_REMATCH[1]))
		ndoc=$((ndoc + BASH_REMATCH[2]))
	fi
	if [ "$rc" = 0 ]; then
		echo "ok   $name ($last)"
		grep '^  documented' "$out.log" || true
	else
		echo "FAIL $name"
		grep -v '^fields ' "$out.log" || true
		failed+=("$name")
	fi
done
echo "$ncases cases, $nfields fields compared, $ndoc documented differences," \
    "${#failed[@]} failing case(s); of the reference's outputs" \
    "$(cat "$TEST_TMP/out/kept" 2>/dev/null | wc -l) kept by an earlier run"
[ ${#failed[@]} -eq 0 ] || fail "undocumented differences in: ${failed[*]}"
[ -n "${RDEV_CONFORMANCE_CASES:-}" ] || [ "$ncases" -ge 40 ] ||
	fail "only $ncases cases (issue 3 asks for at least 40)"
# shellcheck disable=SC2034 # read by finish (lib.sh)
CHECKS_PASSED=$ncases
finish
