// Cancelling an import (ImportOptions::cancel): the importer checks the flag between archive
// members, tar entries and blob chunks, and stops with the error below; its work directory
// goes with it.
#pragma once

#include <cell/error.hpp>

#include <atomic>
#include <cerrno>

namespace cell::image {

inline bool cancelled(const std::atomic<bool>* flag) noexcept {
  return flag != nullptr && flag->load(std::memory_order_relaxed);
}

inline Error interrupted() {
  return Error::make(ErrorKind::io, "import interrupted", EINTR);
}

}  // namespace cell::image
