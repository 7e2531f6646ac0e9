#include "operator/reconciler.hpp"

#include "operator/informers.hpp"

#include "dispatch/client.hpp"
#include "dispatch/github.hpp"
#include "dispatch/items.hpp"
#include "dispatch/workload.hpp"
#include "operator/cache_view.hpp"
#include "operator/events.hpp"
#include "operator/metrics.hpp"
#include "operator/retry_decision.hpp"
#include "operator/sweeps.hpp"
#include "watch/client.hpp"
#include "watch/errors.hpp"
#include "watch/json_input.hpp"
#include "watch/json_access.hpp"
#include "watch/log.hpp"
#include "watch/request.hpp"
#include "watch/work_queue.hpp"

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


constexpr auto& obj = kube::object_field;
constexpr auto& str = kube::string_field;

std::string annotation(const json::object& wl, std::string_view key) {
  return str(obj(obj(&wl, "metadata"), "annotations"), key);
}

dispatch::IssueRef issue_ref(const WorkloadView& f) { return {f.issue_id, f.repo, f.number}; }
dispatch::IssueRef issue_ref(const Intent& i) { return {i.issue_id, i.repo, i.number}; }

ReconcileResult done(std::string step) { return {std::nullopt, false, std::move(step)}; }
ReconcileResult later(std::string step, std::chrono::milliseconds after) { return {after, false, std::move(step)}; }
ReconcileResult failed(std::string step) { return {std::nullopt, true, std::move(step)}; }

// Errors that are worth trying again (the queue backs off per key); anything else too,
// since the flow is idempotent — but those are logged as errors rather than warnings.
bool transient(const kube::ApiError& e) { return e.retryable(); }

// A refusal that asking again will not change (the issue is unknown, or the request is
// not acceptable for it). Authentication and server errors are not: those are retried.
bool permanent(const dispatch::DispatchError& e) {
  if (e.transient()) return false;
  const int s = e.status();
  return s == 400 || s == 404 || s == 409 || s == 410 || s == 422;
}

WallTime wall_now() { return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now()); }

PruneSettings prune_settings(const Config& c) { return {c.prune_completed_after_hours, c.prune_failed_after_hours}; }

// `wl` with `annotations` merged into its metadata.annotations (what a merge patch does).
json::object with_annotations(json::object wl, const json::object& annotations) {
  auto& md = wl["metadata"];
  if (!md.is_object()) md = json::object();
  auto& ann = md.get_object()["annotations"];
  if (!ann.is_object()) ann = json::object();
  for (const auto& [k, v] : annotations) ann.get_object()[k] = v;
  return wl;
}

}  // namespace

Reconciler::Reconciler(Deps deps) : d_(std::move(deps)) {}

std::optional<Intent> Reconciler::find_intent(const std::string& name) const {
  if (auto it = local_intents_.find(name); it != local_intents_.end()) return it->second;
  if (auto cm = d_.cache.intent(name)) {
    auto parsed = intent_from_configmap(*cm);
    if (auto* intent = std::get_if<Intent>(&parsed)) return std::move(*intent);
    logger().error("ignoring a malformed retry intent",
                   {{"workload", name}, {"error", std::get<dispatch::ParseError>(parsed).what()}});
  }
  return std::nullopt;
}

awaitable<ReconcileResult> Reconciler::reconcile(std::string name) {
  std::optional<WorkloadView> view;
  const std::optional<json::object> cached = d_.cache.workload(name);
  if (cached) view = read_view(*cached);
  else task_waits_.erase(name);
  const auto intent = find_intent(name);
  std::optional<WorkloadView> target;
  if (intent && intent->target_name() != name) {
    if (auto t = d_.cache.workload(intent->target_name())) target = read_view(*t);
  }
  const Step step = intent && intent->target_name() != name ? next_step(view, intent, target) : next_step(view, intent);
  logger().debug("reconcile", {{"workload", name}, {"step", to_string(step.kind)}, {"why", step.why}});
  try {
    switch (step.kind) {
      case StepKind::Nothing:
        // Nothing left for the retry flow: the sweeps of a terminal Workload, if any.
        if (cached) co_return co_await sweep(name, *cached);
        co_return done("nothing");
      case StepKind::Decide:
        co_return co_await decide(name);
      case StepKind::Delete: {
        // Sent already, and the cache has not shown the deletion yet (the intent's own
        // watch event can run this before the Workload's MODIFIED arrives): wait for it.
        const auto it = timings_.find(name);
        const auto timeout = std::chrono::seconds(d_.config.delete_workload_timeout_s);
        if (it != timings_.end() && it->second.delete_accepted.time_since_epoch().count() != 0 &&
            std::chrono::steady_clock::now() - it->second.delete_accepted < timeout) {
          co_return later("await-gone", std::chrono::duration_cast<std::chrono::milliseconds>(timeout));
        }
        co_return co_await delete_old(*intent);
      }
      case StepKind::AwaitGone: {
        // The watch's delete event requeues this name; the deadline only reports a
        // deletion that is stuck (a finalizer that never goes).
        auto& t = timings_[name];
        const auto timeout = std::chrono::seconds(d_.config.delete_workload_timeout_s);
        if (t.delete_sent.time_since_epoch().count() != 0 &&
            std::chrono::steady_clock::now() - t.delete_sent >= timeout) {
          logger().warn("the old Workload is still being deleted", {{"workload", name},
                        {"timeout_s", d_.config.delete_workload_timeout_s}});
          t.delete_sent = std::chrono::steady_clock::now();  // report again after another timeout
        }
        co_return later("await-gone", std::chrono::duration_cast<std::chrono::milliseconds>(timeout));
      }
      case StepKind::Create:
        co_return co_await create_next(*intent);
      case StepKind::Unclaim:
        co_return co_await unclaim(*intent);
      case StepKind::ClearIntent:
        co_return co_await clear_intent(name, "clear-intent");
    }
  } catch (const kube::ApiError& e) {
    if (e.kind() == kube::ErrorKind::Cancelled) throw;
    (transient(e) ? logger().warn("reconcile step failed", {{"workload", name}, {"step", to_string(step.kind)}, {"error", e.what()}})
                  : logger().error("reconcile step failed", {{"workload", name}, {"step", to_string(step.kind)}, {"error", e.what()}}));
    co_return failed(std::string(to_string(step.kind)));
  } catch (const dispatch::DispatchError& e) {
    logger().warn("dispatch call failed", {{"workload", name}, {"step", to_string(step.kind)}, {"error", e.what()}});
    co_return failed(std::string(to_string(step.kind)));
  }
  co_return done("nothing");
}

std::optional<std::chrono::milliseconds> Reconciler::task_catch_up(const std::string& name) {
  // The Workload and its tasks come on two watch streams: the Workload's Failed can be
  // seen before the task that failed. A task event queues its Workload again, so waiting
  // costs about the lag between the streams; a LIST would scan every task on the server.
  // Bounded: a task that never shows up (no label, a stuck watch) ends in a LIST; a status
  // that does not count its tasks can never be shown complete: a LIST at once.
  const auto catch_up = d_.task_catch_up;
  const auto wl = d_.cache.workload(name);
  const auto cached = wl ? d_.cache.tasks(name) : std::nullopt;
  if (!wl || !cached || !tasks_countable(*wl) || tasks_complete(*wl, *cached)) {
    task_waits_.erase(name);
    return std::nullopt;
  }
  const auto now = std::chrono::steady_clock::now();
  const auto since = task_waits_.try_emplace(name, now).first->second;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(catch_up - (now - since));
  if (left.count() > 0) return left;
  task_waits_.erase(name);
  logger().warn("the task cache did not catch up with the Workload; listing its tasks",
                {{"workload", name}, {"waited_ms", static_cast<std::int64_t>(catch_up.count())}});
  return std::nullopt;
}

awaitable<ReconcileResult> Reconciler::decide(const std::string& name) {
  if (const auto wait = task_catch_up(name)) co_return later("await-tasks", *wait);
  const auto seen = std::chrono::steady_clock::now();
  // The four reads a decision needs are independent: in parallel. Fresh copies: the
  // cache holds a projection, and tasks die with the Workload.
  using namespace boost::asio::experimental::awaitable_operators;
  auto [wl_answer, tasks_answer, issue_answer, claimed_view] =
      co_await (fetch_workload(name) && fetch_tasks(name) && fetch_issue_state(name) && fetch_claimed_view(name));
  if (!wl_answer) co_return done("gone");
  // The issue's current lane and id from dispatch (adoption.hpp): the lane label is only a
  // fallback, and a Workload from before 0.3 gets its issue-id.
  json::object wl = co_await refresh_from_dispatch(std::move(*wl_answer), std::move(claimed_view));
  const WorkloadView f = read_view(wl);
  if (f.phase != "Failed" || f.terminating || !f.bridge_owned) co_return done("not failed any more");
  json::array tasks = std::move(tasks_answer);
  // The issue state was asked for the cached projection's repo and number; the fresh
  // object is the truth: ask again in the rare case they differ.
  IssueState state = issue_answer.first;
  if (issue_answer.second != std::pair<std::string, std::int64_t>(f.repo, f.number)) {
    state = co_await issue_state(f.repo, f.number, name);
  }

  RetryAction action = decide_retry(wl, tasks, state, d_.config);
  co_await ask_github(f, action);
  logger().info("decided", {{"workload", name}, {"issue", fmt::format("{}#{}", f.repo, f.number)},
                            {"attempt", f.attempt}, {"action", action_name(action)}, {"reason", action_reason(action)}});

  if (const auto* p = std::get_if<action::Park>(&action)) co_return co_await park(wl, p->reason);
  if (const auto* t = std::get_if<action::Tombstone>(&action)) co_return co_await tombstone(wl, t->reason, kTombstoneCap);
  if (std::holds_alternative<action::Nothing>(action)) {
    // §5.1: a closed issue keeps its tombstone. Marked, so that pruning may collect it;
    // still decided again on each resync, so a reopened issue is retried.
    if (state == IssueState::Closed) co_return co_await tombstone(wl, action_reason(action), kTombstoneIssueClosed);
    co_return done("nothing: " + action_reason(action));
  }

  const std::string uid = str(obj(&wl, "metadata"), "uid");
  Intent intent;
  intent.workload = name;
  intent.target = retry_name(name, f.repo, f.number);
  intent.old_uid = uid;
  intent.issue_id = f.issue_id;
  intent.repo = f.repo;
  intent.number = f.number;
  intent.title = f.title;
  intent.reason = action_reason(action);

  const auto* escalate = std::get_if<action::Escalate>(&action);
  if (escalate != nullptr) {
    // Re-lane first: when it fails nothing else has happened and the issue stays
    // claimed where it was (the queue tries again after a backoff). Re-laning twice
    // (a crash before the intent is recorded) is harmless.
    co_await d_.dispatch.relane(f.issue_id, escalate->lane, escalate->reason);
    intent.kind = Intent::Kind::Escalate;
    intent.lane = escalate->lane;
  } else {
    const auto build = rebuild_request(f, action);
    if (!build) co_return done("no request to rebuild");
    intent.kind = Intent::Kind::Retry;
    intent.next_attempt = build->attempt;
    intent.infra_attempts = build->infra_attempts;
    intent.lane = build->issue.lane;
    intent.feedback = build->feedback;
    intent.branch = build->revise_from_branch;
    if (intent.next_attempt < 2 && intent.infra_attempts == 0) intent.next_attempt = 2;
  }
  co_await record_intent(intent);
  timings_[name].failed_seen = seen;
  if (escalate != nullptr) {
    logger().info("re-laned; deleting, then unclaiming once it is gone",
                  {{"workload", name}, {"from_lane", f.lane}, {"to_lane", escalate->lane}});
    if (d_.metrics) d_.metrics->escalations_total.labels({f.lane, escalate->lane}).inc();
    co_await event(wl, "Normal", "Escalated", "Escalate",
                   fmt::format("attempt {} of {} failed; moved to lane {}: {}", f.attempt,
                               d_.config.retry_max_attempts, escalate->lane, escalate->reason));
  }
  co_return co_await delete_old(intent);
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
  std::string body;
  try {
    body = co_await d_.kube.call(get);
  } catch (const kube::ApiError& e) {
    if (e.kind() == kube::ErrorKind::NotFound) co_return std::nullopt;
    throw;
  }
  co_return kube::parse_api_object(body, "GET workload " + name);
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

awaitable<void> Reconciler::record_intent(const Intent& intent) {
  const std::string& ns = d_.config.workload.namespace_name;
  const auto body = json::serialize(intent_to_configmap(intent, ns));
  const auto req = kube::Requests(kube::config_maps(), ns).create(body);
  try {
    co_await d_.kube.call(req);
  } catch (const kube::ApiError& e) {
    if (e.kind() != kube::ErrorKind::AlreadyExists) throw;
    // An intent for this name already exists: a previous leader got this far. Replace it
    // only if it is about an older object (it cannot be: it would have been cleared).
    logger().warn("a retry intent already exists; continuing with it", {{"workload", intent.workload}});
  }
  local_intents_[intent.workload] = intent;
}

awaitable<ReconcileResult> Reconciler::delete_old(const Intent& intent) {
  const std::string& ns = d_.config.workload.namespace_name;
  kube::DeleteOptions opts;
  opts.propagation_policy = "Foreground";
  opts.precondition_uid = intent.old_uid;
  const auto req = kube::Requests(kube::workloads(), ns).remove(intent.workload, opts);
  timings_[intent.workload].delete_sent = std::chrono::steady_clock::now();
  try {
    co_await d_.kube.call(req);
  } catch (const kube::ApiError& e) {
    // Gone already, or replaced (the uid precondition failed): either way the old
    // object is not there to delete.
    if (e.kind() != kube::ErrorKind::NotFound && e.kind() != kube::ErrorKind::Conflict) throw;
  }
  timings_[intent.workload].delete_accepted = std::chrono::steady_clock::now();
  logger().info("deleted with foreground propagation; waiting for it to be gone",
                {{"workload", intent.workload}, {"next_attempt", intent.next_attempt}});
  co_return later("delete", std::chrono::seconds(d_.config.delete_workload_timeout_s));
}

awaitable<ReconcileResult> Reconciler::create_next(const Intent& intent) {
  auto& t = timings_[intent.workload];
  t.gone_seen = std::chrono::steady_clock::now();
  dispatch::BuildRequest build;
  build.issue = {intent.repo, intent.number, intent.title, intent.lane, intent.issue_id};
  build.attempt = intent.next_attempt;
  build.infra_attempts = intent.infra_attempts;
  build.feedback = intent.feedback;
  build.revise_from_branch = intent.branch;
  build.name = intent.target_name();
  // The current configuration, and the coders' current load.
  const json::object manifest = dispatch::build_workload(build, d_.config.workload, d_.cache.load().by_coder);
  const auto req = kube::Requests(kube::workloads(), d_.config.workload.namespace_name).create(json::serialize(manifest));
  t.create_sent = std::chrono::steady_clock::now();
  std::string created_uid;  // the Event's regarding.uid: `kubectl describe` finds Events by it
  try {
    const std::string answer = co_await d_.kube.call(req);
    boost::system::error_code ec;
    const json::value created = kube::parse_json(answer, ec);
    if (!ec && created.is_object()) created_uid = str(obj(&created.as_object(), "metadata"), "uid");
  } catch (const kube::ApiError& e) {
    if (e.kind() != kube::ErrorKind::AlreadyExists) throw;
    // Created already (by us before a crash, or by a claim). If it were the old object
    // still there, the cache would not have reported it gone: the next step decides.
    logger().info("the next attempt exists already", {{"workload", intent.target_name()}});
  }
  if (intent.target_name() != intent.workload) {
    logger().info("an adopted Workload's name cannot label its tasks; the retry takes this program's name",
                  {{"workload", intent.workload}, {"new_name", intent.target_name()}});
  }
  logger().info("recreated", {{"workload", intent.target_name()}, {"attempt", intent.next_attempt},
                              {"infra_attempts", intent.infra_attempts},
                              {"mode", intent.feedback.empty() ? "issue-batch" : "pipeline"}});
  if (d_.metrics) {
    // An infrastructure retry spends no attempt: counted apart.
    d_.metrics->retries_total.labels({intent.infra_attempts > 0 ? std::string("infra") : std::to_string(intent.next_attempt)}).inc();
    if (t.failed_seen.time_since_epoch().count() != 0) {
      const std::chrono::duration<double> d = t.create_sent - t.failed_seen;
      d_.metrics->failed_to_recreate_seconds.get().observe(d.count());
    }
  }
  if (d_.events) {
    // Named first: GCC 12 destroys braced temporaries inside a co_await expression twice.
    EventTarget target{intent.target_name(), d_.config.workload.namespace_name, created_uid};
    EventSpec spec{"Normal", "Retried", "Retry",
                   fmt::format("attempt {} created after attempt {} failed: {}", intent.next_attempt,
                               intent.next_attempt - 1, intent.reason)};
    co_await d_.events->record(std::move(target), std::move(spec));
  }
  if (d_.on_retry_done) d_.on_retry_done(intent.workload, t);
  co_return co_await clear_intent(intent.workload, "create");
}

awaitable<ReconcileResult> Reconciler::unclaim(const Intent& intent) {
  co_await d_.dispatch.unclaim(issue_ref(intent));
  logger().info("escalated and unclaimed", {{"workload", intent.workload}, {"lane", intent.lane}});
  co_return co_await clear_intent(intent.workload, "unclaim");
}

awaitable<ReconcileResult> Reconciler::clear_intent(const std::string& name, const char* step) {
  const auto req = kube::Requests(kube::config_maps(), d_.config.workload.namespace_name).remove(intent_name(name));
  try {
    co_await d_.kube.call(req);
  } catch (const kube::ApiError& e) {
    if (e.kind() != kube::ErrorKind::NotFound) throw;
  }
  local_intents_.erase(name);
  timings_.erase(name);
  co_return done(step);
}

awaitable<ReconcileResult> Reconciler::park(const json::object& wl, const std::string& reason) {
  const WorkloadView f = read_view(wl);
  const std::string& ns = d_.config.workload.namespace_name;
  // Park once: the annotation says the dispatch side is done, so a crash before the
  // delete does not comment twice.
  if (annotation(wl, kParkedAnnotation).empty()) {
    co_await park_issue(f, reason);
    const json::object patch{{"metadata", json::object{{"annotations", json::object{{kParkedAnnotation, reason.empty() ? "true" : reason}}}}}};
    const auto req = kube::Requests(kube::workloads(), ns).patch(f.name, kube::PatchType::Merge, json::serialize(patch));
    co_await d_.kube.call(req);
    if (d_.metrics) d_.metrics->parks_total.labels({reason.substr(0, reason.find(':'))}).inc();
    co_await event(wl, "Warning", "Parked", "Park", "Needs a human decision: " + reason);
  }
  kube::DeleteOptions opts;
  opts.propagation_policy = "Foreground";
  opts.precondition_uid = str(obj(&wl, "metadata"), "uid");
  const auto del = kube::Requests(kube::workloads(), ns).remove(f.name, opts);
  try {
    co_await d_.kube.call(del);
  } catch (const kube::ApiError& e) {
    if (e.kind() != kube::ErrorKind::NotFound && e.kind() != kube::ErrorKind::Conflict) throw;
  }
  logger().info("parked for a human", {{"workload", f.name}, {"reason", reason}});
  co_return done("park");
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

// Marks a Failed Workload the bridge leaves alone (value "true" at the cap, "issue-closed"
// for a closed issue) and stamps terminal-since-Failed in the same merge patch, then arms
// the prune timer from the object as it now is.
awaitable<ReconcileResult> Reconciler::tombstone(const json::object& wl, const std::string& reason, std::string_view value) {
  const WorkloadView f = read_view(wl);
  const WorkloadView tv = read_view(wl);
  json::object ann;
  if (tv.tombstone != value) ann[kTombstoneKey] = value;
  if (!parse_stamp(tv.terminal_since)) ann[terminal_since_key("Failed")] = format_stamp(wall_now());
  if (!ann.empty()) co_await patch_annotations(f.name, ann);
  if (tv.tombstone != value) {
    const bool closed = value == kTombstoneIssueClosed;
    if (d_.metrics) d_.metrics->tombstones_total.labels({closed ? "issue_closed" : "give_up"}).inc();
    if (closed) {
      co_await event(wl, "Normal", "Tombstoned", "LeaveAlone", "the issue is closed in dispatch; left as a Failed tombstone");
    } else {
      co_await event(wl, "Warning", "Tombstoned", "GiveUp",
                     fmt::format("attempt {} of {} failed; left as a Failed tombstone: {}", f.attempt,
                                 d_.config.retry_max_attempts, reason));
    }
    logger().info("left as a tombstone", {{"workload", f.name}, {"attempt", f.attempt}, {"reason", reason}});
  }
  const json::object marked = with_annotations(wl, ann);
  co_return co_await sweep(f.name, marked);
}

awaitable<void> Reconciler::patch_annotations(const std::string& name, const json::object& annotations) {
  const json::object patch{{"metadata", json::object{{"annotations", annotations}}}};
  const auto req = kube::Requests(kube::workloads(), d_.config.workload.namespace_name)
                       .patch(name, kube::PatchType::Merge, json::serialize(patch));
  co_await d_.kube.call(req);
}

void Reconciler::count_sweep(std::string_view sweep, std::string_view result) {
  if (d_.metrics) d_.metrics->sweeps_total.labels({sweep, result}).inc();
}

awaitable<ReconcileResult> Reconciler::sweep(const std::string& name, const json::object& wl) {
  // Errors are counted here and handled as any step's: the queue backs off and runs
  // the name again, so a failed report or prune is retried, never lost.
  std::string what = "sweep";
  try {
    const SweepStep s = next_sweep(read_view(wl), prune_settings(d_.config), wall_now());
    what = to_string(s.kind);
    logger().debug("sweep", {{"workload", name}, {"step", what}, {"why", s.why}});
    co_return co_await sweep_step(name, wl);
  } catch (const kube::ApiError& e) {
    if (e.kind() != kube::ErrorKind::Cancelled) count_sweep(what, "error");
    throw;
  } catch (const dispatch::DispatchError&) {
    count_sweep(what, "error");
    throw;
  }
}

awaitable<ReconcileResult> Reconciler::sweep_step(const std::string& name, const json::object& wl) {
  const WallTime now = wall_now();
  const WorkloadView tv = read_view(wl);
  const SweepStep s = next_sweep(tv, prune_settings(d_.config), now);
  switch (s.kind) {
    case SweepKind::Nothing:
      co_return done("nothing");
    case SweepKind::Wait:
      // The timer of this Workload: the queue runs the name again at the deadline.
      co_return later("prune-wait", s.wait);
    case SweepKind::Stamp: {
      json::object ann;
      ann[terminal_since_key(tv.phase)] = format_stamp(now);
      co_await patch_annotations(name, ann);
      count_sweep("stamp", tv.phase);
      logger().info("stamped terminal-since", {{"workload", name}, {"phase", tv.phase}, {"why", s.why}});
      const json::object stamped = with_annotations(wl, ann);
      co_return co_await sweep_step(name, stamped);
    }
    case SweepKind::Report:
      co_return co_await report(name, wl, s.write_stamp);
    case SweepKind::Prune:
      co_return co_await prune(wl, s.reset_issue);
  }
  co_return done("nothing");
}

awaitable<ReconcileResult> Reconciler::report(const std::string& name, const json::object& wl, bool write_stamp) {
  if (const auto wait = task_catch_up(name)) co_return later("await-tasks", *wait);
  const WallTime seen = wall_now();
  const json::array tasks = co_await fetch_tasks(name);
  const Report r = completed_report(wl, tasks);
  const WorkloadView f = read_view(wl);
  const std::string issue = fmt::format("{}#{}", f.repo, f.number);
  json::object ann;
  if (write_stamp) ann[terminal_since_key("Completed")] = format_stamp(seen);
  std::string sent = r.status;
  std::string result = r.status == "backlog" ? "parked" : r.status;
  std::exception_ptr failure;
  if (f.repo.empty() || f.number <= 0) {
    sent = "skipped: no issue on the Workload";
    result = "skipped";
    logger().warn("a Completed Workload names no issue; nothing to report", {{"workload", name}});
  } else {
    try {
      if (r.status == "backlog") {
        co_await park_issue(f, r.reason);
      } else {
        co_await d_.dispatch.set_status(issue_ref(f), r.status);
      }
    } catch (const dispatch::DispatchError& e) {
      if (permanent(e)) {
        sent = fmt::format("rejected: {} (HTTP {})", r.status, e.status());
        result = "rejected";
        logger().warn("dispatch refused the status; not asking again", {{"workload", name}, {"issue", issue},
                      {"status", r.status}, {"error", e.what()}});
      } else {
        failure = std::current_exception();
      }
    }
  }
  if (failure) {
    // Retried after a backoff; the stamp is kept meanwhile, so the age is right.
    if (!ann.empty()) co_await patch_annotations(name, ann);
    std::rethrow_exception(failure);
  }
  ann[kReportedAnnotation] = sent;
  co_await patch_annotations(name, ann);
  count_sweep("report", result);
  logger().info("reported a Completed Workload", {{"workload", name}, {"issue", issue}, {"status", sent},
                                                  {"reason", r.reason}, {"pull_request", r.pull_request}});
  if (result == "in-review") {
    co_await event(wl, "Normal", "InReview", "Report", fmt::format("issue {} moved to in-review: {}", issue, r.pull_request));
  } else if (result == "done") {
    co_await event(wl, "Normal", "Resolved", "Report", fmt::format("issue {} moved to done: {}", issue, r.reason));
  } else if (result == "parked") {
    if (d_.metrics) d_.metrics->parks_total.labels({"completed-without-pr"}).inc();
    co_await event(wl, "Warning", "Parked", "Park", "Needs a human decision: " + r.reason);
  }
  co_return done("report");
}

awaitable<ReconcileResult> Reconciler::prune(const json::object& wl, bool reset_issue) {
  const WorkloadView f = read_view(wl);
  const WorkloadView tv = read_view(wl);
  // The issue first: if that fails nothing has happened and the queue tries again; if
  // the delete fails after it, the issue is ready but its name still taken by a
  // Workload that is not terminating, which the claim loop does not claim onto.
  if (reset_issue && !f.repo.empty() && f.number > 0) {
    try {
      co_await d_.dispatch.set_status(issue_ref(f), "ready");
    } catch (const dispatch::DispatchError& e) {
      if (!permanent(e)) throw;
      logger().warn("dispatch refused status ready for a pruned issue", {{"workload", f.name}, {"error", e.what()}});
    }
  }
  kube::DeleteOptions opts;
  opts.propagation_policy = "Foreground";
  opts.precondition_uid = str(obj(&wl, "metadata"), "uid");
  const auto del = kube::Requests(kube::workloads(), d_.config.workload.namespace_name).remove(f.name, opts);
  try {
    co_await d_.kube.call(del);
  } catch (const kube::ApiError& e) {
    if (e.kind() != kube::ErrorKind::NotFound && e.kind() != kube::ErrorKind::Conflict) throw;
  }
  const double hours = tv.phase == "Completed" ? d_.config.prune_completed_after_hours : d_.config.prune_failed_after_hours;
  count_sweep("prune", tv.phase == "Completed" ? "completed" : "failed");
  logger().info("pruned", {{"workload", f.name}, {"phase", tv.phase}, {"terminal_since", tv.terminal_since},
                           {"after_hours", hours}, {"issue_reset", reset_issue}});
  co_await event(wl, "Normal", "Pruned", "Prune",
                 fmt::format("{} since {}; deleted after {:g} h{}", tv.phase, tv.terminal_since, hours,
                             reset_issue ? "; issue set back to ready" : ""));
  co_return done("prune");
}

awaitable<void> Reconciler::event(const json::object& wl, std::string type, std::string reason, std::string action,
                                  std::string note) {
  if (d_.events == nullptr) co_return;
  const auto* md = obj(&wl, "metadata");
  EventTarget target{str(md, "name"), str(md, "namespace"), str(md, "uid")};
  EventSpec spec{std::move(type), std::move(reason), std::move(action), std::move(note)};
  co_await d_.events->record(std::move(target), std::move(spec));
}

awaitable<void> reconcile_worker(kube::WorkQueue& queue, Reconciler& reconciler, metrics::BridgeMetrics* m) {
  for (;;) {
    std::optional<std::string> key = co_await queue.get();
    if (!key) co_return;
    const auto start = std::chrono::steady_clock::now();
    ReconcileResult r;
    bool cancelled = false;
    try {
      r = co_await reconciler.reconcile(*key);
    } catch (const kube::ApiError& e) {
      if (e.kind() == kube::ErrorKind::Cancelled) {
        cancelled = true;
      } else {
        logger().error("reconcile failed", {{"workload", *key}, {"error", e.what()}});
        r.error = true;
      }
    } catch (const boost::system::system_error& e) {
      if (e.code() == boost::asio::error::operation_aborted) {
        cancelled = true;
      } else {
        logger().error("reconcile failed", {{"workload", *key}, {"error", e.what()}});
        r.error = true;
      }
    } catch (const std::exception& e) {
      // Bad input from the API server or dispatch: never a crash; retried with backoff.
      logger().error("reconcile failed", {{"workload", *key}, {"error", e.what()}});
      r.error = true;
    }
    if (cancelled) {
      queue.done(*key);
      queue.add(*key);  // the next leader term picks it up again
      co_return;
    }
    if (m != nullptr) {
      const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
      m->reconcile_total.labels({"retry", r.error ? "error" : "ok"}).inc();
      m->reconcile_duration_seconds.labels({"retry"}).observe(took.count());
    }
    if (r.error) {
      queue.add_rate_limited(*key);
    } else {
      queue.forget(*key);
      if (r.requeue_after) queue.add_after(*key, *r.requeue_after);
    }
    queue.done(*key);
  }
}

}  // namespace fdb::op
