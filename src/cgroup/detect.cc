// Detection: read where cell sits in each cgroup hierarchy, plan a v2 and a v1 driver without
// changing anything, keep the one that can enforce more limits (v2 on a tie), then prepare it.
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>

#include "base/strings.hpp"
#include "cgroup/drivers.hpp"
#include "cgroup/fs.hpp"

namespace cell::cgroup {

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

HostView read_host_view() {
  HostView h;
  h.mounts = parse_mountinfo_cgroups(fs::read("/proc/self/mountinfo").value_or(""));
  h.self = parse_proc_cgroup(fs::read("/proc/self/cgroup").value_or(""));
  utsname u{};
  if (::uname(&u) == 0) h.kernel = parse_kernel_version(u.release).value_or(0);
  h.pid = ::getpid();
  h.euid = ::geteuid();
  return h;
}

Result<std::string> resolve_parent(const std::string& mount_point, const std::string& parent) {
  std::string rel = parent;
  if (rel == mount_point || starts_with(rel, mount_point + "/"))
    rel = rel.substr(mount_point.size());
  std::string out = mount_point;
  for (const std::string& part : split(rel, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..")
      return Error::make(ErrorKind::usage,
                         "--cgroup-parent " + quote(parent) + ": '..' is not allowed");
    out = fs::join(out, part);
  }
  return out;
}

std::string existing_ancestor(const std::string& mount_point, const std::string& dir) {
  std::string d = dir;
  while (d.size() > mount_point.size() && !fs::exists(d)) d = fs::dirname(d);
  return d;
}

Result<std::unique_ptr<Driver>> detect(const DetectOptions& opts) {
  const HostView host = read_host_view();
  auto v2 = plan_v2(host, opts);
  auto v1 = plan_v1(host, opts);
  std::unique_ptr<PlannedDriver> chosen;
  if (v2.ok() && (!v1.ok() || (*v2)->score() >= (*v1)->score()))
    chosen = std::move(*v2);
  else if (v1.ok())
    chosen = std::move(*v1);
  if (!chosen) {
    Error e = Error::make(ErrorKind::unsupported, v2.error().message + "; " + v1.error().message);
    e.hint = !v2.error().hint.empty() ? v2.error().hint : v1.error().hint;
    return e;
  }
  if (!opts.inspect_only) CELL_TRY(chosen->prepare());
  return std::unique_ptr<Driver>(std::move(chosen));
}

std::string next_leaf_name() {
  static std::atomic<std::uint64_t> counter{0};
  const pid_t pid = ::getpid();
  return format_run_leaf_name(pid, fs::process_starttime(pid).value_or(0), ++counter);
}

}  // namespace cell::cgroup
