#!/usr/bin/env bash
# up-differential.sh - `rdev up` against the reference CLI's `devcontainer up`
# (@devcontainers/cli 0.89.0), on the same Docker engine: for every workspace
# under tests/differential/cases/, the reference makes its container, which is
# inspected and removed, then rdev makes its own, which is inspected and
# removed, and tests/differential/compare.py compares the two (labels, env,
# user, mounts, working dir, ports, init/privileged/caps, everything else in
# `docker inspect` that is not random per container). A difference not listed
# in tests/differential/documented.txt, with its reason in docs/CONFORMANCE.md
# ("Containers"), fails the test; so does a listed one that no longer shows.
#
# The two tools find a workspace's container by the same labels, so the two
# containers of a case never exist at once. Everything the test makes
# (containers, Compose networks, named volumes, images built for the
# workspaces, the images under tests/differential/images/, built as
# rdev-test-diff/NAME:r<key>, the tag the cases' copies name) is removed at
# the end, on failure too.
#
# The reference's results (what diff_record writes) are kept for the other
# build's run of the same cases while the rig's dockerd runs (lib.sh,
# rig_ref_key): that run compares its rdev with them instead of running the
# reference again. So what the test makes is named after the key (a digest
# of the cases, the images' Dockerfiles and this script), not its pid, and
# is the same in both runs: the workspaces' folder, hence the Compose
# projects, the images and the devcontainerId, the fixture images' tag and
# the uid-* cases' UID; a run of the same cases waits for another
# (rig_ref_lock). RDEV_REF_CACHE=0: the reference runs for every case.
#
# Environment: RDEV_BIN_DIR, RDEV_DEVCONTAINER_CLI (from the rig),
# RDEV_DIFF_JOBS (cases run in parallel, default 3), RDEV_DIFF_CASES (a regex:
# run only matching cases), RDEV_DIFF_SKIP (a regex: leave matching cases
# out), RDEV_DIFF_MIN_CASES (fail with fewer cases run; default 10, or 1
# with RDEV_DIFF_CASES). ctest runs it twice: e2e/up-differential without
# the feature-* cases, e2e/up-differential-features with only them.
. "$(cd "$(dirname "$0")/.." && pwd)/rig/lib.sh"

diffdir=$RDEV_SOURCE_DIR/tests/differential
docs=${RDEV_DIFF_DOCS:-$RDEV_SOURCE_DIR/docs/CONFORMANCE.md}
documented=$diffdir/documented.txt
RDEV=$RDEV_BIN_DIR/rdev
[ -x "$RDEV" ] || fail "rdev not found at $RDEV (set RDEV_BIN_DIR)"
command -v python3 >/dev/null || fail "python3 is needed to compare the containers"
command -v jq >/dev/null || fail "jq is needed"
rig_require_docker

rig_require_reference
ref_version=$("$REF" --version 2>/dev/null) || fail "the reference CLI at $REF does not run"
echo "reference CLI: $REF ($ref_version)"

# Every documented difference has its reason in the Containers section of
# docs/CONFORMANCE.md.
[ -f "$docs" ] || fail "$docs is missing"
section=$(sed -n '/^## Containers (rdev up vs devcontainer up)/,/^## [^C]/p' "$docs")
[ -n "$section" ] || fail "$docs has no section \"## Containers (rdev up vs devcontainer up)\""
while read -r _ _ id; do
	case $id in '' | '#'*) continue ;; esac
	grep -Eq "^### $id\b" <<<"$section" ||
		fail "documented.txt names $id, which $docs does not describe (### $id)"
done < <(grep -v '^[[:space:]]*#' "$documented")

export RDEV_STATE_DIR=$TEST_TMP/state
export RDEV_DIFF_VAR=host-value
unset RDEV_DIFF_UNSET

cases=()
for d in "$diffdir"/cases/*/; do
	name=$(basename "$d")
	if [ -n "${RDEV_DIFF_CASES:-}" ] && ! [[ $name =~ $RDEV_DIFF_CASES ]]; then
		continue
	fi
	if [ -n "${RDEV_DIFF_SKIP:-}" ] && [[ $name =~ $RDEV_DIFF_SKIP ]]; then
		continue
	fi
	cases+=("$name")
done
[ ${#cases[@]} -gt 0 ] || fail "no cases"

# The key of the reference's results (above), the lock, the cache (a folder,
# or none: the reference runs for every case).
key=$( {
	echo "up-differential: ${cases[*]} RDEV_DIFF_VAR=$RDEV_DIFF_VAR"
	tar -C "$diffdir" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - \
	    images "${cases[@]/#/cases/}" | sha256sum
	sha256sum <"${BASH_SOURCE[0]}"
} | rig_ref_key)
rig_ref_lock "$key"
REFCACHE=$(rig_ref_cache "$key")
# Workspaces: copies of the cases, each called rdevdiff<key>-CASE (the images
# and the Compose project the tools make are named after the folder: the key
# keeps them apart from those of a run of other cases, e.g. the other half
# of the cases, on the same Docker engine).
ROOT=/tmp/rdev-e2e-diff-${key:0:10}
WS=$ROOT/ws
P=rdevdiff${key:0:10}
FIXTURE_TAG=r${key:0:10}
# The owner of the uid-* cases' workspaces: a user that is not in the image
# (the UID-sync image rdev makes is named after it: this key's own too;
# other tests take theirs from 20000-59999).
WS_UID=$((60000 + 16#${key:0:4} % 5000))
OUT=$TEST_TMP/out
rm -rf "$ROOT" # (left by a run that was killed: ours, under the lock)
mkdir -p "$WS" "$OUT" "$TEST_TMP/empty" "$ROOT/reftmp"
for name in "${cases[@]}"; do
	cp -r "$diffdir/cases/$name" "$WS/$P-$name"
done
# The copies name this run's images of tests/differential/images/.
{ grep -rlZ 'rdev-test-diff/[a-z0-9-]*:1\b' "$WS" || true; } |
	xargs -0 -r sed -i "s#\\(rdev-test-diff/[a-z0-9-]*\\):1\\b#\\1:$FIXTURE_TAG#g"
# The uid-* cases: a workspace owned by a user that is not in the image.
for d in "$WS/$P"-uid-*; do
	if [ -d "$d" ]; then chown -R "$WS_UID:$WS_UID" "$d"; fi
done

# Everything that could be left behind: containers of the workspaces (by the
# labels both tools set), their Compose projects, the named volumes of the
# mounts case, the images built for the workspaces and their UID variants.
diff_cleanup_case() {
	local ws=$1 proj ids
	proj=$(basename "$ws" | tr -cd 'a-z0-9_-')_devcontainer
	# (one listing for both labels: each docker command costs a few
	# tenths of a second on a loaded machine)
	ids=$(docker ps -a --format '{{.ID}}\t{{.Label "devcontainer.local_folder"}}\t{{.Label "com.docker.compose.project"}}' |
		awk -F '\t' -v ws="$ws" -v proj="$proj" '$2 == ws || $3 == proj { print $1 }')
	if [ -n "$ids" ]; then
		docker rm -f -v $ids >/dev/null 2>&1 || true
	fi
	if [ -e "$ws/.devcontainer/docker-compose.yml" ]; then
		docker network ls -q --filter "label=com.docker.compose.project=$proj" |
			xargs -r docker network rm >/dev/null 2>&1 || true
		docker volume ls -q --filter "label=com.docker.compose.project=$proj" |
			xargs -r docker volume rm >/dev/null 2>&1 || true
	fi
}
# The same for all the cases at once (at the start: what a killed run left;
# at the end), with one listing of each kind instead of one per case.
diff_cleanup_cases() {
	local ids kind
	ids=$(docker ps -a --format '{{.ID}}\t{{.Label "devcontainer.local_folder"}}\t{{.Label "com.docker.compose.project"}}' |
		awk -F '\t' -v ws="$WS/$P-" -v proj="$P-" 'index($2, ws) == 1 || index($3, proj) == 1 { print $1 }')
	if [ -n "$ids" ]; then
		docker rm -f -v $ids >/dev/null 2>&1 || true
	fi
	for kind in network volume; do
		docker "$kind" ls -q --filter label=com.docker.compose.project \
		    --format '{{.Label "com.docker.compose.project"}}\t{{.Name}}' |
			awk -F '\t' -v proj="$P-" 'index($1, proj) == 1 { print $2 }' |
			xargs -r docker "$kind" rm >/dev/null 2>&1 || true
	done
}
diff_images() {
	docker images --format '{{.Repository}}:{{.Tag}}' | grep -E \
	    "^(vsc-$P-|rdev-$P-|rdev-uid/(vsc-|rdev-)?$P-|rdev-uid/rdev-test-bookworm-dev-r1:dev-$WS_UID-$WS_UID|rdev-test-diff/.*:$FIXTURE_TAG\$)" ||
		true
}
diff_cleanup() {
	local rc=$? imgs vols name
	set +e	# clean up all there is; `(exit $rc)` below must not end the trap
	rig_ref_end # (a case still running keeps nothing now)
	diff_cleanup_cases
	vols=$(docker volume ls -q | grep '^rdevdiff-' || true)
	[ -z "$vols" ] || docker volume rm $vols >/dev/null 2>&1 || true
	# UID images first: they are children of the others. In one command
	# (it removes them in the order given and goes on past one it cannot
	# remove) instead of one per image: a run leaves a score of them, each
	# docker command a second or two on a loaded machine. Not their
	# untagged parents (--no-prune): the build cache's steps FROM the rig's
	# images, which other tests' builds share.
	imgs=$(diff_images | sort -r)
	[ -z "$imgs" ] || docker image rm -f --no-prune $imgs >/dev/null 2>&1 || true
	# Untagged stages of the Dockerfile cases (their Dockerfiles label them
	# with the case's name), with their parents: the label's steps are the
	# case's. Only this run's cases: the other half's (feature-dockerfile,
	# e2e/up-differential-features) may be building that moment.
	for name in "${cases[@]}"; do
		grep -qs "rdev.diff.fixture=$name\$" "$diffdir/cases/$name/.devcontainer/Dockerfile" \
		    "$diffdir/cases/$name/Dockerfile" &&
			docker images -q --filter dangling=true --filter "label=rdev.diff.fixture=$name"
	done | xargs -r docker image rm -f >/dev/null 2>&1 || true
	[ "${RDEV_KEEP_TMP:-}" = 1 ] || rm -rf "$ROOT"
	(exit $rc)
	rig_test_cleanup
}
trap diff_cleanup EXIT

for df in "$diffdir"/images/*.Dockerfile; do
	img=rdev-test-diff/$(basename "$df" .Dockerfile):$FIXTURE_TAG
	# (only those the cases of this run name: a build takes seconds
	# loaded; the key covers all of them either way)
	grep -rqsF "$img" "$WS" || continue
	DOCKER_BUILDKIT=0 docker build -q -t "$img" -f "$df" "$TEST_TMP/empty" \
	    >"$TEST_TMP/build.log" 2>&1 ||
		{ cat "$TEST_TMP/build.log"; fail "cannot build $img from $df"; }
	echo "$img $(docker image inspect -f '{{.Id}}' "$img" | sed 's/^sha256://')"
done >"$OUT/fixture-ids"
# The fixture images are built again in each run, with new ids, which the
# reference's results hold (baseImages): they are kept with the ids of the
# run that kept the first of them (REFCACHE/fixture-ids), rewritten on the
# way in (fixture-in.sed) and out (fixture-out.sed).
: >"$OUT/fixture-in.sed"
: >"$OUT/fixture-out.sed"
if [ -n "$REFCACHE" ]; then
	[ -s "$REFCACHE/fixture-ids" ] || cp "$OUT/fixture-ids" "$REFCACHE/fixture-ids"
	while read -r img kept; do
		now=$(awk -v i="$img" '$1 == i { print $2 }' "$OUT/fixture-ids")
		[ -n "$now" ] || fail "no fixture image $img in this run ($REFCACHE)"
		echo "s/$kept/$now/g" >>"$OUT/fixture-in.sed"
		echo "s/$now/$kept/g" >>"$OUT/fixture-out.sed"
	done <"$REFCACHE/fixture-ids"
fi

# What a container's image is, for the comparison: the tools name the images
# they build differently (the reference's vsc-<folder>-<hash>[-uid], rdev's
# rdev-<folder>-<id>:<hash> and rdev-uid/<image>:<user>-<uid>-<gid>), so a
# UID-sync image stands for the image it was made from (its first tagged
# ancestor), an
# image built for a workspace for "<image built for the workspace>", and any
# other image for its id.
diff_base_image() {
	local name=$1 skip=0 id tags
	case $name in
	*-uid | *-uid:latest | rdev-uid/*) skip=1 ;;
	esac
	# The chain of parents in one call (docker history follows .Parent, and
	# says "<missing>" past the last recorded one), then their tags in
	# another, instead of two calls per step up the chain.
	local chain=()
	while read -r id; do
		[ "$id" != "<missing>" ] || break
		chain+=("$id")
	done < <(docker history --no-trunc -q "$name" 2>/dev/null | tail -n +$((skip + 1)))
	if [ ${#chain[@]} -eq 0 ]; then
		echo "$name"	# no parent recorded: leave it as it is
		return 0
	fi
	# The first tagged one, up the chain of the UID-sync build's untagged steps.
	while read -r id tags; do
		[ -z "$tags" ] || break
	done < <(docker image inspect -f '{{.Id}}{{range .RepoTags}} {{.}}{{end}}' "${chain[@]}" 2>/dev/null)
	if [ -z "$tags" ]; then
		echo "$name"
		return 0
	fi
	case " $tags" in
	*" vsc-$P-"* | *" rdev-$P-"*) echo "<image built for the workspace>" ;;
	*) echo "$id" ;;
	esac
}

# diff_record TOOL CASE UP_JSON CID USER: $OUT/CASE.TOOL.json for
# compare.py, from the containers the tool made (CID, the up result's
# containerId; USER, its remoteUser).
diff_record() {
	local tool=$1 name=$2 up=$3 cid=$4 user=$5 proj imgs img path paths=() xpid
	local ws=$WS/$P-$name f=$OUT/$name.$tool
	[ -n "$cid" ] || { echo "no containerId in: $up"; return 1; }
	docker inspect "$cid" >"$f.containers" || return 1
	# The Compose project (first line, maybe empty) and the images, in one jq
	# (each jq and docker command costs a few tenths of a second loaded).
	{ read -r proj; imgs=$(cat); } < <(jq -r \
	    '(.[0].Config.Labels["com.docker.compose.project"] // ""), (map(.Config.Image) | unique[])' \
	    "$f.containers")
	if [ -n "$proj" ]; then
		docker inspect $(docker ps -aq --filter "label=com.docker.compose.project=$proj") \
		    >"$f.containers" || return 1
		imgs=$(jq -r 'map(.Config.Image) | unique[]' "$f.containers")
	fi
	# The remote user's UID and the files the case's inside.txt names (one
	# path a line), in one exec: each "=" + its text (trailing newlines
	# dropped, as $(...) does) and a NUL; "?" for a UID and "(missing)" for
	# a file that cannot be read. In the background: a docker exec takes
	# the better part of a second loaded.
	if [ -f "$ws/inside.txt" ]; then
		while read -r path; do
			[ -z "$path" ] || paths+=("$path")
		done <"$ws/inside.txt"
	fi
	docker exec -u root "$cid" sh -c 'u=$(id -u "$1" 2>/dev/null) || u="?"
		printf "=%s\0" "$u"
		shift
		for p in "$@"; do
			if c=$(cat "$p" 2>/dev/null); then printf "=%s\0" "$c"; else printf "=(missing)\0"; fi
		done' sh "$user" "${paths[@]}" >"$f.inside" 2>/dev/null &
	xpid=$!
	# The images' bases meanwhile.
	for img in $imgs; do
		printf '%s\t%s\n' "$img" "$(diff_base_image "$img")"
	done >"$f.bases"
	wait "$xpid" || true
	jq -n --argjson up "$up" --arg proj "$proj" --slurpfile c "$f.containers" \
	    --rawfile b "$f.bases" --rawfile x "$f.inside" --args '
	    ($x | split("\u0000") | map(select(startswith("=")) | .[1:])) as $x |
	    {up: $up, remoteUid: ($x[0] // "?"),
	     containers: (if $proj == "" then {main: $c[0][0]}
	                  else $c[0] | map({key: .Config.Labels["com.docker.compose.service"], value: .}) | from_entries end),
	     baseImages: ($b | split("\n") | map(select(. != "") | split("\t") | {(.[0]): .[1]}) | add // {}),
	     inside: ([$ARGS.positional | to_entries[] | {(.value): ($x[.key + 1] // "(missing)")}] | add // {})}' \
	    "${paths[@]}" >"$f.json"
}

# The named volumes a tool's containers of CASE mounted (per workspace:
# rdevdiff-<devcontainerId>), removed so that each tool starts without them.
diff_remove_volumes() {
	jq -r '.containers[].Mounts[]? | select(.Type == "volume") | .Name' "$1" |
		grep -v -E '^[0-9a-f]{64}$' | while read -r v; do
		docker volume rm "$v" >/dev/null 2>&1 || true
	done
}

# diff_up TOOL CASE: run one tool's up of the case's workspace, record what
# it made, remove it.
diff_up() {
	local tool=$1 name=$2 ws=$WS/$P-$2 out=$OUT/$2.$1 up rc t0=$SECONDS outcome cid user
	local config=()
	# (a case's config.txt: its devcontainer.json, relative to the workspace)
	if [ -s "$ws/config.txt" ]; then
		config=(--config "$ws/$(cat "$ws/config.txt")")
	fi
	if [ "$tool" = ref ] && [ -n "$REFCACHE" ] && [ -s "$REFCACHE/$name.ref.json" ]; then
		sed -f "$OUT/fixture-in.sed" "$REFCACHE/$name.ref.json" >"$out.json"
		echo "  ref: its result kept by an earlier run of these cases on this dockerd"
		return 0
	fi
	if [ "$tool" = ref ]; then
		# Its temporary files (Compose overrides, build folders) in ROOT.
		# With Features, with an intermediate image of its own (lib.sh,
		# rig_reference_features).
		if grep -rqs '"features"' "$ws/.devcontainer" "$ws/.devcontainer.json"; then
			TMPDIR=$ROOT/reftmp rig_reference_features \
			    "$REF" up --workspace-folder "$ws" "${config[@]}" >"$out.out" 2>"$out.err"
		else
			TMPDIR=$ROOT/reftmp "$REF" up --workspace-folder "$ws" "${config[@]}" \
			    >"$out.out" 2>"$out.err"
		fi
	else
		"$RDEV" up "${config[@]}" "$ws" >"$out.out" 2>"$out.err"
	fi
	rc=$?
	echo "  $tool: up took $((SECONDS - t0)) s"
	up=$(tail -1 "$out.out")
	# (one jq for what diff_record needs too; the fields apart by a unit
	# separator, which IFS does not merge when a field is empty)
	IFS=$'\x1f' read -r outcome cid user < <(jq -r \
	    '[.outcome // "", .containerId // "", .remoteUser // "root"] | join("\u001f")' \
	    <<<"$up" 2>/dev/null) || true
	if [ $rc -ne 0 ] || [ "$outcome" != success ]; then
		echo "  $tool: up failed (exit $rc): $up"
		tail -15 "$out.err" | sed 's/^/    /'
		diff_cleanup_case "$ws"
		return 1
	fi
	diff_record "$tool" "$name" "$up" "$cid" "$user"
	rc=$?
	echo "  $tool: inspected after $((SECONDS - t0)) s"
	if [ $rc -eq 0 ] && [ "$tool" = ref ] && [ -n "$REFCACHE" ]; then
		sed -f "$OUT/fixture-out.sed" "$out.json" >"$out.kept" &&
			rig_ref_keep "$REFCACHE/$name.ref.json" <"$out.kept"
	fi
	diff_cleanup_case "$ws"
	[ -f "$out.json" ] && diff_remove_volumes "$out.json"
	echo "  $tool: removed after $((SECONDS - t0)) s"
	return $rc
}

# One case: the reference, then rdev, then the comparison. Prints the diff;
# the last line is compare.py's summary.
diff_case() {
	local name=$1
	diff_up ref "$name" || return 1
	diff_up rdev "$name" || return 1
	python3 "$diffdir/compare.py" "$name" "$OUT/$name.ref.json" "$OUT/$name.rdev.json" \
	    "$documented"
}

run_case() {
	diff_case "$1" >"$OUT/$1.log" 2>&1
	echo $? >"$OUT/$1.rc"
}

diff_cleanup_cases # (what a killed run of these cases left)
export -f run_case diff_case diff_up diff_record diff_cleanup_case diff_base_image \
    diff_remove_volumes rig_ref_keep
export WS P OUT REF RDEV diffdir documented TEST_TMP ROOT REFCACHE
# The longest cases first (xargs starts them in this order; the report below
# keeps the cases' order): a long case started last runs alone at the end.
# Roughly by what their ups build: a Compose project (docker-compose, a
# Python program, runs several times per up, slow to start on a loaded
# machine), a Dockerfile, each local Feature (its steps in the image).
case_weight() {
	local ws=$WS/$P-$1 w=0
	grep -rqs '"dockerComposeFile"' "$ws/.devcontainer" "$ws/.devcontainer.json" && w=$((w + 10))
	grep -rqsiE '"dockerfile"' "$ws/.devcontainer" "$ws/.devcontainer.json" && w=$((w + 5))
	w=$((w + $(find "$ws" -name devcontainer-feature.json | wc -l)))
	echo "$w"
}
for name in "${cases[@]}"; do
	printf '%s\t%s\n' "$(case_weight "$name")" "$name"
done | sort -s -t "$(printf '\t')" -k1,1nr | cut -f2 >"$OUT/case-order"
# (without the lock's fd: nothing the cases start keeps it)
xargs -P "${RDEV_DIFF_JOBS:-3}" -I{} bash -c 'run_case "$1"' _ {} {RIG_REF_LOCK_FD}>&- <"$OUT/case-order"

ncases=0 nfields=0 ndoc=0 failed=()
for name in "${cases[@]}"; do
	out=$OUT/$name
	ncases=$((ncases + 1))
	rc=$(cat "$out.rc" 2>/dev/null || echo 1)
	last=$(tail -1 "$out.log" 2>/dev/null || true)
	if [[ $last =~ ^fields\ ([0-9]+)\ documented\ ([0-9]+) ]]; then
		nfields=$((nfields + BASH_REMATCH[1]))
		ndoc=$((ndoc + BASH_REMATCH[2]))
	fi
	if [ "$rc" = 0 ]; then
		echo "ok   $name ($last)"
		grep '^  documented' "$out.log" || true
		CHECKS_PASSED=$((CHECKS_PASSED + 1))
	else
		echo "FAIL $name"
		grep -v '^fields ' "$out.log" || true
		failed+=("$name")
	fi
done
echo "$ncases cases, $nfields fields compared, $ndoc documented differences," \
    "${#failed[@]} failed; the reference's result of" \
    "$(grep -l '^  ref: its result kept' "$OUT"/*.log 2>/dev/null | wc -l) kept by an earlier run"
[ ${#failed[@]} -eq 0 ] || fail "cases that differ: ${failed[*]}"
min_cases=${RDEV_DIFF_MIN_CASES:-$([ -n "${RDEV_DIFF_CASES:-}" ] && echo 1 || echo 10)}
[ "$ncases" -ge "$min_cases" ] || fail "only $ncases cases (want $min_cases or more)"
leftover=$(docker ps -a --filter "label=devcontainer.local_folder" \
	--format '{{.Label "devcontainer.local_folder"}}' | grep -c "^$WS/" || true)
check_eq "no container of the cases is left" "$leftover" 0
finish
