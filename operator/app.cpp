#include "operator/app.hpp"

#include "dispatch/client.hpp"
#include "dispatch/github.hpp"
#include "operator/cache_view.hpp"
#include "operator/claim_sweeps.hpp"
#include "operator/claimer.hpp"
#include "operator/prfix_loop.hpp"
#include "operator/events.hpp"
#include "operator/http_server.hpp"
#include "operator/informers.hpp"
#include "operator/liveness.hpp"
#include "operator/metrics.hpp"
#include "operator/reconciler.hpp"
#include "operator/retry_flow.hpp"
#include "operator/version.hpp"
#include "watch/client.hpp"
#include "watch/config.hpp"
#include "watch/errors.hpp"
#include "watch/leader.hpp"
#include "watch/log.hpp"
#include "watch/watch_cache.hpp"
#include "watch/work_queue.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/multiple_exceptions.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <csignal>

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

constexpr int kWorkers = 4;

struct Runtime {
  const Config& cfg;
  asio::io_context& io;
  kube::WorkQueue& queue;
  Reconciler& reconciler;
  Claimer& claimer;
  ClaimSweeper& sweeper;
  PrFixLoop& prfix;
  metrics::BridgeMetrics& m;
  Liveness& liveness;
  asio::cancellation_signal leader_cancel;
  bool leading = false;
  bool stopping = false;
};

awaitable<void> leader_work(Runtime* rt) {
  using namespace asio::experimental::awaitable_operators;
  auto worker = [rt] { return reconcile_worker(rt->queue, rt->reconciler, &rt->m); };
  // Sweeps of terminal Workloads run in the workers (events, one timer per Workload through
  // the queue); the stranded/stuck-claims sweeps need dispatch's view: a timer of their own.
  // The PR-fix loop (PR_FIX_ENABLED) is a timer of its own too; without it, it returns at once.
  co_await ((worker() && worker() && worker() && worker()) && rt->claimer.run() && rt->sweeper.run() &&
            rt->prfix.run());
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

void start_leading(Runtime& rt) {
  if (rt.leading || rt.stopping) return;
  rt.leading = true;
  rt.m.leader_election_master_status.labels({rt.cfg.lease_name}).set(1);
  logger().info("leading: claiming and retrying");
  Runtime* p = &rt;
  asio::co_spawn(rt.io, leader_work(p),
                 asio::bind_cancellation_slot(rt.leader_cancel.slot(), [p](std::exception_ptr e) {
                   log_exception("leader work failed", e);
                   // Ended while still leading (not stopped by stop_leading): a leader that
                   // does nothing. /healthz says so, and the kubelet restarts the container.
                   if (p->leading && !p->stopping) p->liveness.loop_ended("the leader work stopped: " + ending_of(e));
                 }));
}

void stop_leading(Runtime& rt) {
  if (!rt.leading) return;
  rt.leading = false;
  rt.m.leader_election_master_status.labels({rt.cfg.lease_name}).set(0);
  // Stop writing at once: in-flight requests are cancelled.
  rt.leader_cancel.emit(asio::cancellation_type::terminal);
  rt.reconciler.forget_local_state();
  logger().info("not leading: stopped claiming and retrying");
}

}  // namespace

int run_app(const Config& cfg, const AppOptions& options) {
  for (const auto& w : cfg.warnings) logger().warn(w);
  logger().info("starting", {{"version", kVersion}, {"config", cfg.describe()}});

  asio::io_context io(1);
  auto ex = io.get_executor();
  const std::string& ns = cfg.workload.namespace_name;

  kube::ClusterConfig cluster;
  try {
    cluster = kube::load_cluster_config(cfg.kubeconfig, kube::process_env);
  } catch (const kube::ConfigError& e) {
    const std::string msg = e.what();
    throw kube::ConfigError(msg.starts_with("KUBECONFIG") || msg.starts_with("KUBERNETES_") ? msg : "KUBECONFIG: " + msg);
  }
  logger().info("Kubernetes API", {{"server", cluster.server}, {"source", cluster.source}});
  kube::ClientOptions kopts;
  kopts.user_agent = fmt::format("foreman-dispatch-bridge/{}", kVersion);
  kube::Client kube(ex, cluster, kopts);

  metrics::Registry registry;
  metrics::BridgeMetrics m = metrics::declare_bridge_metrics(registry);
  m.build_info.labels({kVersion}).set(1);
  m.leader_election_master_status.labels({cfg.lease_name}).set(0);
  kube.set_observer(metrics::rest_client_observer(m));

  dispatch::ClientOptions dopts;
  dopts.url = cfg.dispatch_url;
  dopts.token = cfg.dispatch_agent_token;
  dopts.agent_name = cfg.workload.agent_name;
  dispatch::Client dispatch(ex, dopts);
  Liveness liveness;
  dispatch.set_observer([&m, &liveness](std::string_view endpoint, int status, double seconds) {
    liveness.dispatch_answered(status, std::chrono::steady_clock::now());
    const std::string code = metrics::status_code_label(status);
    m.dispatch_requests_total.labels({endpoint, code}).inc();
    m.dispatch_request_duration_seconds.labels({endpoint, code}).observe(seconds);
  });

  // GitHub is asked with GITHUB_TOKEN when it is set, and unauthenticated otherwise, as
  // the Python bridge did (its public rate limit applies; the token only raises it).
  // Unauthenticated, a call is tried once: a rate limit (403/429) falls back to the tasks'
  // evidence at once instead of waiting out a reset that may be an hour away.
  std::optional<github::Client> gh;
  {
    github::ClientOptions gopts;
    gopts.base_url = cfg.github_api_url;
    gopts.token = cfg.github_token;
    if (cfg.github_token.empty()) gopts.max_attempts = 1;
    gh.emplace(ex, gopts);
    gh->set_observer([&m](std::string_view call, int status, double) {
      m.github_requests_total.labels({call, metrics::status_code_label(status)}).inc();
    });
  }

  kube::WatchCacheOptions wopts = workload_informer_options(ns);
  wopts.resync_period = 10min;
  kube::WatchCache workloads(ex, kube, wopts);
  kube::WatchCache intents(ex, kube, intent_informer_options(ns));
  kube::WatchCache tasks(ex, kube, task_informer_options(ns));
  InformerCaches caches(workloads, intents, &tasks, ns);
  GoneWaiter gone(ex);
  kube::WorkQueue queue(ex);
  queue.set_hooks({[&m](std::size_t d) { m.workqueue_depth.labels({"workloads"}).set(static_cast<double>(d)); },
                   [&m] { m.workqueue_adds_total.labels({"workloads"}).inc(); },
                   [&m](double s) { m.workqueue_queue_duration_seconds.labels({"workloads"}).observe(s); },
                   [&m](double s) { m.workqueue_work_duration_seconds.labels({"workloads"}).observe(s); },
                   [&m] { m.workqueue_retries_total.labels({"workloads"}).inc(); }});
  registry.on_collect([&] {
    const auto now = std::chrono::steady_clock::now();
    m.workqueue_unfinished_work_seconds.labels({"workloads"}).set(queue.core().unfinished_work(now));
    m.workqueue_longest_running_processor_seconds.labels({"workloads"}).set(queue.core().longest_running(now));
    m.cache_objects.labels({"workloads"}).set(static_cast<double>(workloads.cache().size()));
    m.cache_objects.labels({"intents"}).set(static_cast<double>(intents.cache().size()));
    m.cache_objects.labels({"agentictasks"}).set(static_cast<double>(tasks.cache().size()));
  });

  auto trouble = [&m](const char* resource) {
    return [&m, resource](std::string_view what, std::string_view detail) {
      logger().warn(what, {{"resource", resource}, {"detail", detail}});
      if (what == "streaming list unavailable") return;  // a note on the failure counted already
      if (what.find("relist") != std::string_view::npos || detail.find("relist") != std::string_view::npos) {
        m.watch_relists_total.labels({resource}).inc();
      }
      m.watch_restarts_total.labels({resource}).inc();
    };
  };
  // Handlers look at the new state only (on_modified): no previous version is decoded.
  workloads.set_handlers({
      .on_add = [&](const json::object& o) { queue.add(name_of(o)); },
      .on_delete =
          [&](const json::object& o) {
            const std::string name = name_of(o);
            gone.notify(name);
            queue.add(name);
          },
      .on_resync = [&](const std::string& key) { queue.add(key.substr(key.find('/') + 1)); },
      .on_trouble = trouble("workloads"),
      .on_modified = [&](const json::object& o) { queue.add(name_of(o)); },
  });
  auto intent_changed = [&](const json::object& o) {
    if (auto w = intent_workload(o); !w.empty()) queue.add(w);
  };
  intents.set_handlers({.on_add = intent_changed, .on_delete = intent_changed, .on_trouble = trouble("intents"),
                        .on_modified = intent_changed});
  // A task's change is its Workload's business (a decision waiting for its tasks, say).
  auto task_changed = [&](const json::object& t) {
    if (auto w = task_workload(t); !w.empty()) queue.add(w);
  };
  tasks.set_handlers({.on_add = task_changed, .on_trouble = trouble("agentictasks"), .on_modified = task_changed});

  EventRecorder events(kube, ns, cfg.identity);
  Reconciler::Deps rdeps{kube, dispatch, cfg, caches, &events, &m, {}};
  rdeps.github = gh ? &*gh : nullptr;
  Reconciler reconciler(rdeps);
  Claimer claimer({kube, dispatch, cfg, caches, &m});
  ClaimSweeper sweeper({kube, dispatch, cfg, caches, [&claimer](std::string_view n) { return claimer.creating(n); },
                        [&reconciler](std::string_view n) { return reconciler.retry_in_flight(n); }, &m});

  // Health and metrics.
  Routes routes;
  routes.metrics = [&registry] { return registry.expose(); };
  routes.healthz = [&liveness] { return liveness.check(std::chrono::steady_clock::now()); };
  routes.readyz = [&] {
    if (!caches.synced()) return Health{false, "caches not synced"};
    if (!workloads.healthy() || !intents.healthy() || !tasks.healthy()) return Health{false, "a watch is restarting"};
    return Health{true, {}};
  };
  std::vector<std::unique_ptr<HttpServer>> servers;
  if (cfg.metrics_addr.text() == cfg.health_addr.text()) {
    servers.push_back(std::make_unique<HttpServer>(ex, cfg.metrics_addr.text(), routes));
  } else {
    Routes metrics_only;
    metrics_only.metrics = routes.metrics;
    metrics_only.healthz = routes.healthz;
    Routes health_only;
    health_only.healthz = routes.healthz;
    health_only.readyz = routes.readyz;
    servers.push_back(std::make_unique<HttpServer>(ex, cfg.metrics_addr.text(), metrics_only));
    servers.push_back(std::make_unique<HttpServer>(ex, cfg.health_addr.text(), health_only));
  }
  for (auto& s : servers) {
    s->start();
    logger().info("serving", {{"address", s->local_address()}});
  }

  PrFixLoop prfix({kube, dispatch, cfg, caches, gh ? &*gh : nullptr, &m});
  Runtime rt{cfg, io, queue, reconciler, claimer, sweeper, prfix, m, liveness, {}, false, false};

  // Informers run on every replica: followers keep their caches warm.
  asio::cancellation_signal informers_cancel;
  auto informers = [](kube::WatchCache* a, kube::WatchCache* b, kube::WatchCache* c) -> awaitable<void> {
    using namespace asio::experimental::awaitable_operators;
    co_await (a->run() && b->run() && c->run());
  };
  asio::co_spawn(io, informers(&workloads, &intents, &tasks),
                 asio::bind_cancellation_slot(informers_cancel.slot(), [&rt](std::exception_ptr e) {
                   log_exception("informers stopped", e);
                   if (!rt.stopping) rt.liveness.loop_ended("the informers stopped: " + ending_of(e));
                 }));

  std::unique_ptr<kube::LeaderElector> elector;
  if (cfg.leader_elect) {
    kube::LeaderConfig lc;
    lc.identity = cfg.identity;
    lc.lease_duration = std::chrono::seconds(cfg.lease_duration_s);
    lc.renew_deadline = std::chrono::seconds(cfg.renew_deadline_s);
    lc.retry_period = std::chrono::seconds(cfg.retry_period_s);
    kube::LeaderCallbacks cb;
    cb.on_started_leading = [&rt] { start_leading(rt); };
    cb.on_stopped_leading = [&rt] { stop_leading(rt); };
    cb.on_new_leader = [](const std::string& holder) { logger().info("leader", {{"holder", holder}}); };
    elector = std::make_unique<kube::LeaderElector>(ex, kube, ns, cfg.lease_name, lc, cb);
    auto* e = elector.get();
    auto run_elector = [](kube::LeaderElector* el) -> awaitable<void> { co_await el->run(); };
    asio::co_spawn(io, run_elector(e), [&rt](std::exception_ptr ep) {
      log_exception("leader election stopped", ep);
      if (!rt.stopping) rt.liveness.loop_ended("the leader election stopped: " + ending_of(ep));
    });
  } else {
    start_leading(rt);
  }

  // Shutdown: stop leading (release the lease), stop the informers and servers.
  bool shut = false;
  auto shutdown = [&](const char* why) {
    if (shut) return;
    shut = true;
    logger().info("shutting down", {{"why", why}});
    rt.stopping = true;
    stop_leading(rt);
    if (elector) elector->stop();
    informers_cancel.emit(asio::cancellation_type::terminal);
    queue.shutdown();
    for (auto& s : servers) s->stop();
  };
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int sig) {
    if (!ec) shutdown(sig == SIGTERM ? "SIGTERM" : "SIGINT");
  });
  asio::steady_timer stop_timer(io);
  if (options.stop_after) {
    stop_timer.expires_after(*options.stop_after);
    stop_timer.async_wait([&](boost::system::error_code ec) {
      if (!ec) shutdown("run time over");
    });
  }

  // Run until shutdown() is called; then give what is in flight (the lease release
  // first of all) a few seconds to finish, and abandon the rest.
  while (!shut && io.run_one() > 0) {
  }
  signals.cancel();
  stop_timer.cancel();
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (io.run_one_until(deadline) > 0) {
  }

  auto total = [](const metrics::CounterFamily& f, std::string_view last_label = {}) {
    double sum = 0;
    for (const auto& [labels, c] : f.children()) {
      if (last_label.empty() || (!labels.empty() && labels.back() == last_label)) sum += c->value();
    }
    return static_cast<long>(sum);
  };
  const std::string summary = fmt::format(
      "claimed {}, created {}, retried {}, tombstoned {}, parked {}, escalated {}; dispatch requests {}, API requests {}",
      total(m.claims_total, "claimed"), total(m.workloads_created_total), total(m.retries_total), total(m.tombstones_total),
      total(m.parks_total), total(m.escalations_total), total(m.dispatch_requests_total), total(m.rest_client_requests_total));
  logger().info("stopped", {{"summary", summary}});
  if (options.on_summary) options.on_summary(summary);
  return 0;
}

}  // namespace fdb::op
