// Errors are values: every fallible public call returns cell::Result<T>.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace cell {

enum class ErrorKind {
  usage,        // bad request: a flag, a path, a value the caller gave
  config,       // a profile file that does not validate
  setup,        // the sandbox could not be built (a named setup step failed)
  unsupported,  // the host cannot provide what was asked (no userns, no cgroup)
  not_found,    // an image, profile or session that does not exist
  io,           // reading or writing a file of cell's own failed
  internal,     // a bug or an unexpected host failure
};

std::string_view to_string(ErrorKind kind) noexcept;

struct Error {
  ErrorKind kind = ErrorKind::internal;
  std::string message;  // one line, names the failing step/object and the problem
  std::string step;     // setup step name from the launcher's step table, if any
  int sys_errno = 0;    // errno of the failing syscall, 0 if none
  std::string hint;     // what the user can do about it, may be empty

  // message + "; hint: " + hint
  [[nodiscard]] std::string what() const;

  static Error make(ErrorKind kind, std::string message, int sys_errno = 0) {
    Error e;
    e.kind = kind;
    e.message = std::move(message);
    e.sys_errno = sys_errno;
    return e;
  }
};

// A small expected-like type (C++20: no std::expected in g++ 12 / clang 14).
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}              // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}          // NOLINT
  [[nodiscard]] bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : err_(std::move(error)), failed_(true) {}  // NOLINT
  [[nodiscard]] bool ok() const noexcept { return !failed_; }
  explicit operator bool() const noexcept { return ok(); }
  const Error& error() const& { return err_; }
  Error&& error() && { return std::move(err_); }

 private:
  Error err_;
  bool failed_ = false;
};

// Propagates an error from a Result-returning expression.
#define CELL_TRY(expr)                                   \
  do {                                                   \
    if (auto cell_try_r_ = (expr); !cell_try_r_.ok())    \
      return std::move(cell_try_r_).error();             \
  } while (0)

}  // namespace cell
