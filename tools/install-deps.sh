#!/bin/sh
# Install the Debian 12 packages lvc needs to build and test (idempotent).
# Usage: tools/install-deps.sh [--train]   (as root, or with sudo available)
set -eu
pkgs="build-essential meson ninja-build pkg-config libpng-dev libopenblas-dev check
libavcodec-dev libavformat-dev libavutil-dev libswscale-dev clang libclang-rt-14-dev
patch xz-utils zlib1g-dev"
if [ "${1:-}" = "--train" ]; then
  pkgs="$pkgs python3-torch python3-numpy python3-pil"
fi
missing=""
for p in $pkgs; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
if [ -z "$missing" ]; then
  exit 0
fi
echo "installing:$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
