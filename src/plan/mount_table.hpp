// Builds the child's mount table, and knows what each path inside the sandbox will be:
// which mount covers it, whether it exists, and whether setup may create it.
#pragma once

#include <cell/error.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "plan/plan.hpp"

namespace cell::plan {

class MountTable {
 public:
  MountTable(Plan& plan, std::string stage) : plan_(plan), stage_(std::move(stage)) {}

  // A new user-visible item (what "mount #N" or "the /proc mount" refers to in messages).
  int describe(std::string text);

  // Records that `inside` is now covered by a mount: a tmpfs (setup may create entries in it)
  // or a bind of `host_source` (entries must already exist there).
  void covered_by_tmpfs(std::string inside) { covers_.push_back({std::move(inside), {}, true}); }
  void covered_by_bind(std::string inside, std::string host_source) {
    covers_.push_back({std::move(inside), std::move(host_source), false});
  }

  // Makes sure `inside` exists as a directory (or a file when `file`): creates it and its
  // parents when they lie in a tmpfs; otherwise checks it exists in the bound host tree.
  // Errors name the item.
  Result<void> ensure(int item, const std::string& inside, bool file);
  // True when `inside` exists (in a bound tree) or could be created.
  bool resolvable(const std::string& inside, bool file) const;

  void mkdir(int item, std::string_view inside, unsigned mode = 0755);
  void mkfile(int item, std::string_view inside);
  void symlink(int item, const std::string& link_text, std::string_view inside);
  void write_file(int item, std::string_view inside, const std::string& content, unsigned mode);
  void bind(int item, const std::string& source, std::string_view inside, unsigned long flags,
            bool optional = false);
  void mount_fs(int item, child::OpKind kind, std::string_view inside, const std::string& data,
                unsigned long flags);
  void mask(int item, std::string_view inside);
  // Attaches a detached mount prepared by the parent (kept open by the plan).
  void attach(int item, int fd, std::string_view inside);
  void readonly(int item, std::string_view inside, unsigned long flags);

  [[nodiscard]] const std::string& stage() const { return stage_; }

 private:
  struct Cover {
    std::string inside;
    std::string host;  // bind source; empty for tmpfs
    bool tmpfs = false;
  };
  // The innermost mount covering `inside`, or nullptr.
  const Cover* cover_of(const std::string& inside) const;
  const char* at(std::string_view inside);
  child::MountOp op(child::OpKind kind, int item, std::string_view inside);

  Plan& plan_;
  std::string stage_;
  std::vector<Cover> covers_;
  std::vector<std::string> created_;  // paths created in tmpfs so far (no duplicate mkdirs)
};

// MS_* flags the kernel locks on the mount `path` lives on (nosuid, nodev, noexec, atime):
// a remount inside a user namespace must keep them.
unsigned long locked_mount_flags(const std::string& path);

}  // namespace cell::plan
