// The PR-fix queue's pure pieces as tables: reading items (aliases, malformed ones), the
// failure signature, the Workload name and manifest (against the CRD), and every branch
// of the decision.
#include "crd_schema.hpp"
#include "dispatch/prfix.hpp"
#include "workload_fixture.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

using namespace fdb::dispatch;
namespace json = boost::json;
using fdb::test::hash8;

namespace {

const char* kItem = R"J({"id":"o/r#12","repo":"o/r","pr":12,"issue":7,"branch":"foreman/wl-o-r-7/issue-7",
  "url":"https://github.com/o/r/pull/12","title":"Fix the parser","headSha":"abc123","lane":"NORMAL",
  "type":"review-feedback","status":"QUEUED","reason":"changes requested",
  "feedback":["Handle the empty input (line 42)","Rename tmp2"],"generation":3})J";

PrFixItem item() {
  auto i = parse_prfix_item(json::parse(kItem));
  if (const auto* bad = std::get_if<ParseError>(&i)) BOOST_FAIL(bad->what());
  return std::get<PrFixItem>(i);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(prfix_queue)

BOOST_AUTO_TEST_CASE(items_are_read_tolerantly_and_malformed_ones_named) {
  const PrFixItem i = item();
  BOOST_TEST(i.repo == "o/r");
  BOOST_TEST(i.pr == 12);
  BOOST_TEST(i.issue == 7);
  BOOST_TEST(i.lane == "NORMAL");
  BOOST_TEST(i.head_sha == "abc123");
  BOOST_TEST(i.feedback.size() == 2u);
  BOOST_TEST(i.generation == 3);

  struct Row {
    const char* given;
    std::string json;
    bool ok;
    std::string error;  // a part of it
  };
  const Row rows[] = {
      {"aliases and a string pr", R"({"repoFullName":"o/r","number":"12","branch":"b","lane":"escalated"})", true, ""},
      {"no lane is NORMAL", R"({"repo":"o/r","pr":1,"branch":"b"})", true, ""},
      {"feedback as one string", R"({"repo":"o/r","pr":1,"branch":"b","feedback":"one"})", true, ""},
      {"not an object", "[1]", false, "(item): not an object"},
      {"no repo", R"({"pr":1,"branch":"b"})", false, "repo"},
      {"repo not owner/name", R"({"repo":"o/r/x","pr":1,"branch":"b"})", false, "repo"},
      {"pr zero", R"({"repo":"o/r","pr":0,"branch":"b"})", false, "pr"},
      {"pr negative", R"({"repo":"o/r","pr":-4,"branch":"b"})", false, "pr"},
      {"pr garbage", R"({"repo":"o/r","pr":"12a","branch":"b"})", false, "pr"},
      {"pr a float", R"({"repo":"o/r","pr":1.5,"branch":"b"})", false, "pr"},
      {"no branch", R"({"repo":"o/r","pr":1})", false, "branch"},
      {"unknown lane", R"({"repo":"o/r","pr":1,"branch":"b","lane":"URGENT"})", false, "lane"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) {
      const auto got = parse_prfix_item(json::parse(r.json));
      BOOST_TEST(std::holds_alternative<PrFixItem>(got) == r.ok);
      if (!r.ok) {
        const ParseError& e = std::get<ParseError>(got);
        BOOST_TEST(e.what().find(r.error) != std::string::npos, e.what());
        BOOST_TEST(e.index == -1);
      }
    }
  }
  const auto esc = std::get<PrFixItem>(parse_prfix_item(json::parse(rows[0].json)));
  BOOST_TEST(esc.lane == "ESCALATED");
  BOOST_TEST(esc.pr == 12);

  // A queue: the good items kept in order, each malformed one named; a non-array refused.
  const auto q = parse_prfix_queue(json::parse(R"([{"repo":"o/r","pr":1,"branch":"b"}, 5, {"repo":"o/r"},
                                                   {"repo":"o/r","pr":2,"branch":"c"}])"));
  BOOST_REQUIRE(std::holds_alternative<PrFixQueue>(q));
  const auto& queue = std::get<PrFixQueue>(q);
  BOOST_TEST(queue.items.size() == 2u);
  BOOST_TEST(queue.items[1].pr == 2);
  BOOST_REQUIRE(queue.malformed.size() == 2u);
  BOOST_TEST(queue.malformed[0].what() == "item 1: (item): not an object");
  BOOST_TEST(queue.malformed[0].index == 1);
  BOOST_TEST(queue.malformed[1].what() == "item 2: pr: missing or not a positive integer");
  BOOST_TEST(std::holds_alternative<PrFixQueue>(parse_prfix_queue(json::parse(R"({"items":[]})"))));
  BOOST_TEST(std::holds_alternative<ParseError>(parse_prfix_queue(json::parse(R"({"error":"x"})"))));
  BOOST_TEST(std::get<ParseError>(parse_prfix_queue(json::parse("null"))).what() ==
             "answer: expected an array (or an object with an items array)");
}

BOOST_AUTO_TEST_CASE(failure_signatures) {
  PrFixItem a = item();
  const std::string sig = failure_signature(a);
  BOOST_TEST(sig.rfind("review-feedback::", 0) == 0u);
  BOOST_TEST(sig.size() == std::string("review-feedback::").size() + 8);
  // The same complaints: another line number, case, blanks, order — the same signature.
  PrFixItem b = a;
  b.feedback = {"rename   TMP2", "Handle the empty input (line 57)"};
  BOOST_TEST(failure_signature(b) == sig);
  // A new complaint: a new signature.
  PrFixItem c = a;
  c.feedback.push_back("Add a test");
  BOOST_TEST(failure_signature(c) != sig);
  // No feedback, no type.
  PrFixItem d = a;
  d.feedback.clear();
  d.type.clear();
  BOOST_TEST(failure_signature(d) == "unknown::no-feedback");
  d.feedback = {"   "};
  BOOST_TEST(failure_signature(d) == "unknown::no-feedback");
}

BOOST_AUTO_TEST_CASE(names) {
  const std::string a60(60, 'a');
  struct Row {
    const char* given;
    std::string repo;
    std::int64_t pr;
    std::string expect;
  };
  const Row rows[] = {
      {"plain", "o/r", 12, "prfix-o-r-12"},
      {"odd characters: the mapping changed it, hashed", "My_Org/repo.JS", 3,
       "prfix-my-org-repo-js-3-" + hash8("my_org/repo.js#3")},
      // "prfix-o-" + 48 + "-123456" = 63.
      {"exactly 63", "o/" + std::string(48, 'a'), 123456, "prfix-o-" + std::string(48, 'a') + "-123456"},
      {"64: cut and hashed", "o/" + std::string(49, 'a'), 123456,
       ("prfix-o-" + std::string(49, 'a')).substr(0, 54) + "-" + hash8("o/" + std::string(49, 'a') + "#123456")},
      {"long", "o/" + a60, 7, ("prfix-o-" + a60).substr(0, 54) + "-" + hash8("o/" + a60 + "#7")},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) {
      const std::string n = prfix_workload_name(r.repo, r.pr);
      BOOST_TEST(n == r.expect);
      BOOST_TEST(n.size() <= 63u);
      BOOST_TEST(n.back() != '-');
    }
  }
  BOOST_TEST(rows[2].expect.size() == 63u);
  // Never the name of the issue Workload of the same number.
  BOOST_TEST(prfix_workload_name("o/r", 7) != workload_name("o/r", 7));
}

BOOST_AUTO_TEST_CASE(the_manifest) {
  WorkloadSettings ws;
  PrFixSettings ps;
  ps.lane_agents = {{"NORMAL", {"coder"}}, {"ESCALATED", {"coder-frontier"}}};
  for (const bool verify : {true, false}) {
    for (const std::string lane : {"NORMAL", "ESCALATED"}) {
      BOOST_TEST_CONTEXT("verify " << verify << ", lane " << lane) {
        ws.verify_enabled = verify;
        const json::object w = build_prfix_workload(PrFixRequest{item(), lane, 2}, ws, ps);
        const auto errors = fdb::test::validate_against_crd(json::value(w), fdb::test::workload_crd_path());
        BOOST_TEST(errors.empty(), "manifest rejected by the CRD: " << (errors.empty() ? "" : errors.front()));
        const auto& md = w.at("metadata").as_object();
        BOOST_TEST(md.at("name").as_string() == "prfix-o-r-12");
        BOOST_TEST(md.at("labels").at("created-by").as_string() == "dispatch-bridge-prfix");
        const auto& ann = md.at("annotations").as_object();
        BOOST_TEST(ann.at("foreman.llmkube.dev/attempt").as_string() == "2");
        BOOST_TEST(ann.at("foreman.llmkube.dev/prfix-lane").as_string() == lane);
        BOOST_TEST(ann.at("foreman.llmkube.dev/prfix-pr").as_string() == "12");
        BOOST_TEST(ann.at("foreman.llmkube.dev/prfix-signature").as_string() == failure_signature(item()));
        BOOST_TEST(ann.at("foreman.llmkube.dev/prfix-head-sha").as_string() == "abc123");
        const auto& steps = w.at("spec").at("pipeline").as_array();
        BOOST_REQUIRE(steps.size() == (verify ? 2u : 1u));
        const auto& fix = steps[0].as_object();
        BOOST_TEST(fix.at("name").as_string() == "fix-12");
        BOOST_TEST(fix.at("kind").as_string() == "issue-fix");
        BOOST_TEST(fix.at("agentRef").at("name").as_string() == (lane == "NORMAL" ? "coder" : "coder-frontier"));
        const auto& p = fix.at("payload").as_object();
        BOOST_TEST(p.at("branch").as_string() == "foreman/wl-o-r-7/issue-7");
        BOOST_TEST(p.at("reviseFromBranch").as_string() == "foreman/wl-o-r-7/issue-7");
        BOOST_TEST(p.at("branchStrategy").as_string() == "rebase");
        BOOST_TEST(p.at("issue").as_int64() == 7);
        const std::string prompt(p.at("prompt").as_string());
        BOOST_TEST(prompt.rfind(std::string(kPrFixPromptPrefix), 0) == 0u);
        BOOST_TEST(prompt.find("- Handle the empty input (line 42)") != std::string::npos);
        BOOST_TEST(prompt.find("https://github.com/o/r/pull/12") != std::string::npos);
        if (verify) {
          BOOST_TEST(steps[1].at("kind").as_string() == "verify");
          BOOST_TEST(steps[1].at("dependsOn").as_array()[0].as_string() == "fix-12");
        }
        // Read back as the decision reads it.
        const PrFixWorkload back = read_prfix_workload(w);
        BOOST_TEST(back.lane == lane);
        BOOST_TEST(back.attempt == 2);
        BOOST_TEST(back.signature == failure_signature(item()));
      }
    }
  }
}

// The Python bridge's check_pr_mergeable, as a table.
BOOST_AUTO_TEST_CASE(merge_status_as_the_python_read_it) {
  struct Row {
    const char* given;
    std::optional<PrState> pr;
    MergeStatus status;
  };
  const Row rows[] = {
      {"unknown", std::nullopt, MergeStatus::ChecksPending},
      {"merged", PrState{false, true, "s", "clean", ChecksState::Passed}, MergeStatus::Merged},
      {"closed", PrState{false, false, "s", "clean", ChecksState::Passed}, MergeStatus::Closed},
      {"dirty", PrState{true, false, "s", "dirty", ChecksState::Passed}, MergeStatus::Dirty},
      {"conflicting", PrState{true, false, "s", "conflicting", std::nullopt}, MergeStatus::Dirty},
      {"a failing check", PrState{true, false, "s", "unstable", ChecksState::Failed}, MergeStatus::ChecksFailed},
      {"a failing check, blocked", PrState{true, false, "s", "blocked", ChecksState::Failed}, MergeStatus::ChecksFailed},
      {"a pending check", PrState{true, false, "s", "clean", ChecksState::Pending}, MergeStatus::ChecksPending},
      {"check runs unreadable", PrState{true, false, "s", "clean", std::nullopt}, MergeStatus::ChecksPending},
      {"blocked, checks passed (awaiting review)", PrState{true, false, "s", "blocked", ChecksState::Passed}, MergeStatus::Blocked},
      {"unstable, no checks", PrState{true, false, "s", "unstable", ChecksState::None}, MergeStatus::Blocked},
      {"clean, checks passed", PrState{true, false, "s", "clean", ChecksState::Passed}, MergeStatus::Ok},
      {"clean, no checks", PrState{true, false, "s", "clean", ChecksState::None}, MergeStatus::Ok},
      {"no head SHA: checks not read", PrState{true, false, "", "", std::nullopt}, MergeStatus::Ok},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) { BOOST_TEST(to_string(merge_status(r.pr)) == to_string(r.status)); }
  }
  struct Runs {
    const char* json;
    std::optional<ChecksState> state;
  };
  const Runs runs[] = {
      {R"({"check_runs":[]})", ChecksState::None},
      {R"({"check_runs":[{"status":"completed","conclusion":"success"},{"status":"completed","conclusion":"skipped"}]})",
       ChecksState::Passed},
      {R"({"check_runs":[{"status":"completed","conclusion":"success"},{"status":"in_progress","conclusion":null}]})",
       ChecksState::Pending},
      {R"({"check_runs":[{"status":"queued"},{"status":"completed","conclusion":"TIMED_OUT"}]})", ChecksState::Failed},
      {R"({"check_runs":[{"status":"completed","conclusion":"action_required"}]})", ChecksState::Failed},
      {R"({"check_runs":[{"status":"weird"}]})", ChecksState::Pending},  // no conclusion, not completed
      {R"({"check_runs":[7]})", ChecksState::Pending},
      {R"({"total_count":0})", std::nullopt},
      {R"([])", std::nullopt},
  };
  for (const auto& r : runs) {
    BOOST_TEST_CONTEXT(r.json) {
      const auto got = summarize_check_runs(json::parse(r.json));
      BOOST_TEST(got.has_value() == r.state.has_value());
      if (got && r.state) BOOST_TEST(static_cast<int>(*got) == static_cast<int>(*r.state));
    }
  }
}

namespace {

// The fix Workload a row of the decision table meets: its phase, lane, attempt and recorded
// failure signature (nullptr: the item's own).
struct FixRow {
  const char* phase;
  const char* lane;
  int attempt;
  const char* signature = nullptr;
};

std::optional<PrFixWorkload> fix_workload(const std::optional<FixRow>& f, const std::string& item_signature) {
  if (!f) return std::nullopt;
  return PrFixWorkload{f->phase, f->lane, f->attempt, f->signature ? std::string(f->signature) : item_signature};
}

const std::optional<PrState> kOpen = PrState{true, false, "abc123", "clean", ChecksState::None};
const std::optional<PrState> kUnknown;

struct DecisionRow {
  const char* given;
  std::optional<FixRow> fix;
  std::optional<PrState> pr;
  std::string kind;    // create, mark, retry, wait
  std::string status;  // mark: the status
  std::string lane;    // create/retry: the lane
  int attempt;         // create/retry: the attempt
};

const DecisionRow kDecisions[] = {
    {"nothing yet, PR open", std::nullopt, kOpen, "create", "", "NORMAL", 1},
    {"nothing yet, PR state unknown (no GitHub token)", std::nullopt, kUnknown, "create", "", "NORMAL", 1},
    {"PR merged: nothing left to fix", std::nullopt, PrState{false, true, "abc123"}, "mark", "FIXED", "", 0},
    {"PR merged while a fix runs", FixRow{"Dispatched", "NORMAL", 1}, PrState{false, true, "abc123"}, "mark", "FIXED",
     "", 0},
    {"PR closed", FixRow{"Dispatched", "NORMAL", 1}, PrState{false, false, "abc123"}, "mark", "STALE", "", 0},
    {"PR head moved before any fix", std::nullopt, PrState{true, false, "def456"}, "mark", "STALE", "", 0},
    {"a fix running (its own push moves the head)", FixRow{"Dispatched", "NORMAL", 1}, PrState{true, false, "def456"},
     "wait", "", "", 0},
    // Issue 18 item 7: FIXED only when the PR is mergeable and its checks pass.
    {"fixed, no checks", FixRow{"Completed", "NORMAL", 1}, kOpen, "mark", "FIXED", "", 0},
    {"fixed, checks passed", FixRow{"Completed", "NORMAL", 1}, PrState{true, false, "abc123", "clean", ChecksState::Passed},
     "mark", "FIXED", "", 0},
    {"completed, PR state unknown: not verified, waits", FixRow{"Completed", "ESCALATED", 2}, kUnknown, "wait", "", "", 0},
    {"completed, PR unknown at the cap: the ladder", FixRow{"Completed", "NORMAL", 3}, kUnknown, "retry", "", "ESCALATED", 1},
    {"completed, checks pending: waits", FixRow{"Completed", "NORMAL", 1},
     PrState{true, false, "abc123", "unstable", ChecksState::Pending}, "wait", "", "", 0},
    {"completed, check runs unreadable: waits", FixRow{"Completed", "NORMAL", 1},
     PrState{true, false, "abc123", "clean", std::nullopt}, "wait", "", "", 0},
    {"completed, blocked for a review: waits", FixRow{"Completed", "NORMAL", 2},
     PrState{true, false, "abc123", "blocked", ChecksState::Passed}, "wait", "", "", 0},
    {"completed, blocked at the cap in ESCALATED", FixRow{"Completed", "ESCALATED", 3},
     PrState{true, false, "abc123", "blocked", ChecksState::None}, "mark", "BLOCKED", "", 0},
    {"completed, checks failed: a failed fix", FixRow{"Completed", "NORMAL", 1},
     PrState{true, false, "abc123", "unstable", ChecksState::Failed}, "retry", "", "NORMAL", 2},
    {"completed, merge conflict", FixRow{"Completed", "NORMAL", 1}, PrState{true, false, "abc123", "dirty", ChecksState::Passed},
     "mark", "BLOCKED", "", 0},
    {"failed, merge conflict", FixRow{"Failed", "NORMAL", 1}, PrState{true, false, "abc123", "dirty", std::nullopt}, "mark",
     "BLOCKED", "", 0},
    {"failed, checks pending, budget left: waits", FixRow{"Failed", "NORMAL", 1},
     PrState{true, false, "abc123", "clean", ChecksState::Pending}, "wait", "", "", 0},
    {"failed, budget left", FixRow{"Failed", "NORMAL", 1}, kOpen, "retry", "", "NORMAL", 2},
    {"failed at the cap in NORMAL: escalated", FixRow{"Failed", "NORMAL", 3}, kOpen, "retry", "", "ESCALATED", 1},
    {"failed, budget left in ESCALATED", FixRow{"Failed", "ESCALATED", 2}, kOpen, "retry", "", "ESCALATED", 3},
    {"failed at the cap in ESCALATED", FixRow{"Failed", "ESCALATED", 3}, kOpen, "mark", "BLOCKED", "", 0},
    {"failed for another signature: a fresh budget", FixRow{"Failed", "ESCALATED", 3, "review-feedback::00000000"}, kOpen,
     "retry", "", "NORMAL", 1},
    {"failed, no signature recorded", FixRow{"Failed", "NORMAL", 3, ""}, kOpen, "retry", "", "NORMAL", 1},
};

// The action `a` is the row's: its kind, and the status, lane and attempt it names.
void check_decision(const PrFixAction& a, const DecisionRow& r) {
  if (r.kind == "create") {
    BOOST_REQUIRE(std::holds_alternative<prfix::Create>(a));
    BOOST_TEST(std::get<prfix::Create>(a).request.lane == r.lane);
    BOOST_TEST(std::get<prfix::Create>(a).request.attempt == r.attempt);
  } else if (r.kind == "mark") {
    BOOST_REQUIRE(std::holds_alternative<prfix::Mark>(a));
    BOOST_TEST(std::get<prfix::Mark>(a).status == r.status);
    BOOST_TEST(!std::get<prfix::Mark>(a).note.empty());
  } else if (r.kind == "retry") {
    BOOST_REQUIRE(std::holds_alternative<prfix::Retry>(a));
    BOOST_TEST(std::get<prfix::Retry>(a).request.lane == r.lane);
    BOOST_TEST(std::get<prfix::Retry>(a).request.attempt == r.attempt);
    BOOST_TEST(!std::get<prfix::Retry>(a).reason.empty());
  } else {
    BOOST_TEST(std::holds_alternative<prfix::Wait>(a));
  }
}

PrFixSettings three_attempts() {
  PrFixSettings s;
  s.max_attempts = 3;
  return s;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_branch_of_the_decision) {
  const PrFixSettings s = three_attempts();
  const PrFixItem it = item();
  const std::string sig = failure_signature(it);
  for (const auto& r : kDecisions) {
    BOOST_TEST_CONTEXT(r.given) { check_decision(decide_prfix(it, fix_workload(r.fix, sig), std::nullopt, r.pr, s), r); }
  }
}

// An item queued in ESCALATED starts there.
BOOST_AUTO_TEST_CASE(an_item_queued_in_escalated_starts_there) {
  PrFixItem esc = item();
  esc.lane = "ESCALATED";
  const PrFixAction a = decide_prfix(esc, std::nullopt, std::nullopt, kUnknown, three_attempts());
  BOOST_TEST(std::get<prfix::Create>(a).request.lane == "ESCALATED");
}

// After a retry's delete, the recorded ladder position is where the next fix starts —
// for the same signature only.
BOOST_AUTO_TEST_CASE(a_recorded_ladder_position_is_where_the_next_fix_starts) {
  const PrFixSettings s = three_attempts();
  const PrFixItem it = item();
  const auto pending = fix_workload(FixRow{"", "ESCALATED", 2}, failure_signature(it));
  const PrFixAction b = decide_prfix(it, std::nullopt, pending, kOpen, s);
  BOOST_TEST(std::get<prfix::Create>(b).request.lane == "ESCALATED");
  BOOST_TEST(std::get<prfix::Create>(b).request.attempt == 2);
  const auto other = fix_workload(FixRow{"", "ESCALATED", 2, "review-feedback::00000000"}, failure_signature(it));
  const PrFixAction c = decide_prfix(it, std::nullopt, other, kOpen, s);
  BOOST_TEST(std::get<prfix::Create>(c).request.lane == "NORMAL");
  BOOST_TEST(std::get<prfix::Create>(c).request.attempt == 1);
}

BOOST_AUTO_TEST_SUITE_END()
