// The in-flight registry (operator/in_flight.hpp): time is a parameter, no clock is read.
#include "operator/in_flight.hpp"

#include <boost/test/unit_test.hpp>

using namespace fdb::op;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(in_flight)

namespace {
const SteadyTime t0{std::chrono::seconds(1000)};
Intent intent(std::string name) {
  Intent i;
  i.workload = std::move(name);
  i.old_uid = "u";
  return i;
}
}  // namespace

BOOST_AUTO_TEST_CASE(a_retry_from_record_to_clear) {
  InFlight f;
  BOOST_TEST(!f.retry_in_flight("a"));
  BOOST_TEST(f.intent("a") == nullptr);
  f.intent_recorded(intent("a"), t0);
  BOOST_TEST(f.retry_in_flight("a"));
  BOOST_TEST(!f.retry_in_flight("b"));
  BOOST_TEST(f.intents_in_flight() == 1u);
  BOOST_REQUIRE(f.intent("a") != nullptr);
  BOOST_TEST(f.intent("a")->old_uid == "u");
  f.timings("a").delete_sent = t0 + 1s;
  f.timings("a").create_sent = t0 + 3s;
  BOOST_REQUIRE(f.find_timings("a") != nullptr);
  const RetryTimings t = f.intent_cleared("a");
  BOOST_TEST((t.failed_seen == t0));
  BOOST_TEST((t.delete_sent == t0 + 1s));
  BOOST_TEST((t.create_sent == t0 + 3s));
  BOOST_TEST(!f.retry_in_flight("a"));
  BOOST_TEST(f.find_timings("a") == nullptr);
  BOOST_TEST(f.intents_in_flight() == 0u);
  // Clearing what is not there is harmless (a second reconcile after the create).
  BOOST_TEST((f.intent_cleared("a").failed_seen == SteadyTime{}));
}

BOOST_AUTO_TEST_CASE(task_waits_are_bounded) {
  struct Row {
    const char* given;
    bool needed;
    std::chrono::seconds at;
    long long left_ms;
    bool waiting_after;
  };
  InFlight f;
  // One name through its wait, row after row: 2 s of budget.
  const Row rows[] = {
      {"first look: the whole budget", true, 0s, 2000, true},
      {"a task event 1 s later", true, 1s, 1000, true},
      {"the budget spent: list now", true, 2s, 0, false},
      {"a later look starts a new wait", true, 5s, 2000, true},
      {"the cache caught up", false, 6s, 0, false},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) {
      BOOST_TEST(f.task_wait_left("a", r.needed, t0 + r.at, 2000ms).count() == r.left_ms);
      BOOST_TEST(f.task_waiting("a") == r.waiting_after);
    }
  }
}

BOOST_AUTO_TEST_CASE(claims_are_the_claim_loops_record) {
  // The claim side is operator/claim_in_flight.hpp's (its own table tests); the registry
  // holds it, answers for it, and forgets it with the rest.
  InFlight f;
  f.claims().begin_claim("wl-1");
  BOOST_TEST(f.creating("wl-1"));
  BOOST_TEST(f.pending_creates() == 0u);
  f.claims().created("wl-1", t0);
  f.claims().end_claim("wl-1");
  BOOST_TEST(f.creating("wl-1"));  // created, not yet cached
  BOOST_TEST(f.pending_creates() == 1u);
  f.claims().forget("wl-1");
  BOOST_TEST(!f.creating("wl-1"));
}

BOOST_AUTO_TEST_CASE(forget_drops_everything) {
  InFlight f;
  f.intent_recorded(intent("a"), t0);
  f.task_wait_left("b", true, t0, 2000ms);
  f.claims().begin_claim("c");
  f.claims().created("d", t0);
  f.forget();
  BOOST_TEST(!f.retry_in_flight("a"));
  BOOST_TEST(f.find_timings("a") == nullptr);
  BOOST_TEST(!f.task_waiting("b"));
  BOOST_TEST(!f.creating("c"));
  BOOST_TEST(!f.creating("d"));
  BOOST_TEST(f.pending_creates() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
