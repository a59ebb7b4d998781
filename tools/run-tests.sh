#!/usr/bin/env bash
# The whole test suite: build, then every ctest label on this host (unit, root, userns — the
# rootless cases run as an unprivileged user — and cgroup1), then the cgroup2 tests inside a
# qemu VM booting Debian's kernel (tools/vm-test.sh), then the security checks that need their
# own builds or long runs (tools/security-tests.sh: ASan/UBSan build of the suite, libFuzzer
# targets for a bounded time, the load test). Exits non-zero if anything failed.
#   tools/run-tests.sh [BUILD_DIR]
# CELL_SECURITY_PARTS picks the security parts ["sanitize fuzz load"]; "none" skips them.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
jobs=${CELL_JOBS:-2}

# --- test environment (owned by tests/support; keep this block separate) ---------------------
# Strict: a host need a test declares (userns, sandbox, busybox, ...) that is missing fails the
# test instead of skipping it (tests/support/requirements.hpp). CELL_TEST_STRICT=0 relaxes it.
export CELL_TEST_STRICT=${CELL_TEST_STRICT:-1}
# --idmap subid: a system user with /etc/subuid and /etc/subgid ranges, for the IdmapSubid and
# Setuid subid tests (integration_test_subid runs as it). Made once, reused afterwards.
if [ "$(id -u)" -eq 0 ]; then
  subid_user=cell-subid subid_range=2000000000-2000065535
  id -u "$subid_user" >/dev/null 2>&1 ||
    useradd --system --no-create-home --shell /usr/sbin/nologin "$subid_user" || true
  if id -u "$subid_user" >/dev/null 2>&1; then
    grep -qs "^$subid_user:" /etc/subuid || usermod --add-subuids "$subid_range" "$subid_user" || true
    grep -qs "^$subid_user:" /etc/subgid || usermod --add-subgids "$subid_range" "$subid_user" || true
    export CELL_TEST_SUBID_USER=$subid_user
  fi
fi
# --- end of the test environment block --------------------------------------------------------

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$jobs"

status=0
echo "== host tests (unit, root, userns, cgroup1)"
ctest --test-dir "$build" --output-on-failure -j"$jobs" -L 'unit|root|userns|cgroup1' || status=1

if [ -x "$root/tools/vm-test.sh" ]; then
  echo "== cgroup v2 tests in a VM"
  "$root/tools/vm-test.sh" "$build" || status=1
fi
parts=${CELL_SECURITY_PARTS:-sanitize fuzz load}
if [ "$parts" != none ]; then
  echo "== security: $parts"
  # shellcheck disable=SC2086 # a list of words
  "$root/tools/security-tests.sh" "$build" $parts || status=1
fi
exit $status
