// The built-in profiles' filters against real programs: paranoid's allow-list must run shells,
// coreutils, python3, g++ and static binaries.
#include <gtest/gtest.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cell/profile.hpp>

#include "seccomp/seccomp.hpp"
#include "support/temp_dir.hpp"

namespace cell::seccomp {
namespace {

CompiledFilter profile_filter(const std::string& name, bool notify = false) {
  auto p = load_profile(name);
  EXPECT_TRUE(p.ok()) << p.error().message;
  if (!p.ok()) return {};
  auto f = compile(p->seccomp, CompileOptions{notify});
  EXPECT_TRUE(f.ok()) << f.error().message;
  return f.ok() ? *f : CompiledFilter{};
}

// Forks, loads `f` as the sandbox's child does, and execs argv; returns the wait status.
int exec_under(const CompiledFilter& f, std::vector<std::string> argv) {
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  char env0[] = "PATH=/usr/local/bin:/usr/bin:/bin";
  char env1[] = "HOME=/tmp";
  char env2[] = "LANG=C.UTF-8";
  char* envp[] = {env0, env1, env2, nullptr};
  const pid_t pid = fork();
  if (pid == 0) {
    sock_fprog prog{static_cast<unsigned short>(f.program.size()),
                    const_cast<sock_filter*>(f.program.data())};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(250);
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) _exit(251);
    execve(args[0], args.data(), envp);
    _exit(252);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  return st;
}

std::string describe(int st) {
  if (WIFEXITED(st)) return "exit " + std::to_string(WEXITSTATUS(st));
  if (WIFSIGNALED(st)) return "signal " + std::to_string(WTERMSIG(st));
  return "status " + std::to_string(st);
}

#define EXPECT_RUNS(filter, ...)                                           \
  do {                                                                     \
    const int st_ = exec_under(filter, __VA_ARGS__);                       \
    EXPECT_TRUE(WIFEXITED(st_) && WEXITSTATUS(st_) == 0) << describe(st_); \
  } while (0)

TEST(BuiltinFilters, EveryBuiltinProfileCompilesBothWays) {
  for (const std::string& name : builtin_profile_names()) {
    for (bool notify : {false, true}) {
      const CompiledFilter f = profile_filter(name, notify);
      EXPECT_FALSE(f.program.empty()) << name;
      EXPECT_LT(f.program.size(), 4096u) << name;  // BPF_MAXINSNS
      EXPECT_EQ(f.notify, notify) << name;
    }
  }
}

TEST(BuiltinFilters, ParanoidRunsTrueAndPython) {
  const CompiledFilter f = profile_filter("paranoid");
  EXPECT_RUNS(f, {"/bin/true"});
  EXPECT_RUNS(f, {"/usr/bin/python3", "-c", "pass"});
  EXPECT_RUNS(f, {"/usr/bin/python3", "-c",
                  "import subprocess, threading, os, tempfile\n"
                  "t = threading.Thread(target=lambda: None); t.start(); t.join()\n"
                  "subprocess.run(['/bin/true'], check=True)\n"
                  "with tempfile.TemporaryDirectory() as d: open(os.path.join(d, 'x'), 'w')"});
}

TEST(BuiltinFilters, ParanoidRunsAShellPipeline) {
  const CompiledFilter f = profile_filter("paranoid");
  EXPECT_RUNS(f, {"/bin/sh", "-c",
                  "ls / | sort | head -3 >/dev/null && date >/dev/null && "
                  "x=$(cat /etc/hostname) && test -r /etc/passwd && sleep 0.01"});
}

TEST(BuiltinFilters, ParanoidCompilesAndRunsCxx) {
  test::TempDir dir;
  dir.write("hello.cc",
            "#include <iostream>\n#include <string>\n#include <vector>\n"
            "int main() { std::vector<std::string> v{\"hello\"}; std::cout << v[0] << '\\n'; }\n");
  const CompiledFilter f = profile_filter("paranoid");
  EXPECT_RUNS(f, {"/usr/bin/g++", "-O1", "-o", dir.sub("hello"), dir.sub("hello.cc")});
  EXPECT_RUNS(f, {dir.sub("hello")});
}

TEST(BuiltinFilters, ParanoidRunsAStaticBinary) {
  test::TempDir dir;
  dir.write("s.cc",
            "#include <cstdio>\n#include <string>\n#include <thread>\n"
            "int main() { std::string s(1000, 'x'); std::thread t([&] { s += 'y'; }); t.join();"
            " std::printf(\"%zu\\n\", s.size()); }\n");
  // Built outside the filter: the point is the static binary's own startup.
  const std::string cmd =
      "g++ -static -pthread -o " + dir.sub("s") + " " + dir.sub("s.cc") + " 2>/dev/null";
  if (std::system(cmd.c_str()) != 0) GTEST_SKIP() << "no static libstdc++ here";
  EXPECT_RUNS(profile_filter("paranoid"), {dir.sub("s")});
}

TEST(BuiltinFilters, StandardKillsPtraceButRunsPrograms) {
  const CompiledFilter f = profile_filter("standard");
  EXPECT_RUNS(f, {"/usr/bin/python3", "-c", "import os; os.fork() or os._exit(0)"});
  const int st = exec_under(
      f, {"/usr/bin/python3", "-c", "import ctypes; ctypes.CDLL(None).ptrace(0, 0, 0, 0)"});
  EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS) << describe(st);
}

TEST(BuiltinFilters, StandardDeniesUnshareOfAUserNamespace) {
  const CompiledFilter f = profile_filter("standard");
  const int st = exec_under(f, {"/usr/bin/unshare", "--user", "/bin/true"});
  EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS) << describe(st);
}

}  // namespace
}  // namespace cell::seccomp
