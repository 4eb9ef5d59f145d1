#!/usr/bin/env bash
# up-dotfiles.sh - `up --additional-features` and `up --dotfiles-*`, local
# and on a remote host. Additional Features (local folders, with options)
# join the configuration's, whose value wins for an id both name, as the
# reference CLI 0.89.0 merges them (for the same workspace and flags it
# installs extra then greet, and its metadata label has one {"id"} entry
# per Feature in that order, then the configuration's: checked by hand);
# other ones on the next up are reported as a changed configuration.
# Dotfiles are cloned with the container's git (the host's, bind-mounted:
# the rig's images have none) as the remote user after postCreateCommand and
# before postStartCommand, with --remote-env, once per container; the
# install script is made executable; a custom install command and target
# path; without an install script the dotfiles are linked into ~ (".a" is
# not: the reference's filter); --skip-post-create skips them and a later up
# installs them; no git in the container, a bad repository and a failing
# install command each fail up naming the cause, and the next up tries
# again. Invalid --additional-features JSON is a usage error naming the flag;
# build takes --additional-features too.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
export RDEV_STATE_DIR=$TEST_TMP/state
P=updf$$
WS=$TEST_TMP/$P
NG=$TEST_TMP/${P}ng

# feature DIR ID OPTION DEFAULT: a Feature writing "ID $OPTION" to /features.
feature() {
	mkdir -p "$1"
	printf '{ "id": "%s", "version": "1.0.0", "options": { "%s": { "type": "string", "default": "%s" } } }\n' \
		"$2" "$3" "$4" >"$1/devcontainer-feature.json"
	printf '#!/bin/sh\necho "%s $%s" >> /features\n' "$2" "$(tr a-z A-Z <<<"$3")" >"$1/install.sh"
}
# make_ws DIR: a workspace with two Features (greet in "features"), git from
# the host and two dotfiles repositories: dots/ holding install.sh (not
# executable), custom.sh and fail.sh, links/ only dotfiles.
make_ws() {
	local d=$1/.devcontainer
	feature "$d/greet" greet who nobody
	feature "$d/extra" extra colour red
	cat >"$d/devcontainer.json" <<JSON
{
  "image": "$RDEV_RIG_IMAGE_BOOKWORM_DEV",
  "remoteUser": "dev",
  "features": { "./greet": { "who": "config" } },
  "mounts": [
    "type=bind,source=/usr/bin/git,target=/usr/local/bin/git,readonly",
    "type=bind,source=/usr/lib/git-core,target=/usr/lib/git-core,readonly"
  ],
  "postCreateCommand": "git config --global --add safe.directory '*' && echo postcreate >> ~/order",
  "postStartCommand": "echo poststart >> ~/order"
}
JSON
	mkdir -p "$1/dots"
	printf '#!/bin/sh\necho "install.sh as $(id -un) X=$X" >> ~/dotfiles-ran\necho dotfiles >> ~/order\n' \
		>"$1/dots/install.sh"
	printf '#!/bin/sh\necho "custom.sh in $PWD" >> ~/custom-ran\n' >"$1/dots/custom.sh"
	printf '#!/bin/sh\necho "broken install" >&2\nexit 3\n' >"$1/dots/fail.sh"
	chmod 644 "$1/dots/"*.sh
	mkdir -p "$1/links"
	echo "rc of $1" >"$1/links/.rdevrc"
	echo one >"$1/links/.a"
	for r in dots links; do
		git -C "$1/$r" init -q
		git -C "$1/$r" add .
		git -C "$1/$r" -c user.name=t -c user.email=t@t commit -qm "$r"
	done
}
make_ws "$WS"
mkdir -p "$NG"
echo "{ \"image\": \"$RDEV_RIG_IMAGE_BOOKWORM_DEV\", \"remoteUser\": \"dev\" }" >"$NG/.devcontainer.json"

rig_remote_host d
RWS=$home/${P}r
make_ws "$RWS"
chown -R "rdev-$name:" "$RWS"

cleanup() {
	local rc=$? d
	set +e
	for d in "$WS" "$NG"; do
		docker ps -aq --filter "label=devcontainer.local_folder=$d" | xargs -r docker rm -f >/dev/null
	done
	docker images --format '{{.Repository}}:{{.Tag}}' | grep -E "^(rdev-uid/)?rdev-$P" |
		xargs -r docker rmi -f --no-prune >/dev/null 2>&1
	(exit $rc)
	rig_remote_cleanup "${P}r"
}
trap cleanup EXIT

# as_dev CID CMD: CMD as the container's user dev, its output.
as_dev() { docker exec -u dev "$1" sh -c "$2"; }
# label_ids CONTAINER|IMAGE: its devcontainer.metadata entries' ids ("config"
# for the configuration's).
label_ids() {
	docker inspect "$1" --format '{{index .Config.Labels "devcontainer.metadata"}}' |
		jq -c '[.[] | .id // "config"]'
}
ADD='{"./greet": {"who": "cli"}, "./extra": {"colour": "blue"}}'
DOTS=/workspaces/$P/dots

# --- local: additional Features, dotfiles -------------------------------------
rdev up "$WS" --json --additional-features "$ADD" --dotfiles-repository "$DOTS" \
	--remote-env X=from-cli >"$TEST_TMP/up1.out" 2>"$TEST_TMP/up1.err" ||
	fail "up failed: $(tail -5 "$TEST_TMP/up1.err")"
cid=$(jq -r .containerId "$TEST_TMP/up1.out")
check_eq "the additional extra, the configuration's greet (its value wins)" \
	"$(docker exec "$cid" cat /features | tr '\n' ,)" "extra blue,greet config,"
check_eq "the metadata label: one entry per Feature, then the configuration" \
	"$(label_ids "$cid")" '["./extra","./greet","config"]'
check_eq "install.sh ran as the remote user, with --remote-env" \
	"$(as_dev "$cid" 'cat ~/dotfiles-ran')" "install.sh as dev X=from-cli"
check_eq "after postCreateCommand, before postStartCommand" \
	"$(as_dev "$cid" 'cat ~/order' | tr '\n' ,)" "postcreate,dotfiles,poststart,"
check "cloned into ~/dotfiles, install.sh made executable" as_dev "$cid" 'test -x ~/dotfiles/install.sh'
rdev build "$WS" --additional-features "$ADD" --image-name "rdev-$P-built:1" >/dev/null 2>"$TEST_TMP/build.err" ||
	fail "build failed: $(tail -5 "$TEST_TMP/build.err")"
check_eq "build --additional-features: the same Features in the image" \
	"$(label_ids "rdev-$P-built:1")" '["./extra","./greet","config"]'

rdev up "$WS" --additional-features "$ADD" --dotfiles-repository "$DOTS" >/dev/null 2>"$TEST_TMP/up2t.err"
check_eq "the second up does not install them again" "$(as_dev "$cid" 'cat ~/dotfiles-ran' | wc -l)" 1
check "... nor says so" sh -c "! grep -q 'Installing the dotfiles' '$TEST_TMP/up2t.err'"
check "the same --additional-features: the configuration is unchanged" \
	sh -c "! grep -q 'configuration changed' '$TEST_TMP/up2t.err'"
rdev up "$WS" --additional-features '{"./extra": {"colour": "red"}}' >/dev/null 2>"$TEST_TMP/up3.err"
check "other --additional-features: a changed configuration, reported" \
	grep -q "The configuration changed since container ${cid:0:12}" "$TEST_TMP/up3.err"

rdev up "$WS" --json --recreate --skip-post-create --additional-features "$ADD" \
	--dotfiles-repository "$DOTS" >"$TEST_TMP/up4.out" 2>"$TEST_TMP/up4.err" ||
	fail "up --recreate failed: $(tail -5 "$TEST_TMP/up4.err")"
cid=$(jq -r .containerId "$TEST_TMP/up4.out")
check "--skip-post-create: no dotfiles" as_dev "$cid" 'test ! -e ~/dotfiles && test ! -e ~/order'
rdev up "$WS" --additional-features "$ADD" --dotfiles-repository "$DOTS" \
	--dotfiles-install-command custom.sh --dotfiles-target-path /tmp/mydots \
	>/dev/null 2>"$TEST_TMP/up5.err" || fail "up failed: $(tail -5 "$TEST_TMP/up5.err")"
check_eq "then up installs them: the custom command, in the target path" \
	"$(as_dev "$cid" 'cat ~/custom-ran; test -x /tmp/mydots/custom.sh && ls ~/dotfiles-ran 2>&1')" \
	"custom.sh in /tmp/mydots
ls: cannot access '/home/dev/dotfiles-ran': No such file or directory"

# --- what fails ----------------------------------------------------------------
# status_of OUT CMD...: CMD's exit status; its stdout and stderr in
# $TEST_TMP/OUT.out and .err.
status_of() {
	local out=$1
	shift
	"$@" >"$TEST_TMP/$out.out" 2>"$TEST_TMP/$out.err" && echo 0 || echo $?
}
rc=$(status_of ng rdev up "$NG" --json --dotfiles-repository me/dots)
j1=$(status_of j1 rdev up "$WS" --additional-features '{"./extra":')
j2=$(status_of j2 rdev up "$WS" --additional-features '["./extra"]')
check_eq "no git in the container: up fails" "$rc" 1
check_eq "... saying so, with owner/repo as the reference expands it" "$(jq -r .message "$TEST_TMP/ng.out")" \
	"dotfiles failed: \`git clone --depth 1 https://github.com/me/dots.git ~/dotfiles, then its install script\` exited with status 127: git is not installed in the container: cannot clone https://github.com/me/dots.git"
check_eq "invalid JSON: a usage error" "$j1" 2
check "... naming the flag and where" grep -q "rdev up: --additional-features:1:12: " "$TEST_TMP/j1.err"
check_eq "not an object: a usage error" "$j2" 2
check "... naming the flag" grep -q "rdev up: --additional-features: expected a JSON object" "$TEST_TMP/j2.err"

# --- remote: the same through the broker and the host's agent ------------------
RDOTS=/workspaces/${P}r/dots
# (the Features as the local ones: the same build, cached)
rup() { rdev up "$name:$RWS" --json --additional-features "$ADD" "$@"; }
r1=$(status_of r1 rup --dotfiles-repository "/workspaces/${P}r/nope")
r2=$(status_of r2 rup --dotfiles-repository "$RDOTS" --dotfiles-install-command fail.sh)
check_eq "remote: a bad repository fails up" "$r1" 1
check_eq "... with git's reason" "$(jq -r .message "$TEST_TMP/r1.out")" \
	"$name: dotfiles failed: \`git clone --depth 1 /workspaces/${P}r/nope ~/dotfiles, then its install script\` exited with status 128: fatal: repository '/workspaces/${P}r/nope' does not exist"
check_eq "remote: a failing install command fails up" "$r2" 1
check "... with its status and last words (its last stderr line)" grep -q "exited with status 3: broken install\"" "$TEST_TMP/r2.out"
rup --dotfiles-repository "/workspaces/${P}r/links" --dotfiles-target-path "~/my links" \
	>"$TEST_TMP/r3.out" 2>"$TEST_TMP/r3.err" || fail "remote up failed: $(tail -5 "$TEST_TMP/r3.err")"
rcid=$(jq -r .containerId "$TEST_TMP/r3.out")
check_eq "remote: the additional Feature with its option" \
	"$(docker exec "$rcid" cat /features | tr '\n' ,)" "extra blue,greet config,"
check_eq "remote: the next up installs them; no install script: the dotfiles linked into ~" \
	"$(as_dev "$rcid" 'readlink ~/.rdevrc; cat ~/.rdevrc; ls ~/.a 2>&1')" \
	"/home/dev/my links/.rdevrc
rc of $RWS
ls: cannot access '/home/dev/.a': No such file or directory"

finish
