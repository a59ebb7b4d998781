#!/usr/bin/env bash
# Builds (once, then cached) the root filesystems the launch benchmarks share between bwrap,
# crun, unshare and cell, so every runtime starts the very same files:
#
#   bench/rootfs.sh busybox   -> $BENCH_WORK/busybox   (/bin/busybox + applet links, ~2 MB)
#   bench/rootfs.sh python    -> $BENCH_WORK/python    (Debian bookworm essential + python3)
#   bench/rootfs.sh all
#
# BENCH_WORK defaults to /var/tmp/cell-bench. --force rebuilds. The python root comes from
# mmdebstrap with the same options as tools/build-image's python recipe (and the same .deb
# cache, so a rebuild downloads nothing), written as a plain directory instead of an image.
# Prints the path of each root on stdout.
set -euo pipefail

work=${BENCH_WORK:-/var/tmp/cell-bench}
force=0
targets=()
for a in "$@"; do
  case "$a" in
    --force) force=1 ;;
    busybox | python) targets+=("$a") ;;
    all) targets+=(busybox python) ;;
    *) echo "usage: $0 [--force] busybox|python|all" >&2; exit 2 ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(busybox python)
mkdir -p "$work"

# The mount points every runtime needs inside: bwrap and crun mount /proc, /dev, /tmp there and
# cannot create them in a read-only root.
add_mount_points() {
  mkdir -p "$1"/{proc,dev,sys,tmp,etc,root,workspace}
  chmod 1777 "$1/tmp"
}

build_busybox() {
  local dir=$work/busybox
  if [ -f "$dir/.done" ] && [ $force = 0 ]; then echo "$dir"; return; fi
  local bb=/bin/busybox
  file -L "$bb" 2>/dev/null | grep -q 'statically linked' ||
    { echo "rootfs.sh: $bb is not static (apt install busybox-static)" >&2; exit 1; }
  rm -rf "$dir" && mkdir -p "$dir/bin"
  cp "$bb" "$dir/bin/busybox"
  local applet
  for applet in $("$bb" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$dir/bin/$applet"
  done
  ln -s bin "$dir/sbin"
  mkdir -p "$dir/usr"
  ln -s ../bin "$dir/usr/bin"
  add_mount_points "$dir"
  echo 'root:x:0:0:root:/root:/bin/sh' > "$dir/etc/passwd"
  echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >> "$dir/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$dir/etc/group"
  touch "$dir/.done"
  echo "$dir"
}

debian_mirror() {
  local m
  m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources \
    2>/dev/null | grep -Eo 'https?://[^ ]*/debian/?( |$)' | grep -v security | head -n1 |
    tr -d ' ' || true)
  echo "${m:-http://deb.debian.org/debian}"
}

build_python() {
  local dir=$work/python
  if [ -f "$dir/.done" ] && [ $force = 0 ]; then echo "$dir"; return; fi
  [ "$(id -u)" = 0 ] || { echo "rootfs.sh: python: mmdebstrap to a directory needs root" >&2; exit 1; }
  local cache=${CELL_IMAGE_CACHE:-/var/cache/cell/debs}
  mkdir -p "$cache"
  local hooks=()
  [ ! -d /usr/share/mmdebstrap/hooks/merged-usr ] ||
    hooks=(--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr)
  rm -rf "$dir"
  echo "rootfs.sh: python: mmdebstrap bookworm essential + python3 -> $dir" >&2
  mmdebstrap --quiet --variant=essential --include=python3 "${hooks[@]}" \
    --aptopt='APT::Install-Recommends "false"' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --setup-hook='mkdir -p "$1"/var/cache/apt/archives' \
    --setup-hook="sync-in '$cache' /var/cache/apt/archives" \
    --customize-hook="sync-out /var/cache/apt/archives '$cache'" \
    --customize-hook='rm -f "$1"/var/cache/apt/archives/*.deb' \
    bookworm "$dir" "$(debian_mirror)" > "$work/python-mmdebstrap.log" 2>&1 ||
    { tail -n 30 "$work/python-mmdebstrap.log" >&2; exit 1; }
  add_mount_points "$dir"
  chroot "$dir" python3 -c pass || { echo "rootfs.sh: python3 does not run in $dir" >&2; exit 1; }
  touch "$dir/.done"
  echo "$dir"
}

for t in "${targets[@]}"; do "build_$t"; done
