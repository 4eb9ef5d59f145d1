#!/usr/bin/env bash
# ensure-base-image.sh IMAGE - make a Debian bookworm image available as IMAGE:
# present already, or pulled, or - where no registry can be reached - built
# here with debootstrap --variant=minbase and `docker import` (a rootfs tarball
# is cached in $RDEV_CACHE_DIR, default /var/cache/rdev). Run as root.
set -euo pipefail
image=${1:?image name}
cache=${RDEV_CACHE_DIR:-/var/cache/rdev}

docker image inspect "$image" >/dev/null 2>&1 && exit 0
# RDEV_NO_PULL=1: build locally without trying a registry (the test rig).
if [ "${RDEV_NO_PULL:-}" != 1 ]; then
	timeout 120 docker pull -q "$image" >/dev/null 2>&1 && exit 0
	echo "cannot pull $image: building a Debian bookworm image locally instead" >&2
fi
command -v debootstrap >/dev/null || {
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
}
mkdir -p "$cache"
tarball=$cache/bookworm-minbase.tar
if [ ! -s "$tarball" ]; then
	mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
	[ -n "$mirror" ] || mirror=$(awk '/^deb / {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
	root=$(mktemp -d "$cache/root.XXXXXX")
	echo "debootstrap bookworm (about a minute)" >&2
	debootstrap --variant=minbase bookworm "$root" "${mirror:-http://deb.debian.org/debian}" \
		>"$cache/debootstrap.log" 2>&1 || { tail -20 "$cache/debootstrap.log" >&2; rm -rf "$root"; exit 1; }
	rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
	tar -C "$root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
	rm -rf "$root"
fi
docker import -c 'CMD ["/bin/bash"]' "$tarball" "$image" >/dev/null
