// The profile reader's sections, one function per top-level key, plus the rules that relate
// several fields. Each reports problems through its Field and leaves defaults where it fails.
#pragma once

#include <cell/profile.hpp>

#include "config/yaml_reader.hpp"

namespace cell::config {

void read_limits(const Field& f, Limits& out);
void read_rlimits(const Field& f, Limits& out);
void read_mounts(const Field& f, std::vector<Mount>& out);
void read_env(const Field& f, std::vector<std::pair<std::string, std::string>>& out);
void read_capabilities(const Field& f, std::vector<std::string>& out);
void read_seccomp(const Field& f, SeccompPolicy& out);

// Rules across fields (wall_time >= cpu_time, unique mount targets); positions come from
// diag.positions.
void check_profile(const Profile& p, Diagnostics& diag);

// "CAP_NET_BIND_SERVICE" for "net_bind_service", "cap_net_bind_service", ...; "" if unknown.
std::string canonical_capability(std::string_view name);

}  // namespace cell::config
