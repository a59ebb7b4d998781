#!/usr/bin/env bash
# Flattened trees or overlayfs layers? Measures, in an unprivileged user namespace (rootless,
# kernel >= 5.11), what a run's root costs with each:
#   - setting it up: one bind mount of the flattened tree vs one overlay mount of N lowerdirs;
#   - using it: python3 startup (hundreds of lookups and opens) and a walk of /usr, in a
#     chroot of the flattened tree vs of an overlay of the same files spread over N layers.
#
#   bench/image-overlay.sh ROOTFS [LAYER_COUNTS]      (e.g. an imported image's rootfs path:
#                                                      `cell image inspect python --json`)
# Results: bench/README-images.md.
set -euo pipefail

rootfs=${1:?usage: image-overlay.sh ROOTFS [\"2 8 32\"]}
counts=${2:-"2 8 32"}
work=$(mktemp -d "${TMPDIR:-/tmp}/cell-bench-overlay.XXXXXX")
trap 'rm -rf "$work"' EXIT
mounts=500
starts=30

# Spread the tree's files over N layer directories by a hash of their path (directories are
# made wherever a file needs them), like an image whose files came from N build steps.
split() {
  local n=$1
  python3 - "$rootfs" "$work/l$n" "$n" <<'PY'
import os, shutil, sys, zlib
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for i in range(n):
    os.makedirs(f"{dst}/{i}", exist_ok=True)
for d, dirs, files in os.walk(src):
    rel = os.path.relpath(d, src)
    for name in files + [x for x in dirs if os.path.islink(os.path.join(d, x))]:
        p = os.path.normpath(os.path.join(rel, name))
        layer = f"{dst}/{zlib.crc32(p.encode()) % n}"
        os.makedirs(os.path.join(layer, os.path.dirname(p)), exist_ok=True)
        s = os.path.join(src, p)
        if os.path.islink(s):
            os.symlink(os.readlink(s), os.path.join(layer, p))
        elif os.path.isfile(s):  # device nodes and FIFOs are left out
            shutil.copy2(s, os.path.join(layer, p))
for i in range(n):  # every layer gets the mount points, so each can be a lowerdir alone
    for mp in ("proc", "dev", "sys", "tmp", "workspace"):
        os.makedirs(f"{dst}/{i}/{mp}", exist_ok=True)
PY
}

# mount(2)+umount2(2) pairs timed inside a user+mount namespace (ctypes: no exec per mount).
# $2: "bind SOURCE" or "overlay LOWERDIRS".
measure_mounts() {
  local what=$1 kind=$2 arg=$3
  mkdir -p "$work/m"
  unshare -Urm python3 - "$kind" "$arg" "$work/m" "$mounts" "$what" <<'PY'
import ctypes, os, sys, time
kind, arg, target, n, what = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
libc = ctypes.CDLL(None, use_errno=True)
MS_BIND, MS_RDONLY, MNT_DETACH = 4096, 1, 2
def once():
    if kind == "bind":
        r = libc.mount(arg.encode(), target.encode(), None, MS_BIND, None)
    else:
        r = libc.mount(b"overlay", target.encode(), b"overlay", MS_RDONLY, f"lowerdir={arg}".encode())
    if r != 0:
        raise OSError(ctypes.get_errno(), "mount")
    libc.umount2(target.encode(), MNT_DETACH)
once()
t = time.perf_counter()
for _ in range(n):
    once()
print(f"{what:<28} {(time.perf_counter() - t) / n * 1e6:8.1f} us per mount+umount")
PY
}

measure_use() {
  local what=$1 setup=$2
  local out
  out=$(unshare -Urm sh -c "mkdir -p $work/m; $setup
    a=\$(date +%s%N); for i in \$(seq $starts); do chroot $work/m /usr/bin/python3 -c pass; done; b=\$(date +%s%N)
    c=\$(date +%s%N); chroot $work/m /usr/bin/python3 -c 'import os
n = 0
for _ in range(3):
    for d, ds, fs in os.walk(\"/usr\"): n += len(fs)
print(n)' >/dev/null; e=\$(date +%s%N)
    echo \$(( (b - a) / $starts / 1000 )) \$(( (e - c) / 3000000 ))")
  set -- $out
  printf '%-28s python3 -c pass %6.1f ms   walk /usr %6.1f ms\n' "$what" "$(awk -v x="$1" 'BEGIN{print x/1000}')" "$2"
}

echo "rootfs: $rootfs ($(du -sh "$rootfs" | cut -f1), $(find "$rootfs" | wc -l) entries); kernel $(uname -r)"
measure_mounts "bind (flattened)" bind "$rootfs"
measure_use "bind (flattened)" "mount --bind $rootfs $work/m"
for n in $counts; do
  split "$n"
  lower=$(for i in $(seq $((n - 1)) -1 0); do printf '%s:' "$work/l$n/$i"; done)
  lower=${lower%:}
  measure_mounts "overlay, $n lowerdirs" overlay "$lower"
  measure_use "overlay, $n lowerdirs" "mount -t overlay overlay -o ro,lowerdir=$lower $work/m"
  echo "  layers on disk: $(du -sh "$work/l$n" | cut -f1)"
  rm -rf "$work/l$n"
done
