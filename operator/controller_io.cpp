#include "operator/controller_io.hpp"

#include "dispatch/client_io.hpp"
#include "dispatch/github_io.hpp"
#include "operator/cache_view.hpp"
#include "operator/claim_sweeps_io.hpp"
#include "operator/claimer_io.hpp"
#include "operator/config.hpp"
#include "operator/events_io.hpp"
#include "operator/informers.hpp"
#include "operator/liveness.hpp"
#include "operator/metrics.hpp"
#include "operator/prfix_loop_io.hpp"
#include "operator/reconciler_io.hpp"
#include "operator/wiring.hpp"
#include "watch/client_io.hpp"
#include "watch/errors.hpp"
#include "watch/leader.hpp"
#include "watch/log.hpp"
#include "watch/watch_cache_io.hpp"
#include "watch/work_queue_io.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/multiple_exceptions.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace fdb::op {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
using namespace std::chrono_literals;

namespace {

const log::Logger& logger() {
  static const log::Logger l("main");
  return l;
}

// Cancellation, possibly wrapped by a parallel group: the normal end of a coroutine
// tree at shutdown or when leadership ends, not an error.
bool is_cancellation(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const asio::multiple_exceptions& m) {
    return is_cancellation(m.first_exception());
  } catch (const boost::system::system_error& se) {
    return se.code() == asio::error::operation_aborted;
  } catch (const kube::ApiError& ae) {
    return ae.kind() == kube::ErrorKind::Cancelled;
  } catch (...) {
    return false;
  }
}

void log_exception(const char* what, std::exception_ptr e) {
  if (!e || is_cancellation(e)) return;
  try {
    std::rethrow_exception(e);
  } catch (const asio::multiple_exceptions& m) {
    log_exception(what, m.first_exception());
  } catch (const std::exception& ex) {
    logger().error(what, {{"error", ex.what()}});
  }
}

// What ended a loop: its exception's text, or that it returned.
std::string ending_of(std::exception_ptr e) {
  if (!e) return "it returned";
  try {
    std::rethrow_exception(e);
  } catch (const asio::multiple_exceptions& m) {
    return ending_of(m.first_exception());
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "an unknown exception";
  }
}

// An informer's typed event: a log line with the detail, the counters from the kind.
void report(metrics::BridgeMetrics& m, const char* resource, const kube::InformerEvent& e) {
  const auto level = log_level(e.kind);
  if (e.kind == kube::InformerEventKind::Listed) {
    logger().write(level, to_string(e.kind), {{"resource", resource}, {"list", to_string(e.reason)}, {"objects", e.objects}});
  } else if (logger().enabled(level)) {
    logger().write(level, to_string(e.kind),
                   {{"resource", resource}, {"wait_ms", static_cast<long long>(e.wait.count())}, {"detail", e.detail}});
  }
  const WatchCounts counts = watch_counts(e.kind);
  if (counts.relist) m.watch_relists_total.labels({resource}).inc();
  if (counts.restart) m.watch_restarts_total.labels({resource}).inc();
}

// foreman_bridge_watch_decode_fallbacks_total: every reason's series exists from the first
// scrape on (at 0 while simdjson decodes every line).
void count_fallbacks(metrics::BridgeMetrics& m, const char* resource, const FallbackIncrements& inc) {
  m.watch_decode_fallbacks_total.labels({resource, "refused"}).inc(static_cast<double>(inc.refused));
  m.watch_decode_fallbacks_total.labels({resource, "kept-double"}).inc(static_cast<double>(inc.kept_double));
  m.watch_decode_fallbacks_total.labels({resource, "duplicate-key"}).inc(static_cast<double>(inc.duplicate_key));
}

}  // namespace

// The actors that act on what the informers see, built in this one place around one
// in-flight registry.
struct Actors {
  InFlight in_flight;  // the one registry of what is under way (operator/in_flight.hpp)
  EventRecorder events;
  Reconciler reconciler;
  LoopDeps loop;  // what the claim loop, the claim sweeps and the PR-fix loop act through
  Claimer claimer;
  ClaimSweeper sweeper;
  PrFixLoop prfix;

  Actors(const ControllerDeps& d, const CacheView& caches)
      : events(d.kube, d.config.workload.namespace_name, d.config.identity),
        reconciler(Reconciler::Deps{d.kube, d.dispatch, d.config, caches, &events, &d.metrics,
                                    d.observers.on_retry_done, std::chrono::milliseconds(2000), d.github, &in_flight}),
        loop{d.kube, d.dispatch, d.config, caches, &d.metrics},
        claimer(loop, in_flight.claims()),
        sweeper(loop, {[this](std::string_view n) { return in_flight.creating(n); },
                       [this](std::string_view n) { return in_flight.retry_in_flight(n); }}),
        prfix(loop, d.github) {}
};

struct Controller::Parts {
  asio::any_io_executor ex;
  ControllerDeps d;
  kube::WatchCache workloads;
  kube::WatchCache intents;
  kube::WatchCache tasks;
  InformerCaches caches;
  kube::WorkQueue queue;
  Actors actors;
  asio::cancellation_signal leader_cancel;
  asio::cancellation_signal informers_cancel;
  std::unique_ptr<kube::LeaderElector> elector;
  bool leading = false;
  bool stopping = false;
  // The decoders' fallback counts at the last scrape (workloads, agentictasks).
  kube::FastCounts fast_seen_workloads, fast_seen_tasks;

  static kube::WatchCacheOptions workload_options(const std::string& ns) {
    kube::WatchCacheOptions o = workload_informer_options(ns);
    o.resync_period = 10min;
    return o;
  }

  Parts(asio::any_io_executor e, ControllerDeps deps)
      : ex(std::move(e)),
        d(std::move(deps)),
        workloads(ex, d.kube, workload_options(d.config.workload.namespace_name)),
        intents(ex, d.kube, intent_informer_options(d.config.workload.namespace_name)),
        tasks(ex, d.kube, task_informer_options(d.config.workload.namespace_name)),
        caches(workloads, intents, &tasks, d.config.workload.namespace_name),
        queue(ex),
        actors(d, caches) {}

  void wire_informers();
  void wire_metrics();
  void start_leading();
  void stop_leading();
};

void Controller::Parts::wire_informers() {
  // The queue needs the name only: the object is decoded when an observer looks at it.
  const auto workload_event = [this](WorkloadChange change, const kube::CachedObject& o) {
    if (d.observers.on_workload) d.observers.on_workload(change, o.object());
    queue.add(std::string(o.name()));
  };
  // Handlers look at the new state only (on_modified): no previous version is kept.
  workloads.set_handlers({
      .on_add = [workload_event](const kube::CachedObject& o) { workload_event(WorkloadChange::Added, o); },
      .on_delete = [workload_event](const kube::CachedObject& o) { workload_event(WorkloadChange::Deleted, o); },
      .on_resync = [this](const std::string& key) { queue.add(std::string(name_from_cache_key(key))); },
      .on_informer_event = [this](const kube::InformerEvent& e) { report(d.metrics, "workloads", e); },
      .on_modified = [workload_event](const kube::CachedObject& o) { workload_event(WorkloadChange::Modified, o); },
  });
  const auto intent_changed = [this](const kube::CachedObject& o) {
    if (auto w = intent_workload(o.object()); !w.empty()) queue.add(w);
  };
  intents.set_handlers({.on_add = intent_changed,
                        .on_delete = intent_changed,
                        .on_informer_event = [this](const kube::InformerEvent& e) { report(d.metrics, "intents", e); },
                        .on_modified = intent_changed});
  // A task's change is its Workload's business (a decision waiting for its tasks, say).
  const auto task_changed = [this](const kube::CachedObject& t) {
    if (auto w = task_workload(t.object()); !w.empty()) queue.add(w);
  };
  tasks.set_handlers({.on_add = task_changed,
                      .on_informer_event = [this](const kube::InformerEvent& e) { report(d.metrics, "agentictasks", e); },
                      .on_modified = task_changed});
}

void Controller::Parts::wire_metrics() {
  auto& m = d.metrics;
  queue.set_hooks({[&m](std::size_t depth) { m.workqueue_depth.labels({"workloads"}).set(static_cast<double>(depth)); },
                   [&m] { m.workqueue_adds_total.labels({"workloads"}).inc(); },
                   [&m](double s) { m.workqueue_queue_duration_seconds.labels({"workloads"}).observe(s); },
                   [&m](double s) { m.workqueue_work_duration_seconds.labels({"workloads"}).observe(s); },
                   [&m] { m.workqueue_retries_total.labels({"workloads"}).inc(); }});
  d.registry.on_collect([this, &m] {
    const auto now = std::chrono::steady_clock::now();
    m.workqueue_unfinished_work_seconds.labels({"workloads"}).set(queue.core().unfinished_work(now));
    m.workqueue_longest_running_processor_seconds.labels({"workloads"}).set(queue.core().longest_running(now));
    m.cache_objects.labels({"workloads"}).set(static_cast<double>(workloads.cache().size()));
    m.cache_objects.labels({"intents"}).set(static_cast<double>(intents.cache().size()));
    m.cache_objects.labels({"agentictasks"}).set(static_cast<double>(tasks.cache().size()));
    count_fallbacks(m, "workloads", fallback_increments(workloads.fast_counts(), fast_seen_workloads));
    count_fallbacks(m, "agentictasks", fallback_increments(tasks.fast_counts(), fast_seen_tasks));
  });
}

namespace {

// The leader's loops: four workers of the queue (retries and terminal sweeps, one timer per
// Workload through the queue), the claim loop, the stranded/stuck-claims sweeps (they
// need dispatch's view: a timer of their own) and the PR-fix loop (returns at once
// without PR_FIX_ENABLED).
awaitable<void> leader_work(kube::WorkQueue* queue, Actors* a, metrics::BridgeMetrics* m) {
  using namespace asio::experimental::awaitable_operators;
  auto worker = [queue, a, m] { return reconcile_worker(*queue, a->reconciler, m); };
  co_await ((worker() && worker() && worker() && worker()) && a->claimer.run() && a->sweeper.run() && a->prfix.run());
}

awaitable<void> run_informers(kube::WatchCache* a, kube::WatchCache* b, kube::WatchCache* c) {
  using namespace asio::experimental::awaitable_operators;
  co_await (a->run() && b->run() && c->run());
}

awaitable<void> run_elector(kube::LeaderElector* e) { co_await e->run(); }

}  // namespace

void Controller::Parts::start_leading() {
  if (leading || stopping) return;
  leading = true;
  d.metrics.leader_election_master_status.labels({d.config.lease_name}).set(1);
  logger().info("leading: claiming and retrying");
  asio::co_spawn(ex, leader_work(&queue, &actors, &d.metrics),
                 asio::bind_cancellation_slot(leader_cancel.slot(), [this](std::exception_ptr e) {
                   log_exception("leader work failed", e);
                   // Ended while still leading (not stopped by stop_leading): a leader that
                   // does nothing. /healthz says so, and the kubelet restarts the container.
                   if (leading && !stopping) d.liveness.loop_ended("the leader work stopped: " + ending_of(e));
                 }));
}

void Controller::Parts::stop_leading() {
  if (!leading) return;
  leading = false;
  d.metrics.leader_election_master_status.labels({d.config.lease_name}).set(0);
  // Stop writing at once: in-flight requests are cancelled.
  leader_cancel.emit(asio::cancellation_type::terminal);
  actors.in_flight.forget();  // the retries and claims under way: the next leader finishes them from the caches
  logger().info("not leading: stopped claiming and retrying");
}

Controller::Controller(asio::any_io_executor ex, ControllerDeps deps)
    : p_(std::make_shared<Parts>(std::move(ex), std::move(deps))) {
  p_->d.metrics.leader_election_master_status.labels({p_->d.config.lease_name}).set(0);
  p_->wire_informers();
  p_->wire_metrics();
}

Controller::~Controller() = default;

void Controller::start() {
  Parts* p = p_.get();
  // Informers run on every replica: followers keep their caches warm.
  asio::co_spawn(p->ex, run_informers(&p->workloads, &p->intents, &p->tasks),
                 asio::bind_cancellation_slot(p->informers_cancel.slot(), [p](std::exception_ptr e) {
                   log_exception("informers stopped", e);
                   if (!p->stopping) p->d.liveness.loop_ended("the informers stopped: " + ending_of(e));
                 }));
  const Config& cfg = p->d.config;
  if (!cfg.leader_elect) {
    p->start_leading();
    return;
  }
  kube::LeaderConfig lc;
  lc.identity = cfg.identity;
  lc.lease_duration = std::chrono::seconds(cfg.lease_duration_s);
  lc.renew_deadline = std::chrono::seconds(cfg.renew_deadline_s);
  lc.retry_period = std::chrono::seconds(cfg.retry_period_s);
  kube::LeaderCallbacks cb;
  cb.on_started_leading = [p] { p->start_leading(); };
  cb.on_stopped_leading = [p] { p->stop_leading(); };
  cb.on_new_leader = [](const std::string& holder) { logger().info("leader", {{"holder", holder}}); };
  p->elector = std::make_unique<kube::LeaderElector>(p->ex, p->d.kube, cfg.workload.namespace_name, cfg.lease_name, lc, cb);
  asio::co_spawn(p->ex, run_elector(p->elector.get()), [p](std::exception_ptr ep) {
    log_exception("leader election stopped", ep);
    if (!p->stopping) p->d.liveness.loop_ended("the leader election stopped: " + ending_of(ep));
  });
}

void Controller::stop() {
  Parts* p = p_.get();
  if (p->stopping) return;
  p->stopping = true;
  p->stop_leading();
  if (p->elector) p->elector->stop();
  p->informers_cancel.emit(asio::cancellation_type::terminal);
  p->queue.shutdown();
}

Health Controller::readiness() const {
  if (!p_->caches.synced()) return Health{false, "caches not synced"};
  if (!p_->workloads.healthy() || !p_->intents.healthy() || !p_->tasks.healthy()) {
    return Health{false, "a watch is restarting"};
  }
  return Health{true, {}};
}

bool Controller::leading() const noexcept { return p_->leading; }
const kube::WatchCache& Controller::workloads() const noexcept { return p_->workloads; }
const CacheView& Controller::caches() const noexcept { return p_->caches; }
const kube::WorkQueue& Controller::queue() const noexcept { return p_->queue; }

}  // namespace fdb::op
