#include "launch/idmap_writer.hpp"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/errno_names.hpp"
#include "base/io.hpp"
#include "launch/report.hpp"

extern char** environ;

namespace cell::launch {

using child::Step;

namespace {

Result<void> write_proc(pid_t pid, const char* file, const std::string& text, Step step,
                        const plan::IdMap& map) {
  const std::string path = "/proc/" + std::to_string(pid) + "/" + file;
  if (auto r = write_existing_file(path, text); !r.ok()) {
    Error e = setup_error(step, r.error().sys_errno, -1, nullptr);
    e.message = "setup step '" + std::string(child::step_name(step)) + "' failed for " + path +
                " (" + map.description + "): " + errno_describe(r.error().sys_errno);
    return e;
  }
  return {};
}

// Runs a setuid helper (newuidmap/newgidmap) and waits for it.
Result<void> run_helper(const char* tool, pid_t pid, const std::vector<std::string>& args, Step step) {
  std::vector<std::string> argv_s = {tool, std::to_string(pid)};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  pid_t child = -1;
  const int err = ::posix_spawnp(&child, tool, nullptr, nullptr, argv.data(), environ);
  if (err != 0) {
    Error e = Error::make(ErrorKind::setup,
                          "setup step '" + std::string(child::step_name(step)) + "' failed: cannot run " +
                              tool + ": " + errno_describe(err),
                          err);
    e.step = child::step_name(step);
    e.hint = "install the uidmap package (newuidmap/newgidmap), or use --idmap single";
    return e;
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  Error e = Error::make(ErrorKind::setup, "setup step '" + std::string(child::step_name(step)) +
                                              "' failed: " + tool + " " + std::to_string(pid) + " " +
                                              [&] {
                                                std::string s;
                                                for (const auto& a : args) s += a + " ";
                                                return s;
                                              }() + "exited with status " +
                                              std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1),
                        EPERM);
  e.step = child::step_name(step);
  e.hint = "check that /etc/subuid and /etc/subgid grant these ranges to the calling user";
  return e;
}

}  // namespace

Result<void> write_id_maps(pid_t pid, const plan::IdMap& map) {
  if (map.use_helpers) {
    CELL_TRY(run_helper("newgidmap", pid, map.newgidmap_args, Step::write_gid_map));
    CELL_TRY(run_helper("newuidmap", pid, map.newuidmap_args, Step::write_uid_map));
    return {};
  }
  if (map.deny_setgroups) CELL_TRY(write_proc(pid, "setgroups", "deny", Step::write_setgroups, map));
  CELL_TRY(write_proc(pid, "gid_map", map.gid_map, Step::write_gid_map, map));
  CELL_TRY(write_proc(pid, "uid_map", map.uid_map, Step::write_uid_map, map));
  return {};
}

}  // namespace cell::launch
