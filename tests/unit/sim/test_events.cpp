// kube-sim: an Event written through one group is read through the other, with the
// fields converted as a real API server converts them.
#include "sim/api.hpp"
#include "sim/events.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

namespace json = boost::json;
using namespace fdb::sim;

namespace {
const Clock::time_point T0 = Clock::time_point(std::chrono::seconds(1'800'000'000));

json::object events_v1() {
  return json::parse(R"({"apiVersion":"events.k8s.io/v1","kind":"Event",
    "metadata":{"name":"wl-o-r-1.abc","namespace":"llm"},
    "eventTime":"2026-01-02T03:04:05.000000Z","reportingController":"foreman-dispatch-bridge",
    "reportingInstance":"bridge-0","action":"Retry","reason":"Retried","type":"Normal",
    "note":"attempt 2 created",
    "regarding":{"apiVersion":"foreman.llmkube.dev/v1alpha1","kind":"Workload","name":"wl-o-r-1","namespace":"llm"}})")
      .as_object();
}
}  // namespace

BOOST_AUTO_TEST_SUITE(sim_events)

BOOST_AUTO_TEST_CASE(conversion_table) {
  const json::object core = core_event_of(events_v1());
  struct Row {
    const char* core_key;
    json::value want;
  } rows[] = {
      {"apiVersion", "v1"},
      {"message", "attempt 2 created"},
      {"reason", "Retried"},
      {"type", "Normal"},
      {"action", "Retry"},
      {"reportingComponent", "foreman-dispatch-bridge"},
      {"reportingInstance", "bridge-0"},
      {"eventTime", "2026-01-02T03:04:05.000000Z"},
      {"source", json::object{{"component", "foreman-dispatch-bridge"}}},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.core_key) {
      BOOST_REQUIRE(core.contains(r.core_key));
      BOOST_TEST(core.at(r.core_key) == r.want);
    }
  }
  BOOST_TEST(core.at("involvedObject").at("name") == "wl-o-r-1");
  BOOST_TEST(core.at("metadata").at("name") == "wl-o-r-1.abc");
  // And back: the events.k8s.io fields come back as they were.
  const json::object back = events_v1_event_of(core);
  for (const char* k : {"note", "regarding", "reportingController", "reportingInstance", "reason", "action", "eventTime"}) {
    BOOST_TEST_CONTEXT(k) { BOOST_TEST(back.at(k) == events_v1().at(k)); }
  }
}

BOOST_AUTO_TEST_CASE(an_event_created_in_either_group_is_listed_in_both) {
  Store store;
  Foreman foreman{store, ForemanRules{}};
  Api api{store, foreman, nullptr, Api::Options{"", "127.0.0.1:1"}};
  auto call = [&](const std::string& method, const std::string& path, const std::string& body) {
    Request r;
    r.method = method;
    r.path = path;
    r.body = body;
    r.content_type = "application/json";
    return api.handle(r, T0);
  };
  BOOST_TEST(call("POST", "/apis/events.k8s.io/v1/namespaces/llm/events", json::serialize(events_v1())).http.status == 201);
  json::value core = json::parse(call("GET", "/api/v1/namespaces/llm/events", "").http.body);
  BOOST_REQUIRE(core.at("items").as_array().size() == 1u);
  BOOST_TEST(core.at("items").at(0).at("involvedObject").at("kind") == "Workload");
  BOOST_TEST(core.at("items").at(0).at("message") == "attempt 2 created");

  json::object kubectl_event{{"apiVersion", "v1"},
                             {"kind", "Event"},
                             {"metadata", json::object{{"name", "x.1"}, {"namespace", "llm"}}},
                             {"involvedObject", json::object{{"kind", "Pod"}, {"name", "x"}}},
                             {"reason", "Pulled"},
                             {"message", "pulled"}};
  BOOST_TEST(call("POST", "/api/v1/namespaces/llm/events", json::serialize(kubectl_event)).http.status == 201);
  json::value v1 = json::parse(call("GET", "/apis/events.k8s.io/v1/namespaces/llm/events", "").http.body);
  BOOST_REQUIRE(v1.at("items").as_array().size() == 2u);
  bool seen = false;
  for (const auto& e : v1.at("items").as_array())
    seen |= e.at("metadata").at("name") == "x.1" && e.at("note") == "pulled" && e.at("regarding").at("kind") == "Pod";
  BOOST_TEST(seen);
}

BOOST_AUTO_TEST_CASE(core_events_are_selected_by_involved_object_as_kubectl_describe_does) {
  Store store;
  Foreman foreman{store, ForemanRules{}};
  Api api{store, foreman, nullptr, Api::Options{"", "127.0.0.1:1"}};
  auto get = [&](const std::string& path, const std::string& selector) {
    Request r;
    r.method = "GET";
    r.path = path;
    r.query = parse_query("fieldSelector=" + selector);
    return api.handle(r, T0);
  };
  json::object ev = events_v1();
  ev["regarding"].as_object()["uid"] = "u-1";
  Request post;
  post.method = "POST";
  post.path = "/apis/events.k8s.io/v1/namespaces/llm/events";
  post.body = json::serialize(ev);
  post.content_type = "application/json";
  BOOST_REQUIRE(api.handle(post, T0).http.status == 201);
  const std::string core = "/api/v1/namespaces/llm/events";
  struct Row {
    std::string path, selector;
    int code;
    std::size_t items;
  } rows[] = {
      {core, "involvedObject.uid%3Du-1", 200, 1},
      {core, "involvedObject.uid%3Du-2", 200, 0},
      {core, "involvedObject.name%3Dwl-o-r-1,involvedObject.kind%3DWorkload,involvedObject.namespace%3Dllm", 200, 1},
      {core, "reason%3DRetried,type%3DNormal,reportingComponent%3Dforeman-dispatch-bridge,source%3Dforeman-dispatch-bridge", 200, 1},
      {core, "reason!%3DRetried", 200, 0},
      {core, "involvedObject.bogus%3Dx", 400, 0},
      {"/apis/foreman.llmkube.dev/v1alpha1/namespaces/llm/workloads", "involvedObject.uid%3Du-1", 400, 0},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.path << "?" << r.selector) {
      const Answer a = get(r.path, r.selector);
      BOOST_TEST(a.http.status == r.code);
      if (r.code == 200) BOOST_TEST(json::parse(a.http.body).at("items").as_array().size() == r.items);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
