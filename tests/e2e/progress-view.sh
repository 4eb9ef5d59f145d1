#!/usr/bin/env bash
# progress-view.sh - on a terminal, `rdev up` and `rdev build` show long work
# as one updating line with the elapsed time (agent/progress-view.h), run
# through a real pty (tests/e2e/pty_drive.py):
#   - each phase (container creation, a build, each lifecycle step) is one
#     "[ N.Ns] LABEL | LAST OUTPUT LINE" line redrawn in place, ticking while
#     the step prints nothing, then one "[done N.Ns] LABEL" line that stays;
#     a step's output is not printed on its own lines;
#   - a failing step prints its whole output, then "[FAILED N.Ns] LABEL",
#     then the error; exit 1;
#   - warnings are printed as they come;
#   - plain lines as before when stderr is not a terminal, with -v, with
#     RDEV_PROGRESS=plain, with TERM=dumb; without terminal escapes (a
#     build's colours) unless stderr is a terminal that shows them;
#   - the same for a remote target (events through the broker).
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker

drive=$RDEV_SOURCE_DIR/tests/e2e/pty_drive.py
W=$TEST_TMP/ws
mkdir -p "$W/ok/.devcontainer" "$W/bad/.devcontainer" "$W/img/.devcontainer" \
	"$W/pari/.devcontainer" "$W/parc/.devcontainer"
cat >"$W/ok/.devcontainer/devcontainer.json" <<EOF
{"image": "$RDEV_RIG_IMAGE_BUSYBOX", "updateRemoteUserUID": false,
 "shutdownAction": "stopContainer",
 "onCreateCommand": "sleep \$(cat nap 2>/dev/null || echo 2)",
 "postCreateCommand": "for i in 1 2 3; do echo step-\$i; sleep 0.3; done"}
EOF
# (the silent step sleeps 2 s where its ticks are counted, the first up;
# the later ups check other things and skip the wait: their workspace's
# file "nap", read in the workspace folder, says 0)
cat >"$W/bad/.devcontainer/devcontainer.json" <<EOF
{"image": "$RDEV_RIG_IMAGE_BUSYBOX", "updateRemoteUserUID": false,
 "postCreateCommand": "echo first-words; echo last-words >&2; exit 3"}
EOF
for d in pari:initializeCommand parc:postCreateCommand; do
	cat >"$W/${d%%:*}/.devcontainer/devcontainer.json" <<EOF
{"image": "$RDEV_RIG_IMAGE_BUSYBOX", "updateRemoteUserUID": false,
 "${d#*:}": {"a": "sh -c 'sleep 0.2; exit 3'", "a] \`b": "sleep 2"}}
EOF
done
printf 'FROM %s\nRUN echo built-$RANDOM-in-step\n' "$RDEV_RIG_IMAGE_BUSYBOX" >"$W/img/.devcontainer/Dockerfile"
# (a step whose output is coloured, as npm's or cargo's)
echo "RUN printf '\\033[31mred-in-build\\033[0m\\n'" >>"$W/img/.devcontainer/Dockerfile"
echo '{"build": {"dockerfile": "Dockerfile"}}' >"$W/img/.devcontainer/devcontainer.json"
trap 'rc=$?; set +e; for d in ok bad img pari parc; do docker ps -aq --filter "label=devcontainer.local_folder=$W/$d" | xargs -r docker rm -f >/dev/null; done; (exit $rc); rig_test_cleanup' EXIT

# on_pty LOG ARGS...: rdev ARGS on a terminal, its output (stdout and stderr)
# in LOG with escapes kept, each \r a line break. Prints rdev's exit status.
on_pty() {
	local log=$1 rc=0
	shift
	python3 "$drive" --cols 200 --timeout 120 --term xterm --log "$log.raw" \
		--step expect-eof -- "$RDEV_BIN_DIR/rdev" "$@" >/dev/null 2>&1 || rc=$?
	# (pty_drive's own exit status is rdev's without an exitstatus step)
	tr '\r' '\n' <"$log.raw" | sed 's/\x1b\[K//g' >"$log"
	echo "$rc"
}
has() { grep -qE -- "$2" "$1"; }
hasnt() { ! grep -qE -- "$2" "$1"; }

# --- success ---------------------------------------------------------------------
check_eq "up on a terminal succeeds" "$(on_pty "$TEST_TMP/ok" up "$W/ok")" 0
check "the container phase is a line that stays" has "$TEST_TMP/ok" '^\[done [0-9]+\.[0-9]s\] Creating container from '
check "a step is shown with its elapsed time and last output line" \
	has "$TEST_TMP/ok" '^\[ *[0-9]+\.[0-9]s\] Running the postCreateCommand: .* \| step-2$'
check "... and ends as one line that stays" \
	has "$TEST_TMP/ok" '^\[done [0-9]+\.[0-9]s\] Running the postCreateCommand: '
check "its output is not printed on lines of its own" hasnt "$TEST_TMP/ok" '^step-[123]$'
ticks=$(grep -oE '^\[ *[0-9]+\.[0-9]s\] Running the onCreateCommand' "$TEST_TMP/ok" | sort -u | wc -l)
check "a silent step's time ticks (${ticks} different times in 2 s)" test "$ticks" -ge 5
check "a warning is printed as it comes" has "$TEST_TMP/ok" '^warning: .*shutdownAction'
check "the JSON result is on its own line" has "$TEST_TMP/ok" '^\{"outcome":"success"'

# --- failure -------------------------------------------------------------------------
check_eq "a failing step: exit 1" "$(on_pty "$TEST_TMP/bad" up "$W/bad")" 1
check "its whole output is printed" \
	sh -c 'grep -qx first-words "$1" && grep -qx last-words "$1"' _ "$TEST_TMP/bad"
check "... before the FAILED line" sh -c '
	o=$(grep -nx last-words "$1" | cut -d: -f1); f=$(grep -n "^\[FAILED " "$1" | cut -d: -f1)
	[ -n "$o" ] && [ -n "$f" ] && [ "$o" -lt "$f" ]' _ "$TEST_TMP/bad"
check "then the error" has "$TEST_TMP/bad" '^rdev: up: postCreateCommand failed: .*status 3'

# a group whose first command fails while the other runs on (the other's
# key, "a] `b", shown as "[a] `b] `sleep 2`", does not read back as "a": the
# view keeps each command's key beside its text)
for d in pari:initializeCommand parc:postCreateCommand; do
	step=${d#*:} d=${d%%:*}
	check_eq "$step group, its [a] failing: exit 1" "$(on_pty "$TEST_TMP/$d" up "$W/$d")" 1
	check "... the FAILED line names [a]" grep -qxE \
		"\[FAILED [0-9]+\.[0-9]s\] Running the $step: \[a\] \`sh -c 'sleep 0.2; exit 3'\`" "$TEST_TMP/$d"
	check "... and is the only one" sh -c '[ "$(grep -c "^\[FAILED " "$1")" = 1 ]' _ "$TEST_TMP/$d"
	check "... once the group ended" grep -qE '^\[FAILED ([2-9]|1\.[5-9])' "$TEST_TMP/$d"
	check "... no command of it shown done" hasnt "$TEST_TMP/$d" "^\[done .*$step"
	check "then the error" has "$TEST_TMP/$d" "^rdev: up: $step failed: \[a\] .*status 3"
done

# --- build ----------------------------------------------------------------------------
check_eq "build on a terminal succeeds" "$(on_pty "$TEST_TMP/img" build "$W/img" --no-cache)" 0
check "the image build is one phase" has "$TEST_TMP/img" '^\[done [0-9]+\.[0-9]s\] Building image '
check "the build's output is not printed on lines of its own" hasnt "$TEST_TMP/img" '^built-[0-9]+-in-step$'

# --- plain lines --------------------------------------------------------------------
echo 0 >"$W/ok/nap"
docker ps -aq --filter "label=devcontainer.local_folder=$W/ok" | xargs -r docker rm -f >/dev/null
rdev up "$W/ok" >/dev/null 2>"$TEST_TMP/plain.err" || fail "up (stderr a file) failed"
check "stderr not a terminal: the output on its own lines" grep -qx step-2 "$TEST_TMP/plain.err"
check "... and no updating line" hasnt "$TEST_TMP/plain.err" '^\[ *[0-9.]+s\]'
# a build's colour escapes go to a terminal that shows them, not to a file
# (nor to TERM=dumb); --log-format json keeps them, JSON-escaped, as the
# reference's raw lines do
esc=$(printf '\033')
rdev build "$W/img" --no-cache >/dev/null 2>"$TEST_TMP/build.err" || fail "build (stderr a file) failed"
check "stderr not a terminal: a build's output without its escapes" \
	sh -c 'grep -q "^.*red-in-build" "$1" && ! grep -qF "$2" "$1"' _ "$TEST_TMP/build.err" "$esc"
rdev build "$W/img" --no-cache --log-format json >/dev/null 2>"$TEST_TMP/build.json" ||
	fail "build --log-format json failed"
check "... --log-format json keeps them, as JSON escapes" \
	grep -qF '\u001b[31mred-in-build' "$TEST_TMP/build.json"
on_pty "$TEST_TMP/bv" -v build "$W/img" --no-cache >/dev/null
check "... -v on a terminal keeps them" grep -qF "${esc}[31mred-in-build" "$TEST_TMP/bv"
env TERM=dumb python3 "$drive" --cols 200 --timeout 120 --term dumb --log "$TEST_TMP/bd" \
	--step expect-eof -- "$RDEV_BIN_DIR/rdev" build "$W/img" --no-cache >/dev/null 2>&1 || true
check "... TERM=dumb on a terminal does not" \
	sh -c 'grep -q "red-in-build" "$1" && ! grep -qF "$2" "$1"' _ "$TEST_TMP/bd" "$esc"
for how in "-v" "RDEV_PROGRESS=plain" "TERM=dumb"; do
	docker ps -aq --filter "label=devcontainer.local_folder=$W/ok" | xargs -r docker rm -f >/dev/null
	case $how in
	-v) on_pty "$TEST_TMP/p" -v up "$W/ok" >/dev/null ;;
	*) env "$how" python3 "$drive" --cols 200 --timeout 120 --term "${how#TERM=}" \
		--log "$TEST_TMP/p.raw" --step expect-eof -- "$RDEV_BIN_DIR/rdev" up "$W/ok" \
		>/dev/null 2>&1 || true
		tr '\r' '\n' <"$TEST_TMP/p.raw" >"$TEST_TMP/p" ;;
	esac
	check "$how on a terminal: plain lines" sh -c 'grep -qx step-2 "$1" && ! grep -qE "^\[done " "$1"' _ "$TEST_TMP/p"
done

# --- remote -------------------------------------------------------------------------
rig_remote_host pv
trap 'rig_remote_cleanup ws; for d in ok bad img pari parc; do docker ps -aq --filter "label=devcontainer.local_folder=$W/$d" | xargs -r docker rm -f >/dev/null; done' EXIT
on_host "mkdir -p ~/ws && echo 0 > ~/ws/nap && cat > ~/ws/.devcontainer.json" <"$W/ok/.devcontainer/devcontainer.json"
check_eq "remote up on a terminal succeeds" \
	"$(on_pty "$TEST_TMP/r" up "$name:~/ws" --accept-new-host-key)" 0
check "remote: a step is one updating line, then one that stays" sh -c '
	grep -qE "^\[ *[0-9]+\.[0-9]s\] Running the postCreateCommand: .* \| step-2$" "$1" &&
	grep -qE "^\[done [0-9]+\.[0-9]s\] Running the postCreateCommand: " "$1" &&
	! grep -qx step-2 "$1"' _ "$TEST_TMP/r"
finish
