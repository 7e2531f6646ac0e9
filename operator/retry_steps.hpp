// The retry flow and the terminal sweeps of one Workload name as a step machine: pure
// functions from what was observed (the cached Workload, the intent, the target name's
// Workload), the in-flight record, the time and the settings to a list of typed actions.
// The reconciler (operator/reconciler_io.cpp) only runs them, in order; an action that
// needs fetched facts (Decide: the Workload, its tasks, the issue's state and dispatch's
// view; Report: the tasks and dispatch's answer) is a read action whose result feeds
// another pure function (decide_actions here; report_actions in operator/report_steps.hpp).
//
// plan() is next_step() (operator/retry_flow.hpp, the table) with the in-flight record:
//   Nothing      → the terminal sweeps of the cached Workload (sweep_actions), or Done
//   Decide       → Decide (read, then decide_actions)
//   Delete       → DeleteWorkload; Requeue{delete timeout} when this process's DELETE was
//                  accepted less than a timeout ago (the cache has not shown it yet)
//   AwaitGone    → Requeue{delete timeout}, with WarnStuckDeletion first once a timeout
//                  has passed since the DELETE went out
//   Create       → CreateWorkload{intent} (built by the intent's kind), then ClearIntent
//   Unclaim      → Unclaim{intent}, then ClearIntent
//   ClearIntent  → ClearIntent
// PR-fix Workloads (created-by=dispatch-bridge-prfix) have no retry decision nor sweeps
// here: next_step() says Nothing for them and sweep_actions() leaves them alone; only an
// intent of kind PrFix (recorded by the PR-fix loop) replaces one.
#pragma once

#include "operator/foreman_model.hpp"
#include "operator/in_flight.hpp"
#include "operator/retry_decision.hpp"
#include "operator/retry_flow.hpp"
#include "operator/sweeps.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace fdb::op::steps {

struct Settings {
  std::chrono::milliseconds delete_timeout{std::chrono::seconds(60)};  // DELETE_WORKLOAD_TIMEOUT_S
  PruneSettings prune;
  int retry_max_attempts = 3;  // for Event notes only
};

// What the caches (and the in-flight registry) hold for one name, read once.
struct Observed {
  std::string name;
  std::optional<WorkloadView> workload;  // the cached Workload of that name
  std::optional<Intent> intent;          // this process's, else the cached ConfigMap's
  std::optional<WorkloadView> target;    // the cache under intent->target_name(), when it differs
  std::optional<dispatch::ParseError> bad_intent;  // the cached intent ConfigMap was malformed (ignored)
};

}  // namespace fdb::op::steps
namespace fdb::op {
class CacheView;
}
namespace fdb::op::steps {

// Reads what the caches and the registry hold for `name`, once (no I/O: the caches are
// in memory). The registry's intent (written here, maybe not cached yet) comes first.
Observed observe(const CacheView& cache, const InFlight& in_flight, const std::string& name);

// --- Actions --------------------------------------------------------------------------
// The end of a reconcile: nothing more until the caches change.
struct Done {
  std::string step;
};
// The end of a reconcile: run the name again after `after`.
struct Requeue {
  std::chrono::milliseconds after{0};
  std::string step;
};
// Read the four facts a decision needs, then run decide_actions() (after the task
// informer has caught up, bounded).
struct Decide {};
// DELETE (Foreground, precondition uid). `retry`: the delete of a retry flow (its timings
// are kept and the reconcile requeues after the delete timeout); else a park's.
struct DeleteWorkload {
  std::string name;
  std::string uid;
  bool retry = true;
};
// Log that a deletion is stuck past the timeout, and re-arm that warning.
struct WarnStuckDeletion {
  std::string name;
};
// Create what the intent describes (Retry: attempt N+1; Claim: attempt 1; PrFix: the
// PR-fix Workload) with the current configuration.
struct CreateWorkload {
  Intent intent;
};
struct Unclaim {
  Intent intent;
};
struct ClearIntent {
  std::string name;
  std::string step;
};
// Write the intent ConfigMap (an existing one is kept) and remember it in flight.
struct RecordIntent {
  Intent intent;
  SteadyTime decided_at;  // the start of the decision (the latency figures)
};
// dispatch: move the issue to another lane (an escalation, before its intent).
struct Relane {
  std::string issue_id;
  std::string lane;
  std::string reason;
};
// dispatch: status backlog, then (best effort) label needs-human and the park comment.
struct ParkIssue {
  WorkloadView workload;  // its issue (id, repo, number) and name, for the comment
  std::string reason;
};
// A merge patch of the Workload's annotations.
struct PatchAnnotations {
  std::string name;
  boost::json::object annotations;
};
enum class Counter { Park, TombstoneGiveUp, TombstoneIssueClosed, Escalation, Sweep };
struct Count {
  Counter counter;
  std::string label;   // Park: the reason's kind (before the first ':'); Escalation: the old lane; Sweep: the sweep
  std::string label2;  // Escalation: the new lane; Sweep: its result
};
struct Event {  // about `workload` (its name, namespace and uid)
  std::string workload, ns, uid;
  std::string type;  // Normal, Warning
  std::string reason;
  std::string action;
  std::string note;
};
// An Event about the Workload `w`.
Event event_about(const WorkloadView& w, std::string type, std::string reason, std::string action, std::string note);
struct Log {  // an info line about the name reconciled
  std::string message;
  std::string why;
};
// A line of the report step (operator/report_steps.hpp).
enum class ReportLine {
  NoIssue,   // warn: the Completed Workload names no issue
  Refused,   // warn: dispatch refused the status for good
  Reported,  // info: what reported-status records
};
struct ReportLog {
  ReportLine line;
  std::string issue;         // repo#number
  std::string status;        // Refused: the status refused; Reported: what reported-status records
  std::string reason;        // the report's reason
  std::string pull_request;  // the report's pull request, if any
  std::string error;         // Refused: dispatch's error
};
// End the reconcile with this failure, after the actions before it (the queue backs off
// and runs the name again).
struct Rethrow {
  std::exception_ptr error;
};
// The terminal sweeps (operator/sweeps.hpp).
struct Stamp {  // merge-patch terminal-since-{phase} = stamp
  std::string phase;
  std::string stamp;
};
// Read the tasks (after the task informer has caught up, bounded) and the cached object,
// tell dispatch, then the actions of report_actions (operator/report_steps.hpp): record
// reported-status (and the stamp), count, log, an Event.
struct Report {
  bool write_stamp = false;
};
struct Prune {  // delete it (a Failed one's issue back to ready first)
  bool reset_issue = false;
  WorkloadView workload;  // as planned (uid precondition, phase, stamp, issue)
};

using Action = std::variant<Done, Requeue, Decide, DeleteWorkload, WarnStuckDeletion, CreateWorkload, Unclaim,
                            ClearIntent, RecordIntent, Relane, ParkIssue, PatchAnnotations, Count, Event, Log, Stamp,
                            Report, Prune, ReportLog, Rethrow>;
using Actions = std::vector<Action>;

// "done", "requeue", "decide", "delete", …: for logs and tests.
std::string_view action_name(const Action& a) noexcept;

// The actions for one name. `now` is the steady clock (in-flight timings), `wall` the
// wall clock (terminal-since stamps).
Actions plan(const Observed& observed, const InFlight& in_flight, SteadyTime now, WallTime wall, const Settings& s);

// The terminal sweeps of a Workload the retry flow has nothing to do with.
Actions sweep_actions(const WorkloadView& workload, WallTime wall, const Settings& s);

// What a decision read.
struct DecisionFacts {
  std::string name;                // the name reconciled
  std::optional<WorkloadView> workload;  // fresh from the API server (dispatch's lane and id applied); nullopt: gone
  IssueState issue = IssueState::Unknown;
  RetryAction action;              // decide_retry()'s answer, GitHub's branch evidence applied
  std::string target;              // the name a retry is created under (adoption.hpp retry_name)
  SteadyTime seen;                 // when the decision started
};
// The actions of a decision: park (park the issue once, mark it, delete), tombstone (mark
// and stamp, then the sweeps), escalate (re-lane, record, delete), retry (record, delete).
Actions decide_actions(const DecisionFacts& facts, WallTime wall, const Settings& s);

}  // namespace fdb::op::steps
