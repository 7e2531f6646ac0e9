// The informer against kube-sim with its faults on: objects created, changed and deleted
// while watches are dropped and the history expires (forcing 410 and relists); at the
// end the cache equals the server's state exactly (names and resourceVersions). Run three
// ways: paged lists and whole objects; streaming lists (sendInitialEvents) with a field
// mask; and streaming refused by the server at first, so the informer falls back to pages.
#include "support/process.hpp"
#include "support/sim_client.hpp"
#include "watch/client_io.hpp"
#include "watch/config.hpp"
#include "watch/watch_cache_io.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <future>
#include <map>
#include <random>
#include <thread>

namespace asio = boost::asio;
namespace json = boost::json;
using namespace fdb;
using namespace fdb::test;
using namespace std::chrono_literals;

namespace {

const std::string kPath = "/apis/foreman.llmkube.dev/v1alpha1/namespaces/llm/workloads";

json::object workload(const std::string& name) {
  return json::object{{"apiVersion", "foreman.llmkube.dev/v1alpha1"},
                      {"kind", "Workload"},
                      {"metadata", json::object{{"name", name}, {"annotations", json::object{{"sim.llmkube.dev/outcome", "hang"}}}}},
                      {"spec", json::object{{"intent", "x"}, {"repo", "o/r"}, {"issues", json::array{1}},
                                            {"coderAgentRef", json::object{{"name", "coder"}}}}}};
}

using Snapshot = std::map<std::string, std::string>;  // name → resourceVersion

Snapshot server_state(const SimClient& api) {
  Snapshot out;
  // The all-namespaces path: the faults injected on the namespaced one are for the informer.
  const json::value list = api.get("/apis/foreman.llmkube.dev/v1alpha1/workloads");
  for (const auto& item : list.at("items").as_array()) {
    out[std::string(item.at("metadata").at("name").as_string())] = std::string(item.at("metadata").at("resourceVersion").as_string());
  }
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(informer_sim)

namespace {

enum class Mode { Paged, Streaming, StreamingRefused };

void converges(Mode mode) {
  Sim sim = start_sim({"--history", "50", "--foreman-step-ms", "100000", "--bookmark-ms", "200"},
                      temp_dir("informer") + "/kube-sim.log");
  SimClient api(sim.api_url);
  for (int i = 0; i < 30; ++i) api.post(kPath, workload("wl-" + std::to_string(i)));
  if (mode == Mode::StreamingRefused) {
    // As an API server without the WatchList feature: the first streaming list is refused.
    api.post("/_sim/faults", json::object{{"path", kPath}, {"method", "GET"}, {"code", 422}, {"count", 1}});
  }

  asio::io_context io;
  auto guard = asio::make_work_guard(io);
  kube::Client client(io.get_executor(), kube::load_kubeconfig(sim.kubeconfig));
  kube::WatchCacheOptions opts;
  opts.type = kube::workloads();
  opts.ns = "llm";
  opts.reflector.streaming_list = mode != Mode::Paged;
  if (mode == Mode::Streaming) {
    kube::FieldMask keep;
    keep.keep({"metadata", "labels"});
    keep.keep({"spec", "repo"});
    opts.fields = keep;
  }
  kube::WatchCache cache(io.get_executor(), client, opts);
  int adds = 0, deletes = 0, gave_up_streaming = 0;
  cache.set_handlers({[&](const kube::CachedObject&) { ++adds; }, {}, [&](const kube::CachedObject&) { ++deletes; }, {},
                      [&](const kube::InformerEvent& e) {
                        if (e.kind == kube::InformerEventKind::StreamingUnavailable) ++gave_up_streaming;
                      }});
  auto run = [](kube::WatchCache* c) -> asio::awaitable<void> { co_await c->run(); };
  asio::co_spawn(io, run(&cache), [](std::exception_ptr) {});
  std::thread io_thread([&] { io.run(); });
  // Whatever happens below, the io thread is stopped and joined.
  struct Joiner {
    asio::io_context& io;
    std::thread& t;
    ~Joiner() {
      io.stop();
      if (t.joinable()) t.join();
    }
  } joiner{io, io_thread};

  // Reads the cache on its own thread.
  auto on_io = [&](auto f) {
    std::promise<decltype(f())> p;
    asio::post(io, [&] { p.set_value(f()); });
    return p.get_future().get();
  };
  auto cache_state = [&] {
    return on_io([&] {
      Snapshot out;
      cache.cache().for_each([&](const std::string& key, const json::object& o) {
        out[key.substr(key.find('/') + 1)] = kube::resource_version_of(o);
      });
      return out;
    });
  };
  BOOST_REQUIRE(SimClient::wait_until([&] { return on_io([&] { return cache.synced(); }); }, 20s));

  std::mt19937 rng(42);
  int next = 30;
  for (int round = 0; round < 8; ++round) {
    // Faults first, so some changes happen while no watch is open.
    const bool expire = round % 2 == 1;
    if (expire) {
      // The re-watch fails once, so the informer backs off (800 ms or more) while the
      // objects change and the history expires: its resume point is then too old (410).
      api.post("/_sim/faults", json::object{{"path", kPath}, {"method", "GET"}, {"code", 500}, {"count", 1}});
    }
    api.post("/_sim/faults", json::object{{"action", "dropWatches"}});
    for (int k = 0; k < 5; ++k) api.post(kPath, workload("wl-" + std::to_string(next++)));
    const Snapshot now = server_state(api);
    std::vector<std::string> names;
    for (const auto& [n, rv] : now) names.push_back(n);
    std::shuffle(names.begin(), names.end(), rng);
    for (int k = 0; k < 5 && k < static_cast<int>(names.size()); ++k) {
      api.merge_patch(kPath + "/" + names[static_cast<std::size_t>(k)],
                      json::object{{"metadata", json::object{{"labels", json::object{{"round", std::to_string(round)}}}}}});
    }
    for (int k = 5; k < 8 && k < static_cast<int>(names.size()); ++k) api.del(kPath + "/" + names[static_cast<std::size_t>(k)]);
    if (expire) api.post("/_sim/faults", json::object{{"action", "expireHistory"}});
    std::this_thread::sleep_for(expire ? 1500ms : 100ms);
  }

  // Converged: exactly the server's objects at exactly their versions.
  Snapshot expected;
  bool equal = SimClient::wait_until(
      [&] {
        expected = server_state(api);
        return cache_state() == expected;
      },
      30s);
  const Snapshot got = cache_state();
  BOOST_TEST(equal, "cache " << got.size() << " objects, server " << expected.size());
  const auto relists = on_io([&] { return cache.reflector().relists(); });
  const auto restarts = on_io([&] { return cache.reflector().watch_restarts(); });
  BOOST_TEST_MESSAGE("relists " << relists << ", watch restarts " << restarts << ", adds " << adds << ", deletes " << deletes);
  BOOST_TEST(relists > 0u);    // the expired history forced relists
  BOOST_TEST(restarts > 0u);   // the drops forced resumes
  BOOST_TEST(deletes > 0);     // deletions seen, some of them only through a relist
  const bool streaming = on_io([&] { return cache.reflector().streaming(); });
  BOOST_TEST(streaming == (mode == Mode::Streaming));  // never fell back, or did at once
  BOOST_TEST(on_io([&] { return gave_up_streaming; }) == (mode == Mode::StreamingRefused ? 1 : 0));  // and said so once
  if (mode == Mode::Streaming) {
    // What the mask keeps, and nothing else.
    const auto one = on_io([&] { return cache.cache().get("llm/wl-0"); });
    if (one) {
      BOOST_TEST(!one->contains("status"));
      BOOST_TEST(one->at("spec").as_object().size() == 1u);
    }
  }

  guard.reset();
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_cache_converges_after_drops_and_expiry) { converges(Mode::Paged); }
BOOST_AUTO_TEST_CASE(streaming_lists_converge_after_drops_and_expiry) { converges(Mode::Streaming); }
BOOST_AUTO_TEST_CASE(a_refused_streaming_list_falls_back_to_pages) { converges(Mode::StreamingRefused); }

BOOST_AUTO_TEST_SUITE_END()
