// The one set of Foreman fixtures the step-machine, reconciler, claim and adoption tests
// share: an in-memory CacheView, and Workload objects as this bridge and the Python bridge
// make them. Pure: no sockets, no clocks (the scripted servers' helpers are fixture_servers.hpp).
#pragma once

#include "operator/cache_view.hpp"
#include "watch/field_mask.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace fdb::test {

// A CacheView of plain maps: the Workloads and intent ConfigMaps by name, and the tasks
// the task informer would hold (nullopt: none, as without a task informer).
class MapCache final : public op::CacheView {
 public:
  std::map<std::string, boost::json::object, std::less<>> workloads;
  std::map<std::string, boost::json::object, std::less<>> intents;
  std::optional<boost::json::array> cached_tasks;

  // Files `w` under its metadata.name.
  void add(boost::json::object w);
  std::optional<boost::json::object> workload(std::string_view n) const override;
  std::optional<boost::json::object> intent(std::string_view n) const override;
  void for_each_workload(const std::function<void(const boost::json::object&)>& f) const override;
  bool synced() const override { return true; }
  std::optional<boost::json::array> tasks(std::string_view) const override { return cached_tasks; }
};

// The fields of a Workload object; an empty string (or list) leaves its field out.
struct WorkloadFields {
  std::string name;
  std::string repo = "o/r";
  std::int64_t number = 7;
  std::string uid;
  std::string resource_version;
  std::string created_by = "dispatch-bridge";  // label
  std::string lane;                            // label
  std::string attempt;                         // annotation foreman.llmkube.dev/attempt
  std::string issue_id;                        // annotation foreman.llmkube.dev/issue-id
  std::string agent_name;                      // annotation foreman.llmkube.dev/agent-name
  std::string intent;                          // spec.intent
  std::string coder;                           // spec.coderAgentRef.name
  std::vector<std::string> reviewers;          // spec.reviewerAgentRefs[].name
  std::string verifier;                        // spec.verifierAgentRef.name
  std::string phase;                           // status.phase
  std::string completed_reason;                // status.conditions: Completed=False with this reason
  bool terminating = false;                    // metadata.deletionTimestamp set
};

// A foreman.llmkube.dev/v1alpha1 Workload in namespace llm with these fields.
boost::json::object workload_object(const WorkloadFields& f);

// A bridge Workload of issue repo#number, in progress on `coder` (terminating when asked).
boost::json::object bridge_workload(const std::string& name, const std::string& repo, std::int64_t number,
                                    const std::string& coder = "coder", bool terminating = false,
                                    const std::string& uid = "u-old");

// The fields of a first attempt as the Python bridge 0.7 built it (workload.py:
// build_workload) under `name`: labels created-by and lane, annotations attempt 1 and
// agent-name `agent` (and issue-id from 0.3 on: empty leaves it out), intent "Fix it".
WorkloadFields python_workload_fields(const std::string& name, const std::string& repo, std::int64_t number,
                                      const std::string& issue_id, const std::string& agent,
                                      const std::string& lane = "local");

// What an index function of the informer is given: `object` packed, then decoded through
// the fields the index declares it reads (kube::IndexSpec::reads).
boost::json::object through_reads(const boost::json::object& object, const kube::FieldMask& reads);

}  // namespace fdb::test
