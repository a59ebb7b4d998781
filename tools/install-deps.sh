#!/usr/bin/env bash
# Installs what building and testing cell needs on Debian 12 (bookworm). Idempotent:
# apt-get runs only when a package is missing. Needs root (or sudo).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

packages=(
  # build
  g++ cmake make pkg-config clang clang-format
  # libFuzzer and clang's sanitizer runtimes (only a Recommends of clang-14)
  libclang-rt-14-dev
  # libraries
  libseccomp-dev libcap-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libyaml-cpp-dev
  libgtest-dev libgmock-dev libarchive-dev libssl-dev libcli11-dev libcpp-httplib-dev
  # static archives of libarchive's own dependencies (the cell binary links them statically)
  nettle-dev libxml2-dev libicu-dev liblzma-dev libbz2-dev zlib1g-dev libzstd-dev liblz4-dev
  libacl1-dev
  # runtime helpers and test tools
  uidmap python3 busybox-static iproute2
  # images: building and importing
  skopeo umoci mmdebstrap
  # the cgroup v2 VM (tools/vm-test.sh)
  qemu-system-x86 cpio kmod
  # benchmarks
  bubblewrap
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
