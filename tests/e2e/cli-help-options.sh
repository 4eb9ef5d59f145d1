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
cmds=(up build upgrade exec shell status logs stop down read-configuration run-user-commands ls ssh-config)
others=(forward "hosts add" "hosts rm" "hosts ls" doctor sync)
declare -A help list
for c in "${cmds[@]}"; do
	help[$c]=$("$RDEV_BIN_DIR/rdev" "$c" --help)
	list[$c]="$opts -f"
	if [ $lite = 1 ]; then
		# the options --help names, then the first and the last it does not
		list[$c]= unnamed=()
		for o in $opts -f; do
			if [[ ${help[$c]} =~ (^|[^a-z-])$o([^a-z-]|$) ]]; then
				list[$c]+=" $o"
			else
				unnamed+=("$o")
			fi
		done
		list[$c]+=" ${unnamed[0]} ${unnamed[${#unnamed[@]} - 1]}"
	fi
done
declare -A offers
for c in "${others[@]}"; do
	read -ra words <<<"$c"
	offers[$c]=$("$RDEV_BIN_DIR/rdev" help --complete "$((${#words[@]} + 1))" rdev "${words[@]}" --)
done
# The runs, each form of an option a batch of its own (tests/e2e/run_batch.py:
# one process spawns them one after another): the second form is tried only
# where the first says what the loops below go on from. Each result is kept
# under its command and form; the loops read them in the order they would
# have run them.
declare -A rc_of err_of
T=$'\t' # (a key: the command, a tab, the form)
runs=0
unknown_main() { # C O RC ERR: the command does not take O (the loops' test)
	local unknown_re="unknown option $2(=| |:|$|"$'\n'")|(^|"$'\n'")rdev: ls: 'x' is not a remote target"
	[ "$3" -eq 2 ] && [[ $4 =~ $unknown_re ]]
}
unknown_other() { # C O RC ERR
	[[ $4 =~ unknown\ option\ $2(=|\ |:|$) ]]
}
main_args() { # C FORM: the words of its run, tab-separated
	local a=("$1") IFS=$T
	[ "$1" = ls ] || a+=("$TEST_TMP/nowhere")
	a+=("$2")
	[ "$1" = exec ] && a+=(-- true)
	echo "$RDEV_BIN_DIR/rdev$T${a[*]}"
}
other_args() { # C FORM
	local a IFS=" "
	read -ra a <<<"$1"
	[ "$1" = forward ] && a+=("$TEST_TMP/nowhere")
	a+=("$2" --zz-none)
	IFS=$T
	echo "$RDEV_BIN_DIR/rdev$T${a[*]}"
}
batch() { # KIND ENV...: runs the KEYS' commands (KIND main or other), keeps the results
	local kind=$1 i=0 rec
	shift
	for k in "${keys[@]}"; do "${kind}_args" "${k%%$T*}" "${k#*$T}"; done >"$TEST_TMP/batch"
	while IFS= read -r -d '' rec; do
		rc_of[$kind ${keys[$i]}]=${rec%%$'\n'*}
		err_of[$kind ${keys[$i]}]=${rec#*$'\n'}
		i=$((i + 1))
	done < <(cd "$TEST_TMP" && python3 "$RDEV_SOURCE_DIR/tests/e2e/run_batch.py" \
		--env RDEV_RUNTIME_DIR="$TEST_TMP/rt" "$@" <"$TEST_TMP/batch")
	check_eq "a result for each of the batch's $kind runs" "$i" "${#keys[@]}"
	runs=$((runs + i))
}
result() { # KIND C FORM: sets rc and err, or fails when the batch did not run it
	[ -n "${rc_of[$1 $2$T$3]+set}" ] || fail "cli-help-options: no run of $2 $3 was made"
	rc=${rc_of[$1 $2$T$3]} err=${err_of[$1 $2$T$3]}
}
keys=()
for c in "${cmds[@]}"; do for o in ${list[$c]}; do keys+=("$c$T$o"); done; done
batch main
keys=()
for c in "${cmds[@]}"; do
	for o in ${list[$c]}; do
		result main "$c" "$o"
		if unknown_main "$c" "$o" "$rc" "$err" ||
			{ [ $lite = 1 ] && [[ ${help[$c]} =~ (^|[^a-z-])$o([^a-z-]|$) ]]; }; then
			keys+=("$c$T$o=x")
		fi
	done
done
batch main
keys=()
for c in "${others[@]}"; do for o in ${offers[$c]}; do keys+=("$c$T$o"); done; done
batch other --env XDG_CONFIG_HOME="$TEST_TMP/xdg"
keys=()
for c in "${others[@]}"; do
	for o in ${offers[$c]}; do
		result other "$c" "$o"
		unknown_other "$c" "$o" "$rc" "$err" && keys+=("$c$T$o=x")
	done
done
batch other --env XDG_CONFIG_HOME="$TEST_TMP/xdg"

missing= crashed= offered=
for c in "${cmds[@]}"; do
	taken=" --help "
	for o in ${list[$c]}; do
		named_re="(^|[^a-z-])$o([^a-z-]|$)"
		for form in "$o" "$o=x"; do
			result main "$c" "$form"
			# (a report of ASan, LeakSanitizer or UBSan; abort_on_error=1)
			if [ "$rc" -ge 128 ] || [[ $err == *Sanitizer* ]] ||
				[[ $err == *"runtime error:"* ]]; then
				crashed+="$c $form: exit $rc: ${err%%$'\n'*}"$'\n'
			fi
			# not taken: "unknown option" (ls: --workspace-folder's x
			# taken for a TARGET ls refuses, "'x' is not a remote
			# target")
			unknown_main "$c" "$o" "$rc" "$err" && continue
			taken+="$o "
			[[ ${help[$c]} =~ $named_re ]] ||
				missing+="$c $o ($form: exit $rc: ${err%%$'\n'*})"$'\n'
			# (under ASan both forms of an option --help names)
			[ $lite = 1 ] && [[ ${help[$c]} =~ $named_re ]] && continue
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
for c in "${others[@]}"; do
	for o in ${offers[$c]}; do
		for form in "$o" "$o=x"; do
			result other "$c" "$form"
			[ "$rc" -lt 128 ] || crashed+="$c $form: exit $rc: ${err%%$'\n'*}"$'\n'
			unknown_other "$c" "$o" "$rc" "$err" || continue 2
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
