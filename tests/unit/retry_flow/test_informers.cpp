// What the bridge's informers store of a Workload and of an AgenticTask: the field mask,
// then the in-place finish (project_workload / project_task), as a table of whole objects
// and what is kept of them. The informer decodes watch events through the same mask
// (MaskedEventDecoder), so the last case feeds a line through it too.
#include "operator/informers.hpp"
#include "watch/selector.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

using namespace fdb;
namespace json = boost::json;

namespace {

json::object stored_workload(std::string_view whole) {
  json::value masked = op::workload_fields().apply(json::parse(whole));
  return op::project_workload(std::move(masked.as_object()));
}

json::object stored_task(std::string_view whole) {
  json::value masked = op::task_fields().apply(json::parse(whole));
  return op::project_task(std::move(masked.as_object()));
}

struct Row {
  const char* what;
  const char* in;
  const char* out;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(bridge_informers)

BOOST_AUTO_TEST_CASE(workload_projection) {
  const Row rows[] = {
      {"a realistic Workload",
       R"({"apiVersion":"foreman.llmkube.dev/v1alpha1","kind":"Workload",
           "metadata":{"name":"wl-a-1","namespace":"llm","uid":"u1","resourceVersion":"7","generation":2,
             "creationTimestamp":"2026-11-25T09:00:00Z","labels":{"created-by":"dispatch-bridge","lane":"cloud"},
             "annotations":{"foreman.llmkube.dev/attempt":"2","kubectl.kubernetes.io/last-applied-configuration":"{...}"},
             "managedFields":[{"manager":"bridge","fieldsV1":{"f:spec":{"f:intent":{}}}}]},
           "spec":{"intent":"Fix it","repo":"o/r","issues":[4],"coderAgentRef":{"name":"coder"},
             "pipeline":[{"kind":"issue-fix","agentRef":{"name":"c2"},"prompt":"p"},{"kind":"review","agentRef":{"name":"r"}}],
             "reviewerAgentRefs":[{"name":"reviewer"}]},
           "status":{"phase":"Failed","succeededTasks":1,"failedTasks":1,
             "conditions":[{"type":"Completed","status":"False","reason":"ChildrenFailed","message":"m","lastTransitionTime":"t"}]}})",
       R"({"apiVersion":"foreman.llmkube.dev/v1alpha1","kind":"Workload",
           "metadata":{"name":"wl-a-1","namespace":"llm","uid":"u1","resourceVersion":"7",
             "creationTimestamp":"2026-11-25T09:00:00Z","labels":{"created-by":"dispatch-bridge","lane":"cloud"},
             "annotations":{"foreman.llmkube.dev/attempt":"2"}},
           "spec":{"repo":"o/r","issues":[4],"coderAgentRef":{"name":"coder"},
             "pipeline":[{"kind":"issue-fix","agentRef":{"name":"c2"}}]},
           "status":{"phase":"Failed","succeededTasks":1,"failedTasks":1,
             "conditions":[{"type":"Completed","status":"False","reason":"ChildrenFailed"}]}})"},
      {"apiVersion and kind are always the Workload's", R"({"metadata":{"name":"a"}})",
       R"({"apiVersion":"foreman.llmkube.dev/v1alpha1","kind":"Workload","metadata":{"name":"a"}})"},
      {"values of the wrong type are dropped",
       R"({"metadata":"x","spec":{"pipeline":{"kind":"issue-fix"}},"status":{"conditions":[1,{"type":"R","x":1},"s"]}})",
       R"({"apiVersion":"foreman.llmkube.dev/v1alpha1","kind":"Workload","spec":{},"status":{"conditions":[{"type":"R"}]}})"},
      {"annotations that are not an object, steps that are not issue-fix",
       R"({"metadata":{"name":"a","annotations":"no"},"spec":{"pipeline":[{"kind":7},{"agentRef":{}},"s",{"kind":"issue-fix"}]},"status":"odd"})",
       R"({"apiVersion":"foreman.llmkube.dev/v1alpha1","kind":"Workload","metadata":{"name":"a"},"spec":{"pipeline":[{"kind":"issue-fix"}]}})"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.what) { BOOST_TEST(stored_workload(r.in) == json::parse(r.out).as_object()); }
  }
}

BOOST_AUTO_TEST_CASE(task_projection) {
  const Row rows[] = {
      {"a task",
       R"({"metadata":{"name":"t","namespace":"llm","resourceVersion":"3","labels":{"foreman.llmkube.dev/workload":"w"},"uid":"x"},
           "spec":{"kind":"issue-fix","payload":{"branch":"b","prompt":"p"},"agentRef":{"name":"c"}},
           "status":{"phase":"Succeeded","result":{"verdict":"ok"}}})",
       R"({"metadata":{"name":"t","namespace":"llm","resourceVersion":"3","labels":{"foreman.llmkube.dev/workload":"w"}},
           "spec":{"kind":"issue-fix","payload":{"branch":"b"}},"status":{"phase":"Succeeded","result":{"verdict":"ok"}}})"},
      {"a payload without a branch, or not an object, is dropped",
       R"({"metadata":{"name":"t"},"spec":{"kind":"k","payload":{"prompt":"p"}}})", R"({"metadata":{"name":"t"},"spec":{"kind":"k"}})"},
      {"the same, payload a string", R"({"spec":{"payload":"p"},"status":7})", R"({"spec":{},"status":7})"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.what) { BOOST_TEST(stored_task(r.in) == json::parse(r.out).as_object()); }
  }
}

BOOST_AUTO_TEST_CASE(watch_lines_are_stored_alike) {
  // The informer's path: a watch line through the masked decoder, then the cache's
  // project_masked. The list's path: the whole object through project().
  auto opts = op::workload_informer_options("llm");
  const auto mask = kube::informer_mask(opts);
  BOOST_REQUIRE(mask);
  kube::ObjectCache cache(opts.transform, opts.indexes, mask);
  kube::MaskedEventDecoder decoder(*mask);
  const std::string object =
      R"({"apiVersion":"foreman.llmkube.dev/v1alpha1","kind":"Workload","metadata":{"name":"w","namespace":"llm","resourceVersion":"5",
          "annotations":{"foreman.llmkube.dev/attempt":"1","other":"x"}},"spec":{"intent":"long text","repo":"o/r"},
          "status":{"phase":"Running"}})";
  json::monotonic_resource arena;
  const kube::WatchEvent ev = decoder.decode(R"({"type":"ADDED","object":)" + object + "}", json::storage_ptr(&arena));
  BOOST_TEST(cache.project_masked(ev.object) == cache.project(json::parse(object).as_object()));
  BOOST_TEST(cache.project(json::parse(object).as_object()) == stored_workload(object));
}

BOOST_AUTO_TEST_CASE(list_pages_are_stored_alike) {
  // The list's path with a mask: the page through MaskedParser with the list mask, then
  // project_masked — against the whole page parsed and each item through project().
  auto opts = op::workload_informer_options("llm");
  const auto mask = kube::informer_mask(opts);
  BOOST_REQUIRE(mask);
  kube::ObjectCache cache(opts.transform, opts.indexes, mask);
  const kube::FieldMask list_mask = kube::FieldMask::list_answer(*mask);
  const std::string page = R"({"kind":"WorkloadList","apiVersion":"foreman.llmkube.dev/v1alpha1",
      "metadata":{"resourceVersion":"42","continue":"c1","remainingItemCount":3},
      "items":[
        {"apiVersion":"foreman.llmkube.dev/v1alpha1","kind":"Workload","metadata":{"name":"a","namespace":"llm","resourceVersion":"5",
         "labels":{"lane":"cloud"},"annotations":{"foreman.llmkube.dev/attempt":"1","x":"y"},
         "managedFields":[{"manager":"m","fieldsV1":{"f:spec":{".":{}}}}]},
         "spec":{"intent":"text\nwith \"quotes\"","repo":"o/r","issues":[1],"pipeline":[{"kind":"issue-fix","agentRef":{"name":"c"},"p":1}]},
         "status":{"phase":"Failed","conditions":[{"type":"Completed","status":"False","reason":"R","message":"m"}]}},
        {"metadata":{"name":"b","namespace":"llm"},"spec":"odd","status":{"conditions":"odd"}},
        7,
        {"metadata":{"name":"c","namespace":"llm","annotations":{"foreman.llmkube.dev/x":{"deep":[1,{"a":null}]}}}}]})";
  const json::value whole = json::parse(page);
  boost::system::error_code ec;
  kube::MaskedParser parser(kube::kMaxJsonDepth + 1);
  json::monotonic_resource arena;
  json::value masked = parser.parse(page, list_mask, json::storage_ptr(&arena), ec);
  BOOST_REQUIRE(!ec);
  BOOST_TEST(json::serialize(masked.at("metadata")) == R"({"resourceVersion":"42","continue":"c1"})");
  const auto& want = whole.at("items").as_array();
  const auto& got = masked.at("items").as_array();
  BOOST_REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    BOOST_TEST_CONTEXT("item " << i) {
      if (!want[i].is_object()) {
        BOOST_TEST(got[i] == want[i]);
        continue;
      }
      BOOST_TEST(cache.project_masked(got[i].as_object()) == cache.project(want[i].as_object()));
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

// The Workload informer caches PR-fix Workloads too: one set-based selector, which the
// API server (and kube-sim, through watch/selector) reads.
BOOST_AUTO_TEST_CASE(the_workload_selector_takes_both_owners) {
  const auto opts = op::workload_informer_options("llm");
  BOOST_TEST(opts.reflector.label_selector == "created-by in (dispatch-bridge,dispatch-bridge-prfix)");
  const auto sel = kube::LabelSelector::parse(opts.reflector.label_selector);
  BOOST_TEST(sel.matches({{"created-by", "dispatch-bridge"}}));
  BOOST_TEST(sel.matches({{"created-by", "dispatch-bridge-prfix"}, {"lane", "x"}}));
  BOOST_TEST(!sel.matches({{"created-by", "someone-else"}}));
  BOOST_TEST(!sel.matches({{"lane", "local"}}));
}
