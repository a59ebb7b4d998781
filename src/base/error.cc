#include <cell/error.hpp>

namespace cell {

std::string_view to_string(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::usage: return "usage";
    case ErrorKind::config: return "config";
    case ErrorKind::setup: return "setup";
    case ErrorKind::unsupported: return "unsupported";
    case ErrorKind::not_found: return "not_found";
    case ErrorKind::io: return "io";
    case ErrorKind::internal: return "internal";
  }
  return "internal";
}

std::string Error::what() const {
  if (hint.empty()) return message;
  return message + "; hint: " + hint;
}

}  // namespace cell
