#!/usr/bin/python3
"""Where a launcher waits (off-CPU time), from a system-wide sched_switch trace:

  perf record -a -g -e sched:sched_switch -o sw.data -- sh -c 'for ...; do cell run ...; done'
  perf script -i sw.data -F comm,pid,tid,time,event,trace,ip,sym | offcpu.py --runs N --comm cell

For every switch-out of a task of the given commands, the time until the same task is switched
back in is charged to the reason read from its kernel stack (the first frame that is not the
scheduler itself, and the system call). Preemptions (prev_state=R) are charged to "preempted".
Prints milliseconds per run. Tasks wait at the same time (cell polls while its sandbox runs), so
the rows add up to more than the wall time; what matters is which waits are not for real work.
"""
import argparse
import re
import sys
from collections import Counter, defaultdict

SCHED = re.compile(r"^(__schedule|schedule\w*|preempt_schedule\w*|io_schedule\w*|wait_for_completion\w*|"
                   r"__wait_for_common|do_wait_for_common|__wait_rcu_gp|wait_rcu_gp|schedule_timeout\w*|"
                   r"do_nanosleep|hrtimer_nanosleep|__x64_sys_\w+|do_syscall_64|"
                   r"entry_SYSCALL_64\w*|\[unknown\]|.*_noprof)$")
SYSCALL = re.compile(r"^(?:__x64_sys_|__do_sys_|ksys_|__se_sys_)(\w+)$")
KNOWN = [  # (label, frames that must all be present)
    ("cgroup.procs write: waits for an RCU grace period (cgroup_threadgroup_rwsem)",
     ["rcu_sync_enter", "cgroup_procs_write_start"]),
    ("umount2 (old root): expedited RCU grace period", ["synchronize_rcu_expedited", "path_umount"]),
    ("exit: mount namespace teardown, expedited RCU grace period",
     ["synchronize_rcu_expedited", "free_nsproxy"]),
    ("RCU grace period (other)", ["synchronize_rcu"]),
    ("poll: cell waits for the sandbox (setup, payload)", ["do_sys_poll"]),
    ("wait4/waitid: a parent waits for its child", ["do_wait"]),
    ("pipe read: sandbox waits for the go byte (maps, cgroup join)", ["anon_pipe_read"]),
    ("pipe read: waits for the other side", ["pipe_read"]),
    ("usleep/nanosleep (polling loop)", ["hrtimer_nanosleep"]),
    ("exit: waits for the pid namespace to empty", ["zap_pid_ns_processes"]),
    ("cgroup_mutex: waits for another cgroup operation (any process's)", ["cgroup_kn_lock_live"]),
    ("net namespace creation waits for a lock (setup_net)", ["setup_net"]),
    ("mutex/rwsem in the kernel (other)", ["__mutex_lock"]),
    ("page fault I/O", ["filemap_fault"]),
]


def events(stream):
    head, frames = None, []
    for line in stream:
        line = line.rstrip("\n")
        if not line.strip():
            if head:
                yield head, frames
            head, frames = None, []
        elif head is None:
            head, frames = line, []
        else:
            parts = line.split(None, 1)
            frames.append(parts[1].split("+")[0] if len(parts) > 1 else "")
    if head:
        yield head, frames


def reason(frames):
    names = set(frames)
    for label, need in KNOWN:
        if all(any(f.startswith(n) for f in names) for n in need):
            return label
    call = next((SYSCALL.match(f).group(1) for f in frames if SYSCALL.match(f)), "?")
    inner = next((f for f in frames if not SCHED.match(f)), "?")
    return "%s (in %s)" % (inner, call)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, required=True)
    ap.add_argument("--comm", default="cell", help="comma-separated command names to follow")
    a = ap.parse_args()
    comms = set(a.comm.split(","))
    head_rx = re.compile(r"^\s*(\S+)\s+(\d+)/(\d+)\s+([\d.]+):\s+\S+:\s+prev_comm=(.*?) prev_pid=(\d+) "
                         r"prev_prio=\d+ prev_state=(\S+) ==> next_comm=(.*?) next_pid=(\d+)")
    out = {}  # tid -> (time, reason)
    total = defaultdict(float)
    count = Counter()
    for head, frames in events(sys.stdin):
        m = head_rx.match(head)
        if not m:
            continue
        t = float(m.group(4))
        prev_comm, prev_tid, state = m.group(5), int(m.group(6)), m.group(7)
        next_tid = int(m.group(9))
        if next_tid in out:
            t0, why = out.pop(next_tid)
            total[why] += t - t0
            count[why] += 1
        if prev_comm in comms:
            why = "preempted (runnable, CPU busy)" if state.startswith("R") else reason(frames)
            out[prev_tid] = (t, why)
    print("| off-CPU reason (tasks: %s) | ms per run | waits per run |" % ", ".join(sorted(comms)))
    print("|---|---:|---:|")
    for why, sec in sorted(total.items(), key=lambda kv: -kv[1]):
        if sec * 1000 / a.runs >= 0.05:
            print("| %s | %.2f | %.1f |" % (why, sec * 1000 / a.runs, count[why] / a.runs))
    print("| **total off-CPU** | **%.2f** | |" % (sum(total.values()) * 1000 / a.runs))


if __name__ == "__main__":
    main()
