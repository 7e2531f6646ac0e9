// The bridge's two informers — bridge Workloads, stored as a compact projection with an
// in-progress index, and retry-intent ConfigMaps — and the CacheView they back. Shared by
// the program and the benchmarks, so that what is measured is what runs.
#pragma once

#include "operator/cache_view.hpp"
#include "watch/watch_cache_io.hpp"

#include <boost/json/object.hpp>

#include <string>

namespace fdb::op {

// What the bridge keeps of a Workload: metadata (name, namespace, uid, resourceVersion,
// timestamps, labels, the foreman.llmkube.dev/ annotations), spec repo, issues, coder
// (coderAgentRef and the agentRef of issue-fix steps), status phase and conditions (type,
// status, reason). The reconciler fetches the whole object when it decides.
// workload_fields() is that as a field mask, rules included (watch/field_mask.hpp):
// apiVersion and kind always the Workload's, metadata, annotations, spec and status kept
// only when they are objects, of spec.pipeline only the issue-fix steps, of
// status.conditions only the objects. The informer decodes each object into it and stores
// that as it is (no transform).
kube::FieldMask workload_fields();

// What the bridge keeps of an AgenticTask: metadata (name, namespace, resourceVersion,
// labels), spec kind and payload.branch, and the whole status (verdicts, results,
// findings: the retry's feedback). The mask, then project_task on what it kept: a payload
// is kept only when it is an object with a branch, which no mask rule says.
kube::FieldMask task_fields();
boost::json::object project_task(boost::json::object task);
inline constexpr std::string_view kTaskWorkloadLabel = "foreman.llmkube.dev/workload";

// metadata.name, or empty.
std::string name_of(const boost::json::object& object);
// The Workload an intent ConfigMap is about, from its name; empty for any other ConfigMap.
std::string intent_workload(const boost::json::object& configmap);

// The Workload a task belongs to, from its label; empty when it has none.
std::string task_workload(const boost::json::object& task);

// Informer options: bridge Workloads (label created-by=dispatch-bridge, projected, indexed
// by in_progress_index and by issue, issue_index_keys) and retry-intent ConfigMaps, in
// namespace `ns`.
kube::WatchCacheOptions workload_informer_options(const std::string& ns);
kube::WatchCacheOptions intent_informer_options(const std::string& ns);
// AgenticTasks that belong to a Workload (the label exists), indexed by that label.
kube::WatchCacheOptions task_informer_options(const std::string& ns);

// The CacheView over those two informers.
class InformerCaches final : public CacheView {
 public:
  // `tasks` may be null: then tasks() is always nullopt and the reconciler lists them.
  InformerCaches(const kube::WatchCache& workloads, const kube::WatchCache& intents, const kube::WatchCache* tasks,
                 std::string ns);

  std::optional<boost::json::object> workload(std::string_view name) const override;
  std::optional<boost::json::object> intent(std::string_view workload) const override;
  void for_each_workload(const std::function<void(const boost::json::object&)>& f) const override;
  bool synced() const override;
  Load load() const override;
  std::optional<boost::json::array> tasks(std::string_view workload) const override;
  std::vector<std::string> workloads_for_issue(std::string_view issue_id, std::string_view repo,
                                               std::int64_t number) const override;

 private:
  const kube::WatchCache& workloads_;
  const kube::WatchCache& intents_;
  const kube::WatchCache* tasks_;
  std::string ns_;
};

}  // namespace fdb::op
