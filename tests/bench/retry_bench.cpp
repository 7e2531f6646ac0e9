// retry-bench: how fast the bridge reacts, with 10k Workloads cached. It starts kube-sim,
// creates the cached Workloads (they complete), starts the program's own controller in
// process (operator/controller_io: the same informers, handlers, work queue, reconciler,
// claim loop and sweeps as run_app, leading at once), then makes Workloads fail one by one
// and measures:
//   failed → delete: the watch delivers phase Failed  →  the DELETE request goes out
//   gone → create:   the watch delivers the deletion  →  the next attempt's POST goes out
// and prints p50/p99/max of each as one JSON line. The Python bridge waited for its next
// CronJob tick and polled the delete once a second.
//
//   retry-bench --sim PATH/kube-sim [--cached 10000] [--failures 200]
#include "dispatch/client_io.hpp"
#include "operator/cache_view.hpp"
#include "operator/config.hpp"
#include "operator/controller_io.hpp"
#include "operator/informers.hpp"
#include "operator/liveness.hpp"
#include "operator/metrics.hpp"
#include "support/process.hpp"
#include "support/sim_client.hpp"
#include "support/tool_options.hpp"
#include "watch/client_io.hpp"
#include "watch/config.hpp"
#include "watch/log.hpp"
#include "watch/watch_cache_io.hpp"
#include "watch/work_queue_io.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <boost/program_options.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <optional>

namespace asio = boost::asio;
namespace json = boost::json;
namespace po = boost::program_options;
using namespace fdb;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kNs = "bench";
const std::string kPath = "/apis/foreman.llmkube.dev/v1alpha1/namespaces/bench/workloads";

json::object workload(const std::string& name, const std::string& outcome, int issue) {
  return json::object{
      {"apiVersion", "foreman.llmkube.dev/v1alpha1"},
      {"kind", "Workload"},
      {"metadata", json::object{{"name", name},
                                {"labels", json::object{{"created-by", "dispatch-bridge"}, {"lane", "local"}}},
                                {"annotations", json::object{{"sim.llmkube.dev/outcome", outcome},
                                                             {"foreman.llmkube.dev/attempt", "1"},
                                                             {"foreman.llmkube.dev/issue-id", "I_" + std::to_string(issue)},
                                                             {"foreman.llmkube.dev/agent-name", "foreman-coder"}}}}},
      {"spec", json::object{{"intent", "Fix the parser for trailing commas in nested arrays"},
                            {"repo", "bench/repo"},
                            {"issues", json::array{issue}},
                            {"coderAgentRef", json::object{{"name", "coder"}}},
                            {"reviewerAgentRefs", json::array{json::object{{"name", "reviewer"}}}},
                            {"verifierAgentRef", json::object{{"name", "gate"}}}}}};
}

std::string phase_of(const json::object& o) {
  const auto* st = o.if_contains("status");
  if (st == nullptr || !st->is_object()) return {};
  const auto* p = st->get_object().if_contains("phase");
  return p && p->is_string() ? std::string(p->get_string()) : std::string();
}

struct Stats {
  double p50, p99, max;
  std::size_t n;
};
Stats stats(std::vector<double> v) {
  if (v.empty()) return {0, 0, 0, 0};
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))]; };
  return {at(0.50), at(0.99), v.back(), v.size()};
}

// Creates `failures` Workloads that fail, 10 ms apart. A free function (GCC 12 does not keep
// a lambda coroutine's captures in its frame).
asio::awaitable<void> feed(kube::Client* kube, int failures) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  for (int i = 0; i < failures; ++i) {
    const std::string body = json::serialize(workload(fmt::format("wl-fail-{}", i), "fail-coder", i + 1));
    const auto req = kube::Requests(kube::workloads(), kNs).create(body);
    co_await kube->call(req);
    t.expires_after(std::chrono::milliseconds(10));
    co_await t.async_wait(asio::use_awaitable);
  }
}

// --- options ---------------------------------------------------------------------------

struct Options {
  std::string sim_path;
  int cached = 10000;   // Workloads in the cache
  int failures = 200;   // Workloads made to fail and retried
};

// The options, or nullopt with `exit_code` set (0 after --help, 2 after bad options).
std::optional<Options> parse_options(int argc, char** argv, int& exit_code) {
  Options o;
  po::options_description desc("retry-bench options");
  desc.add_options()("help", "this text")("sim", po::value(&o.sim_path)->required(), "path of kube-sim")(
      "cached", po::value(&o.cached)->default_value(10000), "Workloads in the cache")(
      "failures", po::value(&o.failures)->default_value(200), "Workloads made to fail and retried");
  if (!test::parse_tool_options("retry-bench", desc, argc, argv, exit_code)) return std::nullopt;
  return o;
}

// --- seeding ---------------------------------------------------------------------------

struct BenchSim {
  std::unique_ptr<test::Process> process;
  std::string api_url, dispatch_url, kubeconfig;
};

// kube-sim with a fast Foreman that fails nothing by itself; nullopt when it did not start.
std::optional<BenchSim> start_sim(const std::string& sim_path, const std::string& dir) {
  BenchSim sim;
  sim.kubeconfig = dir + "/kubeconfig";
  sim.process = std::make_unique<test::Process>(
      std::vector<std::string>{sim_path, "--listen", "127.0.0.1:0", "--dispatch-listen", "127.0.0.1:0",
                               "--kubeconfig-out", sim.kubeconfig, "--foreman-step-ms", "20", "--foreground-delay-ms",
                               "0", "--fail-rate", "0"},
      std::map<std::string, std::string>{}, dir + "/kube-sim.log");
  const auto api_url = sim.process->wait_for_line("kube-sim listening on ", std::chrono::seconds(30));
  const auto dispatch_url = sim.process->wait_for_line("dispatch listening on ", std::chrono::seconds(10));
  if (!api_url || !dispatch_url) {
    std::fprintf(stderr, "retry-bench: kube-sim did not start\n");
    return std::nullopt;
  }
  sim.api_url = *api_url;
  sim.dispatch_url = *dispatch_url;
  return sim;
}

// The cached population: Workloads that complete.
void seed_cached(const BenchSim& sim, int cached) {
  std::fprintf(stderr, "retry-bench: creating %d cached Workloads\n", cached);
  test::SimClient api(sim.api_url);
  for (int i = 0; i < cached; ++i) api.post(kPath, workload(fmt::format("wl-cached-{}", i), "succeed", 100000 + i));
}

// --- the program's wiring, observed ----------------------------------------------------

// What the observers saw: the API calls' latencies by verb, when the watch showed each
// Workload Failed (the first event that did, for each attempt) and gone, and the two
// reaction times of each retry.
struct Measurements {
  std::map<std::string, std::vector<double>> by_verb;  // ms
  std::map<std::string, Clock::time_point> failed_at, gone_at;
  std::vector<double> failed_to_delete, gone_to_create;  // ms
  int done = 0;  // retries completed
};

// Observers that watch the program's wiring (never change it); the last expected retry
// stops `io`.
op::ControllerObservers observe(Measurements& m, asio::io_context& io, int failures) {
  op::ControllerObservers observers;
  observers.on_workload = [&m](op::WorkloadChange change, const json::object& o) {
    if (change == op::WorkloadChange::Deleted) m.gone_at[op::name_of(o)] = Clock::now();
    else if (phase_of(o) == "Failed") m.failed_at.try_emplace(op::name_of(o), Clock::now());
  };
  observers.on_retry_done = [&m, &io, failures](const std::string& name, const op::RetryTimings& t) {
    if (auto it = m.failed_at.find(name); it != m.failed_at.end()) {
      m.failed_to_delete.push_back(std::chrono::duration<double, std::milli>(t.delete_sent - it->second).count());
      m.failed_at.erase(it);  // the next attempt's failure is its own
    }
    if (auto it = m.gone_at.find(name); it != m.gone_at.end()) {
      m.gone_to_create.push_back(std::chrono::duration<double, std::milli>(t.create_sent - it->second).count());
    }
    if (++m.done >= failures) io.stop();
  };
  return observers;
}

op::Config bench_config(const std::string& dispatch_url) {
  op::LoadOptions lo;
  lo.env = [url = dispatch_url](std::string_view n) -> std::optional<std::string> {
    if (n == "DISPATCH_AGENT_TOKEN") return "bench";
    if (n == "FOREMAN_NAMESPACE") return "bench";
    if (n == "DISPATCH_URL") return url;
    if (n == "LEADER_ELECT") return "false";
    return std::nullopt;
  };
  return op::load_config(std::vector<std::string>{}, lo);
}

kube::ClientOptions kube_options() {
  kube::ClientOptions o;
  o.request_timeout = std::chrono::seconds(60);
  return o;
}

dispatch::ClientOptions dispatch_options(const std::string& url) {
  dispatch::ClientOptions o;
  o.url = url;
  o.token = "bench";
  return o;
}

// The program's own controller (operator/controller_io: the same informers, handlers, work
// queue, reconciler, claim loop and sweeps as run_app), leading at once, its API calls timed.
struct Wiring {
  Wiring(asio::io_context& io, const BenchSim& sim, Measurements& m, int failures)
      : kube(io.get_executor(), kube::load_kubeconfig(sim.kubeconfig), kube_options()),
        dispatch(io.get_executor(), dispatch_options(sim.dispatch_url)),
        cfg(bench_config(sim.dispatch_url)),
        bridge_metrics(metrics::declare_bridge_metrics(registry)),
        controller(io.get_executor(),
                   op::ControllerDeps{kube, dispatch, nullptr, cfg, registry, bridge_metrics, liveness,
                                      observe(m, io, failures)}) {
    kube.set_observer([&m](std::string_view verb, int, double seconds) {
      m.by_verb[std::string(verb)].push_back(seconds * 1000);
    });
  }

  kube::Client kube;
  dispatch::Client dispatch;
  op::Config cfg;
  metrics::Registry registry;
  metrics::BridgeMetrics bridge_metrics;
  op::Liveness liveness;
  op::Controller controller;
};

// --- the phases ------------------------------------------------------------------------

// Until the cache holds the population, then the start-up pass: the reconciler visits
// every cached Workload once (terminal-since stamps, in-review reports), a one-time cost
// reported here and kept out of the measurement, which is of the steady state. False when
// kube-sim exited.
bool warm_up(asio::io_context& io, const Wiring& w, const BenchSim& sim, int cached, Measurements& m) {
  const kube::WatchCache& workloads = w.controller.workloads();
  while (!(w.controller.readiness().ok && workloads.cache().size() >= static_cast<std::size_t>(cached))) {
    io.run_for(std::chrono::milliseconds(50));
    if (!sim.process->running()) {
      std::fprintf(stderr, "retry-bench: kube-sim exited\n");
      return false;
    }
  }
  const auto warm_start = Clock::now();
  auto idle_since = Clock::now();
  while (Clock::now() - idle_since < std::chrono::milliseconds(300)) {
    io.run_for(std::chrono::milliseconds(20));
    const auto& core = w.controller.queue().core();
    if (core.depth() != 0 || core.processing() != 0) idle_since = Clock::now();
  }
  std::fprintf(stderr, "retry-bench: start-up pass over the cache took %.2f s (%zu PATCH)\n",
               std::chrono::duration<double>(idle_since - warm_start).count(), m.by_verb["PATCH"].size());
  m.by_verb.clear();
  return true;
}

// The measured phase: Workloads made to fail, 10 ms apart, until every retry is done (the
// observer stops `io`) or 120 s have passed.
void measure(asio::io_context& io, Wiring& w, int failures) {
  std::fprintf(stderr, "retry-bench: %zu Workloads cached; failing %d\n", w.controller.workloads().cache().size(),
               failures);
  asio::co_spawn(io, feed(&w.kube, failures), asio::detached);
  io.run_for(std::chrono::seconds(120));
}

// One JSON line on stdout (p50/p99/max of each reaction), the API latencies on stderr.
void report(const Measurements& m, std::size_t cached) {
  const Stats a = stats(m.failed_to_delete);
  const Stats b = stats(m.gone_to_create);
  std::printf(
      "{\"tool\":\"retry-bench\",\"cached\":%zu,\"retries\":%d,"
      "\"failed_to_delete_ms\":{\"n\":%zu,\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f},"
      "\"gone_to_create_ms\":{\"n\":%zu,\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f}}\n",
      cached, m.done, a.n, a.p50, a.p99, a.max, b.n, b.p50, b.p99, b.max);
  for (const auto& [verb, v] : m.by_verb) {
    const Stats s = stats(v);
    std::fprintf(stderr, "retry-bench: API %s n=%zu p50=%.3f ms p99=%.3f ms\n", verb.c_str(), s.n, s.p50, s.p99);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int exit_code = 0;
  const auto options = parse_options(argc, argv, exit_code);
  if (!options) return exit_code;
  log::configure(log::Format::Text, log::Level::Error);

  const std::string dir = test::temp_dir("retry-bench");
  auto sim = start_sim(options->sim_path, dir);
  if (!sim) return 1;
  seed_cached(*sim, options->cached);

  asio::io_context io(1);
  Measurements m;
  Wiring wiring(io, *sim, m, options->failures);
  wiring.controller.start();
  if (!warm_up(io, wiring, *sim, options->cached, m)) return 1;
  measure(io, wiring, options->failures);
  report(m, wiring.controller.workloads().cache().size());

  sim->process->signal(SIGTERM);
  sim->process->wait(std::chrono::seconds(5));
  return m.done >= options->failures ? 0 : 1;
}
