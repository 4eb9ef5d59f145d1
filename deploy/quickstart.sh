#!/usr/bin/env bash
# quickstart.sh - set up rdev on this machine and run its main job (README
# "Quick start"). Run as root on Debian 12; idempotent.
#
# Installs the build dependencies, builds rdev and installs rdev, rdev-agent
# and rdev-broker into /usr/local/bin (and the agent bundle the broker uploads
# to SSH hosts into /usr/local/lib/rdev/agent-bundle/); makes sure a Docker
# engine runs (Debian's docker.io); gets the example's base image (pulled, or built locally with
# debootstrap where no registry is reachable); then brings up examples/hello
# with `rdev up` and runs a command in it with `rdev exec`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-build-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRDEV_BENCH=OFF >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
cmake --install build --prefix /usr/local >/dev/null
echo "installed: $(command -v rdev) ($(rdev --version))"

bash deploy/ensure-docker.sh
bash deploy/ensure-base-image.sh debian:bookworm-slim

echo
echo "\$ rdev up examples/hello"
rdev up examples/hello
echo
echo "\$ rdev exec examples/hello -- cat /tmp/greeting"
rdev exec examples/hello -- cat /tmp/greeting
echo
echo "\$ rdev exec examples/hello -- sh -c 'id -un; pwd; echo \$GREETING'"
rdev exec examples/hello -- sh -c 'id -un; pwd; echo $GREETING'
echo
echo "The dev container keeps running; \`rdev down examples/hello\` removes it."
