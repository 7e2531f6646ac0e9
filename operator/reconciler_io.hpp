// The retry reconciler: for one Workload name, runs the actions of the step machine
// (operator/retry_steps.hpp: the retry flow and the terminal sweeps as pure functions) —
// deciding on a Failed Workload, recording the intent, deleting with Foreground
// propagation, creating what the intent describes once the watch reports the old object
// gone, unclaiming after an escalation, parking, tombstoning, stamping, reporting, pruning
// — and says when to run again. A thin executor (reconciler_io.cpp) and the reads a
// decision and a report need (reconciler_reads_io.cpp, reconciler_adopt_io.cpp); what a
// report does after dispatch's answer is operator/report_steps.hpp's. Runs on the
// operator's io_context thread, leader only.
#pragma once

#include "operator/adoption.hpp"
#include "operator/config.hpp"
#include "dispatch/items.hpp"
#include "operator/retry_decision.hpp"
#include "operator/retry_flow.hpp"
#include "operator/in_flight.hpp"
#include "operator/kube_ops_io.hpp"
#include "operator/report_steps.hpp"
#include "operator/retry_steps.hpp"
#include "operator/sweeps.hpp"

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

  static ReconcileResult done(std::string step) { return {std::nullopt, false, std::move(step)}; }
  static ReconcileResult later(std::string step, std::chrono::milliseconds after) { return {after, false, std::move(step)}; }
  static ReconcileResult failed(std::string step) { return {std::nullopt, true, std::move(step)}; }
};

// The wall clock the executor hands the pure steps (they take time as a parameter), to the
// microsecond the annotations keep.
inline WallTime wall_now() {
  return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

// What an executed action says: end the reconcile with this result, or go on (with
// `more` actions, from a read action, run next).
struct StepOutcome {
  std::optional<ReconcileResult> result;
  steps::Actions more;
};

// Runs one action (the Reconciler against the API server and dispatch; a fake in tests).
class StepExecutor {
 public:
  virtual ~StepExecutor() = default;
  virtual boost::asio::awaitable<StepOutcome> execute(const std::string& name, steps::Action& action) = 0;
  // A sweep's action (stamp, report, prune) failed: counted before the error goes on.
  virtual void sweep_failed(std::string_view sweep) = 0;
};

// Runs the actions in order until one ends the reconcile; a read action's answer runs
// next. Errors propagate (the caller turns them into a backoff).
boost::asio::awaitable<ReconcileResult> run_steps(StepExecutor& executor, std::string name, steps::Actions actions);

class Reconciler final : public StepExecutor {
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
    // The in-flight registry shared with the claim loop; null: the reconciler keeps its own.
    InFlight* in_flight = nullptr;
  };

  explicit Reconciler(Deps deps);

  boost::asio::awaitable<ReconcileResult> reconcile(std::string name);

  // Drops what this process remembers of work in flight (on losing leadership: the next
  // leader may finish it; the caches are the truth from then on).
  void forget_local_state() { in_flight_.forget(); }

  // Intents this process wrote and has not cleared yet: the cache may not have seen them.
  std::size_t intents_in_flight() const noexcept { return in_flight_.intents_in_flight(); }
  // True while this process holds an intent for that Workload name (a retry or an
  // escalation between its decision and its end): its issue is not stranded.
  bool retry_in_flight(std::string_view name) const { return in_flight_.retry_in_flight(name); }
  // The registry (shared with the claim loop when Deps::in_flight is set).
  InFlight& in_flight() noexcept { return in_flight_; }

 private:
  // --- reconciler_io.cpp: the executor ---
  boost::asio::awaitable<StepOutcome> execute(const std::string& name, steps::Action& action) override;
  void sweep_failed(std::string_view sweep) override;
  steps::Settings settings() const;
  // The Workload helpers of kube_ops_io.hpp in FOREMAN_NAMESPACE (the resource type named
  // before the co_await: GCC 12 and temporaries in co_await expressions).
  boost::asio::awaitable<void> patch_workload(std::string name, boost::json::object annotations);
  boost::asio::awaitable<DeleteOutcome> delete_workload_fg(std::string name, std::string uid);
  boost::asio::awaitable<ReconcileResult> delete_workload(const steps::DeleteWorkload& d);
  boost::asio::awaitable<void> create(const Intent& intent);
  boost::asio::awaitable<void> create_retry(const Intent& intent);
  boost::asio::awaitable<void> create_claim(const Intent& intent);
  boost::asio::awaitable<void> create_prfix(const Intent& intent);
  boost::asio::awaitable<void> unclaim(const Intent& intent);
  boost::asio::awaitable<ReconcileResult> clear_intent(const std::string& name, const std::string& step);
  boost::asio::awaitable<void> record_intent(const steps::RecordIntent& r);
  boost::asio::awaitable<void> event(const steps::Event& e);
  void count(const steps::Count& c);
  void count_sweep(std::string_view sweep, std::string_view result);

  // --- reconciler.cpp: the reads of a decision and the sweeps' dispatch calls ---
  // The Decide read action: the four facts, then steps::decide_actions().
  boost::asio::awaitable<steps::Actions> decide(const std::string& name);
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
  // Parks the issue of `f` in dispatch: status backlog, then (best effort) label
  // needs-human and the comment.
  boost::asio::awaitable<void> park_issue(const WorkloadView& f, const std::string& reason);
  // The Report read action of the sweeps: the tasks, then dispatch's answer to
  // report_call(); returns report_actions() (operator/report_steps.hpp).
  boost::asio::awaitable<steps::Actions> report(const std::string& name, bool write_stamp);
  boost::asio::awaitable<steps::ReportOutcome> send_report(const WorkloadView& f, const steps::ReportCall& call);
  void log_report(const std::string& name, const steps::ReportLog& line);
  boost::asio::awaitable<ReconcileResult> prune(const steps::Prune& p);
  boost::asio::awaitable<void> stamp(const std::string& name, const steps::Stamp& s);

  Deps d_;
  InFlight own_in_flight_;
  InFlight& in_flight_;
};

// One worker: takes names from the queue and reconciles them until the queue is shut
// down and drained (returns) or the coroutine is cancelled (the key is given back to the
// queue first). Errors back off per key; success forgets the backoff and honours
// requeue_after. Unexpected exceptions (bad input) are logged, never fatal.
boost::asio::awaitable<void> reconcile_worker(kube::WorkQueue& queue, Reconciler& reconciler,
                                              metrics::BridgeMetrics* metrics);

}  // namespace fdb::op
