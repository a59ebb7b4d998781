#!/usr/bin/env bash
# The launch benchmarks of issue 6, re-runnable after each optimisation:
#
#   bench/run.sh [--quick] [--breakdown] [--only true|python] [--no-cpu] [--cell PATH]
#
#   (default)     cell vs native / unshare / bwrap / crun: 200 alternating rounds for /bin/true,
#                 100 for python3 -c pass, 10 s of two-worker throughput per variant (~4 min),
#                 then the CPU-bound loop (7 × 2 × 2 s)
#   --quick       40 rounds, 3 s throughput, 3 CPU-loop pairs (~1 min)
#   --breakdown   also bench/breakdown.sh (strace, perf, micro-benchmarks; ~3 min more)
#   --gap-ms MS   idle MS before each round (shows the cold cgroup-attach cost; see README)
#   --rounds N, --seconds S   override the rounds for /bin/true (python: half) and throughput
#
# Needs root. Roots and helpers are built once under BENCH_WORK (default /var/tmp/cell-bench);
# each run's report goes to BENCH_WORK/results/run-DATE.md (and .json) and to stdout.
# The cell binary: --cell, $CELL, or the newest build*/src/cli/cell of a Release or
# RelWithDebInfo build tree.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
work=${BENCH_WORK:-/var/tmp/cell-bench}
quick=0 breakdown=0 cpu=1 only="" cell=${CELL:-} gap=0 rounds="" seconds=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; shift ;;
    --breakdown) breakdown=1; shift ;;
    --no-cpu) cpu=0; shift ;;
    --only) only=$2; shift 2 ;;
    --gap-ms) gap=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --cell) cell=$2; shift 2 ;;
    -h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "run.sh: run as root (cgroups, crun, the python root)" >&2; exit 2; }

find_cell() {
  local c type
  for c in $(ls -t "$repo"/build*/src/cli/cell 2>/dev/null); do
    type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "${c%/src/cli/cell}/CMakeCache.txt" 2>/dev/null)
    case "$type" in Release | RelWithDebInfo) echo "$c"; return ;; esac
  done
}
[ -n "$cell" ] || cell=$(find_cell)
[ -x "$cell" ] || { echo "run.sh: no Release/RelWithDebInfo cell binary; build one or pass --cell" >&2; exit 2; }
cell=$(readlink -f "$cell")

"$here"/rootfs.sh busybox python >/dev/null
"$here"/micro/build.sh "$work/bin"

stamp=$(date +%Y%m%d-%H%M%S)
mkdir -p "$work/results"
report=$work/results/run-$stamp.md
if [ $quick = 1 ]; then rounds=${rounds:-40} seconds=${seconds:-3} cpu_runs=3
else rounds=${rounds:-200} seconds=${seconds:-10} cpu_runs=7; fi
echo "run.sh: cell = $cell (choose with --cell)" >&2

{
  "$here"/launch.py suite --cell "$cell" --busybox "$work/busybox" --python "$work/python" \
    --work "$work" --rounds $rounds --seconds $seconds --gap-ms "$gap" ${only:+--only "$only"} \
    --json "$work/results/run-$stamp.json"
  if [ $cpu = 1 ]; then
    echo
    "$here"/launch.py cpu --cell "$cell" --spin "$work/bin/spin" --rootfs "$work/busybox" --runs $cpu_runs
  fi
} | tee "$report"
if [ $breakdown = 1 ]; then
  CELL=$cell BENCH_WORK=$work "$here"/breakdown.sh | tee -a "$report"
fi
echo "run.sh: report in $report" >&2
