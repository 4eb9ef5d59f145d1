#!/usr/bin/env bash
# up-markers.sh - rdev and the reference CLI (`devcontainer` 0.89.0, as VS
# Code) take over each other's container without running its once-per-
# container (onCreate, updateContent, postCreate) or once-per-start
# (postStart) lifecycle steps a second time: rdev honours the reference's
# markers (~/.devcontainer/.<step>Marker of the remote user) and writes them
# too. Each step appends its name to /tmp/order; remoteUser `dev`, whose
# home is /home/dev. One workspace, its container taken by the two in turn:
#   reference up whose postCreateCommand fails (it wrote its marker before
#   running it: done to both tools), then rdev up: only postStart and
#   postAttach run; a restart, rdev up: postStart runs again (a marker of an
#   earlier start is not this start's);
#   rdev up --recreate whose postCreateCommand fails: the reference's
#   markers of the two steps before it are written (as dev), its own not;
#   rdev up: postCreate is tried again (rdev's documented retry), then
#   reference up: only postAttach; a restart, reference up: postStart and
#   postAttach (it could rewrite the marker rdev wrote); rdev up: only
#   postAttach (the reference's marker of this start);
#   rdev up --recreate --skip-non-blocking-commands: postCreate, postStart
#   (and postAttach) run in the background, whose end writes the
#   reference's markers of them (rdev's values, as dev); reference up: only
#   postAttach.
# Fails without the fix: the second tool ran every step again.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
rig_require_reference
command -v jq >/dev/null || fail "jq is needed"

ws=$TEST_TMP/ws-markers
mkdir -p "$ws"
cat >"$ws/.devcontainer.json" <<JSON
{
  "image": "$RDEV_RIG_IMAGE_BOOKWORM_DEV",
  "remoteUser": "dev",
  "updateRemoteUserUID": false,
  "onCreateCommand": "echo onCreate >> /tmp/order",
  "updateContentCommand": "echo updateContent >> /tmp/order",
  "postCreateCommand": "echo postCreate >> /tmp/order; [ ! -e fail ]",
  "postStartCommand": "echo postStart >> /tmp/order",
  "postAttachCommand": "echo postAttach >> /tmp/order"
}
JSON
rig_test_containers "devcontainer.local_folder=$ws"

# ref_up: the reference's up of ws; its result's containerId on stdout
# (also when it failed), its status returned.
ref_up() {
	local s=0
	TMPDIR=$TEST_TMP "$REF" up --workspace-folder "$ws" >"$TEST_TMP/ref.out" \
		2>"$TEST_TMP/ref.err" || s=$?
	tail -n 1 "$TEST_TMP/ref.out" | jq -r .containerId
	return $s
}
cid() { docker ps -q --no-trunc --filter "label=devcontainer.local_folder=$ws"; }
order() { docker exec "$(cid)" cat /tmp/order | tr '\n' ' ' | sed 's/ $//'; }
create="onCreate updateContent postCreate"

# --- the reference first, then rdev --------------------------------------------
touch "$ws/fail"
if ref_up >/dev/null; then
	fail "reference up succeeded with a failing postCreateCommand"
fi
check_eq "reference up: ran the create steps up to the failing one" "$(order)" "$create"
rm "$ws/fail"
rdev up "$ws" >/dev/null 2>"$TEST_TMP/up1.err" || { cat "$TEST_TMP/up1.err" >&2; fail "rdev up failed"; }
check_eq "rdev up on the reference's container: no create step again (postCreate failed under the reference, which marked it done first)" \
	"$(order)" "$create postStart postAttach"
docker restart -t 0 "$(cid)" >/dev/null
rdev up "$ws" >/dev/null 2>&1 || fail "rdev up after a restart failed"
check_eq "rdev up after a restart: postStart again" \
	"$(order)" "$create postStart postAttach postStart postAttach"

# --- rdev first, then the reference --------------------------------------------
touch "$ws/fail"
if rdev up "$ws" --recreate >/dev/null 2>&1; then
	fail "rdev up --recreate succeeded with a failing postCreateCommand"
fi
check_eq "rdev up --recreate: ran the create steps up to the failing one" "$(order)" "$create"
check_eq "rdev wrote the reference's markers of the steps that succeeded, as dev" \
	"$(docker exec "$(cid)" sh -c 'cd /home/dev/.devcontainer && stat -c "%U %n" .[a-z]*Marker')" \
	"dev .onCreateCommandMarker
dev .updateContentCommandMarker"
check_eq "and they hold the container's Created time" \
	"$(docker exec "$(cid)" cat /home/dev/.devcontainer/.onCreateCommandMarker)" \
	"$(docker inspect -f '{{.Created}}' "$(cid)")"
rm "$ws/fail"
rdev up "$ws" >/dev/null 2>&1 || fail "rdev up after the failure failed"
check_eq "rdev up: the step that failed under rdev runs again" \
	"$(order)" "$create postCreate postStart postAttach"
ref_up >/dev/null || { cat "$TEST_TMP/ref.err" >&2; fail "reference up on rdev's container failed"; }
check_eq "reference up on rdev's container: only postAttach" \
	"$(order)" "$create postCreate postStart postAttach postAttach"
docker restart -t 0 "$(cid)" >/dev/null
ref_up >/dev/null || { cat "$TEST_TMP/ref.err" >&2; fail "reference up after a restart failed"; }
check_eq "reference up after a restart: postStart again (it rewrote rdev's marker)" \
	"$(order)" "$create postCreate postStart postAttach postAttach postStart postAttach"
rdev up "$ws" >/dev/null 2>&1 || fail "rdev up after the reference's failed"
check_eq "rdev up: not postStart of the start the reference ran it for" \
	"$(order)" "$create postCreate postStart postAttach postAttach postStart postAttach postAttach"

# --- rdev's background steps, then the reference ---------------------------------
rdev up "$ws" --recreate --skip-non-blocking-commands >/dev/null 2>"$TEST_TMP/bg.err" ||
	{ cat "$TEST_TMP/bg.err" >&2; fail "rdev up --recreate --skip-non-blocking-commands failed"; }
rdev logs -f "$ws" >/dev/null 2>"$TEST_TMP/bg-logs.err" ||
	{ cat "$TEST_TMP/bg-logs.err" >&2; fail "the background steps failed"; }
check "rdev up --skip-non-blocking-commands: postCreate and postStart left to the background" \
	grep -q "continue in the background.*postCreateCommand, postStartCommand" "$TEST_TMP/bg.err"
check_eq "and they ran there (postAttach too)" "$(order)" "$create postStart postAttach"
created=$(docker inspect -f '{{.Created}}' "$(cid)")
started=$(docker inspect -f '{{.State.StartedAt}}' "$(cid)")
check_eq "the background run wrote the reference's markers of its steps, as dev, with rdev's values" \
	"$(docker exec "$(cid)" sh -c 'cd /home/dev/.devcontainer && for m in .[a-z]*Marker; do echo "$(stat -c %U "$m") $m $(cat "$m")"; done')" \
	"dev .onCreateCommandMarker $created
dev .postCreateCommandMarker $created
dev .postStartCommandMarker $started
dev .updateContentCommandMarker $created"
ref_up >/dev/null || { cat "$TEST_TMP/ref.err" >&2; fail "reference up after rdev's background steps failed"; }
check_eq "reference up after rdev's background steps: only postAttach" \
	"$(order)" "$create postStart postAttach postAttach"
finish
