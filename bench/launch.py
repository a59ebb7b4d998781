#!/usr/bin/python3
"""Launch benchmarks: cell against native exec, unshare, bubblewrap and crun, side by side.

  launch.py suite [options]          the standard suite (see bench/README.md); prints Markdown
  launch.py compare NAME=CMD ...     any commands, alternating, with the same statistics
  launch.py cpu --cell CELL --spin SPIN [--rootfs DIR]
                                     a ~2 s compute loop inside cell against native

Every variant of a workload runs once per round, in an order shuffled each round (seeded), so
the variants share the machine's state (load from other builds, page cache, CPU frequency) pair
by pair; the ratio cell/bwrap is computed per round and summarised by its median and range.
Shuffled, not rotated: a cgroup v1 attach is cheap right after another one (see README), so a
fixed neighbour would favour whichever cell variant follows the other.
Throughput: W worker processes each loop one command for S seconds; runs/s is the total. The S
seconds are taken in ~2 s slices, variants shuffled in each slice round (load from elsewhere
changes within minutes).
Per-run CPU: the driver moves itself into a child of its cpuacct cgroup and reads cpuacct.usage
around each run, so everything the run started counts, reparented processes included (wait4's
rusage misses what the launcher does not reap itself: bwrap's sandbox). Work the kernel defers to
its own threads (a network namespace's teardown) is not counted.

Only the Python standard library; run as root (cell's cgroup v1 driver and crun need it).
"""
import argparse
import ctypes
import json
import os
import platform
import random
import shlex
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field

CLONE_NEWNS = 0x00020000
_libc = ctypes.CDLL(None, use_errno=True)


@dataclass
class Variant:
    name: str
    argv: list
    mntns: int = -1        # a mount namespace fd to spawn in (crun), -1: ours
    chroot: str = ""       # fork+chroot+exec instead of posix_spawn (native python)
    crun_bundle: str = ""  # argv gets a fresh container id appended per run
    times: list = field(default_factory=list)   # wall, ns
    cpus: list = field(default_factory=list)    # user+sys, ns


class CpuAccount:
    """A cpuacct cgroup (a child of ours) this process moves into; usage() reads its CPU ns."""

    def __init__(self):
        self.dir = self.usage_file = None
        self.home = None
        try:
            with open("/proc/self/cgroup") as f:
                for line in f:
                    _, ctrls, path = line.rstrip("\n").split(":", 2)
                    if "cpuacct" in ctrls.split(","):
                        mount = "/sys/fs/cgroup/" + ctrls
                        self.home = mount + (path if path != "/" else "")
            if not self.home:
                return
            self.dir = "%s/cell-bench-driver-%d" % (self.home, os.getpid())
            os.mkdir(self.dir)
            with open(self.dir + "/cgroup.procs", "w") as f:
                f.write(str(os.getpid()))
            self.usage_file = os.open(self.dir + "/cpuacct.usage", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            self.close()

    def usage(self):
        if self.usage_file is None:
            return None
        return int(os.pread(self.usage_file, 64, 0))

    def close(self):
        if self.usage_file is not None:
            os.close(self.usage_file)
            self.usage_file = None
        if self.dir and os.path.isdir(self.dir):
            try:
                with open(self.home + "/cgroup.procs", "w") as f:
                    f.write(str(os.getpid()))
            except OSError as e:
                print("launch.py: cannot leave %s: %s" % (self.dir, e), file=sys.stderr)
            for attempt in range(50):  # exited sandboxes' processes leave it asynchronously
                try:
                    os.rmdir(self.dir)
                    break
                except OSError as e:
                    if attempt == 49:
                        print("launch.py: cannot remove %s: %s" % (self.dir, e), file=sys.stderr)
                    time.sleep(0.1)
        self.dir = None


class Spawner:
    """Starts one run of a variant and waits for it; returns (wall_ns, cpu_ns, status)."""

    def __init__(self, cpu=None):
        self.cpu = cpu
        self.own_mntns = os.open("/proc/self/ns/mnt", os.O_RDONLY | os.O_CLOEXEC)
        self.devnull = "/dev/null"
        self.counter = 0
        self.env = dict(os.environ)
        self.env["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    def _setns(self, fd):
        if _libc.setns(fd, CLONE_NEWNS) != 0:
            err = ctypes.get_errno()
            raise OSError(err, "setns(mnt): " + os.strerror(err))

    def argv_of(self, v):
        if not v.crun_bundle:
            return v.argv
        self.counter += 1
        return v.argv + ["cb%d-%d" % (os.getpid(), self.counter)]

    def run(self, v, quiet=True):
        argv = self.argv_of(v)
        out = [(os.POSIX_SPAWN_OPEN, 1, self.devnull, os.O_WRONLY, 0),
               (os.POSIX_SPAWN_OPEN, 2, self.devnull, os.O_WRONLY, 0)] if quiet else []
        cwd = None
        if v.mntns >= 0:
            cwd = os.getcwd()
            self._setns(v.mntns)  # the child inherits it; setns also moved our cwd to /
        c0 = self.cpu.usage() if self.cpu else None
        t0 = time.perf_counter_ns()
        if v.chroot:
            pid = os.fork()
            if pid == 0:
                try:
                    if quiet:
                        fd = os.open(self.devnull, os.O_WRONLY)
                        os.dup2(fd, 1)
                        os.dup2(fd, 2)
                    os.chroot(v.chroot)
                    os.chdir("/")
                    os.execve(argv[0], argv, self.env)
                finally:
                    os._exit(127)
        else:
            pid = os.posix_spawnp(argv[0], argv, self.env, file_actions=out)
        if v.mntns >= 0:
            self._setns(self.own_mntns)
            os.chdir(cwd)
        _, status, ru = os.wait4(pid, 0)
        wall = time.perf_counter_ns() - t0
        if c0 is not None:
            cpu = self.cpu.usage() - c0
        else:
            cpu = int((ru.ru_utime + ru.ru_stime) * 1e9)
        return wall, cpu, status


def summary(xs):
    xs = sorted(xs)
    n = len(xs)
    return {"n": n, "median": statistics.median(xs), "min": xs[0], "max": xs[-1],
            "p10": xs[n // 10], "p90": xs[min(n - 1, n * 9 // 10)]}


def check(sp, variants):
    """One visible run of each variant: a broken command must not be timed."""
    for v in variants:
        argv = sp.argv_of(v)
        if v.mntns >= 0 or v.chroot:
            _, _, status = sp.run(v, quiet=True)
            ok = status == 0
            msg = "exit status %d" % status
        else:
            p = subprocess.run(argv, env=sp.env, capture_output=True, text=True)
            ok = p.returncode == 0
            msg = "exit %d: %s" % (p.returncode, (p.stderr or p.stdout).strip()[:300])
        if not ok:
            raise SystemExit("launch.py: %s does not run (%s): %s" % (v.name, shlex.join(argv), msg))


def alternate(sp, variants, rounds, gap_ms=0, warmup=3):
    for _ in range(warmup):
        for v in variants:
            sp.run(v)
    rng = random.Random(6)
    order = list(variants)
    for r in range(rounds):
        if gap_ms:
            time.sleep(gap_ms / 1000)
        rng.shuffle(order)
        for v in order:
            wall, cpu, status = sp.run(v)
            if status != 0:
                raise SystemExit("launch.py: %s failed in round %d (status %d)" % (v.name, r, status))
            v.times.append(wall)
            v.cpus.append(cpu)


def throughput(sp, v, workers, seconds):
    """W processes loop the command for `seconds`; returns (runs completed, seconds taken)."""
    pipes, pids = [], []
    start = time.monotonic() + 0.05
    for _ in range(workers):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            code = 0
            try:
                while time.monotonic() < start:
                    pass
                count, deadline = 0, start + seconds
                while time.monotonic() < deadline:
                    if sp.run(v)[2] != 0:
                        code = 1
                    count += 1
                os.write(w, json.dumps([count, time.monotonic() - start]).encode())
            except BaseException:
                code = 2
            finally:
                os._exit(code)
        os.close(w)
        pipes.append(r)
        pids.append(pid)
    total, longest, failed = 0, seconds, False
    for r, pid in zip(pipes, pids):
        data = os.read(r, 256)
        os.close(r)
        _, status = os.waitpid(pid, 0)
        failed |= status != 0
        if data:
            count, elapsed = json.loads(data)
            total += count
            longest = max(longest, elapsed)
    if failed:
        raise SystemExit("launch.py: %s failed during the throughput run" % v.name)
    return total, longest


def throughput_interleaved(sp, variants, workers, seconds, slice_s=2.0):
    """`seconds` of throughput per variant, taken in slices of ~2 s with the variants shuffled
    in every slice round, so a build starting on the shared machine hits all of them alike.
    Returns {name: (runs per second overall, [runs per second of each slice])}."""
    slices = max(1, round(seconds / slice_s))
    rng = random.Random(7)
    order = list(variants)
    runs = {v.name: 0 for v in variants}
    took = {v.name: 0.0 for v in variants}
    rates = {v.name: [] for v in variants}
    for _ in range(slices):
        rng.shuffle(order)
        for v in order:
            n, t = throughput(sp, v, workers, seconds / slices)
            runs[v.name] += n
            took[v.name] += t
            rates[v.name].append(n / t)
    return {name: (runs[name] / took[name], rates[name]) for name in runs}


# ---- the standard suite ----

def crun_bundle(work, root, args, name):
    """An OCI bundle for crun: its default spec (`crun spec`) with the root read-only, a user
    namespace (ids 0-65535 from host 1700000000) and a cgroup namespace added (so it unshares
    what bwrap --unshare-all and cell do), no cgroup mount (crun runs without cgroups here)."""
    bundle = os.path.join(work, "crun", name)
    os.makedirs(bundle, exist_ok=True)
    cfg_path = os.path.join(bundle, "config.json")
    if os.path.exists(cfg_path):
        os.unlink(cfg_path)
    subprocess.run(["crun", "spec"], cwd=bundle, check=True)
    with open(cfg_path) as f:
        cfg = json.load(f)
    cfg["root"] = {"path": root, "readonly": True}
    cfg["process"]["args"] = args
    cfg["process"]["terminal"] = False
    ns = cfg["linux"]["namespaces"]
    for t in ("user", "cgroup"):
        if not any(n["type"] == t for n in ns):
            ns.append({"type": t})
    idmap = [{"containerID": 0, "hostID": 1700000000, "size": 65536}]
    cfg["linux"]["uidMappings"] = idmap
    cfg["linux"]["gidMappings"] = idmap
    cfg["mounts"] = [m for m in cfg["mounts"] if m["destination"] != "/sys/fs/cgroup"]
    with open(cfg_path, "w") as f:
        json.dump(cfg, f, indent=1)
    return bundle


def crun_setup(a):
    """crun 1.8 refuses hybrid hosts whose cgroup2 has a controller (here: hugetlb), even with
    --cgroup-manager=disabled. A mount namespace where /sys/fs/cgroup/unified is hidden by an
    empty tmpfs lets it run (without cgroups). Returns (usable, mount namespace fd or -1 for
    ours, keeper process or None, what a plain `crun run` says here)."""
    probe_bundle = crun_bundle(a.work, a.busybox, ["/bin/true"], "probe")
    plain = subprocess.run(["crun", "--cgroup-manager=disabled", "run", "--bundle", probe_bundle,
                            "cb-probe-%d" % os.getpid()], capture_output=True, text=True)
    if plain.returncode == 0:
        return True, -1, None, "ok"
    error = (plain.stderr or plain.stdout).strip() or "exit %d" % plain.returncode
    keeper = subprocess.Popen(
        ["unshare", "-m", "--propagation", "private", "sh", "-c",
         "mount -t tmpfs -o ro,size=4k crun-bench-hide /sys/fs/cgroup/unified && echo ok && exec sleep 86400"],
        stdout=subprocess.PIPE, text=True)
    if keeper.stdout.readline().strip() != "ok":
        keeper.kill()
        keeper.wait()
        return False, -1, None, error
    fd = os.open("/proc/%d/ns/mnt" % keeper.pid, os.O_RDONLY | os.O_CLOEXEC)
    sp = Spawner()
    probe = Variant("crun", ["crun", "--cgroup-manager=disabled", "run", "--bundle", probe_bundle],
                    mntns=fd, crun_bundle="probe")
    if sp.run(probe)[2] != 0:
        os.close(fd)
        keeper.kill()
        keeper.wait()
        return False, -1, None, error
    return True, fd, keeper, error


def machine():
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "kernel": platform.release(),
            "cpu": cpu, "nproc": os.cpu_count(), "loadavg": open("/proc/loadavg").read().split()[:3]}


def tool_version(argv):
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        return (p.stdout or p.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "missing"


def suite_variants(a, crun_ok, crun_fd):
    cell_std = [a.cell, "run", "--memory", "256M", "--pids", "64"]
    bwrap = ["bwrap", "--unshare-all", "--die-with-parent", "--cap-drop", "ALL"]
    crun = ["crun", "--cgroup-manager=disabled", "run", "--bundle"]
    bb, py = a.busybox, a.python
    suites = {}
    t = [Variant("native", [bb + "/bin/true"]),
         Variant("unshare", ["unshare", "-Urmpinuf", "--root=" + bb, "/bin/true"]),
         Variant("bwrap", bwrap + ["--ro-bind", bb, "/", "--proc", "/proc", "--dev", "/dev", "/bin/true"]),
         Variant("cell --rootfs", cell_std + ["--rootfs", bb, "--", "/bin/true"]),
         Variant("cell (host image)", cell_std + ["--", "/bin/true"])]
    p = [Variant("native", ["/usr/bin/python3", "-c", "pass"], chroot=py),
         Variant("unshare", ["unshare", "-Urmpinuf", "--root=" + py, "python3", "-c", "pass"]),
         Variant("bwrap", bwrap + ["--ro-bind", py, "/", "--proc", "/proc", "--dev", "/dev",
                                   "python3", "-c", "pass"]),
         Variant("cell --rootfs", cell_std + ["--rootfs", py, "--", "python3", "-c", "pass"]),
         Variant("cell (host image)", cell_std + ["--", "python3", "-c", "pass"])]
    if crun_ok:
        t.insert(3, Variant("crun", crun + [crun_bundle(a.work, bb, ["/bin/true"], "true")],
                            mntns=crun_fd, crun_bundle="true"))
        p.insert(3, Variant("crun", crun + [crun_bundle(a.work, py, ["/usr/bin/python3", "-c", "pass"], "python")],
                            mntns=crun_fd, crun_bundle="python"))
    suites["/bin/true"] = t
    suites["python3 -c pass"] = p
    return suites


def ms(ns):
    return "%.2f" % (ns / 1e6)


def run_suite(a):
    if os.geteuid() != 0:
        raise SystemExit("launch.py: run the suite as root")
    crun_ok, crun_fd, keeper, crun_error = False, -1, None, "crun is not installed"
    if a.no_crun:
        crun_error = "left out (--no-crun)"
    elif tool_version(["crun", "--version"]) != "missing":
        crun_ok, crun_fd, keeper, crun_error = crun_setup(a)
    try:
        return suite(a, crun_ok, crun_fd, crun_error)
    finally:
        if keeper:
            keeper.kill()
            keeper.wait()


def suite(a, crun_ok, crun_fd, crun_error):
    cpu = CpuAccount()
    try:
        return suite_in(a, crun_ok, crun_fd, crun_error, Spawner(cpu))
    finally:
        cpu.close()


def suite_in(a, crun_ok, crun_fd, crun_error, sp):
    info = machine()
    info["cell"] = a.cell
    info["cell_built"] = time.strftime("%Y-%m-%d %H:%M", time.localtime(os.stat(a.cell).st_mtime))
    git = subprocess.run(["git", "-C", os.path.dirname(os.path.abspath(a.cell)), "describe", "--always", "--dirty"],
                         capture_output=True, text=True)
    info["cell_commit"] = git.stdout.strip() or "?"
    info["bwrap"] = tool_version(["bwrap", "--version"])
    info["crun"] = tool_version(["crun", "--version"])
    info["crun_plain_error"] = crun_error
    report = {"machine": info, "workloads": {}}
    lines = []
    for workload, variants in suite_variants(a, crun_ok, crun_fd).items():
        if a.only and a.only not in workload:
            continue
        rounds = a.rounds if workload == "/bin/true" else max(10, a.rounds // 2)
        check(sp, variants)
        alternate(sp, variants, rounds, a.gap_ms)
        by = {v.name: v for v in variants}
        bw = by["bwrap"]
        w = {"rounds": rounds, "gap_ms": a.gap_ms, "variants": {}}
        lines.append("\n### `%s` — %d alternating rounds%s\n" % (
            workload, rounds, ", %d ms idle before each round" % a.gap_ms if a.gap_ms else ""))
        lines.append("| variant | median ms | p10–p90 ms | CPU ms (median) | ratio to bwrap: median (min–max) | runs/s, %d workers |" % a.workers)
        lines.append("|---|---:|---:|---:|---:|---:|")
        tputs = throughput_interleaved(sp, variants, a.workers, a.seconds) if a.seconds > 0 else {}
        for v in variants:
            s = summary(v.times)
            c = summary(v.cpus)
            ratios = [x / y for x, y in zip(v.times, bw.times)]
            r = summary(ratios)
            tput, slices = tputs.get(v.name, (float("nan"), []))
            w["variants"][v.name] = {"argv": v.argv, "wall_ns": s, "cpu_ns": c, "ratio_to_bwrap": r,
                                     "runs_per_s": tput, "runs_per_s_slices": slices, "times_ns": v.times}
            lines.append("| %s | %s | %s–%s | %s | %.2f (%.2f–%.2f) | %.0f |" % (
                v.name, ms(s["median"]), ms(s["p10"]), ms(s["p90"]), ms(c["median"]),
                r["median"], r["min"], r["max"], tput))
        tb = w["variants"]["bwrap"]
        for name, d in w["variants"].items():
            if name.startswith("cell"):
                per = [x / y for x, y in zip(d["runs_per_s_slices"], tb["runs_per_s_slices"]) if y]
                spread = " (slices %.2f–%.2f)" % (min(per), max(per)) if per else ""
                lines.append("\n%s: %.2f× bwrap per run (median of per-round ratios); throughput %.2f× bwrap%s" % (
                    name, d["ratio_to_bwrap"]["median"],
                    d["runs_per_s"] / tb["runs_per_s"] if tb["runs_per_s"] else float("nan"), spread))
        report["workloads"][workload] = w
    info["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    head = ["## Launch benchmark, %s" % info["date"], "",
            "Machine: kernel %s, %s, %s CPUs; load average %s at start, %s at end." % (
                info["kernel"], info["cpu"], info["nproc"], " ".join(info["loadavg"]),
                " ".join(info["loadavg_end"])),
            "cell: `%s` (built %s; its repository is now at %s); %s; %s." % (
                a.cell, info["cell_built"], info["cell_commit"], info["bwrap"], info["crun"])]
    if not crun_ok:
        head.append("\ncrun: not runnable: `%s`" % crun_error)
    elif crun_error != "ok":
        head.append("\ncrun runs only in a mount namespace that hides /sys/fs/cgroup/unified; "
                    "without it: `%s`" % crun_error)
    text = "\n".join(head + lines) + "\n"
    if a.json:
        os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
        with open(a.json, "w") as f:
            json.dump(report, f, indent=1)
    return text


def run_compare(a):
    cpu = CpuAccount() if os.geteuid() == 0 else None
    try:
        return compare(a, Spawner(cpu))
    finally:
        if cpu:
            cpu.close()


def compare(a, sp):
    variants = []
    for spec in a.commands:
        name, _, cmd = spec.partition("=")
        if not cmd:
            raise SystemExit("launch.py compare: expected NAME=COMMAND, got %r" % spec)
        variants.append(Variant(name, shlex.split(cmd)))
    check(sp, variants)
    alternate(sp, variants, a.rounds, a.gap_ms)
    tputs = throughput_interleaved(sp, variants, a.workers, a.seconds) if a.seconds > 0 else {}
    base = variants[0]
    head = "| command | median ms | p10–p90 ms | CPU ms | ratio to %s |" % base.name
    rule = "|---|---:|---:|---:|---:|"
    if tputs:
        head += " runs/s, %d workers | throughput ratio (slices) |" % a.workers
        rule += "---:|---:|"
    out = [head, rule]
    for v in variants:
        s, c = summary(v.times), summary(v.cpus)
        r = summary([x / y for x, y in zip(v.times, base.times)])
        row = "| %s | %s | %s–%s | %s | %.2f |" % (v.name, ms(s["median"]), ms(s["p10"]), ms(s["p90"]),
                                                  ms(c["median"]), r["median"])
        if tputs:
            (t, sl), (tb, slb) = tputs[v.name], tputs[base.name]
            per = [x / y for x, y in zip(sl, slb) if y]
            row += " %.0f | %.2f (%.2f–%.2f) |" % (t, t / tb if tb else float("nan"), min(per), max(per))
        out.append(row)
    return "\n".join(out) + "\n"


def spin_once(argv):
    t0 = time.perf_counter_ns()
    p = subprocess.run(argv, capture_output=True, text=True)
    total = time.perf_counter_ns() - t0
    if p.returncode != 0:
        raise SystemExit("launch.py cpu: %s failed: %s" % (shlex.join(argv), p.stderr.strip()))
    loop_ns, cpu_ns, _ = p.stdout.split()
    return int(loop_ns), int(cpu_ns), total


def run_cpu(a):
    """The same static loop natively and in cell (standard profile, cgroup limits on), in
    alternating order; medians of the loop's own wall time, its CPU time, and the whole
    command's wall time (which includes cell's start-up and teardown)."""
    n = a.iterations
    if n == 0:  # calibrate natively to ~a.seconds
        probe = 200_000_000
        loop_ns, _, _ = spin_once([a.spin, str(probe)])
        n = int(probe * a.seconds * 1e9 / loop_ns)
    cell = [a.cell, "run", "--memory", "256M", "--pids", "64", "--cpu-time", "60s", "--wall-time", "120s",
            "-v", a.spin + ":/spin"]
    cell += (["--rootfs", a.rootfs] if a.rootfs else []) + ["--", "/spin", str(n)]
    variants = {"native": [a.spin, str(n)], "cell": cell}
    res = {k: [] for k in variants}
    order = list(variants)
    for r in range(a.runs):
        for k in (order if r % 2 == 0 else order[::-1]):
            res[k].append(spin_once(variants[k]))
    out = ["### CPU-bound overhead: %d iterations (~%.1f s), %d alternating runs each, load %s\n" % (
               n, a.seconds, a.runs, " ".join(open("/proc/loadavg").read().split()[:3])),
           "| where | loop wall s (median) | loop CPU s (median) | whole command s (median) | loop wall min–max |",
           "|---|---:|---:|---:|---:|"]
    med = {}
    for k, rows in res.items():
        loop = [x[0] for x in rows]
        cpu = [x[1] for x in rows]
        tot = [x[2] for x in rows]
        med[k] = (statistics.median(loop), statistics.median(cpu), statistics.median(tot))
        out.append("| %s | %.4f | %.4f | %.4f | %.4f–%.4f |" % (
            k, med[k][0] / 1e9, med[k][1] / 1e9, med[k][2] / 1e9, min(loop) / 1e9, max(loop) / 1e9))
    pair = [c[0] / nat[0] for c, nat in zip(res["cell"], res["native"])]
    out.append("\ncell/native: loop wall %+.2f %%, loop CPU %+.2f %%, whole command %+.2f %% (medians); "
               "per-pair loop ratio median %.4f (min %.4f, max %.4f)" % (
                   100 * (med["cell"][0] / med["native"][0] - 1), 100 * (med["cell"][1] / med["native"][1] - 1),
                   100 * (med["cell"][2] / med["native"][2] - 1), statistics.median(pair), min(pair), max(pair)))
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("suite")
    s.add_argument("--cell", required=True)
    s.add_argument("--busybox", required=True)
    s.add_argument("--python", required=True)
    s.add_argument("--work", default="/var/tmp/cell-bench")
    s.add_argument("--rounds", type=int, default=200, help="rounds for /bin/true (python: half)")
    s.add_argument("--seconds", type=float, default=10, help="throughput duration per variant (0: skip)")
    s.add_argument("--workers", type=int, default=2)
    s.add_argument("--gap-ms", type=int, default=0, help="idle time before each round")
    s.add_argument("--only", default="", help="run only workloads containing this text")
    s.add_argument("--no-crun", action="store_true")
    s.add_argument("--json", default="", help="also write all numbers here")
    c = sub.add_parser("compare")
    c.add_argument("commands", nargs="+", help="NAME=COMMAND (shell words; the first is the base)")
    c.add_argument("--rounds", type=int, default=100)
    c.add_argument("--gap-ms", type=int, default=0)
    c.add_argument("--seconds", type=float, default=0, help="also throughput, interleaved (0: skip)")
    c.add_argument("--workers", type=int, default=2)
    u = sub.add_parser("cpu")
    u.add_argument("--cell", required=True)
    u.add_argument("--spin", required=True, help="the static loop binary (bench/micro/spin.c)")
    u.add_argument("--rootfs", default="", help="cell's root (default: the host image)")
    u.add_argument("--runs", type=int, default=7)
    u.add_argument("--seconds", type=float, default=2.0)
    u.add_argument("--iterations", type=int, default=0, help="fixed work (default: calibrate)")
    a = ap.parse_args()
    run = {"suite": run_suite, "compare": run_compare, "cpu": run_cpu}[a.cmd]
    sys.stdout.write(run(a))


if __name__ == "__main__":
    main()
