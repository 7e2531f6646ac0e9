// The program's own wiring (operator/controller_io) against kube-sim: the watch counters
// come from the informers' typed events. foreman_bridge_watch_relists_total counts the
// first list of every informer, and the relist after a 410 of every informer (Workloads,
// intents, tasks): this test fails if either is missed for any of them.
#include "dispatch/client_io.hpp"
#include "operator/config.hpp"
#include "operator/controller_io.hpp"
#include "operator/liveness.hpp"
#include "operator/metrics.hpp"
#include "support/process.hpp"
#include "support/sim_client.hpp"
#include "watch/client_io.hpp"
#include "watch/config.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <functional>
#include <map>

namespace asio = boost::asio;
namespace json = boost::json;
using namespace fdb;
using namespace fdb::test;
using namespace std::chrono_literals;

namespace {

const char* const kResources[] = {"workloads", "intents", "agentictasks"};

op::Config config(const std::string& dispatch_url) {
  op::LoadOptions lo;
  lo.env = [dispatch_url](std::string_view n) -> std::optional<std::string> {
    if (n == "DISPATCH_AGENT_TOKEN") return "test";
    if (n == "DISPATCH_URL") return dispatch_url;
    if (n == "FOREMAN_NAMESPACE") return "llm";
    if (n == "LEADER_ELECT") return "false";
    return std::nullopt;
  };
  return op::load_config(std::vector<std::string>{}, lo);
}

// Runs the io_context until `done` or `timeout`, in small slices.
bool run_until(asio::io_context& io, const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    io.run_for(20ms);
  }
  return true;
}

json::object workload(const std::string& name) {
  return json::object{
      {"apiVersion", "foreman.llmkube.dev/v1alpha1"},
      {"kind", "Workload"},
      {"metadata", json::object{{"name", name},
                                {"labels", json::object{{"created-by", "dispatch-bridge"}, {"lane", "local"}}},
                                {"annotations", json::object{{"sim.llmkube.dev/outcome", "hang"},
                                                             {"foreman.llmkube.dev/attempt", "1"},
                                                             {"foreman.llmkube.dev/issue-id", "I_1"}}}}},
      {"spec", json::object{{"intent", "x"}, {"repo", "o/r"}, {"issues", json::array{1}},
                            {"coderAgentRef", json::object{{"name", "coder"}}}}}};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(controller_sim)

BOOST_AUTO_TEST_CASE(relists_count_the_first_list_and_each_410_relist_of_every_informer) {
  Sim sim = start_sim({"--foreman-step-ms", "100000"}, temp_dir("controller") + "/kube-sim.log");
  SimClient api(sim.api_url);
  // Something stored, so that the informers resume from a version the expiry can pass
  // (a watch at "0" means "from any version" and never expires).
  auto config_map = [&](const std::string& name) {
    api.post("/api/v1/namespaces/llm/configmaps",
             json::object{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", json::object{{"name", name}}}});
  };
  config_map("before-the-start");

  asio::io_context io(1);
  kube::Client kube(io.get_executor(), kube::load_kubeconfig(sim.kubeconfig));
  dispatch::ClientOptions dopts;
  dopts.url = sim.dispatch_url;
  dopts.token = "test";
  dispatch::Client dispatch(io.get_executor(), dopts);
  const op::Config cfg = config(sim.dispatch_url);
  metrics::Registry registry;
  metrics::BridgeMetrics m = metrics::declare_bridge_metrics(registry);
  op::Liveness liveness;
  std::map<op::WorkloadChange, int> seen;
  op::ControllerObservers observers;
  observers.on_workload = [&](op::WorkloadChange c, const json::object&) { ++seen[c]; };
  op::Controller controller(io.get_executor(),
                            op::ControllerDeps{kube, dispatch, nullptr, cfg, registry, m, liveness, observers});
  auto relists = [&](const char* r) { return m.watch_relists_total.labels({r}).value(); };
  auto restarts = [&](const char* r) { return m.watch_restarts_total.labels({r}).value(); };

  controller.start();
  BOOST_REQUIRE(run_until(io, [&] { return controller.readiness().ok; }, 20s));
  // The first list of each informer counts once.
  for (const char* r : kResources) {
    BOOST_TEST_CONTEXT(r) { BOOST_TEST(relists(r) == 1.0); }
  }

  // Every watch is dropped and its re-watch fails once (500), so each informer backs off
  // (800 ms or more) while the history moves on and expires: its resume point is then too
  // old (410), and it relists.
  api.post("/_sim/faults", json::object{{"path", "/ap"}, {"method", "GET"}, {"watchOnly", true}, {"code", 500}, {"count", 3}});
  api.post("/_sim/faults", json::object{{"action", "dropWatches"}});
  config_map("not-an-intent");
  api.post("/_sim/faults", json::object{{"action", "expireHistory"}});
  const bool relisted = run_until(
      io, [&] { return relists("workloads") >= 2 && relists("intents") >= 2 && relists("agentictasks") >= 2; }, 30s);
  BOOST_TEST(relisted);
  for (const char* r : kResources) {
    BOOST_TEST_CONTEXT(r) {
      BOOST_TEST(relists(r) == 2.0);   // the first list and the 410 relist, each once
      BOOST_TEST(restarts(r) >= 1.0);  // the failed re-watch
    }
  }

  // The Workload informer feeds the queue through the program's handlers (on_add,
  // on_modified), which the observer sees first.
  api.post("/apis/foreman.llmkube.dev/v1alpha1/namespaces/llm/workloads", workload("wl-seen"));
  api.merge_patch("/apis/foreman.llmkube.dev/v1alpha1/namespaces/llm/workloads/wl-seen",
                  json::object{{"metadata", json::object{{"labels", json::object{{"round", "1"}}}}}});
  BOOST_TEST(run_until(io, [&] { return seen[op::WorkloadChange::Added] >= 1 && seen[op::WorkloadChange::Modified] >= 1; }, 10s));

  // foreman_bridge_watch_decode_fallbacks_total, read at a scrape: kube-sim's Workloads
  // take simdjson's path (every series at 0), one whose kept spec.issues holds a double
  // goes through Boost.JSON and counts as kept-double.
  auto fallbacks = [&](const char* reason) {
    (void)registry.expose();  // runs the collect hooks, as a scrape does
    return m.watch_decode_fallbacks_total.labels({"workloads", reason}).value();
  };
  for (const char* reason : {"refused", "kept-double", "duplicate-key"}) {
    BOOST_TEST_CONTEXT(reason) { BOOST_TEST(fallbacks(reason) == 0.0); }
  }
  json::object odd = workload("wl-double");
  odd["spec"].as_object()["issues"] = json::array{1.5};
  api.post("/apis/foreman.llmkube.dev/v1alpha1/namespaces/llm/workloads", odd);
  BOOST_TEST(run_until(io, [&] { return fallbacks("kept-double") >= 1.0; }, 10s));
  BOOST_TEST(fallbacks("refused") == 0.0);
  BOOST_TEST(fallbacks("duplicate-key") == 0.0);

  controller.stop();
  io.run_for(500ms);
}

BOOST_AUTO_TEST_SUITE_END()
