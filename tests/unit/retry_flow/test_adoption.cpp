// Adopting the Python bridge's Workloads (issue 18 items 2 and 5): an issue's Workload is
// found by its issue whatever its name; a retry keeps a name that can label tasks; the lane
// and a missing issue id come from dispatch. Tables over the pure functions.
#include "dispatch/workload.hpp"
#include "operator/adoption.hpp"
#include "operator/cache_view.hpp"
#include "operator/informers.hpp"
#include "operator/retry_decision.hpp"
#include "operator/retry_flow.hpp"
#include "support/foreman_fixtures.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <map>

namespace json = boost::json;
using namespace fdb::op;
using fdb::dispatch::python_workload_name;
using fdb::dispatch::workload_name;
using fdb::test::MapCache;

namespace {

// A Workload the way the Python bridge 0.7 made it (support/foreman_fixtures.hpp), with a
// uid and a phase.
json::object python_workload(const std::string& repo, std::int64_t n, const std::string& issue_id,
                             const std::string& phase = "Failed", const std::string& lane = "local") {
  auto f = fdb::test::python_workload_fields(python_workload_name(repo, n), repo, n, issue_id, "foreman/coder", lane);
  f.uid = "u-" + std::to_string(n);
  f.phase = phase;
  return fdb::test::workload_object(f);
}

const std::string kLong = "o/" + std::string(60, 'r');  // the Python's name: 67 characters

}  // namespace

BOOST_AUTO_TEST_SUITE(adoption)

BOOST_AUTO_TEST_CASE(issue_index_keys_of_a_workload) {
  struct Row {
    const char* given;
    json::object workload;
    std::vector<std::string> keys;
  };
  const Row rows[] = {
      {"issue-id and repo", python_workload("O/Repo.JS", 3, "I_3"), {"id:I_3", "repo:o/repo.js#3"}},
      {"before 0.3: no issue-id", python_workload("o/old.py", 5, ""), {"repo:o/old.py#5"}},
      // This program's name for its issue: found by name, not indexed (memory per object).
      {"the plain name", python_workload("o/old", 5, "I_5"), {}},
      {"long", python_workload(kLong, 7, "I_7"), {"id:I_7", "repo:" + kLong + "#7"}},
      {"no spec", json::parse(R"({"metadata":{"name":"x","labels":{"created-by":"dispatch-bridge"},"annotations":{"foreman.llmkube.dev/issue-id":"I"}}})").as_object(),
       {"id:I"}},
      {"an early Python retry without spec.issues: the number from the name",
       json::parse(R"({"metadata":{"name":"wl-o-r.js-12","labels":{"created-by":"dispatch-bridge"}},"spec":{"repo":"o/r.js"}})").as_object(), {"repo:o/r.js#12"}},
      {"no issues and no number in the name",
       json::parse(R"({"metadata":{"name":"wl-x","labels":{"created-by":"dispatch-bridge"},"annotations":{"foreman.llmkube.dev/issue-id":"I"}},"spec":{"repo":"o/r"}})")
           .as_object(),
       {"id:I"}},
      {"garbage", json::parse(R"({"metadata":"x","spec":[]})").as_object(), {}},
      // The Workload cache holds PR-fix Workloads too: never an issue's Workload.
      {"a PR-fix Workload",
       json::parse(R"({"metadata":{"name":"prfix-o-r-5","labels":{"created-by":"dispatch-bridge-prfix"},
         "annotations":{"foreman.llmkube.dev/issue-id":"I"}},"spec":{"repo":"o/r","issues":[1]}})").as_object(), {}},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) {
      BOOST_TEST(issue_index_keys(r.workload) == r.keys, boost::test_tools::per_element());
      // The same on what the informer hands the index: the fields it declares it reads.
      const auto read = fdb::test::through_reads(r.workload, issue_index_reads());
      BOOST_TEST(issue_index_keys(read) == r.keys, boost::test_tools::per_element());
    }
  }
}

// Every index of the bridge's informers gives the same values on what its reads keep of a
// stored projection as on the whole projection: a field an index function (or one it
// calls) reads and its reads leave out shows here.
BOOST_AUTO_TEST_CASE(each_informer_index_reads_what_it_declares) {
  using fdb::test::WorkloadFields;
  std::vector<json::object> workloads = {
      fdb::test::bridge_workload(workload_name("o/r", 7), "o/r", 7),
      fdb::test::bridge_workload("wl-legacy-9", "O/R.js", 9, "coder-b", true),
      python_workload("O/Repo.JS", 3, "I_3", "Running"),
      python_workload(kLong, 7, "I_7", "Completed"),
      python_workload("o/old.py", 5, "", "Failed", "cloud"),
  };
  for (const auto& f : {WorkloadFields{.name = "wl-a-1", .issue_id = "I_1", .coder = "c1", .phase = "Dispatched"},
                        WorkloadFields{.name = "other-name", .number = 0, .issue_id = "I_2", .phase = "Running"},
                        WorkloadFields{.name = "prfix-o-r-5", .created_by = "dispatch-bridge-prfix", .coder = "c2"},
                        WorkloadFields{.name = "wl-b-2", .repo = "", .coder = "c3", .terminating = true}}) {
    workloads.push_back(fdb::test::workload_object(f));
  }
  for (const char* text : {
           R"({"metadata":{"name":"wl-o-r.js-12","namespace":"llm","labels":{"created-by":"dispatch-bridge"}},"spec":{"repo":"o/r.js"}})",
           R"({"metadata":{"name":"p","namespace":"llm","labels":{"created-by":"dispatch-bridge"}},"spec":{"pipeline":[{"kind":"verify","agentRef":{"name":"gate"}},{"kind":"issue-fix","agentRef":{"name":"coder-b"}}]},"status":{"phase":"Pending"}})",
           R"({"metadata":{"name":"q","namespace":"llm","labels":{"created-by":"dispatch-bridge"},"deletionTimestamp":null},"spec":{"repo":"o/q","issues":[4],"coderAgentRef":{"name":"c"}}})",
           R"({"metadata":{"name":"g","namespace":"llm"},"spec":{"pipeline":"not a list","coderAgentRef":7}})",
       }) {
    workloads.push_back(json::parse(text).as_object());
  }
  const auto opts = workload_informer_options("llm");
  BOOST_TEST(opts.indexes.size() == 2u);
  for (const auto& w : workloads) {
    json::object projected = opts.fields ? opts.fields->apply(w).as_object() : w;
    if (opts.transform) projected = opts.transform(std::move(projected));
    for (const auto& [name, spec] : opts.indexes) {
      BOOST_TEST_CONTEXT(name << " of " << fdb::kube::object_key(w)) {
        BOOST_TEST(spec.fn(fdb::test::through_reads(projected, spec.reads)) == spec.fn(projected),
                   boost::test_tools::per_element());
      }
    }
  }
}

// Issue 18 item 2: a `.` repo, a long name and a pre-0.3 Workload are the issue's Workload
// for the claim loop and the stranded sweep, whatever they are called.
BOOST_AUTO_TEST_CASE(an_issue_has_its_python_workload) {
  struct Row {
    const char* given;
    json::object workload;         // in the cache
    std::string issue_id, repo;    // the claimed or queued issue
    std::int64_t number;
    bool has;
  };
  json::object deleting = python_workload("o/repo.js", 3, "I_3");
  deleting["metadata"].as_object()["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  const Row rows[] = {
      {"a dot repo, by issue-id", python_workload("o/repo.js", 3, "I_3"), "I_3", "o/repo.js", 3, true},
      {"a dot repo, by repo and number", python_workload("o/repo.js", 3, "I_3"), "", "O/Repo.js", 3, true},
      {"a long name, by issue-id", python_workload(kLong, 7, "I_7"), "I_7", kLong, 7, true},
      {"pre-0.3, no issue-id: by repo and number", python_workload("o/old.py", 5, ""), "I_5", "o/old.py", 5, true},
      {"Completed still counts (not claimed onto)", python_workload("o/repo.js", 3, "I_3", "Completed"), "I_3",
       "o/repo.js", 3, true},
      {"being deleted: not live", deleting, "I_3", "o/repo.js", 3, false},
      {"another issue", python_workload("o/repo.js", 3, "I_3"), "I_4", "o/repo.js", 4, false},
      {"another repo of the same owner", python_workload("o/repo.js", 3, "I_3"), "I_9", "o/repo-js", 3, false},
      {"this program's name (not indexed): by name", python_workload("o/r", 7, "I_7"), "I_7", "o/r", 7, true},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) {
      MapCache cache;
      cache.add(r.workload);
      std::vector<std::string> names;
      BOOST_TEST(issue_has_workload(cache, r.issue_id, r.repo, r.number, &names) == r.has);
      // This program's name is always among the names looked at.
      BOOST_TEST((std::find(names.begin(), names.end(), workload_name(r.repo, r.number)) != names.end()));
    }
  }
  // An intent under the Python's name (a retry of an adopted Workload in flight, the old
  // object gone already) holds the issue too.
  MapCache cache;
  cache.intents[python_workload_name(kLong, 7)] = json::object{};
  BOOST_TEST(issue_has_workload(cache, "I_7", kLong, 7));
  BOOST_TEST(!issue_has_workload(cache, "I_8", kLong, 8));
}

BOOST_AUTO_TEST_CASE(names_and_retry_names) {
  struct Row {
    std::string repo;
    std::int64_t number;
    std::vector<std::string> names;  // names_for_issue
    std::string retry;               // retry_name of the Python's Workload
  };
  const Row rows[] = {
      {"o/r", 7, {"wl-o-r-7"}, "wl-o-r-7"},
      // A dot: the Python's name can label tasks: the retry keeps it (and its branch).
      {"o/repo.js", 3, {workload_name("o/repo.js", 3), "wl-o-repo.js-3"}, "wl-o-repo.js-3"},
      // Past 63 characters: it cannot; the retry takes this program's name.
      {kLong, 7, {workload_name(kLong, 7), python_workload_name(kLong, 7)}, workload_name(kLong, 7)},
      // `_`: the Python's create failed, so no such Workload can exist; not looked up.
      {"acme/Web_App.js", 2, {workload_name("acme/Web_App.js", 2)}, workload_name("acme/Web_App.js", 2)},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.repo) {
      BOOST_TEST(names_for_issue(r.repo, r.number) == r.names, boost::test_tools::per_element());
      BOOST_TEST(retry_name(python_workload_name(r.repo, r.number), r.repo, r.number) == r.retry);
    }
  }
  BOOST_TEST(workload_name(kLong, 7).size() == 63u);
}

// A retry under another name: the old object is deleted and gone before the new one is
// created; a new one that exists ends it.
BOOST_AUTO_TEST_CASE(retry_under_another_name) {
  Intent intent;
  intent.workload = python_workload_name(kLong, 7);
  intent.target = workload_name(kLong, 7);
  intent.old_uid = "u-old";
  intent.repo = kLong;
  intent.number = 7;
  WorkloadView old_live;
  old_live.name = intent.workload;
  old_live.uid = "u-old";
  old_live.phase = "Failed";
  old_live.bridge_owned = true;
  WorkloadView old_terminating = old_live;
  old_terminating.terminating = true;
  WorkloadView target_live;
  target_live.name = intent.target;
  target_live.uid = "u-new";
  target_live.bridge_owned = true;
  target_live.attempt = 2;
  WorkloadView target_terminating = target_live;
  target_terminating.terminating = true;
  struct Row {
    const char* given;
    std::optional<WorkloadView> old_view, target_view;
    StepKind step;
  };
  const Row rows[] = {
      {"old still there", old_live, std::nullopt, StepKind::Delete},
      {"old terminating", old_terminating, std::nullopt, StepKind::AwaitGone},
      {"old gone, target free", std::nullopt, std::nullopt, StepKind::Create},
      {"old gone, target created", std::nullopt, target_live, StepKind::ClearIntent},
      {"old gone, a target being deleted", std::nullopt, target_terminating, StepKind::AwaitGone},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) { BOOST_TEST(to_string(next_step(r.old_view, intent, r.target_view).kind) == to_string(r.step)); }
  }
  // The target survives the intent ConfigMap (a crash, a new leader).
  const auto back = intent_from_configmap(intent_to_configmap(intent, "llm"));
  BOOST_REQUIRE(std::holds_alternative<Intent>(back));
  BOOST_TEST(std::get<Intent>(back).target_name() == intent.target);
  Intent same = intent;
  same.target = same.workload;
  const auto cm = intent_to_configmap(same, "llm");
  BOOST_TEST(!cm.at("data").as_object().contains("target"));
  BOOST_TEST(std::get<Intent>(intent_from_configmap(cm)).target_name() == same.workload);
}

// Issue 18 item 5 (#146): the lane from dispatch; item 2: the issue id of a pre-0.3
// Workload as the Python's find_issue_id found it.
BOOST_AUTO_TEST_CASE(lane_and_issue_id_from_dispatch) {
  fdb::dispatch::ClaimedAnswer claimed;
  claimed.items = {{"I_3", 3, "o/repo.js", "frontier", {}, false}, {"I_5", 5, "o/old", "cloud", {}, false}};
  struct Row {
    const char* given;
    std::string issue_id, repo;
    std::int64_t number;
    std::string lane, id, source;
  };
  const Row rows[] = {
      {"by id", "I_3", "o/repo.js", 3, "frontier", "I_3", "claimed"},
      {"no id: by repo (any case) and number", "", "O/Old", 5, "cloud", "I_5", "claimed"},
      {"an id not claimed", "I_9", "o/repo.js", 3, "", "", ""},
      {"not claimed", "", "o/x", 1, "", "", ""},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) {
      const DispatchView v = view_from_claimed(claimed, r.issue_id, r.repo, r.number);
      BOOST_TEST(v.lane == r.lane);
      BOOST_TEST(v.issue_id == r.id);
      BOOST_TEST(v.source == r.source);
    }
  }
  // The lane queues: the first lane, in DISPATCH_LANES order, that holds it.
  auto queue = [](std::vector<std::tuple<std::string, std::string, std::int64_t>> items) {
    fdb::dispatch::QueueAnswer a;
    for (auto& [id, repo, n] : items) {
      fdb::dispatch::QueueItem q;
      q.type = "issue";
      q.issue_id = id;
      q.repo_full_name = repo;
      q.number = n;
      a.items.push_back(q);
    }
    return a;
  };
  const std::vector<std::pair<std::string, fdb::dispatch::QueueAnswer>> lanes = {
      {"local", queue({{"I_1", "o/a", 1}})},
      {"escalated", queue({{"I_old", "o/old.py", 5}})},
      {"cloud", queue({{"I_dup", "o/old.py", 5}})}};
  const DispatchView q = view_from_queues(lanes, "o/old.py", 5);
  BOOST_TEST(q.issue_id == "I_old");
  BOOST_TEST(q.lane == "frontier");  // aliases applied
  BOOST_TEST(view_from_queues(lanes, "o/none", 5).issue_id.empty());

  // Applied to the Workload the decision reads: the lane label replaced, a missing id filled,
  // an existing id kept.
  const json::object pre03 = python_workload("o/old.py", 5, "", "Failed", "local");
  const WorkloadView f = read_view(with_dispatch_view(pre03, DispatchView{"escalated", "I_old", "queue"}));
  BOOST_TEST(f.lane == "frontier");
  BOOST_TEST(f.issue_id == "I_old");
  const WorkloadView g = read_view(with_dispatch_view(python_workload("o/r", 1, "I_1"), DispatchView{"", "I_other", "claimed"}));
  BOOST_TEST(g.issue_id == "I_1");
  BOOST_TEST(g.lane == "local");  // dispatch did not say: the label stands
}

// The lane dispatch gives drives the escalation decision (#146): a Workload labelled
// `local` whose issue was moved to the escalation lane is not escalated again at the cap.
BOOST_AUTO_TEST_CASE(refreshed_lane_decides_the_escalation) {
  Config c;
  c.retry_max_attempts = 1;
  c.escalation_lane = "frontier";
  c.park_on_give_up = true;
  const json::object wl = python_workload("o/r", 1, "I_1", "Failed", "local");
  BOOST_TEST(action_name(decide_retry(wl, json::array{}, IssueState::Open, c)) == "escalate");
  const json::object moved = with_dispatch_view(wl, DispatchView{"frontier", "", "claimed"});
  BOOST_TEST(action_name(decide_retry(moved, json::array{}, IssueState::Open, c)) == "park");
  // And the retry is routed by it.
  c.retry_max_attempts = 3;
  const auto a = decide_retry(moved, json::array{}, IssueState::Open, c);
  const auto req = rebuild_request(read_view(moved), a);
  BOOST_REQUIRE(req.has_value());
  BOOST_TEST(req->issue.lane == "frontier");
}

BOOST_AUTO_TEST_SUITE_END()
