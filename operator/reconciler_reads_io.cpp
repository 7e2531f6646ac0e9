#include "operator/reconciler_io.hpp"

#include "operator/informers.hpp"

#include "dispatch/client_io.hpp"
#include "dispatch/github_io.hpp"
#include "dispatch/items.hpp"
#include "dispatch/workload.hpp"
#include "operator/cache_view.hpp"
#include "operator/events_io.hpp"
#include "operator/kube_ops_io.hpp"
#include "operator/metrics.hpp"
#include "operator/report_steps.hpp"
#include "operator/retry_decision.hpp"
#include "operator/sweeps.hpp"
#include "watch/client_io.hpp"
#include "watch/errors.hpp"
#include "watch/json_input.hpp"
#include "watch/json_access.hpp"
#include "watch/log.hpp"
#include "watch/request.hpp"
#include "watch/work_queue_io.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

namespace fdb::op {

namespace json = boost::json;
using boost::asio::awaitable;
using namespace std::chrono_literals;

namespace {

const log::Logger& logger() {
  static const log::Logger l("reconciler");
  return l;
}

dispatch::IssueRef issue_ref(const WorkloadView& f) { return {f.issue_id, f.repo, f.number}; }

constexpr auto& done = ReconcileResult::done;

// A refusal that asking again will not change (operator/report_steps.hpp).
bool permanent(const dispatch::DispatchError& e) { return steps::refused_for_good(e.status(), e.transient()); }


}  // namespace

std::optional<std::chrono::milliseconds> Reconciler::task_catch_up(const std::string& name) {
  // The Workload and its tasks come on two watch streams: the Workload's Failed can be
  // seen before the task that failed. A task event queues its Workload again, so waiting
  // costs about the lag between the streams; a LIST would scan every task on the server.
  // Bounded: a task that never shows up (no label, a stuck watch) ends in a LIST; a status
  // that does not count its tasks can never be shown complete: a LIST at once.
  const auto wl = d_.cache.workload(name);
  const auto cached = wl ? d_.cache.tasks(name) : std::nullopt;
  const bool needed = wl && cached && tasks_countable(*wl) && !tasks_complete(*wl, *cached);
  const bool was_waiting = in_flight_.task_waiting(name);
  const auto left = in_flight_.task_wait_left(name, needed, std::chrono::steady_clock::now(), d_.task_catch_up);
  if (left.count() > 0) return left;
  if (needed && was_waiting) {
    logger().warn("the task cache did not catch up with the Workload; listing its tasks",
                  {{"workload", name}, {"waited_ms", static_cast<std::int64_t>(d_.task_catch_up.count())}});
  }
  return std::nullopt;
}

awaitable<steps::Actions> Reconciler::decide(const std::string& name) {
  if (const auto wait = task_catch_up(name)) co_return steps::Actions{steps::Requeue{*wait, "await-tasks"}};
  const auto seen = std::chrono::steady_clock::now();
  // The four reads a decision needs are independent: in parallel. Fresh copies: the
  // cache holds a projection, and tasks die with the Workload.
  using namespace boost::asio::experimental::awaitable_operators;
  auto [wl_answer, tasks_answer, issue_answer, claimed_view] =
      co_await (fetch_workload(name) && fetch_tasks(name) && fetch_issue_state(name) && fetch_claimed_view(name));
  if (!wl_answer) co_return steps::Actions{steps::Done{"gone"}};
  // The issue's current lane and id from dispatch (adoption.hpp): the lane label is only a
  // fallback, and a Workload from before 0.3 gets its issue-id.
  json::object wl = co_await refresh_from_dispatch(std::move(*wl_answer), std::move(claimed_view));
  const WorkloadView f = read_view(wl);
  if (f.phase != "Failed" || f.terminating || !f.bridge_owned) co_return steps::Actions{steps::Done{"not failed any more"}};
  // The issue state was asked for the cached projection's repo and number; the fresh
  // object is the truth: ask again in the rare case they differ.
  IssueState state = issue_answer.first;
  if (issue_answer.second != std::pair<std::string, std::int64_t>(f.repo, f.number)) {
    state = co_await issue_state(f.repo, f.number, name);
  }
  RetryAction action = decide_retry(wl, tasks_answer, state, d_.config);
  co_await ask_github(f, action);
  logger().info("decided", {{"workload", name}, {"issue", fmt::format("{}#{}", f.repo, f.number)},
                            {"attempt", f.attempt}, {"action", action_name(action)}, {"reason", action_reason(action)}});
  const steps::DecisionFacts facts{name, f, state, std::move(action), retry_name(name, f.repo, f.number), seen};
  co_return steps::decide_actions(facts, wall_now(), settings());
}

awaitable<void> Reconciler::ask_github(const WorkloadView& f, RetryAction& action) {
  BranchEvidence* evidence = branch_of(action);
  if (d_.github == nullptr || evidence == nullptr) co_return;
  const std::string branch = branch_to_check(f, *evidence);
  if (branch.empty()) co_return;
  std::optional<bool> exists;
  try {
    exists = co_await d_.github->branch_exists(f.repo, branch);
  } catch (const github::GitHubError& e) {
    // Not a reason to hold the retry back: the tasks' evidence stands.
    logger().warn("GitHub could not say whether the branch exists; using the tasks' evidence",
                  {{"workload", f.name}, {"branch", branch}, {"error", e.what()}});
  }
  const bool before = evidence->pushed;
  *evidence = github_branch_evidence(std::move(*evidence), branch, exists, !d_.github->options().token.empty());
  if (exists && before != evidence->pushed) {
    logger().info("GitHub overrides the tasks' branch evidence",
                  {{"workload", f.name}, {"branch", branch}, {"exists", *exists}});
  }
}

awaitable<std::optional<json::object>> Reconciler::fetch_workload(const std::string& name) {
  const auto get = kube::Requests(kube::workloads(), d_.config.workload.namespace_name).get(name);
  std::string what = "GET workload " + name;
  co_return co_await get_or_null(d_.kube, get, std::move(what));
}

awaitable<json::array> Reconciler::fetch_tasks(const std::string& name) {
  // From the task informer when it cannot be behind (tasks_complete); else a LIST.
  if (auto wl = d_.cache.workload(name)) {
    if (auto cached = d_.cache.tasks(name); cached && tasks_complete(*wl, *cached)) {
      if (d_.metrics) d_.metrics->task_reads_total.labels({"cache"}).inc();
      co_return std::move(*cached);
    }
  }
  if (d_.metrics) d_.metrics->task_reads_total.labels({"api"}).inc();
  kube::ListOptions opts;
  opts.label_selector = std::string(kTaskWorkloadLabel) + "=" + name;
  const auto list = kube::Requests(kube::agentic_tasks(), d_.config.workload.namespace_name).list(opts);
  json::object answer = kube::parse_api_object(co_await d_.kube.call(list), "LIST agentictasks of " + name);
  json::array tasks;
  if (auto* items = answer.if_contains("items"); items != nullptr && items->is_array()) tasks = std::move(items->get_array());
  co_return tasks;
}

awaitable<IssueState> Reconciler::issue_state(const std::string& repo, std::int64_t number, const std::string& name) {
  IssueState state = IssueState::Unknown;
  if (auto answer = co_await d_.dispatch.issue_state(repo, number)) {
    auto parsed = dispatch::parse_issue_state(*answer);
    if (auto* ok = std::get_if<dispatch::IssueStateAnswer>(&parsed)) {
      state = ok->state;
    } else {
      logger().warn("malformed issue state from dispatch; treating it as unknown",
                    {{"workload", name}, {"error", std::get<dispatch::ParseError>(parsed).what()}});
    }
  }
  co_return state;
}

// The issue state for the repo and number of the cached projection (it keeps spec.repo
// and spec.issues), with the pair it was asked for.
awaitable<std::pair<IssueState, std::pair<std::string, std::int64_t>>> Reconciler::fetch_issue_state(const std::string& name) {
  std::pair<std::string, std::int64_t> key{"", 0};
  if (auto cached = d_.cache.workload(name)) {
    const WorkloadView f = read_view(*cached);
    key = {f.repo, f.number};
  }
  if (key.first.empty() || key.second <= 0) co_return std::pair{IssueState::Unknown, key};
  co_return std::pair{co_await issue_state(key.first, key.second, name), key};
}

awaitable<void> Reconciler::park_issue(const WorkloadView& f, const std::string& reason) {
  co_await d_.dispatch.set_status(issue_ref(f), "backlog");
  // The label and the comment are independent best-effort calls: a failed label does not
  // skip the comment (the Python bridge's #142).
  try {
    co_await d_.dispatch.label(issue_ref(f), "needs-human");
  } catch (const dispatch::DispatchError& e) {
    count_sweep("park", "label-error");
    logger().warn("park: the needs-human label failed (best effort)", {{"workload", f.name}, {"error", e.what()}});
  }
  try {
    co_await d_.dispatch.comment(issue_ref(f), park_comment(f, reason));
  } catch (const dispatch::DispatchError& e) {
    count_sweep("park", "comment-error");
    logger().warn("park: the comment failed (best effort)", {{"workload", f.name}, {"error", e.what()}});
  }
}

awaitable<void> Reconciler::stamp(const std::string& name, const steps::Stamp& s) {
  json::object ann;
  ann[terminal_since_key(s.phase)] = s.stamp;
  co_await patch_workload(name, std::move(ann));
  count_sweep("stamp", s.phase);
  logger().info("stamped terminal-since", {{"workload", name}, {"phase", s.phase}});
}

awaitable<steps::Actions> Reconciler::report(const std::string& name, bool write_stamp) {
  if (const auto wait = task_catch_up(name)) co_return steps::Actions{steps::Requeue{*wait, "await-tasks"}};
  const auto cached = d_.cache.workload(name);
  if (!cached) co_return steps::Actions{steps::Done{"gone"}};
  const WallTime seen = wall_now();
  const json::array tasks = co_await fetch_tasks(name);
  const steps::ReportFacts facts{read_view(*cached), completed_report(*cached, tasks), write_stamp, seen};
  steps::ReportOutcome outcome = steps::report::NotSent{};
  if (const auto call = steps::report_call(facts)) outcome = co_await send_report(facts.workload, *call);
  co_return steps::report_actions(facts, outcome);
}

// The call report_call() names; dispatch's error becomes the outcome (never thrown here).
awaitable<steps::ReportOutcome> Reconciler::send_report(const WorkloadView& f, const steps::ReportCall& call) {
  steps::ReportOutcome outcome = steps::report::Sent{};
  try {
    if (call.park) {
      co_await park_issue(f, call.reason);
    } else {
      co_await d_.dispatch.set_status(issue_ref(f), call.status);
    }
  } catch (const dispatch::DispatchError& e) {
    outcome = steps::report_outcome(e.status(), e.transient(), e.what(), std::current_exception());
  }
  co_return outcome;
}

void Reconciler::log_report(const std::string& name, const steps::ReportLog& l) {
  switch (l.line) {
    case steps::ReportLine::NoIssue:
      logger().warn("a Completed Workload names no issue; nothing to report", {{"workload", name}});
      break;
    case steps::ReportLine::Refused:
      logger().warn("dispatch refused the status; not asking again",
                    {{"workload", name}, {"issue", l.issue}, {"status", l.status}, {"error", l.error}});
      break;
    case steps::ReportLine::Reported:
      logger().info("reported a Completed Workload", {{"workload", name}, {"issue", l.issue}, {"status", l.status},
                                                      {"reason", l.reason}, {"pull_request", l.pull_request}});
      break;
  }
}

awaitable<ReconcileResult> Reconciler::prune(const steps::Prune& p) {
  const WorkloadView& f = p.workload;
  // The issue first: if that fails nothing has happened and the queue tries again; if
  // the delete fails after it, the issue is ready but its name still taken by a
  // Workload that is not terminating, which the claim loop does not claim onto.
  if (p.reset_issue && !f.repo.empty() && f.number > 0) {
    try {
      co_await d_.dispatch.set_status(issue_ref(f), "ready");
    } catch (const dispatch::DispatchError& e) {
      if (!permanent(e)) throw;
      logger().warn("dispatch refused status ready for a pruned issue", {{"workload", f.name}, {"error", e.what()}});
    }
  }
  co_await delete_workload_fg(f.name, f.uid);
  const bool completed = f.phase == "Completed";
  const double hours = completed ? d_.config.prune_completed_after_hours : d_.config.prune_failed_after_hours;
  count_sweep("prune", completed ? "completed" : "failed");
  logger().info("pruned", {{"workload", f.name}, {"phase", f.phase}, {"terminal_since", f.terminal_since},
                           {"after_hours", hours}, {"issue_reset", p.reset_issue}});
  const steps::Event ev = steps::event_about(f, "Normal", "Pruned", "Prune",
                             fmt::format("{} since {}; deleted after {:g} h{}", f.phase, f.terminal_since, hours,
                                         p.reset_issue ? "; issue set back to ready" : ""));
  co_await event(ev);
  co_return done("prune");
}

}  // namespace fdb::op
