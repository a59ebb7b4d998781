#!/usr/bin/env bash
# Builds the benchmark helpers (bench/micro/*.c) into DIR when their source is newer.
#   bench/micro/build.sh DIR
set -euo pipefail
src=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh DIR}
mkdir -p "$out"
build() {  # name, extra flags
  local name=$1
  shift
  if [ ! -x "$out/$name" ] || [ "$src/$name.c" -nt "$out/$name" ]; then
    gcc -O2 -Wall -Wextra "$@" -o "$out/$name" "$src/$name.c"
  fi
}
build spin -static
build cgv1
build nscost
