// On-disk cache of compiled seccomp programs: naming (build identity + policy hash), file
// format, and the checks that make a file trustworthy.

// The legacy SHA256_* calls: EVP's first digest initialises OpenSSL's providers and reads its
// configuration (0.5-0.9 ms here), more than the compile this cache saves; SHA256_Init does not.
#define OPENSSL_API_COMPAT 10101

#include "seccomp/cache_file.hpp"

#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <openssl/sha.h>
#include <seccomp.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <atomic>
#include <cell/version.hpp>
#include <cstring>
#include <vector>

#include "base/errno_names.hpp"
#include "base/io.hpp"
#include "base/unique_fd.hpp"

namespace cell::seccomp {
namespace {

constexpr char kMagic[8] = {'C', 'E', 'L', 'L', 'B', 'P', 'F', '\n'};
constexpr std::uint32_t kFormat = 1;
constexpr std::uint32_t kFlagNotify = 1;
constexpr std::uint32_t kMaxInstructions = 4096;  // BPF_MAXINSNS
constexpr int kMaxEntries = 64;                   // beyond this the directory is emptied
constexpr std::string_view kSuffix = ".bpf";

struct FileHeader {
  char magic[8];
  std::uint32_t format;
  std::uint32_t flags;
  std::uint32_t count;  // sock_filter entries after the header
  std::uint32_t reserved;
  char key[64];                   // the file's own name (hex), against a misplaced file
  unsigned char body_sha256[32];  // of the program, against a torn or damaged file
};

std::string hex(const unsigned char* p, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out += kDigits[p[i] >> 4];
    out += kDigits[p[i] & 15];
  }
  return out;
}

void sha256(const void* data, std::size_t len, unsigned char out[SHA256_DIGEST_LENGTH]) {
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, data, len);
  SHA256_Final(out, &ctx);
}

// The GNU build-id of the ELF object holding this code: it changes with every change of the
// code, so entries written by another build of cell are never read by this one.
struct BuildIdSearch {
  std::uintptr_t address;
  std::string id;
};

std::string note_build_id(const char* p, std::size_t size, std::size_t align) {
  std::size_t off = 0;
  const auto up = [align](std::size_t n) { return (n + align - 1) / align * align; };
  while (off + sizeof(ElfW(Nhdr)) <= size) {
    ElfW(Nhdr) n;
    std::memcpy(&n, p + off, sizeof n);
    const std::size_t name_at = off + sizeof n;
    const std::size_t desc_at = name_at + up(n.n_namesz);
    if (desc_at + n.n_descsz > size) break;
    if (n.n_type == NT_GNU_BUILD_ID && n.n_namesz == 4 && std::memcmp(p + name_at, "GNU", 4) == 0)
      return hex(reinterpret_cast<const unsigned char*>(p + desc_at), n.n_descsz);
    off = desc_at + up(n.n_descsz);
  }
  return "";
}

int visit_object(dl_phdr_info* info, std::size_t, void* data) {
  auto* search = static_cast<BuildIdSearch*>(data);
  bool ours = false;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    const std::uintptr_t start = info->dlpi_addr + ph.p_vaddr;
    if (ph.p_type == PT_LOAD && search->address >= start && search->address < start + ph.p_memsz)
      ours = true;
  }
  if (!ours) return 0;
  for (int i = 0; i < info->dlpi_phnum && search->id.empty(); ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_NOTE) continue;
    search->id = note_build_id(reinterpret_cast<const char*>(info->dlpi_addr + ph.p_vaddr),
                               ph.p_memsz, ph.p_align == 8 ? 8 : 4);
  }
  return 1;
}

const std::string& build_id() {
  static const std::string id = [] {
    BuildIdSearch s{reinterpret_cast<std::uintptr_t>(&visit_object), {}};
    ::dl_iterate_phdr(visit_object, &s);
    return s.id;
  }();
  return id;
}

}  // namespace

const std::string& cache_environment() {
  static const std::string env = [] {
    if (build_id().empty()) return std::string();
    const scmp_version* v = seccomp_version();
    utsname u{};
    ::uname(&u);
    return std::string("cell ") + kVersion + " build " + build_id() + " libseccomp " +
           std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
           std::to_string(v->micro) + " kernel " + u.release + " " + u.machine;
  }();
  return env;
}

namespace {

// Only the caller's own uid may have written it: owned by the euid, not group/other-writable.
bool trusted(const struct stat& st) {
  return st.st_uid == ::geteuid() && (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

UniqueFd open_trusted_dir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  struct stat st {};
  if (!fd.valid() || ::fstat(fd.get(), &st) != 0 || !S_ISDIR(st.st_mode) || !trusted(st))
    return UniqueFd();
  return fd;
}

// Removes every entry (and leftover temp file) when there are too many: a cache, not a store.
void prune(int dir_fd) {
  UniqueFd copy(::dup(dir_fd));
  if (!copy.valid()) return;
  DIR* d = ::fdopendir(copy.release());
  if (d == nullptr) return;
  std::vector<std::string> names;
  while (const dirent* e = ::readdir(d))
    if (e->d_name[0] != '.' || std::strncmp(e->d_name, ".tmp-", 5) == 0)
      names.emplace_back(e->d_name);
  ::closedir(d);
  if (static_cast<int>(names.size()) < kMaxEntries) return;
  for (const std::string& n : names) ::unlinkat(dir_fd, n.c_str(), 0);
}

Error write_error(const std::string& what, const std::string& path) {
  return Error::make(ErrorKind::io,
                     "seccomp cache: " + what + " " + path + ": " + errno_describe(errno), errno);
}

}  // namespace

std::string cache_key(std::string_view canonical_policy, const CompileOptions& opts) {
  if (cache_environment().empty()) return "";
  std::string text = cache_environment();
  text += opts.notify_kills ? " notify\n" : " kill\n";
  text.append(canonical_policy);
  return sha256_hex(text);
}

std::string sha256_hex(std::string_view text) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  sha256(text.data(), text.size(), md);
  return hex(md, sizeof md);
}

std::optional<std::string> read_private_file(const std::string& dir, const std::string& name,
                                             std::size_t max_bytes) {
  const UniqueFd dfd = open_trusted_dir(dir);
  if (!dfd.valid()) return std::nullopt;
  const UniqueFd fd(
      ::openat(dfd.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  struct stat st {};
  if (!fd.valid() || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || !trusted(st) ||
      static_cast<std::size_t>(st.st_size) > max_bytes)
    return std::nullopt;
  std::string buf(static_cast<std::size_t>(st.st_size), '\0');
  if (read_full(fd.get(), buf.data(), buf.size()) != static_cast<ssize_t>(buf.size()))
    return std::nullopt;
  return buf;
}

Result<void> write_private_file(const std::string& dir, const std::string& name,
                                std::string_view bytes) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return write_error("cannot create", dir);
  const UniqueFd dfd = open_trusted_dir(dir);
  if (!dfd.valid())
    return Error::make(ErrorKind::io,
                       "cache: " + dir + " is not a directory only this user can write");
  prune(dfd.get());
  static std::atomic<unsigned> counter{0};
  const std::string tmp = ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  UniqueFd fd(
      ::openat(dfd.get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid()) return write_error("cannot create", dir + "/" + tmp);
  const bool written = write_full(fd.get(), bytes.data(), bytes.size()) == 0;
  fd.reset();
  if (!written || ::renameat(dfd.get(), tmp.c_str(), dfd.get(), name.c_str()) != 0) {
    Error e = write_error("cannot write", dir + "/" + name);
    ::unlinkat(dfd.get(), tmp.c_str(), 0);
    return e;
  }
  return {};
}

std::optional<CompiledFilter> read_cache_file(const std::string& dir, const std::string& key) {
  if (key.size() != sizeof(FileHeader::key)) return std::nullopt;
  const std::optional<std::string> file = read_private_file(
      dir, key + std::string(kSuffix), sizeof(FileHeader) + kMaxInstructions * sizeof(sock_filter));
  if (!file) return std::nullopt;
  const std::size_t size = file->size();
  if (size <= sizeof(FileHeader) || (size - sizeof(FileHeader)) % sizeof(sock_filter) != 0)
    return std::nullopt;
  FileHeader h;
  std::memcpy(&h, file->data(), sizeof h);
  const std::size_t count = (size - sizeof h) / sizeof(sock_filter);
  if (std::memcmp(h.magic, kMagic, sizeof kMagic) != 0 || h.format != kFormat || h.count != count ||
      (h.flags & ~kFlagNotify) != 0 || h.reserved != 0 ||
      std::memcmp(h.key, key.data(), sizeof h.key) != 0)
    return std::nullopt;
  unsigned char md[SHA256_DIGEST_LENGTH];
  sha256(file->data() + sizeof h, size - sizeof h, md);
  if (std::memcmp(md, h.body_sha256, sizeof md) != 0) return std::nullopt;
  CompiledFilter f;
  f.program.resize(count);
  std::memcpy(f.program.data(), file->data() + sizeof h, size - sizeof h);
  f.notify = (h.flags & kFlagNotify) != 0;
  return f;
}

Result<void> write_cache_file(const std::string& dir, const std::string& key,
                              const CompiledFilter& filter) {
  if (key.size() != sizeof(FileHeader::key) || filter.program.empty() ||
      filter.program.size() > kMaxInstructions)
    return Error::make(ErrorKind::internal, "seccomp cache: nothing to write for " + key);
  FileHeader h{};
  std::memcpy(h.magic, kMagic, sizeof kMagic);
  h.format = kFormat;
  h.flags = filter.notify ? kFlagNotify : 0;
  h.count = static_cast<std::uint32_t>(filter.program.size());
  std::memcpy(h.key, key.data(), sizeof h.key);
  const std::size_t body = filter.program.size() * sizeof(sock_filter);
  sha256(filter.program.data(), body, h.body_sha256);
  std::string bytes(reinterpret_cast<const char*>(&h), sizeof h);
  bytes.append(reinterpret_cast<const char*>(filter.program.data()), body);
  return write_private_file(dir, key + std::string(kSuffix), bytes);
}

}  // namespace cell::seccomp
