// Typed access to a parsed YAML document that remembers where every value came from: its key
// path ("limits.memory", "mounts[1].target") and line:col. Problems are collected, never thrown,
// so a file's mistakes are all reported at once.
#pragma once

#include <cell/error.hpp>
#include <cell/profile.hpp>

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cell::config {

// 1-based; line 0 means "no position known".
struct Pos {
  int line = 0;
  int col = 0;
};

Pos pos_of(const YAML::Node& n);
// "12:5"
std::string to_string(Pos p);

// The collected problems of one file, each "FILE:LINE:COL: key.path: problem".
class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}

  void add(Pos at, std::string_view path, std::string_view problem);
  [[nodiscard]] bool empty() const { return items_.empty(); }
  [[nodiscard]] const std::string& file() const { return file_; }
  // Every problem in file order, joined by '\n', as an ErrorKind::config error.
  [[nodiscard]] Error to_error() const;
  [[nodiscard]] std::vector<std::string> lines() const;

  // Where each value that was read came from, by key path; cross-field rules point there.
  std::map<std::string, Pos> positions;

 private:
  struct Item {
    Pos pos;
    std::size_t seq;
    std::string text;
  };
  std::string file_;
  std::vector<Item> items_;
};

// "a mapping", "a sequence", "null", "'abc'" — for "expected X, got Y".
std::string describe(const YAML::Node& n);

// One YAML value with its key path and position.
class Field {
 public:
  Field(YAML::Node node, std::string path, Pos pos, Diagnostics& diag);

  [[nodiscard]] const YAML::Node& node() const { return node_; }
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] Pos pos() const { return pos_; }
  [[nodiscard]] Diagnostics& diag() const { return *diag_; }
  [[nodiscard]] bool is_null() const { return !node_.IsDefined() || node_.IsNull(); }

  void error(std::string_view problem) const { diag_->add(pos_, path_, problem); }
  // "expected <what>, got <describe(node)>"
  void type_error(std::string_view what) const;

  // Mappings. Reports a type error and returns false when this is not a mapping.
  bool expect_map() const;
  // Reports unknown keys (with a suggestion), duplicate keys and non-string keys.
  void check_keys(std::initializer_list<std::string_view> known) const;
  // The value under `key`; nullopt when absent or null (null means "not set").
  [[nodiscard]] std::optional<Field> get(std::string_view key) const;
  // Every (key, value) pair in document order, duplicates reported; for free-form maps (env).
  [[nodiscard]] std::vector<std::pair<Field, Field>> entries() const;

  // Sequences. nullopt (and a type error) when this is not a sequence.
  [[nodiscard]] std::optional<std::vector<Field>> items() const;

  // Scalars; each reports its own problem and returns nullopt.
  [[nodiscard]] std::optional<std::string> string() const;
  [[nodiscard]] std::optional<bool> boolean() const;
  [[nodiscard]] std::optional<std::uint64_t> whole(std::uint64_t min, std::uint64_t max) const;
  [[nodiscard]] std::optional<double> number() const;
  [[nodiscard]] std::optional<std::uint64_t> size() const;
  [[nodiscard]] std::optional<Nanos> duration() const;

 private:
  [[nodiscard]] Field child(const YAML::Node& value, const YAML::Node& key, std::string path) const;

  YAML::Node node_;
  std::string path_;
  Pos pos_;
  Diagnostics* diag_;
};

// Parses `text` into a document; a syntax error is reported to `diag` and yields nullopt.
std::optional<YAML::Node> load_document(std::string_view text, Diagnostics& diag);

}  // namespace cell::config
