// Sandbox ids -> host ids. The sandbox's root is never the host's root: as root we map a
// dedicated range; as a user, the user's own id (or its /etc/subuid range via newuidmap).
#include "plan/idmap.hpp"

#include <pwd.h>
#include <unistd.h>

#include <fstream>

#include "base/strings.hpp"

namespace cell::plan {

namespace {

constexpr std::uint32_t kRange = 65536;

std::string map_line(std::uint64_t inside, std::uint64_t outside, std::uint64_t count) {
  return std::to_string(inside) + " " + std::to_string(outside) + " " + std::to_string(count) +
         "\n";
}

std::string user_name(uid_t uid) {
  struct passwd pw {};
  struct passwd* out = nullptr;
  char buf[4096];
  if (::getpwuid_r(uid, &pw, buf, sizeof buf, &out) == 0 && out != nullptr) return pw.pw_name;
  return {};
}

}  // namespace

std::optional<SubIdRange> find_subid_range(const std::string& file, uid_t id) {
  std::ifstream in(file);
  const std::string name = user_name(id);
  std::string line;
  while (std::getline(in, line)) {
    const std::vector<std::string> f = split(trim(line), ':');
    if (f.size() != 3 || (f[0] != name && f[0] != std::to_string(id))) continue;
    try {
      return SubIdRange{static_cast<std::uint32_t>(std::stoul(f[1])),
                        static_cast<std::uint32_t>(std::stoul(f[2]))};
    } catch (...) {
      continue;
    }
  }
  return std::nullopt;
}

bool holds_every_id() {
  static const bool all = [] {
    for (const char* file : {"/proc/self/uid_map", "/proc/self/gid_map"}) {
      std::ifstream in(file);
      std::uint64_t inside = 1, outside = 1, count = 0;
      if (!(in >> inside >> outside >> count) || inside != 0 || outside != 0 ||
          count != 4294967295ull)
        return false;
    }
    return true;
  }();
  return all;
}

Result<void> plan_ids(const Request& req, Plan& plan) {
  const Profile& p = req.profile;
  const bool root = req.caller_uid == 0 && holds_every_id();
  IdMapMode mode = req.idmap;
  if (mode == IdMapMode::automatic) mode = root ? IdMapMode::automatic : IdMapMode::single;
  child::ChildPlan& v = plan.view;
  IdMap& m = plan.idmap;
  v.uid = p.uid;
  v.gid = p.gid;

  if (mode == IdMapMode::automatic) {  // root: a 65536-wide range at uid_base
    m.uid_map = map_line(0, req.uid_base, kRange);
    m.gid_map = map_line(0, req.uid_base, kRange);
    m.description = "sandbox ids 0-65535 -> host " + std::to_string(req.uid_base) + "-" +
                    std::to_string(req.uid_base + kRange - 1);
    v.become_root = true;  // host root is unmapped inside: switch to the namespace's root
    v.setup_uid = v.setup_gid = 0;
    v.setgroups_allowed = true;
    return {};
  }
  if (mode == IdMapMode::single) {
    const std::uint64_t host_uid = root ? req.uid_base + p.uid : req.caller_uid;
    const std::uint64_t host_gid = root ? req.uid_base + p.gid : req.caller_gid;
    m.uid_map = map_line(p.uid, host_uid, 1);
    m.gid_map = map_line(p.gid, host_gid, 1);
    m.deny_setgroups = !root;  // an unprivileged writer must give up setgroups first
    m.description = "sandbox uid " + std::to_string(p.uid) + " -> host " + std::to_string(host_uid);
    v.become_root = root;
    v.setup_uid = p.uid;
    v.setup_gid = p.gid;
    v.setgroups_allowed = root;
    return {};
  }
  // subid: newuidmap/newgidmap with the caller's ranges.
  const auto su = find_subid_range("/etc/subuid", req.caller_uid);
  const auto sg = find_subid_range("/etc/subgid", req.caller_uid);
  if (!su || !sg)
    return Error::make(ErrorKind::unsupported,
                       "--idmap subid: no range for uid " + std::to_string(req.caller_uid) +
                           " in /etc/subuid and /etc/subgid; add one (usermod --add-subuids "
                           "100000-165535 --add-subgids 100000-165535 USER) or use --idmap single");
  if (p.uid > su->count || p.gid > sg->count)
    return Error::make(ErrorKind::usage, "sandbox uid/gid " + std::to_string(p.uid) + ":" +
                                             std::to_string(p.gid) +
                                             " is outside the subordinate range (" +
                                             std::to_string(su->count) + " ids)");
  m.use_helpers = true;
  if (root) {
    m.newuidmap_args = {"0", std::to_string(su->start), std::to_string(su->count)};
    m.newgidmap_args = {"0", std::to_string(sg->start), std::to_string(sg->count)};
  } else {
    m.newuidmap_args = {"0", std::to_string(req.caller_uid), "1",
                        "1", std::to_string(su->start),      std::to_string(su->count)};
    m.newgidmap_args = {"0", std::to_string(req.caller_gid), "1",
                        "1", std::to_string(sg->start),      std::to_string(sg->count)};
  }
  m.description = "newuidmap " + join(m.newuidmap_args, " ");
  v.become_root = true;
  v.setup_uid = v.setup_gid = 0;
  v.setgroups_allowed = true;
  v.setgroups_may_be_denied = true;
  return {};
}

}  // namespace cell::plan
