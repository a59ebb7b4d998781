// Seccomp policies -> BPF, compiled once per policy in the parent (libseccomp), loaded raw
// in the child. Named groups ("@mount") expand to syscall lists.
#pragma once

#include <cell/error.hpp>
#include <cell/profile.hpp>

#include <linux/filter.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cell::seccomp {

struct CompiledFilter {
  std::vector<sock_filter> program;
  // True when kill_process rules were compiled to SECCOMP_RET_USER_NOTIF: the child must load
  // the filter with SECCOMP_FILTER_FLAG_NEW_LISTENER and hand the listener to the supervisor,
  // which names the syscall and then kills the sandbox.
  bool notify = false;
};

struct CompileOptions {
  // Compile kill_process as user notification (see CompiledFilter::notify). Falls back to
  // SECCOMP_RET_KILL_PROCESS when false.
  bool notify_kills = true;
};

// Compiles for the native ABI (x86_64). Every other ABI (x32, i386) takes the kill action:
// a process cannot reach syscalls through another ABI's numbers.
Result<CompiledFilter> compile(const SeccompPolicy& policy, const CompileOptions& opts = {});

// Expands "@group" names (built-in and the policy's own) and checks every syscall name exists
// for the native ABI. Problems are appended to `problems` as "'name': what is wrong".
std::vector<std::string> expand(const std::vector<std::string>& names,
                                const std::map<std::string, std::vector<std::string>>& groups,
                                std::vector<std::string>& problems);

// Built-in groups: name (without '@') -> syscalls.
const std::map<std::string, std::vector<std::string>>& builtin_groups();

// "ptrace" for (101, AUDIT_ARCH_X86_64); "" if unknown.
std::string syscall_name(int nr, std::uint32_t audit_arch);
// "x86_64", "x32", "i386" for an AUDIT_ARCH_* value (x32 is x86_64 with bit 30 in nr).
std::string arch_name(std::uint32_t audit_arch, int nr);

}  // namespace cell::seccomp
