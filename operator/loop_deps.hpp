// What the leader's timer loops act through — the claim loop (operator/claimer_io.hpp),
// the claim sweeps (operator/claim_sweeps_io.hpp) and the PR-fix loop
// (operator/prfix_loop_io.hpp): the API server, dispatch, the configuration, the caches and
// the metrics. The controller's wiring (operator/controller_io.cpp) builds one bundle and
// hands it to each; what a loop needs beyond it (the in-flight registry, the questions it
// asks of it, or GitHub) is its second argument.
#pragma once

namespace fdb::kube {
class Client;
}
namespace fdb::dispatch {
class Client;
}
namespace fdb::metrics {
struct BridgeMetrics;
}

namespace fdb::op {

struct Config;
class CacheView;

struct LoopDeps {
  kube::Client& kube;
  dispatch::Client& dispatch;
  const Config& config;
  const CacheView& cache;
  metrics::BridgeMetrics* metrics = nullptr;  // optional
};

}  // namespace fdb::op
