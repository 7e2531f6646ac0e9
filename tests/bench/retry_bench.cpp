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

}  // namespace

int main(int argc, char** argv) {
  std::string sim_path;
  int cached = 10000, failures = 200;
  po::options_description desc("retry-bench options");
  desc.add_options()("help", "this text")("sim", po::value(&sim_path)->required(), "path of kube-sim")(
      "cached", po::value(&cached)->default_value(10000), "Workloads in the cache")(
      "failures", po::value(&failures)->default_value(200), "Workloads made to fail and retried");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    if (vm.count("help")) {
      std::cout << desc;
      return 0;
    }
    po::notify(vm);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "retry-bench: %s\n", e.what());
    return 2;
  }
  log::configure(log::Format::Text, log::Level::Error);

  const std::string dir = test::temp_dir("retry-bench");
  test::Process sim({sim_path, "--listen", "127.0.0.1:0", "--dispatch-listen", "127.0.0.1:0", "--kubeconfig-out",
                     dir + "/kubeconfig", "--foreman-step-ms", "20", "--foreground-delay-ms", "0", "--fail-rate", "0"},
                    {}, dir + "/kube-sim.log");
  const auto api_url = sim.wait_for_line("kube-sim listening on ", std::chrono::seconds(30));
  const auto dispatch_url = sim.wait_for_line("dispatch listening on ", std::chrono::seconds(10));
  if (!api_url || !dispatch_url) {
    std::fprintf(stderr, "retry-bench: kube-sim did not start\n");
    return 1;
  }
  test::SimClient api(*api_url);

  // The cached population: Workloads that complete.
  std::fprintf(stderr, "retry-bench: creating %d cached Workloads\n", cached);
  for (int i = 0; i < cached; ++i) api.post(kPath, workload(fmt::format("wl-cached-{}", i), "succeed", 100000 + i));

  asio::io_context io(1);
  kube::ClientOptions kopts;
  kopts.request_timeout = std::chrono::seconds(60);
  kube::Client kube(io.get_executor(), kube::load_kubeconfig(dir + "/kubeconfig"), kopts);
  std::map<std::string, std::vector<double>> by_verb;
  kube.set_observer([&](std::string_view verb, int, double seconds) { by_verb[std::string(verb)].push_back(seconds * 1000); });
  dispatch::ClientOptions dopts;
  dopts.url = *dispatch_url;
  dopts.token = "bench";
  dispatch::Client dispatch(io.get_executor(), dopts);
  op::LoadOptions lo;
  lo.env = [url = *dispatch_url](std::string_view n) -> std::optional<std::string> {
    if (n == "DISPATCH_AGENT_TOKEN") return "bench";
    if (n == "FOREMAN_NAMESPACE") return "bench";
    if (n == "DISPATCH_URL") return url;
    if (n == "LEADER_ELECT") return "false";
    return std::nullopt;
  };
  const op::Config cfg = op::load_config(std::vector<std::string>{}, lo);

  // The program's wiring, watched (never changed) by the observers: when the watch showed
  // a Workload Failed (the first event that did, for each attempt), when it showed it gone,
  // and the reconciler's timings of each retry.
  std::map<std::string, Clock::time_point> failed_at, gone_at;
  std::vector<double> failed_to_delete, gone_to_create;
  int done = 0;
  op::ControllerObservers observers;
  observers.on_workload = [&](op::WorkloadChange change, const json::object& o) {
    if (change == op::WorkloadChange::Deleted) gone_at[op::name_of(o)] = Clock::now();
    else if (phase_of(o) == "Failed") failed_at.try_emplace(op::name_of(o), Clock::now());
  };
  observers.on_retry_done = [&](const std::string& name, const op::RetryTimings& t) {
    if (auto it = failed_at.find(name); it != failed_at.end()) {
      failed_to_delete.push_back(std::chrono::duration<double, std::milli>(t.delete_sent - it->second).count());
      failed_at.erase(it);  // the next attempt's failure is its own
    }
    if (auto it = gone_at.find(name); it != gone_at.end()) {
      gone_to_create.push_back(std::chrono::duration<double, std::milli>(t.create_sent - it->second).count());
    }
    if (++done >= failures) io.stop();
  };
  metrics::Registry registry;
  metrics::BridgeMetrics m = metrics::declare_bridge_metrics(registry);
  op::Liveness liveness;
  op::Controller controller(io.get_executor(),
                            op::ControllerDeps{kube, dispatch, nullptr, cfg, registry, m, liveness, observers});
  controller.start();
  const kube::WatchCache& workloads = controller.workloads();

  // Wait until the cache holds the population, then make Workloads fail, 10 ms apart.
  while (!(controller.readiness().ok && workloads.cache().size() >= static_cast<std::size_t>(cached))) {
    io.run_for(std::chrono::milliseconds(50));
    if (!sim.running()) {
      std::fprintf(stderr, "retry-bench: kube-sim exited\n");
      return 1;
    }
  }
  // At start the reconciler visits every cached Workload once (terminal-since stamps,
  // in-review reports): a one-time cost, reported here and kept out of the measurement,
  // which is of the steady state.
  const auto warm_start = Clock::now();
  auto idle_since = Clock::now();
  while (Clock::now() - idle_since < std::chrono::milliseconds(300)) {
    io.run_for(std::chrono::milliseconds(20));
    const auto& core = controller.queue().core();
    if (core.depth() != 0 || core.processing() != 0) idle_since = Clock::now();
  }
  std::fprintf(stderr, "retry-bench: start-up pass over the cache took %.2f s (%zu PATCH)\n",
               std::chrono::duration<double>(idle_since - warm_start).count(), by_verb["PATCH"].size());
  by_verb.clear();
  std::fprintf(stderr, "retry-bench: %zu Workloads cached; failing %d\n", workloads.cache().size(), failures);
  asio::co_spawn(io, feed(&kube, failures), asio::detached);
  io.run_for(std::chrono::seconds(120));

  const Stats a = stats(failed_to_delete);
  const Stats b = stats(gone_to_create);
  std::printf(
      "{\"tool\":\"retry-bench\",\"cached\":%zu,\"retries\":%d,"
      "\"failed_to_delete_ms\":{\"n\":%zu,\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f},"
      "\"gone_to_create_ms\":{\"n\":%zu,\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f}}\n",
      workloads.cache().size(), done, a.n, a.p50, a.p99, a.max, b.n, b.p50, b.p99, b.max);
  for (auto& [verb, v] : by_verb) {
    const Stats s = stats(v);
    std::fprintf(stderr, "retry-bench: API %s n=%zu p50=%.3f ms p99=%.3f ms\n", verb.c_str(), s.n, s.p50, s.p99);
  }
  sim.signal(SIGTERM);
  sim.wait(std::chrono::seconds(5));
  return done >= failures ? 0 : 1;
}
