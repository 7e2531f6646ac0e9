// What the Workload builder tests share: a DNS-label check, the 8-hex name hash, a sample
// issue, a path into a manifest, and the check of a manifest against the real CRD.
#pragma once

#include "crd_schema.hpp"
#include "dispatch/prfix.hpp"
#include "dispatch/workload.hpp"

#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <initializer_list>
#include <string>
#include <string_view>

namespace fdb::test {

inline bool is_dns_label(const std::string& s) {
  if (s.empty() || s.size() > 63 || s.front() == '-' || s.back() == '-') return false;
  for (const char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

inline std::string hash8(const std::string& key) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(dispatch::fnv1a64(key)));
  return std::string(hex, 8);
}

inline std::string prfix_name_of(const std::string& repo, std::int64_t pr) { return dispatch::prfix_workload_name(repo, pr); }

inline dispatch::IssueInfo issue(std::string repo = "misospace/dispatch", std::int64_t n = 42, std::string lane = "local") {
  return dispatch::IssueInfo{std::move(repo), n, "Fix the widget", std::move(lane), "iss-42"};
}

inline const boost::json::value& at(const boost::json::value& v, std::initializer_list<std::string_view> path) {
  const boost::json::value* cur = &v;
  for (const auto k : path) cur = &cur->as_object().at(k);
  return *cur;
}

inline void expect_valid(const boost::json::object& manifest) {
  const auto errors = validate_against_crd(boost::json::value(manifest), workload_crd_path());
  for (const auto& e : errors) BOOST_TEST_MESSAGE("CRD: " << e);
  BOOST_TEST(errors.empty(), "manifest rejected by the CRD: " << (errors.empty() ? "" : errors.front()));
}

}  // namespace fdb::test
