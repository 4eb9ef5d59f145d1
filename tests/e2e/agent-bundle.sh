#!/usr/bin/env bash
# agent-bundle.sh - the rdev-agent bundle (deploy/agent-bundle.sh) runs on a
# plain Debian host with nothing installed by hand, and refuses, with a clear
# message, a host it cannot run on.
#
# Builds the bundle (Release build in build-bundle/, output in the test's
# temporary dir), checks its layout, linking and hashes, then runs it in
# containers: rdev-test/bookworm (minbase: no libcjson, libsodium or libyaml)
# must run it from the bundle's lib/; rdev-test/busybox (no glibc) and a faked
# uname or old glibc must be refused by rdev-agent-check.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker

# --- Build ---------------------------------------------------------------
# tests/run.sh makes the Release build in build-bundle/ ahead, in the
# background, holding this lock: the build below then finds it done.
prebuild_lock=$RDEV_SOURCE_DIR/build-bundle/.prebuild.lock
[ ! -e "$prebuild_lock" ] || flock "$prebuild_lock" true
dir=$(bash "$RDEV_SOURCE_DIR/deploy/agent-bundle.sh" -o "$TEST_TMP/out" 2>"$TEST_TMP/build.log") ||
	{ cat "$TEST_TMP/build.log" >&2; fail "deploy/agent-bundle.sh failed"; }
version=$("$RDEV_BIN_DIR/rdev-agent" --version | awk '{ print $2 }')
name=rdev-agent-$version-linux-$(uname -m)
check_eq "bundle directory name" "$dir" "$TEST_TMP/out/$name"
check "tarball $name.tar.gz" test -s "$TEST_TMP/out/$name.tar.gz"
for f in rdev-agent rdev-agent-check lib/libcjson.so.1 lib/libyaml-0.so.2 MANIFEST bundle.hash; do
	check "bundle has $f" test -f "$dir/$f"
done
check "rdev-agent and rdev-agent-check are executable" \
	test -x "$dir/rdev-agent" -a -x "$dir/rdev-agent-check"

# --- Linking ---------------------------------------------------------------
dyn=$(readelf -d "$dir/rdev-agent")
check "RPATH is \$ORIGIN/lib" sh -c 'printf "%s\n" "$1" | grep -q "(RPATH).*\[\$ORIGIN/lib\]"' _ "$dyn"
check "needs libcjson.so.1" sh -c 'printf "%s\n" "$1" | grep -q "(NEEDED).*\[libcjson.so.1\]"' _ "$dyn"
check "needs libyaml-0.so.2" sh -c 'printf "%s\n" "$1" | grep -q "(NEEDED).*\[libyaml-0.so.2\]"' _ "$dyn"
check "libsodium is linked statically (no NEEDED libsodium)" \
	sh -c '! printf "%s\n" "$1" | grep -q "(NEEDED).*libsodium"' _ "$dyn"
check "not a sanitizer build" sh -c '! printf "%s\n" "$1" | grep -qE "(NEEDED).*lib(a|ub|t)san" &&
	! objdump -T "$2" | grep -q __asan' _ "$dyn" "$dir/rdev-agent"
check "only libcjson.so.1, libyaml-0.so.2, libcurl.so.4, libz.so.1 and glibc are needed" sh -c '
	printf "%s\n" "$1" | sed -n "s/.*(NEEDED).*\[\(.*\)\]$/\1/p" |
	grep -vxE "libcjson\.so\.1|libyaml-0\.so\.2|libcurl\.so\.4|libz\.so\.1|libc\.so\.6|libm\.so\.6|libpthread\.so\.0" | grep -q . && exit 1 || exit 0' _ "$dyn"

# --- MANIFEST and hashes ------------------------------------------------------
glibc=$(for f in "$dir/rdev-agent" "$dir"/lib/*; do objdump -T "$f"; done |
	grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/^GLIBC_//' | sort -uV | tail -1)
check_eq "MANIFEST glibc-min is the highest GLIBC_ version needed" \
	"$(sed -n 's/^glibc-min: //p' "$dir/MANIFEST")" "$glibc"
check_eq "MANIFEST version" "$(sed -n 's/^version: //p' "$dir/MANIFEST")" "$version"
check_eq "MANIFEST arch" "$(sed -n 's/^arch: //p' "$dir/MANIFEST")" "$(uname -m)"
check_eq "bundle.hash is BLAKE2b-256 of MANIFEST" \
	"$(cut -d' ' -f1 "$dir/bundle.hash")" "$(b2sum -l 256 "$dir/MANIFEST" | cut -d' ' -f1)"
listed=$(grep -E '^[0-9a-f]{64}  ' "$dir/MANIFEST" | cut -c67- | tr '\n' ' ')
files=$(cd "$dir" && find . -type f ! -name MANIFEST ! -name bundle.hash | sed 's|^\./||' |
	LC_ALL=C sort | tr '\n' ' ')
check_eq "MANIFEST lists every file" "$listed" "$files"
for f in $files; do
	check_eq "MANIFEST hash of $f" \
		"$(grep -E "^[0-9a-f]{64}  $f\$" "$dir/MANIFEST" | cut -c1-64)" \
		"$(b2sum -l 256 "$dir/$f" | cut -c1-64)"
done
mkdir "$TEST_TMP/x"
tar -C "$TEST_TMP/x" -xzf "$TEST_TMP/out/$name.tar.gz"
check "tarball holds exactly the bundle directory" diff -r "$dir" "$TEST_TMP/x/$name"
check "tarball entries are owned by 0:0" \
	sh -c '! tar -tvzf "$1" | awk "{ print \$2 }" | grep -qv "^0/0$"' _ "$TEST_TMP/out/$name.tar.gz"

# A damaged bundle is told apart from an unsuitable host (exit 2, not 1).
cp -a "$dir" "$TEST_TMP/damaged"
printf x >>"$TEST_TMP/damaged/lib/libcjson.so.1"
set +e
err=$(sh "$TEST_TMP/damaged/rdev-agent-check" 2>&1 >/dev/null)
rc=$?
set -e
check_eq "damaged lib/: rdev-agent-check exits 2" "$rc" 2
check "damaged lib/: names the cause" sh -c 'printf "%s" "$1" | grep -q "does not match its hash"' _ "$err"

# --- A plain Debian host: rdev-test/bookworm (minbase) ------------------------
img=$RDEV_RIG_IMAGE_BOOKWORM
adir=/home/u/.rdev/agent/$version
mkdir -p "$TEST_TMP/ws/.devcontainer"
cat >"$TEST_TMP/ws/.devcontainer/devcontainer.json" <<'EOF'
// A workspace the bundled agent reads inside the container.
{
	"name": "bundle-ws",
	"image": "debian:bookworm",
	"containerEnv": { "WS": "${localWorkspaceFolderBasename}" },
}
EOF
drun() {
	docker run --rm --network none -v "$dir:$adir:ro" -v "$TEST_TMP/ws:/src/ws:ro" "$@"
}
check "the image has no libcjson, no libsodium and no libyaml" \
	drun "$img" sh -c '! ls /usr/lib/*/libcjson* /usr/lib/*/libsodium* /usr/lib/*/libyaml* /lib/*/libcjson* /lib/*/libyaml* 2>/dev/null | grep -q .'
ldd_out=$(drun "$img" ldd "$adir/rdev-agent" 2>&1) || fail "ldd in $img: $ldd_out"
check "ldd in $img: libcjson.so.1 from the bundle's lib/" \
	sh -c 'printf "%s\n" "$1" | grep -qE "libcjson\.so\.1 => $2/(\./)?lib/libcjson\.so\.1 "' _ "$ldd_out" "$adir"
check "ldd in $img: libyaml-0.so.2 from the bundle's lib/" \
	sh -c 'printf "%s\n" "$1" | grep -qE "libyaml-0\.so\.2 => $2/(\./)?lib/libyaml-0\.so\.2 "' _ "$ldd_out" "$adir"
check "ldd in $img: nothing not found" sh -c '! printf "%s\n" "$1" | grep -q "not found"' _ "$ldd_out"
check_eq "rdev-agent --version in $img (uid 1000)" \
	"$(drun -u 1000:1000 "$img" "$adir/rdev-agent" --version)" "rdev-agent $version"
conf=$(drun -u 1000:1000 "$img" "$adir/rdev-agent" read-configuration /src/ws) ||
	fail "rdev-agent read-configuration in $img: $conf"
check_eq "read-configuration in $img: image" \
	"$(printf '%s' "$conf" | jq -r .configuration.image)" "debian:bookworm"
check_eq "read-configuration in $img: variable substituted" \
	"$(printf '%s' "$conf" | jq -r .configuration.containerEnv.WS)" "ws"
check_eq "read-configuration in $img: workspaceFolder" \
	"$(printf '%s' "$conf" | jq -r .workspace.workspaceFolder)" "/workspaces/ws"
# Through a symlink (~/.rdev/agent/current -> <version>): $ORIGIN follows it.
check_eq "rdev-agent through a symlink to its version dir" \
	"$(drun "$img" sh -c "ln -s $version /home/u/.rdev/agent/current &&
		/home/u/.rdev/agent/current/rdev-agent --version")" "rdev-agent $version"
out=$(drun "$img" sh "$adir/rdev-agent-check") || fail "rdev-agent-check in $img: $out"
check "rdev-agent-check accepts $img" sh -c 'printf "%s" "$1" | grep -q "^ok: rdev-agent "' _ "$out"
out=$(docker run --rm -i --network none "$img" sh -s -- --host-only <"$dir/rdev-agent-check") ||
	fail "rdev-agent-check --host-only on stdin in $img: $out"
check "rdev-agent-check --host-only from stdin, before any upload" \
	sh -c 'printf "%s" "$1" | grep -q "^ok: this host"' _ "$out"

# --- Hosts it cannot run on -------------------------------------------------
# refused NAME WANT-MESSAGE DOCKER-RUN-ARGS...: rdev-agent-check exits 1 with
# one line on stderr containing WANT-MESSAGE.
refused() {
	local what=$1 want=$2 err rc
	shift 2
	set +e
	err=$(drun "$@" 2>&1 >/dev/null)
	rc=$?
	set -e
	check_eq "$what: rdev-agent-check exits 1" "$rc" 1
	check_eq "$what: one line on stderr" "$(printf '%s\n' "$err" | wc -l)" 1
	check "$what: says '$want'" sh -c 'printf "%s" "$1" | grep -qF "$2"' _ "$err" "$want"
	echo "     ($err)"
}
mkdir "$TEST_TMP/fake"
cat >"$TEST_TMP/fake/uname" <<'EOF'
#!/bin/sh
case $1 in -s) echo "${FAKE_S:-Linux}" ;; -m) echo "${FAKE_M:-x86_64}" ;; *) exit 1 ;; esac
EOF
cat >"$TEST_TMP/fake/getconf" <<'EOF'
#!/bin/sh
echo "glibc ${FAKE_GLIBC:-2.31}"
EOF
chmod +x "$TEST_TMP/fake/uname" "$TEST_TMP/fake/getconf"
refused "busybox (no glibc)" \
	"this host has no glibc (no /lib64/ld-linux-x86-64.so.2; musl or busybox?); rdev-agent needs glibc >= $glibc" \
	"$RDEV_RIG_IMAGE_BUSYBOX" sh "$adir/rdev-agent-check"
# Without the check, the binary alone fails with a bare "not found" (its
# loader is missing), which is why the broker runs rdev-agent-check first.
set +e
err=$(drun "$RDEV_RIG_IMAGE_BUSYBOX" sh -c "$adir/rdev-agent --version" 2>&1)
rc=$?
set -e
check_eq "busybox: the binary itself cannot start ($err)" "$rc" 127
refused "aarch64 host" \
	"this host is Linux/aarch64; this rdev-agent bundle is for Linux/$(uname -m)" \
	-v "$TEST_TMP/fake:/fake:ro" -e FAKE_M=aarch64 "$img" \
	sh -c "PATH=/fake:\$PATH exec sh $adir/rdev-agent-check"
refused "Darwin host" \
	"this host is Darwin/x86_64; this rdev-agent bundle is for Linux/$(uname -m)" \
	-v "$TEST_TMP/fake:/fake:ro" -e FAKE_S=Darwin "$img" \
	sh -c "PATH=/fake:\$PATH exec sh $adir/rdev-agent-check --host-only"
refused "old glibc" \
	"this host has glibc 2.31; rdev-agent needs glibc >= $glibc" \
	-v "$TEST_TMP/fake:/fake:ro" -e FAKE_GLIBC=2.31 "$img" \
	sh -c "PATH=/fake:\$PATH exec sh $adir/rdev-agent-check"
finish
