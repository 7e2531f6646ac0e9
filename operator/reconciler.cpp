#include "operator/reconciler.hpp"

#include "operator/informers.hpp"

#include "dispatch/client.hpp"
#include "dispatch/items.hpp"
#include "dispatch/workload.hpp"
#include "operator/cache_view.hpp"
#include "operator/events.hpp"
#include "operator/metrics.hpp"
#include "operator/retry_decision.hpp"
#include "watch/client.hpp"
#include "watch/errors.hpp"
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

constexpr std::string_view kParkedAnnotation = "foreman.llmkube.dev/parked";
constexpr std::string_view kTombstoneAnnotation = "foreman.llmkube.dev/tombstone";

const json::object* obj(const json::object* o, std::string_view key) {
  if (o == nullptr) return nullptr;
  const auto* v = o->if_contains(key);
  return (v != nullptr && v->is_object()) ? &v->get_object() : nullptr;
}

std::string str(const json::object* o, std::string_view key) {
  if (o == nullptr) return {};
  const auto* v = o->if_contains(key);
  return (v != nullptr && v->is_string()) ? std::string(v->get_string()) : std::string();
}

std::string annotation(const json::object& wl, std::string_view key) {
  return str(obj(obj(&wl, "metadata"), "annotations"), key);
}

dispatch::IssueRef issue_ref(const FailedWorkload& f) { return {f.issue_id, f.repo, f.number}; }
dispatch::IssueRef issue_ref(const Intent& i) { return {i.issue_id, i.repo, i.number}; }

ReconcileResult done(std::string step) { return {std::nullopt, false, std::move(step)}; }
ReconcileResult later(std::string step, std::chrono::milliseconds after) { return {after, false, std::move(step)}; }
ReconcileResult failed(std::string step) { return {std::nullopt, true, std::move(step)}; }

// Errors that are worth trying again (the queue backs off per key); anything else too,
// since the flow is idempotent — but those are logged as errors rather than warnings.
bool transient(const kube::ApiError& e) { return e.retryable(); }

}  // namespace

Reconciler::Reconciler(Deps deps) : d_(std::move(deps)) {}

std::optional<Intent> Reconciler::find_intent(const std::string& name) const {
  if (auto it = local_intents_.find(name); it != local_intents_.end()) return it->second;
  if (auto cm = d_.cache.intent(name)) {
    std::string error;
    if (auto intent = intent_from_configmap(*cm, &error)) return intent;
    logger().error("ignoring a malformed retry intent", {{"workload", name}, {"error", error}});
  }
  return std::nullopt;
}

awaitable<ReconcileResult> Reconciler::reconcile(std::string name) {
  std::optional<WorkloadView> view;
  if (auto wl = d_.cache.workload(name)) view = view_of(*wl);
  const auto intent = find_intent(name);
  const Step step = next_step(view, intent);
  logger().debug("reconcile", {{"workload", name}, {"step", to_string(step.kind)}, {"why", step.why}});
  try {
    switch (step.kind) {
      case StepKind::Nothing:
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

awaitable<ReconcileResult> Reconciler::decide(const std::string& name) {
  const auto seen = std::chrono::steady_clock::now();
  // The three reads a decision needs are independent: in parallel. Fresh copies: the
  // cache holds a projection, and tasks die with the Workload.
  using namespace boost::asio::experimental::awaitable_operators;
  auto [wl_answer, tasks_answer, issue_answer] =
      co_await (fetch_workload(name) && fetch_tasks(name) && fetch_issue_state(name));
  if (!wl_answer) co_return done("gone");
  json::object wl = std::move(*wl_answer);
  const FailedWorkload f = read_workload(wl);
  if (f.phase != "Failed" || f.terminating || !f.bridge_owned) co_return done("not failed any more");
  json::array tasks = std::move(tasks_answer);
  // The issue state was asked for the cached projection's repo and number; the fresh
  // object is the truth: ask again in the rare case they differ.
  IssueState state = issue_answer.first;
  if (issue_answer.second != std::pair<std::string, std::int64_t>(f.repo, f.number)) {
    state = co_await issue_state(f.repo, f.number, name);
  }

  const RetryAction action = decide_retry(wl, tasks, state, d_.config);
  logger().info("decided", {{"workload", name}, {"issue", fmt::format("{}#{}", f.repo, f.number)},
                            {"attempt", f.attempt}, {"action", action_name(action)}, {"reason", action_reason(action)}});

  if (const auto* p = std::get_if<action::Park>(&action)) co_return co_await park(wl, p->reason);
  if (const auto* t = std::get_if<action::Tombstone>(&action)) co_return co_await tombstone(wl, t->reason);
  if (std::holds_alternative<action::Nothing>(action)) co_return done("nothing: " + action_reason(action));

  const std::string uid = str(obj(&wl, "metadata"), "uid");
  Intent intent;
  intent.workload = name;
  intent.old_uid = uid;
  intent.issue_id = f.issue_id;
  intent.repo = f.repo;
  intent.number = f.number;
  intent.title = f.title;
  intent.reason = action_reason(action);

  if (const auto* e = std::get_if<action::Escalate>(&action)) {
    // Re-lane first: when it fails nothing else has happened and the issue stays
    // claimed where it was.
    co_await d_.dispatch.relane(f.issue_id, e->lane, e->reason);
    intent.kind = Intent::Kind::Escalate;
    intent.lane = e->lane;
    if (d_.metrics) d_.metrics->escalations_total.labels({f.lane, e->lane}).inc();
    co_await event(wl, "Normal", "Escalated", "Escalate",
                   fmt::format("attempt {} of {} failed; moved to lane {}: {}", f.attempt,
                               d_.config.retry_max_attempts, e->lane, e->reason));
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
  co_return co_await delete_old(intent);
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
  json::value v = json::parse(body);
  if (!v.is_object()) throw kube::ApiError(kube::ErrorKind::Decode, 200, {}, "the Workload is not a JSON object", "GET " + name);
  co_return std::move(v.get_object());
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
  json::value answer = json::parse(co_await d_.kube.call(list));
  json::array tasks;
  if (auto* items = answer.is_object() ? answer.get_object().if_contains("items") : nullptr; items != nullptr && items->is_array()) {
    tasks = std::move(items->get_array());
  }
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
    const FailedWorkload f = read_workload(*cached);
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
  // The current configuration, and the coders' current load.
  const json::object manifest = dispatch::build_workload(build, d_.config.workload, d_.cache.load().by_coder);
  const auto req = kube::Requests(kube::workloads(), d_.config.workload.namespace_name).create(json::serialize(manifest));
  t.create_sent = std::chrono::steady_clock::now();
  try {
    co_await d_.kube.call(req);
  } catch (const kube::ApiError& e) {
    if (e.kind() != kube::ErrorKind::AlreadyExists) throw;
    // Created already (by us before a crash, or by a claim). If it were the old object
    // still there, the cache would not have reported it gone: the next step decides.
    logger().info("the next attempt exists already", {{"workload", intent.workload}});
  }
  logger().info("recreated", {{"workload", intent.workload}, {"attempt", intent.next_attempt},
                              {"infra_attempts", intent.infra_attempts},
                              {"mode", intent.feedback.empty() ? "issue-batch" : "pipeline"}});
  if (d_.metrics) {
    d_.metrics->retries_total.labels({std::to_string(intent.next_attempt)}).inc();
    if (t.failed_seen.time_since_epoch().count() != 0) {
      const std::chrono::duration<double> d = t.create_sent - t.failed_seen;
      d_.metrics->failed_to_recreate_seconds.get().observe(d.count());
    }
  }
  if (d_.events) {
    // Named first: GCC 12 destroys braced temporaries inside a co_await expression twice.
    EventTarget target{intent.workload, d_.config.workload.namespace_name, {}};
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
  const FailedWorkload f = read_workload(wl);
  const std::string& ns = d_.config.workload.namespace_name;
  // Park once: the annotation says the dispatch side is done, so a crash before the
  // delete does not comment twice.
  if (annotation(wl, kParkedAnnotation).empty()) {
    co_await d_.dispatch.set_status(issue_ref(f), "backlog");
    try {
      co_await d_.dispatch.label(issue_ref(f), "needs-human");
      co_await d_.dispatch.comment(issue_ref(f), park_comment(f, reason));
    } catch (const dispatch::DispatchError& e) {
      logger().warn("park: label or comment failed (best effort)", {{"workload", f.name}, {"error", e.what()}});
    }
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

awaitable<ReconcileResult> Reconciler::tombstone(const json::object& wl, const std::string& reason) {
  if (!annotation(wl, kTombstoneAnnotation).empty()) co_return done("tombstone (already)");
  const FailedWorkload f = read_workload(wl);
  const json::object patch{{"metadata", json::object{{"annotations", json::object{{kTombstoneAnnotation, "true"}}}}}};
  const auto req = kube::Requests(kube::workloads(), d_.config.workload.namespace_name)
                       .patch(f.name, kube::PatchType::Merge, json::serialize(patch));
  co_await d_.kube.call(req);
  if (d_.metrics) d_.metrics->tombstones_total.labels({"attempts-exhausted"}).inc();
  co_await event(wl, "Warning", "Tombstoned", "GiveUp",
                 fmt::format("attempt {} of {} failed; left as a Failed tombstone: {}", f.attempt,
                             d_.config.retry_max_attempts, reason));
  logger().info("left as a tombstone", {{"workload", f.name}, {"attempt", f.attempt}, {"reason", reason}});
  co_return done("tombstone");
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
