#include "config/yaml_reader.hpp"

#include <cell/units.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <set>

#include "base/strings.hpp"
#include "config/suggest.hpp"

namespace cell::config {
namespace {

// A file can hold a million mistakes; a message needs only the first ones.
constexpr std::size_t kMaxProblems = 100;

std::string join_path(const std::string& base, std::string_view key) {
  return base.empty() ? std::string(key) : base + "." + std::string(key);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Pos pos_of_mark(const YAML::Mark& m) {
  if (m.line < 0 || m.column < 0) return {};
  return {m.line + 1, m.column + 1};
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c));
  });
}

// The line of a "---" that starts a second document, or 0. A "---" before any content only
// opens the first one.
int second_document_line(std::string_view text) {
  bool content = false;
  int line = 0;
  for (const std::string& l : split(text, '\n')) {
    ++line;
    const bool marker = l.rfind("---", 0) == 0 && (l.size() == 3 || l[3] == ' ' || l[3] == '\r');
    if (marker && content) return line;
    const std::string_view t = trim(l);
    if (!marker && !t.empty() && t[0] != '#' && t[0] != '%') content = true;
  }
  return 0;
}

}  // namespace

Pos pos_of(const YAML::Node& n) {
  return n.IsDefined() ? pos_of_mark(n.Mark()) : Pos{};
}

std::string to_string(Pos p) {
  return std::to_string(p.line) + ":" + std::to_string(p.col);
}

void Diagnostics::add(Pos at, std::string_view path, std::string_view problem) {
  std::string text = file_;
  if (at.line > 0) text += ":" + to_string(at);
  text += ": ";
  if (!path.empty()) text += std::string(path) + ": ";
  text += problem;
  items_.push_back({at, items_.size(), std::move(text)});
}

std::vector<std::string> Diagnostics::lines() const {
  std::vector<Item> sorted = items_;
  std::stable_sort(sorted.begin(), sorted.end(), [](const Item& a, const Item& b) {
    if (a.pos.line != b.pos.line) return a.pos.line < b.pos.line;
    return a.pos.col < b.pos.col;
  });
  std::vector<std::string> out;
  for (const Item& i : sorted) {
    if (out.size() == kMaxProblems) {
      out.push_back("... and " + std::to_string(sorted.size() - kMaxProblems) + " more problems");
      break;
    }
    out.push_back(i.text);
  }
  return out;
}

Error Diagnostics::to_error() const {
  std::string msg;
  for (const std::string& line : lines()) {
    if (!msg.empty()) msg += '\n';
    msg += line;
  }
  return Error::make(ErrorKind::config, std::move(msg));
}

std::string describe(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return "null";
  if (n.IsMap()) return "a mapping";
  if (n.IsSequence()) return "a list";
  std::string s = n.Scalar();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return "'" + s + "'";
}

Field::Field(YAML::Node node, std::string path, Pos pos, Diagnostics& diag)
    : node_(std::move(node)), path_(std::move(path)), pos_(pos), diag_(&diag) {
  diag_->positions[path_] = pos_;
}

void Field::type_error(std::string_view what) const {
  error("expected " + std::string(what) + ", got " + describe(node_));
}

Field Field::child(const YAML::Node& value, const YAML::Node& key, std::string path) const {
  // A null value has no useful mark of its own: point at its key.
  Pos p = value.IsNull() ? pos_of(key) : pos_of(value);
  if (p.line == 0) p = pos_of(key);
  return Field(value, std::move(path), p, *diag_);
}

bool Field::expect_map() const {
  if (node_.IsMap()) return true;
  type_error("a mapping");
  return false;
}

void Field::check_keys(std::initializer_list<std::string_view> known) const {
  if (!node_.IsMap()) return;
  std::map<std::string, Pos> seen;
  for (const auto& kv : node_) {
    const YAML::Node key = kv.first;
    if (!key.IsScalar()) {
      diag_->add(pos_of(key), path_, "keys must be plain names, got " + describe(key));
      continue;
    }
    const std::string& name = key.Scalar();
    const std::string path = join_path(path_, name);
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      diag_->add(pos_of(key), path, "unknown key" + did_you_mean(name, known));
      continue;
    }
    if (auto [at, fresh] = seen.emplace(name, pos_of(key)); !fresh)
      diag_->add(pos_of(key), path, "duplicate key (first at " + to_string(at->second) + ")");
  }
}

std::optional<Field> Field::get(std::string_view key) const {
  if (!node_.IsMap()) return std::nullopt;
  for (const auto& kv : node_) {
    const YAML::Node k = kv.first;
    const YAML::Node v = kv.second;
    if (!k.IsScalar() || k.Scalar() != key) continue;
    if (v.IsNull()) return std::nullopt;
    return child(v, k, join_path(path_, key));
  }
  return std::nullopt;
}

std::vector<std::pair<Field, Field>> Field::entries() const {
  std::vector<std::pair<Field, Field>> out;
  if (!expect_map()) return out;
  std::map<std::string, Pos> seen;
  for (const auto& kv : node_) {
    const YAML::Node key = kv.first;
    if (!key.IsScalar()) {
      diag_->add(pos_of(key), path_, "keys must be plain names, got " + describe(key));
      continue;
    }
    const std::string path = join_path(path_, key.Scalar());
    if (auto [at, fresh] = seen.emplace(key.Scalar(), pos_of(key)); !fresh) {
      diag_->add(pos_of(key), path, "duplicate key (first at " + to_string(at->second) + ")");
      continue;
    }
    out.emplace_back(Field(key, path, pos_of(key), *diag_), child(kv.second, key, path));
  }
  return out;
}

std::optional<std::vector<Field>> Field::items() const {
  if (!node_.IsSequence()) {
    type_error("a list");
    return std::nullopt;
  }
  std::vector<Field> out;
  std::size_t i = 0;
  for (const auto& item : node_) {
    const YAML::Node n = item;
    Pos p = pos_of(n);
    if (p.line == 0) p = pos_;
    out.emplace_back(n, path_ + "[" + std::to_string(i++) + "]", p, *diag_);
  }
  return out;
}

std::optional<std::string> Field::string() const {
  if (!node_.IsScalar()) {
    type_error("a string");
    return std::nullopt;
  }
  return node_.Scalar();
}

std::optional<bool> Field::boolean() const {
  if (node_.IsScalar()) {
    const std::string s = lower(node_.Scalar());
    if (s == "true" || s == "yes" || s == "on") return true;
    if (s == "false" || s == "no" || s == "off") return false;
  }
  type_error("true or false");
  return std::nullopt;
}

std::optional<std::uint64_t> Field::whole(std::uint64_t min, std::uint64_t max) const {
  if (!node_.IsScalar() || !all_digits(node_.Scalar())) {
    type_error("a whole number");
    return std::nullopt;
  }
  errno = 0;
  const unsigned long long v = std::strtoull(node_.Scalar().c_str(), nullptr, 10);
  if (errno == ERANGE || v < min || v > max) {
    error("'" + node_.Scalar() + "' is out of range (" + std::to_string(min) + " to " +
          std::to_string(max) + ")");
    return std::nullopt;
  }
  return v;
}

std::optional<double> Field::number() const {
  if (node_.IsScalar() && !node_.Scalar().empty()) {
    const std::string& s = node_.Scalar();
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (end == s.c_str() + s.size() && std::isfinite(v)) return v;
  }
  type_error("a number");
  return std::nullopt;
}

std::optional<std::uint64_t> Field::size() const {
  if (!node_.IsScalar()) {
    type_error("a size (e.g. 256M)");
    return std::nullopt;
  }
  std::string why;
  auto v = parse_size(node_.Scalar(), why);
  if (!v) error("'" + node_.Scalar() + "' " + why);
  return v;
}

std::optional<Nanos> Field::duration() const {
  if (!node_.IsScalar()) {
    type_error("a duration (e.g. 1.5s)");
    return std::nullopt;
  }
  std::string why;
  auto v = parse_duration(node_.Scalar(), why);
  if (!v) error("'" + node_.Scalar() + "' " + why);
  return v;
}

std::optional<YAML::Node> load_document(std::string_view text, Diagnostics& diag) {
  try {
    // Not LoadAll: yaml-cpp 0.7's LoadAll loops forever, allocating, on a stray ',' at the top
    // level. Load reads one document; a second one is found by its marker instead.
    if (const int line = second_document_line(text); line > 0)
      diag.add({line, 1}, "", "a profile holds one YAML document");
    return YAML::Load(std::string(text));
  } catch (const YAML::DeepRecursion& e) {
    diag.add(pos_of_mark(e.mark), "", "YAML nesting is too deep");
  } catch (const YAML::ParserException& e) {
    diag.add(pos_of_mark(e.mark), "", "YAML syntax error: " + e.msg);
  } catch (const std::exception& e) {
    diag.add({}, "", std::string("cannot read YAML: ") + e.what());
  }
  return std::nullopt;
}

}  // namespace cell::config
