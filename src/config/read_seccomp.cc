// seccomp:
#include <algorithm>
#include <cctype>
#include <set>

#include "base/strings.hpp"
#include "config/reader.hpp"
#include "seccomp/seccomp.hpp"

namespace cell::config {
namespace {

using Groups = std::map<std::string, std::vector<std::string>>;

// A syscall or "@group" name and where it was written.
struct NameAt {
  Field at;
  std::string name;
};

bool is_builtin_group(const std::string& g) {
  return seccomp::builtin_groups().count(g) > 0;
}

std::optional<SeccompAction> read_action(const Field& f) {
  auto s = f.string();
  if (!s) return std::nullopt;
  std::string why;
  auto a = parse_seccomp_action(*s, why);
  if (!a) f.error("'" + *s + "' " + why);
  return a;
}

std::vector<NameAt> read_names(const Field& f) {
  std::vector<NameAt> out;
  auto items = f.items();
  if (!items) return out;
  for (const Field& item : *items)
    if (auto s = item.string()) out.push_back({item, *s});
  return out;
}

// Names are checked where they are written; a profile group's own members are checked at its
// definition, so a reference to it only needs the group to exist.
void check_name(const NameAt& n, const Groups& own) {
  const bool group = !n.name.empty() && n.name[0] == '@';
  if (group && own.count(n.name.substr(1))) return;
  std::vector<std::string> problems;
  seccomp::expand({n.name}, group ? own : Groups{}, problems);
  for (const std::string& p : problems) n.at.error(p);
}

std::vector<std::string> names_of(const std::vector<NameAt>& list, const Groups& own) {
  std::vector<std::string> out;
  for (const NameAt& n : list) {
    check_name(n, own);
    out.push_back(n.name);
  }
  return out;
}

bool valid_group_name(const std::string& g) {
  return !g.empty() && std::all_of(g.begin(), g.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

// Finds a path from `from` back to `target` through the profile's own groups.
bool reaches(const Groups& own, const std::string& from, const std::string& target,
             std::vector<std::string>& path, std::set<std::string>& seen) {
  auto it = own.find(from);
  if (it == own.end()) return false;
  for (const std::string& m : it->second) {
    if (m.size() < 2 || m[0] != '@') continue;
    const std::string g = m.substr(1);
    path.push_back(g);
    if (g == target) return true;
    if (seen.insert(g).second && reaches(own, g, target, path, seen)) return true;
    path.pop_back();
  }
  return false;
}

void check_cycles(const std::vector<Field>& keys, const Groups& own) {
  for (const Field& key : keys) {
    const std::string& g = key.node().Scalar();
    std::vector<std::string> path{g};
    std::set<std::string> seen;
    if (reaches(own, g, g, path, seen))
      key.error("group includes itself (" + join(path, " -> ") + ")");
  }
}

Groups read_groups(const Field& f) {
  Groups own;
  std::vector<NameAt> members;
  std::vector<Field> keys;
  for (const auto& [key, value] : f.entries()) {
    const std::string& g = key.node().Scalar();
    if (!valid_group_name(g)) {
      key.error("'" + g + "' is not a group name (letters, digits, '_' and '-')");
      continue;
    }
    if (is_builtin_group(g)) {
      key.error("'" + g + "' is a built-in group and cannot be redefined");
      continue;
    }
    std::vector<NameAt> list = read_names(value);
    std::vector<std::string>& names = own[g];
    for (NameAt& n : list) {
      names.push_back(n.name);
      members.push_back(std::move(n));
    }
    keys.push_back(key);
  }
  for (const NameAt& m : members) check_name(m, own);
  check_cycles(keys, own);
  return own;
}

void read_rule(const Field& f, const Groups& own, std::vector<SeccompRule>& out) {
  if (!f.expect_map()) return;
  f.check_keys({"action", "syscalls"});
  SeccompRule rule;
  bool ok = true;
  if (auto a = f.get("action")) {
    auto action = read_action(*a);
    ok = action.has_value();
    if (action) rule.action = *action;
  } else {
    f.error("missing 'action' (allow, kill_process, log or errno:NAME)");
    ok = false;
  }
  if (auto s = f.get("syscalls")) {
    rule.syscalls = names_of(read_names(*s), own);
  } else {
    f.error("missing 'syscalls' (a list of syscall or @group names)");
  }
  if (ok) out.push_back(std::move(rule));
}

SeccompAction read_deny_action(const std::optional<Field>& f) {
  SeccompAction deny{SeccompAction::Kind::kill_process, 0};
  if (!f) return deny;
  auto a = read_action(*f);
  if (a && a->kind == SeccompAction::Kind::allow)
    f->error(
        "must deny something (kill_process, log or errno:NAME); list syscalls to allow "
        "under 'allow'");
  else if (a)
    deny = *a;
  return deny;
}

}  // namespace

void read_seccomp(const Field& f, SeccompPolicy& out) {
  if (!f.expect_map()) return;
  f.check_keys({"enabled", "default", "deny_action", "deny", "allow", "rules", "groups"});
  if (auto v = f.get("enabled")) {
    if (auto b = v->boolean()) out.enabled = *b;
  }
  if (auto v = f.get("default")) {
    if (auto a = read_action(*v)) out.default_action = *a;
  }
  const SeccompAction deny_action = read_deny_action(f.get("deny_action"));
  if (auto v = f.get("groups")) out.groups = read_groups(*v);
  // The documented order: allow, then deny, then rules; later rules win.
  if (auto v = f.get("allow")) {
    SeccompRule r{SeccompAction{}, names_of(read_names(*v), out.groups)};
    if (!r.syscalls.empty()) out.rules.push_back(std::move(r));
  }
  if (auto v = f.get("deny")) {
    SeccompRule r{deny_action, names_of(read_names(*v), out.groups)};
    if (!r.syscalls.empty()) out.rules.push_back(std::move(r));
  }
  if (auto v = f.get("rules")) {
    if (auto items = v->items())
      for (const Field& item : *items) read_rule(item, out.groups, out.rules);
  }
}

}  // namespace cell::config
