#!/usr/bin/env bash
# vm-test.sh [BUILD_DIR] - run the tests labelled cgroup2 on a real cgroup v2 kernel.
#
# These hosts expose cgroup v1 controllers only, so the tests run in a throwaway qemu VM (TCG;
# no KVM) booting Debian's kernel with a pure cgroup2 hierarchy (every controller enabled) and
# the host's filesystem shared read-only (tools/vm/vmrun.sh). Two boots:
#   1. as root: in the root cgroup, then from a cgroup shared with other processes;
#   2. as an unprivileged user (uid $CELL_VM_UID, default 1000) owning a delegated subtree,
#      the layout systemd's Delegate=yes gives: cell alone in its cgroup, then sharing it.
# Output streams back; the exit status is 0 only if both passes pass. About 2 minutes on two
# cores (each boot ~3-4 s; the tests run 2-10x slower than on the host).
#
# Needs qemu-system-x86, busybox-static, cpio, kmod (tools/install-deps.sh) and apt access
# to fetch linux-image-amd64 once (unpacked, not installed, cached in $CELL_VM_CACHE).
# Environment: CELL_VM_CACHE (default ~/.cache/cell-vm), CELL_VM_UID, CELL_JOBS (build -j),
# CELL_VM_TIMEOUT (seconds per boot, default 900).
set -euo pipefail
exec </dev/null
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath -- "${1:-$root/build}")
vmrun=$root/tools/vm/vmrun.sh
runner=$root/tests/cgroup2/vm-runner.sh
cache=${CELL_VM_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/cell-vm}
uid=${CELL_VM_UID:-1000}
limit=${CELL_VM_TIMEOUT:-900}
t0=$SECONDS
die() {
	echo "vm-test: $*" >&2
	exit 2
}

# 1. host tools
for tool in qemu-system-x86_64 cpio depmod dpkg-deb apt-get ctest; do
	command -v "$tool" >/dev/null || die "$tool is missing (tools/install-deps.sh installs what is needed)"
done
[ -x /bin/busybox ] && ! LC_ALL=C ldd /bin/busybox >/dev/null 2>&1 ||
	die "/bin/busybox must be the static one (apt-get install busybox-static)"

# 2. the guest kernel: Debian's package, unpacked (no initramfs run, /boot untouched), cached
kdir=$cache/kernel
mkdir -p "$cache"
if ! ls "$kdir"/boot/vmlinuz-* >/dev/null 2>&1; then
	echo "vm-test: fetching Debian's kernel into $kdir"
	apt-cache depends linux-image-amd64 >/dev/null 2>&1 || timeout 300 apt-get update -qq
	timeout 600 "$root/tools/vm/get-kernel.sh" "$kdir" >/dev/null
fi

# 3. what runs inside: the cgroup2 test binaries (ctest knows them by label), cg_prog, cell
[ -f "$build/CMakeCache.txt" ] || cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"${CELL_JOBS:-2}" --target cgroup2_test cell_cg_prog cell_cli >/dev/null
mapfile -t tests < <(ctest --test-dir "$build" -N -V -L cgroup2 | sed -n 's/^[0-9]*: Test command: //p')
[ ${#tests[@]} -gt 0 ] || die "ctest lists no test labelled cgroup2 in $build"
prog=$build/tests/cgroup1/cg_prog
cli=$build/src/cli/cell

# 4. a file whose reads fill the guest's page cache: it must sit on the host's root (9p with
#    cache=loose), not under /tmp or /run (tmpfs in the guest). Sparse: no disk space used.
data=/var/cache/cell-vm
mkdir -p "$data" 2>/dev/null && [ -w "$data" ] || data=$cache
big=$data/sparse-512M
[ -f "$big" ] || truncate -s 512M "$big"
chmod 0644 "$big"
chmod 0755 "$data" 2>/dev/null || true

# The guest sees the host's root read-only, but its own tmpfs on /tmp and /run: a checkout or
# build there (a CI clone under /tmp, say) is shared into the guest at the same path.
shares=()
for d in "$root" "$build" "$PWD"; do
	case $d in /tmp | /tmp/* | /run | /run/*) shares+=(--share "$d") ;; esac
done

boot() { # vmrun options -- command
	timeout $((limit + 60)) "$vmrun" --kdir "$kdir" --timeout "$limit" --mem 1G --smp 2 "${shares[@]+"${shares[@]}"}" \
		--env CELL_TEST_STRICT=1 --env CELL_TEST_BIGFILE="$big" --env CELL_TEST_CG_PROG="$prog" --env CELL_TEST_CLI="$cli" "$@"
}

status=0
echo "== vm-test: cgroup v2 as root (${#tests[@]} test binaries)"
boot -- sh "$runner" root "${tests[@]}" || status=1
echo "== vm-test: cgroup v2 as uid $uid with a delegated cgroup"
boot -- sh "$runner" delegate "$uid" "${tests[@]}" || status=1
echo "vm-test: $([ $status = 0 ] && echo passed || echo FAILED) in $((SECONDS - t0)) s"
exit $status
