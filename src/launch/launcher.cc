#include "launch/launcher.hpp"

#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.hpp"
#include "base/io.hpp"
#include "base/sys.hpp"
#include "launch/cpu_watch.hpp"
#include "launch/idmap_writer.hpp"
#include "launch/report.hpp"

namespace cell::launch {

using child::Step;

namespace {

// Keeps pipe ends above 2: the child dups the payload's stdio onto 0-2 and must not clobber them.
int above_stdio(int fd) {
  if (fd > 2 || fd < 0) return fd;
  const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  ::close(fd);
  return moved;
}

bool make_pipe(UniqueFd& r, UniqueFd& w) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return false;
  r.reset(above_stdio(p[0]));
  w.reset(above_stdio(p[1]));
  return r.valid() && w.valid();
}

struct ChildEnds {
  UniqueFd go_r, report_w, status_w, notify_child;
};

// Blocks every signal around clone3 so no handler of the embedding program runs in the child
// before reset_signals (CLONE_CLEAR_SIGHAND resets handlers, the mask covers the window).
long clone_child(plan::Plan& plan, cgroup::Leaf* leaf, int* pidfd_out) {
  struct clone_args args {};
  args.flags = plan.clone_flags | CLONE_PIDFD | CLONE_CLEAR_SIGHAND;
  args.pidfd = reinterpret_cast<std::uint64_t>(pidfd_out);
  args.exit_signal = 0;  // no SIGCHLD: an embedder's waitpid(-1) must not reap our child
  if (leaf != nullptr && leaf->clone_into_fd() >= 0) {
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = static_cast<std::uint64_t>(leaf->clone_into_fd());
  }
  sigset_t all, old;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  const long pid = sys::clone3(&args);
  if (pid == 0) child::run_child(plan.view);  // never returns
  const int err = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = err;
  return pid;
}

Error join_error(Error e) {
  e.kind = ErrorKind::setup;
  e.step = child::step_name(Step::join_cgroup);
  return e;
}

// v1: opens the leaf's `tasks` files for the child to move itself through and puts them in
// the plan (the caller keeps `files` open until the clone). Nothing to do when the child is
// born in its leaf (CLONE_INTO_CGROUP) or there is no leaf.
Result<void> hand_join_files(plan::Plan& plan, cgroup::Leaf* leaf,
                             std::vector<cgroup::JoinFile>& files) {
  child::ChildPlan& v = plan.view;
  v.n_join_fds = 0;
  plan.join_paths.clear();
  if (leaf == nullptr || leaf->clone_into_fd() >= 0) return {};
  auto opened = leaf->open_join_files();
  if (!opened.ok()) return join_error(opened.error());
  files = std::move(opened).value();
  if (files.size() > child::ChildPlan::kMaxJoinFds)
    return setup_error(Step::join_cgroup, E2BIG, -1, &plan);
  for (cgroup::JoinFile& f : files) {
    f.fd.reset(above_stdio(f.fd.release()));
    if (!f.fd.valid()) return setup_error(Step::join_cgroup, errno, -1, &plan);
    v.join_fds[v.n_join_fds++] = f.fd.get();
    plan.join_paths.push_back("cgroup " + f.path);
  }
  return {};
}

void reap(int pidfd) {
  siginfo_t info{};
  while (::waitid(P_PIDFD, static_cast<id_t>(pidfd), &info, WEXITED | __WALL) != 0 &&
         errno == EINTR) {
  }
}

}  // namespace

void kill_sandbox(const Launched& l) noexcept {
  if (l.pidfd.valid()) sys::pidfd_send_signal(l.pidfd.get(), SIGKILL);
}

Result<Launched> launch(plan::Plan& plan, const StdioFds& stdio, cgroup::Leaf* leaf,
                        bool use_notify) {
  Launched l;
  ChildEnds ends;
  UniqueFd go_w;
  if (!make_pipe(ends.go_r, go_w) || !make_pipe(l.report, ends.report_w) ||
      !make_pipe(l.status, ends.status_w))
    return setup_error(Step::clone, errno, -1, &plan);
  if (use_notify) {
    int sp[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) != 0)
      return setup_error(Step::clone, errno, -1, &plan);
    l.notify.reset(above_stdio(sp[0]));
    ends.notify_child.reset(above_stdio(sp[1]));
  }
  std::vector<cgroup::JoinFile> join_files;
  if (auto r = hand_join_files(plan, leaf, join_files); !r.ok()) return r.error();
  child::ChildPlan& v = plan.view;
  v.go_fd = ends.go_r.get();
  v.go_parent_fd = go_w.get();
  v.report_fd = ends.report_w.get();
  v.status_fd = ends.status_w.get();
  v.notify_sock = ends.notify_child.get();
  for (int i = 0; i < 3; ++i) v.stdio[i] = stdio.fd[i];

  l.clone_ns = monotonic_ns();
  int pidfd = -1;
  const long pid = clone_child(plan, leaf, &pidfd);
  if (pid < 0) return setup_error(Step::clone, errno, -1, &plan);
  l.cloned_ns = monotonic_ns();
  l.pid = static_cast<pid_t>(pid);
  l.pidfd.reset(pidfd);
  ends = ChildEnds{};  // the child has its copies; ours must close for EOFs to work
  join_files.clear();
  // For accounting only: without it the sandbox's unmounting is charged to the run.
  if (plan.clone_flags & CLONE_NEWNS)
    l.mount_ns.reset(
        ::open(("/proc/" + std::to_string(pid) + "/ns/mnt").c_str(), O_RDONLY | O_CLOEXEC));

  auto fail = [&](Error e) -> Result<Launched> {
    kill_sandbox(l);
    reap(l.pidfd.get());
    return e;
  };
  // Neither born in the leaf nor moving itself: move it by pid (it ran outside until now).
  const bool join_by_pid = leaf != nullptr && leaf->clone_into_fd() < 0 && v.n_join_fds == 0;
  if (join_by_pid) {
    if (auto r = leaf->join(l.pid); !r.ok()) return fail(join_error(r.error()));
    l.joined_ns = monotonic_ns();
  }
  if (auto r = write_id_maps(l.pid, plan.idmap); !r.ok()) return fail(r.error());
  l.mapped_ns = monotonic_ns();
  if (join_by_pid) l.init_cpu_at_go_ns = process_cpu_ns(l.pid).value_or(0);
  const char go = 'G';
  if (write_full(go_w.get(), &go, 1) != 0)
    return fail(setup_error(Step::release_child, errno, -1, &plan));
  l.go = std::move(go_w);
  l.go_ns = monotonic_ns();
  return l;
}

}  // namespace cell::launch
