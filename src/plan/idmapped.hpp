// Idmapped binds (root only): a writable bind whose host owner appears, inside the sandbox, as the
// sandbox user, so the payload can write a workspace it does not own on the host, and files it
// creates belong to the directory's owner. The parent prepares a detached mount; the child
// attaches it with move_mount.
#pragma once

#include <cell/error.hpp>

#include <sys/types.h>

#include <map>
#include <mutex>
#include <tuple>

#include "base/unique_fd.hpp"

namespace cell::plan {

// A user namespace whose maps are exactly `host_uid -> mapped_uid`, `host_gid -> mapped_gid`
// (one id each), for MOUNT_ATTR_IDMAP. Needs root.
Result<UniqueFd> make_idmap_userns(uid_t host_uid, gid_t host_gid, uid_t mapped_uid, gid_t mapped_gid);

// A detached, idmapped, nosuid+nodev clone of `source`. EINVAL/EOPNOTSUPP: the filesystem
// cannot be idmapped.
Result<UniqueFd> idmapped_tree(const std::string& source, int userns_fd);

// Caches one user namespace per (owner, sandbox user) pair for the runtime's lifetime.
class IdmapCache {
 public:
  // The cached namespace's fd (owned by the cache), created on first use.
  Result<int> get(uid_t owner_uid, gid_t owner_gid, uid_t mapped_uid, gid_t mapped_gid);

 private:
  std::mutex mu_;
  std::map<std::tuple<uid_t, gid_t, uid_t, gid_t>, UniqueFd> cache_;
};

}  // namespace cell::plan
