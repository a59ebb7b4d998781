// The runtime: one object per process, safe to use from several threads at once.
#pragma once

#include <cell/error.hpp>
#include <cell/profile.hpp>
#include <cell/result.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cell {

struct Stdio {
  enum class Mode {
    inherit,  // the caller's own fd 0/1/2
    null,     // /dev/null
    file,     // `path` on the host, opened by cell (stdin: read; out/err: created/truncated)
    capture,  // collected into the result, up to the output limit
    fd,       // `fd`, borrowed from the caller (not closed)
  };
  Mode mode = Mode::inherit;
  std::string path;
  int fd = -1;

  static Stdio inherit() { return {}; }
  static Stdio null() { return {Mode::null, {}, -1}; }
  static Stdio file(std::string p) { return {Mode::file, std::move(p), -1}; }
  static Stdio capture() { return {Mode::capture, {}, -1}; }
  static Stdio borrowed(int fd) { return {Mode::fd, {}, fd}; }
};

// How sandbox uids map to host uids. The sandbox's root is never the host's root.
enum class IdMapMode {
  automatic,  // root: a 65536-wide range at uid_base; others: `single`
  single,     // the sandbox user maps to the caller's own uid/gid (no helper needed)
  subid,      // newuidmap/newgidmap with the caller's /etc/subuid and /etc/subgid ranges
};

struct RunSpec {
  std::vector<std::string> argv;  // argv[0] is looked up in the sandbox's PATH if it has no '/'
  std::string image = "host";     // "host" or an imported image reference
  std::string rootfs;             // a host directory used as the read-only root (instead of image)
  std::string profile = "standard";      // built-in name or YAML path
  std::optional<Profile> profile_value;  // an already loaded profile; wins over `profile`
  std::string workdir;                   // default /tmp, or /workspace when something is bound there
  std::vector<Mount> mounts;             // added after the profile's
  std::optional<std::uint32_t> uid;
  std::optional<std::uint32_t> gid;
  std::optional<std::string> hostname;
  std::optional<Network> network;
  std::vector<std::pair<std::string, std::string>> env;  // added to / replacing profile defaults
  std::optional<std::string> seccomp;  // a profile name or file whose policy to use, or "off"
  Limits limits;                       // overrides of the profile's limits
  Stdio stdin_ = Stdio::inherit();
  Stdio stdout_ = Stdio::inherit();
  Stdio stderr_ = Stdio::inherit();
  IdMapMode idmap = IdMapMode::automatic;
  bool require_cgroup = false;  // fail instead of degrading when no cgroup can be used
  std::string cgroup_parent;    // a cgroup path to create the run's cgroup under
};

enum class LogLevel { debug, info, warn, error };

struct RuntimeOptions {
  std::string data_dir;     // empty: $CELL_DATA, /var/lib/cell (root), ~/.local/share/cell
  std::string runtime_dir;  // empty: $CELL_RUNTIME, /run/cell (root), $XDG_RUNTIME_DIR/cell
  std::optional<std::uint32_t> uid_base;  // root only: host uid of sandbox uid 0
  std::function<void(LogLevel, std::string_view)> log;  // optional; cell never logs elsewhere
};

class Runtime {
 public:
  static Result<Runtime> open(RuntimeOptions options = {});

  // Runs one program to completion and returns its verdict. Problems with the request
  // (bad profile, missing rootfs) are errors; everything after validation is a RunResult,
  // whose status may be setup_error.
  Result<RunResult> run(const RunSpec& spec) const;

  [[nodiscard]] const std::string& data_dir() const;
  [[nodiscard]] const std::string& runtime_dir() const;

  struct State;

 private:
  explicit Runtime(std::shared_ptr<State> s) : state_(std::move(s)) {}
  std::shared_ptr<State> state_;
};

}  // namespace cell
