// Compiled seccomp programs kept on disk between `cell run` invocations, so that a new process
// loads a few KB instead of compiling the policy again with libseccomp (~0.45 ms).
//
// A file is only ever a hint: anything unexpected (missing, foreign owner, writable by others,
// bad magic, version, size or checksum) means "compile again". Only files the caller's own uid
// wrote are trusted, in a directory only that uid can write.
#pragma once

#include <cell/error.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "seccomp/seccomp.hpp"

namespace cell::seccomp {

// The name of a compiled program: sha256 (hex) over the canonical policy text and everything
// else that decides the program's bytes: this build of cell (its GNU build-id), the libseccomp
// version, the kernel release, the architecture and the compile options. Empty when this build
// has no build-id (the disk cache is then not used: its entries could outlive a code change).
std::string cache_key(std::string_view canonical_policy, const CompileOptions& opts);

// Reads dir/<key>.bpf; nullopt on any problem.
std::optional<CompiledFilter> read_cache_file(const std::string& dir, const std::string& key);

// Writes dir/<key>.bpf atomically (temp file + rename), mode 0600, creating dir with 0700.
// When dir already holds many entries they are removed first, so the cache stays small.
Result<void> write_cache_file(const std::string& dir, const std::string& key,
                              const CompiledFilter& filter);

}  // namespace cell::seccomp
