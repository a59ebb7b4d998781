// Shared by the seccomp sources: the native syscall table and argument-filtered variants.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cell::seccomp {

// Every syscall name libseccomp knows for x86_64, sorted.
const std::vector<std::string>& native_syscall_names();
// The x86_64 number of `name`, or -1 when it is not a native syscall.
int native_syscall_nr(std::string_view name);

// One `(arg & mask) == datum` test on a syscall argument; a variant's match set is the union of
// its tests (libseccomp allows one comparison per argument per rule, so no intersections).
struct MaskedEq {
  std::uint64_t mask;
  std::uint64_t datum;
};

// "clone:newns" and friends: the part of a syscall's calls that a group denies. The complement
// lets a policy whose default denies still allow the rest of the calls (paranoid allows ioctl
// but not TIOCSTI).
struct Variant {
  std::string_view token;    // "clone:newns"
  std::string_view syscall;  // "clone"
  std::string_view what;     // for SCHEMA.md and messages
  unsigned arg = 0;
  // Empty match: every call of the syscall (clone3:enosys, whose flags live in memory).
  std::vector<MaskedEq> match;
  std::vector<MaskedEq> complement;
  // Any non-allowing action on this variant becomes errno ENOSYS instead (clone3: glibc then
  // falls back to clone, which the filter can inspect).
  bool enosys_instead = false;
};

const std::vector<Variant>& variants();
const Variant* find_variant(std::string_view token);

// Masked-equality tests on the low 32 bits whose union is every 32-bit value except `values`.
// Exact, so that a denial matches the kernel's own reading of an `unsigned int` argument.
std::vector<MaskedEq> cover_all_but(const std::vector<std::uint32_t>& values);

}  // namespace cell::seccomp
