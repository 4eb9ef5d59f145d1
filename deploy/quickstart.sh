#!/usr/bin/env bash
# quickstart.sh - set up rdev on this machine and run its main job (README
# "Quick start"). Run as root on Debian 12; idempotent.
#
# Installs the build dependencies, builds rdev, installs rdev, rdev-agent and
# rdev-broker into /usr/local/bin, then shows what rdev can do. While `rdev up`
# is not built yet (see docs/STATUS.md) that is `rdev --help`; once it is, this
# brings up examples/ on the local Docker engine.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-build-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
cmake --install build --prefix /usr/local >/dev/null
echo "installed: $(command -v rdev) ($(rdev --version))"
echo
rdev --help
