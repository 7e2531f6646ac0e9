// Issue 18 item 2 end to end: Workloads made the way the Python 0.7 bridge made them
// (names with `.`, over 63 characters, without issue-id) exist in kube-sim when the bridge
// starts, their issues claimed by the agent in dispatch. The bridge adopts them by issue:
// it retries a failed one under its existing name when that name can label Foreman's
// tasks, else under this program's name once the old one is gone; it never resets a
// live one's claim nor claims its issue again; an issue never has two live Workloads.
#include "dispatch/workload.hpp"
#include "support/bridge_process.hpp"
#include "support/foreman_fixtures.hpp"
#include "support/sim_client.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <csignal>
#include <map>
#include <set>
#include <thread>

namespace json = boost::json;
using namespace fdb;
using namespace fdb::test;
using namespace std::chrono_literals;

namespace {

const std::string kWorkloads = "/apis/foreman.llmkube.dev/v1alpha1/namespaces/llm/workloads";

// The issue in dispatch: claimed by the agent, in progress (as the Python left it).
void claimed_issue(const SimClient& api, const std::string& id, const std::string& repo, int n, const std::string& lane) {
  api.post("/_sim/dispatch/issues", json::object{{"issueId", id},       {"repoFullName", repo}, {"number", n},
                                                 {"title", "Fix it"},   {"lane", lane},         {"status", "in-progress"},
                                                 {"claimable", true},   {"claimedBy", "foreman-coder"}});
}

// A Workload exactly as the Python bridge 0.7 built it (workload.py: build_workload), for
// a first attempt: its name, labels, annotations (no issue-id before 0.3), issue-batch spec
// with its coder, reviewer and verifier.
void python_workload(const SimClient& api, const std::string& repo, int n, const std::string& issue_id,
                     const std::string& lane) {
  WorkloadFields f = python_workload_fields(dispatch::python_workload_name(repo, n), repo, n, issue_id, "foreman-coder", lane);
  f.reviewers = {"reviewer"};
  f.verifier = "gate";
  api.post(kWorkloads, workload_object(f));
}

std::string annotation(const json::value& wl, const char* key) {
  const auto* a = wl.at("metadata").as_object().if_contains("annotations");
  if (a == nullptr) return {};
  const auto* v = a->as_object().if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::string issue_status(const SimClient& api, int number) {
  const json::value state = api.dispatch_state();
  for (const auto& i : state.at("issues").as_array()) {
    if (i.at("number").as_int64() == number) return std::string(i.at("status").as_string());
  }
  return {};
}

int creates(const SimClient& api, const std::string& name, const std::string& attempt = {}) {
  int n = 0;
  for (const auto& r : api.workload_records(name)) {
    if (r.at("op").as_string() == "create" && (attempt.empty() || r.at("attempt").as_string() == attempt)) ++n;
  }
  return n;
}

// One issue of the scenario: its id, repo and number, the lane its Workload was labelled
// with and dispatch's lane today, whether the Python wrote the issue-id, and its rule in
// kube-sim (the outcome of each attempt).
struct Case {
  std::string id, repo;
  int n;
  std::string lane_label, lane_now;
  bool with_id;
  std::vector<std::pair<std::string, std::string>> rule;
};

const std::string kLongRepo = "o/" + std::string(60, 'r');

const Case kCases[] = {
    // A dot: a valid Workload name and label value. It fails; dispatch moved the issue
    // to `cloud` since (the retry follows dispatch's lane, #146).
    {"I_dot", "o/repo.js", 3, "local", "cloud", true, {{"1", "fail-review"}, {"2", "hang"}}},
    // 67 characters: Foreman cannot label its tasks, so it fails at once.
    {"I_long", kLongRepo, 7, "local", "local", true, {{"2", "hang"}}},
    // Before 0.3: no issue-id annotation; a dot too.
    {"I_old", "o/old.py", 5, "local", "local", false, {{"1", "fail-review"}, {"2", "hang"}}},
    // Live ones, running on: a dot with an id, and one without an id.
    {"I_live", "o/live.js", 4, "local", "local", true, {{"*", "hang"}}},
    {"I_live_old", "o/live.old", 6, "local", "local", false, {{"*", "hang"}}},
};

// kube-sim holding the Python bridge's Workloads and dispatch its claims; the bridge started
// on them. The named steps of the scenario.
struct AdoptionWorld {
  Sim sim = start_test_sim("adoption");
  SimClient api{sim.api_url};
  const std::string log = temp_dir("bridge-adoption") + "/bridge.log";
  const std::string dot_name = "wl-o-repo.js-3";
  const std::string long_python = dispatch::python_workload_name(kLongRepo, 7);
  const std::string long_ours = dispatch::workload_name(kLongRepo, 7);
  const std::string old_name = "wl-o-old.py-5";
  std::unique_ptr<Process> bridge;

  void seed_the_python_bridges_world() {
    for (const auto& c : kCases) {
      claimed_issue(api, c.id, c.repo, c.n, c.lane_now);
      api.set_issue_rule(c.repo, c.n, c.rule);
      python_workload(api, c.repo, c.n, c.with_id ? c.id : "", c.lane_label);
    }
    BOOST_TEST(long_python.size() == 67u);
    BOOST_TEST(long_ours.size() == 63u);
  }
  // The failed ones are Failed before the bridge starts.
  void await_the_failed_ones() const {
    BOOST_REQUIRE(SimClient::wait_until([&] {
      for (const auto& n : {dot_name, long_python, old_name}) {
        const json::value w = api.workload("llm", n);
        if (w.is_null() || !w.as_object().contains("status") || w.at("status").at("phase") != "Failed") return false;
      }
      return true;
    }, 20s));
  }
  // The bridge retries the three failed ones; several claim and sweep rounds
  // (CLAIM_INTERVAL_S=1) go by with the live ones running.
  void start_bridge_and_await_the_retries() {
    bridge = start_bridge(sim, {}, log);
    BOOST_REQUIRE_MESSAGE(SimClient::wait_until([&] {
      return creates(api, dot_name, "2") > 0 && creates(api, long_ours, "2") > 0 && creates(api, old_name, "2") > 0;
    }, 40s), "the adopted Workloads were not retried; see " << log);
    std::this_thread::sleep_for(4s);
  }
  // The dot: retried under its own name, so its branch; in dispatch's lane now.
  void check_the_dot_retried_under_its_name() const {
    const json::value dot = api.workload("llm", dot_name);
    BOOST_REQUIRE(!dot.is_null());
    BOOST_TEST(annotation(dot, "foreman.llmkube.dev/attempt") == "2");
    BOOST_TEST(annotation(dot, "foreman.llmkube.dev/issue-id") == "I_dot");
    BOOST_TEST(dot.at("metadata").at("labels").at("lane") == "cloud");
    const std::string dot_spec = json::serialize(dot.at("spec"));
    BOOST_TEST(dot_spec.find(R"("branch":"foreman/wl-o-repo.js-3/issue-3")") != std::string::npos, dot_spec);
    BOOST_TEST(dot_spec.find(R"("reviseFromBranch":"foreman/wl-o-repo.js-3/issue-3")") != std::string::npos, dot_spec);
    BOOST_TEST(creates(api, dispatch::workload_name("o/repo.js", 3)) == 0);
  }
  // The long one: this program's name, created only after the old one was gone.
  void check_the_long_one_recreated_under_ours() const {
    BOOST_TEST(api.workload("llm", long_python).is_null());
    BOOST_TEST(!api.workload("llm", long_ours).is_null());
    BOOST_TEST(creates(api, long_python) == 1);  // the Python's, never again
    const json::value recs = api.records();
    long gone = -1, created = -1, i = 0;
    for (const auto& r : recs.at("workloads").as_array()) {
      const std::string name(r.at("name").as_string());
      if (name == long_python && r.at("op") == "delete") gone = i;
      if (name == long_ours && r.at("op") == "create" && created < 0) created = i;
      ++i;
    }
    BOOST_TEST(gone >= 0);
    BOOST_TEST(created > gone, "created at record " << created << ", the old one gone at " << gone);
  }
  // Pre-0.3: retried under its own name, now with the issue id dispatch knows.
  void check_the_pre03_one_retried_with_its_id() const {
    const json::value old = api.workload("llm", old_name);
    BOOST_REQUIRE(!old.is_null());
    BOOST_TEST(annotation(old, "foreman.llmkube.dev/attempt") == "2");
    BOOST_TEST(annotation(old, "foreman.llmkube.dev/issue-id") == "I_old");
    BOOST_TEST(creates(api, dispatch::workload_name("o/old.py", 5)) == 0);
  }
  // The live ones: left running; their claims not reset; their issues not claimed again.
  void check_the_live_ones_left_alone() const {
    for (const auto& [n, repo] : std::vector<std::pair<int, std::string>>{{4, "o/live.js"}, {6, "o/live.old"}}) {
      BOOST_TEST_CONTEXT(repo) {
        BOOST_TEST(issue_status(api, n) == "in-progress");
        BOOST_TEST(!api.workload("llm", dispatch::python_workload_name(repo, n)).is_null());
        BOOST_TEST(creates(api, dispatch::workload_name(repo, n)) == 0);
      }
    }
  }
  // Never two live Workloads for one issue: replay the records per issue.
  void check_never_two_live_workloads_per_issue() const {
    std::map<std::string, std::string> issue_of = {
        {dot_name, "3"}, {dispatch::workload_name("o/repo.js", 3), "3"}, {long_python, "7"}, {long_ours, "7"},
        {old_name, "5"}, {dispatch::workload_name("o/old.py", 5), "5"},
        {"wl-o-live.js-4", "4"}, {dispatch::workload_name("o/live.js", 4), "4"},
        {"wl-o-live.old-6", "6"}, {dispatch::workload_name("o/live.old", 6), "6"}};
    std::map<std::string, std::set<std::string>> live;
    const json::value all = api.records();
    for (const auto& r : all.at("workloads").as_array()) {
      const std::string name(r.at("name").as_string());
      const auto it = issue_of.find(name);
      if (it == issue_of.end()) continue;
      if (r.at("op") == "create") {
        live[it->second].insert(name);
        BOOST_TEST(live[it->second].size() == 1u, "issue " << it->second << " has two live Workloads at " << json::serialize(r));
      } else if (r.at("op") == "delete") {
        live[it->second].erase(name);
      }
    }
  }
  void stop_bridge() {
    bridge->signal(SIGTERM);
    BOOST_TEST(bridge->wait(10s).value_or(-1) == 0);
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(e2e_adoption)

BOOST_AUTO_TEST_CASE(the_python_bridges_workloads_are_adopted_by_issue) {
  AdoptionWorld w;
  w.seed_the_python_bridges_world();
  w.await_the_failed_ones();
  w.start_bridge_and_await_the_retries();
  w.check_the_dot_retried_under_its_name();
  w.check_the_long_one_recreated_under_ours();
  w.check_the_pre03_one_retried_with_its_id();
  w.check_the_live_ones_left_alone();
  w.check_never_two_live_workloads_per_issue();
  w.stop_bridge();
}

BOOST_AUTO_TEST_SUITE_END()
