// The bridge's two informers — bridge Workloads, stored as a compact projection with an
// in-progress index, and retry-intent ConfigMaps — and the CacheView they back. Shared by
// the program and the benchmarks, so that what is measured is what runs.
#pragma once

#include "operator/cache_view.hpp"
#include "watch/watch_cache.hpp"

#include <boost/json/object.hpp>

#include <string>

namespace fdb::op {

// What the bridge keeps of a Workload: metadata (name, namespace, uid, resourceVersion,
// timestamps, labels, the foreman.llmkube.dev/ annotations), spec repo, issues, coder
// (coderAgentRef and the agentRef of issue-fix steps), status phase and conditions (type,
// status, reason). The reconciler fetches the whole object when it decides.
boost::json::object project_workload(boost::json::object workload);

// metadata.name, or empty.
std::string name_of(const boost::json::object& object);
// The Workload an intent ConfigMap is about, from its name; empty for any other ConfigMap.
std::string intent_workload(const boost::json::object& configmap);

// Informer options: bridge Workloads (label created-by=dispatch-bridge, projected, indexed
// by in_progress_index) and retry-intent ConfigMaps, in namespace `ns`.
kube::WatchCacheOptions workload_informer_options(const std::string& ns);
kube::WatchCacheOptions intent_informer_options(const std::string& ns);

// The CacheView over those two informers.
class InformerCaches final : public CacheView {
 public:
  InformerCaches(const kube::WatchCache& workloads, const kube::WatchCache& intents, std::string ns);

  std::optional<boost::json::object> workload(std::string_view name) const override;
  std::optional<boost::json::object> intent(std::string_view workload) const override;
  void for_each_workload(const std::function<void(const boost::json::object&)>& f) const override;
  bool synced() const override;
  Load load() const override;

 private:
  const kube::WatchCache& workloads_;
  const kube::WatchCache& intents_;
  std::string ns_;
};

}  // namespace fdb::op
