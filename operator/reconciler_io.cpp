// The executor of the retry step machine (operator/retry_steps.hpp): reads the caches once
// for a name, asks steps::plan() what to do, and runs the actions in order — kube writes
// through operator/kube_ops_io.hpp, dispatch calls, Events, typed metrics. No decisions
// here: what to do is retry_steps.cpp's; how a read is made is reconciler.cpp's.
#include "operator/reconciler_io.hpp"

#include "dispatch/client_io.hpp"
#include "dispatch/items.hpp"
#include "dispatch/prfix.hpp"
#include "dispatch/workload.hpp"
#include "operator/cache_view.hpp"
#include "operator/events_io.hpp"
#include "operator/kube_ops_io.hpp"
#include "operator/metrics.hpp"
#include "watch/client_io.hpp"
#include "watch/errors.hpp"
#include "watch/log.hpp"
#include "watch/request.hpp"
#include "watch/work_queue_io.hpp"

#include <boost/json/serialize.hpp>

#include <fmt/format.h>

namespace fdb::op {

namespace json = boost::json;
using boost::asio::awaitable;

namespace {

const log::Logger& logger() {
  static const log::Logger l("reconciler");
  return l;
}

dispatch::IssueRef issue_ref(const Intent& i) { return {i.issue_id, i.repo, i.number}; }

constexpr auto& done = ReconcileResult::done;
constexpr auto& later = ReconcileResult::later;
constexpr auto& failed = ReconcileResult::failed;

// A create refused for good: a 4xx other than 409 (exists) and 429 (too many requests).
bool refused_for_good(const kube::ApiError& e) {
  const int s = e.http_status();
  return s >= 400 && s < 500 && s != 409 && s != 429;
}

// The kind of sweep an action belongs to, for sweeps_total{sweep, "error"}; empty: none.
std::string_view sweep_of(const steps::Action& a) {
  if (std::holds_alternative<steps::Stamp>(a)) return "stamp";
  if (std::holds_alternative<steps::Report>(a)) return "report";
  if (std::holds_alternative<steps::Prune>(a)) return "prune";
  return {};
}

}  // namespace

Reconciler::Reconciler(Deps deps)
    : d_(std::move(deps)), in_flight_(d_.in_flight != nullptr ? *d_.in_flight : own_in_flight_) {}

steps::Settings Reconciler::settings() const {
  steps::Settings s;
  s.delete_timeout = std::chrono::seconds(d_.config.delete_workload_timeout_s);
  s.prune = {d_.config.prune_completed_after_hours, d_.config.prune_failed_after_hours};
  s.retry_max_attempts = d_.config.retry_max_attempts;
  return s;
}

awaitable<ReconcileResult> Reconciler::reconcile(std::string name) {
  const steps::Observed observed = steps::observe(d_.cache, in_flight_, name);
  if (observed.bad_intent) {
    logger().error("ignoring a malformed retry intent", {{"workload", name}, {"error", observed.bad_intent->what()}});
  }
  if (!observed.workload) in_flight_.task_wait_end(name);
  steps::Actions actions = steps::plan(observed, in_flight_, std::chrono::steady_clock::now(), wall_now(), settings());
  const std::string first(actions.empty() ? "nothing" : steps::action_name(actions.front()));
  logger().debug("reconcile", {{"workload", name}, {"step", first}});
  try {
    co_return co_await run_steps(*this, name, std::move(actions));
  } catch (const kube::ApiError& e) {
    if (e.kind() == kube::ErrorKind::Cancelled) throw;
    (e.retryable() ? logger().warn("reconcile step failed", {{"workload", name}, {"step", first}, {"error", e.what()}})
                   : logger().error("reconcile step failed", {{"workload", name}, {"step", first}, {"error", e.what()}}));
    co_return failed(first);
  } catch (const dispatch::DispatchError& e) {
    logger().warn("dispatch call failed", {{"workload", name}, {"step", first}, {"error", e.what()}});
    co_return failed(first);
  }
}

awaitable<ReconcileResult> run_steps(StepExecutor& executor, std::string name, steps::Actions actions) {
  // A read action's answer (more actions) runs next, before what followed it.
  for (std::size_t i = 0; i < actions.size(); ++i) {
    const std::string_view sweep = sweep_of(actions[i]);
    StepOutcome out;
    try {
      out = co_await executor.execute(name, actions[i]);
    } catch (const kube::ApiError& e) {
      // Errors of a sweep are counted, then handled as any step's: the queue backs off and
      // runs the name again, so a failed report or prune is retried, never lost.
      if (!sweep.empty() && e.kind() != kube::ErrorKind::Cancelled) executor.sweep_failed(sweep);
      throw;
    } catch (const dispatch::DispatchError&) {
      if (!sweep.empty()) executor.sweep_failed(sweep);
      throw;
    }
    if (out.result) co_return std::move(*out.result);
    actions.insert(actions.begin() + static_cast<std::ptrdiff_t>(i) + 1, std::make_move_iterator(out.more.begin()),
                   std::make_move_iterator(out.more.end()));
  }
  co_return done("nothing");
}

awaitable<StepOutcome> Reconciler::execute(const std::string& name, steps::Action& action) {
  using namespace steps;
  StepOutcome out;
  if (auto* a = std::get_if<Done>(&action)) {
    out.result = done(a->step);
  } else if (auto* a = std::get_if<Requeue>(&action)) {
    out.result = later(a->step, a->after);
  } else if (std::holds_alternative<Decide>(action)) {
    out.more = co_await decide(name);
  } else if (auto* a = std::get_if<DeleteWorkload>(&action)) {
    const ReconcileResult r = co_await delete_workload(*a);
    if (a->retry) out.result = r;
  } else if (auto* a = std::get_if<WarnStuckDeletion>(&action)) {
    logger().warn("the old Workload is still being deleted",
                  {{"workload", a->name}, {"timeout_s", d_.config.delete_workload_timeout_s}});
    in_flight_.timings(a->name).delete_sent = std::chrono::steady_clock::now();  // again after another timeout
  } else if (auto* a = std::get_if<CreateWorkload>(&action)) {
    co_await create(a->intent);
  } else if (auto* a = std::get_if<Unclaim>(&action)) {
    co_await unclaim(a->intent);
  } else if (auto* a = std::get_if<ClearIntent>(&action)) {
    out.result = co_await clear_intent(a->name, a->step);
  } else if (auto* a = std::get_if<RecordIntent>(&action)) {
    co_await record_intent(*a);
  } else if (auto* a = std::get_if<Relane>(&action)) {
    co_await d_.dispatch.relane(a->issue_id, a->lane, a->reason);
  } else if (auto* a = std::get_if<ParkIssue>(&action)) {
    co_await park_issue(a->workload, a->reason);
  } else if (auto* a = std::get_if<PatchAnnotations>(&action)) {
    co_await patch_workload(a->name, a->annotations);
  } else if (auto* a = std::get_if<Count>(&action)) {
    count(*a);
  } else if (auto* a = std::get_if<Event>(&action)) {
    co_await event(*a);
  } else if (auto* a = std::get_if<Log>(&action)) {
    logger().info(a->message, {{"workload", name}, {"why", a->why}});
  } else if (auto* a = std::get_if<Stamp>(&action)) {
    co_await stamp(name, *a);
  } else if (auto* a = std::get_if<steps::Report>(&action)) {
    // The report's own actions run inside it: a failure among them is the report's
    // (sweeps_total{report, error}), as dispatch's is.
    steps::Actions then = co_await report(name, a->write_stamp);
    out.result = co_await run_steps(*this, name, std::move(then));
  } else if (auto* a = std::get_if<Prune>(&action)) {
    out.result = co_await prune(*a);
  } else if (auto* a = std::get_if<ReportLog>(&action)) {
    log_report(name, *a);
  } else if (auto* a = std::get_if<Rethrow>(&action)) {
    std::rethrow_exception(a->error);
  }
  co_return out;
}

awaitable<void> Reconciler::patch_workload(std::string name, json::object annotations) {
  const kube::ResourceType type = kube::workloads();
  co_await patch_annotations(d_.kube, type, d_.config.workload.namespace_name, std::move(name), std::move(annotations));
}

awaitable<DeleteOutcome> Reconciler::delete_workload_fg(std::string name, std::string uid) {
  const kube::ResourceType type = kube::workloads();
  co_return co_await delete_foreground(d_.kube, type, d_.config.workload.namespace_name, std::move(name), std::move(uid));
}

awaitable<ReconcileResult> Reconciler::delete_workload(const steps::DeleteWorkload& d) {
  if (d.retry) in_flight_.timings(d.name).delete_sent = std::chrono::steady_clock::now();
  // Gone already, or replaced (the uid precondition failed): either way the old object is
  // not there to delete.
  const DeleteOutcome outcome =
      co_await delete_workload_fg(d.name, d.uid);
  if (!d.retry) co_return done("delete");
  in_flight_.timings(d.name).delete_accepted = std::chrono::steady_clock::now();
  logger().info("deleted with foreground propagation; waiting for it to be gone",
                {{"workload", d.name}, {"outcome", to_string(outcome)}});
  co_return later("delete", std::chrono::seconds(d_.config.delete_workload_timeout_s));
}

awaitable<void> Reconciler::create(const Intent& intent) {
  in_flight_.timings(intent.workload).gone_seen = std::chrono::steady_clock::now();
  switch (intent.kind) {
    case Intent::Kind::Retry: co_await create_retry(intent); break;
    case Intent::Kind::Claim: co_await create_claim(intent); break;
    case Intent::Kind::PrFix: co_await create_prfix(intent); break;
    case Intent::Kind::Escalate: break;  // never created: next_step says Unclaim
  }
}

awaitable<void> Reconciler::create_retry(const Intent& intent) {
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
  RetryTimings& t = in_flight_.timings(intent.workload);
  t.create_sent = std::chrono::steady_clock::now();
  // The Event's regarding.uid: `kubectl describe` finds Events by it. An existing object:
  // created by us before a crash, or by a claim; the old one would not be reported gone.
  const CreateOutcome created = co_await create_or_exists(d_.kube, req);
  if (!created.created) logger().info("the next attempt exists already", {{"workload", intent.target_name()}});
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
    if (t.failed_seen != SteadyTime{}) {
      const std::chrono::duration<double> d = t.create_sent - t.failed_seen;
      d_.metrics->failed_to_recreate_seconds.get().observe(d.count());
    }
  }
  const steps::Event e{intent.target_name(), d_.config.workload.namespace_name, created.uid, "Normal", "Retried", "Retry",
                       fmt::format("attempt {} created after attempt {} failed: {}", intent.next_attempt,
                                   intent.next_attempt - 1, intent.reason)};
  co_await event(e);
  if (d_.on_retry_done) d_.on_retry_done(intent.workload, t);
}

// Attempt 1 of the issue, from the intent a claim round recorded when it met a
// terminating object of that name. Refused for good: the claim is given back.
awaitable<void> Reconciler::create_claim(const Intent& intent) {
  dispatch::BuildRequest build;
  build.issue = {intent.repo, intent.number, intent.title, intent.lane, intent.issue_id};
  build.attempt = 1;
  build.name = intent.target_name();
  const json::object manifest = dispatch::build_workload(build, d_.config.workload, d_.cache.load().by_coder);
  const auto req = kube::Requests(kube::workloads(), d_.config.workload.namespace_name).create(json::serialize(manifest));
  CreateOutcome created;
  bool refused = false;
  try {
    created = co_await create_or_exists(d_.kube, req);
  } catch (const kube::ApiError& e) {
    if (!refused_for_good(e)) throw;
    logger().error("cannot create the claimed issue's Workload; giving the claim back",
                   {{"workload", intent.target_name()}, {"error", e.what()}});
    refused = true;
  }
  if (refused) {
    co_await unclaim(intent);
    co_return;
  }
  in_flight_.claims().created(intent.target_name(), std::chrono::steady_clock::now());
  if (created.created && d_.metrics) d_.metrics->workloads_created_total.labels({intent.lane}).inc();
  logger().info(created.created ? "claimed; Workload created once the old one was gone" : "the claimed issue's Workload exists already",
                {{"workload", intent.target_name()}, {"issue", fmt::format("{}#{}", intent.repo, intent.number)},
                 {"lane", intent.lane}, {"coder", coder_of(manifest)}});
}

awaitable<void> Reconciler::create_prfix(const Intent& intent) {
  if (!intent.prfix) co_return;  // the codec never reads a PrFix intent without one
  const dispatch::PrFixSettings ps{d_.config.pr_fix_max_attempts, d_.config.pr_fix_lane_agents};
  const json::object manifest = dispatch::build_prfix_workload(*intent.prfix, d_.config.workload, ps, d_.cache.load().by_coder);
  const auto req = kube::Requests(kube::workloads(), d_.config.workload.namespace_name).create(json::serialize(manifest));
  const CreateOutcome created = co_await create_or_exists(d_.kube, req);
  logger().info(created.created ? "PR fix created once the ended one was gone" : "the PR fix exists already",
                {{"workload", intent.target_name()}, {"pr", fmt::format("{}#{}", intent.prfix->item.repo, intent.prfix->item.pr)},
                 {"lane", intent.prfix->lane}, {"attempt", intent.prfix->attempt}});
}

awaitable<void> Reconciler::unclaim(const Intent& intent) {
  co_await d_.dispatch.unclaim(issue_ref(intent));
  logger().info(intent.kind == Intent::Kind::Escalate ? "escalated and unclaimed" : "unclaimed",
                {{"workload", intent.workload}, {"lane", intent.lane}});
}

awaitable<ReconcileResult> Reconciler::clear_intent(const std::string& name, const std::string& step) {
  const auto req = kube::Requests(kube::config_maps(), d_.config.workload.namespace_name).remove(intent_name(name));
  co_await remove_if_present(d_.kube, req);
  in_flight_.intent_cleared(name);
  co_return done(step);
}

awaitable<void> Reconciler::record_intent(const steps::RecordIntent& r) {
  const std::string& ns = d_.config.workload.namespace_name;
  const auto req = kube::Requests(kube::config_maps(), ns).create(json::serialize(intent_to_configmap(r.intent, ns)));
  const CreateOutcome created = co_await create_or_exists(d_.kube, req);
  if (!created.created) {
    // An intent for this name already exists: a previous leader got this far.
    logger().warn("a retry intent already exists; continuing with it", {{"workload", r.intent.workload}});
  }
  in_flight_.intent_recorded(r.intent, r.decided_at);
}

awaitable<void> Reconciler::event(const steps::Event& e) {
  if (d_.events == nullptr) co_return;
  // Named first: GCC 12 destroys braced temporaries inside a co_await expression twice.
  EventTarget target{e.workload, e.ns.empty() ? d_.config.workload.namespace_name : e.ns, e.uid};
  EventSpec spec{e.type, e.reason, e.action, e.note};
  co_await d_.events->record(std::move(target), std::move(spec));
}

void Reconciler::count(const steps::Count& c) {
  if (d_.metrics == nullptr) return;
  switch (c.counter) {
    case steps::Counter::Park: d_.metrics->parks_total.labels({c.label}).inc(); break;
    case steps::Counter::TombstoneGiveUp: d_.metrics->tombstones_total.labels({"give_up"}).inc(); break;
    case steps::Counter::TombstoneIssueClosed: d_.metrics->tombstones_total.labels({"issue_closed"}).inc(); break;
    case steps::Counter::Escalation: d_.metrics->escalations_total.labels({c.label, c.label2}).inc(); break;
    case steps::Counter::Sweep: count_sweep(c.label, c.label2); break;
  }
}

void Reconciler::sweep_failed(std::string_view sweep) { count_sweep(sweep, "error"); }

void Reconciler::count_sweep(std::string_view sweep, std::string_view result) {
  if (d_.metrics) d_.metrics->sweeps_total.labels({sweep, result}).inc();
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
