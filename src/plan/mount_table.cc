#include "plan/mount_table.hpp"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <algorithm>

#include "base/strings.hpp"

namespace cell::plan {

using child::OpKind;

unsigned long locked_mount_flags(const std::string& path) {
  struct statvfs sv {};
  if (::statvfs(path.c_str(), &sv) != 0) return 0;
  unsigned long f = 0;
  if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME) f |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME) f |= MS_RELATIME;
  return f;
}

int MountTable::describe(std::string text) {
  plan_.mount_descriptions.push_back(std::move(text));
  return static_cast<int>(plan_.mount_descriptions.size()) - 1;
}

const MountTable::Cover* MountTable::cover_of(const std::string& inside) const {
  const Cover* best = nullptr;
  for (const Cover& c : covers_) {
    const bool under = c.inside == "/" || inside == c.inside ||
                       (starts_with(inside, c.inside) && inside[c.inside.size()] == '/');
    if (under && (best == nullptr || c.inside.size() >= best->inside.size())) best = &c;
  }
  return best;
}

namespace {

enum class Found { missing, dir, file, symlink_in_path, other };

Found probe_host(const std::string& base, const std::string& rest, std::string& symlink_at) {
  std::string cur = base;
  const std::vector<std::string> parts = split(rest, '/');
  struct stat st {};
  if (::lstat(cur.c_str(), &st) != 0) return Found::missing;
  for (const std::string& part : parts) {
    if (part.empty()) continue;
    cur += "/" + part;
    if (::lstat(cur.c_str(), &st) != 0) return Found::missing;
    if (S_ISLNK(st.st_mode)) {
      symlink_at = cur;
      return Found::symlink_in_path;
    }
  }
  if (S_ISDIR(st.st_mode)) return Found::dir;
  if (S_ISREG(st.st_mode) || S_ISCHR(st.st_mode)) return Found::file;
  return Found::other;
}

}  // namespace

bool MountTable::resolvable(const std::string& inside, bool file) const {
  const Cover* c = cover_of(inside);
  if (c == nullptr) return false;
  if (c->tmpfs) return true;
  std::string link;
  const std::string base = c->host;
  const std::string rest = c->inside == "/" ? inside : inside.substr(c->inside.size());
  const Found f = probe_host(base, rest, link);
  return file ? f == Found::file : f == Found::dir;
}

Result<void> MountTable::ensure(int item, const std::string& inside, bool file) {
  const Cover* c = cover_of(inside);
  const std::string& what = plan_.mount_descriptions[static_cast<std::size_t>(item)];
  if (c == nullptr) return Error::make(ErrorKind::internal, what + ": no mount covers " + inside);
  if (c->tmpfs) {
    // Create every missing component below the tmpfs (setup may write there).
    const std::string below = c->inside == "/" ? inside : inside.substr(c->inside.size());
    std::string cur = c->inside == "/" ? "" : c->inside;
    const std::vector<std::string> parts = split(below, '/');
    for (std::size_t i = 0; i < parts.size(); ++i) {
      if (parts[i].empty()) continue;
      cur += "/" + parts[i];
      if (std::find(created_.begin(), created_.end(), cur) != created_.end()) continue;
      created_.push_back(cur);
      if (file && i + 1 == parts.size())
        mkfile(item, cur);
      else
        mkdir(item, cur);
    }
    return {};
  }
  std::string link;
  const std::string rest = c->inside == "/" ? inside : inside.substr(c->inside.size());
  switch (probe_host(c->host, rest, link)) {
    case Found::dir:
      if (!file) return {};
      return Error::make(ErrorKind::usage,
                         what + ": target " + inside + " is a directory but the source is a file");
    case Found::file:
      if (file) return {};
      return Error::make(ErrorKind::usage,
                         what + ": target " + inside + " is a file but the source is a directory");
    case Found::symlink_in_path:
      return Error::make(ErrorKind::usage, what + ": target " + inside +
                                               " passes through a symlink (" + link +
                                               "); name the real path instead");
    case Found::missing:
      return Error::make(ErrorKind::usage,
                         what + ": target " + inside + " does not exist in the read-only " +
                             (c->inside == "/" ? std::string("root") : "mount at " + c->inside) +
                             " and cannot be created there; choose a target under a new "
                             "top-level directory (e.g. /data) or under a tmpfs");
    case Found::other:
      break;
  }
  return Error::make(ErrorKind::usage, what + ": target " + inside + " is not a file or directory");
}

const char* MountTable::at(std::string_view inside) {
  return plan_.keep(stage_ + (inside == "/" ? "" : std::string(inside)));
}

child::MountOp MountTable::op(OpKind kind, int item, std::string_view inside) {
  child::MountOp o;
  o.kind = kind;
  o.item = item;
  o.target = at(inside);
  return o;
}

void MountTable::mkdir(int item, std::string_view inside, unsigned mode) {
  child::MountOp o = op(OpKind::make_dir, item, inside);
  o.mode = mode;
  plan_.add_op(o);
}

void MountTable::mkfile(int item, std::string_view inside) {
  child::MountOp o = op(OpKind::make_file, item, inside);
  o.mode = 0644;
  plan_.add_op(o);
}

void MountTable::symlink(int item, const std::string& link_text, std::string_view inside) {
  child::MountOp o = op(OpKind::make_symlink, item, inside);
  o.source = plan_.keep(link_text);
  plan_.add_op(o);
}

void MountTable::write_file(int item, std::string_view inside, const std::string& content,
                            unsigned mode) {
  child::MountOp o = op(OpKind::write_file, item, inside);
  o.source = plan_.keep(content);
  o.source_len = content.size();
  o.mode = mode;
  plan_.add_op(o);
}

void MountTable::bind(int item, const std::string& source, std::string_view inside,
                      unsigned long flags, bool optional) {
  child::MountOp o = op(OpKind::bind, item, inside);
  o.source = plan_.keep(source);
  o.flags = flags | locked_mount_flags(source);
  o.optional = optional;
  plan_.add_op(o);
}

void MountTable::mount_fs(int item, OpKind kind, std::string_view inside, const std::string& data,
                          unsigned long flags) {
  child::MountOp o = op(kind, item, inside);
  o.data = data.empty() ? nullptr : plan_.keep(data);
  o.flags = flags;
  plan_.add_op(o);
}

void MountTable::mask(int item, std::string_view inside) {
  child::MountOp o = op(OpKind::mask, item, inside);
  o.source = "/dev/null";
  // read-only, nosuid, noexec whatever the host's /dev has (nodev would make reads fail)
  o.flags = MS_RDONLY | MS_NOSUID | MS_NOEXEC | locked_mount_flags(o.source);
  o.optional = true;  // not every kernel has every /proc entry
  plan_.add_op(o);
}

void MountTable::attach(int item, int fd, std::string_view inside) {
  child::MountOp o = op(OpKind::attach, item, inside);
  o.fd = fd;
  plan_.add_op(o);
}

void MountTable::readonly(int item, std::string_view inside, unsigned long flags) {
  child::MountOp o = op(OpKind::remount_ro, item, inside);
  o.flags = flags;
  o.optional = true;
  plan_.add_op(o);
}

}  // namespace cell::plan
