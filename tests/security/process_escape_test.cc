// Escapes towards other processes and the caller: signals and ptrace to a host process and to
// the sandbox's own pid 1, host pids, the host's loopback and abstract sockets, the caller's
// terminal (TIOCSTI) and descriptors the caller had open.
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <functional>

#include "security/common.hpp"

namespace cell::test::sec {
namespace {

using ::testing::AnyOf;
using ::testing::Eq;
using ::testing::HasSubstr;

TEST(Signals, AHostProcessCannotBeSignalledTracedOrOpened) {
  CELL_REQUIRE(Need::sandbox);
  const HostProcess host;
  ASSERT_TRUE(host.untouched());
  const std::string pid = std::to_string(host.pid());
  const ProbeRun r = run_probe({"kill", pid, "KILL", "kill", pid, "USR1", "pidfd", pid, "kill",
                                "-1", "KILL", "ls", "/proc/" + pid, "echo", "after=1"});
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  const std::vector<std::string> kills = r.facts.all("kill");
  ASSERT_EQ(kills.size(), 3u) << r.describe();
  EXPECT_EQ(kills[0], "ESRCH") << "the host pid means nothing inside";
  EXPECT_EQ(kills[1], "ESRCH");
  EXPECT_EQ(r.facts.get("pidfd"), "ESRCH");
  EXPECT_EQ(r.facts.get("ls"), "ENOENT");
  EXPECT_TRUE(r.facts.has("after")) << "kill(-1) reached the probe itself";

  const ProbeRun traced = run_probe({"ptrace", pid, "echo", "after=1"});
  expect_violation(traced, "ptrace");
  const ProbeRun unfiltered = run_probe({"ptrace", pid}, no_filter);
  ASSERT_EQ(unfiltered.result.status, Status::ok) << unfiltered.describe();
  EXPECT_EQ(unfiltered.facts.get("ptrace"), "ESRCH");
  EXPECT_TRUE(host.untouched()) << "the host process was signalled, stopped or traced";
}

// The reaper is pid 1 of the sandbox: the kernel drops signals a namespace's init has no
// handler for when they come from inside, and it is not dumpable. Killing it would end the
// run as internal_error; the run must end normally instead.
TEST(Signals, TheSandboxesOwnInitSurvivesItsPayload) {
  CELL_REQUIRE(Need::sandbox);
  struct Variant {
    const char* name;
    std::function<void(RunSpec&)> tweak;
    bool may_ptrace;  // the filter lets ptrace through (minimal keeps debuggers working)
  };
  const Variant variants[] = {
      {"standard", {}, false},
      {"standard without filter", no_filter, true},
      {"minimal (root inside)", [](RunSpec& s) { s.profile = "minimal"; }, true},
  };
  for (const Variant& v : variants) {
    SCOPED_TRACE(v.name);
    std::vector<std::string> args = {"kill", "1",    "KILL", "kill", "1",    "TERM", "kill",
                                     "1",    "SEGV", "kill", "-1",   "KILL", "echo", "after=1"};
    if (v.may_ptrace) args.insert(args.begin(), {"ptrace", "1", "read", "/proc/1/environ"});
    const ProbeRun r = run_probe(args, v.tweak);
    ASSERT_EQ(r.result.status, Status::ok) << r.describe();
    EXPECT_TRUE(r.facts.has("after")) << r.describe();
    if (v.may_ptrace) {
      EXPECT_EQ(r.facts.get("ptrace"), "EPERM") << r.describe();
      EXPECT_EQ(r.facts.get("read"), "EACCES") << r.describe();
    }
  }
}

TEST(Processes, HostPidsAreInvisible) {
  CELL_REQUIRE(Need::sandbox);
  const HostProcess host;
  const std::string pid = std::to_string(host.pid());
  const ProbeRun r =
      run_probe({"pids", "read", "/proc/" + pid + "/environ", "read", "/proc/" + pid + "/cmdline"},
                use_host_image);
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  const std::vector<std::string> pids = r.facts.all("pid");
  EXPECT_EQ(std::set<std::string>(pids.begin(), pids.end()), (std::set<std::string>{"1", "2"}))
      << r.describe();
  for (const std::string& v : r.facts.all("read")) EXPECT_EQ(v, "ENOENT");
}

std::string first_host_ipv4() {
  ifaddrs* list = nullptr;
  std::string found;
  if (::getifaddrs(&list) != 0) return found;
  for (ifaddrs* i = list; i != nullptr && found.empty(); i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
    const auto* a = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
    if (ntohl(a->sin_addr.s_addr) >> 24 == 127) continue;
    char buf[INET_ADDRSTRLEN];
    found = ::inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
  }
  ::freeifaddrs(list);
  return found;
}

// The host listens on 127.0.0.1 and on an abstract Unix socket (a per-network-namespace
// name space). With network none or loopback the sandbox reaches neither; `host` is the
// control: the same probe does connect, so the check can fail.
TEST(Network, HostLoopbackAndAbstractSocketsAreOutOfReach) {
  CELL_REQUIRE(Need::sandbox);
  const HostListener tcp;
  const AbstractListener unix_socket;
  ASSERT_NE(tcp.port(), 0);
  const std::string port = std::to_string(tcp.port());
  std::vector<std::string> args = {"connect", "127.0.0.1", port,           "connect",
                                   "::1",     port,        "connect-unix", unix_socket.name()};
  const std::string lan = first_host_ipv4();
  if (!lan.empty()) args.insert(args.end(), {"connect", lan, port});

  for (const Network net : {Network::none, Network::loopback}) {
    SCOPED_TRACE(std::string(to_string(net)));
    const ProbeRun r = run_probe(args, [&](RunSpec& s) { s.network = net; });
    ASSERT_EQ(r.result.status, Status::ok) << r.describe();
    const std::vector<std::string> tcp_tries = r.facts.all("connect");
    ASSERT_GE(tcp_tries.size(), 2u) << r.describe();
    for (const std::string& c : tcp_tries)
      EXPECT_THAT(c, AnyOf(Eq("ENETUNREACH"), Eq("ECONNREFUSED"), Eq("EADDRNOTAVAIL"),
                           Eq("EAFNOSUPPORT")))  // no IPv6 at all
          << r.describe();
    EXPECT_EQ(r.facts.get("connect_unix"), "ECONNREFUSED") << r.describe();
    EXPECT_FALSE(tcp.someone_connected()) << "the sandbox reached the host's loopback";
    EXPECT_FALSE(unix_socket.someone_connected()) << "the sandbox reached a host abstract socket";
  }
  const ProbeRun control =
      run_probe({"connect", "127.0.0.1", port, "connect-unix", unix_socket.name()},
                [](RunSpec& s) { s.network = Network::host; });
  ASSERT_EQ(control.result.status, Status::ok) << control.describe();
  EXPECT_EQ(control.facts.get("connect"), "ok") << control.describe();
  EXPECT_EQ(control.facts.get("connect_unix"), "ok") << control.describe();
  EXPECT_TRUE(tcp.someone_connected());
}

struct Pty {
  int master = -1, slave = -1;
  Pty() {
    ::openpty(&master, &slave, nullptr, nullptr, nullptr);
    if (master >= 0) ::fcntl(master, F_SETFL, O_NONBLOCK);
  }
  ~Pty() {
    if (master >= 0) ::close(master);
    if (slave >= 0) ::close(slave);
  }
  // Bytes waiting to be read by whoever reads the terminal (the caller's shell).
  [[nodiscard]] int typed() const {
    int n = 0;
    return ::ioctl(slave, FIONREAD, &n) == 0 ? n : -1;
  }
  // Bytes echoed back to the terminal's owner.
  [[nodiscard]] std::string echoed() const {
    char buf[256];
    const ssize_t n = ::read(master, buf, sizeof buf);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
  }
};

// The sandbox's stdin is the caller's terminal: TIOCSTI would type a command into the
// caller's shell. The filter kills it; without the filter the payload has no controlling
// terminal (setsid) and no CAP_SYS_ADMIN, so the kernel refuses.
TEST(Terminal, TiocstiCannotTypeIntoTheCallersTerminal) {
  CELL_REQUIRE(Need::sandbox);
  const Pty pty;
  ASSERT_GE(pty.slave, 0) << "openpty";
  auto on_tty = [&](RunSpec& s) { s.stdin_ = Stdio::borrowed(pty.slave); };
  const ProbeRun filtered = run_probe({"tiocsti", "id\n", "echo", "after=1"}, on_tty);
  expect_violation(filtered, "ioctl");
  const ProbeRun unfiltered = run_probe({"tiocsti", "id\n"}, [&](RunSpec& s) {
    on_tty(s);
    no_filter(s);
  });
  ASSERT_EQ(unfiltered.result.status, Status::ok) << unfiltered.describe();
  EXPECT_THAT(unfiltered.facts.get("tiocsti"), AnyOf(Eq("EPERM"), Eq("EIO")))
      << unfiltered.describe();
  EXPECT_EQ(pty.typed(), 0) << "input was injected into the terminal";
  EXPECT_EQ(pty.echoed(), "") << "injected input was echoed on the terminal";
  // Control (root only: CAP_SYS_ADMIN may inject): the checks above see an injection.
  if (::geteuid() == 0) {
    for (const char c : std::string("z\n")) ASSERT_EQ(::ioctl(pty.slave, TIOCSTI, &c), 0);
    EXPECT_EQ(pty.typed(), 2);
    EXPECT_NE(pty.echoed(), "");
  }
}

// runc CVE-2024-21626: a host directory descriptor left open in the caller. Open several
// kinds without O_CLOEXEC; the payload must have none, so fchdir-and-walk-up finds nothing.
TEST(Fds, NoDescriptorOfTheCallerReachesThePayload) {
  CELL_REQUIRE(Need::sandbox);
  const HostSecret secret;
  const int dir = ::open(secret.dir.path().c_str(), O_RDONLY | O_DIRECTORY);
  const int root = ::open("/", O_PATH);
  const int file = ::open(secret.path.c_str(), O_RDONLY);
  const ProbeRun r = run_probe({"fd-escape", secret.path, "fds"});
  for (int fd : {dir, root, file}) ::close(fd);
  ASSERT_EQ(r.result.status, Status::ok) << r.describe();
  EXPECT_EQ(r.facts.get("fd_dirs"), "0") << r.describe();
  EXPECT_EQ(r.facts.get("fd_marker"), "absent");
  EXPECT_EQ(r.facts.get("fds"), "3") << r.describe();
}

// A directory given as a stdio file (--stdin DIR, RunSpec::stdin_ = Stdio::file(DIR)) or as a
// borrowed descriptor would be a handle on the host's file system in the payload: fchdir(0)
// and ".." walk out of the sandbox. Found by this test; cell now refuses the run (usage error).
TEST(Fds, ADirectoryAsStdinIsNoWayOut) {
  CELL_REQUIRE(Need::sandbox);
  const HostSecret secret;
  const int dir = ::open(secret.dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(dir, 0);
  for (const Stdio& in : {Stdio::file(secret.dir.path()), Stdio::file("/"), Stdio::borrowed(dir)}) {
    const ProbeRun r = run_probe({"fd-escape", secret.path}, [&](RunSpec& s) { s.stdin_ = in; });
    if (r.error) {
      EXPECT_EQ(r.error->kind, ErrorKind::usage) << r.error->message;
      EXPECT_THAT(r.error->message, HasSubstr("is a directory")) << r.error->message;
      continue;
    }
    ADD_FAILURE() << "a directory as stdin was not refused";
    EXPECT_NE(r.facts.get("fd_marker"), "visible")
        << "stdin " << (in.mode == Stdio::Mode::fd ? "fd" : in.path)
        << " let the payload reach the host's " << secret.path << "\n"
        << r.describe();
  }
  ::close(dir);
}

}  // namespace
}  // namespace cell::test::sec
