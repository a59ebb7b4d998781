#include "cgroup/parse.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>

#include "base/strings.hpp"

namespace cell::cgroup {

namespace {

std::vector<std::string_view> lines(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    out.push_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

template <class T>
std::optional<T> to_number(std::string_view s) {
  T v{};
  const auto* end = s.data() + s.size();
  const auto [p, ec] = std::from_chars(s.data(), end, v);
  if (ec != std::errc() || p != end || s.empty()) return std::nullopt;
  return v;
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_octal(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      const std::string_view oct = s.substr(i + 1, 3);
      if (oct.size() == 3 &&
          std::all_of(oct.begin(), oct.end(), [](char c) { return c >= '0' && c <= '7'; })) {
        out.push_back(static_cast<char>((oct[0] - '0') * 64 + (oct[1] - '0') * 8 + (oct[2] - '0')));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

// Super options of a v1 mount that are not controllers.
bool is_mount_option(std::string_view opt) {
  static constexpr std::string_view kOptions[] = {
      "rw",          "ro", "noprefix", "xattr", "clone_children", "cpuset_v2_mode", "sane_behavior",
      "favordynmods"};
  if (opt.find('=') != std::string_view::npos) return true;  // name=systemd, release_agent=...
  return std::find(std::begin(kOptions), std::end(kOptions), opt) != std::end(kOptions);
}

}  // namespace

std::vector<ProcCgroupLine> parse_proc_cgroup(std::string_view text) {
  std::vector<ProcCgroupLine> out;
  for (std::string_view line : lines(text)) {
    const std::size_t c1 = line.find(':');
    const std::size_t c2 = c1 == std::string_view::npos ? c1 : line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    const auto id = to_number<int>(line.substr(0, c1));
    if (!id) continue;
    ProcCgroupLine l;
    l.hierarchy = *id;
    for (const std::string& c : split(line.substr(c1 + 1, c2 - c1 - 1), ','))
      if (!c.empty() && c.find('=') == std::string::npos) l.controllers.push_back(c);
    l.path = std::string(line.substr(c2 + 1));  // may contain ':' itself
    out.push_back(std::move(l));
  }
  return out;
}

std::vector<CgroupMount> parse_mountinfo_cgroups(std::string_view text) {
  std::vector<CgroupMount> out;
  for (std::string_view line : lines(text)) {
    const std::vector<std::string_view> w = words(line);
    const auto dash = std::find(w.begin(), w.end(), std::string_view("-"));
    // id parent dev root mountpoint options [optional...] - fstype source superoptions
    if (w.size() < 5 || dash == w.end() || std::distance(dash, w.end()) < 4) continue;
    const std::string_view fstype = *(dash + 1);
    if (fstype != "cgroup" && fstype != "cgroup2") continue;
    CgroupMount m;
    m.root = unescape_octal(w[3]);
    m.mount_point = unescape_octal(w[4]);
    m.v2 = fstype == "cgroup2";
    if (!m.v2)
      for (const std::string& opt : split(*(dash + 3), ','))
        if (!opt.empty() && !is_mount_option(opt)) m.controllers.push_back(opt);
    out.push_back(std::move(m));
  }
  return out;
}

std::map<std::string, std::uint64_t> parse_flat_keyed(std::string_view text) {
  std::map<std::string, std::uint64_t> out;
  for (std::string_view line : lines(text)) {
    const std::vector<std::string_view> w = words(line);
    if (w.size() != 2) continue;
    if (const auto v = to_number<std::uint64_t>(w[1])) out[std::string(w[0])] = *v;
  }
  return out;
}

std::optional<std::uint64_t> parse_u64(std::string_view text) {
  text = trim(text);
  if (text == "max") return UINT64_MAX;
  return to_number<std::uint64_t>(text);
}

std::vector<pid_t> parse_pids(std::string_view text) {
  std::vector<pid_t> out;
  for (std::string_view line : lines(text))
    if (const auto p = to_number<pid_t>(trim(line)); p && *p > 0) out.push_back(*p);
  return out;
}

std::optional<std::uint64_t> parse_stat_starttime(std::string_view text) {
  const std::size_t paren = text.rfind(')');
  if (paren == std::string_view::npos) return std::nullopt;
  // After "pid (comm)" come fields 3..: state is field 3, starttime field 22.
  const std::vector<std::string_view> w = words(text.substr(paren + 1));
  if (w.size() < 20) return std::nullopt;
  return to_number<std::uint64_t>(w[19]);
}

std::optional<int> parse_kernel_version(std::string_view release) {
  const std::size_t dot = release.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  std::size_t end = dot + 1;
  while (end < release.size() && release[end] >= '0' && release[end] <= '9') ++end;
  const auto major = to_number<int>(release.substr(0, dot));
  const auto minor = to_number<int>(release.substr(dot + 1, end - dot - 1));
  if (!major || !minor) return std::nullopt;
  return *major * 1000 + *minor;
}

std::uint64_t cpu_quota_us(double cpus, std::uint64_t period_us) {
  const double q = std::ceil(cpus * static_cast<double>(period_us));
  return std::max<std::uint64_t>(1000, static_cast<std::uint64_t>(q));
}

std::string format_run_leaf_name(pid_t pid, std::uint64_t starttime, std::uint64_t n) {
  return "cell-" + std::to_string(pid) + "-" + std::to_string(starttime) + "-" + std::to_string(n);
}

std::optional<LeafOwner> run_leaf_owner(std::string_view name) {
  if (!starts_with(name, "cell-")) return std::nullopt;
  const std::vector<std::string> parts = split(name.substr(5), '-');
  if (parts.size() != 3) return std::nullopt;
  const auto pid = to_number<pid_t>(parts[0]);
  const auto start = to_number<std::uint64_t>(parts[1]);
  if (!pid || *pid <= 0 || !start || !to_number<std::uint64_t>(parts[2])) return std::nullopt;
  return LeafOwner{*pid, *start};
}

std::optional<pid_t> self_leaf_owner(std::string_view name) {
  if (!starts_with(name, "cell-self-")) return std::nullopt;
  const auto pid = to_number<pid_t>(name.substr(10));
  if (!pid || *pid <= 0) return std::nullopt;
  return pid;
}

std::string self_leaf_name(pid_t pid) {
  return "cell-self-" + std::to_string(pid);
}

}  // namespace cell::cgroup
