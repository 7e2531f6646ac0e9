// The controller: one wiring of the bridge's parts, used by the program (operator/app),
// retry-bench and the tests, so that what is measured and tested is what runs.
//
//   informer            event                      → work queue (key: the Workload name)
//   Workloads           added, modified, deleted   → the Workload's name
//                       resync (every 10 min)      → the name of the cache key
//   retry intents       added, modified, deleted   → the Workload the intent is about
//   AgenticTasks        added, modified            → the task's Workload
//   every informer      its typed events           → a log line (the detail), the watch
//                                                     counters (the kind: operator/wiring)
//   the queue           its hooks                  → the workqueue_* metrics ("workloads")
//
// Informers run on every replica (followers keep their caches warm); the work queue's
// workers, the claim loop, the claim sweeps and the PR-fix loop run while this replica
// leads (at once without leader election). Everything runs on one executor, the
// program's io_context thread.
#pragma once

#include "operator/http_server_io.hpp"
#include "operator/reconciler_io.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/json/object.hpp>

#include <functional>
#include <memory>
#include <string>

namespace fdb::dispatch {
class Client;
}
namespace fdb::github {
class Client;
}
namespace fdb::kube {
class Client;
class WatchCache;
class WorkQueue;
}  // namespace fdb::kube
namespace fdb::metrics {
class Registry;
struct BridgeMetrics;
}  // namespace fdb::metrics

namespace fdb::op {

struct Config;
class CacheView;
class Liveness;

enum class WorkloadChange { Added, Modified, Deleted };

// What a benchmark or a test may watch without changing the flow (on the io thread).
struct ControllerObservers {
  // Each Workload event, before the Workload is queued. The object is valid during the call only.
  std::function<void(WorkloadChange, const boost::json::object&)> on_workload;
  // After each completed retry, with its timings.
  std::function<void(const std::string& name, const RetryTimings&)> on_retry_done;
};

struct ControllerDeps {
  kube::Client& kube;
  dispatch::Client& dispatch;
  github::Client* github;  // null: GitHub is not asked
  const Config& config;
  metrics::Registry& registry;  // must outlive the controller (its collect hook reads it)
  metrics::BridgeMetrics& metrics;
  Liveness& liveness;  // told when a loop that should run ends
  ControllerObservers observers;
};

class Controller {
 public:
  Controller(boost::asio::any_io_executor ex, ControllerDeps deps);
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Starts the informers, and leader election (or leading, without it).
  void start();
  // Stops leading (releasing the lease), the election, the informers and the queue.
  // What is in flight finishes on the executor.
  void stop();

  // /readyz: caches synced and every watch open.
  Health readiness() const;
  bool leading() const noexcept;

  const kube::WatchCache& workloads() const noexcept;
  const CacheView& caches() const noexcept;
  const kube::WorkQueue& queue() const noexcept;

 private:
  struct Parts;
  std::shared_ptr<Parts> p_;
};

}  // namespace fdb::op
