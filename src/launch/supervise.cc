#include "launch/supervise.hpp"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "base/clock.hpp"
#include "base/io.hpp"
#include "base/sys.hpp"
#include "launch/cpu_watch.hpp"
#include "seccomp/seccomp.hpp"

namespace cell::launch {

namespace {

void arm(int tfd, std::uint64_t ns_from_now) {
  itimerspec its{};
  if (ns_from_now == 0) ns_from_now = 1;  // 0 would disarm
  its.it_value.tv_sec = static_cast<time_t>(ns_from_now / 1000000000);
  its.it_value.tv_nsec = static_cast<long>(ns_from_now % 1000000000);
  ::timerfd_settime(tfd, 0, &its, nullptr);
}

void disarm(int tfd) {
  itimerspec its{};
  ::timerfd_settime(tfd, 0, &its, nullptr);
}

void drain_timer(int tfd) {
  std::uint64_t n;
  while (::read(tfd, &n, sizeof n) < 0 && errno == EINTR) {
  }
}

int receive_fd(int sock) {
  char data;
  iovec iov{&data, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  if (::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) <= 0) return -1;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
      return fd;
    }
  return -1;
}

// Reads one seccomp notification: which syscall a process tried.
std::optional<Violation> receive_violation(int listener) {
  // The listener also wakes poll() with POLLHUP once every filter user is gone, and on 6.1 the
  // RECV ioctl then blocks forever: receive only what is really pending.
  pollfd pending{listener, POLLIN, 0};
  if (::poll(&pending, 1, 0) != 1 || (pending.revents & POLLIN) == 0) return std::nullopt;
  seccomp_notif_sizes sizes{};
  if (sys::seccomp(SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0) return std::nullopt;
  std::vector<char> buf(std::max<std::size_t>(sizes.seccomp_notif, sizeof(seccomp_notif)), 0);
  if (::ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, buf.data()) != 0) return std::nullopt;
  const auto* n = reinterpret_cast<const seccomp_notif*>(buf.data());
  Violation v;
  v.nr = n->data.nr;
  v.arch = seccomp::arch_name(n->data.arch, n->data.nr);
  v.syscall = seccomp::syscall_name(n->data.nr, n->data.arch);
  return v;
}

class Loop {
 public:
  Loop(Launched& l, const SuperviseConfig& cfg) : l_(l), cfg_(cfg) {
    wall_timer_.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
    cpu_timer_.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
    arm(wall_timer_.get(), cfg.setup_timeout_ns);
    for (int fd : {cfg.stdout_fd, cfg.stderr_fd})
      if (fd >= 0) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    out_.captured = cfg.stdout_fd >= 0;
    err_.captured = cfg.stderr_fd >= 0;
    out_open_ = out_.captured;
    err_open_ = err_.captured;
  }

  Outcome run() {
    while (!done()) {
      std::vector<pollfd> fds;
      add(fds, l_.report.get(), report_open_);  // before the pidfd: exec precedes exit
      add(fds, l_.pidfd.get(), !init_gone_);
      add(fds, l_.status.get(), status_open_);
      add(fds, l_.notify.get(), l_.notify.valid());
      add(fds, listener_.get(), listener_.valid());
      add(fds, cfg_.stdout_fd, out_open_);
      add(fds, cfg_.stderr_fd, err_open_);
      add(fds, wall_timer_.get(), true);
      add(fds, cpu_timer_.get(), true);
      if (::poll(fds.data(), fds.size(), -1) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      for (const pollfd& p : fds)
        if (p.revents != 0) handle(p.fd);
    }
    // A payload that exec'd and exited before we looked: its exit record proves the exec.
    if (!o_.exec_seen && !o_.failure && o_.reaper) {
      o_.exec_seen = true;
      o_.exec_ns = o_.end_ns;
    }
    o_.out = std::move(out_);
    o_.err = std::move(err_);
    if (o_.end_ns == 0) o_.end_ns = monotonic_ns();
    return std::move(o_);
  }

 private:
  static void add(std::vector<pollfd>& fds, int fd, bool on) {
    if (on && fd >= 0) fds.push_back({fd, POLLIN, 0});
  }

  bool done() const {
    return init_gone_ && !report_open_ && !status_open_ && !out_open_ && !err_open_;
  }

  void kill(KillReason why) {
    if (o_.killed == KillReason::none) o_.killed = why;
    kill_sandbox(l_);
    if (cfg_.leaf != nullptr) (void)cfg_.leaf->kill_all();
  }

  void handle(int fd) {
    if (fd == l_.pidfd.get()) return on_init_exit();
    if (fd == l_.report.get()) return on_report();
    if (fd == l_.status.get()) return on_status();
    if (fd == l_.notify.get()) {
      listener_.reset(receive_fd(fd));
      l_.notify.reset();
      return;
    }
    if (fd == listener_.get()) return on_listener();
    if (fd == cfg_.stdout_fd) return on_output(fd, out_, out_open_);
    if (fd == cfg_.stderr_fd) return on_output(fd, err_, err_open_);
    if (fd == wall_timer_.get()) return on_wall_timer();
    if (fd == cpu_timer_.get()) return on_cpu_timer();
  }

  void on_init_exit() {
    siginfo_t info{};
    if (::waitid(P_PIDFD, static_cast<id_t>(l_.pidfd.get()), &info, WEXITED | WNOHANG | __WALL) !=
            0 &&
        errno != EINTR)
      init_gone_ = true;
    if (info.si_pid != 0) {
      init_gone_ = true;
      o_.init_code = info.si_code;
      o_.init_status = info.si_status;
      if (o_.end_ns == 0) o_.end_ns = monotonic_ns();
      disarm(wall_timer_.get());
      disarm(cpu_timer_.get());
      if (cfg_.leaf != nullptr) (void)cfg_.leaf->kill_all();  // stragglers outside the pid ns
    }
  }

  void on_report() {
    child::FailureRecord rec;
    const ssize_t n = read_full(l_.report.get(), &rec, sizeof rec);
    report_open_ = false;
    if (n == static_cast<ssize_t>(sizeof rec) && rec.magic == child::FailureRecord::kMagic) {
      o_.failure = rec;
      return;
    }
    // EOF: every copy of the write end is closed, by the payload's execve (CLOEXEC) or by its
    // death. After a kill of ours (the setup timeout) it is the death: not an exec.
    if (n == 0 && !init_gone_ && o_.killed == KillReason::none) on_exec();
  }

  void on_exec() {
    o_.exec_seen = true;
    o_.exec_ns = monotonic_ns();
    if (cfg_.wall_ns)
      arm(wall_timer_.get(), *cfg_.wall_ns);
    else
      disarm(wall_timer_.get());
    // The leaf also counts cell's pid 1 (its setup steps ran there); it now waits for the
    // payload, so its clock stays put until the end, whose teardown cell keeps outside.
    if (cfg_.leaf != nullptr) {
      const std::uint64_t init = process_cpu_ns(l_.pid).value_or(0);
      o_.cpu_base_ns = init > l_.init_cpu_at_go_ns ? init - l_.init_cpu_at_go_ns : 0;
    }
    if (cfg_.cpu_ns) {
      cpu_.emplace(*cfg_.cpu_ns + o_.cpu_base_ns, cfg_.cpus, cfg_.leaf, l_.pid);
      arm(cpu_timer_.get(), *cfg_.cpu_ns / cfg_.cpus);  // the soonest it can be spent
    }
  }

  void on_status() {
    child::ReaperRecord rec;
    const ssize_t n = read_full(l_.status.get(), &rec, sizeof rec);
    status_open_ = false;
    if (n == static_cast<ssize_t>(sizeof rec) && rec.magic == child::ReaperRecord::kMagic) {
      o_.reaper = rec;
      o_.end_ns = monotonic_ns();
    }
  }

  void on_listener() {
    if (auto v = receive_violation(listener_.get())) {
      if (!o_.violation) o_.violation = *v;
      kill(KillReason::seccomp);
    } else {
      listener_.reset();  // every filter user is gone (or the fd broke): stop listening
    }
  }

  void on_output(int fd, StreamResult& s, bool& open) {
    char buf[65536];
    for (;;) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return;  // EAGAIN: drained for now
      if (n == 0) {
        open = false;
        return;
      }
      const auto len = static_cast<std::uint64_t>(n);
      s.size_bytes += len;
      const std::uint64_t cap =
          cfg_.output_limit ? std::min(*cfg_.output_limit, cfg_.capture_cap) : cfg_.capture_cap;
      if (s.captured_bytes < cap) {
        const std::uint64_t take = std::min(len, cap - s.captured_bytes);
        s.data.append(buf, take);
        s.captured_bytes += take;
      }
      if (s.size_bytes > s.captured_bytes) s.truncated = true;
      if (cfg_.output_limit && s.size_bytes > *cfg_.output_limit) {
        kill(KillReason::output);
        // Stop reading: a writer in one long write() only sees its SIGKILL once the pipe is
        // full; draining on would let it write everything first.
        open = false;
        return;
      }
    }
  }

  void on_wall_timer() {
    drain_timer(wall_timer_.get());
    if (init_gone_) return;
    kill(o_.exec_seen ? KillReason::wall_time : KillReason::setup_timeout);
  }

  void on_cpu_timer() {
    drain_timer(cpu_timer_.get());
    if (init_gone_ || !cpu_ || o_.killed != KillReason::none) return;
    const CpuWatch::Verdict v = cpu_->check();
    o_.cpu_seen_ns = cpu_->last_reading();
    if (v.exceeded) return kill(KillReason::cpu_time);
    if (v.next_ns != 0) arm(cpu_timer_.get(), v.next_ns);
  }

  Launched& l_;
  const SuperviseConfig& cfg_;
  Outcome o_;
  StreamResult out_, err_;
  UniqueFd wall_timer_, cpu_timer_, listener_;
  std::optional<CpuWatch> cpu_;
  bool init_gone_ = false;
  bool report_open_ = true;
  bool status_open_ = true;
  bool out_open_ = false;
  bool err_open_ = false;
};

}  // namespace

Outcome supervise(Launched& l, const SuperviseConfig& cfg) {
  return Loop(l, cfg).run();
}

}  // namespace cell::launch
