#!/usr/bin/env bash
# ssh-preferred-auth.sh - PreferredAuthentications is honoured, as ssh does:
# rdev tries the methods it does of the list (publickey,
# keyboard-interactive, password), in the list's order, and no others. With
# `PreferredAuthentications password` (and no terminal) rdev does not log in
# with the key the rig host accepts (it did: the option was called harmless
# when the list had publickey, and ignored with a note otherwise); with
# `keyboard-interactive,publickey` it does (keyboard-interactive has nobody
# to ask, publickey follows).
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
rig_remote_host pa
trap 'rig_remote_cleanup' EXIT
logins() { grep -c "Accepted publickey for " "$hdir/sshd.log" || true; }

# (first value wins: before the rig's Host block)
{ echo "PreferredAuthentications password"; cat "$cfg"; } >"$TEST_TMP/pw_config"
n=$(logins)
rc=0
RDEV_SSH_CONFIG=$TEST_TMP/pw_config rdev ls "$name:" >/dev/null 2>"$TEST_TMP/pw.err" || rc=$?
check "password only: rdev ls fails" test "$rc" != 0
check "... publickey not tried, saying why" \
	grep -qF "tried: no key (publickey not tried)" "$TEST_TMP/pw.err"
check "... PreferredAuthentications named" \
	grep -qF "(PreferredAuthentications limits what rdev tries)" "$TEST_TMP/pw.err"
check "... no note calling it unsupported" \
	bash -c "! grep -q 'PreferredAuthentications is not supported' '$TEST_TMP/pw.err'"
check_eq "... sshd accepted no key" "$(logins)" "$n"

{ echo "PreferredAuthentications keyboard-interactive,publickey"; cat "$cfg"; } \
	>"$TEST_TMP/otp_config"
rc=0
RDEV_SSH_CONFIG=$TEST_TMP/otp_config rdev ls "$name:" >/dev/null 2>"$TEST_TMP/otp.err" || rc=$?
[ "$rc" = 0 ] || cat "$TEST_TMP/otp.err" >&2
check_eq "keyboard-interactive,publickey: rdev ls works (publickey)" "$rc" 0
check_eq "... sshd accepted the key" "$(logins)" "$((n + 1))"
