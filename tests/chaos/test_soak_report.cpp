// The chaos soak's summary line from a known outcome.
#include "chaos/soak_report.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

using namespace fdb::chaos;
namespace json = boost::json;

BOOST_AUTO_TEST_SUITE(chaos_soak_report)

BOOST_AUTO_TEST_CASE(the_summary_counts_records_claims_faults_and_violations) {
  SoakOptions o;
  o.seed = 7;
  o.seconds = 15;
  o.issues = 30;
  SoakOutcome out;
  out.faults.by_kind = {{"watch-drop", 2}, {"api-429", 1}};
  out.faults.kills = 1;
  out.end.records = {{"create", "a", 1, false}, {"delete", "a", 1, false}, {"create", "a", 2, false},
                     {"create-conflict", "a", 2, true}, {"create", "b", 1, false}};
  out.end.issues = {{"o/r#1", "in-review", "open", "foreman-coder", true, false, false},
                    {"o/r#2", "ready", "open", "", false, false, false}};
  out.end.memory = {{"bridge-1", 20, 22.5}};
  out.verdict.counts = {{"claim-lost", 0}, {"retry-lost", 2}, {"unsettled", 1}};
  out.logs = {3, 4, 5};
  out.settled = true;
  out.settle_seconds = 12.5;
  BOOST_TEST(violations(out.verdict) == 3);
  BOOST_TEST(json::serialize(summary(o, out)) ==
             R"({"tool":"chaos-soak","seed":7,"seconds":15,"issues":30,"issues_claimed":1,"workloads_created":3,)"
             R"("retries":1,"workloads_deleted":1,"faults":3,"faults_by_kind":{"api-429":1,"watch-drop":2},)"
             R"("leader_kills":1,"leader_deadline_stops":3,"watch_short_backoffs":4,"claims_settled_by_list":5,)"
             R"("settled":true,"settle_seconds":1.25E1,"survivor_memory":[{"replica":"bridge-1","mid_mb":2E1,"end_mb":2.25E1}],)"
             R"("invariants":{"claim-lost":0,"retry-lost":2,"unsettled":1},"violations":3})");
}

BOOST_AUTO_TEST_SUITE_END()
