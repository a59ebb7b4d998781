#include "cgroup/fs.hpp"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>

#include "base/errno_names.hpp"
#include "base/io.hpp"
#include "base/strings.hpp"
#include "cgroup/parse.hpp"

namespace cell::cgroup::fs {

std::string join(const std::string& dir, std::string_view name) {
  std::string out = dir;
  if (out.empty() || out.back() != '/') out += '/';
  out += name;
  return out;
}

std::string dirname(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string basename(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool exists(const std::string& path) {
  return ::access(path.c_str(), F_OK) == 0;
}

bool writable(const std::string& dir, const std::vector<std::string>& files) {
  if (::access(dir.c_str(), W_OK | X_OK) != 0) return false;
  return std::all_of(files.begin(), files.end(), [&](const std::string& f) {
    return ::access(join(dir, f).c_str(), W_OK) == 0;
  });
}

std::optional<std::string> read(const std::string& path) {
  auto r = read_file(path, 1 << 20);
  if (!r.ok()) return std::nullopt;
  return std::move(r).value();
}

std::optional<std::uint64_t> read_u64(const std::string& path) {
  const auto text = read(path);
  return text ? parse_u64(*text) : std::nullopt;
}

std::map<std::string, std::uint64_t> read_keyed(const std::string& path) {
  const auto text = read(path);
  return text ? parse_flat_keyed(*text) : std::map<std::string, std::uint64_t>{};
}

std::vector<std::string> read_words(const std::string& path) {
  std::vector<std::string> out;
  const auto text = read(path);
  if (!text) return out;
  for (std::string& w : split(std::string(trim(*text)), ' '))
    if (!w.empty()) out.push_back(std::move(w));
  return out;
}

Result<void> write(const std::string& path, std::string_view value) {
  auto r = write_existing_file(path, value);
  if (!r.ok()) {
    Error e = std::move(r).error();
    e.message = "cgroup: " + e.message;
    return e;
  }
  return {};
}

std::vector<pid_t> procs(const std::string& dir) {
  const auto text = read(join(dir, "cgroup.procs"));
  return text ? parse_pids(*text) : std::vector<pid_t>{};
}

int kill_procs(const std::string& dir) {
  int n = 0;
  for (pid_t p : procs(dir))
    if (::kill(p, SIGKILL) == 0) ++n;
  return n;
}

std::vector<std::string> subdirs(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (e->d_type == DT_DIR && name != "." && name != "..") out.push_back(name);
  }
  ::closedir(d);
  return out;
}

bool wait_until(const std::function<bool()>& done, std::uint64_t timeout_ns) {
  timespec start{};
  ::clock_gettime(CLOCK_MONOTONIC, &start);
  long pause_us = 50;
  for (;;) {
    if (done()) return true;
    timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    const auto elapsed = static_cast<std::uint64_t>((now.tv_sec - start.tv_sec) * 1000000000LL +
                                                    (now.tv_nsec - start.tv_nsec));
    if (elapsed >= timeout_ns) return false;
    ::usleep(static_cast<useconds_t>(pause_us));
    pause_us = std::min(pause_us * 2, 10000L);
  }
}

Result<void> remove_tree(const std::string& dir, std::uint64_t timeout_ns) {
  for (const std::string& sub : subdirs(dir)) CELL_TRY(remove_tree(join(dir, sub), timeout_ns));
  int err = 0;
  const bool gone = wait_until(
      [&] {
        if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return true;
        err = errno;
        return err != EBUSY;  // other errors will not go away by waiting
      },
      timeout_ns);
  if (gone && err != 0 && err != EBUSY && ::access(dir.c_str(), F_OK) == 0)
    return Error::make(ErrorKind::io, "cgroup: cannot remove " + dir + ": " + errno_describe(err),
                       err);
  if (!gone)
    return Error::make(ErrorKind::io,
                       "cgroup: cannot remove " + dir + ": still busy after " +
                           std::to_string(timeout_ns / kMs) + " ms",
                       EBUSY);
  return {};
}

std::optional<std::uint64_t> process_starttime(pid_t pid) {
  const auto text = read("/proc/" + std::to_string(pid) + "/stat");
  return text ? parse_stat_starttime(*text) : std::nullopt;
}

}  // namespace cell::cgroup::fs
