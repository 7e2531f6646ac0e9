// /healthz's verdict as a table (issue 20): alive, unless a core loop ended or dispatch has
// refused the token on every answer for the window.
#include "operator/liveness.hpp"

#include <boost/test/unit_test.hpp>

#include <functional>

using namespace fdb::op;
using namespace std::chrono_literals;
using Clock = Liveness::Clock;

BOOST_AUTO_TEST_SUITE(liveness)

BOOST_AUTO_TEST_CASE(verdicts) {
  const Clock::time_point t0{};
  struct Row {
    const char* given;
    std::function<void(Liveness&)> events;
    Clock::time_point asked;
    bool ok;
    const char* reason_has;
  };
  const Row rows[] = {
      {"nothing happened", [](Liveness&) {}, t0 + 1h, true, ""},
      {"dispatch answers", [&](Liveness& l) { l.dispatch_answered(200, t0); }, t0 + 1h, true, ""},
      {"401 for 4 minutes", [&](Liveness& l) { l.dispatch_answered(401, t0); }, t0 + 4min, true, ""},
      {"401 then 403 for 5 minutes",
       [&](Liveness& l) {
         l.dispatch_answered(401, t0);
         l.dispatch_answered(403, t0 + 3min);
       },
       t0 + 5min, false, "refused the token"},
      {"401, then an answer that is not a refusal",
       [&](Liveness& l) {
         l.dispatch_answered(401, t0);
         l.dispatch_answered(500, t0 + 1min);
       },
       t0 + 10min, true, ""},
      {"401, then no answer at all (outage): still refused",
       [&](Liveness& l) {
         l.dispatch_answered(403, t0);
         l.dispatch_answered(0, t0 + 4min);
       },
       t0 + 6min, false, "refused the token"},
      {"a refusal again after a good answer counts from the new one",
       [&](Liveness& l) {
         l.dispatch_answered(401, t0);
         l.dispatch_answered(200, t0 + 4min);
         l.dispatch_answered(401, t0 + 5min);
       },
       t0 + 9min, true, ""},
      {"a loop ended",
       [&](Liveness& l) {
         l.loop_ended("the informers stopped: boom");
         l.loop_ended("the leader election stopped");
       },
       t0, false, "the informers stopped: boom"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) {
      Liveness l;
      r.events(l);
      const Health h = l.check(r.asked);
      BOOST_TEST(h.ok == r.ok);
      BOOST_TEST(h.reason.find(r.reason_has) != std::string::npos, h.reason);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
