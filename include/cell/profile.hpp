// Profiles: named, validated bundles of limits, mounts, identity and policy.
#pragma once

#include <cell/error.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cell {

using Nanos = std::chrono::nanoseconds;

enum class Network { none, loopback, host };
std::string_view to_string(Network n) noexcept;
std::optional<Network> parse_network(std::string_view s) noexcept;

// Every field is optional: unset means "no limit" (or, in a request, "keep the profile's").
struct Limits {
  static constexpr std::uint64_t kUnlimited = UINT64_MAX;

  std::optional<Nanos> cpu_time;
  std::optional<Nanos> wall_time;
  std::optional<std::uint64_t> memory_bytes;
  std::optional<std::uint64_t> pids;
  std::optional<double> cpus;
  std::optional<std::string> cpuset;
  std::optional<std::uint64_t> output_bytes;  // per captured stream
  std::optional<std::uint64_t> fsize_bytes;   // RLIMIT_FSIZE
  std::optional<std::uint64_t> nofile;        // RLIMIT_NOFILE
  std::optional<std::uint64_t> stack_bytes;   // RLIMIT_STACK; kUnlimited allowed

  // Fields set in `over` replace ours.
  void apply(const Limits& over);
};

struct Mount {
  enum class Kind { bind, tmpfs };
  Kind kind = Kind::bind;
  std::string source;            // host path (bind only)
  std::string target;            // absolute path inside the sandbox
  bool writable = false;         // binds are read-only unless asked
  std::uint64_t size_bytes = 0;  // tmpfs size cap; 0 = the runtime default
  std::string origin;            // where it was declared, for messages ("--bind", "file:12:5")
};

struct SeccompAction {
  enum class Kind { allow, kill_process, errno_code, log };
  Kind kind = Kind::allow;
  int errno_value = 0;  // for errno_code

  friend bool operator==(const SeccompAction&, const SeccompAction&) = default;
};
std::string to_string(const SeccompAction& a);
// "allow", "kill_process", "log", "errno:EPERM"; nullopt with `why` filled when invalid.
std::optional<SeccompAction> parse_seccomp_action(std::string_view s, std::string& why);

struct SeccompRule {
  SeccompAction action;
  std::vector<std::string> syscalls;  // syscall names or "@group" names
};

struct SeccompPolicy {
  bool enabled = true;
  SeccompAction default_action;  // for syscalls no rule names
  std::vector<SeccompRule> rules;  // later rules win over earlier ones for the same syscall
  std::map<std::string, std::vector<std::string>> groups;  // profile-defined "@name" groups
};

struct Profile {
  std::string name;
  std::string description;
  std::string source;  // file path, or "builtin:NAME"
  std::uint32_t uid = 65534;
  std::uint32_t gid = 65534;
  std::string hostname = "cell";
  Network network = Network::none;
  bool mount_sys = false;  // read-only /sys
  Limits limits;
  std::vector<Mount> mounts;
  std::vector<std::pair<std::string, std::string>> env;  // defaults; the request adds to them
  std::vector<std::string> capabilities;  // capability names to keep (none by default)
  SeccompPolicy seccomp;
};

// Built-in profile names, in order of strictness.
const std::vector<std::string>& builtin_profile_names();
// `name_or_path`: a built-in name, or a path to a YAML file.
Result<Profile> load_profile(std::string_view name_or_path);
Result<Profile> load_profile_file(const std::string& path);
// Parses YAML text; `file` is used in messages ("file:line:col: key.path: problem").
Result<Profile> parse_profile(std::string_view yaml_text, const std::string& file);
// The effective profile as YAML, in the schema load_profile reads.
std::string profile_to_yaml(const Profile& p);

}  // namespace cell
