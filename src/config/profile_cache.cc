#include "config/profile_cache.hpp"

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "seccomp/cache_file.hpp"

namespace cell::config {
namespace {

using nlohmann::json;

constexpr int kFormat = 1;
constexpr std::size_t kMaxEntryBytes = 1 << 20;

// A field added to these structs must be added to the encoding below too (and to the test's
// comparison): these sizes stop the build until it is.
static_assert(sizeof(Profile) == 488 && sizeof(Limits) == 184 && sizeof(Mount) == 120 &&
                  sizeof(SeccompPolicy) == 88 && sizeof(SeccompRule) == 32 &&
                  sizeof(SeccompAction) == 8,
              "Profile changed: update the profile cache's encode_profile/decode_profile");

template <class T>
void put_opt(json& j, const char* key, const std::optional<T>& v) {
  if (v) j[key] = *v;
}
template <class T>
std::optional<T> get_opt(const json& j, const char* key) {
  if (!j.contains(key)) return std::nullopt;
  return j.at(key).get<T>();
}

json encode_limits(const Limits& l) {
  json j = json::object();
  if (l.cpu_time) j["cpu_time_ns"] = l.cpu_time->count();
  if (l.wall_time) j["wall_time_ns"] = l.wall_time->count();
  put_opt(j, "memory_bytes", l.memory_bytes);
  put_opt(j, "pids", l.pids);
  put_opt(j, "cpus", l.cpus);
  put_opt(j, "cpuset", l.cpuset);
  put_opt(j, "output_bytes", l.output_bytes);
  put_opt(j, "fsize_bytes", l.fsize_bytes);
  put_opt(j, "nofile", l.nofile);
  put_opt(j, "stack_bytes", l.stack_bytes);
  return j;
}

Limits decode_limits(const json& j) {
  Limits l;
  if (auto ns = get_opt<Nanos::rep>(j, "cpu_time_ns")) l.cpu_time = Nanos(*ns);
  if (auto ns = get_opt<Nanos::rep>(j, "wall_time_ns")) l.wall_time = Nanos(*ns);
  l.memory_bytes = get_opt<std::uint64_t>(j, "memory_bytes");
  l.pids = get_opt<std::uint64_t>(j, "pids");
  l.cpus = get_opt<double>(j, "cpus");
  l.cpuset = get_opt<std::string>(j, "cpuset");
  l.output_bytes = get_opt<std::uint64_t>(j, "output_bytes");
  l.fsize_bytes = get_opt<std::uint64_t>(j, "fsize_bytes");
  l.nofile = get_opt<std::uint64_t>(j, "nofile");
  l.stack_bytes = get_opt<std::uint64_t>(j, "stack_bytes");
  return l;
}

json encode_action(const SeccompAction& a) {
  return {static_cast<int>(a.kind), a.errno_value};
}
SeccompAction decode_action(const json& j) {
  const int kind = j.at(0).get<int>();
  if (kind < 0 || kind > static_cast<int>(SeccompAction::Kind::log))
    throw std::out_of_range("seccomp action kind");
  return {static_cast<SeccompAction::Kind>(kind), j.at(1).get<int>()};
}

json encode_seccomp(const SeccompPolicy& s) {
  json rules = json::array();
  for (const SeccompRule& r : s.rules) rules.push_back({encode_action(r.action), r.syscalls});
  return {{"enabled", s.enabled},
          {"default", encode_action(s.default_action)},
          {"rules", rules},
          {"groups", s.groups}};
}

SeccompPolicy decode_seccomp(const json& j) {
  SeccompPolicy s;
  s.enabled = j.at("enabled").get<bool>();
  s.default_action = decode_action(j.at("default"));
  for (const json& r : j.at("rules"))
    s.rules.push_back({decode_action(r.at(0)), r.at(1).get<std::vector<std::string>>()});
  s.groups = j.at("groups").get<std::map<std::string, std::vector<std::string>>>();
  return s;
}

}  // namespace

std::string encode_profile(const Profile& p) {
  json mounts = json::array();
  for (const Mount& m : p.mounts)
    mounts.push_back({{"kind", m.kind == Mount::Kind::tmpfs ? "tmpfs" : "bind"},
                      {"source", m.source},
                      {"target", m.target},
                      {"writable", m.writable},
                      {"size_bytes", m.size_bytes},
                      {"origin", m.origin}});
  const json j = {{"format", kFormat},
                  {"name", p.name},
                  {"description", p.description},
                  {"source", p.source},
                  {"uid", p.uid},
                  {"gid", p.gid},
                  {"hostname", p.hostname},
                  {"network", std::string(to_string(p.network))},
                  {"mount_sys", p.mount_sys},
                  {"limits", encode_limits(p.limits)},
                  {"mounts", mounts},
                  {"env", p.env},
                  {"capabilities", p.capabilities},
                  {"seccomp", encode_seccomp(p.seccomp)}};
  return j.dump();
}

std::optional<Profile> decode_profile(std::string_view text) {
  try {
    const json j = json::parse(text);
    if (j.at("format").get<int>() != kFormat) return std::nullopt;
    Profile p;
    p.name = j.at("name").get<std::string>();
    p.description = j.at("description").get<std::string>();
    p.source = j.at("source").get<std::string>();
    p.uid = j.at("uid").get<std::uint32_t>();
    p.gid = j.at("gid").get<std::uint32_t>();
    p.hostname = j.at("hostname").get<std::string>();
    const std::optional<Network> net = parse_network(j.at("network").get<std::string>());
    if (!net) return std::nullopt;
    p.network = *net;
    p.mount_sys = j.at("mount_sys").get<bool>();
    p.limits = decode_limits(j.at("limits"));
    for (const json& m : j.at("mounts")) {
      Mount mount;
      const std::string kind = m.at("kind").get<std::string>();
      if (kind != "bind" && kind != "tmpfs") return std::nullopt;
      mount.kind = kind == "tmpfs" ? Mount::Kind::tmpfs : Mount::Kind::bind;
      mount.source = m.at("source").get<std::string>();
      mount.target = m.at("target").get<std::string>();
      mount.writable = m.at("writable").get<bool>();
      mount.size_bytes = m.at("size_bytes").get<std::uint64_t>();
      mount.origin = m.at("origin").get<std::string>();
      p.mounts.push_back(std::move(mount));
    }
    p.env = j.at("env").get<std::vector<std::pair<std::string, std::string>>>();
    p.capabilities = j.at("capabilities").get<std::vector<std::string>>();
    p.seccomp = decode_seccomp(j.at("seccomp"));
    return p;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<Profile> cached_builtin_profile(std::string_view name, const std::string& dir) {
  const char* text = builtin_profile_text(name);
  if (text == nullptr || seccomp::cache_environment().empty()) return std::nullopt;
  const std::string key = seccomp::sha256_hex(seccomp::cache_environment() + "\nprofile " +
                                              std::string(name) + "\n" + text);
  const std::string file = key + ".json";
  if (auto bytes = seccomp::read_private_file(dir, file, kMaxEntryBytes))
    if (auto p = decode_profile(*bytes)) return p;
  Result<Profile> parsed = parse_profile(text, "builtin:" + std::string(name));
  if (!parsed.ok()) return std::nullopt;
  (void)seccomp::write_private_file(dir, file, encode_profile(*parsed));
  return std::move(parsed).value();
}

}  // namespace cell::config
