#!/usr/bin/env bash
# sync-git.sh - a git URL as the SOURCE: `rdev up HOST: file://.../repo.git`
# clones a bare repository of the host into its workspace root and reads the
# configuration from the clone; exec reaches it; `rdev sync HOST: URL`
# fetches a new commit and fast-forwards; an ssh:// URL through the rig's
# sshd (the host's own key: nothing of this machine is sent) clones too; a
# bad URL fails with git's words; a URL as the TARGET is refused with what
# to type instead.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
rig_remote_host sg
trap 'rig_remote_cleanup' EXIT

g='git -c user.name=t -c user.email=t@example.org'
on_host "git init -q -b main ~/work && cd ~/work &&
	printf '%s' '{\"image\": \"$RDEV_RIG_IMAGE_BOOKWORM_DEV\", \"updateRemoteUserUID\": false}' >.devcontainer.json &&
	echo v1 >file.txt && git add -A && $g commit -qm v1 && git clone -q --bare ~/work ~/repo.git"
url="file://$home/repo.git"

rdev up "$name:" "$url" --json >"$TEST_TMP/up.json" 2>"$TEST_TMP/up.err" ||
	{ cat "$TEST_TMP/up.err" >&2; fail "rdev up $name: $url"; }
ws=$(jq -r .remoteWorkspaceFolder "$TEST_TMP/up.json")
case $ws in
/workspaces/repo-????????????) echo "ok   the clone is named repo-HASH ($ws)" ;;
*) fail "unexpected workspace folder $ws" ;;
esac
folder=$home/rdev/workspaces/${ws#/workspaces/}
trap 'rig_remote_cleanup "${folder#"$home"/}"' EXIT
check "the clone is a git work tree on the host" on_host "test -d '$folder/.git'"
check_eq "exec HOST: URL runs in the clone" "$(rdev exec "$name:" "$url" -- cat file.txt)" v1

on_host "cd ~/work && echo v2 >file.txt && $g commit -qam v2 && git push -q ~/repo.git main"
rdev sync "$name:" "$url" >/dev/null 2>"$TEST_TMP/sync.err" ||
	{ cat "$TEST_TMP/sync.err" >&2; fail "rdev sync $name: $url"; }
check_eq "sync fetches and fast-forwards the clone" "$(rdev exec "$name:" "$url" -- cat file.txt)" v2

# A local change in the clone is never overwritten: a warning instead.
on_host "echo mine >'$folder/file.txt'"
on_host "cd ~/work && echo v3 >file.txt && $g commit -qam v3 && git push -q ~/repo.git main"
rdev sync "$name:" "$url" >/dev/null 2>"$TEST_TMP/sync2.err"
check "a clone with local changes is fetched, not updated: a warning" grep -q "fetched, not updated" "$TEST_TMP/sync2.err"
check_eq "... and the local change is kept" "$(on_host cat "$folder/file.txt")" mine

# ssh:// through the rig's sshd, with a key of the host user's own.
port=$(cat "$hdir/port") user=$(cat "$hdir/user")
on_host "mkdir -p -m 700 ~/.ssh && ssh-keygen -q -t ed25519 -N '' -f ~/.ssh/id_ed25519 &&
	printf '%s\n' '$(cat "$hdir/known_hosts")' >~/.ssh/known_hosts"
on_host cat .ssh/id_ed25519.pub >>"$hdir/authorized_keys"
surl="ssh://$user@127.0.0.1:$port/~/repo.git"
rdev sync "$name:" "$surl" --json >"$TEST_TMP/ssh.json" 2>"$TEST_TMP/ssh.err" ||
	{ cat "$TEST_TMP/ssh.err" >&2; fail "rdev sync $name: $surl"; }
sfolder=$(jq -r .folder "$TEST_TMP/ssh.json")
check_eq "an ssh:// URL is cloned through sshd" "$(on_host cat "$sfolder/file.txt")" v3
check_eq "... under a name of its own" "$(jq -r .kind "$TEST_TMP/ssh.json")" git
[ "$sfolder" != "$folder" ] || fail "two URLs share a folder"

set +e
rdev sync "$name:" "file://$home/no-such.git" 2>"$TEST_TMP/bad.err"
rc=$?
set -e
check_eq "a URL git cannot clone fails" "$rc" 1
check "... with git's words" grep -q "does not appear to be a git repository\|not found\|does not exist" "$TEST_TMP/bad.err"

set +e
rdev up "https://example.org/x.git" 2>"$TEST_TMP/url.err"
rc=$?
set -e
check_eq "a URL as the TARGET is a usage error" "$rc" 2
check "... saying to name a host" grep -q "rdev up HOST: https://example.org/x.git" "$TEST_TMP/url.err"
finish
