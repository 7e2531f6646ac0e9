// The retry flow and the terminal sweeps as a step machine (operator/retry_steps.hpp):
// given what the caches hold, the in-flight record and the time, the actions, in order.
// No sockets, no clock.
#include "operator/retry_steps.hpp"

#include <boost/test/unit_test.hpp>

#include <sstream>

using namespace fdb::op;
using namespace fdb::op::steps;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(retry_steps)

namespace {

const SteadyTime t0{std::chrono::seconds(5000)};
// 2026-01-10T12:00:00Z
const WallTime wall{std::chrono::sys_days{std::chrono::year{2026} / 1 / 10}.time_since_epoch() + 12h};

Settings settings() {
  Settings s;
  s.delete_timeout = 60s;
  s.prune = {6, 48};
  s.retry_max_attempts = 3;
  return s;
}

WorkloadView wl(std::string uid, std::string phase, bool terminating = false) {
  WorkloadView v;
  v.name = "wl-o-r-1";
  v.ns = "llm";
  v.uid = std::move(uid);
  v.phase = std::move(phase);
  v.terminating = terminating;
  v.bridge_owned = true;
  v.repo = "o/r";
  v.number = 1;
  v.issue_id = "I_1";
  v.lane = "local";
  v.attempt = 2;
  return v;
}
WorkloadView prfix_wl(std::string phase) {
  WorkloadView v = wl("p", std::move(phase));
  v.bridge_owned = false;
  v.prfix_owned = true;
  return v;
}
WorkloadView with(WorkloadView v, std::string tombstone, std::string stamp, std::string reported = "") {
  v.tombstone = std::move(tombstone);
  v.terminal_since = std::move(stamp);
  v.reported = std::move(reported);
  return v;
}
Intent intent(Intent::Kind kind = Intent::Kind::Retry) {
  Intent i;
  i.kind = kind;
  i.workload = "wl-o-r-1";
  i.old_uid = "old";
  i.repo = "o/r";
  i.number = 1;
  return i;
}

// "delete,requeue": the action names, comma-separated.
std::string names(const Actions& a) {
  std::ostringstream out;
  for (std::size_t i = 0; i < a.size(); ++i) out << (i ? "," : "") << action_name(a[i]);
  return out.str();
}

Observed observed(std::optional<WorkloadView> w, std::optional<Intent> i) {
  Observed o;
  o.name = "wl-o-r-1";
  o.workload = std::move(w);
  o.intent = std::move(i);
  return o;
}

}  // namespace

BOOST_AUTO_TEST_CASE(plan_table) {
  InFlight none;
  InFlight deleted_just_now;  // this process's DELETE accepted 10 s ago
  deleted_just_now.timings("wl-o-r-1").delete_sent = t0 - 10s;
  deleted_just_now.timings("wl-o-r-1").delete_accepted = t0 - 10s;
  InFlight deleted_long_ago;  // 61 s ago: the cache never showed it; delete again / warn
  deleted_long_ago.timings("wl-o-r-1").delete_sent = t0 - 61s;
  deleted_long_ago.timings("wl-o-r-1").delete_accepted = t0 - 61s;
  struct Row {
    const char* given;
    Observed o;
    const InFlight* f;
    const char* expect;
  };
  const Row rows[] = {
      {"nothing cached", observed(std::nullopt, std::nullopt), &none, "done"},
      {"running", observed(wl("u", "Dispatched"), std::nullopt), &none, "done"},
      {"failed: decide", observed(wl("u", "Failed"), std::nullopt), &none, "decide"},
      {"failed, being deleted", observed(wl("u", "Failed", true), std::nullopt), &none, "done"},
      {"a PR-fix Workload that failed: not the retry flow's", observed(prfix_wl("Failed"), std::nullopt), &none, "done"},
      {"a PR-fix Workload completed: no sweeps", observed(prfix_wl("Completed"), std::nullopt), &none, "done"},
      {"retry: old live", observed(wl("old", "Failed"), intent()), &none, "delete"},
      {"retry: old live, our DELETE accepted 10 s ago", observed(wl("old", "Failed"), intent()), &deleted_just_now, "requeue"},
      {"retry: old live, our DELETE accepted 61 s ago", observed(wl("old", "Failed"), intent()), &deleted_long_ago, "delete"},
      {"retry: old terminating", observed(wl("old", "Failed", true), intent()), &deleted_just_now, "requeue"},
      {"retry: old terminating past the timeout", observed(wl("old", "Failed", true), intent()), &deleted_long_ago,
       "warn-stuck-deletion,requeue"},
      {"retry: old gone", observed(std::nullopt, intent()), &none, "create,clear-intent"},
      {"retry: new object exists", observed(wl("new", ""), intent()), &none, "clear-intent"},
      {"escalate: old gone", observed(std::nullopt, intent(Intent::Kind::Escalate)), &none, "unclaim,clear-intent"},
      {"claim: old terminating", observed(wl("old", "Completed", true), intent(Intent::Kind::Claim)), &none, "requeue"},
      {"claim: old gone", observed(std::nullopt, intent(Intent::Kind::Claim)), &none, "create,clear-intent"},
      {"claim: created already", observed(wl("new", ""), intent(Intent::Kind::Claim)), &none, "clear-intent"},
      {"prfix: ended fix live", observed(prfix_wl("Failed"), [] { auto i = intent(Intent::Kind::PrFix); i.old_uid = "p"; return i; }()),
       &none, "delete"},
      {"prfix: old gone", observed(std::nullopt, intent(Intent::Kind::PrFix)), &none, "create,clear-intent"},
      {"completed, not reported", observed(wl("u", "Completed"), std::nullopt), &none, "report"},
      {"tombstone without a stamp: stamp, then wait for the deadline",
       observed(with(wl("u", "Failed"), "true", ""), std::nullopt), &none, "stamp,requeue"},
      {"tombstone 48 h old: prune", observed(with(wl("u", "Failed"), "true", "2026-01-08T12:00:00Z"), std::nullopt), &none,
       "prune"},
      // A closed issue's tombstone is decided again on each resync (a reopened issue is
      // retried); the decision's tombstone step then stamps and prunes it.
      {"closed-issue tombstone: decided again",
       observed(with(wl("u", "Failed"), "issue-closed", "2026-01-08T12:00:00Z"), std::nullopt), &none, "decide"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) { BOOST_TEST(names(plan(r.o, *r.f, t0, wall, settings())) == r.expect); }
  }
}

BOOST_AUTO_TEST_CASE(plan_carries_what_the_executor_needs) {
  InFlight none;
  const auto del = plan(observed(wl("old", "Failed"), intent()), none, t0, wall, settings());
  BOOST_REQUIRE(std::holds_alternative<DeleteWorkload>(del.at(0)));
  BOOST_TEST(std::get<DeleteWorkload>(del[0]).uid == "old");  // only the old object may go
  BOOST_TEST(std::get<DeleteWorkload>(del[0]).retry);
  InFlight recent;
  recent.timings("wl-o-r-1").delete_accepted = t0 - 10s;
  const auto wait = plan(observed(wl("old", "Failed"), intent()), recent, t0, wall, settings());
  BOOST_TEST(std::get<Requeue>(wait.at(0)).after.count() == 60000);
  const auto prune = plan(observed(with(wl("u", "Completed"), "", "2026-01-10T05:00:00Z", "in-review"), std::nullopt),
                          none, t0, wall, settings());
  BOOST_REQUIRE(std::holds_alternative<Prune>(prune.at(0)));
  BOOST_TEST(!std::get<Prune>(prune[0]).reset_issue);
  BOOST_TEST(std::get<Prune>(prune[0]).workload.uid == "u");
  const auto stamp = plan(observed(wl("u", "Completed"), std::nullopt), none, t0, wall, settings());
  BOOST_TEST(std::get<steps::Report>(stamp.at(0)).write_stamp);
}

BOOST_AUTO_TEST_CASE(decide_actions_table) {
  auto facts = [](RetryAction a, IssueState issue = IssueState::Open, WorkloadView w = wl("u", "Failed")) {
    DecisionFacts f;
    f.name = "wl-o-r-1";
    f.workload = std::move(w);
    f.issue = issue;
    f.action = std::move(a);
    f.target = "wl-o-r-1";
    f.seen = t0;
    return f;
  };
  WorkloadView parked = wl("u", "Failed");
  parked.parked = "design decision";
  WorkloadView running = wl("u", "Dispatched");
  struct Row {
    const char* given;
    DecisionFacts f;
    const char* expect;
  };
  const Row rows[] = {
      {"gone meanwhile", [&] { auto f = facts(action::Nothing{}); f.workload.reset(); return f; }(), "done"},
      {"not failed any more", facts(action::Retry{3, "", {}, "r"}, IssueState::Open, running), "done"},
      {"retry", facts(action::Retry{3, "fix it", {}, "attempt 2 failed"}), "record-intent,delete"},
      {"infra retry", facts(action::InfraRetry{2, 1, "", {}, "infra"}), "record-intent,delete"},
      {"escalate", facts(action::Escalate{"frontier", "cap"}), "relane,record-intent,log,count,event,delete"},
      {"park", facts(action::Park{"design-decision: x"}), "park-issue,patch-annotations,count,event,delete,log,done"},
      {"park, parked already (a crash before the delete)", facts(action::Park{"x"}, IssueState::Open, parked),
       "delete,log,done"},
      {"tombstone at the cap: mark and stamp, then wait for the prune", facts(action::Tombstone{"cap"}),
       "patch-annotations,count,event,log,requeue"},
      {"nothing, issue closed: an issue-closed tombstone", facts(action::Nothing{"closed"}, IssueState::Closed),
       "patch-annotations,count,event,log,requeue"},
      {"nothing, issue open", facts(action::Nothing{"why"}), "done"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) { BOOST_TEST(names(decide_actions(r.f, wall, settings())) == r.expect); }
  }
}

BOOST_AUTO_TEST_CASE(a_retry_records_the_intent_it_deletes_for) {
  DecisionFacts f;
  f.name = "wl-o-r-1";
  f.workload = wl("u1", "Failed");
  f.action = action::Retry{3, "fix it", {true, "foreman/wl-o-r-1/issue-1", "coder GO"}, "attempt 2 failed"};
  f.target = "wl-o-r-1";
  f.seen = t0;
  const Actions a = decide_actions(f, wall, settings());
  BOOST_REQUIRE(a.size() == 2u);
  const auto& rec = std::get<RecordIntent>(a[0]);
  BOOST_TEST((rec.intent.kind == Intent::Kind::Retry));
  BOOST_TEST(rec.intent.old_uid == "u1");
  BOOST_TEST(rec.intent.next_attempt == 3);
  BOOST_TEST(rec.intent.feedback == "fix it");
  BOOST_TEST(rec.intent.branch == "foreman/wl-o-r-1/issue-1");
  BOOST_TEST(rec.intent.issue_id == "I_1");
  BOOST_TEST((rec.decided_at == t0));
  BOOST_TEST(std::get<DeleteWorkload>(a[1]).uid == "u1");
  // The tombstone's patch carries the value and the stamp in one merge patch.
  f.action = action::Tombstone{"cap"};
  const Actions t = decide_actions(f, wall, settings());
  const auto& patch = std::get<PatchAnnotations>(t.at(0));
  BOOST_TEST(patch.annotations.at(kTombstoneKey).as_string() == "true");
  BOOST_TEST(patch.annotations.at(terminal_since_key("Failed")).as_string() == format_stamp(wall));
  BOOST_TEST(std::get<Requeue>(t.back()).after.count() == std::chrono::milliseconds(48h).count());
}

BOOST_AUTO_TEST_SUITE_END()
