// A strict reader of the Prometheus text format 0.0.4 for tests: it parses every line
// (HELP, TYPE, comments, samples), unescapes label values, and checks the structure rules
// a scraper relies on. Any violation is reported as an error string naming the line.
#pragma once

#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace fdb::test::prom {

struct Sample {
  std::string name;                           // full name, e.g. x_bucket
  std::map<std::string, std::string> labels;  // unescaped values
  double value = 0;
};

struct Family {
  std::string name;
  std::string type;  // counter, gauge, histogram, summary, untyped
  std::string help;  // unescaped
  std::vector<Sample> samples;
};

struct Exposition {
  std::vector<Family> families;  // in order of appearance
  std::vector<std::string> errors;

  const Family* find(std::string_view name) const {
    for (const auto& f : families)
      if (f.name == name) return &f;
    return nullptr;
  }
};

namespace detail {

inline bool name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':'; }
inline bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9'); }
inline bool label_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
inline bool label_char(char c) { return label_start(c) || (c >= '0' && c <= '9'); }

inline std::optional<std::string> read_name(std::string_view& s, bool label) {
  std::size_t i = 0;
  if (s.empty() || !(label ? label_start(s[0]) : name_start(s[0]))) return std::nullopt;
  while (i < s.size() && (label ? label_char(s[i]) : name_char(s[i]))) ++i;
  std::string out(s.substr(0, i));
  s.remove_prefix(i);
  return out;
}

// Go's strconv.ParseFloat accepts these spellings of the special values.
inline std::optional<double> read_value(std::string_view s) {
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

inline std::string unescape_help(std::string_view s, bool& ok) {
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

// Parses `name{a="x",b="y"} value`.
inline std::optional<Sample> parse_sample(std::string_view s, std::string& why) {
  Sample out;
  auto name = read_name(s, false);
  if (!name) {
    why = "bad metric name";
    return std::nullopt;
  }
  out.name = *name;
  if (!s.empty() && s[0] == '{') {
    s.remove_prefix(1);
    bool first = true;
    while (true) {
      if (!s.empty() && s[0] == '}') {
        s.remove_prefix(1);
        break;
      }
      if (!first) {
        if (s.empty() || s[0] != ',') {
          why = "',' or '}' expected in labels";
          return std::nullopt;
        }
        s.remove_prefix(1);
        if (!s.empty() && s[0] == '}') {  // a trailing comma is allowed by the format
          s.remove_prefix(1);
          break;
        }
      }
      first = false;
      auto label = read_name(s, true);
      if (!label) {
        why = "bad label name";
        return std::nullopt;
      }
      if (s.size() < 2 || s[0] != '=' || s[1] != '"') {
        why = "=\" expected after label name";
        return std::nullopt;
      }
      s.remove_prefix(2);
      std::string value;
      bool closed = false;
      while (!s.empty()) {
        const char c = s[0];
        s.remove_prefix(1);
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\n') {
          why = "raw newline in a label value";
          return std::nullopt;
        }
        if (c == '\\') {
          if (s.empty()) break;
          const char e = s[0];
          s.remove_prefix(1);
          if (e == '\\') value += '\\';
          else if (e == '"') value += '"';
          else if (e == 'n') value += '\n';
          else {
            why = "bad escape in a label value";
            return std::nullopt;
          }
        } else {
          value += c;
        }
      }
      if (!closed) {
        why = "unterminated label value";
        return std::nullopt;
      }
      if (!out.labels.emplace(*label, value).second) {
        why = "duplicate label " + *label;
        return std::nullopt;
      }
    }
  }
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
  if (!v) {
    why = "bad value";
    return std::nullopt;
  }
  out.value = *v;
  return out;
}

inline std::string labels_without_le(const Sample& s) {
  std::string key;
  for (const auto& [k, v] : s.labels)
    if (k != "le") key += k + "=" + v + ";";
  return key;
}

inline void check_histogram(const Family& f, std::vector<std::string>& errors) {
  struct Series {
    std::vector<std::pair<double, double>> buckets;  // le, cumulative count
    std::optional<double> sum, count;
  };
  std::map<std::string, Series> series;
  for (const auto& s : f.samples) {
    auto& ser = series[labels_without_le(s)];
    if (s.name == f.name + "_bucket") {
      auto it = s.labels.find("le");
      if (it == s.labels.end()) {
        errors.push_back(f.name + ": bucket without le");
        continue;
      }
      auto le = read_value(it->second);
      if (!le) {
        errors.push_back(f.name + ": bad le " + it->second);
        continue;
      }
      ser.buckets.emplace_back(*le, s.value);
    } else if (s.name == f.name + "_sum") {
      ser.sum = s.value;
    } else if (s.name == f.name + "_count") {
      ser.count = s.value;
    } else {
      errors.push_back(f.name + ": unexpected sample " + s.name);
    }
  }
  for (const auto& [key, ser] : series) {
    const std::string where = f.name + "{" + key + "}";
    if (ser.buckets.empty()) {
      errors.push_back(where + ": no buckets");
      continue;
    }
    for (std::size_t i = 1; i < ser.buckets.size(); ++i) {
      if (!(ser.buckets[i - 1].first < ser.buckets[i].first)) errors.push_back(where + ": le not increasing");
      if (ser.buckets[i - 1].second > ser.buckets[i].second) errors.push_back(where + ": buckets not cumulative");
    }
    if (!std::isinf(ser.buckets.back().first) || ser.buckets.back().first < 0)
      errors.push_back(where + ": the last bucket is not le=\"+Inf\"");
    if (!ser.sum) errors.push_back(where + ": no _sum");
    if (!ser.count) errors.push_back(where + ": no _count");
    else if (*ser.count != ser.buckets.back().second) errors.push_back(where + ": _count differs from the +Inf bucket");
  }
}

}  // namespace detail

inline Exposition parse(std::string_view text) {
  Exposition out;
  std::set<std::string> closed;  // families whose samples ended (samples must be grouped)
  std::string current;  // the family whose lines come now
  std::size_t line_no = 0;
  auto error = [&](const std::string& why) { out.errors.push_back("line " + std::to_string(line_no) + ": " + why); };
  auto family_of = [&](const std::string& name) -> Family* {
    for (auto& f : out.families)
      if (f.name == name) return &f;
    return nullptr;
  };
  if (!text.empty() && text.back() != '\n') out.errors.push_back("the last line does not end with a newline");
  while (!text.empty()) {
    ++line_no;
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::string_view rest = line.substr(1);
      const bool help = rest.starts_with(" HELP ");
      const bool type = rest.starts_with(" TYPE ");
      if (!help && !type) continue;  // a plain comment
      rest.remove_prefix(6);
      auto name = detail::read_name(rest, false);
      if (!name || rest.empty() || rest[0] != ' ') {
        error("bad HELP/TYPE line");
        continue;
      }
      rest.remove_prefix(1);
      Family* f = family_of(*name);
      if (!f) {
        if (!current.empty()) closed.insert(current);
        out.families.push_back(Family{*name, "", "", {}});
        f = &out.families.back();
        current = *name;
      } else if (f->name != current) {
        error("HELP/TYPE of " + *name + " away from its family");
      }
      if (help) {
        if (!f->help.empty()) error("second HELP for " + *name);
        bool ok = true;
        f->help = detail::unescape_help(rest, ok);
        if (!ok) error("bad escape in HELP of " + *name);
      } else {
        static const std::set<std::string_view> types{"counter", "gauge", "histogram", "summary", "untyped"};
        if (!f->type.empty()) error("second TYPE for " + *name);
        if (!f->samples.empty()) error("TYPE after samples of " + *name);
        if (!types.count(rest)) error("unknown type " + std::string(rest));
        f->type = std::string(rest);
      }
      continue;
    }
    std::string why;
    auto sample = detail::parse_sample(line, why);
    if (!sample) {
      error(why + ": " + std::string(line));
      continue;
    }
    // The family a sample belongs to: its own name, or a histogram's suffixed names.
    std::string fname = sample->name;
    if (!family_of(fname)) {
      for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
        if (fname.size() > suffix.size() && fname.ends_with(suffix)) {
          const auto base = fname.substr(0, fname.size() - suffix.size());
          if (auto* f = family_of(base); f && (f->type == "histogram" || f->type == "summary")) {
            fname = base;
            break;
          }
        }
      }
    }
    Family* f = family_of(fname);
    if (!f) {
      error("sample of undeclared family " + sample->name);
      continue;
    }
    if (f->name != current || closed.count(f->name)) error("samples of " + f->name + " are not grouped");
    if (f->type.empty()) error("sample before TYPE of " + f->name);
    if (f->type == "histogram" && sample->name == f->name) error("histogram sample without suffix");
    if (f->type == "counter" && (sample->value < 0 || std::isnan(sample->value)))
      error("negative or NaN counter " + sample->name);
    f->samples.push_back(std::move(*sample));
  }
  for (const auto& f : out.families) {
    if (f.type.empty()) out.errors.push_back(f.name + ": no TYPE");
    if (f.type == "histogram") detail::check_histogram(f, out.errors);
    // No two samples with the same name and labels.
    std::set<std::string> seen;
    for (const auto& s : f.samples) {
      std::string key = s.name;
      for (const auto& [k, v] : s.labels) key += "|" + k + "=" + v;
      if (!seen.insert(key).second) out.errors.push_back(f.name + ": duplicate sample " + key);
    }
  }
  return out;
}

}  // namespace fdb::test::prom
