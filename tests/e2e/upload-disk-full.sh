#!/usr/bin/env bash
# upload-disk-full.sh - an upload to a host whose disk is full (a 1 MiB tmpfs
# as the host account's workspace root): the error names the host and the
# file's path there, and says the host's disk is full, instead of
# "./big: 'blob.bin': No space left on device", which reads as this
# machine's.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
rig_remote_host df
root=$hdir/home/rdev/workspaces
# The tmpfs is unmounted once the broker stopped (the host's agent, which
# the session's end stops, may still have a file of it open: then lazily),
# before the host's folder is removed; a mount left behind under the rig's
# run dir is said, and fails the test.
df_cleanup() {
	local rc=$?
	set +e
	broker stop >/dev/null 2>&1
	if mountpoint -q "$root"; then
		umount "$root" 2>/dev/null || umount -l "$root" || {
			echo "FAIL upload-disk-full: cannot unmount the tmpfs at $root (left mounted)" >&2
			[ "$rc" != 0 ] || rc=1
		}
	fi
	(exit $rc)
	rig_remote_cleanup
}
trap df_cleanup EXIT
mkdir -p "$root"
mount -t tmpfs -o size=1m,mode=0755 tmpfs "$root" || fail "cannot mount a tmpfs at $root"
chown "$(stat -c %u:%g "$hdir/home")" "$root"

mkdir -p "$TEST_TMP/big"
head -c 3000000 /dev/zero >"$TEST_TMP/big/blob.bin"
rc=0
(cd "$TEST_TMP" && rdev sync "$name:" ./big) >/dev/null 2>"$TEST_TMP/sync.err" || rc=$?
cat "$TEST_TMP/sync.err" >&2
check "sync fails" test "$rc" != 0
check "the error names the host, the file's path there and the full disk" \
	grep -qE "^rdev: sync: \./big: on $name: cannot write $root/big-[0-9a-f]+/blob\.bin: No space left on device \(the host's disk is full\)$" \
	"$TEST_TMP/sync.err"
