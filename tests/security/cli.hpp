// The cell CLI in the security tests: the binary, and running it as another (unprivileged)
// user from the root run, for the rootless cases that need a file only root can prepare.
// Only security_test defines CELL_BIN (load_test shares common.cc but not this header).
#pragma once

#include <pwd.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "support/subprocess.hpp"

namespace cell::test::sec {

// $CELL_TEST_CELL (as-user.sh sets it when it copies the binary), else the one built here.
inline std::string cell_binary() {
  const char* env = std::getenv("CELL_TEST_CELL");
  return env != nullptr && *env != '\0' ? env : CELL_BIN;
}

// `cell ARGS...` as uid:gid with no supplementary groups (setpriv, as root), with root's
// runtime and data directories unset so that cell picks the rootless defaults.
inline Finished cell_as(uid_t uid, gid_t gid, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/bin/setpriv",
                                   "--reuid=" + std::to_string(uid),
                                   "--regid=" + std::to_string(gid),
                                   "--clear-groups",
                                   "--",
                                   "/usr/bin/env",
                                   "-u",
                                   "CELL_RUNTIME",
                                   "-u",
                                   "XDG_RUNTIME_DIR",
                                   "-u",
                                   "CELL_DATA",
                                   "-u",
                                   "XDG_DATA_HOME",
                                   "HOME=/tmp",
                                   cell_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv);
}

// The user tools/run-tests.sh prepares for --idmap subid ($CELL_TEST_SUBID_USER), if set and
// known: name, uid, gid.
struct SubidUser {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};
inline std::optional<SubidUser> subid_user() {
  const char* name = std::getenv("CELL_TEST_SUBID_USER");
  if (name == nullptr || *name == '\0') return std::nullopt;
  const passwd* pw = ::getpwnam(name);
  if (pw == nullptr) return std::nullopt;
  return SubidUser{name, pw->pw_uid, pw->pw_gid};
}

}  // namespace cell::test::sec
