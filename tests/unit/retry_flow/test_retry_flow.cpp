#include "operator/retry_flow.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

using namespace fdb::op;
namespace json = boost::json;

BOOST_AUTO_TEST_SUITE(retry_flow)

namespace {
WorkloadView wl(std::string uid, std::string phase, bool terminating = false, bool owned = true) {
  WorkloadView v;
  v.name = "wl-o-r-1";
  v.uid = std::move(uid);
  v.phase = std::move(phase);
  v.terminating = terminating;
  v.bridge_owned = owned;
  return v;
}
WorkloadView tombstone() {
  WorkloadView v = wl("u", "Failed");
  v.tombstone = "true";
  return v;
}
Intent intent(Intent::Kind kind = Intent::Kind::Retry) {
  Intent i;
  i.kind = kind;
  i.workload = "wl-o-r-1";
  i.old_uid = "old";
  i.next_attempt = 2;
  i.repo = "o/r";
  i.number = 1;
  return i;
}
}  // namespace

BOOST_AUTO_TEST_CASE(next_step_table) {
  using K = StepKind;
  struct Row {
    const char* given;
    std::optional<WorkloadView> workload;
    std::optional<Intent> intent;
    StepKind expect;
  };
  const Row rows[] = {
      // No intent: only a live, bridge-owned, Failed Workload needs a decision.
      {"nothing cached", std::nullopt, std::nullopt, K::Nothing},
      {"running", wl("u", "Dispatched"), std::nullopt, K::Nothing},
      {"new", wl("u", ""), std::nullopt, K::Nothing},
      {"completed", wl("u", "Completed"), std::nullopt, K::Nothing},
      {"failed", wl("u", "Failed"), std::nullopt, K::Decide},
      {"failed, not ours", wl("u", "Failed", false, false), std::nullopt, K::Nothing},
      {"failed, being deleted by someone", wl("u", "Failed", true), std::nullopt, K::Nothing},
      {"failed, already a tombstone", tombstone(), std::nullopt, K::Nothing},
      // Retry intent: delete the old object, wait for it to go, create, clear.
      {"retry: old object live", wl("old", "Failed"), intent(), K::Delete},
      {"retry: old object terminating", wl("old", "Failed", true), intent(), K::AwaitGone},
      {"retry: old object gone", std::nullopt, intent(), K::Create},
      {"retry: new object exists", wl("new", ""), intent(), K::ClearIntent},
      {"retry: new object already failed", wl("new", "Failed"), intent(), K::ClearIntent},
      // Escalation intent: delete, wait, unclaim (never create).
      {"escalate: old object live", wl("old", "Failed"), intent(Intent::Kind::Escalate), K::Delete},
      {"escalate: old object terminating", wl("old", "Failed", true), intent(Intent::Kind::Escalate), K::AwaitGone},
      {"escalate: old object gone", std::nullopt, intent(Intent::Kind::Escalate), K::Unclaim},
      {"escalate: name reused", wl("new", ""), intent(Intent::Kind::Escalate), K::Unclaim},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) {
      const auto step = next_step(r.workload, r.intent);
      BOOST_TEST(to_string(step.kind) == to_string(r.expect));
      BOOST_TEST(!step.why.empty());
    }
  }
}

// The attempt parser, the view and the intent codec: tests/unit/model.

BOOST_AUTO_TEST_SUITE_END()
