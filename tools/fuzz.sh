#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz, clang with ASan and UBSan) and runs each for a
# bounded time, starting from tests/fuzz/corpus/TARGET. New inputs stay in the work directory,
# not in the repository. Exits non-zero if any target found a crash; the crashing input is
# kept under WORK/crashes/TARGET/ and its reproduction command printed. Add it to
# tests/fuzz/regressions/TARGET/ (fuzz_replay_test replays it) with the fix.
#   tools/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]       (default 30 s, every target)
# Environment: CELL_FUZZ_BUILD (default build-fuzz), CELL_FUZZ_WORK (default a temp dir),
#              CELL_JOBS (default 2).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(layer oci_json docker_manifest profile units)
build=${CELL_FUZZ_BUILD:-$root/build-fuzz}
jobs=${CELL_JOBS:-2}
work=${CELL_FUZZ_WORK:-$(mktemp -d /tmp/cell-fuzz.XXXXXX)}
mkdir -p "$work"

command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ not found (apt-get install clang)" >&2; exit 2; }
# The child object library and the tests are configured too, but only the targets are built.
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCELL_FUZZ=ON -DCELL_TESTS=OFF >/dev/null
cmake --build "$build" -j"$jobs" --target $(printf 'fuzz_%s ' "${targets[@]}")

status=0
for t in "${targets[@]}"; do
  corpus=$work/corpus/$t
  crashes=$work/crashes/$t
  mkdir -p "$corpus" "$crashes"
  echo "== fuzz_$t: ${seconds}s"
  # ASan: leaks count too; the layer target needs its own work directory (CELL_FUZZ_DIR).
  if ! CELL_FUZZ_DIR=$work ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len=65536 -print_final_stats=1 -artifact_prefix="$crashes/" \
      "$corpus" "$root/tests/fuzz/corpus/$t" 2>"$work/$t.log"; then
    status=1
    echo "fuzz_$t FAILED; log: $work/$t.log"
    grep -E "ERROR|runtime error|invariant|Test unit written" "$work/$t.log" | head -5 || true
    for f in "$crashes"/*; do
      [ -e "$f" ] && echo "  reproduce: CELL_FUZZ_DIR=$work $build/tests/fuzz/fuzz_$t $f"
    done
  else
    grep -E "^stat::(number_of_executed_units|new_units_added)" "$work/$t.log" | tr '\n' ' '
    echo
  fi
  # Work directories the layer target leaves when it stops mid-input.
  rm -rf "$work"/layer-* 2>/dev/null || true
done
echo "fuzz work directory: $work"
exit $status
