// Compiled seccomp programs kept on disk between `cell run` invocations, so that a new process
// loads a few KB instead of compiling the policy again with libseccomp (~0.45 ms).
//
// A file is only ever a hint: anything unexpected (missing, foreign owner, writable by others,
// bad magic, version, size or checksum) means "compile again". Only files the caller's own uid
// wrote are trusted, in a directory only that uid can write.
#pragma once

#include <cell/error.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "seccomp/seccomp.hpp"

namespace cell::seccomp {

// Generic parts, shared with the profile parse cache (config/profile_cache.hpp).
// sha256 of `text`, as 64 lowercase hex digits.
std::string sha256_hex(std::string_view text);
// What decides the bytes any cache entry holds besides its input: this build of cell (GNU
// build-id), libseccomp, kernel release and machine. Empty when the build has no build-id:
// caches are then off, since their entries could outlive a change of the code.
const std::string& cache_environment();
// The content of dir/name if the directory and the file are the caller's own (owned by the
// euid, not group/other-writable, no symlink) and at most `max_bytes` long; else nullopt.
std::optional<std::string> read_private_file(const std::string& dir, const std::string& name,
                                             std::size_t max_bytes);
// Writes dir/name atomically (temp file + rename), mode 0600, creating dir with 0700. When
// dir already holds many entries they are removed first, so a cache stays small.
Result<void> write_private_file(const std::string& dir, const std::string& name,
                                std::string_view bytes);

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
