#include "base/strings.hpp"

namespace cell {

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t pos = s.find(sep, start);
    out.emplace_back(s.substr(start, pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool starts_with(std::string_view s, std::string_view prefix) noexcept {
  return s.substr(0, prefix.size()) == prefix;
}

std::string quote(std::string_view s) {
  bool plain = !s.empty();
  for (char c : s)
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '.' || c == '-' || c == '_' ||
          c == ':' || c == '=' || c == ',' || c == '+' || c == '@'))
      plain = false;
  if (plain) return std::string(s);
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

bool normalize_abs_path(std::string_view in, std::string& out, std::string& why) {
  if (in.empty() || in.front() != '/') {
    why = "must be an absolute path";
    return false;
  }
  out.clear();
  for (const std::string& part : split(in, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      why = "must not contain '..'";
      return false;
    }
    out += '/';
    out += part;
  }
  if (out.empty()) out = "/";
  return true;
}

}  // namespace cell
