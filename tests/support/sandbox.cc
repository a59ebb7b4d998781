#include "support/sandbox.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace cell::test {

namespace fs = std::filesystem;

const char* probe_path() {
  // as-user.sh points here when it had to copy the probe where an unprivileged user can read it.
  const char* env = std::getenv("CELL_TEST_PROBE");
  return env != nullptr && *env != '\0' ? env : CELL_PROBE_PATH;
}

const Result<Runtime>& test_runtime() {
  static const Result<Runtime> rt = Runtime::open();
  return rt;
}

TestRootfs::TestRootfs(Options o) : dir_("cell-rootfs") {
  fs::permissions(dir_.path(), fs::perms(0755));
  fs::copy_file(probe_path(), dir_.sub("cell-probe"));
  fs::permissions(dir_.sub("cell-probe"), fs::perms(0755));
  if (o.mount_points)
    for (const char* d : {"proc", "dev", "tmp", "sys"}) fs::create_directory(dir_.sub(d));
  if (o.busybox) {
    fs::create_directory(dir_.sub("bin"));
    fs::copy_file("/bin/busybox", dir_.sub("bin/busybox"));
    fs::permissions(dir_.sub("bin/busybox"), fs::perms(0755));
    fs::create_symlink("busybox", dir_.sub("bin/sh"));
  }
}

const TestRootfs& shared_rootfs() {
  static const TestRootfs rootfs(TestRootfs::Options{::access("/bin/busybox", X_OK) == 0, true});
  return rootfs;
}

Facts::Facts(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const std::size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    kv_.emplace_back(line.substr(0, eq), line.substr(eq + 1));
  }
}

std::string Facts::get(const std::string& key) const {
  for (const auto& [k, v] : kv_)
    if (k == key) return v;
  return {};
}

std::vector<std::string> Facts::all(const std::string& key) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : kv_)
    if (k == key) out.push_back(v);
  return out;
}

std::string ProbeRun::describe() const {
  if (error) return "run refused: " + error->what();
  std::string s =
      "status=" + std::string(to_string(result.status)) + " message='" + result.message + "'";
  if (result.error)
    s += " error={step=" + result.error->step + " errno=" + result.error->errno_name + " hint='" +
         result.error->hint + "'}";
  auto clip = [](const std::string& d) { return d.size() > 2000 ? d.substr(0, 2000) + "..." : d; };
  return s + "\n--- stdout ---\n" + clip(result.stdout_.data) + "--- stderr ---\n" +
         clip(result.stderr_.data);
}

RunSpec probe_spec(const std::vector<std::string>& args) {
  RunSpec spec;
  spec.argv = {"/cell-probe"};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.rootfs = shared_rootfs().path();
  spec.stdin_ = Stdio::null();
  spec.stdout_ = Stdio::capture();
  spec.stderr_ = Stdio::capture();
  spec.limits.wall_time = std::chrono::seconds(30);
  return spec;
}

void use_host_image(RunSpec& spec) {
  spec.rootfs.clear();
  spec.image = "host";
  spec.mounts.push_back({Mount::Kind::bind, probe_path(), "/cell-probe", false, 0, "test probe"});
}

ProbeRun run_spec(const RunSpec& spec) {
  ProbeRun out;
  const Result<Runtime>& rt = test_runtime();
  if (!rt.ok()) {
    out.error = rt.error();
    return out;
  }
  Result<RunResult> r = rt->run(spec);
  if (!r.ok()) {
    out.error = r.error();
    return out;
  }
  out.result = std::move(r).value();
  out.facts = Facts(out.result.stdout_.data);
  return out;
}

ProbeRun run_probe(const std::vector<std::string>& args,
                   const std::function<void(RunSpec&)>& tweak) {
  RunSpec spec = probe_spec(args);
  if (tweak) tweak(spec);
  return run_spec(spec);
}

std::vector<pid_t> child_pids() {
  std::vector<pid_t> out;
  DIR* d = ::opendir("/proc/self/task");
  if (d == nullptr) return out;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream in(std::string("/proc/self/task/") + e->d_name + "/children");
    pid_t p;
    while (in >> p) out.push_back(p);
  }
  ::closedir(d);
  return out;
}

std::string cmdline_of(pid_t pid) {
  // read(2), not ifstream: a process exiting meanwhile makes the read fail with ESRCH, which
  // libstdc++'s filebuf turns into an exception.
  std::string s;
  const int fd =
      ::open(("/proc/" + std::to_string(pid) + "/cmdline").c_str(), O_RDONLY | O_CLOEXEC);
  char buf[4096];
  ssize_t n;
  while (fd >= 0 && (n = ::read(fd, buf, sizeof buf)) > 0)
    s.append(buf, static_cast<std::size_t>(n));
  if (fd >= 0) ::close(fd);
  for (char& c : s)
    if (c == '\0') c = ' ';
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

}  // namespace cell::test
