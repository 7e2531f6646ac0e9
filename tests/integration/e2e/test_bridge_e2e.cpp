// The bridge end to end against kube-sim: claim → the exact §3 manifest; Failed →
// Foreground delete → attempt 2 only after the old object is gone; the cap leaves a
// tombstone; a closed issue is left alone; a process killed between delete and create is
// finished exactly once by the next; API and dispatch faults are ridden out; garbage on
// one lane does not stop the others.
#include "support/bridge_process.hpp"
#include "dispatch/workload.hpp"
#include "operator/config.hpp"
#include "support/prom_parser.hpp"
#include "support/sim_client.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <iterator>
#include <thread>

namespace json = boost::json;
using namespace fdb;
using namespace fdb::test;
using namespace std::chrono_literals;

namespace {

int count_ops(const std::vector<json::object>& recs, std::string_view op, std::string_view attempt = {}) {
  int n = 0;
  for (const auto& r : recs) {
    if (r.at("op").as_string() != op) continue;
    if (!attempt.empty() && r.at("attempt").as_string() != attempt) continue;
    ++n;
  }
  return n;
}

// Every create of any Workload happened while no live object had that name.
void check_no_double_create(const SimClient& sim) {
  const json::value recs = sim.records();
  for (const auto& r : recs.at("workloads").as_array()) {
    if (r.at("op").as_string() == "create") {
      BOOST_TEST(!r.at("liveExisted").as_bool(), "created while live: " << json::serialize(r));
    }
  }
}

std::string annotation(const json::value& wl, const char* key) {
  const auto* a = wl.at("metadata").as_object().if_contains("annotations");
  if (a == nullptr) return {};
  const auto* v = a->as_object().if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::string phase(const json::value& wl) {
  const auto* s = wl.as_object().if_contains("status");
  if (s == nullptr || !s->is_object()) return {};
  const auto* p = s->as_object().if_contains("phase");
  return p && p->is_string() ? std::string(p->as_string()) : std::string();
}

struct Fixture {
  Sim sim;
  SimClient api;
  std::string log;
  explicit Fixture(const std::string& tag, const std::vector<std::string>& sim_args = {})
      : sim(start_test_sim(tag, sim_args)), api(sim.api_url), log(temp_dir("bridge-" + tag) + "/bridge.log") {}
  std::unique_ptr<Process> bridge(const std::map<std::string, std::string>& env = {}) const {
    return start_bridge(sim, env, log);
  }
  bool wait_for_create(const std::string& name, const std::string& attempt, std::chrono::milliseconds t = 20s) const {
    return SimClient::wait_until([&] { return count_ops(api.workload_records(name), "create", attempt) > 0; }, t);
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(e2e)

BOOST_AUTO_TEST_CASE(claim_creates_the_exact_workload) {
  Fixture f("manifest");
  f.api.add_issue("Misospace/Dispatch", 42, "local", "Fix the parser");
  f.api.set_issue_rule("Misospace/Dispatch", 42, {{"*", "hang"}});
  auto bridge = f.bridge();
  const std::string name = "wl-misospace-dispatch-42";
  BOOST_REQUIRE_MESSAGE(f.wait_for_create(name, "1"), "no Workload created; see " << f.log);
  const json::value wl = f.api.workload("llm", name);
  BOOST_REQUIRE(!wl.is_null());

  // What the builder makes for that issue from the same (default) configuration.
  op::LoadOptions lo;
  lo.env = [](std::string_view n) -> std::optional<std::string> {
    if (n == "DISPATCH_AGENT_TOKEN") return "t";
    return std::nullopt;
  };
  const op::Config cfg = op::load_config(std::vector<std::string>{}, lo);
  dispatch::BuildRequest b;
  b.issue = {"Misospace/Dispatch", 42, "Fix the parser", "local", "I_Misospace/Dispatch_42"};
  b.attempt = 1;
  const json::object expected = dispatch::build_workload(b, cfg.workload);

  BOOST_TEST(wl.at("metadata").at("labels") == expected.at("metadata").at("labels"));
  BOOST_TEST(wl.at("metadata").at("annotations").at("foreman.llmkube.dev/attempt") == "1");
  BOOST_TEST(wl.at("metadata").at("annotations").at("foreman.llmkube.dev/issue-id") == "I_Misospace/Dispatch_42");
  BOOST_TEST(wl.at("metadata").at("annotations").at("foreman.llmkube.dev/agent-name") == "foreman-coder");
  BOOST_TEST(json::serialize(wl.at("spec")) == json::serialize(expected.at("spec")));
  BOOST_TEST(wl.at("spec").at("intent") == "Fix the parser");
  BOOST_TEST(wl.at("spec").at("repo") == "Misospace/Dispatch");

  // Dispatch holds the claim for our agent.
  bool claimed = false;
  const json::value state = f.api.dispatch_state();
  for (const auto& i : state.at("issues").as_array()) {
    if (i.at("number").as_int64() == 42) claimed = i.at("claimedBy").as_string() == "foreman-coder";
  }
  BOOST_TEST(claimed);
  bridge->signal(SIGTERM);
  BOOST_TEST(bridge->wait(10s).value_or(-1) == 0);
}

BOOST_AUTO_TEST_CASE(failed_is_recreated_at_attempt_2_only_after_the_old_one_is_gone) {
  Fixture f("retry");
  f.api.add_issue("o/r", 2, "local");
  f.api.set_issue_rule("o/r", 2, {{"1", "fail-review"}, {"2", "hang"}});
  auto bridge = f.bridge();
  BOOST_REQUIRE_MESSAGE(f.wait_for_create("wl-o-r-2", "2"), "no attempt 2; see " << f.log);
  const auto recs = f.api.workload_records("wl-o-r-2");
  // create(1), delete (the object gone), create(2): in that order.
  std::vector<std::string> ops;
  for (const auto& r : recs) ops.push_back(std::string(r.at("op").as_string()) + ":" + std::string(r.at("attempt").as_string()));
  BOOST_REQUIRE(ops.size() >= 3u);
  BOOST_TEST(ops[0] == "create:1");
  BOOST_TEST(ops[1].rfind("delete:", 0) == 0u);
  BOOST_TEST(ops[2] == "create:2");
  BOOST_TEST(count_ops(recs, "create-conflict") == 0);
  check_no_double_create(f.api);
  // Attempt 2 carries the review's feedback (pipeline mode).
  const json::value wl = f.api.workload("llm", "wl-o-r-2");
  BOOST_REQUIRE(!wl.is_null());
  BOOST_TEST(annotation(wl, "foreman.llmkube.dev/attempt") == "2");
  BOOST_TEST(wl.at("spec").as_object().contains("pipeline"), json::serialize(wl.at("spec")));
}

BOOST_AUTO_TEST_CASE(branch_evidence_asks_github_only_with_a_token) {
  Fixture f("github");
  SimClient gh(f.sim.github_url, "gh-e2e");
  // Both attempts fail review, so the tasks say the branch was pushed. GitHub knows the
  // branch of #9 and not that of #8: only #9's attempt 2 revises from its branch.
  for (int n : {8, 9}) {
    f.api.add_issue("o/r", n, "local");
    f.api.set_issue_rule("o/r", n, {{"1", "fail-review"}, {"2", "hang"}});
  }
  gh.post("/_sim/github/branch", json::object{{"repo", "o/r"}, {"branch", "foreman/wl-o-r-9/issue-9"}});
  auto bridge = f.bridge({{"GITHUB_TOKEN", "gh-e2e"}, {"GITHUB_API_URL", f.sim.github_url}});
  BOOST_REQUIRE_MESSAGE(f.wait_for_create("wl-o-r-8", "2") && f.wait_for_create("wl-o-r-9", "2"), "no attempt 2; see " << f.log);
  const std::string spec8 = json::serialize(f.api.workload("llm", "wl-o-r-8").at("spec"));
  const std::string spec9 = json::serialize(f.api.workload("llm", "wl-o-r-9").at("spec"));
  BOOST_TEST(spec8.find("reviseFromBranch") == std::string::npos, spec8);
  BOOST_TEST(spec9.find(R"("reviseFromBranch":"foreman/wl-o-r-9/issue-9")") != std::string::npos, spec9);
  BOOST_TEST(spec9.find(R"("branchStrategy":"rebase")") != std::string::npos, spec9);
  const json::value asked = gh.get("/_sim/github/requests");
  std::vector<std::string> paths;
  for (const auto& r : asked.as_array()) paths.emplace_back(r.as_string());
  std::sort(paths.begin(), paths.end());
  const std::vector<std::string> expected = {"GET /repos/o/r/branches/foreman/wl-o-r-8/issue-8",
                                             "GET /repos/o/r/branches/foreman/wl-o-r-9/issue-9"};
  BOOST_TEST(paths == expected, boost::test_tools::per_element());
  // The token went to GitHub only: it is not in the bridge's log.
  std::ifstream in(f.log);
  const std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  BOOST_TEST(log.find("gh-e2e") == std::string::npos);
  bridge->signal(SIGTERM);
  BOOST_TEST(bridge->wait(10s).value_or(-1) == 0);
}

// Issue 18 item 6: without GITHUB_TOKEN GitHub is asked unauthenticated, as the Python
// bridge did. A public repository's branch is evidence; a private one answers 401 (or
// 404), and the tasks' evidence stands.
BOOST_AUTO_TEST_CASE(without_a_token_github_is_asked_unauthenticated) {
  Fixture f("no-github-token");
  SimClient gh(f.sim.github_url, "x");
  // o/r is private; its review ran, so the tasks say the branch was pushed.
  f.api.add_issue("o/r", 10, "local");
  f.api.set_issue_rule("o/r", 10, {{"1", "fail-review"}, {"2", "hang"}});
  // o/pub is public; its coder failed (no evidence in the tasks), but GitHub shows the branch.
  f.api.add_issue("o/pub", 11, "local");
  f.api.set_issue_rule("o/pub", 11, {{"1", "fail-coder"}, {"2", "hang"}});
  gh.post("/_sim/github/public", json::object{{"repo", "o/pub"}});
  gh.post("/_sim/github/branch", json::object{{"repo", "o/pub"}, {"branch", "foreman/wl-o-pub-11/issue-11"}});
  auto bridge = f.bridge({{"GITHUB_API_URL", f.sim.github_url}});
  BOOST_REQUIRE_MESSAGE(f.wait_for_create("wl-o-r-10", "2") && f.wait_for_create("wl-o-pub-11", "2"),
                        "no attempt 2; see " << f.log);
  const std::string spec = json::serialize(f.api.workload("llm", "wl-o-r-10").at("spec"));
  BOOST_TEST(spec.find(R"("reviseFromBranch":"foreman/wl-o-r-10/issue-10")") != std::string::npos, spec);
  BOOST_TEST(spec.find(R"("allowOverwrite":true)") != std::string::npos, spec);
  const std::string pub = json::serialize(f.api.workload("llm", "wl-o-pub-11").at("spec"));
  BOOST_TEST(pub.find(R"("reviseFromBranch":"foreman/wl-o-pub-11/issue-11")") != std::string::npos, pub);
  std::vector<std::string> paths;
  const json::value asked = gh.get("/_sim/github/requests");
  for (const auto& r : asked.as_array()) paths.emplace_back(r.as_string());
  std::sort(paths.begin(), paths.end());
  const std::vector<std::string> expected = {"GET /repos/o/pub/branches/foreman/wl-o-pub-11/issue-11",
                                             "GET /repos/o/r/branches/foreman/wl-o-r-10/issue-10"};
  BOOST_TEST(paths == expected, boost::test_tools::per_element());
  BOOST_TEST(gh.get("/_sim/github/anonymous").at("anonymous").as_int64() == 1);  // the public one was answered
  bridge->signal(SIGTERM);
  BOOST_TEST(bridge->wait(10s).value_or(-1) == 0);
}

BOOST_AUTO_TEST_CASE(metrics_and_events_follow_the_work) {
  Fixture f("metrics");
  f.api.add_issue("o/r", 12, "local");
  f.api.set_issue_rule("o/r", 12, {{"1", "fail-review"}, {"2", "hang"}});
  auto bridge = f.bridge();
  const std::string url = metrics_url_from_log(f.log);
  BOOST_REQUIRE(!url.empty());
  const SimClient metrics(url);
  // Before any work: it parses, and nothing was retried yet.
  auto scrape = [&] {
    const auto e = prom::parse(metrics.text("/metrics"));
    BOOST_TEST(e.errors.empty(), (e.errors.empty() ? "" : e.errors.front()));
    return e;
  };
  auto value = [](const prom::Exposition& e, std::string_view family, const std::map<std::string, std::string>& labels) {
    double sum = 0;
    if (const auto* fam = e.find(family)) {
      for (const auto& s : fam->samples) {
        bool match = true;
        for (const auto& [k, v] : labels) match &= s.labels.count(k) && s.labels.at(k) == v;
        if (match && s.name == family) sum += s.value;
      }
    }
    return sum;
  };
  const auto before = scrape();
  BOOST_TEST(value(before, "foreman_bridge_retries_total", {}) == 0.0);
  BOOST_REQUIRE(f.wait_for_create("wl-o-r-12", "2"));
  const auto after = scrape();
  BOOST_TEST(value(after, "foreman_bridge_retries_total", {{"attempt", "2"}}) == 1.0);
  BOOST_TEST(value(after, "foreman_bridge_claims_total", {{"lane", "local"}, {"result", "claimed"}}) == 1.0);
  BOOST_TEST(value(after, "foreman_bridge_workloads_created_total", {{"lane", "local"}}) == 1.0);
  BOOST_TEST(value(after, "workqueue_adds_total", {{"name", "workloads"}}) > 0.0);
  BOOST_TEST(value(after, "rest_client_requests_total", {{"verb", "DELETE"}}) > 0.0);
  BOOST_TEST(value(after, "foreman_bridge_dispatch_requests_total", {{"endpoint", "claim"}}) >= 1.0);
  BOOST_TEST(value(after, "leader_election_master_status", {}) == 1.0);
  BOOST_TEST(value(after, "foreman_bridge_cache_objects", {{"resource", "workloads"}}) == 1.0);
  // One decision, one read of its tasks (from the task informer when complete, else a LIST).
  BOOST_TEST(value(after, "foreman_bridge_task_reads_total", {}) == 1.0);
  const auto* hist = after.find("foreman_bridge_failed_to_recreate_seconds");
  BOOST_REQUIRE(hist != nullptr);
  double count = 0;
  for (const auto& s : hist->samples) {
    if (s.name == "foreman_bridge_failed_to_recreate_seconds_count") count = s.value;
  }
  BOOST_TEST(count == 1.0);
  // A Kubernetes Event says so, on the Workload.
  BOOST_TEST(SimClient::wait_until(
      [&] {
        const json::value events = f.api.get("/apis/events.k8s.io/v1/namespaces/llm/events");
        for (const auto& e : events.at("items").as_array()) {
          if (e.at("reason").as_string() == "Retried" && e.at("regarding").at("name").as_string() == "wl-o-r-12" &&
              e.at("reportingController").as_string() == "foreman-dispatch-bridge") {
            return true;
          }
        }
        return false;
      },
      10s));
}

BOOST_AUTO_TEST_CASE(the_cap_leaves_a_tombstone_alone) {
  Fixture f("cap");
  f.api.add_issue("o/r", 3, "local");
  f.api.set_issue_rule("o/r", 3, {{"*", "fail-coder"}});
  auto bridge = f.bridge({{"PARK_ON_GIVE_UP", "false"}});
  BOOST_REQUIRE_MESSAGE(f.wait_for_create("wl-o-r-3", "3"), "no attempt 3; see " << f.log);
  BOOST_REQUIRE(SimClient::wait_until(
      [&] {
        const auto wl = f.api.workload("llm", "wl-o-r-3");
        return !wl.is_null() && phase(wl) == "Failed" && annotation(wl, "foreman.llmkube.dev/tombstone") == "true";
      },
      20s));
  std::this_thread::sleep_for(1500ms);  // give a wrong 4th attempt the time to show
  const auto recs = f.api.workload_records("wl-o-r-3");
  BOOST_TEST(count_ops(recs, "create") == 3);
  BOOST_TEST(count_ops(recs, "create", "4") == 0);
  const auto wl = f.api.workload("llm", "wl-o-r-3");
  BOOST_TEST(!wl.is_null());
  BOOST_TEST(phase(wl) == "Failed");
  check_no_double_create(f.api);
}

BOOST_AUTO_TEST_CASE(at_the_cap_the_default_parks_for_a_human) {
  Fixture f("park");
  f.api.add_issue("o/r", 9, "local");
  f.api.set_issue_rule("o/r", 9, {{"*", "fail-coder"}});
  auto bridge = f.bridge({{"RETRY_MAX_ATTEMPTS", "2"}});
  BOOST_REQUIRE(f.wait_for_create("wl-o-r-9", "2"));
  json::object issue;
  BOOST_REQUIRE_MESSAGE(SimClient::wait_until(
                            [&] {
                              const json::value state = f.api.dispatch_state();
                              for (const auto& i : state.at("issues").as_array()) {
                                if (i.at("number").as_int64() == 9) issue = i.as_object();
                              }
                              return issue.at("status").as_string() == "backlog" &&
                                     f.api.workload("llm", "wl-o-r-9").is_null();
                            },
                            20s),
                        "not parked: " << json::serialize(issue) << "; see " << f.log);
  bool needs_human = false;
  for (const auto& l : issue.at("labels").as_array()) needs_human |= l.as_string() == "needs-human";
  BOOST_TEST(needs_human);
  BOOST_REQUIRE(!issue.at("comments").as_array().empty());
  BOOST_TEST(std::string(issue.at("comments").as_array().front().as_string()).find("Needs a human decision") != std::string::npos);
  BOOST_TEST(issue.at("comments").as_array().size() == 1u);  // once
  BOOST_TEST(count_ops(f.api.workload_records("wl-o-r-9"), "create") == 2);
}

BOOST_AUTO_TEST_CASE(a_closed_issue_is_left_alone) {
  Fixture f("closed", {"--foreman-step-ms", "400"});
  f.api.add_issue("o/r", 4, "local");
  f.api.set_issue_rule("o/r", 4, {{"*", "fail-review"}});
  auto bridge = f.bridge();
  BOOST_REQUIRE(f.wait_for_create("wl-o-r-4", "1"));
  f.api.post("/_sim/dispatch/issues/close", json::object{{"issueId", "I_o/r_4"}, {"repoFullName", "o/r"}, {"number", 4}});
  BOOST_REQUIRE(SimClient::wait_until([&] { return phase(f.api.workload("llm", "wl-o-r-4")) == "Failed"; }, 20s));
  std::this_thread::sleep_for(1500ms);
  const auto recs = f.api.workload_records("wl-o-r-4");
  BOOST_TEST(count_ops(recs, "create") == 1);
  BOOST_TEST(count_ops(recs, "delete") == 0);
  BOOST_TEST(!f.api.workload("llm", "wl-o-r-4").is_null());
}

BOOST_AUTO_TEST_CASE(killed_between_delete_and_create_the_next_process_creates_once) {
  Fixture f("crash");
  f.api.add_issue("o/r", 5, "local");
  f.api.set_issue_rule("o/r", 5, {{"1", "fail-review"}, {"2", "hang"}});
  const std::string wl_path = "/apis/foreman.llmkube.dev/v1alpha1/namespaces/llm/workloads";
  auto first = f.bridge();
  BOOST_REQUIRE(f.wait_for_create("wl-o-r-5", "1"));
  // From now on every create fails: the bridge deletes the failed attempt and cannot
  // create the next one.
  f.api.post("/_sim/faults", json::object{{"path", wl_path}, {"method", "POST"}, {"code", 500}, {"count", 1000000}});
  BOOST_REQUIRE_MESSAGE(SimClient::wait_until([&] { return count_ops(f.api.workload_records("wl-o-r-5"), "delete") > 0; }, 20s),
                        "the failed attempt was not deleted; see " << f.log);
  std::this_thread::sleep_for(300ms);
  first->signal(SIGKILL);
  first->wait(5s);
  BOOST_TEST(count_ops(f.api.workload_records("wl-o-r-5"), "create", "2") == 0);
  f.api.del("/_sim/faults");

  auto second = f.bridge({{"POD_NAME", "bridge-1"}});
  BOOST_REQUIRE_MESSAGE(f.wait_for_create("wl-o-r-5", "2"), "the restarted bridge did not finish the retry; see " << f.log);
  std::this_thread::sleep_for(1000ms);
  const auto recs = f.api.workload_records("wl-o-r-5");
  BOOST_TEST(count_ops(recs, "create", "2") == 1);
  BOOST_TEST(count_ops(recs, "create") == 2);
  check_no_double_create(f.api);
  // The intent is cleared.
  BOOST_TEST(SimClient::wait_until(
      [&] { return f.api.status("/api/v1/namespaces/llm/configmaps/bridge-intent-wl-o-r-5") == 404; }, 10s));
}

BOOST_AUTO_TEST_CASE(api_and_dispatch_faults_are_ridden_out) {
  Fixture f("faults");
  f.api.add_issue("o/r", 6, "local");
  f.api.set_issue_rule("o/r", 6, {{"1", "fail-review"}, {"2", "hang"}});
  const std::string wl_path = "/apis/foreman.llmkube.dev/v1alpha1/namespaces/llm/workloads";
  f.api.post("/_sim/faults", json::object{{"path", wl_path}, {"method", "POST"}, {"code", 500}, {"count", 2}});
  f.api.post("/_sim/faults", json::object{{"path", wl_path}, {"method", "DELETE"}, {"code", 503}, {"count", 2}});
  f.api.post("/_sim/faults", json::object{{"path", "/apis/foreman.llmkube.dev"}, {"method", "GET"}, {"code", 429}, {"retryAfter", 1}, {"count", 3}});
  f.api.post("/_sim/dispatch/faults", json::object{{"path", "/api/agents/foreman-coder/queue"}, {"mode", "status"}, {"code", 503}, {"count", 4}});
  f.api.post("/_sim/dispatch/faults", json::object{{"path", "/api/issues/claim"}, {"mode", "status"}, {"code", 503}, {"count", 2}});
  auto bridge = f.bridge();
  BOOST_REQUIRE_MESSAGE(f.wait_for_create("wl-o-r-6", "2", 40s), "the faults were not ridden out; see " << f.log);
  const auto recs = f.api.workload_records("wl-o-r-6");
  BOOST_TEST(count_ops(recs, "create", "1") == 1);
  BOOST_TEST(count_ops(recs, "create", "2") == 1);
  check_no_double_create(f.api);
}

BOOST_AUTO_TEST_CASE(garbage_on_one_lane_does_not_stop_the_others) {
  Fixture f("garbage");
  f.api.add_issue("o/r", 7, "cloud");
  f.api.add_issue("o/r", 8, "local");
  f.api.set_issue_rule("o/r", 7, {{"*", "hang"}});
  f.api.set_issue_rule("o/r", 8, {{"*", "hang"}});
  f.api.post("/_sim/dispatch/faults", json::object{{"path", "/api/agents/foreman-coder/queue"}, {"lane", "cloud"}, {"mode", "garbage"}, {"count", 1000000}});
  auto bridge = f.bridge();
  BOOST_REQUIRE_MESSAGE(f.wait_for_create("wl-o-r-8", "1"), "the healthy lane was not served; see " << f.log);
  std::this_thread::sleep_for(1500ms);
  BOOST_TEST(count_ops(f.api.workload_records("wl-o-r-7"), "create") == 0);
  // The other lane's issue is not stranded: it was never claimed.
  const json::value state = f.api.dispatch_state();
  for (const auto& i : state.at("issues").as_array()) {
    if (i.at("number").as_int64() == 7) BOOST_TEST(i.at("claimedBy").as_string() == "");
  }
}

BOOST_AUTO_TEST_SUITE_END()
