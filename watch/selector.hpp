// Kubernetes label selectors (the string form of `labelSelector`): parsing and matching.
// Pure logic, used by the simulator to filter lists and watches and by the cache.
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace fdb::kube {

class SelectorError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

struct Requirement {
  enum class Op { Equals, NotEquals, In, NotIn, Exists, DoesNotExist };
  std::string key;
  Op op = Op::Exists;
  std::vector<std::string> values;  // one for Equals/NotEquals, several for In/NotIn
};

using Labels = std::map<std::string, std::string, std::less<>>;

class LabelSelector {
 public:
  // The empty selector matches everything.
  LabelSelector() = default;
  // Parses "a=b,c!=d,e in (f,g),h notin (i),j,!k" (also "==" for "="; "()" is the set of
  // the empty value, as in apimachinery). Throws SelectorError with the position and what
  // was expected.
  static LabelSelector parse(std::string_view text);

  bool matches(const Labels& labels) const;
  bool empty() const noexcept { return reqs_.empty(); }
  const std::vector<Requirement>& requirements() const noexcept { return reqs_; }
  // Canonical text form.
  std::string str() const;

 private:
  std::vector<Requirement> reqs_;
};

}  // namespace fdb::kube
