#include "sim/foreman.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

namespace json = boost::json;
using namespace fdb::sim;
using namespace std::chrono_literals;

namespace {
const Clock::time_point T0 = Clock::time_point(std::chrono::seconds(1'800'000'000));

json::object workload(const std::string& name, const std::string& outcome, const std::string& attempt = "1") {
  json::object ann{{"foreman.llmkube.dev/attempt", attempt}};
  if (!outcome.empty()) ann["sim.llmkube.dev/outcome"] = outcome;
  return json::object{{"metadata", json::object{{"name", name}, {"annotations", ann}}},
                      {"spec", json::object{{"repo", "o/r"}, {"issues", json::array{7}}, {"intent", "x"},
                                            {"coderAgentRef", json::object{{"name", "coder"}}},
                                            {"verifierAgentRef", json::object{{"name", "gate"}}}}}};
}

struct Run {
  Store store;
  Foreman foreman{store, ForemanRules{0.0, 1, 10ms, {}}};
  Clock::time_point now = T0;
  Run() {
    store.on_event = [this](const std::shared_ptr<const Event>& e) { foreman.observe(*e, now); };
  }
  // Steps until the Workload is terminal (bounded).
  json::object finish(const std::string& name) {
    for (int i = 0; i < 20; ++i) {
      now += 10ms;
      foreman.tick(now);
      auto o = store.get(workloads(), "llm", name).object.parse();
      auto* st = o.if_contains("status");
      if (st != nullptr) {
        auto ph = st->as_object().at("phase").as_string();
        if (ph == "Completed" || ph == "Failed") return o;
      }
    }
    BOOST_FAIL("workload did not finish");
    return {};
  }
  json::object task(const std::string& name) { return store.get(agentictasks(), "llm", name).object.parse(); }
};
std::string s(const json::value& v) { return std::string(v.as_string()); }
}  // namespace

BOOST_AUTO_TEST_SUITE(sim_foreman)

BOOST_AUTO_TEST_CASE(outcomes_table) {
  struct Row {
    std::string outcome, phase, reason, code_phase, code_verdict, review_verdict;
  } rows[] = {
      {"succeed", "Completed", "AllChildrenSucceeded", "Succeeded", "GO", "GO"},
      {"succeed-no-pr", "Completed", "AllChildrenSucceeded", "Succeeded", "GO", "GO"},
      {"resolved", "Completed", "AllAlreadyResolved", "Succeeded", "GO", "GO"},
      {"fail-review", "Failed", "ChildrenFailed", "Succeeded", "GO", "NO-GO"},
      {"fail-coder", "Failed", "ChildrenFailed", "Failed", "NO-GO", "Skipped"},
      {"infra", "Failed", "ChildrenFailed", "Failed", "INCOMPLETE", "Skipped"},
      {"escalate-design", "Failed", "ChildrenIncomplete", "Failed", "INCOMPLETE", "Skipped"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.outcome) {
      Run run;
      BOOST_REQUIRE(run.store.create(workloads(), "llm", workload("w", r.outcome), run.now));
      auto o = run.finish("w");
      auto st = o["status"].as_object();
      BOOST_TEST(s(st["phase"]) == r.phase);
      auto c = st["conditions"].as_array().front().as_object();
      BOOST_TEST(s(c["type"]) == "Completed");
      BOOST_TEST(s(c["reason"]) == r.reason);
      BOOST_TEST(s(c["status"]) == (r.phase == "Completed" ? "True" : "False"));
      auto code = run.task("w-code-1");
      auto md = code["metadata"].as_object();
      BOOST_TEST(s(md["labels"].as_object()["foreman.llmkube.dev/workload"]) == "w");
      BOOST_TEST(s(md["labels"].as_object()["foreman.llmkube.dev/step"]) == "code-1");
      auto ref = md["ownerReferences"].as_array().front().as_object();
      BOOST_TEST(s(ref["uid"]) == s(o["metadata"].as_object()["uid"]));
      BOOST_TEST(ref["controller"].as_bool());
      auto cst = code["status"].as_object();
      BOOST_TEST(s(cst["phase"]) == r.code_phase);
      BOOST_TEST(s(cst["verdict"]) == r.code_verdict);
      BOOST_TEST(s(run.task("w-review-1-0")["status"].as_object()["verdict"]) == r.review_verdict);
      BOOST_TEST(bool(run.store.get(agentictasks(), "llm", "w-verify-1")));
      auto extra = cst["result"].as_object()["extra"].as_object();
      if (r.outcome == "infra") BOOST_TEST(s(cst["failureReason"]) == "InfrastructureError");
      if (r.outcome == "escalate-design")
        BOOST_TEST(s(extra["modelExtra"].as_object()["escalation"]) == "DESIGN-DECISION");
      if (r.outcome == "succeed") BOOST_TEST(s(extra["pullRequestURL"]).rfind("https://github.com/o/r/pull/", 0) == 0U);
      if (r.outcome != "succeed" && r.outcome != "fail-review") {
        for (const char* t : {"w-code-1", "w-verify-1", "w-review-1-0"}) {
          const auto tst = run.task(t)["status"].as_object();
          BOOST_TEST(!tst.at("result").at("extra").as_object().contains("pullRequestURL"), t);
        }
      }
      if (r.outcome == "fail-coder") BOOST_TEST(!s(extra["error"]).empty());
      if (r.outcome == "fail-review")
        BOOST_TEST(run.task("w-review-1-0")["status"].as_object()["result"].as_object()["extra"].as_object()["modelExtra"]
                       .as_object()["findings"].as_object()["handlesEmptyInput"].as_bool() == false);
    }
  }
}

BOOST_AUTO_TEST_CASE(phases_in_order) {
  Run run;
  std::vector<std::string> phases;
  run.store.on_event = [&](const std::shared_ptr<const Event>& e) {
    run.foreman.observe(*e, run.now);
    if (e->res == &workloads() && e->type == "MODIFIED") {
      auto o = json::parse(*e->object).as_object();
      phases.push_back(s(o["status"].as_object()["phase"]));
    }
  };
  BOOST_REQUIRE(run.store.create(workloads(), "llm", workload("w", "succeed"), run.now));
  run.finish("w");
  BOOST_TEST(phases == (std::vector<std::string>{"Planning", "Dispatched", "Completed"}));
}

BOOST_AUTO_TEST_CASE(issue_rules_and_rate) {
  Store store;
  ForemanRules rules;
  rules.issues["o/r#7"] = {{1, Outcome::FailReview}, {2, Outcome::Infra}, {0, Outcome::Resolved}};
  Foreman f(store, rules);
  BOOST_TEST(outcome_name(f.decide(workload("w", "", "1"))) == "fail-review");
  BOOST_TEST(outcome_name(f.decide(workload("w", "", "2"))) == "infra");
  BOOST_TEST(outcome_name(f.decide(workload("w", "", "3"))) == "resolved");
  BOOST_TEST(outcome_name(f.decide(workload("w", "succeed", "1"))) == "succeed");  // annotation wins
  // Failure rate with a seed: deterministic, and near the rate.
  auto count = [](std::uint64_t seed) {
    Store st;
    Foreman fr(st, ForemanRules{0.3, seed, 10ms, {}});
    int fails = 0;
    for (int i = 0; i < 1000; ++i) fails += fr.decide(workload("x", "", "1")) == Outcome::FailReview ? 1 : 0;
    return fails;
  };
  BOOST_TEST(count(1) == count(1));
  BOOST_TEST(count(1) > 250);
  BOOST_TEST(count(1) < 350);
  BOOST_TEST(!parse_outcome("nonsense"));
}

BOOST_AUTO_TEST_CASE(deleted_workload_stops) {
  Run run;
  BOOST_REQUIRE(run.store.create(workloads(), "llm", workload("w", "hang"), run.now));
  for (int i = 0; i < 3; ++i) run.foreman.tick(run.now += 10ms);
  BOOST_TEST(run.store.count(agentictasks()) == 3U);
  BOOST_TEST(run.foreman.active() == 1U);
  BOOST_REQUIRE(run.store.remove(workloads(), "llm", "w", DeleteOptions{"Background", {}, {}}, run.now));
  BOOST_TEST(run.foreman.active() == 0U);
  BOOST_TEST(run.store.count(agentictasks()) == 0U);
}

BOOST_AUTO_TEST_SUITE_END()
