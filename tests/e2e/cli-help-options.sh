#!/usr/bin/env bash
# cli-help-options.sh - every option a workspace command accepts is listed
# in its --help. Each option any of rdev's sources names is tried on each
# command (alone and as OPTION=x: the client takes some only with a value)
# with a folder that does not exist: a command that does not take it says
# "unknown option" (exit 2) to both; one that takes it says anything else
# to either (fails on the folder, or says the option needs a value, another
# option or another TARGET: `--host is for @POOL targets`), and then its
# --help must name it. No run may end by a signal or a sanitizer's report.
#
# Each option `rdev help --complete` (bash and zsh completion) offers a command
# is one it takes: not "unknown option" in either form (forward, hosts'
# subcommands, doctor and sync: with an unknown option after it, so that
# nothing runs). Fails without the fix: completion took every option the
# --help prose names (`rdev forward --auto` in up's, the reference's options
# run-user-commands refuses), and `rdev hosts <TAB>` offered targets.
#
# Under ASan (RDEV_SANITIZE=1) only the runs that can differ are made: each
# option a command's --help names, in both forms (the parser's code for it),
# and two it does not name, in both forms (a command's unknown-option path is
# the same for every option: its strcmp chain, then the usage error). The
# whole matrix, some 1,400 runs of rdev, is the normal build's: under ASan each
# run costs about 23 ms of CPU (its start and the leak check), 56 s of the ASan
# phase; what a command takes does not depend on the build.
. "$(dirname "$0")/../rig/lib.sh"

src=$(cd "$(dirname "$0")/../.." && pwd)
opts=$(grep -ohE '"--[a-z][a-z0-9-]*' "$src"/client/*.c "$src"/client/*.h \
	"$src"/agent/cmd-*.c "$src"/agent/agent-cmds.h | tr -d '"' | sort -u)
check "the sources name options" test "$(wc -w <<<"$opts")" -gt 20
mkdir -p -m 700 "$TEST_TMP/rt"
lite=0
[ "${RDEV_SANITIZE:-0}" != 1 ] || lite=1
missing= crashed= runs=0 offered=
for c in up build upgrade exec shell status logs stop down read-configuration run-user-commands ls ssh-config; do
	help=$("$RDEV_BIN_DIR/rdev" "$c" --help)
	taken=" --help "
	list="$opts -f"
	if [ $lite = 1 ]; then
		# the options --help names, then the first and the last it does not
		list= unnamed=()
		for o in $opts -f; do
			if [[ $help =~ (^|[^a-z-])$o([^a-z-]|$) ]]; then
				list+=" $o"
			else
				unnamed+=("$o")
			fi
		done
		list+=" ${unnamed[0]} ${unnamed[${#unnamed[@]} - 1]}"
	fi
	for o in $list; do
		# (grep -E's patterns, one line each; here on the whole text, so
		# a line's start or end is also a newline)
		unknown_re="unknown option $o(=| |$|"$'\n'")|(^|"$'\n'")rdev: ls: 'x' is not a remote target"
		named_re="(^|[^a-z-])$o([^a-z-]|$)"
		for form in "$o" "$o=x"; do
			args=("$c")
			[ "$c" = ls ] || args+=("$TEST_TMP/nowhere")
			args+=("$form")
			[ "$c" = exec ] && args+=(-- true)
			# (no fork but timeout's and rdev's: the subshell becomes
			# timeout, the matches are bash's own)
			set +e
			err=$(cd "$TEST_TMP" && RDEV_RUNTIME_DIR=$TEST_TMP/rt exec timeout 20 \
				"$RDEV_BIN_DIR/rdev" "${args[@]}" 2>&1 >/dev/null </dev/null)
			rc=$?
			set -e
			runs=$((runs + 1))
			# (a report of ASan, LeakSanitizer or UBSan; abort_on_error=1)
			if [ "$rc" -ge 128 ] || [[ $err == *Sanitizer* ]] ||
				[[ $err == *"runtime error:"* ]]; then
				crashed+="$c $form: exit $rc: ${err%%$'\n'*}"$'\n'
			fi
			# not taken: "unknown option" (ls: --workspace-folder's x
			# taken for a TARGET ls refuses, "'x' is not a remote
			# target")
			[ "$rc" -eq 2 ] && [[ $err =~ $unknown_re ]] && continue
			taken+="$o "
			[[ $help =~ $named_re ]] ||
				missing+="$c $o ($form: exit $rc: ${err%%$'\n'*})"$'\n'
			# (under ASan both forms of an option --help names)
			[ $lite = 1 ] && [[ $help =~ $named_re ]] && continue
			break
		done
	done
	# (each option completion offers is named by --help: tried above,
	# under ASan too)
	for o in $("$RDEV_BIN_DIR/rdev" help --complete 2 rdev "$c" --); do
		[[ $taken == *" $o "* ]] || offered+="$c $o"$'\n'
	done
done
# The commands of other forms: the option, then one no command takes.
for c in forward "hosts add" "hosts rm" "hosts ls" doctor sync; do
	read -ra words <<<"$c"
	for o in $("$RDEV_BIN_DIR/rdev" help --complete "$((${#words[@]} + 1))" rdev "${words[@]}" --); do
		args=("${words[@]}")
		[ "$c" = forward ] && args+=("$TEST_TMP/nowhere")
		for form in "$o" "$o=x"; do
			set +e
			err=$(cd "$TEST_TMP" && RDEV_RUNTIME_DIR=$TEST_TMP/rt \
				XDG_CONFIG_HOME=$TEST_TMP/xdg exec timeout 20 \
				"$RDEV_BIN_DIR/rdev" "${args[@]}" "$form" --zz-none 2>&1 >/dev/null </dev/null)
			rc=$?
			set -e
			runs=$((runs + 1))
			[ "$rc" -lt 128 ] || crashed+="$c $form: exit $rc: ${err%%$'\n'*}"$'\n'
			[[ $err =~ unknown\ option\ $o(=|\ |$) ]] || continue 2
		done
		offered+="$c $o"$'\n'
	done
done
check_eq "each option completion offers is taken" "$offered" ""
check_eq "rdev hosts <TAB>: its subcommands alone" \
	"$("$RDEV_BIN_DIR/rdev" help --complete 2 rdev hosts "" | tr '\n' ' ')" "add rm ls "
set +e
err=$("$RDEV_BIN_DIR/rdev" forward --stop 2>&1)
rc=$?
set -e
check_eq "rdev forward --stop: exit 2 ..." "$rc" 2
check_eq "... saying what it needs" "${err%% (*}" "rdev forward: --stop needs a PORT"
echo "($runs runs of rdev$([ $lite = 0 ] || echo ": under ASan, the listed options and two others a command"))"
check_eq "each command's --help lists every option it takes" "$missing" ""
check_eq "no run ended by a signal or a sanitizer's report" "$crashed" ""
check_eq "... and no broker was started for them" "$(ls -A "$TEST_TMP/rt")" ""
finish
