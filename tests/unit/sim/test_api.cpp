#include "sim/api.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

namespace json = boost::json;
using namespace fdb::sim;

namespace {
const Clock::time_point T0 = Clock::time_point(std::chrono::seconds(1'800'000'000));
struct Fixture {
  Store store;
  Foreman foreman{store, ForemanRules{}};
  Api api{store, foreman, nullptr, Api::Options{"", "127.0.0.1:1"}};
  Answer call(const std::string& method, const std::string& target, const std::string& body = "",
              const std::string& ct = "application/json") {
    Request r;
    r.method = method;
    auto q = target.find('?');
    r.path = target.substr(0, q);
    if (q != std::string::npos) r.query = parse_query(target.substr(q + 1));
    r.body = body;
    r.content_type = ct;
    return api.handle(r, T0);
  }
};
const std::string kWl = "/apis/foreman.llmkube.dev/v1alpha1/namespaces/llm/workloads";
}  // namespace

BOOST_AUTO_TEST_SUITE(sim_api)

BOOST_AUTO_TEST_CASE(routes_table) {
  Fixture f;
  struct Row {
    std::string method, target, body;
    int code;
  } rows[] = {
      {"GET", "/version", "", 200},
      {"GET", "/api", "", 200},
      {"GET", "/api/v1", "", 200},
      {"GET", "/apis", "", 200},
      {"GET", "/apis/foreman.llmkube.dev", "", 200},
      {"GET", "/apis/foreman.llmkube.dev/v1alpha1", "", 200},
      {"GET", "/apis/nope.dev/v1", "", 404},
      {"GET", "/openapi/v3", "", 200},
      {"POST", kWl, R"({"metadata":{"name":"a"},"spec":{}})", 201},
      {"POST", kWl, R"({"metadata":{"name":"a"}})", 409},
      {"POST", kWl, R"({"metadata":{"name":"A"}})", 422},
      {"POST", kWl, "[1]", 400},
      {"GET", kWl + "/a", "", 200},
      {"GET", kWl + "/b", "", 404},
      {"GET", kWl + "?labelSelector=a%20in%20(", "", 400},
      {"GET", kWl + "?fieldSelector=spec.x%3D1", "", 400},
      {"GET", "/apis/foreman.llmkube.dev/v1alpha1/workloads", "", 200},
      {"GET", kWl + "/a/status", "", 200},
      {"GET", "/apis/coordination.k8s.io/v1/namespaces/llm/leases/a/status", "", 404},
      {"GET", "/apis/foreman.llmkube.dev/v1alpha1/namespaces/llm/widgets", "", 404},
      {"GET", kWl + "?watch=true&sendInitialEvents=true", "", 422},
      {"GET", kWl + "?watch=true&resourceVersion=abc", "", 400},
      {"DELETE", kWl + "/a?propagationPolicy=Foreground", "", 200},
      {"DELETE", kWl + "/zzz", "", 404},
      {"POST", "/_sim/faults", R"({"path":"/apis/","code":42})", 400},
      {"POST", "/_sim/foreman", R"({"issues":{"o/r#1":{"1":"nonsense"}}})", 400},
      {"POST", "/_sim/foreman", R"({"failRate":0.5,"issues":{"o/r#1":{"1":"fail-review","*":"succeed"}}})", 200},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.method << " " << r.target) {
      auto a = f.call(r.method, r.target, r.body);
      BOOST_TEST(a.http.status == r.code);
      if (r.code >= 400 && r.target.rfind("/_sim", 0) != 0) {
        auto s = json::parse(a.http.body).as_object();
        BOOST_TEST(s["kind"].as_string() == "Status");
        BOOST_TEST(s["code"].as_int64() == r.code);
      }
    }
  }
  auto nf = json::parse(f.call("GET", kWl + "/x").http.body).as_object();
  BOOST_TEST(nf["message"].as_string() == "workloads.foreman.llmkube.dev \"x\" not found");
  BOOST_TEST(nf["reason"].as_string() == "NotFound");
  BOOST_TEST(nf["details"].as_object()["group"].as_string() == "foreman.llmkube.dev");
  BOOST_TEST(nf["details"].as_object()["kind"].as_string() == "workloads");
}

BOOST_AUTO_TEST_CASE(watch_requests) {
  Fixture f;
  auto a = f.call("GET", kWl + "?watch=true&resourceVersion=12&allowWatchBookmarks=true&timeoutSeconds=5&labelSelector=x%3Dy");
  BOOST_REQUIRE(a.watch);
  BOOST_TEST(*a.watch->from_rv == 12U);
  BOOST_TEST(a.watch->bookmarks);
  BOOST_TEST(a.watch->timeout_s == 5);
  BOOST_TEST(a.watch->filter.labels.str() == "x=y");
  BOOST_TEST(*a.watch->filter.ns == "llm");
  auto z = f.call("GET", kWl + "?watch=1&resourceVersion=0");
  BOOST_TEST(!z.watch->from_rv);
  auto si = f.call("GET", kWl + "?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&resourceVersion=5");
  BOOST_TEST(si.watch->initial_events_end);
  BOOST_TEST(!si.watch->from_rv);
}

BOOST_AUTO_TEST_CASE(faults_and_records) {
  Fixture f;
  BOOST_TEST(f.call("POST", "/_sim/faults", R"({"path":"/apis/foreman.llmkube.dev","method":"POST","code":429,"count":1,"retryAfter":2})").http.status == 200);
  auto t = f.call("POST", kWl, R"({"metadata":{"name":"a"}})");
  BOOST_TEST(t.http.status == 429);
  BOOST_TEST(t.http.headers["Retry-After"] == "2");
  BOOST_TEST(json::parse(t.http.body).as_object()["reason"].as_string() == "TooManyRequests");
  BOOST_TEST(f.call("POST", kWl, R"({"metadata":{"name":"a","annotations":{"foreman.llmkube.dev/attempt":"1"}}})").http.status == 201);
  BOOST_TEST(f.call("DELETE", kWl + "/a").http.status == 200);
  BOOST_TEST(f.call("POST", "/_sim/faults", R"({"path":"/apis/","latencyMs":30,"count":-1})").http.status == 200);
  BOOST_TEST(f.call("GET", kWl).http.delay_ms == 30);
  BOOST_TEST(f.call("DELETE", "/_sim/faults").http.status == 200);
  BOOST_TEST(f.call("GET", kWl).http.delay_ms == 0);
  // watchOnly: lists and gets pass untouched; the watch is held.
  BOOST_TEST(f.call("POST", "/_sim/faults", R"({"path":"/apis/","latencyMs":40,"count":1,"watchOnly":true})").http.status == 200);
  BOOST_TEST(f.call("GET", kWl).http.delay_ms == 0);
  auto held = f.call("GET", kWl + "?watch=true");
  BOOST_TEST(held.watch.has_value());
  BOOST_TEST(held.http.delay_ms == 40);
  BOOST_TEST(f.call("GET", kWl + "?watch=true").http.delay_ms == 0);  // count 1: spent
  BOOST_TEST(f.call("POST", "/_sim/faults", R"({"action":"dropWatches"})").drop_watches);
  BOOST_TEST(f.call("POST", "/_sim/faults", R"({"action":"expireHistory"})").http.status == 200);
  BOOST_TEST(f.store.compacted() == f.store.resource_version());
  // Records come from store events fed to observe().
  f.store.on_event = [&](const std::shared_ptr<const Event>& e) { f.api.observe(*e, T0); };
  BOOST_TEST(f.call("POST", kWl, R"({"metadata":{"name":"b","annotations":{"foreman.llmkube.dev/attempt":"2"}}})").http.status == 201);
  BOOST_TEST(f.call("PATCH", kWl + "/b/status", R"({"status":{"phase":"Failed"}})", "application/merge-patch+json").http.status == 200);
  BOOST_TEST(f.call("DELETE", kWl + "/b").http.status == 200);
  auto rec = json::parse(f.call("GET", "/_sim/records").http.body).as_object();
  auto wl = rec["workloads"].as_array();
  BOOST_REQUIRE(wl.size() == 2U);
  BOOST_TEST(wl[0].as_object()["op"].as_string() == "create");
  BOOST_TEST(wl[0].as_object()["attempt"].as_string() == "2");
  BOOST_TEST(wl[0].as_object()["liveExisted"].as_bool() == false);
  BOOST_TEST(wl[0].as_object()["phase"].as_string() == "");
  BOOST_TEST(wl[1].as_object()["op"].as_string() == "delete");
  BOOST_TEST(wl[1].as_object()["phase"].as_string() == "Failed");  // the phase it was deleted in
  BOOST_TEST(rec["requests"].as_object()["POST workloads"].as_int64() == 3);
}

// Issue 20's faults: a write acted on and then reset unanswered; a watch ended at once; the
// control action that stalls connects (carried out by the server).
BOOST_AUTO_TEST_CASE(reset_close_at_once_and_stall_faults) {
  Fixture f;
  BOOST_TEST(f.call("POST", "/_sim/faults", R"({"path":"/apis/","method":"POST","reset":true,"count":1})").http.status == 200);
  auto reset = f.call("POST", kWl, R"({"metadata":{"name":"r"}})");
  BOOST_TEST(reset.http.reset);
  BOOST_TEST(reset.http.status == 201);  // acted on: the object exists
  BOOST_TEST(f.call("GET", kWl + "/r").http.status == 200);
  BOOST_TEST(!f.call("POST", kWl, R"({"metadata":{"name":"s"}})").http.reset);  // count 1: spent
  BOOST_TEST(f.call("POST", "/_sim/faults", R"({"path":"/apis/","watchOnly":true,"closeAtOnce":true,"count":1})").http.status == 200);
  BOOST_TEST(!f.call("GET", kWl).http.reset);
  auto cut = f.call("GET", kWl + "?watch=true&resourceVersion=1");
  BOOST_TEST_REQUIRE(cut.watch.has_value());
  BOOST_TEST(cut.watch->end_at_once);
  BOOST_TEST(!f.call("GET", kWl + "?watch=true&resourceVersion=1").watch->end_at_once);
  auto stall = f.call("POST", "/_sim/faults", R"({"action":"stallConnects","front":"dispatch","ms":1500})");
  BOOST_TEST(stall.http.status == 200);
  BOOST_TEST(stall.stall_connects_ms == 1500);
  BOOST_TEST(stall.stall_front == "dispatch");
  BOOST_TEST(f.call("POST", "/_sim/faults", R"({"action":"stallConnects","front":"moon","ms":1500})").http.status == 400);
  BOOST_TEST(f.call("POST", "/_sim/faults", R"({"action":"stallConnects","front":"api"})").http.status == 400);
}

BOOST_AUTO_TEST_SUITE_END()
