#!/usr/bin/env bash
# The whole test suite: build, then every ctest label on this host (unit, root, userns — the
# rootless cases run as an unprivileged user — and cgroup1), then the cgroup2 tests inside a
# qemu VM booting Debian's kernel (tools/vm-test.sh). Exits non-zero if anything failed.
#   tools/run-tests.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
jobs=${CELL_JOBS:-2}

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$jobs"

status=0
echo "== host tests (unit, root, userns, cgroup1)"
ctest --test-dir "$build" --output-on-failure -j"$jobs" -L 'unit|root|userns|cgroup1' || status=1

if [ -x "$root/tools/vm-test.sh" ]; then
  echo "== cgroup v2 tests in a VM"
  "$root/tools/vm-test.sh" "$build" || status=1
fi
exit $status
