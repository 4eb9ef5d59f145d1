#!/usr/bin/env bash
# install-build-deps.sh - the Debian packages rdev builds with (idempotent).
set -euo pipefail
pkgs=(build-essential cmake pkg-config libssh-dev libevent-dev libcjson-dev libsodium-dev libyaml-dev
	libssl-dev # the broker's HashKnownHosts HMAC-SHA1 (libsodium has no SHA-1)
	libcurl4-openssl-dev zlib1g-dev # the agent's Feature downloads (agent/http-get.c)
	musl-tools) # musl-tools: the static rdev-relay (relay/), tens of KB
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "installing ${missing[*]}" >&2
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-build-deps: need root to install packages (try sudo)" >&2
		exit 1
	fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null
fi
