#include "security/common.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <sstream>

namespace cell::test::sec {

void no_filter(RunSpec& s) {
  s.seccomp = "off";
}

// --- HostProcess --------------------------------------------------------------------------

namespace {
int g_report_fd = -1;  // the forked child's copy only
void report_signal(int sig) {
  const unsigned char b = static_cast<unsigned char>(sig);
  (void)!::write(g_report_fd, &b, 1);
}
}  // namespace

HostProcess::HostProcess() {
  int p[2];
  if (::pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) return;
  pid_ = ::fork();
  if (pid_ == 0) {
    g_report_fd = p[1];
    struct sigaction sa {};
    sa.sa_handler = report_signal;
    for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &sa, nullptr);  // KILL/STOP refuse
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (;;) ::pause();
  }
  ::close(p[1]);
  report_ = p[0];
}

HostProcess::~HostProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (report_ >= 0) ::close(report_);
}

bool HostProcess::untouched() const {
  if (pid_ <= 0) return false;
  int st = 0;
  if (::waitpid(pid_, &st, WNOHANG | WUNTRACED) != 0) return false;  // exited or stopped
  unsigned char sig = 0;
  if (::read(report_, &sig, 1) == 1) return false;  // a signal arrived
  const std::string status = slurp("/proc/" + std::to_string(pid_) + "/status");
  return status.find("\nTracerPid:\t0\n") != std::string::npos;
}

// --- listeners ----------------------------------------------------------------------------

HostListener::HostListener() {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(fd_, 16) != 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    return;
  port_ = ntohs(a.sin_port);
}

HostListener::~HostListener() {
  if (fd_ >= 0) ::close(fd_);
}

bool HostListener::someone_connected() const {
  const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (c < 0) return false;
  ::close(c);
  return true;
}

AbstractListener::AbstractListener() {
  static std::atomic<int> n{0};
  name_ = "@cell-sec-" + std::to_string(::getpid()) + "-" + std::to_string(n++);
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  std::memcpy(un.sun_path + 1, name_.data() + 1, name_.size() - 1);
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name_.size());
  if (fd_ >= 0 &&
      (::bind(fd_, reinterpret_cast<sockaddr*>(&un), len) != 0 || ::listen(fd_, 4) != 0)) {
    ::close(fd_);
    fd_ = -1;
  }
}

AbstractListener::~AbstractListener() {
  if (fd_ >= 0) ::close(fd_);
}

bool AbstractListener::someone_connected() const {
  const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (c < 0) return false;
  ::close(c);
  return true;
}

HostSecret::HostSecret() {
  ::chmod(dir.path().c_str(), 0755);
  dir.write("secret", "host secret\n", 0644);
  path = dir.sub("secret");
}

// --- host scans ---------------------------------------------------------------------------

std::vector<pid_t> processes_with(const std::string& token) {
  std::vector<pid_t> found;
  DIR* d = ::opendir("/proc");
  if (d == nullptr) return found;
  while (const dirent* e = ::readdir(d)) {
    const pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
    if (pid <= 0 || pid == ::getpid()) continue;
    if (cmdline_of(pid).find(token) != std::string::npos) found.push_back(pid);
  }
  ::closedir(d);
  return found;
}

std::string unique_token(const std::string& what) {
  static std::atomic<int> n{0};
  return "cellsec" + std::to_string(::getpid()) + "x" + std::to_string(n++) + what;
}

std::size_t mount_count() {
  std::ifstream in("/proc/self/mountinfo");
  std::size_t n = 0;
  for (std::string l; std::getline(in, l);) ++n;
  return n;
}

std::string host_name() {
  char buf[256] = {};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

std::string slurp(const std::string& path) {
  // read(2): /proc files of a process that exits meanwhile fail with ESRCH, which ifstream
  // would throw from.
  std::string s;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return s;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) s.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return s;
}

// --- expectations -------------------------------------------------------------------------

Call call_fact(const Facts& f, const std::string& key, const std::string& name) {
  Call c;
  for (const std::string& v : f.all(key)) {
    std::istringstream in(v);
    std::string n, ret, err;
    if (!(in >> n >> ret >> err) || n != name) continue;
    c.found = true;
    c.ret = std::stol(ret.substr(ret.find('=') + 1));
    c.err = err.substr(err.find('=') + 1);
  }
  return c;
}

void expect_violation(const ProbeRun& r, const std::string& syscall, const std::string& arch) {
  ASSERT_FALSE(r.error) << r.describe();
  EXPECT_EQ(r.result.status, Status::seccomp_violation) << r.describe();
  ASSERT_TRUE(r.result.violation.has_value()) << r.describe();
  EXPECT_EQ(r.result.violation->syscall, syscall) << r.describe();
  EXPECT_EQ(r.result.violation->arch, arch) << r.describe();
  EXPECT_EQ(r.result.stdout_.data.find("after="), std::string::npos)
      << "the probe went on after the forbidden call: " << r.describe();
}

void expect_refused(const Call& c, const std::set<std::string>& errnos, const std::string& what) {
  ASSERT_TRUE(c.found) << what << ": the probe did not report the call";
  EXPECT_LT(c.ret, 0) << what << " succeeded";
  EXPECT_TRUE(errnos.count(c.err) > 0) << what << " failed with " << c.err;
}

}  // namespace cell::test::sec
