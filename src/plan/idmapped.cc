#include "plan/idmapped.hpp"

#include <fcntl.h>
#include <linux/sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/errno_names.hpp"
#include "base/io.hpp"
#include "base/sys.hpp"

namespace cell::plan {

namespace {

// The namespace lives as long as an fd to it; the process that created it only waits for the
// parent to write its maps and open that fd.
Result<UniqueFd> userns_of_waiting_child(const std::string& uid_map, const std::string& gid_map) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return Error::make(ErrorKind::internal, "pipe: " + errno_describe(errno), errno);
  UniqueFd r(p[0]), w(p[1]);
  struct clone_args args {};
  int pidfd = -1;
  args.flags = CLONE_NEWUSER | CLONE_PIDFD;
  args.pidfd = reinterpret_cast<std::uint64_t>(&pidfd);
  const long pid = sys::clone3(&args);
  if (pid == 0) {
    ::close(w.get());  // our copy of the write end would keep the read below from ever ending
    char c;
    while (::read(r.get(), &c, 1) < 0 && errno == EINTR) {
    }
    ::_exit(0);
  }
  if (pid < 0) return Error::make(ErrorKind::internal, "clone for an idmap user namespace: " + errno_describe(errno), errno);
  UniqueFd child(pidfd);
  auto finish = [&] {
    w.reset();  // the child's read returns and it exits
    siginfo_t info{};
    while (::waitid(P_PIDFD, static_cast<id_t>(child.get()), &info, WEXITED | __WALL) != 0 && errno == EINTR) {
    }
  };
  const std::string proc = "/proc/" + std::to_string(pid);
  auto g = write_existing_file(proc + "/gid_map", gid_map);
  auto u = g.ok() ? write_existing_file(proc + "/uid_map", uid_map) : Result<void>(g.error());
  UniqueFd ns(u.ok() ? ::open((proc + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC) : -1);
  const int err = errno;
  finish();
  if (!u.ok()) return u.error();
  if (!ns.valid()) return Error::make(ErrorKind::internal, "open " + proc + "/ns/user: " + errno_describe(err), err);
  return ns;
}

}  // namespace

Result<UniqueFd> make_idmap_userns(uid_t host_uid, gid_t host_gid, uid_t mapped_uid, gid_t mapped_gid) {
  // Inside the namespace = the on-disk id; outside = the kernel id the sandbox user has.
  return userns_of_waiting_child(std::to_string(host_uid) + " " + std::to_string(mapped_uid) + " 1\n",
                                 std::to_string(host_gid) + " " + std::to_string(mapped_gid) + " 1\n");
}

Result<UniqueFd> idmapped_tree(const std::string& source, int userns_fd) {
  UniqueFd tree(::open_tree(AT_FDCWD, source.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
  if (!tree.valid())
    return Error::make(ErrorKind::setup, "open_tree " + source + ": " + errno_describe(errno), errno);
  struct mount_attr attr {};
  attr.attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
  attr.userns_fd = static_cast<std::uint64_t>(userns_fd);
  if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) != 0)
    return Error::make(ErrorKind::setup, "idmapping " + source + ": " + errno_describe(errno), errno);
  return tree;
}

Result<int> IdmapCache::get(uid_t owner_uid, gid_t owner_gid, uid_t mapped_uid, gid_t mapped_gid) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto key = std::make_tuple(owner_uid, owner_gid, mapped_uid, mapped_gid);
  if (auto it = cache_.find(key); it != cache_.end()) return it->second.get();
  Result<UniqueFd> ns = make_idmap_userns(owner_uid, owner_gid, mapped_uid, mapped_gid);
  if (!ns.ok()) return ns.error();
  const int fd = ns->get();
  cache_.emplace(key, std::move(ns).value());
  return fd;
}

}  // namespace cell::plan
