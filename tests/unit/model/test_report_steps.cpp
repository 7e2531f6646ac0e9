// The report step of the terminal sweeps as pure functions (operator/report_steps.hpp):
// which dispatch call a Completed Workload gets, how dispatch's error reads as an outcome,
// and the actions after each outcome — sent (in-review, done, parked), refused for good,
// failed (with and without the stamp), no issue. No sockets, no clock.
#include "operator/report_steps.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <fmt/format.h>

#include <stdexcept>

using namespace fdb::op;
using namespace fdb::op::steps;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(report_steps)

namespace {

// 2026-01-10T12:00:00Z
const WallTime wall{std::chrono::sys_days{std::chrono::year{2026} / 1 / 10}.time_since_epoch() + 12h};
const std::string kStamp = "2026-01-10T12:00:00.000000Z";  // format_stamp(wall)
const std::string kPr = "https://github.com/o/r/pull/7";

WorkloadView completed(std::string repo = "o/r", std::int64_t number = 1) {
  WorkloadView v;
  v.name = "wl-o-r-1";
  v.ns = "llm";
  v.uid = "u1";
  v.phase = "Completed";
  v.bridge_owned = true;
  v.repo = std::move(repo);
  v.number = number;
  v.issue_id = "I_1";
  return v;
}

fdb::op::Report in_review() { return {"in-review", "a pull request to review", kPr}; }
fdb::op::Report resolved() { return {"done", "AllAlreadyResolved", ""}; }
fdb::op::Report parked() { return {"backlog", "completed without a pull request", ""}; }

ReportFacts facts(fdb::op::Report r, bool write_stamp, WorkloadView w = completed()) {
  return {std::move(w), std::move(r), write_stamp, wall};
}

std::string counter_name(Counter c) {
  switch (c) {
    case Counter::Park: return "park";
    case Counter::TombstoneGiveUp: return "tombstone-give-up";
    case Counter::TombstoneIssueClosed: return "tombstone-issue-closed";
    case Counter::Escalation: return "escalation";
    case Counter::Sweep: return "sweep";
  }
  return "?";
}

std::string line_name(ReportLine l) {
  switch (l) {
    case ReportLine::NoIssue: return "no-issue";
    case ReportLine::Refused: return "refused";
    case ReportLine::Reported: return "reported";
  }
  return "?";
}

// One action, with what it carries that the report decides.
std::string describe(const Action& a) {
  if (const auto* p = std::get_if<PatchAnnotations>(&a)) return "patch " + p->name + " " + boost::json::serialize(p->annotations);
  if (const auto* c = std::get_if<Count>(&a)) return fmt::format("count {} {} {}", counter_name(c->counter), c->label, c->label2);
  if (const auto* l = std::get_if<ReportLog>(&a)) {
    return fmt::format("log {} issue={} status={} error={}", line_name(l->line), l->issue, l->status, l->error);
  }
  if (const auto* e = std::get_if<Event>(&a)) return fmt::format("event {} {} {} {}: {}", e->workload, e->type, e->reason, e->action, e->note);
  if (const auto* d = std::get_if<Done>(&a)) return "done " + d->step;
  return std::string(action_name(a));
}

std::vector<std::string> described(const Actions& actions) {
  std::vector<std::string> out;
  for (const auto& a : actions) out.push_back(describe(a));
  return out;
}

const std::string kReported = "\"foreman.llmkube.dev/reported-status\"";
const std::string kSince = "\"foreman.llmkube.dev/terminal-since-Completed\"";

}  // namespace

BOOST_AUTO_TEST_CASE(the_call_for_each_report) {
  struct Row {
    std::string name;
    ReportFacts facts;
    std::optional<ReportCall> call;
  };
  const std::vector<Row> rows = {
      {"in-review: set the status", facts(in_review(), false), ReportCall{false, "in-review", ""}},
      {"done: set the status", facts(resolved(), true), ReportCall{false, "done", ""}},
      {"backlog: park, with the reason", facts(parked(), false), ReportCall{true, "backlog", "completed without a pull request"}},
      {"no repo: nothing to send", facts(in_review(), false, completed("", 1)), std::nullopt},
      {"no number: nothing to send", facts(parked(), true, completed("o/r", 0)), std::nullopt},
  };
  for (const Row& r : rows) {
    BOOST_TEST_CONTEXT(r.name) {
      const auto call = report_call(r.facts);
      BOOST_TEST_REQUIRE(call.has_value() == r.call.has_value());
      if (!call) continue;
      BOOST_TEST(call->park == r.call->park);
      BOOST_TEST(call->status == r.call->status);
      BOOST_TEST(call->reason == r.call->reason);
    }
  }
}

BOOST_AUTO_TEST_CASE(dispatch_errors_as_outcomes) {
  struct Row {
    int status;
    bool transient;
    bool refused;
  };
  const std::vector<Row> rows = {
      {400, false, true},  {404, false, true},  {409, false, true},  {410, false, true}, {422, false, true},
      {404, true, false},  {422, true, false},  {401, false, false}, {403, false, false}, {429, false, false},
      {500, false, false}, {503, true, false},  {0, false, false},   {0, true, false},
  };
  for (const Row& r : rows) {
    BOOST_TEST_CONTEXT(r.status << (r.transient ? " transient" : "")) {
      BOOST_TEST(refused_for_good(r.status, r.transient) == r.refused);
      const auto error = std::make_exception_ptr(std::runtime_error("dispatch set-status: HTTP"));
      const ReportOutcome o = report_outcome(r.status, r.transient, "dispatch set-status: HTTP", error);
      if (r.refused) {
        BOOST_TEST_REQUIRE(std::holds_alternative<report::RefusedPermanently>(o));
        BOOST_TEST(std::get<report::RefusedPermanently>(o).http_status == r.status);
        BOOST_TEST(std::get<report::RefusedPermanently>(o).error == "dispatch set-status: HTTP");
      } else {
        BOOST_TEST_REQUIRE(std::holds_alternative<report::Failed>(o));
        BOOST_TEST((std::get<report::Failed>(o).error == error));  // the same exception, rethrown as it was
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(the_actions_after_each_outcome) {
  const auto error = std::make_exception_ptr(std::runtime_error("dispatch down"));
  const std::string in_review_event =
      "event wl-o-r-1 Normal InReview Report: issue o/r#1 moved to in-review: " + kPr;
  struct Row {
    std::string name;
    ReportFacts facts;
    ReportOutcome outcome;
    std::vector<std::string> actions;
  };
  const std::vector<Row> rows = {
      {"sent: in-review", facts(in_review(), false), report::Sent{},
       {"patch wl-o-r-1 {" + kReported + ":\"in-review\"}", "count sweep report in-review",
        "log reported issue=o/r#1 status=in-review error=", in_review_event, "done report"}},
      {"sent: in-review, stamped in the same patch", facts(in_review(), true), report::Sent{},
       {"patch wl-o-r-1 {" + kSince + ":\"" + kStamp + "\"," + kReported + ":\"in-review\"}",
        "count sweep report in-review", "log reported issue=o/r#1 status=in-review error=", in_review_event,
        "done report"}},
      {"sent: done", facts(resolved(), false), report::Sent{},
       {"patch wl-o-r-1 {" + kReported + ":\"done\"}", "count sweep report done",
        "log reported issue=o/r#1 status=done error=",
        "event wl-o-r-1 Normal Resolved Report: issue o/r#1 moved to done: AllAlreadyResolved", "done report"}},
      {"sent: parked", facts(parked(), false), report::Sent{},
       {"patch wl-o-r-1 {" + kReported + ":\"backlog\"}", "count sweep report parked",
        "log reported issue=o/r#1 status=backlog error=", "count park completed-without-pr ",
        "event wl-o-r-1 Warning Parked Park: Needs a human decision: completed without a pull request", "done report"}},
      {"refused for good: recorded, never asked again, no Event", facts(in_review(), false),
       report::RefusedPermanently{404, "dispatch set-status: HTTP 404"},
       {"log refused issue=o/r#1 status=in-review error=dispatch set-status: HTTP 404",
        "patch wl-o-r-1 {" + kReported + ":\"rejected: in-review (HTTP 404)\"}", "count sweep report rejected",
        "log reported issue=o/r#1 status=rejected: in-review (HTTP 404) error=", "done report"}},
      {"refused for good, a park, stamped", facts(parked(), true), report::RefusedPermanently{422, "e"},
       {"log refused issue=o/r#1 status=backlog error=e",
        "patch wl-o-r-1 {" + kSince + ":\"" + kStamp + "\"," + kReported + ":\"rejected: backlog (HTTP 422)\"}",
        "count sweep report rejected", "log reported issue=o/r#1 status=rejected: backlog (HTTP 422) error=",
        "done report"}},
      {"failed, stamp asked for: the stamp alone, then rethrown", facts(in_review(), true), report::Failed{error},
       {"patch wl-o-r-1 {" + kSince + ":\"" + kStamp + "\"}", "rethrow"}},
      {"failed, stamped already: rethrown, nothing written", facts(parked(), false), report::Failed{error},
       {"rethrow"}},
      {"no issue on the Workload: skipped", facts(in_review(), false, completed("", 0)), report::NotSent{},
       {"log no-issue issue= status= error=", "patch wl-o-r-1 {" + kReported + ":\"skipped: no issue on the Workload\"}",
        "count sweep report skipped", "log reported issue=#0 status=skipped: no issue on the Workload error=",
        "done report"}},
      {"no issue, stamped in the same patch", facts(resolved(), true, completed("", 0)), report::NotSent{},
       {"log no-issue issue= status= error=",
        "patch wl-o-r-1 {" + kSince + ":\"" + kStamp + "\"," + kReported + ":\"skipped: no issue on the Workload\"}",
        "count sweep report skipped", "log reported issue=#0 status=skipped: no issue on the Workload error=",
        "done report"}},
  };
  for (const Row& r : rows) {
    BOOST_TEST_CONTEXT(r.name) {
      const Actions actions = report_actions(r.facts, r.outcome);
      const auto got = described(actions);
      BOOST_TEST(got == r.actions, boost::test_tools::per_element());
      if (const auto* failed = std::get_if<report::Failed>(&r.outcome)) {
        BOOST_TEST_REQUIRE(std::holds_alternative<Rethrow>(actions.back()));
        BOOST_TEST((std::get<Rethrow>(actions.back()).error == failed->error));
      }
    }
  }
}

// The reported line carries the report's reason and pull request for the log.
BOOST_AUTO_TEST_CASE(the_reported_line_carries_the_reason_and_the_pull_request) {
  const Actions actions = report_actions(facts(in_review(), false), report::Sent{});
  const ReportLog* line = nullptr;
  for (const auto& a : actions) {
    if (const auto* l = std::get_if<ReportLog>(&a); l != nullptr && l->line == ReportLine::Reported) line = l;
  }
  BOOST_TEST_REQUIRE(line != nullptr);
  BOOST_TEST(line->reason == "a pull request to review");
  BOOST_TEST(line->pull_request == kPr);
}

BOOST_AUTO_TEST_SUITE_END()
