// SeccompPolicy -> one action per syscall -> libseccomp -> classic BPF.
#include <errno.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>

#include "base/errno_names.hpp"
#include "base/io.hpp"
#include "base/scope_exit.hpp"
#include "base/strings.hpp"
#include "base/unique_fd.hpp"
#include "seccomp/internal.hpp"
#include "seccomp/seccomp.hpp"

namespace cell::seccomp {
namespace {

// libseccomp probes kernel features once and caches them in unlocked globals; serialise our
// use of it so several threads can compile policies at once.
std::mutex& libseccomp_mutex() {
  static std::mutex m;
  return m;
}

// What the child itself runs after loading the filter (step_exec.cc): hand the listener over,
// close fds, exec, or exit on failure. A notification on these would park the child on its own
// listener before the supervisor holds it (sendmsg: never), so a kill on them stays a plain
// SECCOMP_RET_KILL_PROCESS.
constexpr std::string_view kSelfSyscalls[] = {"sendmsg", "close", "execve", "exit_group", "exit"};

bool is_self_syscall(std::string_view name) {
  return std::find(std::begin(kSelfSyscalls), std::end(kSelfSyscalls), name) !=
         std::end(kSelfSyscalls);
}

// The outcome of the policy's rules for one syscall, before it becomes libseccomp rules.
struct Resolution {
  std::optional<SeccompAction> whole;    // a rule naming the syscall itself
  const Variant* variant = nullptr;      // a rule naming its argument-filtered part
  std::optional<SeccompAction> partial;  // that rule's action
};

using Table = std::map<std::string, Resolution>;

// SECCOMP_RET_ERRNO with 0 would make a call "succeed" without running it.
bool valid_action(const SeccompAction& a) {
  return a.kind != SeccompAction::Kind::errno_code || (a.errno_value > 0 && a.errno_value <= 4095);
}

Result<Table> resolve(const SeccompPolicy& policy) {
  Table table;
  std::vector<std::string> problems;
  if (!valid_action(policy.default_action))
    problems.push_back("default action: errno " +
                       std::to_string(policy.default_action.errno_value) +
                       " is not between 1 and 4095");
  for (const SeccompRule& rule : policy.rules) {
    if (!valid_action(rule.action))
      problems.push_back("rule action: errno " + std::to_string(rule.action.errno_value) +
                         " is not between 1 and 4095");
    for (const std::string& name : expand(rule.syscalls, policy.groups, problems)) {
      if (const Variant* v = find_variant(name)) {
        Resolution& r = table[std::string(v->syscall)];
        r.variant = v;
        r.partial = rule.action;
      } else {
        // A later rule for the whole syscall replaces everything said about it before.
        Resolution& r = table[name];
        r.whole = rule.action;
        r.partial.reset();
      }
    }
  }
  if (!problems.empty()) return Error::make(ErrorKind::config, "seccomp: " + join(problems, "; "));
  return table;
}

class Compiler {
 public:
  Compiler(const SeccompPolicy& policy, bool notify) : policy_(policy), notify_(notify) {}

  Result<CompiledFilter> run(const Table& table);

 private:
  std::uint32_t action_for(const SeccompAction& a, std::string_view syscall) const {
    switch (a.kind) {
      case SeccompAction::Kind::allow:
        return SCMP_ACT_ALLOW;
      case SeccompAction::Kind::log:
        return SCMP_ACT_LOG;
      case SeccompAction::Kind::errno_code:
        return SCMP_ACT_ERRNO(static_cast<std::uint32_t>(a.errno_value));
      case SeccompAction::Kind::kill_process:
        return notify_ && !is_self_syscall(syscall) ? SCMP_ACT_NOTIFY : SCMP_ACT_KILL_PROCESS;
    }
    return SCMP_ACT_KILL_PROCESS;
  }

  Result<void> add_syscall(const std::string& name, const Resolution& r);
  Result<void> add_rule(std::uint32_t action, int nr, const std::string& name,
                        const Variant* v = nullptr, const MaskedEq* test = nullptr);
  Result<void> set_attrs();
  Result<CompiledFilter> export_program();

  const SeccompPolicy& policy_;
  bool notify_;
  std::uint32_t default_ = 0;
  scmp_filter_ctx ctx_ = nullptr;
};

Error libseccomp_error(const std::string& what, int rc) {
  return Error::make(ErrorKind::internal, "seccomp: " + what + ": " + errno_describe(-rc), -rc);
}

Result<void> Compiler::add_rule(std::uint32_t action, int nr, const std::string& name,
                                const Variant* v, const MaskedEq* test) {
  if (action == default_) return {};  // libseccomp rejects rules that repeat the default
  int rc;
  if (test == nullptr) {
    rc = seccomp_rule_add_exact_array(ctx_, action, nr, 0, nullptr);
  } else {
    const scmp_arg_cmp cmp = {v->arg, SCMP_CMP_MASKED_EQ, test->mask, test->datum};
    rc = seccomp_rule_add_exact_array(ctx_, action, nr, 1, &cmp);
  }
  if (rc < 0) return libseccomp_error("adding a rule for " + name, rc);
  return {};
}

// A syscall with an argument-filtered part gets disjoint rule sets for the part and the rest:
// libseccomp lets an unconditional rule swallow conditional ones with other actions.
Result<void> Compiler::add_syscall(const std::string& name, const Resolution& r) {
  const int nr = native_syscall_nr(name);
  if (nr < 0) return Error::make(ErrorKind::config, "seccomp: '" + name + "': unknown syscall");
  const std::uint32_t whole = action_for(r.whole.value_or(policy_.default_action), name);
  if (r.variant == nullptr || !r.partial) return add_rule(whole, nr, name);
  const Variant& v = *r.variant;
  std::uint32_t part = action_for(*r.partial, name);
  if (v.enosys_instead) {
    if (part != SCMP_ACT_ALLOW && part != SCMP_ACT_LOG) part = SCMP_ACT_ERRNO(ENOSYS);
    return add_rule(part, nr, name);
  }
  if (part == whole) return add_rule(whole, nr, name);
  if (part != default_)
    for (const MaskedEq& t : v.match) CELL_TRY(add_rule(part, nr, name, &v, &t));
  if (whole != default_)
    for (const MaskedEq& t : v.complement) CELL_TRY(add_rule(whole, nr, name, &v, &t));
  return {};
}

Result<void> Compiler::set_attrs() {
  const std::uint32_t badarch = notify_ ? SCMP_ACT_NOTIFY : SCMP_ACT_KILL_PROCESS;
  // x32 numbers (nr | 0x40000000 under AUDIT_ARCH_X86_64) take this action too: libseccomp's
  // x86_64 filter checks the bit when x32 is not one of its architectures (a test proves it).
  if (int rc = seccomp_attr_set(ctx_, SCMP_FLTATR_ACT_BADARCH, badarch); rc < 0)
    return libseccomp_error("setting the bad-architecture action", rc);
  // The child sets no_new_privs itself, as its own named step.
  if (int rc = seccomp_attr_set(ctx_, SCMP_FLTATR_CTL_NNP, 0); rc < 0)
    return libseccomp_error("clearing CTL_NNP", rc);
  // A binary tree over syscall numbers keeps long allow-lists (paranoid) cheap per syscall.
  if (int rc = seccomp_attr_set(ctx_, SCMP_FLTATR_CTL_OPTIMIZE, 2); rc < 0)
    return libseccomp_error("setting the optimisation level", rc);
  return {};
}

// libseccomp 2.5.4 can only export to an fd: go through a memfd.
Result<CompiledFilter> Compiler::export_program() {
  UniqueFd fd(::memfd_create("cell-seccomp", MFD_CLOEXEC));
  if (!fd.valid()) return Error::make(ErrorKind::internal, "seccomp: memfd_create failed", errno);
  if (int rc = seccomp_export_bpf(ctx_, fd.get()); rc < 0)
    return libseccomp_error("exporting the filter", rc);
  const off_t size = ::lseek(fd.get(), 0, SEEK_END);
  if (size < 0 || ::lseek(fd.get(), 0, SEEK_SET) != 0)
    return Error::make(ErrorKind::internal, "seccomp: seeking in the exported filter failed",
                       errno);
  if (size == 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0)
    return Error::make(ErrorKind::internal,
                       "seccomp: exported filter has a bad size (" + std::to_string(size) + ")");
  CompiledFilter out;
  out.program.resize(static_cast<std::size_t>(size) / sizeof(sock_filter));
  if (read_full(fd.get(), out.program.data(), static_cast<std::size_t>(size)) != size)
    return Error::make(ErrorKind::internal, "seccomp: reading the exported filter failed", errno);
  out.notify = notify_;
  return out;
}

Result<CompiledFilter> Compiler::run(const Table& table) {
  default_ = action_for(policy_.default_action, "");
  ctx_ = seccomp_init(default_);
  if (ctx_ == nullptr)
    return Error::make(ErrorKind::internal, "seccomp: seccomp_init failed (bad default action)");
  ScopeExit release([this] { seccomp_release(ctx_); });
  CELL_TRY(set_attrs());
  for (const auto& [name, r] : table) CELL_TRY(add_syscall(name, r));
  return export_program();
}

// Notification needs the child to hand its listener over with sendmsg; a policy that refuses
// sendmsg gets plain kills instead.
bool sendmsg_allowed(const SeccompPolicy& policy, const Table& table) {
  auto it = table.find("sendmsg");
  const SeccompAction a =
      it != table.end() && it->second.whole ? *it->second.whole : policy.default_action;
  return a.kind == SeccompAction::Kind::allow || a.kind == SeccompAction::Kind::log;
}

}  // namespace

Result<CompiledFilter> compile(const SeccompPolicy& policy, const CompileOptions& opts) {
  if (!policy.enabled) return CompiledFilter{};
  if (seccomp_arch_native() != SCMP_ARCH_X86_64)
    return Error::make(ErrorKind::unsupported, "seccomp: only x86_64 hosts are supported");
  std::lock_guard lock(libseccomp_mutex());
  Result<Table> table = resolve(policy);
  if (!table) return std::move(table).error();
  // The self syscalls need explicit rules when the default becomes a notification.
  for (std::string_view s : kSelfSyscalls) table->try_emplace(std::string(s));
  const bool notify = opts.notify_kills && sendmsg_allowed(policy, *table);
  return Compiler(policy, notify).run(*table);
}

std::string syscall_name(int nr, std::uint32_t audit_arch) {
  std::uint32_t arch = 0;
  if (audit_arch == SCMP_ARCH_X86_64)
    arch = (nr & 0x40000000) ? SCMP_ARCH_X32 : SCMP_ARCH_X86_64;
  else if (audit_arch == SCMP_ARCH_X86)
    arch = SCMP_ARCH_X86;
  else
    return "";
  char* s = seccomp_syscall_resolve_num_arch(arch, nr);
  if (s == nullptr) return "";
  std::string out(s);
  std::free(s);
  return out;
}

std::string arch_name(std::uint32_t audit_arch, int nr) {
  if (audit_arch == SCMP_ARCH_X86_64) return (nr & 0x40000000) ? "x32" : "x86_64";
  if (audit_arch == SCMP_ARCH_X86) return "i386";
  return "unknown";
}

}  // namespace cell::seccomp
