#!/usr/bin/env bash
# up-git-worktree.sh - --mount-git-worktree-common-dir (up, exec,
# read-configuration) against `devcontainer` 0.89.0 on the same folder: a git
# work tree made with relative paths, R/repo's work tree at R/wts/feature
# (its .git "gitdir: ../../repo/.git/worktrees/feature"). The reference mounts
# it at /workspaces/wts/feature (its path below R, which holds the common
# dir) and the common dir R/repo/.git at /workspaces/repo/.git, so git
# works inside the container. Checked: read-configuration's workspace
# (workspaceFolder, workspaceMount, additionalMountString) as the
# reference's, with the flag and without; up's remoteWorkspaceFolder and the
# container's mounts; `git status` inside (the host's git binary bind-mounted:
# the rig's images have none); a plain exec starts in that folder and a plain
# read-configuration gives that workspace (the container's label), while
# exec --mount-git-worktree-common-dir false goes by the flag (exit 126, as
# the reference's exec). The machine's git (2.39) has no `worktree add
# --relative-paths` (2.48): the work tree is made with absolute paths and
# its two path files rewritten relative, as 2.48 writes them (without the
# relativeWorktrees extension, which the 2.39 in the container would refuse).
# Fails without the fix: rdev said unknown option.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
rig_require_reference
command -v jq >/dev/null || fail "jq is needed"
command -v git >/dev/null || fail "git is needed"

R=$TEST_TMP/gwt
wt=$R/wts/feature
mkdir -p "$R/repo" "$R/wts"
git -C "$R/repo" init -q
mkdir -p "$R/repo/.devcontainer"
cat >"$R/repo/.devcontainer/devcontainer.json" <<JSON
{
  "image": "$RDEV_RIG_IMAGE_BOOKWORM",
  "mounts": ["type=bind,source=$(command -v git),target=/usr/bin/git,readonly"]
}
JSON
git -C "$R/repo" add .
git -C "$R/repo" -c user.email=t@e -c user.name=t commit -q -m init
git -C "$R/repo" worktree add -q "$wt"
printf 'gitdir: ../../repo/.git/worktrees/feature\n' >"$wt/.git"
printf '../../../../wts/feature/.git\n' >"$R/repo/.git/worktrees/feature/gitdir"
[ "$(git -C "$wt" rev-parse --abbrev-ref HEAD)" = feature ] || fail "the relative work tree does not work on the host"

rig_test_containers "devcontainer.local_folder=$wt"

ref_ws() { TMPDIR=$TEST_TMP "$REF" read-configuration --workspace-folder "$wt" "$@" 2>"$TEST_TMP/ref.err" | jq -S -c .workspace; }
rdev_ws() { rdev read-configuration "$@" "$wt" 2>"$TEST_TMP/rdev.err" | jq -S -c .workspace; }

ref_on=$(ref_ws --mount-git-worktree-common-dir)
ref_off=$(ref_ws)
check_eq "the reference mounts the work tree below /workspaces/wts" \
	"$(jq -r .workspaceFolder <<<"$ref_on")" /workspaces/wts/feature
check_eq "read-configuration --mount-git-worktree-common-dir: the reference's workspace" \
	"$(rdev_ws --mount-git-worktree-common-dir)" "$ref_on"
check_eq "read-configuration without it: the reference's workspace" "$(rdev_ws)" "$ref_off"

out=$(rdev up --mount-git-worktree-common-dir "$wt" 2>"$TEST_TMP/up.err") ||
	{ tail -5 "$TEST_TMP/up.err" >&2; fail "rdev up --mount-git-worktree-common-dir failed"; }
check_eq "up: remoteWorkspaceFolder is the reference's workspaceFolder" \
	"$(jq -r .remoteWorkspaceFolder <<<"$out")" "$(jq -r .workspaceFolder <<<"$ref_on")"
cid=$(jq -r .containerId <<<"$out")
# (source=S,target=T of the reference's two mount strings, as Docker lists them)
want=$(jq -r '.workspaceMount, .additionalMountString' <<<"$ref_on" |
	sed -E 's/.*source=([^,]*),target=([^,]*).*/\1 \2/' | sort)
check_eq "the container's mounts: the work tree and the common dir where the reference puts them" \
	"$(docker inspect "$cid" | jq -r '.[0].Mounts[] | select(.Destination != "/usr/bin/git") | "\(.Source) \(.Destination)"' | sort)" \
	"$want"
check_eq "git status inside the container (a plain exec, in the workspace folder)" \
	"$(rdev exec "$wt" sh -c 'pwd; git -c safe.directory="*" status --porcelain --branch' 2>&1)" \
	"/workspaces/wts/feature
## feature"
check_eq "a plain read-configuration: the workspace the container was made with" \
	"$(rdev_ws)" "$ref_on"
rc=0
rdev exec --mount-git-worktree-common-dir false "$wt" pwd >/dev/null 2>&1 || rc=$?
check_eq "exec --mount-git-worktree-common-dir false goes by the flag (/workspaces/feature: no such folder)" "$rc" 126
finish
