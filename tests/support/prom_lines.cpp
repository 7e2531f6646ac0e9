#include "support/prom_lines.hpp"

#include <cmath>
#include <cstdlib>

namespace fdb::test::prom::lines {

namespace {

bool name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':'; }
bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9'); }
bool label_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool label_char(char c) { return label_start(c) || (c >= '0' && c <= '9'); }

// One escape of a label value (after its backslash); nullopt for an unknown one.
std::optional<char> label_escape(char e) {
  if (e == '\\') return '\\';
  if (e == '"') return '"';
  if (e == 'n') return '\n';
  return std::nullopt;
}

}  // namespace

std::optional<std::string> read_name(std::string_view& s, bool label) {
  std::size_t i = 0;
  if (s.empty() || !(label ? label_start(s[0]) : name_start(s[0]))) return std::nullopt;
  while (i < s.size() && (label ? label_char(s[i]) : name_char(s[i]))) ++i;
  std::string out(s.substr(0, i));
  s.remove_prefix(i);
  return out;
}

std::optional<double> read_value(std::string_view s) {
  if (s == "+Inf" || s == "Inf") return HUGE_VAL;
  if (s == "-Inf") return -HUGE_VAL;
  if (s == "NaN") return NAN;
  if (s.empty()) return std::nullopt;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-')) return std::nullopt;
  std::string copy(s);
  char* end = nullptr;
  const double v = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size()) return std::nullopt;
  return v;
}

std::string unescape_help(std::string_view s, bool& ok) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    if (++i == s.size()) {
      ok = false;
      return out;
    }
    if (s[i] == '\\') out += '\\';
    else if (s[i] == 'n') out += '\n';
    else ok = false;
  }
  return out;
}

std::optional<std::string> read_label_value(std::string_view& s, std::string& why) {
  std::string value;
  while (!s.empty()) {
    const char c = s[0];
    s.remove_prefix(1);
    if (c == '"') return value;
    if (c == '\n') {
      why = "raw newline in a label value";
      return std::nullopt;
    }
    if (c != '\\') {
      value += c;
      continue;
    }
    if (s.empty()) break;
    const auto e = label_escape(s[0]);
    s.remove_prefix(1);
    if (!e) {
      why = "bad escape in a label value";
      return std::nullopt;
    }
    value += *e;
  }
  why = "unterminated label value";
  return std::nullopt;
}

bool read_label_set(std::string_view& s, std::map<std::string, std::string>& labels, std::string& why) {
  for (bool first = true;; first = false) {
    if (!s.empty() && s[0] == '}') {
      s.remove_prefix(1);
      return true;
    }
    if (!first) {
      if (s.empty() || s[0] != ',') {
        why = "',' or '}' expected in labels";
        return false;
      }
      s.remove_prefix(1);
      if (!s.empty() && s[0] == '}') {  // a trailing comma is allowed by the format
        s.remove_prefix(1);
        return true;
      }
    }
    auto label = read_name(s, true);
    if (!label) {
      why = "bad label name";
      return false;
    }
    if (s.size() < 2 || s[0] != '=' || s[1] != '"') {
      why = "=\" expected after label name";
      return false;
    }
    s.remove_prefix(2);
    auto value = read_label_value(s, why);
    if (!value) return false;
    if (!labels.emplace(*label, *value).second) {
      why = "duplicate label " + *label;
      return false;
    }
  }
}

std::optional<double> read_value_part(std::string_view s, std::string& why) {
  if (s.empty() || s[0] != ' ') {
    why = "a space and a value expected";
    return std::nullopt;
  }
  s.remove_prefix(1);
  // An optional timestamp follows the value; the bridge never writes one.
  if (s.find(' ') != std::string_view::npos) {
    why = "unexpected text after the value";
    return std::nullopt;
  }
  auto v = read_value(s);
  if (!v) why = "bad value";
  return v;
}

std::optional<Sample> parse_sample(std::string_view s, std::string& why) {
  Sample out;
  auto name = read_name(s, false);
  if (!name) {
    why = "bad metric name";
    return std::nullopt;
  }
  out.name = *name;
  if (!s.empty() && s[0] == '{') {
    s.remove_prefix(1);
    if (!read_label_set(s, out.labels, why)) return std::nullopt;
  }
  auto v = read_value_part(s, why);
  if (!v) return std::nullopt;
  out.value = *v;
  return out;
}

std::optional<Meta> parse_meta(std::string_view line, std::string& why) {
  std::string_view rest = line.substr(1);
  const bool help = rest.starts_with(" HELP ");
  const bool type = rest.starts_with(" TYPE ");
  if (!help && !type) return std::nullopt;  // a plain comment
  rest.remove_prefix(6);
  auto name = read_name(rest, false);
  if (!name || rest.empty() || rest[0] != ' ') {
    why = "bad HELP/TYPE line";
    return std::nullopt;
  }
  rest.remove_prefix(1);
  return Meta{help, *name, rest};
}

}  // namespace fdb::test::prom::lines
