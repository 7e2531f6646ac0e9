#include "watch/request.hpp"

#include <boost/test/unit_test.hpp>

using namespace fdb::kube;

BOOST_AUTO_TEST_SUITE(request_builder)

BOOST_AUTO_TEST_CASE(paths_for_core_grouped_namespaced_and_cluster_wide) {
  struct Row {
    ResourceType type;
    std::string ns;
    std::string collection;
    std::string object;
  };
  const Row rows[] = {
      {workloads(), "llm", "/apis/foreman.llmkube.dev/v1alpha1/namespaces/llm/workloads",
       "/apis/foreman.llmkube.dev/v1alpha1/namespaces/llm/workloads/wl-a-1"},
      {workloads(), "", "/apis/foreman.llmkube.dev/v1alpha1/workloads", ""},
      {leases(), "kube-system", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases",
       "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/wl-a-1"},
      {core_events(), "x", "/api/v1/namespaces/x/events", "/api/v1/namespaces/x/events/wl-a-1"},
      {events_v1(), "x", "/apis/events.k8s.io/v1/namespaces/x/events", "/apis/events.k8s.io/v1/namespaces/x/events/wl-a-1"},
      {{"", "v1", "nodes", false}, "ignored", "/api/v1/nodes", "/api/v1/nodes/wl-a-1"},
      {{"apiextensions.k8s.io", "v1", "customresourcedefinitions", false}, "",
       "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
       "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/wl-a-1"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.collection) {
      Requests q(r.type, r.ns);
      BOOST_TEST(q.collection_path() == r.collection);
      if (r.object.empty()) {
        BOOST_CHECK_THROW(q.object_path("wl-a-1"), std::invalid_argument);
      } else {
        BOOST_TEST(q.object_path("wl-a-1") == r.object);
        BOOST_TEST(q.get("wl-a-1").target == r.object);
        BOOST_TEST(q.get("wl-a-1").method == "GET");
      }
    }
  }
  BOOST_TEST(workloads().api_version() == "foreman.llmkube.dev/v1alpha1");
  BOOST_TEST(core_events().api_version() == "v1");
}

BOOST_AUTO_TEST_CASE(list_queries) {
  Requests q(workloads(), "llm");
  const std::string base = "/apis/foreman.llmkube.dev/v1alpha1/namespaces/llm/workloads";
  struct Row {
    ListOptions opts;
    std::string target;
  };
  const Row rows[] = {
      {{}, base},
      {{.label_selector = "created-by=dispatch-bridge"}, base + "?labelSelector=created-by%3Ddispatch-bridge"},
      {{.label_selector = "lane in (local,cloud),!x"}, base + "?labelSelector=lane%20in%20%28local%2Ccloud%29%2C%21x"},
      {{.field_selector = "metadata.name=wl-a-1"}, base + "?fieldSelector=metadata.name%3Dwl-a-1"},
      {{.limit = 500, .resource_version = "0"}, base + "?limit=500&resourceVersion=0"},
      {{.limit = 500, .continue_token = "eyJ2IjoxfQ=="}, base + "?limit=500&continue=eyJ2IjoxfQ%3D%3D"},
      {{.resource_version = "123", .resource_version_match = "NotOlderThan"},
       base + "?resourceVersion=123&resourceVersionMatch=NotOlderThan"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.target) {
      const auto req = q.list(r.opts);
      BOOST_TEST(req.method == "GET");
      BOOST_TEST(req.target == r.target);
      BOOST_TEST(!req.watch);
      BOOST_TEST(req.body.empty());
    }
  }
}

BOOST_AUTO_TEST_CASE(watch_queries) {
  const std::string base = "/apis/foreman.llmkube.dev/v1alpha1/workloads";
  Requests all(workloads());
  struct Row {
    WatchOptions opts;
    std::string target;
  };
  const Row rows[] = {
      {{}, base + "?watch=true&allowWatchBookmarks=true"},
      {{.allow_watch_bookmarks = false}, base + "?watch=true"},
      {{.resource_version = "42", .timeout_seconds = 317},
       base + "?watch=true&resourceVersion=42&allowWatchBookmarks=true&timeoutSeconds=317"},
      {{.label_selector = "created-by=dispatch-bridge", .send_initial_events = true,
        .resource_version_match = "NotOlderThan"},
       base + "?watch=true&labelSelector=created-by%3Ddispatch-bridge&resourceVersionMatch=NotOlderThan"
              "&allowWatchBookmarks=true&sendInitialEvents=true"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.target) {
      const auto req = all.watch(r.opts);
      BOOST_TEST(req.target == r.target);
      BOOST_TEST(req.watch);
    }
  }
}

BOOST_AUTO_TEST_CASE(writes) {
  Requests q(workloads(), "llm");
  const std::string obj = "/apis/foreman.llmkube.dev/v1alpha1/namespaces/llm/workloads/wl-a-1";

  auto r = q.create(R"({"a":1})");
  BOOST_TEST(r.method == "POST");
  BOOST_TEST(r.target == "/apis/foreman.llmkube.dev/v1alpha1/namespaces/llm/workloads");
  BOOST_TEST(r.content_type == "application/json");
  BOOST_TEST(r.body == R"({"a":1})");

  r = q.replace("wl-a-1", "{}");
  BOOST_TEST(r.method == "PUT");
  BOOST_TEST(r.target == obj);

  r = q.replace_status("wl-a-1", "{}");
  BOOST_TEST(r.target == obj + "/status");

  struct PatchRow {
    PatchType type;
    std::string content_type;
  };
  for (const auto& p : {PatchRow{PatchType::Merge, "application/merge-patch+json"},
                        PatchRow{PatchType::Json, "application/json-patch+json"},
                        PatchRow{PatchType::StrategicMerge, "application/strategic-merge-patch+json"}}) {
    r = q.patch("wl-a-1", p.type, "{}");
    BOOST_TEST(r.method == "PATCH");
    BOOST_TEST(r.target == obj);
    BOOST_TEST(r.content_type == p.content_type);
  }
  BOOST_TEST(q.patch("wl-a-1", PatchType::Merge, "{}", "status").target == obj + "/status");

  BOOST_CHECK_THROW(Requests(workloads()).create("{}"), std::invalid_argument);
  BOOST_CHECK_THROW(q.get(""), std::invalid_argument);
  BOOST_CHECK_THROW(q.get("a/b"), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(delete_options) {
  Requests q(workloads(), "llm");
  struct Row {
    DeleteOptions opts;
    std::string body;
  };
  const Row rows[] = {
      {{}, ""},
      {{.propagation_policy = "Foreground"},
       R"({"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Foreground"})"},
      {{.propagation_policy = "Background", .precondition_uid = "u-1"},
       R"({"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Background","preconditions":{"uid":"u-1"}})"},
      {{.precondition_uid = "u-1", .precondition_resource_version = "9", .grace_period_seconds = 0},
       R"({"kind":"DeleteOptions","apiVersion":"v1","gracePeriodSeconds":0,"preconditions":{"uid":"u-1","resourceVersion":"9"}})"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.body) {
      const auto req = q.remove("wl-a-1", r.opts);
      BOOST_TEST(req.method == "DELETE");
      BOOST_TEST(req.target == "/apis/foreman.llmkube.dev/v1alpha1/namespaces/llm/workloads/wl-a-1");
      BOOST_TEST(req.body == r.body);
      BOOST_TEST(req.content_type == (r.body.empty() ? "" : "application/json"));
    }
  }
}

BOOST_AUTO_TEST_CASE(query_encoding) {
  BOOST_TEST(encode_query_value("a-b_c.d~e") == "a-b_c.d~e");
  BOOST_TEST(encode_query_value("a=b, c") == "a%3Db%2C%20c");
  BOOST_TEST(encode_query_value("\xc3\xa9") == "%C3%A9");
  BOOST_TEST(encode_query_value("&?#/+") == "%26%3F%23%2F%2B");
}

BOOST_AUTO_TEST_SUITE_END()
