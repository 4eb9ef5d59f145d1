#!/usr/bin/env bash
# read-configuration.sh - compare `rdev read-configuration` with the reference
# CLI (`devcontainer read-configuration`, @devcontainers/cli 0.89.0) on the
# fixture workspaces in tests/data/config/, field by field where both print
# the same thing, and check rdev's own errors and exit codes.
#
# Environment: RDEV_BIN_DIR (default /work/main/build), RDEV_SOURCE_DIR,
# RDEV_DEVCONTAINER_CLI (the reference binary; installed with npm into
# ${RDEV_RIG_DIR:-/var/tmp/rdev-rig}/npm when unset), DOCKER_HOST as usual.
#
# The reference needs a Docker daemon even for read-configuration (it looks
# for an existing container). Without one, the reference runs against a stub
# `docker` that knows no containers, and mergedConfiguration (which needs the
# images' labels) is not compared; the test says so.
#
# Known, intended differences (not failures): top-level keys only the
# reference prints (ociAuthDiagnostics, featuresConfiguration) are ignored.
# (No workspace here has a container: both tools leave ${devcontainerId} as
# written.)
set -u

src=${RDEV_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
rdev=${RDEV_BIN_DIR:-/work/main/build}/rdev
[ -x "$rdev" ] || rdev=/work/main/build/rdev
rig=${RDEV_RIG_DIR:-/var/tmp/rdev-rig}
failures=0
created_images=()

fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

tmp=$(mktemp -d /tmp/rdev-e2e-readconf.XXXXXX)
cleanup() {
	local img
	for img in "${created_images[@]}"; do
		docker image rm -f --no-prune "$img" >/dev/null 2>&1
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
# The python3 interpreter itself, not a pyenv shim (a second a start; see
# tests/rig/lib.sh).
if [ -x "${RDEV_PYTHON:-}" ]; then
	mkdir -p "$tmp/bin"
	ln -s "$RDEV_PYTHON" "$tmp/bin/python3"
	PATH=$tmp/bin:$PATH
fi

if [ ! -x "$rdev" ]; then
	echo "rdev not found at $rdev (set RDEV_BIN_DIR)"
	exit 1
fi

# The reference CLI.
ref=${RDEV_DEVCONTAINER_CLI:-$rig/npm/node_modules/.bin/devcontainer}
if [ ! -x "$ref" ]; then
	echo "installing @devcontainers/cli@0.89.0 into $rig/npm"
	mkdir -p "$rig/npm"
	if ! npm install --prefix "$rig/npm" @devcontainers/cli@0.89.0 \
	    >"$tmp/npm.log" 2>&1; then
		cat "$tmp/npm.log"
		echo "cannot install the reference CLI"
		exit 1
	fi
fi

# Workspaces outside any git work tree, so that both tools mount the folder
# itself (the reference mounts the enclosing git root by default, and so
# does rdev).
mkdir -p "$tmp/ws"
cp -r "$src/tests/data/config/." "$tmp/ws/"
# The fixtures' images are rdev-test-config/NAME:1; the copies name this
# run's, :r<pid> (another run of this test, another build's on the same
# Docker engine, makes and removes its own).
tag=r$$
grep -rlZ 'rdev-test-config/[a-z0-9-]*:1\b' "$tmp/ws" |
	xargs -0 -r sed -i "s#\\(rdev-test-config/[a-z0-9-]*\\):1\\b#\\1:$tag#g"
# (and the Dockerfile's ${REGISTRY}/meta:1, which names it through an ARG)
sed -i "s#\\(}/[a-z0-9-]*\\):1\\b#\\1:$tag#g" "$tmp/ws/dockerfile/.devcontainer/Dockerfile"

# Docker: real daemon, or a stub for the reference.
ref_args=()
merged=()
if docker info >/dev/null 2>&1; then
	docker_mode=real
	merged=(--include-merged-configuration)
	make_image() { # NAME [LABEL-LINE]
		mkdir -p "$tmp/empty"
		if [ $# -gt 1 ]; then
			tar -C "$tmp/empty" -c . | docker import --change "$2" - "$1" >/dev/null
		else
			tar -C "$tmp/empty" -c . | docker import - "$1" >/dev/null
		fi || return 1
		created_images+=("$1")
	}
	label=$(python3 - <<'EOF'
import json
meta = [{"remoteUser": "vscode", "containerEnv": {"X": "${localWorkspaceFolderBasename}"},
         "postCreateCommand": "echo base", "forwardPorts": [3000, 4000]},
        {"capAdd": ["SYS_PTRACE"], "init": False, "mounts": ["type=volume,source=base,target=/cache"],
         "customizations": {"vscode": {"extensions": ["base.ext"]}}}]
s = json.dumps(meta, separators=(",", ":"))
print('LABEL devcontainer.metadata="%s"' % s.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$"))
EOF
)
	make_image "rdev-test-config/meta:$tag" "$label" ||
		fail "cannot create image rdev-test-config/meta:$tag"
	make_image "rdev-test-config/plain:$tag" || fail "cannot create image rdev-test-config/plain:$tag"
else
	docker_mode=stub
	mkdir -p "$tmp/stub"
	cat >"$tmp/stub/docker" <<'EOF'
#!/bin/sh
# A docker that knows no containers (for the reference's container lookup).
case "$1" in
ps) exit 0 ;;
*) echo "stub docker: $*" >&2; exit 1 ;;
esac
EOF
	chmod +x "$tmp/stub/docker"
	ref_args=(--docker-path "$tmp/stub/docker")
	echo "NOTE: no Docker daemon reachable: the reference runs against a stub" \
	    "docker; mergedConfiguration is NOT compared (configuration and" \
	    "workspace are)."
fi

export RDEV_TEST_NAME=hello
unset RDEV_TEST_UNSET_VAR RDEV_TEST_VARIANT

cat >"$tmp/compare.py" <<'EOF'
import json, sys

def diff(a, b, path, out):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            p = "%s.%s" % (path, k)
            if k not in a:
                out.append("%s: only the reference prints %s" % (p, json.dumps(b[k])))
            elif k not in b:
                out.append("%s: only rdev prints %s" % (p, json.dumps(a[k])))
            else:
                diff(a[k], b[k], p, out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            diff(x, y, "%s[%d]" % (path, i), out)
    elif a != b or type(a) != type(b):
        out.append("%s: rdev %s, reference %s" % (path, json.dumps(a), json.dumps(b)))

mine, ref = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
out = []
for key in ["configuration", "workspace"] + (["mergedConfiguration"] if sys.argv[4] == "1" else []):
    if key not in mine or key not in ref:
        out.append("%s: missing in %s" % (key, "rdev" if key not in mine else "the reference"))
        continue
    diff(mine[key], ref[key], key, out)
print("\n".join(out))
sys.exit(1 if out else 0)
EOF

# compare NAME [--config FILE]: run both on workspace NAME and compare.
compare() {
	local name=$1 ws="$tmp/ws/$1" extra=()
	shift
	[ $# -gt 0 ] && extra=("$@")
	"$rdev" read-configuration "$ws" "${extra[@]}" "${merged[@]}" \
	    >"$tmp/$name.rdev.json" 2>"$tmp/$name.rdev.err"
	local rc=$?
	"$ref" read-configuration --workspace-folder "$ws" "${extra[@]}" \
	    "${merged[@]}" "${ref_args[@]}" >"$tmp/$name.ref.json" \
	    2>"$tmp/$name.ref.err"
	local refrc=$?
	if [ $rc -ne 0 ] || [ $refrc -ne 0 ]; then
		fail "$name: rdev exit $rc, reference exit $refrc"
		sed 's/^/  rdev: /' "$tmp/$name.rdev.err"
		tail -5 "$tmp/$name.ref.err" | sed 's/^/  reference: /'
		return
	fi
	if python3 "$tmp/compare.py" "$tmp/$name.rdev.json" "$tmp/$name.ref.json" \
	    "$ws" "${#merged[@]}" >"$tmp/$name.diff"; then
		echo "ok   $name"
	else
		fail "$name: outputs differ:"
		sed 's/^/  /' "$tmp/$name.diff"
	fi
}

compare image
compare dockerfile
compare compose
compare variables
compare legacy
compare comments
compare both
compare workspace
compare subfolder --config "$tmp/ws/subfolder/.devcontainer/python/devcontainer.json"
compare multiple --config "$tmp/ws/multiple/.devcontainer/node/devcontainer.json"

# expect NAME WANT-STATUS WANT-STDERR-SUBSTRING ARGS...: rdev's own errors.
expect() {
	local name=$1 want=$2 msg=$3 rc
	shift 3
	"$rdev" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -ne "$want" ]; then
		fail "$name: exit $rc, want $want"
		sed 's/^/  /' "$tmp/err"
	elif ! grep -qF -- "$msg" "$tmp/err" "$tmp/out"; then
		fail "$name: output lacks '$msg'"
		sed 's/^/  /' "$tmp/err"
	else
		echo "ok   $name"
	fi
}

expect several-configurations 1 "choose one with --config PATH" \
    read-configuration "$tmp/ws/multiple"
expect no-configuration 1 "rdev: read-configuration: no devcontainer.json in $tmp/ws/none" \
    read-configuration "$tmp/ws/none"
expect bad-type 1 "bad-type.json:3:22: \"forwardPorts\"[1]: expected a number" \
    read-configuration "$tmp/ws/image" --config "$tmp/ws/errors/bad-type.json"
expect bad-syntax 1 "rdev: read-configuration: $tmp/ws/errors/bad-syntax.json:3:" \
    read-configuration "$tmp/ws/image" --config "$tmp/ws/errors/bad-syntax.json"
expect unknown-property-warning 0 \
    "rdev: warning: $tmp/ws/workspace/.devcontainer/devcontainer.json:5:2: unknown property \"unknownThing\"" \
    read-configuration "$tmp/ws/workspace"
# A remote target goes through a broker (a private one here) and SSH; a host
# that does not resolve is a clear error naming it.
export RDEV_RUNTIME_DIR=$tmp/rt RDEV_SSH_CONFIG=/dev/null
mkdir -m 700 "$RDEV_RUNTIME_DIR"
expect remote-target 1 "host no-such-host.invalid" \
    read-configuration no-such-host.invalid:src/app
"$(dirname "$rdev")/rdev-broker" stop >/dev/null 2>&1 || true
expect bad-option 2 "unknown option --frobnicate" \
    read-configuration "$tmp/ws/image" --frobnicate
expect help 0 "--include-merged-configuration" read-configuration --help
# "--" ends the options: a folder whose name starts with '-' follows it.
mkdir -p "$tmp/ws/-dash"
echo '{"image": "dash:1"}' >"$tmp/ws/-dash/.devcontainer.json"
cd "$tmp/ws" || exit 1
expect end-of-options 0 '"image":"dash:1"' read-configuration -- -dash
expect end-of-options-up 1 "workspace folder $tmp/ws/-nodir: No such file" \
    up -- -nodir
cd - >/dev/null || exit 1

if [ "$docker_mode" = stub ]; then
	echo "NOTE: mergedConfiguration was not compared (no Docker daemon)."
fi
if [ $failures -ne 0 ]; then
	echo "$failures failure(s)"
	exit 1
fi
echo "all read-configuration checks passed ($docker_mode docker)"
