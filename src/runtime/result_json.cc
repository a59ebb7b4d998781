// cell.result/v1 as JSON (nlohmann, keys in SPEC order).
#include <cell/result.hpp>

#include <ctime>
#include <nlohmann/json.hpp>

#include "launch/report.hpp"
#include "launch/verdict.hpp"

namespace cell {

namespace {

using json = nlohmann::ordered_json;

std::string rfc3339(std::chrono::system_clock::time_point t) {
  if (t.time_since_epoch().count() == 0) return {};
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[64];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%06lldZ", static_cast<long long>(us % 1000000));
  return buf;
}

bool valid_utf8(const std::string& s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    i += len;
  }
  return true;
}

std::string base64(const std::string& in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], t[v & 63]};
  }
  if (i + 1 == in.size()) {
    const unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += {t[v >> 18], t[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], '='};
  }
  return out;
}

json stream(const StreamResult& s) {
  if (!s.captured) return nullptr;
  json j;
  j["size_bytes"] = s.size_bytes;
  j["captured_bytes"] = s.captured_bytes;
  j["truncated"] = s.truncated;
  const bool text = valid_utf8(s.data);
  j["encoding"] = text ? "utf-8" : "base64";
  j["data"] = text ? s.data : base64(s.data);
  return j;
}

template <class T>
json opt(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

json limits_json(const Limits& l) {
  json j;
  j["cpu_ns"] = l.cpu_time ? json(l.cpu_time->count()) : json(nullptr);
  j["wall_ns"] = l.wall_time ? json(l.wall_time->count()) : json(nullptr);
  j["memory_bytes"] = opt(l.memory_bytes);
  j["pids"] = opt(l.pids);
  j["cpus"] = opt(l.cpus);
  j["cpuset"] = opt(l.cpuset);
  j["fsize_bytes"] = opt(l.fsize_bytes);
  j["nofile"] = opt(l.nofile);
  j["stack_bytes"] = l.stack_bytes && *l.stack_bytes == Limits::kUnlimited ? json("unlimited") : opt(l.stack_bytes);
  j["output_bytes"] = opt(l.output_bytes);
  return j;
}

}  // namespace

std::string_view to_string(Status s) noexcept {
  switch (s) {
    case Status::internal_error: return "internal_error";
    case Status::setup_error: return "setup_error";
    case Status::cancelled: return "cancelled";
    case Status::seccomp_violation: return "seccomp_violation";
    case Status::memory_limit: return "memory_limit";
    case Status::time_limit_cpu: return "time_limit_cpu";
    case Status::time_limit_wall: return "time_limit_wall";
    case Status::output_limit: return "output_limit";
    case Status::disk_limit: return "disk_limit";
    case Status::pids_limit: return "pids_limit";
    case Status::signalled: return "signalled";
    case Status::nonzero_exit: return "nonzero_exit";
    case Status::file_error: return "file_error";
    case Status::ok: return "ok";
  }
  return "internal_error";
}

std::string RunResult::to_json(int indent) const {
  json j;
  j["schema"] = "cell.result/v1";
  j["status"] = to_string(status);
  j["message"] = message;
  j["limits_hit"] = limits_hit;
  j["exit_code"] = opt(exit_code);
  j["signal"] = opt(signal);
  j["signal_name"] = signal ? json(launch::signal_name(*signal)) : json(nullptr);
  j["killed_by"] = killed_by.empty() ? json(nullptr) : json(killed_by);
  json u;
  u["cpu_ns"] = usage.cpu_ns;
  u["user_ns"] = usage.user_ns;
  u["sys_ns"] = usage.sys_ns;
  u["wall_ns"] = usage.wall_ns;
  u["setup_ns"] = usage.setup_ns;
  u["memory_peak_bytes"] = usage.memory_peak_bytes;
  u["memory_peak_source"] = usage.memory_peak_source.empty() ? json(nullptr) : json(usage.memory_peak_source);
  u["pids_peak"] = usage.pids_peak;
  u["oom_kills"] = usage.oom_kills;
  j["usage"] = u;
  j["limits"] = limits_json(limits);
  j["stdout"] = stream(stdout_);
  j["stderr"] = stream(stderr_);
  if (violation)
    j["violation"] = {{"kind", violation->kind},
                      {"syscall", violation->syscall.empty() ? json(nullptr) : json(violation->syscall)},
                      {"nr", violation->nr < 0 ? json(nullptr) : json(violation->nr)},
                      {"arch", violation->arch}};
  else
    j["violation"] = nullptr;
  if (error)
    j["error"] = {{"step", error->step},
                  {"errno", error->errno_name.empty() ? json(nullptr) : json(error->errno_name)},
                  {"message", error->message},
                  {"hint", error->hint.empty() ? json(nullptr) : json(error->hint)}};
  else
    j["error"] = nullptr;
  j["enforcement"] = {{"cgroup", enforcement.cgroup},
                      {"userns", enforcement.userns},
                      {"seccomp", enforcement.seccomp},
                      {"degraded", enforcement.degraded}};
  j["started_at"] = rfc3339(started_at);
  j["ended_at"] = rfc3339(ended_at);
  return j.dump(indent, ' ', false, json::error_handler_t::replace);  // paths may not be UTF-8
}

RunResult result_from_error(const Error& e) {
  RunResult r;
  r.status = e.kind == ErrorKind::internal ? Status::internal_error : Status::setup_error;
  r.message = e.what();
  r.error = launch::to_run_error(e);
  r.started_at = r.ended_at = std::chrono::system_clock::now();
  return r;
}

}  // namespace cell
