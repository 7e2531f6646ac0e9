// The retry reconciler: for one Workload name, performs the next step of the retry flow
// (operator/retry_flow.hpp) — deciding on a Failed Workload, recording the intent,
// deleting with Foreground propagation, creating the next attempt once the watch reports
// the old object gone, unclaiming after an escalation, parking, tombstoning — and says
// when to run again. Runs on the operator's io_context thread, leader only.
#pragma once

#include "operator/adoption.hpp"
#include "operator/config.hpp"
#include "dispatch/items.hpp"
#include "operator/retry_decision.hpp"
#include "operator/retry_flow.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace fdb::kube {
class Client;
class WorkQueue;
}
namespace fdb::dispatch {
class Client;
}

namespace fdb::metrics {
struct BridgeMetrics;
}
namespace fdb::github {
class Client;
}

namespace fdb::op {

class CacheView;
class EventRecorder;
using metrics::BridgeMetrics;

struct ReconcileResult {
  // Run again after this long even without a change (a deadline, or a backoff after an
  // error); nullopt: only when the caches change.
  std::optional<std::chrono::milliseconds> requeue_after;
  bool error = false;  // the step failed; the queue applies its per-key backoff
  std::string step;    // what was done, for logs and metrics
};

// Timestamps of the steps of the retry in flight for a name, for the latency figures.
struct RetryTimings {
  std::chrono::steady_clock::time_point failed_seen;   // the reconcile that decided
  std::chrono::steady_clock::time_point delete_sent;   // the DELETE request went out
  std::chrono::steady_clock::time_point delete_accepted;  // the API server accepted it
  std::chrono::steady_clock::time_point gone_seen;     // the reconcile that found it gone
  std::chrono::steady_clock::time_point create_sent;   // the POST of the next attempt went out
};

class Reconciler {
 public:
  struct Deps {
    kube::Client& kube;
    dispatch::Client& dispatch;
    const Config& config;
    const CacheView& cache;
    EventRecorder* events = nullptr;   // optional
    BridgeMetrics* metrics = nullptr;  // optional
    // Called after each completed retry with its timings (benchmarks, metrics).
    std::function<void(const std::string& name, const RetryTimings&)> on_retry_done;
    // How long a decision waits for the task informer to catch up with a Workload whose
    // tasks it has not all seen (each task event requeues the Workload) before it LISTs them.
    std::chrono::milliseconds task_catch_up = std::chrono::milliseconds(2000);
    // Set only when GITHUB_TOKEN is: a retry then asks GitHub whether the branch exists
    // (branch evidence, SPEC §5); without it the tasks' results are the evidence.
    github::Client* github = nullptr;
  };

  explicit Reconciler(Deps deps);

  boost::asio::awaitable<ReconcileResult> reconcile(std::string name);

  // Drops what this process remembers of retries in flight (on losing leadership: the
  // next leader may finish them; the caches are the truth from then on).
  void forget_local_state() {
    local_intents_.clear();
    timings_.clear();
  }

  // Intents this process wrote and has not cleared yet: the cache may not have seen them.
  std::size_t intents_in_flight() const noexcept { return local_intents_.size(); }
  // True while this process holds an intent for that Workload name (a retry or an
  // escalation between its decision and its end): its issue is not stranded.
  bool retry_in_flight(std::string_view name) const { return local_intents_.find(name) != local_intents_.end(); }

 private:
  boost::asio::awaitable<ReconcileResult> decide(const std::string& name);
  // Replaces the tasks' branch evidence of a Retry or InfraRetry with GitHub's answer.
  boost::asio::awaitable<void> ask_github(const WorkloadView& f, RetryAction& action);
  boost::asio::awaitable<std::optional<boost::json::object>> fetch_workload(const std::string& name);
  boost::asio::awaitable<boost::json::array> fetch_tasks(const std::string& name);
  // How much longer to wait for the task informer to catch up with the Workload before a
  // decision reads its tasks (nullopt: read now, from the cache if complete, else a LIST).
  std::optional<std::chrono::milliseconds> task_catch_up(const std::string& name);
  boost::asio::awaitable<dispatch::IssueState> issue_state(const std::string& repo, std::int64_t number,
                                                           const std::string& name);
  boost::asio::awaitable<std::pair<dispatch::IssueState, std::pair<std::string, std::int64_t>>> fetch_issue_state(
      const std::string& name);
  // The issue as dispatch's claimed list shows it (current lane, id), for the cached
  // projection's issue; empty when dispatch cannot say (the label stands).
  boost::asio::awaitable<DispatchView> fetch_claimed_view(const std::string& name);
  // `wl` with dispatch's current lane and, when it has none, the issue id — looked up in the
  // lane queues as the Python's find_issue_id did when the claimed list lacks it.
  boost::asio::awaitable<boost::json::object> refresh_from_dispatch(boost::json::object wl, DispatchView view);
  boost::asio::awaitable<ReconcileResult> delete_old(const Intent& intent);
  boost::asio::awaitable<ReconcileResult> create_next(const Intent& intent);
  boost::asio::awaitable<ReconcileResult> unclaim(const Intent& intent);
  boost::asio::awaitable<ReconcileResult> clear_intent(const std::string& name, const char* step);
  boost::asio::awaitable<ReconcileResult> park(const boost::json::object& wl, const std::string& reason);
  boost::asio::awaitable<ReconcileResult> tombstone(const boost::json::object& wl, const std::string& reason,
                                                    std::string_view value);
  // Parks the issue of `f` in dispatch: status backlog, then (best effort) label
  // needs-human and the comment.
  boost::asio::awaitable<void> park_issue(const WorkloadView& f, const std::string& reason);
  // The sweeps of a terminal Workload the retry flow is done with (operator/sweeps.hpp):
  // stamp, report, wait for the prune deadline, prune.
  boost::asio::awaitable<ReconcileResult> sweep(const std::string& name, const boost::json::object& wl);
  boost::asio::awaitable<ReconcileResult> sweep_step(const std::string& name, const boost::json::object& wl);
  boost::asio::awaitable<ReconcileResult> report(const std::string& name, const boost::json::object& wl, bool write_stamp);
  boost::asio::awaitable<ReconcileResult> prune(const boost::json::object& wl, bool reset_issue);
  boost::asio::awaitable<void> patch_annotations(const std::string& name, const boost::json::object& annotations);
  void count_sweep(std::string_view sweep, std::string_view result);
  boost::asio::awaitable<void> record_intent(const Intent& intent);
  boost::asio::awaitable<void> event(const boost::json::object& wl, std::string type, std::string reason,
                                     std::string action, std::string note);
  std::optional<Intent> find_intent(const std::string& name) const;

  Deps d_;
  std::map<std::string, Intent, std::less<>> local_intents_;
  std::map<std::string, RetryTimings, std::less<>> timings_;
  // Since when a decision has waited for the task informer, per Workload name.
  std::map<std::string, std::chrono::steady_clock::time_point, std::less<>> task_waits_;
};

// One worker: takes names from the queue and reconciles them until the queue is shut
// down and drained (returns) or the coroutine is cancelled (the key is given back to the
// queue first). Errors back off per key; success forgets the backoff and honours
// requeue_after. Unexpected exceptions (bad input) are logged, never fatal.
boost::asio::awaitable<void> reconcile_worker(kube::WorkQueue& queue, Reconciler& reconciler,
                                              metrics::BridgeMetrics* metrics);

}  // namespace fdb::op
