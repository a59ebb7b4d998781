#!/usr/bin/env bash
# vmrun.sh - run one command as root inside a throwaway QEMU (TCG) VM that
# boots Debian's own kernel with a pure cgroup v2 hierarchy, while seeing the
# host's whole filesystem read-only (9p virtfs of "/").
#
#   vmrun.sh [options] -- COMMAND [ARGS...]
#
# The command's stdout/stderr are streamed to this script's stdout/stderr and
# its exit status becomes vmrun.sh's exit status.  docs/cgroups.md ("The cgroup v2
# VM") explains the design, the pitfalls and the timings; tools/vm-test.sh uses it.
#
# Exit codes: COMMAND's own status (0..255, 128+N if killed by signal N),
#             124 = --timeout expired, 125 = harness/VM failure (no status).
set -euo pipefail

prog=${0##*/}
die()  { echo "$prog: $*" >&2; exit 125; }
note() { [ "$verbose" = 1 ] && echo "$prog: $*" >&2 || true; }

usage() {
	cat <<EOF
usage: $prog [options] -- COMMAND [ARGS...]

  --mem SIZE         guest RAM (qemu -m syntax)                   [${VMRUN_MEM:-1G}]
  --smp N            guest vCPUs (one host thread each, MTTCG)    [${VMRUN_SMP:-2}]
  --timeout S        kill the VM after S seconds -> exit 124      [${VMRUN_TIMEOUT:-600}]
  --share DIR        mount host DIR read-write at the same path (repeatable)
  --tmpfs DIR        mount an empty tmpfs at DIR (repeatable)
  --disk SIZE        attach a blank sparse virtio-blk disk (/dev/vda, vdb, ...;
                     for io.max/io.stat tests) (repeatable)
  --cwd DIR          working directory inside                     [\$PWD]
  --env NAME=VALUE   set a variable for COMMAND (repeatable)
  --pass-env NAME    pass the host's value of NAME (repeatable)
  --user UID[:GID]   run COMMAND as this uid/gid instead of root (setpriv)
  --cgroup PATH      run COMMAND in /sys/fs/cgroup/PATH (created; with
                     --user the subtree is delegated/chowned to that user)
  --kernel FILE      kernel image  [\$VMRUN_KERNEL or newest /boot/vmlinuz-*]
  --kdir DIR         use an unpacked kernel package instead of the installed
                     one: DIR/boot/vmlinuz-* + DIR/lib/modules/<kver> (see
                     get-kernel.sh) [\$VMRUN_KDIR]
  --qemu-arg ARG     extra qemu argument (repeatable)
  --append ARGS      extra kernel command line
  --console          also stream the guest serial console (kernel log) to stderr
  --verbose          print harness timings / qemu command line to stderr
  --keep             keep the per-run temp dir (console.log, initramfs, ...)

Inside: / is a tmpfs whose top-level dirs are read-only bind mounts of the
host's / (9p); /tmp /run /var/tmp /scratch /dev/shm are writable tmpfs;
cgroup2 is at /sys/fs/cgroup with every controller enabled in the root's
cgroup.subtree_control; VMRUN=1 is set in COMMAND's environment.
EOF
}

# ---------------------------------------------------------------- options
mem=${VMRUN_MEM:-1G}; smp=${VMRUN_SMP:-2}; timeout_s=${VMRUN_TIMEOUT:-600}
kernel=${VMRUN_KERNEL:-}; kdir=${VMRUN_KDIR:-}; append_extra=${VMRUN_APPEND:-}
cwd=$PWD; user=""; cgroup=""; console=0; verbose=${VMRUN_VERBOSE:-0}; keep=0
shares=(); tmpfses=(); envs=(); qemu_extra=(); disks=()
while [ $# -gt 0 ]; do
	case $1 in
	--mem) mem=$2; shift 2 ;;
	--mem=*) mem=${1#*=}; shift ;;
	--smp) smp=$2; shift 2 ;;
	--smp=*) smp=${1#*=}; shift ;;
	--timeout) timeout_s=$2; shift 2 ;;
	--timeout=*) timeout_s=${1#*=}; shift ;;
	--share) shares+=("$2"); shift 2 ;;
	--share=*) shares+=("${1#*=}"); shift ;;
	--tmpfs) tmpfses+=("$2"); shift 2 ;;
	--disk) disks+=("$2"); shift 2 ;;
	--tmpfs=*) tmpfses+=("${1#*=}"); shift ;;
	--cwd) cwd=$2; shift 2 ;;
	--cwd=*) cwd=${1#*=}; shift ;;
	--env) envs+=("$2"); shift 2 ;;
	--env=*) envs+=("${1#*=}"); shift ;;
	--pass-env) [ -n "${!2+x}" ] && envs+=("$2=${!2}"); shift 2 ;;
	--user) user=$2; shift 2 ;;
	--user=*) user=${1#*=}; shift ;;
	--cgroup) cgroup=$2; shift 2 ;;
	--cgroup=*) cgroup=${1#*=}; shift ;;
	--kernel) kernel=$2; shift 2 ;;
	--kdir) kdir=$2; shift 2 ;;
	--qemu-arg) qemu_extra+=("$2"); shift 2 ;;
	--append) append_extra=$2; shift 2 ;;
	--console) console=1; shift ;;
	--verbose) verbose=1; shift ;;
	--keep) keep=1; shift ;;
	-h|--help) usage; exit 0 ;;
	--) shift; break ;;
	*) echo "$prog: unknown option '$1'" >&2; usage >&2; exit 125 ;;
	esac
done
[ $# -gt 0 ] || { usage >&2; exit 125; }
for e in "${envs[@]+"${envs[@]}"}"; do
	[[ $e =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || die "bad --env '$e' (want NAME=VALUE)"
done
[[ $timeout_s =~ ^[0-9]+$ ]] || die "bad --timeout '$timeout_s'"
if [ -n "$user" ]; then
	[[ $user =~ ^[0-9]+(:[0-9]+)?$ ]] || die "--user wants numeric UID[:GID]"
fi

t_start=$(date +%s.%N)

# ---------------------------------------------------------------- host tools
qemu=$(command -v qemu-system-x86_64) || die "qemu-system-x86_64 missing (apt-get install qemu-system-x86)"
busybox=${VMRUN_BUSYBOX:-/bin/busybox}
[ -x "$busybox" ] || die "$busybox missing (apt-get install busybox-static)"
if LC_ALL=C ldd "$busybox" >/dev/null 2>&1; then
	die "$busybox is dynamically linked; need the static one (apt-get install busybox-static)"
fi
command -v cpio >/dev/null || die "cpio missing (apt-get install cpio)"
command -v modprobe >/dev/null || [ -x /sbin/modprobe ] || die "modprobe missing (apt-get install kmod)"
modprobe_bin=$(command -v modprobe || echo /sbin/modprobe)

# ---------------------------------------------------------------- kernel
if [ -n "$kdir" ]; then
	kdir=$(realpath -- "$kdir") || die "--kdir $kdir: no such directory"
	[[ $kdir =~ ^/[A-Za-z0-9._/+@-]*$ ]] || die "--kdir path has odd characters"
fi
if [ -z "$kernel" ]; then
	kernel=$(ls -1 "$kdir"/boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1) || true
	[ -n "$kernel" ] || die "no ${kdir}/boot/vmlinuz-*; apt-get install linux-image-amd64 (or get-kernel.sh DIR + --kdir DIR)"
fi
[ -r "$kernel" ] || die "kernel $kernel not readable"
kver=${VMRUN_KVER:-$(basename "$kernel" | sed 's/^vmlinuz-//')}
moddir=$kdir/lib/modules/$kver
[ -f "$moddir/modules.dep" ] || die "$moddir/modules.dep missing (kernel $kernel without its modules? run depmod)"

# ---------------------------------------------------------------- vmlinux
# Booting the compressed bzImage costs ~3 s of xz decompression under TCG.
# Debian's kernel has CONFIG_PVH=y, so QEMU can boot the uncompressed ELF
# vmlinux directly (PVH entry).  Extract it once and cache it.
extract_vmlinux() { # $1=bzImage $2=out
	local magic off
	for magic in '\xfd7zXZ\x00' '\x28\xb5\x2f\xfd' '\x1f\x8b\x08'; do
		off=$(LC_ALL=C grep -obUaP "$magic" "$1" 2>/dev/null | head -n 1 | cut -d: -f1) || true
		[ -n "$off" ] || continue
		case $magic in
		*7zXZ*) tail -c +$((off + 1)) "$1" | xz -dc --single-stream > "$2.tmp" 2>/dev/null || true ;;
		*b5*) tail -c +$((off + 1)) "$1" | zstd -dcq > "$2.tmp" 2>/dev/null || true ;;
		*1f*) tail -c +$((off + 1)) "$1" | gzip -dc > "$2.tmp" 2>/dev/null || true ;;
		esac
		if [ "$(head -c 4 "$2.tmp" 2>/dev/null | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
			mv -f "$2.tmp" "$2"; return 0
		fi
	done
	rm -f "$2.tmp"; return 1
}
boot_kernel=$kernel
if [ "${VMRUN_NO_PVH:-0}" != 1 ] && [ "$(head -c 4 "$kernel" | od -An -tx1 | tr -d ' ')" != 7f454c46 ]; then
	cache=${VMRUN_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/vmrun}
	key=$(stat -Lc '%s-%Y' "$kernel")
	vmlinux=$cache/vmlinux-$kver-$key
	if [ ! -s "$vmlinux" ]; then
		if mkdir -p "$cache" 2>/dev/null && [ -w "$cache" ]; then
			extract_vmlinux "$kernel" "$vmlinux.$$" && mv -f "$vmlinux.$$" "$vmlinux" || vmlinux=""
		else
			vmlinux=""
		fi
	fi
	if [ -n "$vmlinux" ] && [ -s "$vmlinux" ]; then boot_kernel=$vmlinux; else
		echo "$prog: note: could not extract/cache vmlinux; booting compressed kernel (+~3 s)" >&2
	fi
fi

# ---------------------------------------------------------------- work dir
T=$(mktemp -d "${TMPDIR:-/tmp}/vmrun.XXXXXX")
qpid=""; tail_pids=()
cleanup() {
	local rc=$?
	if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then kill -TERM "$qpid" 2>/dev/null || true; wait "$qpid" 2>/dev/null || true; fi
	for p in "${tail_pids[@]+"${tail_pids[@]}"}"; do kill "$p" 2>/dev/null || true; done
	if [ "$keep" = 1 ]; then echo "$prog: kept $T" >&2; else rm -rf "$T"; fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mkdir -p "$T/initrd" "$T/io"

# ---------------------------------------------------------------- initramfs
# Modules (all '=m' in Debian's config), in dependency order as computed by
# modprobe from this kernel's modules.dep; duplicates dropped.
wanted_mods="virtio_pci 9pnet_virtio 9p virtio_console"
[ ${#disks[@]} -gt 0 ] && wanted_mods="$wanted_mods virtio_blk"
ir=$T/initrd
mkdir -p "$ir/bin" "$ir/dev" "$ir/proc" "$ir/sys" "$ir/host" "$ir/newroot" "$ir/modules"
cp "$busybox" "$ir/bin/busybox"
: > "$ir/modules/order"
# shellcheck disable=SC2086
"$modprobe_bin" -a ${kdir:+-d "$kdir"} -S "$kver" --show-depends $wanted_mods 2>"$T/modprobe.err" |
	awk '$1=="insmod" && !seen[$2]++ {print $2}' > "$T/modlist" ||
	die "modprobe --show-depends failed: $(cat "$T/modprobe.err")"
n=0
while read -r ko; do
	n=$((n + 1))
	base=$(basename "$ko"); base=${base%.xz}; base=${base%.zst}; base=${base%.gz}
	dst=$ir/modules/$(printf %02d "$n")-$base
	case $ko in
	*.ko) cp "$ko" "$dst" ;;
	*.ko.xz) xz -dc "$ko" > "$dst" ;;
	*.ko.zst) zstd -qdc "$ko" > "$dst" ;;
	*.ko.gz) gzip -dc "$ko" > "$dst" ;;
	*) die "unknown module format $ko" ;;
	esac
	echo "${dst##*/}" >> "$ir/modules/order"
done < "$T/modlist"
[ "$n" -ge 5 ] || die "expected >=5 modules from modprobe, got $n"

# Stage 1: PID 1 in the initramfs.  Builds the new root and switch_root's.
cat > "$ir/init" <<'STAGE1'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
fail() { echo "vmrun-init: FATAL: $*"; echo "VMRUN_EXIT=125"; sync; reboot -f; }
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
. /config
mark() { read -r up _ < /proc/uptime; echo "vmrun-init: $up $*"; }
mark stage1
while read -r m; do
	insmod "/modules/$m" || fail "insmod $m"
done < /modules/order
mark modules loaded
MSIZE=512000
# root of the host, read-only, cached (nothing changes it while we run)
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=$MSIZE,cache=loose hostroot /host || fail "mount 9p hostroot"
mount -t tmpfs -o mode=0755,size=50% newroot /newroot || fail "tmpfs newroot"
for p in /host/* /host/.[!.]*; do
	[ -e "$p" ] || [ -L "$p" ] || continue
	n=${p#/host/}
	case $n in proc|sys|dev|tmp|run|lost+found) continue ;; esac
	if [ -L "$p" ]; then
		ln -s "$(readlink "$p")" "/newroot/$n"
	elif [ -d "$p" ]; then
		# no "remount,ro" needed: the 9p superblock itself is read-only
		mkdir "/newroot/$n" && mount --bind "$p" "/newroot/$n" || fail "bind $n"
	elif [ -f "$p" ]; then
		: > "/newroot/$n" && mount --bind "$p" "/newroot/$n" || fail "bind $n"
	fi
done
mkdir -p /newroot/proc /newroot/sys /newroot/dev /newroot/tmp /newroot/run /newroot/scratch
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /newroot/run || fail "tmpfs /run"
mkdir -p /newroot/run/vmrun/io
if [ -n "$VMRUN_KDIR" ]; then
	# unpacked kernel package: its modules become /lib/modules/<kver>
	mkdir -p /newroot/run/vmrun/kdir
	mount --bind "/host$VMRUN_KDIR" /newroot/run/vmrun/kdir || fail "bind kdir"
	if [ -d /newroot/lib/modules ]; then
		mount --bind /newroot/run/vmrun/kdir/lib/modules /newroot/lib/modules || fail "bind modules"
	fi
	printf '#!/run/vmrun/busybox sh\nexec /sbin/modprobe -d /run/vmrun/kdir "$@"\n' > /newroot/run/vmrun/modprobe
	chmod 755 /newroot/run/vmrun/modprobe
	echo /run/vmrun/modprobe > /proc/sys/kernel/modprobe
fi
umount /host 2>/dev/null || umount -l /host
mark root assembled
mount -t 9p -o trans=virtio,version=9p2000.L,msize=$MSIZE,cache=none vmrun_io /newroot/run/vmrun/io || fail "mount 9p vmrun_io"
cp /bin/busybox /stage2 /config /newroot/run/vmrun/
mount --move /proc /newroot/proc
mount --move /sys /newroot/sys
mount --move /dev /newroot/dev
exec switch_root /newroot /run/vmrun/busybox sh /run/vmrun/stage2
STAGE1
chmod 0755 "$ir/init"

# Stage 2: PID 1 on the new root (busybox ash from /run/vmrun).
cat > "$ir/stage2" <<'STAGE2'
BB=/run/vmrun/busybox
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
b() { "$BB" "$@"; }
fail() { echo "vmrun-init: FATAL: $*"; echo "VMRUN_EXIT=125"; b sync; b reboot -f; }
IO=/run/vmrun/io
read -r up _ < /proc/uptime; echo "vmrun-init: $up stage2"
. /run/vmrun/config || fail "no config"

b mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 /sys/fs/cgroup || fail "mount cgroup2"
for c in $(b cat /sys/fs/cgroup/cgroup.controllers); do
	echo "+$c" > /sys/fs/cgroup/cgroup.subtree_control || echo "vmrun-init: cannot enable $c"
done
b mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
b mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /scratch
[ -d /var/tmp ] && b mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /var/tmp
b mkdir -p /dev/pts /dev/shm /dev/mqueue
b mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts /dev/pts
b mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
b mount -t mqueue mqueue /dev/mqueue 2>/dev/null
b ln -sf /proc/self/fd /dev/fd
b ln -sf /proc/self/fd/0 /dev/stdin
b ln -sf /proc/self/fd/1 /dev/stdout
b ln -sf /proc/self/fd/2 /dev/stderr
b ln -sf /proc/kcore /dev/core
b hostname vmrun
b ip link set lo up
for t in $VMRUN_TMPFS; do b mkdir -p "$t" && b mount -t tmpfs tmpfs "$t" || fail "tmpfs $t"; done
# read-write host dirs (virtfs tag vmshareN -> same path); parents first
i=0
for s in $VMRUN_SHARES; do
	b mkdir -p "$s" 2>/dev/null
	b mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=mmap "vmshare$i" "$s" || fail "mount share $s"
	i=$((i + 1))
done

# stdout/stderr of the command -> virtio-serial ports (binary clean, no tty)
OUT=/dev/console; ERR=/dev/console
for p in /sys/class/virtio-ports/*; do
	case $(b cat "$p/name" 2>/dev/null) in
	vmrun.stdout) OUT=/dev/${p##*/} ;;
	vmrun.stderr) ERR=/dev/${p##*/} ;;
	esac
done

if [ -n "$VMRUN_CGROUP" ]; then
	# like systemd: every controller enabled down to the leaf; with --user the
	# leaf is delegated (dir + cgroup.procs/threads/subtree_control chowned)
	cg=/sys/fs/cgroup
	for comp in $(echo "$VMRUN_CGROUP" | b tr / ' '); do
		if [ "$cg" != /sys/fs/cgroup ]; then
			for c in $(b cat "$cg/cgroup.controllers"); do echo "+$c" > "$cg/cgroup.subtree_control"; done
		fi
		cg=$cg/$comp
		b mkdir -p "$cg" || fail "mkdir cgroup $cg"
	done
	if [ -n "$VMRUN_UID" ]; then
		b chown "$VMRUN_UID:$VMRUN_GID" "$cg" "$cg/cgroup.procs" "$cg/cgroup.subtree_control" "$cg/cgroup.threads" || fail "delegate $cg"
	fi
fi
mark() { read -r up _ < /proc/uptime; echo "vmrun-init: $up $*"; }
# The RTC only has 1 s resolution, so the guest clock starts up to ~1 s behind
# the host; files the host (qemu) writes into shares would look "in the
# future" (make: clock skew).  Copy the host's time from a fresh 9p file's mtime.
: > $IO/clock && t=$(/usr/bin/stat -c %.9Y $IO/clock) && /usr/bin/date -u -s "@$t" > /dev/null || echo "vmrun-init: clock sync failed"
mark command start
(
	[ -n "$VMRUN_CGROUP" ] && echo 0 > "/sys/fs/cgroup/$VMRUN_CGROUP/cgroup.procs"
	cd "$VMRUN_CWD" || { echo "vmrun: cannot cd to $VMRUN_CWD (under /tmp? use --share)" >&2; exit 125; }
	vmrun_exec
) < /dev/null > "$OUT" 2> "$ERR"
rc=$?
mark command end rc=$rc
echo "$rc" > $IO/status
echo "VMRUN_EXIT=$rc"
b sync
b reboot -f   # with qemu -no-reboot a reset ends qemu; faster than ACPI S5
STAGE2

# ---------------------------------------------------------------- per-run config
q() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; }
cwd=$(realpath -m -- "$cwd")
share_paths=()
for s in "${shares[@]+"${shares[@]}"}"; do
	[ -d "$s" ] || die "--share $s: not a directory"
	share_paths+=("$(realpath -- "$s")")
done
# parents before children
if [ ${#share_paths[@]} -gt 0 ]; then
	mapfile -t share_paths < <(printf '%s\n' "${share_paths[@]}" | awk '{print length($0) "\t" $0}' | sort -n | cut -f2-)
fi
for s in "${share_paths[@]+"${share_paths[@]}"}" "${tmpfses[@]+"${tmpfses[@]}"}"; do
	[[ $s =~ ^/[A-Za-z0-9._/+@-]*$ ]] || die "path '$s' has characters this harness does not quote; use a simpler path"
done
uid=""; gid=""
if [ -n "$user" ]; then uid=${user%%:*}; gid=${user#*:}; [ "$gid" = "$user" ] && gid=$uid; fi
{
	echo "VMRUN_CWD=$(q "$cwd")"
	echo "VMRUN_SHARES=$(q "${share_paths[*]+"${share_paths[*]}"}")"
	echo "VMRUN_TMPFS=$(q "${tmpfses[*]+"${tmpfses[*]}"}")"
	echo "VMRUN_UID=$(q "$uid")"
	echo "VMRUN_GID=$(q "$gid")"
	echo "VMRUN_CGROUP=$(q "$cgroup")"
	echo "VMRUN_KDIR=$(q "$kdir")"
	# vmrun_exec: runs in a subshell of stage2, stdio already redirected
	# NB: not "$BB env": busybox prefers its own applets over $PATH
	# (FEATURE_PREFER_APPLETS), so "sh" would become busybox ash.
	printf 'vmrun_exec() {\n\texec /usr/bin/env -i'
	for kv in PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	          HOME=/root LANG=C.UTF-8 TERM=dumb SHELL=/bin/sh VMRUN=1 \
	          "${envs[@]+"${envs[@]}"}"; do
		printf ' %s' "$(q "$kv")"
	done
	if [ -n "$uid" ]; then
		printf ' /usr/bin/setpriv --reuid=%s --regid=%s --clear-groups --' "$uid" "$gid"
	fi
	for a in "$@"; do printf ' %s' "$(q "$a")"; done
	printf '\n}\n'
} > "$ir/config"

( cd "$ir" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet -R 0:0 ) > "$T/initrd.cpio" ||
	die "cpio failed"

# ---------------------------------------------------------------- qemu
cmdline="console=ttyS0 quiet panic=-1 oops=panic mitigations=off cryptomgr.notests audit=0 tsc=reliable i8042.noaux i8042.nokbd i8042.nopnp ${append_extra}"
[ "$console" = 1 ] && cmdline=${cmdline/ quiet / loglevel=6 }
: > "$T/stdout"; : > "$T/stderr"; : > "$T/console.log"
# qboot (qemu-system-data) is a minimal firmware: ~0.5 s faster than SeaBIOS
bios=()
if [ "${VMRUN_BIOS:-qboot}" = qboot ] && [ -r /usr/share/qemu/qboot.rom ]; then bios=(-bios /usr/share/qemu/qboot.rom); fi
qargs=(
	-nodefaults -no-user-config -display none -monitor none -no-reboot "${bios[@]+"${bios[@]}"}"
	-machine pc -accel tcg,thread=multi -cpu max -smp "$smp" -m "$mem"
	-kernel "$boot_kernel" -initrd "$T/initrd.cpio" -append "$cmdline"
	-chardev "file,id=con,path=$T/console.log" -serial chardev:con
	-fsdev "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap"
	-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot
	-fsdev "local,id=vmrun_io,path=$T/io,security_model=none"
	-device virtio-9p-pci,fsdev=vmrun_io,mount_tag=vmrun_io
	-device virtio-serial-pci,id=vser
	-chardev "file,id=out,path=$T/stdout" -device virtserialport,bus=vser.0,chardev=out,name=vmrun.stdout
	-chardev "file,id=err,path=$T/stderr" -device virtserialport,bus=vser.0,chardev=err,name=vmrun.stderr
)
i=0
for s in "${share_paths[@]+"${share_paths[@]}"}"; do
	qargs+=(-fsdev "local,id=vmshare$i,path=$s,security_model=none,multidevs=remap"
	        -device "virtio-9p-pci,fsdev=vmshare$i,mount_tag=vmshare$i")
	i=$((i + 1))
done
i=0
for d in "${disks[@]+"${disks[@]}"}"; do
	truncate -s "$d" "$T/disk$i.img" || die "--disk $d: bad size"
	qargs+=(-drive "file=$T/disk$i.img,if=virtio,format=raw,cache=unsafe")
	i=$((i + 1))
done
qargs+=("${qemu_extra[@]+"${qemu_extra[@]}"}")
note "prep $(awk -v a="$t_start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.3f", b-a}')s; qemu ${qargs[*]}"

timeout --kill-after=10 "$timeout_s" "$qemu" "${qargs[@]}" </dev/null >"$T/qemu.log" 2>&1 &
qpid=$!
tail -n +1 -s 0.1 --pid="$qpid" -f "$T/stdout" & tail_pids+=($!)
tail -n +1 -s 0.1 --pid="$qpid" -f "$T/stderr" >&2 & tail_pids+=($!)
if [ "$console" = 1 ]; then tail -n +1 -s 0.1 --pid="$qpid" -f "$T/console.log" >&2 & tail_pids+=($!); fi
qrc=0; wait "$qpid" || qrc=$?
qpid=""
for p in "${tail_pids[@]}"; do wait "$p" 2>/dev/null || true; done
tail_pids=()
note "total $(awk -v a="$t_start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.3f", b-a}')s; $(grep -a 'vmrun-init:' "$T/console.log" | tr '\n' ';')"

if [ -s "$T/io/status" ]; then
	rc=$(cat "$T/io/status")
	[[ $rc =~ ^[0-9]+$ ]] || { echo "$prog: garbage status '$rc'" >&2; rc=125; }
	exit "$rc"
fi
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	echo "$prog: TIMEOUT after ${timeout_s}s; last console lines:" >&2
	tail -n 30 "$T/console.log" | sed 's/\r$//; s/^/  | /' >&2
	exit 124
fi
echo "$prog: VM ended without a status (qemu rc=$qrc); qemu log and last console lines:" >&2
sed 's/^/  qemu| /' "$T/qemu.log" >&2
tail -n 40 "$T/console.log" | sed 's/\r$//; s/^/  | /' >&2
exit 125
