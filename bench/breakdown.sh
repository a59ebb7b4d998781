#!/usr/bin/env bash
# Where the time of one `cell run /bin/true` goes, printed as Markdown sections:
#   1. system calls: strace -c -f and strace -f -ttt -T of one cell run and one bwrap run
#      (files kept under BENCH_WORK/results/trace-DATE/; strace slows everything ~3x, so only
#      counts and relative order are trusted from it)
#   2. perf stat of N runs (task-clock, context switches, page faults), cell and bwrap
#   3. CPU by phase: perf record --call-graph dwarf over N runs, bucketed by bench/perf-phases.py
#   3b. waits (off-CPU) by reason: a system-wide sched_switch trace, bench/offcpu.py; runs back to
#      back, then with 100 ms idle before each (the cold case)
#   4. process start: an empty program linked against cell's shared libraries, vs cell --version
#   5. in situ: cell with one feature turned off at a time (alternating, launch.py compare)
#   6. setup vs payload vs the rest, from cell's own result JSON (usage.setup_ns, wall_ns)
#   7. micro-benchmarks without strace: cgroup v1 (bench/micro/cgv1.c), namespaces and mount
#      steps (bench/micro/nscost.c)
#
#   CELL=build/src/cli/cell bench/breakdown.sh [--quick]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
work=${BENCH_WORK:-/var/tmp/cell-bench}
cell=${CELL:?set CELL to the cell binary}
runs=40 rounds=100
[ "${1:-}" != --quick ] || { runs=15 rounds=30; }
bb=$work/busybox
"$here"/rootfs.sh busybox >/dev/null
"$here"/micro/build.sh "$work/bin"
out=$work/results/trace-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
cell_true=("$cell" run --rootfs "$bb" --memory 256M --pids 64 -- /bin/true)
bwrap_true=(bwrap --unshare-all --die-with-parent --cap-drop ALL --ro-bind "$bb" / --proc /proc --dev /dev /bin/true)
q() { printf '%q ' "$@"; }

echo "## Breakdown, $(date '+%Y-%m-%d %H:%M %Z'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "cell: \`$cell\`; traces and perf data: \`$out\`"

# ---- 1. strace ----
echo
echo "### 1. System calls (strace, one run each)"
echo
echo '| | cell | bwrap |'
echo '|---|---:|---:|'
for who in cell bwrap; do
  if [ $who = cell ]; then cmd=("${cell_true[@]}"); else cmd=("${bwrap_true[@]}"); fi
  strace -f -qq -c -o "$out/strace-c-$who.txt" "${cmd[@]}"
  strace -f -qq -ttt -T -o "$out/strace-t-$who.txt" "${cmd[@]}"
done
count() { awk -v s="$2" '$NF == s { print $4 }' "$out/strace-c-$1.txt" | head -n1; }
total() { awk '$NF == "total" { print $4 }' "$out/strace-c-$1.txt"; }
procs() { cut -d' ' -f1 "$out/strace-t-$1.txt" | sort -u | wc -l; }
echo "| system calls | $(total cell) | $(total bwrap) |"
echo "| processes (strace -f) | $(procs cell) | $(procs bwrap) |"
for s in mount umount2 pivot_root openat mmap mprotect mkdir write read clone3 clone; do
  echo "| $s | $(count cell $s) | $(count bwrap $s) |"
done
echo
echo "Slowest system calls of the cell run under strace (-T; inflated by strace itself):"
echo '```'
sed -E 's/^([0-9]+) +[0-9.]+ (.*) <([0-9.]+)>$/\3 \1 \2/' "$out/strace-t-cell.txt" |
  grep -E '^[0-9]+\.[0-9]+ ' | sort -rn | head -n 8 | cut -c1-150
echo '```'

# ---- 2. perf stat ----
echo
echo "### 2. perf stat, $runs runs each"
echo
if perf stat -e task-clock true >/dev/null 2>&1; then
  echo '| | task-clock ms | context switches | page faults | wall ms |'
  echo '|---|---:|---:|---:|---:|'
  for who in cell bwrap; do
    if [ $who = cell ]; then cmd=("${cell_true[@]}"); else cmd=("${bwrap_true[@]}"); fi
    perf stat -x, -r "$runs" -e task-clock,context-switches,page-faults -o "$out/perf-stat-$who.txt" \
      "${cmd[@]}" >/dev/null
    tc=$(awk -F, '$3 == "task-clock" { printf "%.2f", $1 }' "$out/perf-stat-$who.txt")
    cs=$(awk -F, '$3 == "context-switches" { printf "%.0f", $1 }' "$out/perf-stat-$who.txt")
    pf=$(awk -F, '$3 == "page-faults" { printf "%.0f", $1 }' "$out/perf-stat-$who.txt")
    perf stat -r "$runs" -o "$out/perf-stat-wall-$who.txt" "${cmd[@]}" >/dev/null 2>&1 || true
    wall=$(awk '/seconds time elapsed/ { printf "%.2f", $1 * 1000 }' "$out/perf-stat-wall-$who.txt")
    echo "| $who | $tc | $cs | $pf | $wall |"
  done
  echo
  echo "(hardware counters: \`$(perf stat -e instructions true 2>&1 | grep -m1 instructions | xargs)\` in this VM)"
else
  echo "perf stat does not work here: $(perf stat -e task-clock true 2>&1 | head -n1)"
fi

# ---- 3. perf record by phase ----
echo
echo "### 3. CPU by phase (perf record -e cpu-clock --call-graph dwarf, $runs runs)"
freq=2000
phases() {  # name, comm, command...
  local name=$1 comm=$2
  shift 2
  perf record -q -F $freq -e cpu-clock --call-graph dwarf,16384 -o "$out/perf-$name.data" -- \
    sh -c "for i in \$(seq $runs); do $(q "$@") >/dev/null 2>&1; done" 2>/dev/null
  perf script -i "$out/perf-$name.data" -F comm,pid,tid,ip,sym 2>/dev/null |
    "$here"/perf-phases.py --runs "$runs" --freq $freq --comm "$comm"
}
if perf record -q -e cpu-clock -o "$out/probe.data" true 2>/dev/null; then
  echo
  echo "#### cell run --rootfs busybox --memory 256M --pids 64 -- /bin/true"
  echo
  phases cell-rootfs cell "${cell_true[@]}"
  echo
  echo "#### cell run (host image) --memory 256M --pids 64 -- /bin/true"
  echo
  phases cell-host cell "$cell" run --memory 256M --pids 64 -- /bin/true
  echo
  echo "#### bwrap (busybox root) /bin/true"
  echo
  phases bwrap bwrap "${bwrap_true[@]}"
else
  echo
  echo "perf record does not work here."
fi

# ---- 3b. off-CPU ----
echo
echo "### 3b. Waits by reason (perf record -a -e sched:sched_switch -g, $runs runs)"
offcpu() {  # name, pause between runs, command...
  local name=$1 pause=$2
  shift 2
  perf record -q -a -g -e sched:sched_switch -o "$out/sched-$name.data" -- \
    sh -c "for i in \$(seq $runs); do sleep $pause; $(q "$@") >/dev/null 2>&1; done" 2>/dev/null
  perf script -i "$out/sched-$name.data" -F comm,pid,tid,time,event,trace,ip,sym 2>/dev/null |
    "$here"/offcpu.py --runs "$runs" --comm cell,true
}
if perf record -q -a -e sched:sched_switch -o "$out/probe2.data" true 2>/dev/null; then
  echo
  echo "#### back to back"
  echo
  offcpu warm 0 "${cell_true[@]}"
  echo
  echo "#### 100 ms idle before each run"
  echo
  offcpu cold 0.1 "${cell_true[@]}"
else
  echo
  echo "perf cannot record sched_switch system-wide here."
fi

# ---- 4. process start ----
echo
echo "### 4. Process start: the shared libraries ($rounds alternating rounds)"
echo
libs=$(ldd "$cell" | awk '/=>/ { print $1 }' | sed -E 's/^lib([^.]*)\.so.*/\1/' | tr '\n' ' ')
echo "\`cell\` loads $(ldd "$cell" | grep -c '=>') shared libraries: $libs"
echo
echo 'int main() { return 0; }' > "$out/empty.cc"
g++ -O2 -o "$out/empty-dyn" "$out/empty.cc"
g++ -O2 -static -o "$out/empty-static" "$out/empty.cc"
direct=$(readelf -d "$cell" | sed -n 's/.*Shared library: \[lib\([^.]*\)\.so.*/\1/p' | grep -vE '^(c|m|gcc_s|stdc\+\+)$')
g++ -O2 -o "$out/empty-libs" "$out/empty.cc" -Wl,--no-as-needed $(printf -- '-l%s ' $direct)
for l in archive crypto yaml-cpp seccomp; do
  g++ -O2 -o "$out/empty-$l" "$out/empty.cc" -Wl,--no-as-needed -l$l
done
"$here"/launch.py compare --rounds "$rounds" \
  "empty, static=$out/empty-static" "empty, libc only=$out/empty-dyn" \
  "empty + libarchive (+ its 10 deps)=$out/empty-archive" "empty + libcrypto=$out/empty-crypto" \
  "empty + libyaml-cpp=$out/empty-yaml-cpp" "empty + libseccomp=$out/empty-seccomp" \
  "empty + all of cell's libraries=$out/empty-libs" "cell --version=$(q "$cell") --version"

# ---- 5. in situ ----
echo
echo "### 5. In situ: one thing off at a time ($rounds alternating rounds)"
echo
"$here"/launch.py compare --rounds "$rounds" \
  "cell (standard, --memory --pids)=$(q "${cell_true[@]}")" \
  "no --memory/--pids=$(q "$cell" run --rootfs "$bb" -- /bin/true)" \
  "--seccomp off=$(q "$cell" run --rootfs "$bb" --memory 256M --pids 64 --seccomp off -- /bin/true)" \
  "--network host (no netns)=$(q "$cell" run --rootfs "$bb" --memory 256M --pids 64 --network host -- /bin/true)" \
  "--profile minimal=$(q "$cell" run --rootfs "$bb" --memory 256M --pids 64 --profile minimal -- /bin/true)" \
  "host image=$(q "$cell" run --memory 256M --pids 64 -- /bin/true)" \
  "bwrap=$(q "${bwrap_true[@]}")"

echo
echo "Cold: 100 ms idle before each round ($rounds rounds; the idle also slows bwrap: an idle vCPU"
echo "wakes up slowly)"
echo
"$here"/launch.py compare --rounds "$rounds" --gap-ms 100 \
  "bwrap=$(q "${bwrap_true[@]}")" "cell (standard, --memory --pids)=$(q "${cell_true[@]}")"

# ---- 6. cell's own view ----
echo
echo "### 6. From cell's result JSON ($rounds runs): setup = Runtime::run start to exec seen"
echo
/usr/bin/python3 - "$rounds" "${cell_true[@]}" <<'EOF'
import json, statistics, subprocess, sys, time
rounds, cmd = int(sys.argv[1]), sys.argv[2:]
cmd = cmd[:2] + ["--json"] + cmd[2:]
tot, setup, wall = [], [], []
for _ in range(rounds):
    t = time.perf_counter_ns()
    p = subprocess.run(cmd, capture_output=True, text=True)
    tot.append(time.perf_counter_ns() - t)
    u = json.loads(p.stdout)["usage"]
    setup.append(u["setup_ns"])
    wall.append(u["wall_ns"])
rest = [a - b - c for a, b, c in zip(tot, setup, wall)]
def row(name, xs):
    xs = sorted(xs)
    print("| %s | %.2f | %.2f | %.2f | %d of %d |" % (name, statistics.median(xs) / 1e6, xs[len(xs) // 10] / 1e6,
                                             xs[len(xs) * 9 // 10] / 1e6, sum(x > 5e6 for x in xs), len(xs)))
print("| part | median ms | p10 ms | p90 ms | runs over 5 ms |")
print("|---|---:|---:|---:|---:|")
row("whole command (as the caller sees it)", tot)
row("setup (profile, seccomp, cgroup, plan, clone, join, maps, child steps)", setup)
row("payload wall (exec seen to exit)", wall)
row("the rest: process start + exit, CLI, Runtime::open, verdict, cgroup removal", rest)
EOF

# ---- 7. micro ----
echo
echo "### 7. Micro-benchmarks (no strace)"
echo
echo '```'
"$work/bin/cgv1" "$rounds" 0
echo
"$work/bin/cgv1" 30 50 | head -n 4
echo
"$work/bin/nscost" "$rounds" "$bb"
echo '```'
