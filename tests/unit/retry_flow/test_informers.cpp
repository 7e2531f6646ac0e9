// What the bridge's informers store of a Workload and of an AgenticTask, as a table of
// whole objects and what is kept of them. A Workload's projection is its field mask alone
// (rules included), so each row goes through every decoder of a mask: FieldMask::apply,
// MaskedParser (Boost.JSON) and FastParse (simdjson); a task's is the mask then
// project_task. The informer decodes watch events through the same mask
// (MaskedEventDecoder), so the last cases feed lines and pages through it too.
#include "operator/informers.hpp"
#include "support/foreman_fixtures.hpp"
#include "watch/packed_json.hpp"
#include "watch/selector.hpp"
#include "watch/simd_parse.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

using namespace fdb;
namespace json = boost::json;

namespace {

// A Workload through each decoder of workload_fields(): apply's, MaskedParser's and
// FastParse's answers, each in `sp`.
std::vector<json::value> stored_workloads(std::string_view whole, const kube::FieldMask& mask, const json::storage_ptr& sp) {
  std::vector<json::value> out;
  out.push_back(mask.apply(json::parse(whole), sp));
  boost::system::error_code ec;
  kube::MaskedParser slow;
  out.push_back(slow.parse(whole, mask, sp, ec));
  BOOST_TEST(!ec);
  kube::FastParse fast;
  json::value by_fast(sp);
  BOOST_TEST((fast.parse(whole, mask, sp, by_fast) == kube::FastOutcome::Decoded));
  out.push_back(std::move(by_fast));
  return out;
}

json::object stored_task(std::string_view whole) {
  json::value masked = op::task_fields().apply(json::parse(whole));
  return op::project_task(std::move(masked.as_object()));
}

// What the informer stored of a Workload before the mask had rules: the mask without them,
// then the transform project_workload finished it with. Kept here as the oracle that the
// stored bytes do not change (a relist after an upgrade must not update every object).
namespace legacy {

json::object* object_at(json::object& o, std::string_view key) {
  const auto it = o.find(key);
  if (it == o.end()) return nullptr;
  if (!it->value().is_object()) {
    o.erase(it);
    return nullptr;
  }
  return &it->value().get_object();
}

template <class Keep>
void filter_objects(json::object& o, std::string_view key, Keep keep) {
  const auto it = o.find(key);
  if (it == o.end()) return;
  if (!it->value().is_array()) {
    o.erase(it);
    return;
  }
  auto& a = it->value().get_array();
  for (auto e = a.begin(); e != a.end();) {
    if (e->is_object() && keep(e->get_object())) ++e;
    else e = a.erase(e);
  }
}

kube::FieldMask workload_fields() {
  kube::FieldMask m;
  m.keep({"apiVersion"});
  m.keep({"kind"});
  for (const char* k : {"name", "namespace", "uid", "resourceVersion", "creationTimestamp", "deletionTimestamp", "labels"}) {
    m.keep({"metadata", k});
  }
  m.keep_prefix({"metadata", "annotations"}, "foreman.llmkube.dev/");
  for (const char* k : {"repo", "issues", "coderAgentRef"}) m.keep({"spec", k});
  m.keep({"spec", "pipeline", "kind"});
  m.keep({"spec", "pipeline", "agentRef"});
  for (const char* k : {"phase", "succeededTasks", "failedTasks", "incompleteTasks"}) m.keep({"status", k});
  for (const char* k : {"type", "status", "reason"}) m.keep({"status", "conditions", k});
  return m;
}

json::object project_workload(json::object w) {
  w["apiVersion"] = "foreman.llmkube.dev/v1alpha1";
  w["kind"] = "Workload";
  if (auto* md = object_at(w, "metadata")) object_at(*md, "annotations");
  if (auto* spec = object_at(w, "spec")) {
    filter_objects(*spec, "pipeline", [](const json::object& step) {
      const auto* kind = step.if_contains("kind");
      return kind != nullptr && kind->is_string() && kind->get_string() == "issue-fix";
    });
  }
  if (auto* st = object_at(w, "status")) filter_objects(*st, "conditions", [](const json::object&) { return true; });
  return w;
}

}  // namespace legacy

struct Row {
  const char* what;
  const char* in;
  const char* out;
};

const Row kWorkloadRows[] = {
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

}  // namespace

BOOST_AUTO_TEST_SUITE(bridge_informers)

BOOST_AUTO_TEST_CASE(workload_projection) {
  const kube::FieldMask mask = op::workload_fields();
  for (const auto& r : kWorkloadRows) {
    BOOST_TEST_CONTEXT(r.what) {
      json::monotonic_resource arena;
      const auto got = stored_workloads(r.in, mask, json::storage_ptr(&arena));
      for (std::size_t i = 0; i < got.size(); ++i) {
        BOOST_TEST_CONTEXT("decoder " << i) {
          BOOST_TEST(got[i] == json::parse(r.out));
          BOOST_TEST(json::serialize(got[i]) == json::serialize(got[0]));  // and in the same order
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(stored_bytes_are_those_of_the_transform_the_rules_replace) {
  // What the store packs, through the informer's mask (with what the informer adds),
  // against the mask without rules then legacy::project_workload: the same bytes, keys in
  // the same order, for Workloads as an API server sends them (the first two rows, and
  // Workloads as the bridge and the Python bridge make them).
  // Not for the rows with values of the wrong type, which the API server's schema refuses:
  // there the transform's json::object::erase moved the object's last key into the place
  // of the one dropped, where the rules keep the others in their order.
  std::vector<std::string> inputs{kWorkloadRows[0].in, kWorkloadRows[1].in};
  test::WorkloadFields f = test::python_workload_fields("wl-o-r-7", "o/r", 7, "id-7", "foreman/coder");
  f.uid = "u-1";
  f.resource_version = "41";
  f.intent = "Fix it\n```\ncode \"quoted\"\n```";
  f.reviewers = {"rev-a", "rev-b"};
  f.verifier = "verifier";
  f.phase = "Failed";
  f.completed_reason = "ChildrenFailed";
  f.terminating = true;
  inputs.push_back(json::serialize(test::workload_object(f)));
  inputs.push_back(json::serialize(test::bridge_workload("wl-o-r-8", "o/r", 8, "coder-2")));
  const auto opts = op::workload_informer_options("llm");
  const auto mask = kube::informer_mask(opts);
  BOOST_REQUIRE(mask);
  BOOST_TEST(!opts.transform);
  const kube::FieldMask old_mask = legacy::workload_fields().merge(kube::FieldMask::informer_minimum());
  kube::KeyTable keys;
  for (const auto& in : inputs) {
    BOOST_TEST_CONTEXT(in.substr(0, 120)) {
      const std::string want = kube::pack(legacy::project_workload(old_mask.apply(json::parse(in)).as_object()), keys);
      json::monotonic_resource arena;
      for (const auto& got : stored_workloads(in, *mask, json::storage_ptr(&arena))) {
        BOOST_REQUIRE(got.is_object());
        BOOST_TEST(kube::pack(got.get_object(), keys) == want);
      }
    }
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
  BOOST_TEST(cache.project(json::parse(object).as_object()) == op::workload_fields().apply(json::parse(object)));
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
