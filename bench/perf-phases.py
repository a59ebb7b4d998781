#!/usr/bin/python3
"""Where the CPU of a launcher goes, by phase: reads `perf script` output of a
`perf record -e cpu-clock --call-graph dwarf` over N runs and buckets every sample by the first
rule its call stack matches. Prints milliseconds of CPU per run for each phase.

  perf script -F comm,pid,tid,ip,sym -i perf.data | perf-phases.py --runs N --freq HZ --comm cell

Samples of other commands (the payload, the shell loop) are listed under their command name.
"""
import argparse
import re
import sys
from collections import Counter

# (phase, pattern on the joined stack, innermost frame first). First match wins, so the more
# specific phases come first. Child-side phases: the sandbox's pid 1 (cell's reaper) runs
# cell::child:: code between clone3 and execve.
RULES = [
    ("child: mount table, pivot, remount", r"cell::child::(apply_mount_table|pivot_into_stage|detach_old_root|remount_root_readonly|make_mounts_private)"),
    ("child: fork of the payload", r"cell::child::spawn_payload"),
    ("child: seccomp load + exec", r"cell::child::(load_seccomp|exec_payload)"),
    ("child: other steps", r"cell::child::"),
    ("dynamic linking (ld.so)", r"\b(_dl_start|dl_main|_dl_start_user|_dl_runtime_resolve\w*|_dl_fixup)\b|"
     r"^(do_lookup_x|_dl_lookup_symbol_x|_dl_new_hash|check_match|_dl_relocate_object|elf_machine_\w+|strcmp)\b"),
    ("static initialisers", r"\b(_dl_init|call_init)\b"),
    ("profile: YAML parse + validation", r"cell::(runtime::effective_profile|load_profile|parse_profile)"),
    ("seccomp: compile (libseccomp) + export", r"cell::(seccomp::compile|runtime::FilterCache::get)"),
    ("Runtime::open (dirs, cgroup detection)", r"cell::Runtime::open"),
    ("plan: build (mount table, maps, env)", r"cell::plan::build_plan"),
    ("cgroup: create leaf (mkdir, limits)", r"make_cgroup|V1Driver::create|V2Driver::create"),
    ("launch: clone3 (namespaces, copy of the parent)", r"cell::launch::launch.*(clone3|__do_sys_clone3)|__do_sys_clone3"),
    ("launch: cgroup join (cgroup.procs)", r"cell::launch::launch.*(join|write_existing_file|cgroup::fs::write)"),
    ("launch: uid/gid maps", r"write_id_maps"),
    ("launch: other", r"cell::launch::launch\b"),
    ("cgroup: freeze + thaw at the end (kill_all)", r"V1Leaf::kill_all|V2Leaf::kill_all|freezer_write"),
    ("supervise + verdict (cgroup usage reads)", r"cell::launch::(supervise|make_verdict)"),
    ("cgroup: destroy leaf (rmdir)", r"V1Leaf::destroy|V2Leaf::destroy|~V1Leaf|~V2Leaf|Leaf::destroy"),
    ("CLI: parse options, result JSON", r"\bCLI::|cell::cli::|nlohmann"),
    ("process exit (unmap, fini)", r"\b(do_exit|do_group_exit|__x64_sys_exit_group|_dl_fini|__run_exit_handlers|exit_mmap)\b"),
    ("exec of the launcher (kernel)", r"\b(__x64_sys_execve|bprm_execve|load_elf_binary|begin_new_exec)\b"),
    ("page faults (elsewhere)", r"\bexc_page_fault\b"),
    ("main: other", r"\bmain\b"),
]


SYSCALL = re.compile(r"\b(?:__x64_sys_|__do_sys_|ksys_)(\w+)")


def fallback(stack, frames):
    """Samples whose user stack was not unwound: by system call, else kernel or user."""
    m = SYSCALL.search(stack)
    if m:
        return "syscall %s (caller not unwound)" % m.group(1)
    if re.search(r"\b(ret_from_fork\w*|schedule_tail)\b", stack):
        return "kernel: new task start"
    if frames and re.search(r"\b(asm_\w+|irq\w*|\w+_irq\w*|handle_softirqs|sysvec_\w+)\b", stack):
        return "kernel: interrupts"
    return "other (unresolved %s)" % ("kernel" if any(f[:1] != "[" and "_" in f for f in frames[:1]) else "user")


def samples(stream):
    head, frames = None, []
    for line in stream:
        line = line.rstrip("\n")
        if not line.strip():
            if head:
                yield head, frames
            head, frames = None, []
        elif not line.startswith(("\t", " ")) or head is None:
            head, frames = line.split()[0], []
        else:
            parts = line.split(None, 1)
            frames.append(parts[1] if len(parts) > 1 else "")
    if head:
        yield head, frames


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, required=True)
    ap.add_argument("--freq", type=float, required=True)
    ap.add_argument("--comm", default="cell", help="the launcher's command name")
    ap.add_argument("--all", action="store_true", help="list phases under 0.05 ms too")
    a = ap.parse_args()
    rules = [(name, re.compile(rx)) for name, rx in RULES]
    phases, others = Counter(), Counter()
    for comm, frames in samples(sys.stdin):
        if comm != a.comm:
            others[comm] += 1
            continue
        stack = " | ".join(frames)
        for name, rx in rules:
            if rx.search(stack):
                phases[name] += 1
                break
        else:
            phases[fallback(stack, frames)] += 1
    per_run = 1000.0 / a.freq / a.runs
    total = sum(phases.values())
    print("| phase (CPU of `%s`) | ms per run | share |" % a.comm)
    print("|---|---:|---:|")
    for name, n in phases.most_common():
        if a.all or n * per_run >= 0.05:
            print("| %s | %.2f | %.0f %% |" % (name, n * per_run, 100.0 * n / total))
    small = 0 if a.all else sum(n for n in phases.values() if n * per_run < 0.05)
    if small:
        print("| (phases under 0.05 ms) | %.2f | %.0f %% |" % (small * per_run, 100.0 * small / total))
    print("| **total `%s`** | **%.2f** | |" % (a.comm, total * per_run))
    for comm, n in others.most_common():
        print("| other command: %s | %.2f | |" % (comm, n * per_run))


if __name__ == "__main__":
    main()
