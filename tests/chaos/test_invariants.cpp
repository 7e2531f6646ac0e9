// The chaos soak's invariants as tables: each one held, and each one broken.
#include "chaos/invariants.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

using namespace fdb::chaos;
namespace json = boost::json;

namespace {

Inputs healthy() {
  Inputs in;
  in.max_attempts = 3;
  in.agent = "foreman-coder";
  in.records = {{"create", "wl-o-r-1", 1, false}, {"delete", "wl-o-r-1", 1, false}, {"create", "wl-o-r-1", 2, false},
                {"create", "wl-o-r-2", 1, false}};
  in.live = {{"wl-o-r-1", "o/r#1", 2, "Completed", false}, {"wl-o-r-2", "o/r#2", 3, "Failed", false}};
  in.issues = {{"o/r#1", "in-review", "open", "foreman-coder", true, false, false},
               {"o/r#2", "in-progress", "open", "foreman-coder", true, false, false},
               {"o/r#3", "backlog", "open", "", true, true, false},  // parked, its tombstone deleted
               {"o/r#4", "ready", "open", "", false, false, false}};  // never claimed
  in.memory = {{"bridge-1", 20, 24}};
  return in;
}

int total(const Verdict& v) {
  int n = 0;
  for (const auto& [k, c] : v.counts) n += c;
  return n;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(chaos_invariants)

BOOST_AUTO_TEST_CASE(a_healthy_end_has_no_violation_and_names_every_invariant) {
  const Verdict v = check(healthy());
  BOOST_TEST(total(v) == 0);
  BOOST_TEST(v.violations.empty());
  BOOST_TEST(v.counts.size() == 9u);
}

BOOST_AUTO_TEST_CASE(each_invariant_broken) {
  struct Row {
    const char* given;
    void (*change)(Inputs&);
    const char* invariant;
  };
  const Row rows[] = {
      {"a create while the name was live", [](Inputs& in) { in.records.push_back({"create", "wl-o-r-2", 2, true}); },
       "created-while-live"},
      {"a fourth attempt", [](Inputs& in) { in.records.push_back({"create", "wl-o-r-1", 4, false}); }, "attempt-over-cap"},
      {"two live Workloads for one issue", [](Inputs& in) { in.live.push_back({"wl-other", "o/r#1", 1, "Completed", false}); },
       "two-live-workloads"},
      {"a Failed Workload below the cap", [](Inputs& in) { in.live[0].phase = "Failed"; }, "retry-lost"},
      {"a Workload left terminating", [](Inputs& in) { in.live[0].terminating = true; }, "retry-lost"},
      {"a claim in progress with no Workload", [](Inputs& in) { in.live.pop_back(); }, "claim-lost"},
      {"a claim sent again for an issue held", [](Inputs& in) { in.issues[0].claimed_again = true; }, "claim-repeated"},
      {"a Workload still running", [](Inputs& in) { in.live[0].phase = "Dispatched"; }, "unsettled"},
      {"an intent left", [](Inputs& in) { in.intents_left.push_back("bridge-intent-wl-o-r-1"); }, "intent-left"},
      {"memory doubled after half-way", [](Inputs& in) { in.memory[0].end_mb = 60; }, "memory-growth"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) {
      Inputs in = healthy();
      r.change(in);
      const Verdict v = check(in);
      BOOST_TEST(v.counts.at(r.invariant) == 1);
      BOOST_TEST(total(v) == 1);
      BOOST_REQUIRE(v.violations.size() == 1u);
      BOOST_TEST(v.violations[0].invariant == r.invariant);
    }
  }
  // Small growth of a small process is not growth; a claim held by another agent or of a
  // closed issue is not ours to lose.
  Inputs in = healthy();
  in.memory[0] = {"bridge-1", 10, 20};
  in.issues.push_back({"o/r#9", "in-progress", "open", "someone-else", true, false, false});
  in.issues.push_back({"o/r#10", "in-progress", "closed", "foreman-coder", true, false, false});
  BOOST_TEST(total(check(in)) == 0);
}

BOOST_AUTO_TEST_CASE(parsing_the_simulators_answers) {
  const auto records = records_from(json::parse(R"({"workloads":[
    {"op":"create","name":"wl-a","attempt":"2","liveExisted":false},
    {"op":"create","name":"wl-b","attempt":"garbage","liveExisted":true},
    {"op":"delete"}, 7]})"));
  BOOST_REQUIRE(records.size() == 2u);
  BOOST_TEST(records[0].attempt == 2);
  BOOST_TEST(records[1].attempt == 1);
  BOOST_TEST(records[1].live_existed);

  const auto live = live_from(json::parse(R"({"items":[
    {"metadata":{"name":"wl-a","annotations":{"foreman.llmkube.dev/attempt":"3"},"deletionTimestamp":"2026-01-01T00:00:00Z"},
     "spec":{"repo":"o/r","issues":[5]},"status":{"phase":"Failed"}},
    {"metadata":{"name":"wl-b"}}, {"spec":{}}]})"));
  BOOST_REQUIRE(live.size() == 2u);
  BOOST_TEST(live[0].issue == "o/r#5");
  BOOST_TEST(live[0].attempt == 3);
  BOOST_TEST(live[0].terminating);
  BOOST_TEST(live[0].phase == "Failed");
  BOOST_TEST(live[1].issue.empty());
  BOOST_TEST(live[1].attempt == 1);

  const auto issues = issues_from(json::parse(R"({"issues":[
    {"repoFullName":"o/r","number":5,"status":"backlog","state":"open","claimedBy":"",
     "history":["claim","status:backlog","lane:frontier"],"labels":["needs-human"]},
    {"repoFullName":"o/r","number":6,"history":["claim-again"]},
    {"repoFullName":"o/r","number":"x"}]})"));
  BOOST_REQUIRE(issues.size() == 2u);
  BOOST_TEST(!issues[0].claimed_again);
  BOOST_TEST(issues[1].claimed_again);
  BOOST_TEST(issues[1].ever_claimed);
  BOOST_TEST(issues[0].key == "o/r#5");
  BOOST_TEST(issues[0].ever_claimed);
  BOOST_TEST(issues[0].relaned);
  BOOST_TEST(issues[0].needs_human);
}

// The soak waits while there is work left; a healthy end has none.
BOOST_AUTO_TEST_CASE(work_left_until_every_workload_is_terminal_and_no_retry_is_due) {
  BOOST_TEST(!work_left(healthy()));
  const std::vector<std::pair<std::string, void (*)(Inputs&)>> busy = {
      {"an intent left", [](Inputs& in) { in.intents_left.push_back("wl-o-r-1-retry"); }},
      {"a Workload terminating", [](Inputs& in) { in.live[0].terminating = true; }},
      {"a Workload running", [](Inputs& in) { in.live[0].phase = "Running"; }},
      {"a Workload not started", [](Inputs& in) { in.live[0].phase = ""; }},
      {"a Failed Workload below the cap", [](Inputs& in) { in.live[1].attempt = 2; }},
      {"a Failed Workload, the cap raised", [](Inputs& in) { in.max_attempts = 4; }},
  };
  for (const auto& [what, change] : busy) {
    Inputs in = healthy();
    change(in);
    BOOST_TEST_CONTEXT(what) { BOOST_TEST(work_left(in)); }
  }
  Inputs done = healthy();
  done.live.clear();
  BOOST_TEST(!work_left(done));
}

BOOST_AUTO_TEST_SUITE_END()
