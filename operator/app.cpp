#include "operator/app.hpp"

#include "dispatch/client_io.hpp"
#include "dispatch/github_io.hpp"
#include "operator/controller_io.hpp"
#include "operator/http_server_io.hpp"
#include "operator/liveness.hpp"
#include "operator/metrics.hpp"
#include "operator/version.hpp"
#include "watch/client_io.hpp"
#include "watch/config.hpp"
#include "watch/log.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <fmt/format.h>

#include <csignal>

namespace fdb::op {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

const log::Logger& logger() {
  static const log::Logger l("main");
  return l;
}

kube::ClusterConfig cluster_config(const Config& cfg) {
  try {
    return kube::load_cluster_config(cfg.kubeconfig, kube::process_env);
  } catch (const kube::ConfigError& e) {
    throw kube::ConfigError(cluster_config_error_line(e.origin(), e.what()), e.origin());
  }
}

}  // namespace

std::string cluster_config_error_line(kube::ConfigOrigin origin, std::string_view message) {
  switch (origin) {
    case kube::ConfigOrigin::InClusterPort:  // "KUBERNETES_SERVICE_PORT: ..."
    case kube::ConfigOrigin::NotFound:       // "KUBECONFIG: no Kubernetes configuration found ..."
      return std::string(message);
    case kube::ConfigOrigin::Kubeconfig:
    case kube::ConfigOrigin::InClusterUnset:
    case kube::ConfigOrigin::ServiceAccount:
    case kube::ConfigOrigin::Other:
      break;
  }
  return "KUBECONFIG: " + std::string(message);
}

namespace {

kube::ClientOptions kube_options() {
  kube::ClientOptions o;
  o.user_agent = fmt::format("foreman-dispatch-bridge/{}", kVersion);
  return o;
}

dispatch::ClientOptions dispatch_options(const Config& cfg) {
  dispatch::ClientOptions o;
  o.url = cfg.dispatch_url;
  o.token = cfg.dispatch_agent_token;
  o.agent_name = cfg.workload.agent_name;
  return o;
}

// GitHub is asked with GITHUB_TOKEN when it is set, and unauthenticated otherwise, as
// the Python bridge did (its public rate limit applies; the token only raises it).
// Unauthenticated, a call is tried once: a rate limit (403/429) falls back to the tasks'
// evidence at once instead of waiting out a reset that may be an hour away.
github::ClientOptions github_options(const Config& cfg) {
  github::ClientOptions o;
  o.base_url = cfg.github_api_url;
  o.token = cfg.github_token;
  if (cfg.github_token.empty()) o.max_attempts = 1;
  return o;
}

// The API, dispatch and GitHub clients, each observed by the metrics (and dispatch's
// answers by /healthz).
struct Clients {
  kube::Client kube;
  dispatch::Client dispatch;
  github::Client github;

  Clients(asio::any_io_executor ex, const Config& cfg, metrics::BridgeMetrics& m, Liveness& liveness)
      : kube(ex, cluster_config(cfg), kube_options()), dispatch(ex, dispatch_options(cfg)), github(ex, github_options(cfg)) {
    logger().info("Kubernetes API", {{"server", kube.config().server}, {"source", kube.config().source}});
    kube.set_observer(metrics::rest_client_observer(m));
    dispatch.set_observer([&m, &liveness](std::string_view endpoint, int status, double seconds) {
      liveness.dispatch_answered(status, std::chrono::steady_clock::now());
      const std::string code = metrics::status_code_label(status);
      m.dispatch_requests_total.labels({endpoint, code}).inc();
      m.dispatch_request_duration_seconds.labels({endpoint, code}).observe(seconds);
    });
    github.set_observer([&m](std::string_view call, int status, double) {
      m.github_requests_total.labels({call, metrics::status_code_label(status)}).inc();
    });
  }
};

// Health and metrics: one server, or two when METRICS_ADDR and HEALTH_ADDR differ.
std::vector<std::unique_ptr<HttpServer>> serve(asio::any_io_executor ex, const Config& cfg, const Routes& routes) {
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
  return servers;
}

// Runs until SIGTERM/SIGINT (or `stop_after`); then stops the controller (releasing the
// lease) and the servers, gives what is in flight a few seconds to finish, and abandons
// the rest.
void run_until_shutdown(asio::io_context& io, Controller& controller, std::vector<std::unique_ptr<HttpServer>>& servers,
                        std::optional<std::chrono::milliseconds> stop_after) {
  bool shut = false;
  auto shutdown = [&](const char* why) {
    if (shut) return;
    shut = true;
    logger().info("shutting down", {{"why", why}});
    controller.stop();
    for (auto& s : servers) s->stop();
  };
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int sig) {
    if (!ec) shutdown(sig == SIGTERM ? "SIGTERM" : "SIGINT");
  });
  asio::steady_timer stop_timer(io);
  if (stop_after) {
    stop_timer.expires_after(*stop_after);
    stop_timer.async_wait([&](boost::system::error_code ec) {
      if (!ec) shutdown("run time over");
    });
  }
  while (!shut && io.run_one() > 0) {
  }
  signals.cancel();
  stop_timer.cancel();
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (io.run_one_until(deadline) > 0) {
  }
}

std::string summary_of(const metrics::BridgeMetrics& m) {
  auto total = [](const metrics::CounterFamily& f, std::string_view last_label = {}) {
    double sum = 0;
    for (const auto& [labels, c] : f.children()) {
      if (last_label.empty() || (!labels.empty() && labels.back() == last_label)) sum += c->value();
    }
    return static_cast<long>(sum);
  };
  return fmt::format(
      "claimed {}, created {}, retried {}, tombstoned {}, parked {}, escalated {}; dispatch requests {}, API requests {}",
      total(m.claims_total, "claimed"), total(m.workloads_created_total), total(m.retries_total), total(m.tombstones_total),
      total(m.parks_total), total(m.escalations_total), total(m.dispatch_requests_total), total(m.rest_client_requests_total));
}

}  // namespace

// Parse (done by the caller) → build the clients and the controller → run.
int run_app(const Config& cfg, const AppOptions& options) {
  for (const auto& w : cfg.warnings) logger().warn(w);
  logger().info("starting", {{"version", kVersion}, {"config", cfg.describe()}});

  asio::io_context io(1);
  auto ex = io.get_executor();
  metrics::Registry registry;
  metrics::BridgeMetrics m = metrics::declare_bridge_metrics(registry);
  m.build_info.labels({kVersion}).set(1);
  Liveness liveness;
  Clients clients(ex, cfg, m, liveness);
  Controller controller(ex, ControllerDeps{clients.kube, clients.dispatch, &clients.github, cfg, registry, m, liveness, {}});

  Routes routes;
  routes.metrics = [&registry] { return registry.expose(); };
  routes.healthz = [&liveness] { return liveness.check(std::chrono::steady_clock::now()); };
  routes.readyz = [&controller] { return controller.readiness(); };
  auto servers = serve(ex, cfg, routes);
  controller.start();
  run_until_shutdown(io, controller, servers, options.stop_after);

  const std::string summary = summary_of(m);
  logger().info("stopped", {{"summary", summary}});
  if (options.on_summary) options.on_summary(summary);
  return 0;
}

}  // namespace fdb::op
