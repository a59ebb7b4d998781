#pragma once

#include <cell/error.hpp>

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "plan/plan.hpp"

namespace cell::plan {

struct SubIdRange {
  std::uint32_t start = 0;
  std::uint32_t count = 0;
};
// The caller's range in /etc/subuid or /etc/subgid (by name or numeric id).
std::optional<SubIdRange> find_subid_range(const std::string& file, uid_t id);

// Whether this process's user namespace maps every uid and gid (the initial one): only then
// can uid 0 hand sandboxes a range of host ids at uid_base. Root inside a user namespace
// (`unshare -U -r`, a rootless container) owns only the ids mapped there: runs map one id.
bool holds_every_id();

// Fills plan.idmap and the identity fields of plan.view.
Result<void> plan_ids(const Request& req, Plan& plan);

}  // namespace cell::plan
