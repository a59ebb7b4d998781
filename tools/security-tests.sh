#!/usr/bin/env bash
# The security and reliability checks that need more than the ordinary suite (issue 5), timed:
#   sanitize  a second build with ASan + UBSan (CELL_SANITIZE=ON, in BUILD_DIR-asan; the child
#             object library stays uninstrumented) running the labels in $CELL_SANITIZE_LABELS
#   fuzz      tools/fuzz.sh: every libFuzzer target for $CELL_FUZZ_SECONDS (in BUILD_DIR-fuzz)
#   load      the load test (label load) from BUILD_DIR: 10,000 sequential runs, then 2 threads
#             for $CELL_LOAD_SECONDS; as root, plus rootless when CELL_LOAD_USERNS=1
# The escape, bomb and fault tests (tests/security) are part of the ordinary suite (labels root
# and userns) that tools/run-tests.sh runs.
#   tools/security-tests.sh BUILD_DIR [sanitize] [fuzz] [load]      (default: all three)
# Environment (CI defaults in brackets): CELL_SANITIZE_LABELS [unit|root|userns],
#   CELL_SANITIZE_EXCLUDE [images|load|cgroup1] (left out of the sanitizer run: image builds,
#   the long load test, and the cgroup accuracy bounds, which an ASan parent cannot keep),
#   CELL_FUZZ_SECONDS [30], CELL_LOAD_RUNS [10000], CELL_LOAD_SECONDS [300], CELL_JOBS [2].
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 1 ] || { sed -n '2,15p' "$0" >&2; exit 2; }
build=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
shift
parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(sanitize fuzz load)
jobs=${CELL_JOBS:-2}
export CELL_LOAD_RUNS=${CELL_LOAD_RUNS:-10000} CELL_LOAD_SECONDS=${CELL_LOAD_SECONDS:-300}

summary=()
status=0
# run NAME COMMAND...: runs it, records its time and outcome.
run() {
  local name=$1 start rc
  shift
  echo "== $name"
  start=$(date +%s)
  "$@"
  rc=$?
  summary+=("$(printf '%-10s %4ss  %s' "$name" $(($(date +%s) - start)) \
    "$([ $rc -eq 0 ] && echo ok || echo "FAILED ($rc)")")")
  [ $rc -eq 0 ] || status=1
}

sanitize() {
  local asan=$build-asan
  # -O1 -g1: half the build time of RelWithDebInfo, still line numbers in every report; no
  # NDEBUG, so assertions are checked too.
  cmake -S "$root" -B "$asan" -DCMAKE_BUILD_TYPE=Sanitize -DCMAKE_CXX_FLAGS_SANITIZE="-O1 -g1" \
    -DCMAKE_C_FLAGS_SANITIZE="-O1 -g1" -DCELL_SANITIZE=ON >/dev/null &&
    cmake --build "$asan" -j"$jobs" &&
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      ctest --test-dir "$asan" --output-on-failure -j"$jobs" \
      -L "${CELL_SANITIZE_LABELS:-unit|root|userns}" -LE "${CELL_SANITIZE_EXCLUDE:-images|load|cgroup1}"
}

fuzz() {
  CELL_FUZZ_BUILD=$build-fuzz "$root/tools/fuzz.sh" "${CELL_FUZZ_SECONDS:-30}"
}

load() {
  local tests='^load_test$'
  [ "${CELL_LOAD_USERNS:-0}" = 1 ] && tests='^load_test(_userns)?$'
  cmake --build "$build" -j"$jobs" --target load_test cell_probe &&
    ctest --test-dir "$build" --output-on-failure -V -R "$tests"
}

for p in "${parts[@]}"; do
  case $p in
    sanitize | fuzz | load) run "$p" "$p" ;;
    *) echo "security-tests.sh: unknown part '$p' (sanitize, fuzz, load)" >&2; exit 2 ;;
  esac
done
echo "== summary"
printf '%s\n' "${summary[@]}"
exit $status
