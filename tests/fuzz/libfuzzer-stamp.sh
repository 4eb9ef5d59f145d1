#!/usr/bin/env bash
# libfuzzer-stamp.sh - run-libfuzzer.sh --build's stamp (WORK/.built): a
# source edited while --build runs (after its file was compiled) makes the
# next --build compile again, not call the folder up to date. Runs the script
# on a tree of its own with a stand-in clang (no compile, no rig).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
t=$(mktemp -d /tmp/rdev-libfuzzer-stamp.XXXXXX)
trap 'touch "$t/go" 2>/dev/null; wait; rm -rf "$t"' EXIT
fail() { echo "FAIL libfuzzer-stamp: $*" >&2; exit 1; }

mkdir -p "$t/src/tests/fuzz" "$t/bin" "$t/work"
cp "$here/run-libfuzzer.sh" "$t/src/tests/fuzz/"
for d in client broker agent common relay; do
	mkdir -p "$t/src/$d"
	echo "int $d;" >"$t/src/$d/$d-mod.c"
done
echo 'int x;' >"$t/src/tests/fuzz/fuzz-one.c"
echo '' >"$t/src/tests/fuzz/fuzz.h"
# The stand-in clang: writes -o's file and logs what it made; a link waits
# for $t/go while $t/hold exists (the test edits a source meanwhile).
echo 'stand-in clang version 1' >"$t/version"
cat >"$t/bin/clang" <<CLANG
#!/usr/bin/env bash
out= compile=0
while [ \$# -gt 0 ]; do
	case \$1 in -o) out=\$2; shift ;; -c) compile=1 ;; --version) cat "$t/version" ;; esac
	shift
done
[ -n "\$out" ] || exit 0
if [ \$compile = 0 ] && [ "\$(basename "\$out")" = fuzz-bad ] && [ -e "$t/badlink" ]; then
	echo "ld: undefined reference to 'nowhere'" >&2
	exit 1
fi
if [ \$compile = 0 ] && [ -e "$t/hold" ]; then
	while [ ! -e "$t/go" ]; do sleep 0.05; done
fi
echo x >"\$out"
echo "\$compile \$(basename "\$out")" >>"$t/clang.log"
CLANG
chmod +x "$t/bin/clang"
export PATH=$t/bin:$PATH
build() { bash "$t/src/tests/fuzz/run-libfuzzer.sh" --build "$t/work"; }

build >/dev/null || fail "the first --build failed"
grep -q '^1 obj-common-common-mod.o$' "$t/clang.log" || fail "the first --build compiled nothing"
out=$(build) || fail "the second --build failed"
case $out in *"up to date"*) ;; *) fail "a second --build, nothing changed: not up to date: $out" ;; esac
echo "ok a second --build with nothing changed is up to date"

# An edit while --build runs: after client-mod.c was compiled, before the end.
sleep 0.01
touch "$t/src/common/common-mod.c" "$t/hold"
: >"$t/clang.log"
build >/dev/null &
b=$!
made() { grep -q '^1 obj-client-client-mod.o$' "$t/clang.log" 2>/dev/null; }
for _ in $(seq 600); do
	! made || break
	sleep 0.05
done
made || fail "the --build did not compile client-mod.c"
sleep 0.01
echo 'int edited;' >>"$t/src/client/client-mod.c"
touch "$t/go"
wait "$b" || fail "the --build during the edit failed"
rm -f "$t/hold"
: >"$t/clang.log"
out=$(build) || fail "the --build after the edit failed"
case $out in *"up to date"*) fail "a source edited during --build: the next --build called it up to date" ;; esac
grep -q '^1 obj-client-client-mod.o$' "$t/clang.log" ||
	fail "a source edited during --build: the next --build did not compile it"
echo "ok a source edited during --build is compiled by the next"

# A source deleted (nothing newer than the stamp) or another compiler version
# (the same path): the next --build compiles again.
build >/dev/null || fail "a --build failed"
rm "$t/src/broker/broker-mod.c"
: >"$t/clang.log"
out=$(build) || fail "the --build after a deletion failed"
case $out in *"up to date"*) fail "a source deleted: the next --build called it up to date" ;; esac
grep -q '^1 obj-common-common-mod.o$' "$t/clang.log" || fail "a source deleted: the next --build compiled nothing"
echo "ok a deleted source makes the next --build compile again"
echo 'stand-in clang version 2' >"$t/version"
out=$(build) || fail "the --build after a compiler upgrade failed"
case $out in *"up to date"*) fail "another clang version: the next --build called it up to date" ;; esac
echo "ok another compiler version makes the next --build compile again"

# A target that does not link (its program from an earlier build gone too):
# --build passes and names it, the other target is linked, and that target's
# own --run fails with the linker's error.
echo 'int y;' >"$t/src/tests/fuzz/fuzz-bad.c"
build >/dev/null || fail "a --build with fuzz-bad failed"
[ -e "$t/work/fuzz-bad" ] || fail "fuzz-bad was not linked"
touch "$t/badlink"
echo 'int z;' >>"$t/src/tests/fuzz/fuzz-bad.c"
rm "$t/work/fuzz-one"
out=$(build 2>&1) || fail "one target that does not link failed the whole --build: $out"
case $out in *"fuzz-bad did not link"*) ;; *) fail "--build did not name the target that did not link: $out" ;; esac
case $out in *"undefined reference to 'nowhere'"*) ;; *) fail "--build did not show the link error: $out" ;; esac
[ -e "$t/work/fuzz-one" ] || fail "a target that does not link kept another from being linked"
[ ! -e "$t/work/fuzz-bad" ] || fail "the target that did not link kept its older program"
set +e
out=$(bash "$t/src/tests/fuzz/run-libfuzzer.sh" --run "$t/work" fuzz-bad 1 2>&1)
rc=$?
set -e
[ $rc -ne 0 ] || fail "--run of a target that does not link passed: $out"
case $out in *"undefined reference to 'nowhere'"*"did not link"*) ;; *) fail "--run did not show the link error: $out" ;; esac
echo "ok a target that does not link fails its own run only, with the error"
echo "5 passed, 0 failed"
