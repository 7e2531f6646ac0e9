// A CacheView of plain maps, for the claim step machines' tables.
#pragma once

#include "operator/cache_view.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

#include <map>
#include <string>

namespace fdb::test {

class MapCache final : public op::CacheView {
 public:
  std::map<std::string, boost::json::object, std::less<>> workloads;
  std::map<std::string, boost::json::object, std::less<>> intents;
  std::optional<boost::json::object> workload(std::string_view n) const override {
    auto it = workloads.find(n);
    return it == workloads.end() ? std::nullopt : std::optional(it->second);
  }
  std::optional<boost::json::object> intent(std::string_view n) const override {
    auto it = intents.find(n);
    return it == intents.end() ? std::nullopt : std::optional(it->second);
  }
  void for_each_workload(const std::function<void(const boost::json::object&)>& f) const override {
    for (const auto& [k, v] : workloads) f(v);
  }
  bool synced() const override { return true; }
};

// A bridge Workload of issue repo#number, in progress on `coder` (terminating when asked).
inline boost::json::object bridge_workload(const std::string& name, const std::string& repo, std::int64_t number,
                                           const std::string& coder = "coder", bool terminating = false,
                                           const std::string& uid = "u-old") {
  boost::json::object md{{"name", name},
                         {"uid", uid},
                         {"labels", boost::json::object{{"created-by", "dispatch-bridge"}}},
                         {"annotations", boost::json::object{{"foreman.llmkube.dev/issue-id", "I_" + std::to_string(number)}}}};
  if (terminating) md["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  return boost::json::object{{"metadata", std::move(md)},
                             {"spec", boost::json::object{{"repo", repo},
                                                          {"issues", boost::json::array{number}},
                                                          {"coderAgentRef", boost::json::object{{"name", coder}}}}},
                             {"status", boost::json::object{{"phase", "Dispatched"}}}};
}

}  // namespace fdb::test
