// The sweeps' pure decisions (operator/sweeps.hpp), as tables: the terminal-since stamp,
// the next step for a terminal Workload, what a Completed one reports, and whether a
// claimed issue is stranded or stuck.
#include "operator/sweeps.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

namespace json = boost::json;
using namespace fdb;
using namespace fdb::op;
using namespace std::chrono;
using namespace std::chrono_literals;

namespace {

WallTime at(std::string_view text) {
  const auto t = parse_stamp(text);
  BOOST_REQUIRE_MESSAGE(t.has_value(), text);
  return *t;
}

WorkloadView terminal(std::string phase, std::string tombstone = "", std::string reported = "", std::string stamp = "") {
  WorkloadView v;
  v.name = "wl-o-r-7";
  v.phase = std::move(phase);
  v.bridge_owned = true;
  v.tombstone = std::move(tombstone);
  v.reported = std::move(reported);
  v.terminal_since = std::move(stamp);
  return v;
}

json::object task(const std::string& name, const std::string& pr) {
  json::object extra{{"outcome", "success"}};
  if (!pr.empty()) extra["pullRequestURL"] = pr;
  return json::object{{"metadata", json::object{{"name", name}}},
                      {"status", json::object{{"phase", "Succeeded"}, {"result", json::object{{"extra", extra}}}}}};
}

json::object completed(const std::string& reason, const std::string& status = "True") {
  return json::object{{"status", json::object{{"phase", "Completed"},
                                              {"conditions", json::array{json::object{{"type", "Completed"},
                                                                                      {"status", status},
                                                                                      {"reason", reason}}}}}}};
}

dispatch::ClaimedIssue claimed(std::vector<std::string> labels, bool open_pr = false) {
  dispatch::ClaimedIssue c;
  c.issue_id = "I_7";
  c.repo_full_name = "o/r";
  c.number = 7;
  c.labels = std::move(labels);
  c.has_open_pr = open_pr;
  return c;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sweeps)

BOOST_AUTO_TEST_CASE(stamps_parse_as_written_here_or_by_the_python_bridge) {
  BOOST_TEST(terminal_since_key("Completed") == "foreman.llmkube.dev/terminal-since-Completed");
  const WallTime base = sys_days{2026y / 1 / 2} + 3h + 4min + 5s;
  const struct {
    const char* text;
    std::optional<WallTime> expect;
  } rows[] = {
      {"2026-01-02T03:04:05.000000Z", base},            // this bridge (format_stamp)
      {"2026-01-02T03:04:05Z", base},                   // the Python bridge (strftime)
      {"2026-01-02T03:04:05.123Z", base + 123ms},       // shorter fraction
      {"2026-01-02T03:04:05.1234567Z", base + 123456us},  // longer: cut at microseconds
      {"2026-01-02T03:04:05+00:00", base},              // isoformat()
      {"2026-01-02T04:04:05+01:00", base},              // an offset east
      {"2026-01-01T22:04:05-05:00", base},              // an offset west
      {"2026-01-02t03:04:05z", base},                   // lower case
      {"2026-01-02 03:04:05Z", base},                   // a space for T
      {"", std::nullopt},
      {"yesterday", std::nullopt},
      {"2026-01-02T03:04:05", std::nullopt},            // no zone
      {"2026-01-02T03:04:05.Z", std::nullopt},          // an empty fraction
      {"2026-02-30T03:04:05Z", std::nullopt},           // no such day
      {"2026-01-02T24:04:05Z", std::nullopt},           // no such hour
      {"2026-01-02T03:04:05Zjunk", std::nullopt},
      {"2026-01-02T03:04:05+0100", std::nullopt},       // offset without the colon
      {"2026-1-02T03:04:05Z", std::nullopt},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.text) {
      const auto got = parse_stamp(r.text);
      BOOST_TEST(got.has_value() == r.expect.has_value());
      if (got && r.expect) BOOST_TEST(got->time_since_epoch().count() == r.expect->time_since_epoch().count());
    }
  }
  BOOST_TEST(format_stamp(base + 42us) == "2026-01-02T03:04:05.000042Z");
  BOOST_TEST(parse_stamp(format_stamp(base + 42us)).value().time_since_epoch().count() ==
             (base + 42us).time_since_epoch().count());
}

BOOST_AUTO_TEST_CASE(the_view_reads_the_projection) {
  const auto w = json::parse(R"({"metadata":{"name":"wl-o-r-7","labels":{"created-by":"dispatch-bridge"},
      "annotations":{"foreman.llmkube.dev/tombstone":"true","foreman.llmkube.dev/terminal-since-Failed":"2026-01-02T03:04:05Z",
                     "foreman.llmkube.dev/terminal-since-Completed":"2020-01-01T00:00:00Z",
                     "foreman.llmkube.dev/reported-status":"in-review"}},
      "status":{"phase":"Failed"}})").as_object();
  const WorkloadView v = read_view(w);
  BOOST_TEST(v.name == "wl-o-r-7");
  BOOST_TEST(v.phase == "Failed");
  BOOST_TEST(v.bridge_owned);
  BOOST_TEST(!v.terminating);
  BOOST_TEST(v.tombstone == "true");
  BOOST_TEST(v.reported == "in-review");
  BOOST_TEST(v.terminal_since == "2026-01-02T03:04:05Z");  // the stamp of the phase it is in

  // The Python bridge's key without a phase is read when the phase's own is missing.
  const auto legacy = json::parse(R"({"metadata":{"name":"x","deletionTimestamp":"2026-01-01T00:00:00Z",
      "annotations":{"foreman.llmkube.dev/terminal-since":"2026-01-02T03:04:05Z"}},"status":{"phase":"Completed"}})").as_object();
  const WorkloadView l = read_view(legacy);
  BOOST_TEST(l.terminal_since == "2026-01-02T03:04:05Z");
  BOOST_TEST(l.terminating);
  BOOST_TEST(!l.bridge_owned);
  // Not terminal: no stamp is read.
  BOOST_TEST(read_view(json::parse(R"({"metadata":{"annotations":{"foreman.llmkube.dev/terminal-since":"2026-01-02T03:04:05Z"}},
      "status":{"phase":"Dispatched"}})").as_object()).terminal_since.empty());
}

BOOST_AUTO_TEST_CASE(next_sweep_table) {
  const WallTime now = at("2026-01-10T12:00:00Z");
  const PruneSettings def{6, 48};
  auto not_bridge = terminal("Completed");
  not_bridge.bridge_owned = false;
  auto terminating = terminal("Completed", "", "in-review", "2026-01-01T00:00:00Z");
  terminating.terminating = true;
  struct Row {
    const char* given;
    WorkloadView view;
    PruneSettings settings;
    SweepKind kind;
    bool write_stamp = false;
    bool reset_issue = false;
    milliseconds wait{0};
  };
  const Row rows[] = {
      {"not a bridge Workload", not_bridge, def, SweepKind::Nothing},
      {"being deleted", terminating, def, SweepKind::Nothing},
      {"running", terminal("Dispatched"), def, SweepKind::Nothing},
      {"new", terminal(""), def, SweepKind::Nothing},
      {"Failed, no tombstone: the retry flow's", terminal("Failed", "", "", "2026-01-01T00:00:00Z"), def, SweepKind::Nothing},
      // Completed: report once, with the stamp when it is missing.
      {"Completed, first seen", terminal("Completed"), def, SweepKind::Report, true},
      {"Completed, stamped, not reported", terminal("Completed", "", "", "2026-01-10T11:00:00Z"), def, SweepKind::Report, false},
      {"Completed, garbage stamp, not reported", terminal("Completed", "", "", "soon"), def, SweepKind::Report, true},
      {"Completed, reported, no stamp", terminal("Completed", "", "in-review"), def, SweepKind::Stamp},
      {"Completed, reported, garbage stamp", terminal("Completed", "", "done", "soon"), def, SweepKind::Stamp},
      {"Completed 1 h ago: wait 5 h", terminal("Completed", "", "in-review", "2026-01-10T11:00:00Z"), def, SweepKind::Wait,
       false, false, 5h},
      {"Completed 6 h ago: prune", terminal("Completed", "", "in-review", "2026-01-10T06:00:00Z"), def, SweepKind::Prune},
      {"Completed long ago: prune, no reset", terminal("Completed", "", "done", "2025-01-01T00:00:00Z"), def, SweepKind::Prune},
      {"Completed, pruning off", terminal("Completed", "", "in-review", "2025-01-01T00:00:00Z"), {0, 48}, SweepKind::Nothing},
      {"Completed, decimals", terminal("Completed", "", "in-review", "2026-01-10T11:59:59Z"), {0.0005, 48}, SweepKind::Wait,
       false, false, 800ms},
      // A stamp ahead of this clock (another replica's) only makes the wait longer.
      {"Completed, stamp in the future", terminal("Completed", "", "in-review", "2026-01-10T13:00:00Z"), def, SweepKind::Wait,
       false, false, 7h},
      // Failed tombstones: stamped, then pruned with the issue set back to ready.
      {"tombstone, no stamp", terminal("Failed", "true"), def, SweepKind::Stamp},
      {"tombstone, 47 h", terminal("Failed", "true", "", "2026-01-08T13:00:00Z"), def, SweepKind::Wait, false, false, 1h},
      {"tombstone, 48 h", terminal("Failed", "true", "", "2026-01-08T12:00:00Z"), def, SweepKind::Prune, false, true},
      {"closed-issue tombstone, 48 h", terminal("Failed", "issue-closed", "", "2026-01-08T12:00:00Z"), def, SweepKind::Prune,
       false, true},
      {"tombstone, pruning Failed off", terminal("Failed", "true", "", "2020-01-01T00:00:00Z"), {6, 0}, SweepKind::Nothing},
      {"tombstone, Completed off does not matter", terminal("Failed", "true", "", "2020-01-01T00:00:00Z"), {0, 48},
       SweepKind::Prune, false, true},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) {
      const SweepStep s = next_sweep(r.view, r.settings, now);
      BOOST_TEST(to_string(s.kind) == to_string(r.kind));
      BOOST_TEST(s.write_stamp == r.write_stamp);
      BOOST_TEST(s.reset_issue == r.reset_issue);
      BOOST_TEST(s.wait.count() == r.wait.count());
      BOOST_TEST(!s.why.empty());
    }
  }
}

BOOST_AUTO_TEST_CASE(what_a_completed_workload_reports) {
  struct Row {
    const char* given;
    json::object workload;
    std::vector<json::object> tasks;
    std::string status;
    std::string pr;
  };
  const std::string pr1 = "https://github.com/o/r/pull/1";
  const std::string pr2 = "https://github.com/o/r/pull/2";
  const Row rows[] = {
      {"a coder PR", completed("AllChildrenSucceeded"), {task("wl-code-1", pr1), task("wl-review-1-0", "")}, "in-review", pr1},
      {"the first PR in task name order", completed("AllChildrenSucceeded"), {task("wl-review-1-0", pr2), task("wl-code-1", pr1)},
       "in-review", pr1},
      {"already resolved", completed("AllAlreadyResolved"), {task("wl-code-1", "")}, "done", ""},
      {"already resolved, no tasks", completed("AllAlreadyResolved"), {}, "done", ""},
      {"a PR wins over already resolved", completed("AllAlreadyResolved"), {task("wl-code-1", pr1)}, "in-review", pr1},
      {"AllAlreadyResolved but False", completed("AllAlreadyResolved", "False"), {}, "backlog", ""},
      {"no PR, succeeded: park", completed("AllChildrenSucceeded"), {task("wl-code-1", "")}, "backlog", ""},
      {"no conditions, no tasks: park", json::object{{"status", json::object{{"phase", "Completed"}}}}, {}, "backlog", ""},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) {
      std::vector<const json::object*> ptrs;
      for (const auto& t : r.tasks) ptrs.push_back(&t);
      const Report rep = completed_report(r.workload, TaskList(ptrs.data(), ptrs.size()));
      BOOST_TEST(rep.status == r.status);
      BOOST_TEST(rep.pull_request == r.pr);
      BOOST_TEST(!rep.reason.empty());
    }
  }
  // The array form skips what is not an object.
  json::array mixed{json::value(7), json::value(task("wl-code-1", pr1))};
  BOOST_TEST(completed_report(completed("AllChildrenSucceeded"), mixed).status == "in-review");
}

BOOST_AUTO_TEST_CASE(stranded_and_stuck_table) {
  const ClaimFacts none{};
  const ClaimFacts live{true, false, false};
  const ClaimFacts retrying{false, true, false};
  const ClaimFacts creating{false, false, true};
  struct Row {
    const char* given;
    ClaimSweep sweep;
    dispatch::ClaimedIssue issue;
    ClaimFacts facts;
    ClaimActionKind kind;
    bool unlabel = false;
  };
  const Row rows[] = {
      {"stranded", ClaimSweep::Stranded, claimed({"status/in-progress", "priority/p1"}), none, ClaimActionKind::ResetToReady},
      {"stranded, parked before", ClaimSweep::Stranded, claimed({"status/in-progress", "needs-human"}), none,
       ClaimActionKind::ResetToReady, true},
      {"stranded, no status label: the endpoint's default is trusted", ClaimSweep::Stranded, claimed({}), none,
       ClaimActionKind::ResetToReady},
      {"in-review is not stranded", ClaimSweep::Stranded, claimed({"status/in-review"}), none, ClaimActionKind::Leave},
      {"ready is not stranded", ClaimSweep::Stranded, claimed({"status/ready"}), none, ClaimActionKind::Leave},
      {"an open PR", ClaimSweep::Stranded, claimed({"status/in-progress"}, true), none, ClaimActionKind::Leave},
      {"a live Workload", ClaimSweep::Stranded, claimed({"status/in-progress"}), live, ClaimActionKind::Leave},
      {"a retry in flight", ClaimSweep::Stranded, claimed({"status/in-progress"}), retrying, ClaimActionKind::Leave},
      {"a create in flight", ClaimSweep::Stranded, claimed({"status/in-progress"}), creating, ClaimActionKind::Leave},
      {"stuck", ClaimSweep::Stuck, claimed({"status/ready"}), none, ClaimActionKind::Unclaim},
      {"stuck, needs-human does not matter", ClaimSweep::Stuck, claimed({"needs-human", "status/ready"}), none,
       ClaimActionKind::Unclaim},
      {"stuck needs status/ready in its labels", ClaimSweep::Stuck, claimed({}), none, ClaimActionKind::Leave},
      {"an old dispatch answering in-progress", ClaimSweep::Stuck, claimed({"status/in-progress"}), none, ClaimActionKind::Leave},
      {"stuck with an open PR", ClaimSweep::Stuck, claimed({"status/ready"}, true), none, ClaimActionKind::Leave},
      {"stuck with a live Workload", ClaimSweep::Stuck, claimed({"status/ready"}), live, ClaimActionKind::Leave},
      {"stuck while created", ClaimSweep::Stuck, claimed({"status/ready"}), creating, ClaimActionKind::Leave},
      {"stuck while retried", ClaimSweep::Stuck, claimed({"status/ready"}), retrying, ClaimActionKind::Leave},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) {
      const ClaimAction a = classify_claim(r.sweep, r.issue, r.facts);
      BOOST_TEST(static_cast<int>(a.kind) == static_cast<int>(r.kind));
      BOOST_TEST(a.unlabel_needs_human == r.unlabel);
      BOOST_TEST(!a.why.empty());
    }
  }
  BOOST_TEST(claimed_status(claimed({"priority/p1", "status/ready", "status/done"})) == "ready");
  BOOST_TEST(claimed_status(claimed({"priority/p1"})).empty());
}

BOOST_AUTO_TEST_SUITE_END()
