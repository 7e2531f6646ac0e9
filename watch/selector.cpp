// Label selector parsing and matching, following k8s.io/apimachinery/pkg/labels.
#include "watch/selector.hpp"

#include <algorithm>
#include <cctype>

namespace fdb::kube {
namespace {

bool is_key_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.' || c == '/';
}

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  std::vector<Requirement> parse() {
    std::vector<Requirement> out;
    skip_ws();
    if (pos_ == s_.size()) return out;
    for (;;) {
      out.push_back(requirement());
      skip_ws();
      if (pos_ == s_.size()) break;
      expect(',', "',' or end of selector");
    }
    return out;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw SelectorError("label selector \"" + std::string(s_) + "\": at position " + std::to_string(pos_) +
                        ": expected " + what);
  }
  void skip_ws() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_])) != 0) ++pos_;
  }
  void expect(char c, const std::string& what) {
    skip_ws();
    if (pos_ >= s_.size() || s_[pos_] != c) fail(what);
    ++pos_;
  }
  std::string word(const std::string& what, bool allow_empty) {
    skip_ws();
    std::size_t b = pos_;
    while (pos_ < s_.size() && is_key_char(s_[pos_])) ++pos_;
    if (pos_ == b && !allow_empty) fail(what);
    return std::string(s_.substr(b, pos_ - b));
  }
  bool keyword(std::string_view kw) {
    skip_ws();
    if (s_.substr(pos_, kw.size()) != kw) return false;
    std::size_t end = pos_ + kw.size();
    if (end < s_.size() && is_key_char(s_[end])) return false;
    pos_ = end;
    return true;
  }
  static void validate_key(const std::string& key, const Parser& p) {
    // [prefix/]name, name at most 63 characters, alphanumeric at both ends.
    auto slash = key.find('/');
    std::string_view name = slash == std::string::npos ? std::string_view(key) : std::string_view(key).substr(slash + 1);
    if (slash != std::string::npos && (slash == 0 || slash > 253 || key.find('/', slash + 1) != std::string::npos))
      p.fail("a valid label key prefix");
    if (name.empty() || name.size() > 63 || std::isalnum(static_cast<unsigned char>(name.front())) == 0 ||
        std::isalnum(static_cast<unsigned char>(name.back())) == 0)
      p.fail("a valid label key (got \"" + key + "\")");
  }
  static void validate_value(const std::string& v, const Parser& p) {
    if (v.empty()) return;
    if (v.size() > 63 || v.find('/') != std::string::npos || std::isalnum(static_cast<unsigned char>(v.front())) == 0 ||
        std::isalnum(static_cast<unsigned char>(v.back())) == 0)
      p.fail("a valid label value (got \"" + v + "\")");
  }
  std::vector<std::string> value_set() {
    expect('(', "'('");
    std::vector<std::string> vals;
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == ')') {
      // "()" is the set of the empty value, as in apimachinery (and how {""} prints).
      ++pos_;
      return {std::string()};
    }
    for (;;) {
      std::string v = word("a value", true);
      validate_value(v, *this);
      vals.push_back(std::move(v));
      skip_ws();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      expect(')', "',' or ')'");
      break;
    }
    std::sort(vals.begin(), vals.end());
    vals.erase(std::unique(vals.begin(), vals.end()), vals.end());
    return vals;
  }
  Requirement requirement() {
    Requirement r;
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == '!') {
      ++pos_;
      r.key = word("a label key after '!'", false);
      validate_key(r.key, *this);
      r.op = Requirement::Op::DoesNotExist;
      return r;
    }
    r.key = word("a label key", false);
    validate_key(r.key, *this);
    skip_ws();
    if (pos_ == s_.size() || s_[pos_] == ',') {
      r.op = Requirement::Op::Exists;
      return r;
    }
    if (s_.substr(pos_, 2) == "==") {
      pos_ += 2;
      r.op = Requirement::Op::Equals;
    } else if (s_.substr(pos_, 2) == "!=") {
      pos_ += 2;
      r.op = Requirement::Op::NotEquals;
    } else if (s_[pos_] == '=') {
      ++pos_;
      r.op = Requirement::Op::Equals;
    } else if (keyword("notin")) {
      r.op = Requirement::Op::NotIn;
      r.values = value_set();
      return r;
    } else if (keyword("in")) {
      r.op = Requirement::Op::In;
      r.values = value_set();
      return r;
    } else {
      fail("an operator (=, ==, !=, in, notin)");
    }
    std::string v = word("a value", true);
    validate_value(v, *this);
    r.values.push_back(std::move(v));
    return r;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

}  // namespace

LabelSelector LabelSelector::parse(std::string_view text) {
  LabelSelector sel;
  sel.reqs_ = Parser(text).parse();
  return sel;
}

bool LabelSelector::matches(const Labels& labels) const {
  for (const auto& r : reqs_) {
    auto it = labels.find(r.key);
    bool has = it != labels.end();
    switch (r.op) {
      case Requirement::Op::Exists:
        if (!has) return false;
        break;
      case Requirement::Op::DoesNotExist:
        if (has) return false;
        break;
      case Requirement::Op::Equals:
        if (!has || it->second != r.values.front()) return false;
        break;
      case Requirement::Op::NotEquals:
        if (has && it->second == r.values.front()) return false;
        break;
      case Requirement::Op::In:
        if (!has || std::find(r.values.begin(), r.values.end(), it->second) == r.values.end()) return false;
        break;
      case Requirement::Op::NotIn:
        if (has && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end()) return false;
        break;
    }
  }
  return true;
}

std::string LabelSelector::str() const {
  std::string out;
  for (const auto& r : reqs_) {
    if (!out.empty()) out += ',';
    auto join = [&r] {
      std::string s;
      for (std::size_t i = 0; i < r.values.size(); ++i) {
        if (i > 0) s += ',';  // by position: an empty value is still a value
        s += r.values[i];
      }
      return s;
    };
    switch (r.op) {
      case Requirement::Op::Exists: out += r.key; break;
      case Requirement::Op::DoesNotExist: out += "!" + r.key; break;
      case Requirement::Op::Equals: out += r.key + "=" + r.values.front(); break;
      case Requirement::Op::NotEquals: out += r.key + "!=" + r.values.front(); break;
      case Requirement::Op::In: out += r.key + " in (" + join() + ")"; break;
      case Requirement::Op::NotIn: out += r.key + " notin (" + join() + ")"; break;
    }
  }
  return out;
}

}  // namespace fdb::kube
