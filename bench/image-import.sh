#!/usr/bin/env bash
# Import speed: `cell image import` against `umoci unpack` of the same OCI image, best of N
# runs each, page cache warm (both read the same blobs). Also: a re-import of an image the
# store already has (name update only), and `cell image export`.
#
#   bench/image-import.sh [OCI_LAYOUT:TAG] [RUNS]
# Without a layout it builds the python language image's layout (tools/build-image --no-import).
# Results: bench/README-images.md.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cell=${CELL:-$(ls -t "$here"/build*/src/cli/cell 2>/dev/null | head -n1)}
runs=${2:-3}
work=$(mktemp -d "${TMPDIR:-/tmp}/cell-bench-images.XXXXXX")
trap 'rm -rf "$work"' EXIT
now() { date +%s.%N; }
best() { sort -g | head -n1; }

src=${1:-}
if [ -z "$src" ]; then
  "$here"/tools/build-image --no-import --layout "$work/oci" python >/dev/null
  src="$work/oci:python"
fi
layout=${src%:*}
rootless=""
[ "$(id -u)" = 0 ] || rootless=--rootless

blob_bytes=$(du -sb "$layout/blobs" | cut -f1)
echo "image: $src ($((blob_bytes / 1024 / 1024)) MiB of blobs), $runs runs each, best shown"

umoci_times=()
for _ in $(seq "$runs"); do
  rm -rf "$work/bundle"
  t=$(now)
  umoci unpack $rootless --image "$src" "$work/bundle" >/dev/null
  umoci_times+=("$(awk -v a="$t" -v b="$(now)" 'BEGIN { print b - a }')")
done
tree_bytes=$(du -sb "$work/bundle/rootfs" | cut -f1)
rm -rf "$work/bundle"

cell_times=()
for i in $(seq "$runs"); do
  rm -rf "$work/data$i"
  t=$(now)
  CELL_DATA="$work/data$i" "$cell" image import --quiet --name bench "oci:$src" >/dev/null
  cell_times+=("$(awk -v a="$t" -v b="$(now)" 'BEGIN { print b - a }')")
  [ "$i" = "$runs" ] || rm -rf "$work/data$i"
done
t=$(now)
CELL_DATA="$work/data$runs" "$cell" image import --quiet --name bench:again "oci:$src" >/dev/null 2>&1
again=$(awk -v a="$t" -v b="$(now)" 'BEGIN { print b - a }')
t=$(now)
CELL_DATA="$work/data$runs" "$cell" image export bench "$work/export"
export_s=$(awk -v a="$t" -v b="$(now)" 'BEGIN { print b - a }')
store_bytes=$(du -sb "$work/data$runs/images" | cut -f1)

u=$(printf '%s\n' "${umoci_times[@]}" | best)
c=$(printf '%s\n' "${cell_times[@]}" | best)
printf '%-34s %8.2f s   (runs: %s)\n' "umoci unpack" "$u" "${umoci_times[*]}"
printf '%-34s %8.2f s   (runs: %s)\n' "cell image import" "$c" "${cell_times[*]}"
printf '%-34s %8.2f s\n' "cell image import (already stored)" "$again"
printf '%-34s %8.2f s\n' "cell image export" "$export_s"
printf 'flattened tree %d MiB; store (blobs + tree) %d MiB; cell/umoci time %.2f\n' \
  $((tree_bytes / 1024 / 1024)) $((store_bytes / 1024 / 1024)) "$(awk -v a="$c" -v b="$u" 'BEGIN { print a / b }')"
