#!/usr/bin/env bash
# rig-smoke.sh - proves the rig: ssh into a rig host with the test key, and from
# there run a container from the local base image and read a file back.
. "$(dirname "$0")/../rig/lib.sh"
rig_require_docker

name=$(rig_host_name s)
cfg=$(rig_host "$name")

check_eq "ssh as the host's test user" \
	"$(ssh -F "$cfg" "$name" id -un)" "rdev-$name"

# A file written on the "remote host" is read back from inside a container
# started there, through a bind mount.
token=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
ssh -F "$cfg" "$name" "mkdir -p ~/work && printf %s $token > ~/work/token"
got=$(ssh -F "$cfg" "$name" \
	"docker run --rm -v \$HOME/work:/work $RDEV_RIG_IMAGE_BOOKWORM cat /work/token")
check_eq "container on the ssh host reads the host's file" "$got" "$token"

check_eq "base image is Debian 12" \
	"$(ssh -F "$cfg" "$name" docker run --rm "$RDEV_RIG_IMAGE_BOOKWORM" cut -d. -f1 /etc/debian_version)" "12"
check_eq "dev image has user dev with UID 1000" \
	"$(docker run --rm "$RDEV_RIG_IMAGE_BOOKWORM_DEV" id -u dev)" "1000"
check "meta image carries a devcontainer.metadata label" \
	sh -c "docker image inspect --format '{{index .Config.Labels \"devcontainer.metadata\"}}' $RDEV_RIG_IMAGE_BOOKWORM_META | jq -e '.[0].remoteUser == \"dev\"' >/dev/null"
check_eq "busybox image runs" \
	"$(docker run --rm "$RDEV_RIG_IMAGE_BUSYBOX" sh -c 'echo $((6*7))')" "42"
ssh-keygen -q -t ed25519 -N '' -f "$TEST_TMP/other"
sed "s|IdentityFile .*|IdentityFile $TEST_TMP/other|" "$cfg" >"$TEST_TMP/other_config"
check "a wrong key is refused by the rig host" \
	sh -c "! ssh -F '$TEST_TMP/other_config' '$name' true 2>/dev/null"
check_eq "the reference CLI is installed at the pinned version" \
	"$("$RDEV_DEVCONTAINER_CLI" --version)" "0.89.0"
# A container of the host user's uid that an earlier host left (a killed
# test's: no cleanup ran) is removed when a host of that uid starts: the
# name again (a pid comes back) or a new account given a deleted one's uid
# (`rdev ls HOST:~` listed it as the new user's: pool-owners' "the user's
# one environment there" once saw two).
rig_test_containers "devcontainer.local_folder=/nonexistent-rig-smoke-$name"
left=$(docker create --label "dev.rdev.owner_uid=$(id -u "rdev-$name")" \
	--label "devcontainer.local_folder=/nonexistent-rig-smoke-$name" "$RDEV_RIG_IMAGE_BUSYBOX" true)
bash "$RIG" host-stop "$name"
cfg=$(bash "$RIG" host-start "$name" 2>"$TEST_TMP/restart.err")
check "a host's start removes a container an earlier host of its uid left" \
	sh -c "! docker inspect '$left' >/dev/null 2>&1"
check "... saying so" grep -q "host $name: removing 1 container(s) an earlier host of uid" \
	"$TEST_TMP/restart.err"
# (its header is the usage: printed to the last command, however long)
usage=$(bash "$RIG" no-such-command 2>&1 || true)
for c in host-start down accounts env; do
	check "rig.sh's usage names $c" grep -q "^  rig.sh $c " <<<"$usage"
done
finish
