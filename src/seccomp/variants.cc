// Argument-filtered syscall variants and the x86_64 syscall table.
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/personality.h>

#include <sched.h>
#include <algorithm>
#include <cstdlib>

#include "seccomp/internal.hpp"

namespace cell::seccomp {
namespace {

// Every CLONE_NEW* bit. On clone(2) CLONE_NEWTIME shares the exit-signal byte, so testing it
// there only refuses exit signals >= 128, which the kernel rejects anyway.
constexpr std::uint64_t kCloneNewBits[] = {CLONE_NEWNS,  CLONE_NEWCGROUP, CLONE_NEWUTS,
                                           CLONE_NEWIPC, CLONE_NEWUSER,   CLONE_NEWPID,
                                           CLONE_NEWNET, 0x00000080 /* CLONE_NEWTIME */};

// Docker's harmless personas: PER_LINUX, PER_LINUX32, UNAME26, both, and the 0xffffffff query.
constexpr std::uint32_t kHarmlessPersonas[] = {PER_LINUX, PER_LINUX32, UNAME26,
                                               std::uint32_t{PER_LINUX32} | UNAME26, 0xffffffffu};

// Both can push input into a terminal another process reads (TIOCLINUX via its paste
// subcommand).
constexpr std::uint32_t kTtyInject[] = {TIOCSTI, TIOCLINUX};

void cover(const std::vector<std::uint32_t>& vals, int bit, std::uint32_t mask,
           std::uint32_t prefix, std::vector<MaskedEq>& out) {
  if (vals.empty()) {
    out.push_back({mask, prefix});
    return;
  }
  if (bit < 0) return;  // exactly one of the excluded values
  const std::uint32_t b = 1u << bit;
  std::vector<std::uint32_t> zeros, ones;
  for (std::uint32_t v : vals) (v & b ? ones : zeros).push_back(v);
  cover(zeros, bit - 1, mask | b, prefix, out);
  cover(ones, bit - 1, mask | b, prefix | b, out);
}

std::vector<MaskedEq> exact_low32(const std::uint32_t* begin, const std::uint32_t* end) {
  std::vector<MaskedEq> out;
  for (const std::uint32_t* v = begin; v != end; ++v) out.push_back({0xffffffffu, *v});
  return out;
}

Variant clone_newns() {
  Variant v{"clone:newns", "clone", "clone() with any CLONE_NEW* flag", 0, {}, {}, false};
  std::uint64_t all = 0;
  for (std::uint64_t bit : kCloneNewBits) {
    v.match.push_back({bit, bit});
    all |= bit;
  }
  v.complement.push_back({all, 0});
  return v;
}

Variant personality_change() {
  Variant v{"personality:change",
            "personality",
            "personality() other than PER_LINUX, PER_LINUX32, UNAME26 or the query",
            0,
            {},
            {},
            false};
  v.complement = exact_low32(std::begin(kHarmlessPersonas), std::end(kHarmlessPersonas));
  v.match = cover_all_but({std::begin(kHarmlessPersonas), std::end(kHarmlessPersonas)});
  return v;
}

Variant ioctl_tiocsti() {
  Variant v{"ioctl:tiocsti", "ioctl", "ioctl(TIOCSTI) and ioctl(TIOCLINUX)", 1, {}, {}, false};
  v.match = exact_low32(std::begin(kTtyInject), std::end(kTtyInject));
  v.complement = cover_all_but({std::begin(kTtyInject), std::end(kTtyInject)});
  return v;
}

Variant clone3_enosys() {
  return Variant{"clone3:enosys",
                 "clone3",
                 "clone3(), answered with ENOSYS (its flags are out of the filter's reach; "
                 "glibc falls back to clone)",
                 0,
                 {},
                 {},
                 true};
}

std::vector<std::string> load_native_names() {
  std::vector<std::string> names;
  // x86_64 numbers are dense below 512; libseccomp 2.5.4 knows up to 456.
  for (int nr = 0; nr < 1024; ++nr) {
    char* s = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, nr);
    if (s == nullptr) continue;
    names.emplace_back(s);
    std::free(s);
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

std::vector<MaskedEq> cover_all_but(const std::vector<std::uint32_t>& values) {
  std::vector<std::uint32_t> vals = values;
  std::sort(vals.begin(), vals.end());
  vals.erase(std::unique(vals.begin(), vals.end()), vals.end());
  std::vector<MaskedEq> out;
  cover(vals, 31, 0, 0, out);
  return out;
}

const std::vector<Variant>& variants() {
  static const std::vector<Variant> kVariants = {clone_newns(), clone3_enosys(),
                                                 personality_change(), ioctl_tiocsti()};
  return kVariants;
}

const Variant* find_variant(std::string_view token) {
  for (const Variant& v : variants())
    if (v.token == token) return &v;
  return nullptr;
}

const std::vector<std::string>& native_syscall_names() {
  static const std::vector<std::string> kNames = load_native_names();
  return kNames;
}

int native_syscall_nr(std::string_view name) {
  if (name.empty()) return -1;
  const int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, std::string(name).c_str());
  // Names libseccomp knows for other ABIs only resolve to negative pseudo numbers.
  return nr >= 0 ? nr : -1;
}

}  // namespace cell::seccomp
