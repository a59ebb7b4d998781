#include "launch/cpu_watch.hpp"

#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

#include "base/io.hpp"

namespace cell::launch {

namespace {

struct ProcStat {
  std::uint64_t children_ticks = 0;  // cutime + cstime: what its reaped children used
};

// Fields 16 and 17 of /proc/PID/stat, counted after the ")" that ends the command name.
std::optional<ProcStat> read_stat(pid_t pid) {
  auto text = read_file("/proc/" + std::to_string(pid) + "/stat", 4096);
  if (!text.ok()) return std::nullopt;
  const std::size_t close = text->rfind(')');
  if (close == std::string::npos) return std::nullopt;
  const char* p = text->c_str() + close + 1;
  ProcStat st;
  for (int field = 3; field <= 17 && *p != '\0'; ++field) {
    while (*p == ' ') ++p;
    char* end = nullptr;
    const unsigned long long v = std::strtoull(p, &end, 10);
    if (field == 16 || field == 17) st.children_ticks += v;
    p = end != nullptr && end != p ? end : p + 1;
    while (*p != '\0' && *p != ' ') ++p;
  }
  return st;
}

}  // namespace

std::optional<std::uint64_t> process_cpu_ns(pid_t pid) {
  clockid_t clk;
  if (::clock_getcpuclockid(pid, &clk) != 0) return std::nullopt;
  timespec ts{};
  if (::clock_gettime(clk, &ts) != 0) return std::nullopt;
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ull +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

namespace {

// Children of every thread of `pid` (/proc/PID/task/TID/children).
void add_children(pid_t pid, std::vector<pid_t>& out) {
  const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = ::opendir(tasks.c_str());
  if (d == nullptr) return;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    auto list = read_file(tasks + "/" + e->d_name + "/children", 1 << 20);
    if (!list.ok()) continue;
    const char* p = list->c_str();
    char* end = nullptr;
    for (long v = std::strtol(p, &end, 10); end != p; v = std::strtol(p, &end, 10)) {
      out.push_back(static_cast<pid_t>(v));
      p = end;
    }
  }
  ::closedir(d);
}

}  // namespace

std::optional<std::uint64_t> process_tree_cpu_ns(pid_t init) {
  const auto init_stat = read_stat(init);
  if (!init_stat) return std::nullopt;
  static const long ticks_per_s = ::sysconf(_SC_CLK_TCK);
  const std::uint64_t tick_ns = 1000000000ull / static_cast<std::uint64_t>(ticks_per_s);
  std::uint64_t total = init_stat->children_ticks * tick_ns;
  std::vector<pid_t> queue;
  add_children(init, queue);
  for (std::size_t i = 0; i < queue.size() && i < 100000; ++i) {
    const pid_t p = queue[i];
    const auto st = read_stat(p);
    if (!st) continue;  // exited meanwhile: its time moves to its parent's cutime
    total += process_cpu_ns(p).value_or(0) + st->children_ticks * tick_ns;
    add_children(p, queue);
  }
  return total;
}

CpuWatch::Verdict CpuWatch::check() {
  const std::optional<std::uint64_t> used =
      leaf_ != nullptr ? leaf_->cpu_ns() : process_tree_cpu_ns(init_);
  if (!used) return {};  // nothing to measure (the sandbox is gone): its exit report will say
  last_ = used;
  if (*used >= limit_) return {true, 0};
  const std::uint64_t left = limit_ - *used;
  return {false, left > kTickNs * cpus_ ? left / cpus_ : kNearPollNs};
}

}  // namespace cell::launch
