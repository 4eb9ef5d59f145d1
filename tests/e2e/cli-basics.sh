#!/usr/bin/env bash
# cli-basics.sh - every program has --help, --version, and exit codes scripts
# can trust (unknown command: 2 with a one-line error; not built yet: 69).
. "$(dirname "$0")/../rig/lib.sh"

# rdev_rc ARGS...: rdev with ARGS; what it printed on stderr in $err, its
# exit status in $rc.
rdev_rc() {
	set +e
	err=$("$RDEV_BIN_DIR/rdev" "$@" 2>&1 >/dev/null)
	rc=$?
	set -e
}

for prog in rdev rdev-agent rdev-broker; do
	bin=$RDEV_BIN_DIR/$prog
	check "$prog --help prints usage" sh -c "'$bin' --help | grep -q '^usage: $prog'"
	check "$prog --version" sh -c "'$bin' --version | grep -q '^$prog [0-9]'"
	set +e
	err=$("$bin" no-such-command 2>&1 >/dev/null)
	rc=$?
	set -e
	check_eq "$prog unknown command exits 2" "$rc" 2
	check_eq "$prog unknown command error is one line" "$(printf '%s\n' "$err" | wc -l)" 1
	check "$prog unknown command names it" sh -c "printf '%s' '$err' | grep -q no-such-command"
done
# The manual: every exit status of docs/CLI.md's table, and SEE ALSO names the
# other programs, not this one.
man=$("$RDEV_BIN_DIR/rdev" help --man)
for code in 0 1 2 69 125 126 127 141 "0, 1, 2"; do
	check "rdev(1) EXIT STATUS: $code" grep -qxF ".B $code" <<<"${man#*.SH EXIT STATUS}"
done
check_eq "rdev(1) SEE ALSO: the other programs" \
	"$(sed -n '/^\.SH SEE ALSO/,$p' <<<"$man" | grep -c '^\.BR rdev (1)')" 0
check "rdev exec --help: 126 and 127 as a shell's" \
	sh -c "'$RDEV_BIN_DIR/rdev' exec --help | tr '\n' ' ' | grep -q '126 when it is not executable, 127 when it is not found'"
# Each command answers --help (exit 0) with its usage line.
for c in $("$RDEV_BIN_DIR/rdev" --help | awk '/^commands:/{on=1;next} /^$/{on=0} on{print $1}'); do
	check "rdev $c --help" sh -c "'$RDEV_BIN_DIR/rdev' $c --help | grep -q '^usage: rdev $c'"
done
# A command that is not built yet says so and exits 69, never pretends to work.
for c in $("$RDEV_BIN_DIR/rdev" --help | awk '/not available yet/{print $1}'); do
	rdev_rc "$c" somewhere
	check_eq "rdev $c (not built yet) exits 69" "$rc" 69
	check "rdev $c says it is not available" sh -c "printf '%s' '$err' | grep -q 'not available'"
done
# `rdev ls HOST` (the colon forgotten): a usage error that names the fix.
rdev_rc ls buildbox
check_eq "rdev ls buildbox exits 2" "$rc" 2
check "rdev ls buildbox says to type buildbox:" sh -c "printf '%s' \"\$1\" | grep -q \"'buildbox:'\"" _ "$err"
# A folder there (`rdev ls ./app`) is no host: no './app:' to type.
rdev_rc ls ./app
check_eq "rdev ls ./app exits 2" "$rc" 2
check "... and suggests no './app:' ($err)" sh -c "! printf '%s' \"\$1\" | grep -q \"app:'\"" _ "$err"
# `rdev ls` where this machine's Docker cannot be reached (none here, or not
# the user's): it fails, and points at a host's listing.
DOCKER_HOST=unix://$TEST_TMP/no-docker.sock rdev_rc ls
check_eq "rdev ls without a Docker here exits 1" "$rc" 1
check "... and says how to list a host's ($err)" sh -c "printf '%s' \"\$1\" | grep -qF 'rdev ls HOST:'" _ "$err"
# A usage error of `rdev ls` (an option it does not take) lists nothing:
# not the saved forwards either, and starts no broker for them.
mkdir -p -m 700 "$TEST_TMP/rt-fw"
printf '%s\n' '{"version":1,"hosts":[{"host":"nosuchhost.invalid","forwards":[{"workspace":"/w","port":8080,"local":18080}],"autos":[]}]}' >"$TEST_TMP/rt-fw/state.json"
set +e
out=$(RDEV_RUNTIME_DIR=$TEST_TMP/rt-fw DOCKER_HOST=unix://$TEST_TMP/no-docker.sock \
	"$RDEV_BIN_DIR/rdev" ls --no-such-option 2>/dev/null)
rc=$?
set -e
RDEV_RUNTIME_DIR=$TEST_TMP/rt-fw "$RDEV_BIN_DIR/rdev-broker" stop >/dev/null 2>&1 || true
check_eq "rdev ls --no-such-option exits 2" "$rc" 2
check_eq "... and prints no forwards" "$out" ""
# `rdev hosts add POOL HOST` (the pool given as a word): a usage error that
# names the command once and says how a pool is given.
rdev_rc hosts add default buildbox
check_eq "rdev hosts add default buildbox exits 2" "$rc" 2
check_eq "rdev hosts add default buildbox: the error" "$err" \
	"rdev hosts: add: unexpected argument 'buildbox' (one HOST; the pool is --pool NAME) (see \`rdev hosts --help\`)"
# Usage errors name the command and point at its help; errors name the
# command the user typed (shell runs as exec does, but is not "exec").
for args in "sync --frobnicate" "sync --stop --watch" "sync"; do
	rdev_rc $args
	check_eq "rdev $args exits 2" "$rc" 2
	check_eq "rdev $args: usage error form" \
	    "$(printf '%s\n' "$err" | grep -c '^rdev sync: .* (see `rdev sync --help`)$')" 1
done
# A flag that only qualifies another is refused alone, not ignored.
for args in "--dotfiles-install-command x.sh" "--dotfiles-target-path /tmp/d"; do
	rdev_rc up "$TEST_TMP/nowhere" $args
	check_eq "rdev up $args (no --dotfiles-repository) exits 2" "$rc" 2
	check_eq "rdev up $args: says what it needs" "$err" \
	    "rdev up: ${args%% *} needs --dotfiles-repository (see \`rdev up --help\`)"
done
# An empty workspace ("$WS" of a script whose WS is unset) is a usage
# error for every command that takes one, never the current folder's
# container (exec ran there, forward forwarded its ports).
mkdir -p "$TEST_TMP/cwd/.devcontainer"
echo '{"image": "x"}' >"$TEST_TMP/cwd/.devcontainer/devcontainer.json"
for args in "up ''" "up --workspace-folder ''" "exec '' -- true" "status ''" \
	"stop ''" "down ''" "logs ''" "read-configuration ''" "build ''" \
	"forward '' 3000" "ssh-config ''" "upgrade ''"; do
	set +e
	err=$(cd "$TEST_TMP/cwd" && eval "'$RDEV_BIN_DIR/rdev' $args" 2>&1 >/dev/null)
	rc=$?
	set -e
	check_eq "rdev $args exits 2" "$rc" 2
	check "rdev $args says the workspace is empty" \
		sh -c "printf '%s' '$err' | grep -q 'the workspace is empty'"
done
# An empty path option (a script's unset "$CFG") is a usage error naming
# the option, never the current folder ("Is a directory"). OPTION|ARGS:
for c in "--config|up . --config ''" "--config|up . --config=" \
	"--override-config|up . --override-config ''" \
	"--secrets-file|up . --secrets-file ''" \
	"--dotfiles-repository|up . --dotfiles-repository ''" \
	"--dotfiles-install-command|up . --dotfiles-repository x --dotfiles-install-command ''" \
	"--dotfiles-target-path|up . --dotfiles-repository x --dotfiles-target-path ''" \
	"--config|exec . --config '' -- true" "--secrets-file|exec . --secrets-file '' -- true" \
	"--config|shell . --config ''" "--config|status . --config ''" \
	"--config|stop . --config ''" "--config|down . --config ''" \
	"--config|logs . --config ''" "--config|upgrade . --config ''" \
	"--config|read-configuration . --config ''" "--config|read-configuration . --config=" \
	"--override-config|read-configuration . --override-config ''" \
	"--config|forward . --config '' 3000" "--config|ssh-config . --config ''"; do
	opt=${c%%|*} args=${c#*|}
	set +e
	err=$(cd "$TEST_TMP/cwd" && eval "'$RDEV_BIN_DIR/rdev' $args" 2>&1 >/dev/null)
	rc=$?
	set -e
	check_eq "rdev $args exits 2" "$rc" 2
	check_eq "rdev $args names $opt as empty" "$err" \
		"rdev ${args%% *}: $opt is empty (\"\"): name a $(case $opt in
			--dotfiles-repository) echo repository ;; --dotfiles-target-path) echo folder ;;
			*) echo file ;; esac) (see \`rdev ${args%% *} --help\`)"
done
# --json (no progress) with --log-format json (JSON progress): one is
# not honoured, so neither is taken.
set +e
"$RDEV_BIN_DIR/rdev" up "$TEST_TMP/nowhere" --json --log-format json >/dev/null 2>&1
rc=$?
set -e
check_eq "rdev up --json --log-format json exits 2" "$rc" 2
# A deprecated flag's warning is a progress line like the others: a JSON
# one with --log-format json (given after it too), held by -q and shown
# with the error.
set +e
"$RDEV_BIN_DIR/rdev-agent" up --experimental-lockfile --log-format json \
	--workspace-folder "$TEST_TMP/nowhere" 2>"$TEST_TMP/lock.err" >/dev/null
"$RDEV_BIN_DIR/rdev-agent" -q up --experimental-lockfile \
	--workspace-folder "$TEST_TMP/nowhere" 2>"$TEST_TMP/lockq.err" >/dev/null
set -e
check "--experimental-lockfile --log-format json: the warning as a JSON line" \
	sh -c "jq -r .text '$TEST_TMP/lock.err' | grep -qx 'Warning: --experimental-lockfile is deprecated. Lockfiles are now enabled by default.'"
check "-q: the warning held, shown before the error" sh -c \
	"head -1 '$TEST_TMP/lockq.err' | grep -q '^Warning: --experimental-lockfile is deprecated' &&
	tail -1 '$TEST_TMP/lockq.err' | grep -q '^rdev-agent: up: '"
# Usage errors the client can find itself are found before anything is
# sent or connected, for a remote TARGET too: they came after `HOST:
# SOURCE`'s upload (or a pool's placement). The host here does not exist
# and no broker is started: a connection would fail otherwise, not exit 2.
mkdir -p "$TEST_TMP/rt-usage" "$TEST_TMP/cwd/app" && chmod 700 "$TEST_TMP/rt-usage"
echo '{"image": "x"}' >"$TEST_TMP/cwd/app/.devcontainer.json"
for c in "up|--json (no progress) and --log-format json|up nosuch.invalid: ./app --json --log-format json" \
	"up|--dotfiles-install-command needs --dotfiles-repository|up nosuch.invalid: ./app --dotfiles-install-command x.sh" \
	"up|--dotfiles-target-path needs --dotfiles-repository|up @nopool ./app --dotfiles-target-path /d" \
	"up|unknown option --bogus|up nosuch.invalid:/src --bogus" \
	"up|--config is empty|up nosuch.invalid: ./app --config ''" \
	"up|--mount must be|up nosuch.invalid: ./app --sync --mount x" \
	"exec|--remote-env must be NAME=VALUE|exec nosuch.invalid: ./app --remote-env x -- true" \
	"exec|no command given|exec @nopool ./app" \
	"exec|give a TARGET or --workspace-folder, not both|exec nosuch.invalid: ./app --workspace-folder /w -- true" \
	"exec|give a TARGET or --workspace-folder, not both|exec --workspace-folder /w nosuch.invalid: -- true" \
	"exec|give a TARGET or --workspace-folder, not both|exec --workspace-folder=/w nosuch.invalid:/src true" \
	"exec|give a TARGET or --workspace-folder, not both|exec --workspace-folder /w @nopool ./app -- true" \
	"exec|give a TARGET or --workspace-folder, not both: 'git:foo' is a remote TARGET's form (a command of that form goes after --)|exec --workspace-folder /w git:foo" \
	"shell|give a TARGET or --workspace-folder, not both|shell --workspace-folder /w nosuch.invalid:/src" \
	"up|give a TARGET or --workspace-folder, not both|up nosuch.invalid: ./app --workspace-folder=/w" \
	"status|give a TARGET or --workspace-folder, not both|status nosuch.invalid:/src --workspace-folder /w" \
	"status|give a TARGET or --workspace-folder, not both|status --workspace-folder /w nosuch.invalid:/src" \
	"shell|unknown option --bogus|shell nosuch.invalid: ./app --bogus" \
	"build|--log-format must be text or json|build nosuch.invalid: ./app --log-format xml" \
	"upgrade|unknown option --bogus|upgrade nosuch.invalid: ./app --bogus" \
	"logs|unknown option --bogus|logs nosuch.invalid: ./app --bogus" \
	"logs|--json and --follow do not mix|logs nosuch.invalid: ./app --json -f" \
	"stop|unknown option --volumes|stop nosuch.invalid: ./app --volumes" \
	"stop|--id-label must be NAME=VALUE|stop @nopool ./app --id-label x" \
	"down|unknown option --follow|down nosuch.invalid: ./app --follow" \
	"down|--config is empty|down @nopool ./app --config ''" \
	"status|unknown option --bogus|status nosuch.invalid: ./app --bogus" \
	"status|unexpected argument extra|status nosuch.invalid: ./app extra" \
	"read-configuration|unknown option --bogus|read-configuration nosuch.invalid: ./app --bogus" \
	"read-configuration|--additional-features|read-configuration nosuch.invalid: ./app --additional-features '[1]'"; do
	cmd=${c%%|*} rest=${c#*|}
	want=${rest%%|*} args=${rest#*|}
	set +e
	err=$(cd "$TEST_TMP/cwd" && RDEV_RUNTIME_DIR=$TEST_TMP/rt-usage timeout 60 \
		sh -c "'$RDEV_BIN_DIR/rdev' $args" 2>&1 >/dev/null)
	rc=$?
	set -e
	check_eq "rdev $args exits 2" "$rc" 2
	check "... before connecting: '$want' ($err)" \
		sh -c "printf '%s' \"\$1\" | grep -qF -- \"rdev $cmd: \$2\"" _ "$err" "$want"
done
check_eq "... and no broker was started for them" "$(ls -A "$TEST_TMP/rt-usage")" ""
# The same forward twice would be made once and listed twice: refused.
rdev_rc forward "$TEST_TMP/cwd" 3000 8080:3000 3000
check_eq "rdev forward TARGET 3000 8080:3000 3000 exits 2" "$rc" 2
check_eq "and names the spec given twice" "$err" \
	"rdev forward: forward spec '3000' is given twice (see \`rdev forward --help\`)"
# "3000" asks for local port 3000 as "3000:3000" does: the same forward.
for specs in "3000 3000:3000" "db:5432 5432:db:5432"; do
	rdev_rc forward "$TEST_TMP/cwd" $specs
	check_eq "rdev forward TARGET $specs exits 2" "$rc" 2
	check_eq "and names the second spec" "$err" \
		"rdev forward: forward spec '${specs#* }' is given twice (see \`rdev forward --help\`)"
done
# Only TCP is forwarded: a /udp port says so (it said "not a port"), before
# connecting; 3000/tcp, as Docker writes ports, is the port.
rdev_rc forward "$TEST_TMP/cwd" 31406/udp
check_eq "rdev forward TARGET 31406/udp exits 2" "$rc" 2
check "and says only TCP is forwarded ($err)" \
	sh -c "printf '%s' \"\$1\" | grep -qF \"forward spec '31406/udp': only TCP is forwarded\"" _ "$err"
rdev_rc forward "$TEST_TMP/cwd" 3000/tcp 3000
check_eq "rdev forward TARGET 3000/tcp 3000: the same port given twice" "$err" \
	"rdev forward: forward spec '3000' is given twice (see \`rdev forward --help\`)"
# ssh-config writes one line per option: a line break in what goes there
# is refused, not written (it would break the file for every host).
nl_folder="$TEST_TMP/new
line"
mkdir -p "$nl_folder/.devcontainer"
echo '{"image": "x"}' >"$nl_folder/.devcontainer/devcontainer.json"
set +e
out=$("$RDEV_BIN_DIR/rdev" ssh-config "$nl_folder" 2>"$TEST_TMP/nl.err")
rc=$?
set -e
check_eq "rdev ssh-config FOLDER-with-a-line-break exits 1" "$rc" 1
check_eq "and prints no Host block" "$out" ""
check "and says why" grep -q "holds a line break" "$TEST_TMP/nl.err"
# (the folder quoted with its line break escaped: the raw one split the
# message in two)
check_eq "... on one line, the line break escaped" "$(cat "$TEST_TMP/nl.err")" \
	"rdev: ssh-config: \"$TEST_TMP/new\\u000aline\" holds a line break, which an ssh_config line cannot"
# hosts ls: a team file's host name with a line break is shown quoted on
# its row (raw, it split the table's line).
printf '{"hosts": [{"name": "bad\\nhost"}]}' >"$TEST_TMP/team.json"
check_eq "hosts ls: a host name with a line break, quoted on its row" \
	"$(HOME=$TEST_TMP XDG_CONFIG_HOME= RDEV_POOL_FILE=$TEST_TMP/team.json \
		"$RDEV_BIN_DIR/rdev" hosts ls 2>/dev/null | sed -n '2,$p' | cut -c1-40)" \
	'"bad\u000ahost"          default    down'
set +e
"$RDEV_BIN_DIR/rdev" ssh-config "$TEST_TMP/empty" --host-alias "$(printf 'a\nb')" \
	>/dev/null 2>&1
rc=$?
set -e
check_eq "rdev ssh-config --host-alias with a line break exits 2" "$rc" 2
mkdir -p "$TEST_TMP/empty"
set +e
err=$(cd "$TEST_TMP/empty" && "$RDEV_BIN_DIR/rdev" shell 2>&1 >/dev/null)
set -e
check "rdev shell (no devcontainer.json) names shell" \
    sh -c "printf '%s' '$err' | grep -q '^rdev: shell: no devcontainer.json'"
# Every command first looks for an older broker (client_broker_check): the
# look only reads, and makes no runtime folder where no broker ever ran
# (RDEV_RUNTIME_DIR, else $XDG_RUNTIME_DIR/rdev: common/runtime-dir.h).
mkdir -p -m 700 "$TEST_TMP/xdg"
set +e
RDEV_RUNTIME_DIR=$TEST_TMP/fresh-rt "$RDEV_BIN_DIR/rdev" sync --frobnicate 2>/dev/null
rc_rt=$?
env -u RDEV_RUNTIME_DIR XDG_RUNTIME_DIR="$TEST_TMP/xdg" "$RDEV_BIN_DIR/rdev" sync --frobnicate \
    2>/dev/null
rc_xdg=$?
set -e
check_eq "rdev sync --frobnicate (fresh RDEV_RUNTIME_DIR) exits 2" "$rc_rt" 2
check_eq "rdev sync --frobnicate (fresh XDG_RUNTIME_DIR) exits 2" "$rc_xdg" 2
check "a command's look for a broker does not make RDEV_RUNTIME_DIR" \
    test ! -e "$TEST_TMP/fresh-rt"
check "a command's look for a broker does not make \$XDG_RUNTIME_DIR/rdev" \
    test ! -e "$TEST_TMP/xdg/rdev"
# Nor do the commands that only ask a broker that may not run.
set +e
RDEV_RUNTIME_DIR=$TEST_TMP/fresh-rt "$RDEV_BIN_DIR/rdev" forward --list >"$TEST_TMP/fl.out" 2>&1
rc_fl=$?
set -e
check_eq "rdev forward --list with no broker ever run: exit 0" "$rc_fl" 0
check_eq "... it says so" "$(cat "$TEST_TMP/fl.out")" "rdev: no forwards"
check "... and makes no RDEV_RUNTIME_DIR" test ! -e "$TEST_TMP/fresh-rt"
RDEV_RUNTIME_DIR=$TEST_TMP/fresh-rt "$RDEV_BIN_DIR/rdev-broker" status >/dev/null 2>&1 || true
check "rdev-broker status makes none either" test ! -e "$TEST_TMP/fresh-rt"
finish
