// limits: and rlimits:
#include <cctype>

#include "base/strings.hpp"
#include "config/reader.hpp"

namespace cell::config {
namespace {

// The kernel's default fs.nr_open: RLIMIT_NOFILE cannot go higher without a sysctl.
constexpr std::uint64_t kMaxNofile = 1u << 20;
// PID_MAX_LIMIT on 64-bit.
constexpr std::uint64_t kMaxPids = 4u << 20;
// cpuset.cpus indexes; well past any real machine.
constexpr unsigned long kMaxCpu = 8191;

template <class T>
void positive(const Field& f, std::optional<T>& v, const char* what) {
  if (v && *v <= T{}) {
    f.error(std::string("must be greater than 0 (omit it for ") + what + ")");
    v.reset();
  }
}

bool parse_cpu(std::string_view s, unsigned long& out) {
  if (s.empty() || s.size() > 5) return false;
  out = 0;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    out = out * 10 + static_cast<unsigned long>(c - '0');
  }
  return out <= kMaxCpu;
}

// The cpu list syntax of cpuset.cpus: "0-3,6,8-9".
bool valid_cpu_list(std::string_view list) {
  if (list.empty()) return false;
  for (const std::string& item : split(list, ',')) {
    const std::vector<std::string> ends = split(item, '-');
    unsigned long lo = 0, hi = 0;
    if (ends.size() > 2 || !parse_cpu(ends[0], lo)) return false;
    if (ends.size() == 2 && (!parse_cpu(ends[1], hi) || hi < lo)) return false;
  }
  return true;
}

void read_cpus(const Field& f, Limits& out) {
  out.cpus = f.number();
  if (out.cpus && !(*out.cpus >= 0.01 && *out.cpus <= 4096)) {
    f.error("must be from 0.01 (the kernel's smallest CPU quota) to 4096 (CPUs, e.g. 1.5)");
    out.cpus.reset();
  }
}

void read_cpuset(const Field& f, Limits& out) {
  auto s = f.string();
  if (!s) return;
  if (!valid_cpu_list(*s)) {
    f.error("'" + *s + "' is not a CPU list (use e.g. 0-3,6)");
    return;
  }
  out.cpuset = *s;
}

void read_stack(const Field& f, Limits& out) {
  if (f.node().IsScalar() && f.node().Scalar() == "unlimited") {
    out.stack_bytes = Limits::kUnlimited;
    return;
  }
  out.stack_bytes = f.size();
  positive(f, out.stack_bytes, "the inherited stack limit");
}

void read_core(const Field& f) {
  auto v = f.size();
  if (v && *v != 0) f.error("only 0 is accepted: core dumps are always off in a sandbox");
}

}  // namespace

void read_limits(const Field& f, Limits& out) {
  if (!f.expect_map()) return;
  f.check_keys({"cpu_time", "wall_time", "memory", "pids", "cpus", "cpuset", "output"});
  if (auto v = f.get("cpu_time")) {
    out.cpu_time = v->duration();
    positive(*v, out.cpu_time, "no CPU time limit");
  }
  if (auto v = f.get("wall_time")) {
    out.wall_time = v->duration();
    positive(*v, out.wall_time, "no wall time limit");
  }
  if (auto v = f.get("memory")) {
    out.memory_bytes = v->size();
    positive(*v, out.memory_bytes, "no memory limit");
  }
  if (auto v = f.get("pids")) out.pids = v->whole(1, kMaxPids);
  if (auto v = f.get("cpus")) read_cpus(*v, out);
  if (auto v = f.get("cpuset")) read_cpuset(*v, out);
  if (auto v = f.get("output")) out.output_bytes = v->size();
}

void read_rlimits(const Field& f, Limits& out) {
  if (!f.expect_map()) return;
  f.check_keys({"fsize", "nofile", "stack", "core"});
  if (auto v = f.get("fsize")) out.fsize_bytes = v->size();
  if (auto v = f.get("nofile")) out.nofile = v->whole(1, kMaxNofile);
  if (auto v = f.get("stack")) read_stack(*v, out);
  if (auto v = f.get("core")) read_core(*v);
}

}  // namespace cell::config
