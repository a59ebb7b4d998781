// A temporary directory removed (recursively) at scope exit.
#pragma once

#include <string>

namespace cell::test {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "cell-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  [[nodiscard]] const std::string& path() const { return path_; }
  // path() + "/" + rel
  [[nodiscard]] std::string sub(const std::string& rel) const { return path_ + "/" + rel; }
  // Writes `content` to path()/rel, creating parent directories.
  void write(const std::string& rel, const std::string& content, unsigned mode = 0644) const;
  [[nodiscard]] std::string read(const std::string& rel) const;

 private:
  std::string path_;
};

}  // namespace cell::test
