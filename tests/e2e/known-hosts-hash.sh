#!/usr/bin/env bash
# known-hosts-hash.sh - recording a host key with --accept-new-host-key
# honours HashKnownHosts yes (as Debian's /etc/ssh/ssh_config sets it): the
# entry is hashed as OpenSSH writes it (|1|SALT|HMAC-SHA1), ssh-keygen -F
# finds it, and the next command is let in by it; with UserKnownHostsFile
# /dev/null the unknown key's message says it is not recorded (asked again).
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker
rig_remote_host kh
trap 'rig_remote_cleanup' EXIT
port=$(sed -n 's/^ *Port //p' "$cfg")
addr=$(sed -n 's/^ *HostName //p' "$cfg")

# conf KNOWN_HOSTS [MORE...]: an ssh config for the host with that file
conf() {
	{
		echo "Host $name"
		echo "  UserKnownHostsFile $1"
		shift
		printf '  %s\n' "$@"
		cat "$cfg"
	} >"$TEST_TMP/ssh_config"
}
export RDEV_SSH_CONFIG=$TEST_TMP/ssh_config

conf "$TEST_TMP/kh" "HashKnownHosts yes"
rdev ls "$name:" >/dev/null 2>"$TEST_TMP/ls0.err" && fail "an unknown host key was let in"
check "unknown: refused, naming the file it would be recorded in" \
	grep -qF "(it is then recorded in $TEST_TMP/kh)" "$TEST_TMP/ls0.err"
rdev ls "$name:" --accept-new-host-key >/dev/null 2>"$TEST_TMP/ls1.err" ||
	{ cat "$TEST_TMP/ls1.err" >&2; fail "rdev ls --accept-new-host-key failed"; }
check_eq "one entry recorded" "$(wc -l <"$TEST_TMP/kh")" 1
check "it is hashed (|1|SALT|HASH TYPE KEY)" \
	grep -qE '^\|1\|[A-Za-z0-9+/]{27}=\|[A-Za-z0-9+/]{27}= ssh-ed25519 [A-Za-z0-9+/=]+$' "$TEST_TMP/kh"
check "the host name is not in it" bash -c "! grep -qF '$addr' '$TEST_TMP/kh'"
check "ssh-keygen -F finds it (the hash is OpenSSH's)" \
	bash -c "ssh-keygen -F '[$addr]:$port' -f '$TEST_TMP/kh' | grep -q ssh-ed25519"
broker stop >/dev/null
rc=0
rdev ls "$name:" >/dev/null 2>"$TEST_TMP/ls3.err" || { rc=$?; cat "$TEST_TMP/ls3.err" >&2; }
check_eq "the next command is let in by the hashed entry" "$rc" 0

# --- UserKnownHostsFile /dev/null ---------------------------------------------
broker stop >/dev/null
conf /dev/null
rdev ls "$name:" >/dev/null 2>"$TEST_TMP/ls2.err" && fail "an unknown host key was let in"
check "/dev/null: the message says it is not recorded, and will be asked again" \
	grep -qF "(it is not recorded, UserKnownHostsFile is /dev/null: it will be asked again)" "$TEST_TMP/ls2.err"
check "/dev/null: never 'recorded in /dev/null'" bash -c "! grep -qF 'recorded in /dev/null' '$TEST_TMP/ls2.err'"
