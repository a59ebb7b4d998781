// profile_to_yaml: the effective profile in the schema parse_profile reads.
#include <cell/units.hpp>

#include <yaml-cpp/yaml.h>

#include <charconv>

#include "config/reader.hpp"

namespace cell {
namespace {

std::string shortest(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::to_string(v);
}

void write_limits(YAML::Emitter& e, const Limits& l) {
  if (!(l.cpu_time || l.wall_time || l.memory_bytes || l.pids || l.cpus || l.cpuset ||
        l.output_bytes))
    return;
  e << YAML::Key << "limits" << YAML::Value << YAML::BeginMap;
  if (l.cpu_time) e << YAML::Key << "cpu_time" << YAML::Value << format_duration(*l.cpu_time);
  if (l.wall_time) e << YAML::Key << "wall_time" << YAML::Value << format_duration(*l.wall_time);
  if (l.memory_bytes) e << YAML::Key << "memory" << YAML::Value << format_size(*l.memory_bytes);
  if (l.pids) e << YAML::Key << "pids" << YAML::Value << *l.pids;
  if (l.cpus) e << YAML::Key << "cpus" << YAML::Value << shortest(*l.cpus);
  if (l.cpuset) e << YAML::Key << "cpuset" << YAML::Value << YAML::DoubleQuoted << *l.cpuset;
  if (l.output_bytes) e << YAML::Key << "output" << YAML::Value << format_size(*l.output_bytes);
  e << YAML::EndMap;
}

void write_rlimits(YAML::Emitter& e, const Limits& l) {
  if (!(l.fsize_bytes || l.nofile || l.stack_bytes)) return;
  e << YAML::Key << "rlimits" << YAML::Value << YAML::BeginMap;
  if (l.fsize_bytes) e << YAML::Key << "fsize" << YAML::Value << format_size(*l.fsize_bytes);
  if (l.nofile) e << YAML::Key << "nofile" << YAML::Value << *l.nofile;
  if (l.stack_bytes) {
    e << YAML::Key << "stack" << YAML::Value
      << (*l.stack_bytes == Limits::kUnlimited ? "unlimited" : format_size(*l.stack_bytes));
  }
  e << YAML::EndMap;
}

void write_mount(YAML::Emitter& e, const Mount& m) {
  const bool tmpfs = m.kind == Mount::Kind::tmpfs;
  e << YAML::Flow << YAML::BeginMap;
  e << YAML::Key << "type" << YAML::Value << (tmpfs ? "tmpfs" : "bind");
  if (!tmpfs) e << YAML::Key << "source" << YAML::Value << m.source;
  e << YAML::Key << "target" << YAML::Value << m.target;
  // Written only when it differs from the type's default (binds ro, tmpfs rw).
  if (m.writable != tmpfs) e << YAML::Key << "writable" << YAML::Value << m.writable;
  if (tmpfs && m.size_bytes != 0)
    e << YAML::Key << "size" << YAML::Value << format_size(m.size_bytes);
  e << YAML::EndMap;
}

void write_names(YAML::Emitter& e, const char* key, const std::vector<std::string>& names) {
  e << YAML::Key << key << YAML::Value << YAML::Flow << names;
}

void write_rule(YAML::Emitter& e, const SeccompRule& r) {
  e << YAML::Flow << YAML::BeginMap;
  e << YAML::Key << "action" << YAML::Value << to_string(r.action);
  write_names(e, "syscalls", r.syscalls);
  e << YAML::EndMap;
}

// The reader turns `allow`, then `deny`, then `rules` into one rule list; a list that starts
// that way is written back that way, so a built-in profile reads as it was written.
void write_seccomp(YAML::Emitter& e, const SeccompPolicy& s) {
  e << YAML::Key << "seccomp" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "enabled" << YAML::Value << s.enabled;
  e << YAML::Key << "default" << YAML::Value << to_string(s.default_action);
  std::size_t i = 0;
  const auto& rules = s.rules;
  if (i < rules.size() && rules[i].action.kind == SeccompAction::Kind::allow &&
      !rules[i].syscalls.empty())
    write_names(e, "allow", rules[i++].syscalls);
  if (i < rules.size() && rules[i].action.kind != SeccompAction::Kind::allow &&
      !rules[i].syscalls.empty()) {
    e << YAML::Key << "deny_action" << YAML::Value << to_string(rules[i].action);
    write_names(e, "deny", rules[i++].syscalls);
  }
  if (i < rules.size()) {
    e << YAML::Key << "rules" << YAML::Value << YAML::BeginSeq;
    for (; i < rules.size(); ++i) write_rule(e, rules[i]);
    e << YAML::EndSeq;
  }
  if (!s.groups.empty()) {
    e << YAML::Key << "groups" << YAML::Value << YAML::BeginMap;
    for (const auto& [name, list] : s.groups) write_names(e, name.c_str(), list);
    e << YAML::EndMap;
  }
  e << YAML::EndMap;
}

void write_env(YAML::Emitter& e, const Profile& p) {
  if (p.env.empty()) return;
  e << YAML::Key << "env" << YAML::Value << YAML::BeginMap;
  // Quoted: an empty or "true"-like value must come back as the same string.
  for (const auto& [k, v] : p.env) e << YAML::Key << k << YAML::Value << YAML::DoubleQuoted << v;
  e << YAML::EndMap;
}

}  // namespace

std::string profile_to_yaml(const Profile& p) {
  YAML::Emitter e;
  e << YAML::BeginMap;
  e << YAML::Key << "name" << YAML::Value << p.name;
  if (!p.description.empty()) e << YAML::Key << "description" << YAML::Value << p.description;
  e << YAML::Key << "user" << YAML::Value << YAML::Flow << YAML::BeginMap;
  e << YAML::Key << "uid" << YAML::Value << p.uid << YAML::Key << "gid" << YAML::Value << p.gid;
  e << YAML::EndMap;
  e << YAML::Key << "hostname" << YAML::Value << p.hostname;
  e << YAML::Key << "network" << YAML::Value << std::string(to_string(p.network));
  e << YAML::Key << "sys" << YAML::Value << p.mount_sys;
  write_limits(e, p.limits);
  write_rlimits(e, p.limits);
  if (!p.mounts.empty()) {
    e << YAML::Key << "mounts" << YAML::Value << YAML::BeginSeq;
    for (const Mount& m : p.mounts) write_mount(e, m);
    e << YAML::EndSeq;
  }
  write_env(e, p);
  write_names(e, "capabilities", p.capabilities);
  write_seccomp(e, p.seccomp);
  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

}  // namespace cell
