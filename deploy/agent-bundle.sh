#!/usr/bin/env bash
# agent-bundle.sh - build the rdev-agent bundle the broker installs on Docker
# hosts: a directory and a tarball that run on a plain Debian/Ubuntu host with
# nothing installed by hand.
#
#   deploy/agent-bundle.sh [-B BUILDDIR] [-o OUTDIR]
#   deploy/agent-bundle.sh -p -B BUILDDIR [-o OUTDIR]
#
#   BUILDDIR  a Release build made for the bundle (default: build-bundle/ in the
#             source tree; never a sanitizer build, whatever build/ is)
#   OUTDIR    where the bundle goes (default: build/agent-bundle/; with -p:
#             BUILDDIR/agent-bundle/)
#   -p        package the rdev-agent already built in BUILDDIR as it is: no
#             cmake configure, no build (the CMake target `agent-bundle` runs
#             this, so each build dir has its own bundle for its broker and its
#             tests). The same relink, rpath and library checks apply. A
#             sanitizer build is accepted only here: its bundle does not ship
#             the sanitizer runtime (the host must have it), says
#             "sanitizer: yes" in MANIFEST, and is for tests on this machine,
#             never for `make install`.
#
# Output (NAME = rdev-agent-<version>-linux-<arch>, arch as `uname -m` says):
#   OUTDIR/NAME/            the bundle directory
#     rdev-agent            libsodium linked statically, glibc dynamically,
#                           RPATH $ORIGIN/lib (DT_RPATH, so a host's
#                           LD_LIBRARY_PATH cannot swap the bundled library)
#     lib/libcjson.so.1     copied from the build host (Debian ships no static
#                           cJSON); any other non-glibc library would go here too
#     lib/libyaml-0.so.2    likewise (libyaml: the agent reads docker-compose
#                           v1's YAML with it, agent/compose-yaml.c)
#     lib/libcurl.so.4 ...  likewise, with everything it needs but glibc
#                           (OpenSSL, nghttp2, libssh2, krb5, ...: about 30
#                           libraries, 10 MB) once the agent calls
#                           feature_fetch() (agent/http-get.c: HTTPS to OCI
#                           registries for Features); libz.so.1 the same
#     rdev-relay            static (musl), copied into dev containers for
#                           port forwarding (agent/relay-install.h)
#     rdev-agent-check      POSIX sh: can this host run the bundle? (below)
#     licenses/             the Debian copyright files of what is linked in
#     MANIFEST              "key: value" lines (version, arch, glibc minimum...)
#                           then one `b2sum -l 256` line per file
#     bundle.hash           `b2sum -l 256 MANIFEST`: names the whole bundle
#   OUTDIR/NAME.tar.gz      the directory, reproducibly packed (sorted names,
#                           owner 0, mtime of the last commit, gzip -n)
#
# How the broker installs it (broker/agent-install.c, the files sent by
# broker/agent-upload.c; in ~/.rdev/agent/NAME/,
# NAME = <version>-<first 16 hex digits of bundle.hash>, so two builds of one
# version each have their own dir and never replace each other):
#   0. Fast path, one exec round trip at the start of every broker session:
#      `uname -sm`, $HOME, ~/.rdev/agent/NAME/bundle.hash and, when that
#      equals the local bundle.hash, `b2sum -l 256 -c` in that dir against the
#      broker's own list of hashes (MANIFEST included), so a corrupted or
#      tampered file is found, not only a missing one (rdev-agent-check there
#      when the host has no b2sum). All good: installed, nothing to do.
#      Another OS or arch: refused here, before anything is sent.
#   1. Pre-flight, before uploading anything: `sh -s -- --host-only` on an exec
#      channel with rdev-agent-check as stdin (and ~/.rdev/agent writable, free
#      space). Exit 1: the host cannot run the bundle; show its one stderr line
#      to the user and stop.
#   2. Upload the files into ~/.rdev/agent/.NAME.tmp.<random>/ (modes from
#      the bundle: 0755 for rdev-agent and rdev-agent-check), each checked
#      against MANIFEST as it is read. Over SFTP; when the host's sshd has no
#      sftp subsystem, over one exec channel per file (`sh -c 'cat >"$1"'`
#      with the path as an argument, then chmod).
#   3. `sh ~/.rdev/agent/.NAME.tmp.<random>/rdev-agent-check`: exit 0 and
#      one "ok" line, or 1 (host cannot run it: message on stderr) or 2 (bundle
#      damaged in transit: upload again, once). Remove the temporary dir unless 0.
#   4. Rename it to ~/.rdev/agent/NAME (SFTP rename, or `mv -T`, both failing
#      when the name exists). A NAME dir is never written after the rename, so
#      an agent running from it is never disturbed. If the rename fails, look
#      again (step 0): another broker's good install: drop ours; a damaged
#      one: rename it aside to .NAME.old.<random>, retry, then remove it.
#      Leftover .tmp/.old dirs older than an hour go at the next pre-flight.
#      The dirs of other builds and versions are left alone.
#   5. Before each start of an agent: its bundle.hash and files checked again
#      against the broker's hashes, then rdev-agent-check run (one exec).
#      Then ~/.rdev/agent/NAME/rdev-agent serve.
set -euo pipefail
# (with pipefail, a reader that stops early (grep -q, awk's exit) fails its
# pipeline when the writer is still writing: SIGPIPE, 141. Readers here read
# to the end: a build failed so under load.)

src=$(cd "$(dirname "$0")/.." && pwd)
builddir=$src/build-bundle
outdir=
prebuilt=0
while getopts B:o:p opt; do
	case $opt in
	B) builddir=$OPTARG ;;
	o) outdir=$OPTARG ;;
	p) prebuilt=1 ;;
	*) echo "usage: agent-bundle.sh [-p] [-B BUILDDIR] [-o OUTDIR]" >&2; exit 2 ;;
	esac
done
if [ -z "$outdir" ]; then
	if [ $prebuilt -eq 1 ]; then outdir=$builddir/agent-bundle; else outdir=$src/build/agent-bundle; fi
fi

die() { echo "agent-bundle: $*" >&2; exit 1; }
say() { echo "agent-bundle: $*" >&2; }

for tool in cmake cc readelf objdump b2sum tar gzip; do
	command -v "$tool" >/dev/null || die "needs $tool"
done

# glibc's own libraries: every glibc host has them, they are never bundled.
is_glibc_lib() {
	case $1 in
	libc.so.* | libm.so.* | libpthread.so.* | libdl.so.* | librt.so.* | \
		libresolv.so.* | ld-linux*.so.* | ld64.so.*) return 0 ;;
	esac
	return 1
}
needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'; }
# The sanitizer runtimes: only in -p bundles, and never bundled.
is_sanitizer_lib() {
	case $1 in lib[alt]san.so.* | libubsan.so.* | libhwasan.so.*) return 0 ;; esac
	return 1
}

# 1. A Release build of rdev-agent's objects (with -p: the one already there).
sanitizer=no
if [ $prebuilt -eq 1 ]; then
	[ -x "$builddir/rdev-agent" ] || die "no $builddir/rdev-agent (build it first)"
	if needed "$builddir/rdev-agent" | grep -E '^lib(a|ub|t|l)san' >/dev/null; then sanitizer=yes; fi
else
	mkdir -p "$builddir"
	if [ -f "$builddir/CMakeCache.txt" ] &&
		grep -q '^RDEV_SANITIZE:BOOL=ON' "$builddir/CMakeCache.txt"; then
		die "$builddir is a sanitizer build; use another -B"
	fi
	cmake -S "$src" -B "$builddir" -DCMAKE_BUILD_TYPE=Release -DRDEV_SANITIZE=OFF \
		-DRDEV_BENCH=OFF >"$builddir/bundle-configure.log" 2>&1 ||
		{ cat "$builddir/bundle-configure.log" >&2; die "cmake configure failed"; }
	cmake --build "$builddir" --target rdev-agent -j"$(nproc 2>/dev/null || echo 2)" \
		>"$builddir/bundle-build.log" 2>&1 ||
		{ tail -40 "$builddir/bundle-build.log" >&2; die "build failed"; }
fi

# 2. Relink it: CMake's own link line, with libsodium's .so swapped for its .a
#    and the $ORIGIN/lib rpath added.
linktxt=$builddir/CMakeFiles/rdev-agent.dir/link.txt
[ -f "$linktxt" ] || die "no $linktxt (CMake layout changed?)"
multiarch=$(cc -print-multiarch 2>/dev/null || true)
sodium_a=
for d in ${multiarch:+/usr/lib/$multiarch} /usr/lib /usr/local/lib; do
	[ -f "$d/libsodium.a" ] && { sodium_a=$d/libsodium.a; break; }
done
[ -n "$sodium_a" ] || die "no libsodium.a (apt-get install libsodium-dev)"
link=$(cat "$linktxt")
case $link in
*/libsodium.so\ * | *' -lsodium '*) ;;
*) die "the link line in $linktxt does not name libsodium: $link" ;;
esac
link=$(printf '%s' "$link" | sed -e "s| [^ ]*/libsodium\.so | $sodium_a |" \
	-e "s| -lsodium | $sodium_a |" -e 's| -o rdev-agent | -o rdev-agent.bundle |')
link="$link -Wl,--disable-new-dtags -Wl,-rpath,'\$ORIGIN/lib'"
(cd "$builddir" && rm -f rdev-agent.bundle && eval "$link") || die "link failed: $link"
bin=$builddir/rdev-agent.bundle
strip --strip-unneeded "$bin"

# 3. Check what came out: no sanitizer (unless -p said so), no libsodium.so,
#    the rpath.
if [ $sanitizer = no ] && needed "$bin" | grep -E '^lib(a|ub|t|l)san' >/dev/null; then
	die "$bin is a sanitizer build"
fi
if needed "$bin" | grep '^libsodium' >/dev/null; then die "$bin still needs libsodium.so"; fi
rpath=$(readelf -d "$bin" | sed -n 's/.*(RPATH).*\[\(.*\)\]$/\1/p')
[ "$rpath" = '$ORIGIN/lib' ] || die "$bin has RPATH '$rpath', want \$ORIGIN/lib"

version=$("$bin" --version | awk '$1 == "rdev-agent" { print $2 }')
[ -n "$version" ] || die "$bin --version printed no version"
arch=$(cc -dumpmachine | cut -d- -f1)
[ "$arch" = "$(uname -m)" ] || die "cross builds are not supported ($arch on $(uname -m))"
interp=$(readelf -l "$bin" | sed -n 's/.*Requesting program interpreter: \(.*\)\]$/\1/p')
[ -n "$interp" ] || die "$bin has no program interpreter"

name=rdev-agent-$version-linux-$arch
dir=$outdir/$name
rm -rf "$dir" "$dir.tar.gz"
mkdir -p "$dir/lib" "$dir/licenses"
install -m 0755 "$bin" "$dir/rdev-agent"
# The port-forwarding relay the agent copies into dev containers
# (relay/rdev-relay.c, agent/relay-install.h looks for it next to rdev-agent):
# built with rdev-agent (CMake target rdev-relay), static, no interpreter.
relay=$builddir/rdev-relay
[ -x "$relay" ] || die "no $relay (the CMake target rdev-relay builds it)"
if readelf -l "$relay" | grep 'program interpreter' >/dev/null || readelf -d "$relay" 2>/dev/null | grep NEEDED >/dev/null; then
	die "$relay is not a static executable"
fi
install -m 0755 "$relay" "$dir/rdev-relay"

# 4. Every library it needs that is not glibc's, under its soname, and the
# libraries those need, transitively (libcurl brings OpenSSL, nghttp2, ...:
# ldd lists the whole closure). The executable's DT_RPATH is searched for
# them too, since Debian's libraries carry no DT_RUNPATH of their own.
# libcurl is not linked but loaded with dlopen at a Feature download
# (agent/http-get.c): it and its closure are added as if it were.
curl_lib=$(ldconfig -p | awk '!found && $1 == "libcurl.so.4" && /x86-64|x86_64|aarch64|AArch64/ { print $NF; found = 1 }')
[ -f "$curl_lib" ] || die "no libcurl.so.4 (libcurl4-openssl-dev installs it)"
needs_of() { # the "soname path" pairs of the bundle's roots
	{ ldd "$bin"; echo "	libcurl.so.4 => $curl_lib (0)"; ldd "$curl_lib"; } |
		awk '$2 == "=>" { print $1, $3 }' | sort -u
}
for lib in $(needs_of | awk '{ print $1 }' | sort -u); do
	is_glibc_lib "$lib" && continue
	[ $sanitizer = yes ] && is_sanitizer_lib "$lib" && continue
	path=$(needs_of | awk -v l="$lib" '!found && $1 == l { print $2; found = 1 }')
	[ -f "$path" ] || die "cannot find $lib"
	install -m 0644 "$(readlink -f "$path")" "$dir/lib/$lib"
	if readelf -d "$dir/lib/$lib" | grep '(RUNPATH)' >/dev/null; then
		die "$lib has a DT_RUNPATH: the bundle's RPATH would not apply to its needs"
	fi
done
for lib in "$dir"/lib/*; do
	[ -e "$lib" ] || continue
	for dep in $(needed "$lib"); do
		[ $sanitizer = yes ] && is_sanitizer_lib "$dep" && continue
		is_glibc_lib "$dep" || [ -f "$dir/lib/$dep" ] ||
			die "$(basename "$lib") needs $dep, which is not bundled"
	done
done

# Licences of what is copied or linked in, from the Debian packages.
pkgversions=
# (and of every bundled library's package: libcurl's closure)
bundled_pkgs=$(for f in "$dir"/lib/*; do
	[ -e "$f" ] || continue
	dpkg -S "$(basename "$f")" 2>/dev/null | sed -n '1s/:.*//p'
done | sort -u)
for pkg in libcjson1 libsodium23 libyaml-0-2 $bundled_pkgs; do
	if [ -f "/usr/share/doc/$pkg/copyright" ]; then
		install -m 0644 "/usr/share/doc/$pkg/copyright" "$dir/licenses/$pkg.copyright"
	fi
	v=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null || true)
	[ -z "$v" ] || pkgversions="$pkgversions $pkg=$v"
done

# 5. The glibc it needs: the highest GLIBC_x.y any bundled ELF file asks for.
glibc_min=$(for f in "$dir/rdev-agent" "$dir"/lib/*; do if [ -f "$f" ]; then objdump -T "$f"; fi; done |
	grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/^GLIBC_//' | sort -uV | tail -1)
[ -n "$glibc_min" ] || die "cannot tell which glibc $bin needs"

# 6. The host check, with this bundle's facts written in.
cat >"$dir/rdev-agent-check" <<EOF
#!/bin/sh
# rdev-agent-check - can this host run this rdev-agent bundle? POSIX sh (dash,
# busybox); written by deploy/agent-bundle.sh.
#
#   sh rdev-agent-check              in the bundle dir: host, hashes, a test run
#   sh -s -- --host-only <this-file  before uploading: the host checks only
#
# Exit 0: prints one "ok" line. Exit 1: this host cannot run the bundle (one
# line on stderr says why). Exit 2: the bundle's files are damaged or missing.
want_version=$version
want_os=Linux
want_arch=$arch
interp=$interp
glibc_min=$glibc_min
EOF
cat >>"$dir/rdev-agent-check" <<'EOF'

refuse() { echo "rdev-agent-check: $*" >&2; exit 1; }
damaged() { echo "rdev-agent-check: bundle damaged: $*" >&2; exit 2; }

# ver_lt A B: is version A older than B (numeric x.y.z)?
ver_lt() {
	_a=$1 _b=$2
	while [ -n "$_a$_b" ]; do
		_x=${_a%%.*} _y=${_b%%.*}
		[ "${_x:-0}" -lt "${_y:-0}" ] && return 0
		[ "${_x:-0}" -gt "${_y:-0}" ] && return 1
		case $_a in *.*) _a=${_a#*.} ;; *) _a= ;; esac
		case $_b in *.*) _b=${_b#*.} ;; *) _b= ;; esac
	done
	return 1
}

os=$(uname -s 2>/dev/null) || os=unknown
arch=$(uname -m 2>/dev/null) || arch=unknown
if [ "$os" != "$want_os" ] || [ "$arch" != "$want_arch" ]; then
	refuse "this host is $os/$arch; this rdev-agent bundle is for $want_os/$want_arch"
fi
if [ ! -e "$interp" ]; then
	refuse "this host has no glibc (no $interp; musl or busybox?); rdev-agent needs glibc >= $glibc_min"
fi
glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null | sed -n 's/^glibc \([0-9][0-9.]*\).*/\1/p')
if [ -z "$glibc" ]; then
	glibc=$("$interp" --version 2>/dev/null |
		sed -n '1s/.*version \([0-9][0-9.]*[0-9]\).*/\1/p')
fi
if [ -z "$glibc" ]; then
	glibc=unknown
elif ver_lt "$glibc" "$glibc_min"; then
	refuse "this host has glibc $glibc; rdev-agent needs glibc >= $glibc_min (Debian 12, Ubuntu 22.04 or newer)"
fi
if [ "${1:-}" = --host-only ]; then
	echo "ok: this host ($os/$arch, glibc $glibc) can run rdev-agent $want_version"
	exit 0
fi

dir=$(cd "$(dirname "$0")" && pwd -P) || damaged "cannot enter the bundle directory"
for f in MANIFEST bundle.hash rdev-agent; do
	[ -f "$dir/$f" ] || damaged "no $dir/$f"
done
if command -v b2sum >/dev/null 2>&1; then
	(cd "$dir" && b2sum -l 256 -c --quiet bundle.hash >/dev/null 2>&1) ||
		damaged "MANIFEST does not match bundle.hash"
	(cd "$dir" && grep -E '^[0-9a-f]{64}  ' MANIFEST | b2sum -l 256 -c --quiet >/dev/null 2>&1) ||
		damaged "a file does not match its hash in MANIFEST"
	hashes=checked
else
	hashes="not checked (no b2sum)"
fi
out=$("$dir/rdev-agent" --version 2>&1) ||
	refuse "the bundled rdev-agent does not run on this host: $out"
[ "$out" = "rdev-agent $want_version" ] ||
	damaged "rdev-agent --version printed '$out', want 'rdev-agent $want_version'"
echo "ok: rdev-agent $want_version runs on this host ($os/$arch, glibc $glibc; hashes $hashes)"
EOF
chmod 0755 "$dir/rdev-agent-check"

# 7. MANIFEST and bundle.hash.
{
	echo "format: rdev-agent-bundle 1"
	echo "version: $version"
	echo "os: linux"
	echo "arch: $arch"
	echo "interpreter: $interp"
	echo "glibc-min: $glibc_min"
	echo "libsodium: static"
	[ $sanitizer = no ] || echo "sanitizer: yes (runtime not bundled; for tests on the build machine only)"
	echo "bundled-libs:$(cd "$dir/lib" && ls | sed 's/^/ /' | tr -d '\n')"
	echo "built-with:$pkgversions"
	(cd "$dir" && find . -type f ! -name MANIFEST ! -name bundle.hash |
		sed 's|^\./||' | LC_ALL=C sort | xargs b2sum -l 256)
} >"$dir/MANIFEST"
(cd "$dir" && b2sum -l 256 MANIFEST) >"$dir/bundle.hash"
chmod 0644 "$dir/MANIFEST" "$dir/bundle.hash"

# 8. The tarball, reproducible: same files, same bytes.
mtime=${SOURCE_DATE_EPOCH:-$(git -C "$src" log -1 --format=%ct 2>/dev/null || echo 0)}
tar -C "$outdir" --sort=name --owner=0 --group=0 --numeric-owner \
	--mtime="@$mtime" --format=gnu -cf - "$name" | gzip -9n >"$dir.tar.gz"

say "$dir.tar.gz ($(du -k "$dir.tar.gz" | cut -f1) KiB; glibc >= $glibc_min; bundle $(cut -c1-16 "$dir/bundle.hash"))"
echo "$dir"
