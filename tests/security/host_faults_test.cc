// The host's faults around cell: the disk filling up during an import (each source kind), and
// user namespaces blocked by the host's limit. cell must leave nothing half-written behind,
// and say what is wrong and how to fix it.
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "image/fixtures.hpp"
#include "security/cli.hpp"
#include "security/common.hpp"
#include "support/subprocess.hpp"

namespace cell::test::sec {
namespace {

namespace fs = std::filesystem;

// --- disk full during an import -------------------------------------------------------------

// A rootfs tarball bigger than the file system it is imported into: random bytes, so that no
// compression helps.
std::string make_big_tar(const TempDir& dir, std::size_t bytes) {
  fs::create_directories(dir.sub("tree/data"));
  std::ofstream out(dir.sub("tree/data/blob"), std::ios::binary);
  std::mt19937_64 rng(42);
  for (std::size_t i = 0; i < bytes; i += 8) {
    const std::uint64_t v = rng();
    out.write(reinterpret_cast<const char*>(&v), 8);
  }
  out.close();
  const Finished t =
      run_command({"/usr/bin/tar", "-C", dir.sub("tree"), "-cf", dir.sub("big.tar"), "."});
  EXPECT_EQ(t.exit_code, 0) << t.describe();
  return dir.sub("big.tar");
}

bool write_file(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

// Runs `script` with /bin/sh in a child that has its own mount namespace (a user namespace too
// when rootless) with a `size` tmpfs at `mountpoint`: the host's mounts are never touched.
Finished in_private_tmpfs(const std::string& mountpoint, const std::string& size,
                          const std::string& script, const std::vector<std::string>& env) {
  const uid_t uid = ::geteuid();
  const gid_t gid = ::getegid();
  const std::string uid_map = std::to_string(uid) + " " + std::to_string(uid) + " 1";
  const std::string gid_map = std::to_string(gid) + " " + std::to_string(gid) + " 1";
  const std::string opts = "size=" + size + ",mode=0755";
  std::vector<std::string> argv = {"/bin/sh", "-c", script};
  std::vector<std::string> envv = env;
  std::vector<char*> a, e;
  for (std::string& s : argv) a.push_back(s.data());
  for (std::string& s : envv) e.push_back(s.data());
  a.push_back(nullptr);
  e.push_back(nullptr);
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return {};
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    const int flags = CLONE_NEWNS | (uid != 0 ? CLONE_NEWUSER : 0);
    if (::unshare(flags) != 0) ::_exit(90);
    if (uid != 0 &&
        !(write_file("/proc/self/setgroups", "deny") && write_file("/proc/self/uid_map", uid_map) &&
          write_file("/proc/self/gid_map", gid_map)))
      ::_exit(91);
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) ::_exit(92);
    if (::mount("tmpfs", mountpoint.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, opts.c_str()) != 0)
      ::_exit(93);
    ::execve(a[0], a.data(), e.data());
    ::_exit(94);
  }
  ::close(out[1]);
  Finished f;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(out[0], buf, sizeof buf)) > 0) f.out.append(buf, static_cast<std::size_t>(n));
  ::close(out[0]);
  int st = 0;
  ::waitpid(pid, &st, 0);
  f.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  f.signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
  return f;
}

// Imports each source ("rootfs-tar:FILE", ...) into a data directory on a 1 MiB tmpfs: each
// must fail saying the disk is full (on a line naming the source), and leave nothing behind.
void expect_full_disk_leaves_nothing(const TempDir& work, const std::vector<std::string>& sources) {
  fs::create_directories(work.sub("data"));
  fs::create_directories(work.sub("run"));
  std::string list;
  for (const std::string& s : sources) list += " '" + s + "'";
  const std::string script =
      "for src in" + list +
      "; do\n"
      "  \"$CELL\" image import --name full \"$src\"; echo \"import_exit=$?\"\n"
      "done\n"
      "\"$CELL\" image ls --json | tr -d '\\n' | sed 's/^/images=/'; echo\n"
      "cd \"$CELL_DATA\" && find . -mindepth 1 -type f | sed 's/^/file=/'\n";
  const Finished f = in_private_tmpfs(work.sub("data"), "1m", script,
                                      {"CELL=" + cell_binary(), "CELL_DATA=" + work.sub("data"),
                                       "CELL_RUNTIME=" + work.sub("run"), "PATH=/usr/bin:/bin"});
  ASSERT_EQ(f.exit_code, 0) << f.describe();
  const Facts facts(f.out);
  const std::vector<std::string> codes = facts.all("import_exit");
  ASSERT_EQ(codes.size(), sources.size()) << f.out;
  for (const std::string& c : codes) EXPECT_EQ(c, "1") << f.out;
  for (const std::string& src : sources) {
    const std::string kind = src.substr(0, src.find(':') + 1);
    bool said = false;
    std::istringstream in(f.out);
    for (std::string line; std::getline(in, line);)
      said |=
          line.find(kind) != std::string::npos && line.find("No space left") != std::string::npos;
    EXPECT_TRUE(said) << kind << " import does not say the disk is full:\n" << f.out;
  }
  EXPECT_EQ(f.out.find("terminate called"), std::string::npos) << f.out;
  EXPECT_EQ(facts.get("images"), "[]") << "an image is listed after a failed import\n" << f.out;
  // Only the store's lock file may remain: no blob, no image tree, no work directory.
  for (const std::string& file : facts.all("file"))
    EXPECT_EQ(file, "./images/lock") << "left behind: " << file << "\n" << f.out;
  EXPECT_FALSE(fs::exists(work.sub("data/images"))) << "the tmpfs leaked into our namespace";
}

// Both ways an import writes: a rootfs tarball extracted straight into the tree, and an OCI
// layout whose blob is first copied into the store.
TEST(ImportDiskFull, LeavesNoPartialImage) {
  CELL_REQUIRE(Need::userns);
  const TempDir work("cell-sec-import");
  ::chmod(work.path().c_str(), 0755);
  const std::string tar = make_big_tar(work, 3 << 20);
  write_simple_layout(work.sub("oci"), {{file("data/blob", slurp(work.sub("tree/data/blob")))}});
  expect_full_disk_leaves_nothing(work, {"rootfs-tar:" + tar, "oci:" + work.sub("oci")});
}

// A docker-archive (skopeo's, from an OCI layout): its layers are read out of the archive.
TEST(ImportDiskFull, DockerArchiveLeavesNoPartialImage) {
  CELL_REQUIRE(Need::userns);
  if (!have_tool("skopeo")) CELL_MISSING("needs skopeo (apt install skopeo)");
  const TempDir work("cell-sec-import");
  ::chmod(work.path().c_str(), 0755);
  make_big_tar(work, 3 << 20);
  write_simple_layout(work.sub("oci"), {{file("data/blob", slurp(work.sub("tree/data/blob")))}});
  const std::string archive = work.sub("docker.tar");
  const Finished copy = run_command({"/usr/bin/env", "skopeo", "copy", "--quiet",
                                     "oci:" + work.sub("oci") + ":latest",
                                     "docker-archive:" + archive + ":cell/full:latest"});
  ASSERT_EQ(copy.exit_code, 0) << copy.describe();
  ASSERT_GT(fs::file_size(archive), 3u << 20) << "the archive must not fit in the 1 MiB disk";
  expect_full_disk_leaves_nothing(work, {"docker-archive:" + archive});
}

// --- user namespaces blocked ----------------------------------------------------------------

// cell run inside a user namespace whose user.max_user_namespaces is 0 (a per-namespace
// limit: this changes nothing outside it). Creating the sandbox's user namespace fails with
// ENOSPC; the verdict is a setup error that names the limit and the sysctl that raises it.
TEST(UsernsBlocked, RunIsASetupErrorNamingTheLimitAndTheFix) {
  CELL_REQUIRE(Need::userns);
  if (::access("/usr/bin/unshare", X_OK) != 0) CELL_MISSING("needs /usr/bin/unshare (util-linux)");
  const TempDir work("cell-sec-userns");
  ::chmod(work.path().c_str(), 0755);
  const std::vector<std::string> env = {"CELL_RUNTIME=" + work.sub("run"),
                                        "CELL_DATA=" + work.sub("data")};
  auto blocked = [&](const std::vector<std::string>& run_args) {
    std::vector<std::string> argv = {
        "/usr/bin/unshare",
        "-U",
        "-r",
        "/bin/sh",
        "-c",
        "echo 0 > /proc/sys/user/max_user_namespaces || exit 90\n"
        "[ \"$(cat /proc/sys/user/max_user_namespaces)\" = 0 ] || exit 91\n"
        "exec \"$@\"",
        "sh",
        cell_binary(),
        "run"};
    argv.insert(argv.end(), run_args.begin(), run_args.end());
    CommandOptions o;
    o.env = env;
    return run_command(argv, o);
  };
  const Finished j = blocked({"--json", "--", "/bin/true"});
  ASSERT_NE(j.exit_code, 90) << "cannot set max_user_namespaces in a user namespace\n"
                             << j.describe();
  EXPECT_EQ(j.exit_code, 125) << j.describe();
  const nlohmann::json r = nlohmann::json::parse(j.out, nullptr, false);
  ASSERT_FALSE(r.is_discarded()) << "not JSON:\n" << j.describe();
  EXPECT_EQ(r.value("status", ""), "setup_error") << r.dump(2);
  ASSERT_TRUE(r["error"].is_object()) << r.dump(2);
  const nlohmann::json& e = r["error"];
  EXPECT_EQ(e.value("step", ""), "clone") << r.dump(2);
  EXPECT_EQ(e.value("errno", ""), "ENOSPC") << r.dump(2);
  const std::string said =
      r.value("message", "") + " " + e.value("message", "") + " " + e.value("hint", "");
  EXPECT_NE(said.find("max_user_namespaces"), std::string::npos) << "problem not named\n"
                                                                 << r.dump(2);
  EXPECT_NE(said.find("sysctl user.max_user_namespaces="), std::string::npos) << "no fix\n"
                                                                              << r.dump(2);

  // Without --json: the same on stderr, for a person at a shell.
  const Finished plain = blocked({"--", "/bin/true"});
  EXPECT_EQ(plain.exit_code, 125) << plain.describe();
  EXPECT_NE(plain.err.find("max_user_namespaces"), std::string::npos) << plain.describe();
  EXPECT_NE(plain.err.find("sysctl user.max_user_namespaces="), std::string::npos)
      << plain.describe();
}

}  // namespace
}  // namespace cell::test::sec
