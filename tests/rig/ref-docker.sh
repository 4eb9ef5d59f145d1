#!/usr/bin/env bash
# ref-docker.sh - the docker (or, called as ref-docker-compose.sh, the
# docker-compose) the reference CLI runs in the rig's tests with Features
# (lib.sh, rig_reference_features: --docker-path, --docker-compose-path).
#
# Without BuildKit (Debian's docker.io has no buildx) the reference builds a
# configuration's Features through one image of a fixed name,
# dev_container_feature_content_temp: `docker build -t` that name, then a
# Dockerfile (or a Compose override's build) that says FROM that name. Two
# such runs at once on one Docker engine take each other's. Here each run of
# the reference gets a name of its own (dev_container_feature_content_temp_TAG,
# TAG from RIG_REF_TAG): in the arguments, and in the files it wrote for the
# build (they are all under its own TMPDIR, made by rig_reference_features),
# so its runs need not take turns. What the containers are made of is the
# same: the name is the reference's intermediate image's, nowhere in the
# result.
set -u
fixed=dev_container_feature_content_temp
case $(basename "$0") in
ref-docker-compose.sh) real=(docker-compose) ;;
*) real=(docker) ;;
esac
if [ -z "${RIG_REF_TAG:-}" ]; then
	exec "${real[@]}" "$@"
fi
own=${fixed}_$RIG_REF_TAG
args=()
for a in "$@"; do
	args+=("${a//$fixed/$own}")
done
# (the reference writes the files before it runs what reads them)
if [ -n "${TMPDIR:-}" ] && [ -d "$TMPDIR" ] && [[ " $* " == *" build "* || " $* " == *" up "* ]]; then
	grep -rlZ --fixed-strings -- "$fixed" "$TMPDIR" 2>/dev/null |
		xargs -0 -r sed -i "s/\\b$fixed\\b/$own/g"
fi
exec "${real[@]}" "${args[@]}"
