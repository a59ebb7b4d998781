// The small public pieces of cell/profile.hpp and profile loading by name or path.
#include <cell/profile.hpp>

#include <cerrno>
#include <charconv>

#include "base/errno_names.hpp"
#include "base/io.hpp"
#include "base/strings.hpp"
#include "config/config.hpp"
#include "config/suggest.hpp"

namespace cell {
namespace {

// Profiles are small; anything bigger is not one.
constexpr std::size_t kMaxProfileBytes = 1 << 20;

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool looks_like_path(std::string_view s) {
  return s.find('/') != std::string_view::npos || ends_with(s, ".yaml") || ends_with(s, ".yml");
}

std::optional<int> parse_errno(std::string_view s) {
  if (auto e = errno_from_name(s)) return e;
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  // The kernel takes errno values up to 4095 (MAX_ERRNO) from SECCOMP_RET_ERRNO.
  if (ec == std::errc() && end == s.data() + s.size() && v > 0 && v <= 4095) return v;
  return std::nullopt;
}

}  // namespace

void Limits::apply(const Limits& over) {
  if (over.cpu_time) cpu_time = over.cpu_time;
  if (over.wall_time) wall_time = over.wall_time;
  if (over.memory_bytes) memory_bytes = over.memory_bytes;
  if (over.pids) pids = over.pids;
  if (over.cpus) cpus = over.cpus;
  if (over.cpuset) cpuset = over.cpuset;
  if (over.output_bytes) output_bytes = over.output_bytes;
  if (over.fsize_bytes) fsize_bytes = over.fsize_bytes;
  if (over.nofile) nofile = over.nofile;
  if (over.stack_bytes) stack_bytes = over.stack_bytes;
}

std::string_view to_string(Network n) noexcept {
  switch (n) {
    case Network::none:
      return "none";
    case Network::loopback:
      return "loopback";
    case Network::host:
      return "host";
  }
  return "none";
}

std::optional<Network> parse_network(std::string_view s) noexcept {
  if (s == "none") return Network::none;
  if (s == "loopback") return Network::loopback;
  if (s == "host") return Network::host;
  return std::nullopt;
}

std::string to_string(const SeccompAction& a) {
  switch (a.kind) {
    case SeccompAction::Kind::allow:
      return "allow";
    case SeccompAction::Kind::kill_process:
      return "kill_process";
    case SeccompAction::Kind::log:
      return "log";
    case SeccompAction::Kind::errno_code: {
      const std::string name = errno_name(a.errno_value);
      // errno_name says "E<n>" for numbers it has no name for; write the number itself.
      return "errno:" + (errno_from_name(name) ? name : std::to_string(a.errno_value));
    }
  }
  return "allow";
}

std::optional<SeccompAction> parse_seccomp_action(std::string_view s, std::string& why) {
  using K = SeccompAction::Kind;
  if (s == "allow") return SeccompAction{K::allow, 0};
  if (s == "kill_process") return SeccompAction{K::kill_process, 0};
  if (s == "log") return SeccompAction{K::log, 0};
  if (starts_with(s, "errno:")) {
    if (auto e = parse_errno(s.substr(6))) return SeccompAction{K::errno_code, *e};
    why = "names no errno value (use e.g. errno:EPERM or errno:ENOSYS)";
    return std::nullopt;
  }
  why = "is not a seccomp action (use allow, kill_process, log or errno:NAME)" +
        config::did_you_mean(s, std::vector<std::string_view>{"allow", "kill_process", "log"});
  return std::nullopt;
}

const std::vector<std::string>& builtin_profile_names() {
  static const std::vector<std::string> kNames = {"minimal", "standard", "hardened", "paranoid"};
  return kNames;
}

Result<Profile> load_profile(std::string_view name_or_path) {
  if (looks_like_path(name_or_path)) return load_profile_file(std::string(name_or_path));
  if (const char* text = config::builtin_profile_text(name_or_path))
    return parse_profile(text, "builtin:" + std::string(name_or_path));
  return Error::make(ErrorKind::not_found,
                     "unknown profile '" + std::string(name_or_path) + "'" +
                         config::did_you_mean(name_or_path, builtin_profile_names()) +
                         "; built-in profiles are " + join(builtin_profile_names(), ", ") +
                         ", or give a path to a YAML file");
}

Result<Profile> load_profile_file(const std::string& path) {
  Result<std::string> text = read_file(path, kMaxProfileBytes);
  if (!text) {
    Error e = std::move(text).error();
    if (e.sys_errno == ENOENT) e.kind = ErrorKind::not_found;
    return e;
  }
  return parse_profile(*text, path);
}

}  // namespace cell
