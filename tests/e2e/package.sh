#!/usr/bin/env bash
# package.sh - the Debian package (`cmake --build BUILD --target package`,
# deploy/package.cmake) holds what it says and works from where it installs:
#   its name and Depends (exactly the packages of the shared libraries the
#   programs need, plus libcurl4 for dlopen; none of the agent bundle's);
#   the programs, the agent bundle, man pages that man renders without a
#   warning and that hold each command's --help text, bash and zsh
#   completion that answer from the program, and a systemd user unit that
#   systemd-analyze accepts and whose command runs the broker;
#   and the unpacked tree's rdev, broker and bundle bring up a workspace on a
#   real sshd host (the broker finds the bundle in ../lib/rdev/agent-bundle).
# Not in the ASan build (its package has no agent bundle).
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker

build=$RDEV_BIN_DIR
# tests/run.sh makes the package ahead, in the background, holding this lock
# (a rig slot need not wait for CPack): its stamp, newer than the programs,
# says it is this build's; else it is made here.
[ ! -e "$build/.package.lock" ] || flock "$build/.package.lock" true
stamp=$build/.package-prebuilt
if [ -e "$stamp" ] && [ "$stamp" -nt "$build/rdev" ] && [ "$stamp" -nt "$build/rdev-broker" ] &&
	[ "$stamp" -nt "$build/rdev-agent" ] && [ "$stamp" -nt "$build/rdev-relay" ]; then
	echo "     (the package made ahead by tests/run.sh)"
else
	cmake --build "$build" --target package >"$TEST_TMP/package.log" 2>&1 ||
		{ tail -20 "$TEST_TMP/package.log" >&2; fail "cmake --build --target package failed"; }
fi
version=$("$build/rdev" --version | awk '{ print $2 }')
arch=$(dpkg --print-architecture)
deb=$build/rdev_${version}_$arch.deb
check "the package is rdev_<version>_<arch>.deb" test -s "$deb"

# --- Depends: the programs' real needs -----------------------------------
depends=$(dpkg-deb -f "$deb" Depends)
echo "     (Depends: $depends)"
want_pkgs() { # the packages of the libraries rdev, rdev-broker, rdev-agent name (NEEDED)
	local f lib path real
	for f in rdev rdev-broker rdev-agent; do
		for lib in $(readelf -d "$build/$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'); do
			ldd "$build/$f" | awk -v l="$lib" '$1 == l { print $3 }'
		done
	done | sort -u | while read -r path; do
		real=$(readlink -f "$path")
		dpkg -S "$path" 2>/dev/null || dpkg -S "$real" 2>/dev/null ||
			dpkg -S "${real#/usr}" 2>/dev/null || echo "?: $path"
	done | cut -d: -f1 | sort -u
}
got_pkgs() { printf '%s\n' "$depends" | tr ',' '\n' | sed 's/^ *//; s/ .*//' | sort -u; }
want=$({ want_pkgs; echo libcurl4; } | sort -u)
check_eq "Depends: the packages of the libraries the programs load, and libcurl4 (dlopen)" \
	"$(got_pkgs | tr '\n' ' ')" "$(printf '%s\n' "$want" | tr '\n' ' ')"
check "Depends: no library of the agent bundle's own (libkrb5-3)" \
	test -z "$(printf '%s' "$depends" | grep libkrb5)"

# --- Contents --------------------------------------------------------------
root=$TEST_TMP/root
dpkg-deb -x "$deb" "$root"
bundle=rdev-agent-$version-linux-$(uname -m)
for f in bin/rdev bin/rdev-broker bin/rdev-agent bin/rdev-relay \
	lib/rdev/agent-bundle/$bundle/MANIFEST lib/rdev/agent-bundle/$bundle/rdev-agent \
	share/man/man1/rdev.1 share/man/man1/rdev-broker.1 share/man/man1/rdev-agent.1 \
	share/bash-completion/completions/rdev share/zsh/vendor-completions/_rdev \
	lib/systemd/user/rdev-broker.service; do
	check "the package has /usr/$f" test -e "$root/usr/$f"
done
check_eq "bash-completion finds rdev-broker's completion" \
	"$(readlink "$root/usr/share/bash-completion/completions/rdev-broker")" rdev
check_eq "the unpacked rdev runs" "$("$root/usr/bin/rdev" --version)" "rdev $version"

# --- Manual pages: rendered without warnings, the --help text in them ------
for p in rdev rdev-broker rdev-agent; do
	warn=$(MANWIDTH=100 man --warnings -l "$root/usr/share/man/man1/$p.1" 2>&1 >/dev/null)
	check_eq "man $p: no warnings" "$warn" ""
done
squeeze() { tr -s ' \t\n' '   '; }
MANWIDTH=200 man -l "$root/usr/share/man/man1/rdev.1" 2>/dev/null | col -bx | squeeze >"$TEST_TMP/page"
for c in $("$root/usr/bin/rdev" --help | sed -n '/^commands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }'); do
	"$root/usr/bin/rdev" "$c" --help | sed 1,3d | squeeze >"$TEST_TMP/help"
	check "man rdev holds \`rdev $c --help\`" grep -qF -f "$TEST_TMP/help" "$TEST_TMP/page"
done

# --- bash completion ---------------------------------------------------------
# (pkgbox twice: offered once; rdev.config holds `rdev ssh-config --write`'s
# container aliases, which are no Docker hosts: not offered)
printf 'Host rdev-ctr\n  ProxyCommand rdev ssh-proxy x: y\n' >"$TEST_TMP/rdev.config"
printf 'Include %s/rdev.config\nHost pkgbox other\n  HostName 127.0.0.1\nHost *.wild\n  User x\nHost pkgbox\n  User y\n' \
	"$TEST_TMP" >"$TEST_TMP/ssh_config"
complete_bash() { # WORD...: the candidates for the last word
	PATH=$root/usr/bin:$PATH RDEV_SSH_CONFIG=$TEST_TMP/ssh_config bash -c '
		. "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_rdev_complete; printf "%s\n" "${COMPREPLY[@]}"' _ \
		"$root/usr/share/bash-completion/completions/rdev" "$@"
}
check_eq "bash: rdev st<TAB>" "$(complete_bash rdev st | sort | tr '\n' ' ')" "status stop "
check_eq "bash: rdev up --froz<TAB> (an option of up's --help)" \
	"$(complete_bash rdev up --froz)" "--frozen-lockfile"
check_eq "bash: rdev-broker st<TAB>" "$(complete_bash rdev-broker st | sort | tr '\n' ' ')" \
	"start status stop "
check_eq "bash: rdev exec pk<TAB>: an ssh_config host alias" \
	"$(complete_bash rdev exec pk)" "pkgbox:"
check "bash: ... not a pattern" test -z "$(complete_bash rdev exec '' | grep wild)"
check_eq "bash: ... not ssh-config --write's container aliases (rdev.config)" \
	"$(complete_bash rdev exec rdev-)" ""
mkdir -p "$TEST_TMP/xdg/rdev"
echo '{"hosts":[{"name":"a","pool":"team"},{"name":"b","pool":"team"}]}' >"$TEST_TMP/xdg/rdev/hosts.json"
check_eq "bash: rdev up @t<TAB>: a pool of hosts.json, once" \
	"$(XDG_CONFIG_HOME=$TEST_TMP/xdg complete_bash rdev up @t)" "@team"
# (each candidate once, but two targets that differ in case are two)
mkdir -p "$TEST_TMP/state-recent"
printf 'pkgbox:/src/App\npkgbox:/src/app\npkgbox:/src/app\n' >"$TEST_TMP/state-recent/recent-targets"
check_eq "bash: rdev up pkgbox:/s<TAB>: recent targets, once each, case kept apart" \
	"$(RDEV_STATE_DIR=$TEST_TMP/state-recent complete_bash rdev up pkgbox:/s | tr '\n' ' ')" \
	"pkgbox:/src/App pkgbox:/src/app "
check_eq "bash: rdev hosts r<TAB>" "$(complete_bash rdev hosts r)" "rm"
mkdir -p "$TEST_TMP/cwd/adir"
check_eq "bash: rdev hosts <TAB>: its subcommands, no folder or target" \
	"$(cd "$TEST_TMP/cwd" && RDEV_STATE_DIR=$TEST_TMP/state-recent complete_bash rdev hosts '' |
		tr '\n' ' ')" "add rm ls "
check_eq "bash: rdev up <TAB>: a folder too" \
	"$(cd "$TEST_TMP/cwd" && complete_bash rdev up a)" "adir/"
check_eq "bash: rdev exec TARGET -- <TAB>: nothing of rdev's" \
	"$(complete_bash rdev exec pkgbox:~/x -- --fro)" ""

# --- zsh completion (compadd and _path_files stand in for zsh's) ---------------
complete_zsh() {
	PATH=$root/usr/bin:$PATH RDEV_SSH_CONFIG=$TEST_TMP/ssh_config zsh -f -c '
		compadd() { local s=; [[ $1 == -S ]] && { s=$2; shift 2; }; shift; local w
			for w in ${(P)1}; do print -r -- "$w$s|"; done; }
		_path_files() { :; }
		f=$1; shift; words=("$@"); CURRENT=$#; service=${words[1]}; PREFIX=${words[-1]}
		source $f' _ "$root/usr/share/zsh/vendor-completions/_rdev" "$@"
}
check_eq "zsh: rdev st<TAB>" "$(complete_zsh rdev st | sort | tr '\n' ' ')" "status| stop| "
check_eq "zsh: rdev exec pk<TAB>: the alias, no space after it" "$(complete_zsh rdev exec pk)" "pkgbox:|"

# --- systemd user unit -----------------------------------------------------------
unit=$root/usr/lib/systemd/user/rdev-broker.service
check "the unit starts /usr/bin/rdev-broker start --foreground" \
	grep -qx 'ExecStart=/usr/bin/rdev-broker start --foreground' "$unit"
sed "s|/usr/bin/|$root/usr/bin/|" "$unit" >"$TEST_TMP/rdev-broker.service"
check "systemd-analyze verify accepts the unit (its man pages found)" \
	env MANPATH="$root/usr/share/man" systemd-analyze verify "$TEST_TMP/rdev-broker.service"
# The unit's command, as systemd would run it, serves the client.
export RDEV_BIN_DIR=$root/usr/bin
cmd=$(sed -n 's/^ExecStart=//p' "$TEST_TMP/rdev-broker.service")
$cmd 2>"$TEST_TMP/unit-broker.log" &
unit_pid=$!
eventually "the unit's broker answers rdev-broker status" broker status
broker stop >/dev/null
eventually "... and stops on rdev-broker stop" sh -c "! kill -0 $unit_pid 2>/dev/null"

# --- The unpacked tree on a real host ----------------------------------------------
rig_remote_host p
trap 'rig_remote_cleanup ws' EXIT
on_host "mkdir -p ~/ws && printf '%s' '{\"image\": \"$RDEV_RIG_IMAGE_BUSYBOX\"}' > ~/ws/.devcontainer.json"
rdev up "$name:~/ws" --accept-new-host-key >"$TEST_TMP/up.out" 2>"$TEST_TMP/up.err" ||
	{ tail -5 "$TEST_TMP/up.err" >&2; fail "the package's rdev up $name:~/ws failed"; }
check_eq "the package's rdev runs a command in it" \
	"$(rdev exec "$name:~/ws" -- echo hi 2>"$TEST_TMP/exec.err")" hi
hash=$(cat "$root/usr/lib/rdev/agent-bundle/$bundle/bundle.hash")
check "the host runs the package's agent bundle (its hash in the install's name)" \
	test -d "$home/.rdev/agent/$version-${hash:0:16}"
check "bash: the target up reached is offered" \
	grep -qxF "$name:~/ws" <(complete_bash rdev exec "$name")
finish
