#include "operator/retry_decision.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

using namespace fdb::op;
namespace json = boost::json;

namespace {

// A Failed bridge Workload for o/r#7 in lane local at `attempt`.
json::object failed(std::string attempt = "1", std::string lane = "local", std::string infra = "") {
  json::object w = json::parse(R"({
    "apiVersion": "foreman.llmkube.dev/v1alpha1", "kind": "Workload",
    "metadata": {"name": "wl-o-r-7", "uid": "u1",
                 "labels": {"created-by": "dispatch-bridge", "lane": "LANE"},
                 "annotations": {"foreman.llmkube.dev/issue-id": "iss-7", "foreman.llmkube.dev/agent-name": "foreman-coder"}},
    "spec": {"intent": "Fix it", "repo": "o/r", "issues": [7]},
    "status": {"phase": "Failed", "conditions": [{"type": "Completed", "status": "False", "reason": "ChildrenFailed"}]}
  })").as_object();
  auto& md = w["metadata"].as_object();
  md["labels"].as_object()["lane"] = lane;
  if (attempt != "(missing)") md["annotations"].as_object()["foreman.llmkube.dev/attempt"] = attempt;
  if (!infra.empty()) md["annotations"].as_object()["foreman.llmkube.dev/infra-attempts"] = infra;
  return w;
}

json::value task(std::string name, std::string kind, std::string verdict, std::string extra = "{}",
                 std::string failure_reason = "") {
  json::object t{{"metadata", json::object{{"name", name}}},
                 {"spec", json::object{{"kind", kind},
                                       {"payload", json::object{{"repo", "o/r"}, {"branch", "foreman/wl-o-r-7/issue-7"}}}}},
                 {"status", json::object{{"phase", "Succeeded"}, {"result", json::object{{"extra", json::parse(extra)}}}}}};
  auto& st = t["status"].as_object();
  if (!verdict.empty()) st["verdict"] = verdict;
  if (!failure_reason.empty()) {
    st["phase"] = "Failed";
    st["failureReason"] = failure_reason;
  }
  return t;
}

Config config(int max = 3, std::string escalation = "", bool park = true) {
  Config c;
  c.retry_max_attempts = max;
  c.escalation_lane = std::move(escalation);
  c.park_on_give_up = park;
  return c;
}

const json::value kReviewNoGo = task("wl-o-r-7-review-7-0", "review", "NO-GO",
                                     R"J({"modelSummary":"Tests are missing.",
                                         "modelExtra":{"findings":{"missing_tests":true,"scope_creep":false,
                                                                   "missing_tests_details":"no test for parse()"}}})J");
// As LLMKube's foreman-agent writes a review NO-GO (907ac8d8): the Result envelope's summary
// at status.result.summary, the findings a list in extra.modelExtra.
json::value real_review_no_go(std::string findings) {
  json::value t = task("wl-o-r-7-review-7-0", "review", "NO-GO",
                       R"({"outcome":"MODEL-DECIDED","modelExtra":{"findings":)" + findings + "}}");
  auto& result = t.as_object()["status"].as_object()["result"].as_object();
  result["schemaVersion"] = "foreman.v1";
  result["summary"] = "The change does not handle\nthe empty input case.";
  return t;
}

const json::value kCoderIncomplete =
    task("wl-o-r-7-code-7", "issue-fix", "INCOMPLETE", R"({"error":"ran out of turns","outcome":"INCOMPLETE"})");

// failed() changed in one place, for the guards.
json::object failed_with(const std::function<void(json::object&)>& change) {
  json::object w = failed();
  change(w);
  return w;
}

// A row of every_branch: a Workload, its tasks, its issue's state and the configuration;
// the action decide_retry must choose and what must hold of it.
struct BranchRow {
  const char* given;
  json::object workload;
  json::array tasks;
  IssueState issue;
  Config cfg;
  std::string action;
  std::function<void(const RetryAction&)> check;
};

const auto no_check = [](const RetryAction&) {};
const json::object running = failed_with([](json::object& w) { w["status"].as_object()["phase"] = "Dispatched"; });
const json::object foreign =
    failed_with([](json::object& w) { w["metadata"].as_object()["labels"].as_object()["created-by"] = "someone"; });
const json::object deleting =
    failed_with([](json::object& w) { w["metadata"].as_object()["deletionTimestamp"] = "2026-01-01T00:00:00Z"; });
const json::object executor_error = failed_with([](json::object& w) {
  w["status"].as_object()["conditions"] = json::parse(R"([{"type":"Completed","status":"False","reason":"ExecutorError"}])");
});
const json::object no_issue = failed_with([](json::object& w) {
  w["spec"].as_object().erase("issues");
  w["metadata"].as_object()["name"] = "wl-o-r";
});

const BranchRow kEveryBranch[] = {
      // Guards.
      {"not Failed", running, {}, IssueState::Open, config(), "nothing", no_check},
      {"not a bridge Workload", foreign, {}, IssueState::Open, config(), "nothing", no_check},
      {"being deleted", deleting, {}, IssueState::Open, config(), "nothing", no_check},
      {"no issue number anywhere", no_issue, {}, IssueState::Open, config(), "nothing", no_check},
      // 1. closed issue: nothing, even at the cap and with a declared escalation.
      {"issue closed", failed("1"), {}, IssueState::Closed, config(), "nothing",
       [](const RetryAction& a) { BOOST_TEST(action_reason(a).find("closed") != std::string::npos); }},
      {"issue closed at the cap", failed("3"), {}, IssueState::Closed, config(3, "frontier"), "nothing", no_check},
      // 2. declared escalation: park, no attempt spent, before infra and cap.
      {"DESIGN-DECISION", failed("1"),
       {task("wl-o-r-7-code-7", "issue-fix", "NO-GO", R"({"modelExtra":{"escalation":"DESIGN-DECISION"}})")},
       IssueState::Open, config(), "park",
       [](const RetryAction& a) { BOOST_TEST(action_reason(a).find("DESIGN-DECISION") != std::string::npos); }},
      {"no-technical-fix, any case", failed("1"),
       {task("wl-o-r-7-code-7", "issue-fix", "NO-GO", R"({"modelExtra":{"escalation":" no-technical-fix "}})")},
       IssueState::Open, config(), "park", no_check},
      {"declared, with infra failure too", failed("1"),
       {task("wl-o-r-7-code-7", "issue-fix", "NO-GO", R"({"modelExtra":{"escalation":"DESIGN-DECISION"}})"),
        task("wl-o-r-7-verify-7", "verify", "", "{}", "InfrastructureError")},
       IssueState::Open, config(), "park", no_check},
      {"an unknown escalation is ignored", failed("1"),
       {task("wl-o-r-7-code-7", "issue-fix", "NO-GO", R"({"modelExtra":{"escalation":"PLEASE-HELP"}})")},
       IssueState::Open, config(), "retry", no_check},
      {"a reviewer cannot declare", failed("1"),
       {task("wl-o-r-7-review-7-0", "review", "NO-GO", R"({"modelExtra":{"escalation":"DESIGN-DECISION"}})")},
       IssueState::Open, config(), "retry", no_check},
      // 2b. ALREADY-RESOLVED (LLMKube's Foreman: Failed behind a verifier): park, no attempt.
      {"coder ALREADY-RESOLVED → park", failed("1"),
       {task("wl-o-r-7-code-7", "issue-fix", "NO-GO", R"({"outcome":"ALREADY-RESOLVED","resolvedBy":"abc1234"})"),
        task("wl-o-r-7-review-7-0", "review", "INCOMPLETE")},
       IssueState::Open, config(), "park",
       [](const RetryAction& a) {
         BOOST_TEST(action_reason(a) == "the coder found the issue already resolved: by abc1234");
       }},
      {"already-resolved, any case, no resolvedBy", failed("1"),
       {task("wl-o-r-7-code-7", "issue-fix", "NO-GO", R"({"outcome":"already-resolved"})")},
       IssueState::Open, config(), "park",
       [](const RetryAction& a) { BOOST_TEST(action_reason(a) == "the coder found the issue already resolved"); }},
      {"already-resolved needs the coder's NO-GO", failed("1"),
       {task("wl-o-r-7-code-7", "issue-fix", "GO", R"({"outcome":"ALREADY-RESOLVED"})")},
       IssueState::Open, config(), "retry", no_check},
      {"a reviewer's ALREADY-RESOLVED is not the coder's", failed("1"),
       {task("wl-o-r-7-review-7-0", "review", "NO-GO", R"({"outcome":"ALREADY-RESOLVED"})")},
       IssueState::Open, config(), "retry", no_check},
      {"issue closed beats ALREADY-RESOLVED", failed("1"),
       {task("wl-o-r-7-code-7", "issue-fix", "NO-GO", R"({"outcome":"ALREADY-RESOLVED"})")},
       IssueState::Closed, config(), "nothing", no_check},
      // 3. infrastructure.
      {"infra: task failureReason", failed("2"), {task("wl-o-r-7-code-7", "issue-fix", "", "{}", "InfrastructureError")},
       IssueState::Open, config(), "infra-retry",
       [](const RetryAction& a) {
         const auto& r = std::get<action::InfraRetry>(a);
         BOOST_TEST(r.attempt == 2);  // no attempt spent
         BOOST_TEST(r.infra_attempts == 1);
       }},
      {"infra: condition ExecutorError", executor_error, {}, IssueState::Open, config(), "infra-retry", no_check},
      {"infra: third infra retry", failed("1", "local", "2"), {task("t", "verify", "", "{}", "InfrastructureError")},
       IssueState::Open, config(), "infra-retry",
       [](const RetryAction& a) { BOOST_TEST(std::get<action::InfraRetry>(a).infra_attempts == 3); }},
      {"infra: retries spent → park", failed("1", "local", "3"), {task("t", "verify", "", "{}", "InfrastructureError")},
       IssueState::Open, config(), "park", no_check},
      {"infra at the attempt cap still retries", failed("3"), {task("t", "verify", "", "{}", "InfrastructureError")},
       IssueState::Open, config(3), "infra-retry", no_check},
      {"infra counter garbage reads 0", failed("1", "local", "lots"), {task("t", "verify", "", "{}", "InfrastructureError")},
       IssueState::Open, config(), "infra-retry",
       [](const RetryAction& a) { BOOST_TEST(std::get<action::InfraRetry>(a).infra_attempts == 1); }},
      // 4. the cap.
      {"cap, escalation lane differs", failed("3"), {}, IssueState::Open, config(3, "frontier"), "escalate",
       [](const RetryAction& a) { BOOST_TEST(std::get<action::Escalate>(a).lane == "frontier"); }},
      {"cap, escalation lane by alias", failed("3", "normal"), {}, IssueState::Open, config(3, "escalated"), "escalate",
       [](const RetryAction& a) { BOOST_TEST(std::get<action::Escalate>(a).lane == "frontier"); }},
      {"cap, already in the escalation lane → park", failed("3", "frontier"), {}, IssueState::Open, config(3, "frontier"),
       "park", no_check},
      {"cap, already escalated (alias) → park", failed("3", "escalated"), {}, IssueState::Open, config(3, "frontier"),
       "park", no_check},
      {"cap, no escalation lane → park", failed("3"), {}, IssueState::Open, config(3), "park", no_check},
      {"cap, park off → tombstone", failed("3"), {}, IssueState::Open, config(3, "", false), "tombstone", no_check},
      {"cap, escalation wins over park off", failed("3"), {}, IssueState::Open, config(3, "frontier", false), "escalate",
       no_check},
      {"past the cap", failed("9"), {}, IssueState::Open, config(3, "", false), "tombstone", no_check},
      {"huge attempt gives up", failed("99999999999999999999"), {}, IssueState::Open, config(3, "", false), "tombstone",
       no_check},
      {"cap of 1", failed("1"), {}, IssueState::Open, config(1), "park", no_check},
      // 5. retry.
      {"retry without feedback", failed("1"), {}, IssueState::Open, config(), "retry",
       [](const RetryAction& a) {
         const auto& r = std::get<action::Retry>(a);
         BOOST_TEST(r.attempt == 2);
         BOOST_TEST(r.feedback.empty());
         BOOST_TEST(!r.branch.pushed);
       }},
      {"retry at attempt 3", failed("2"), {kReviewNoGo}, IssueState::Open, config(), "retry",
       [](const RetryAction& a) {
         const auto& r = std::get<action::Retry>(a);
         BOOST_TEST(r.attempt == 3);
         BOOST_TEST(!r.feedback.empty());
         BOOST_TEST(r.branch.pushed);  // a review verdict proves the branch
         BOOST_TEST(r.branch.branch == "foreman/wl-o-r-7/issue-7");
       }},
      {"unknown issue state fails open", failed("1"), {}, IssueState::Unknown, config(), "retry", no_check},
      {"missing attempt reads 1", failed("(missing)"), {}, IssueState::Open, config(), "retry",
       [](const RetryAction& a) { BOOST_TEST(std::get<action::Retry>(a).attempt == 2); }},
      {"garbage attempt reads 1", failed("two"), {}, IssueState::Open, config(), "retry",
       [](const RetryAction& a) { BOOST_TEST(std::get<action::Retry>(a).attempt == 2); }},
      {"attempt 0 reads 1", failed("0"), {}, IssueState::Open, config(), "retry",
       [](const RetryAction& a) { BOOST_TEST(std::get<action::Retry>(a).attempt == 2); }},
      {"negative attempt reads 1", failed("-5"), {}, IssueState::Open, config(), "retry",
       [](const RetryAction& a) { BOOST_TEST(std::get<action::Retry>(a).attempt == 2); }},
      {"issue number from the name", [] {
         auto w = failed("1");
         w["spec"].as_object().erase("issues");
         return w;
       }(), {}, IssueState::Open, config(), "retry", no_check},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(bridge_retry_decision)

BOOST_AUTO_TEST_CASE(every_branch) {
  for (const auto& r : kEveryBranch) {
    BOOST_TEST_CONTEXT(r.given) {
      const auto a = decide_retry(r.workload, r.tasks, r.issue, r.cfg);
      BOOST_TEST(action_name(a) == r.action, "reason: " << action_reason(a));
      BOOST_TEST(!action_reason(a).empty());
      if (action_name(a) == r.action) r.check(a);
    }
  }
}

BOOST_AUTO_TEST_CASE(feedback_extraction) {
  struct Row {
    const char* given;
    json::array tasks;
    std::string expect;
  };
  const Row rows[] = {
      {"no tasks", {}, ""},
      {"review NO-GO: true findings, string findings, summary", {kReviewNoGo},
       "- Reviewer rejected the previous attempt (NO-GO). findings: missing_tests; "
       "missing_tests_details: no test for parse(); Tests are missing."},
      {"review GO is not feedback",
       {task("r", "review", "GO", R"({"modelSummary":"fine","modelExtra":{"findings":{"x":true}}})")}, ""},
      {"review NO-GO with nothing to say", {task("r", "review", "NO-GO", "{}")}, ""},
      {"review NO-GO, findings at extra level",
       {task("r", "review", "NO-GO", R"({"findings":{"b":true,"a":true,"n":1}})")},
       "- Reviewer rejected the previous attempt (NO-GO). findings: a, b"},
      {"review NO-GO, wrong types tolerated",
       {task("r", "review", "NO-GO", R"({"modelSummary":3,"modelExtra":{"findings":"all of them"}})")}, ""},
      {"multi-line summary kept on one line",
       {task("r", "review", "NO-GO", R"({"modelSummary":"line one\nline two\n"})")},
       "- Reviewer rejected the previous attempt (NO-GO). line one line two"},
      {"coder INCOMPLETE: extra.error", {kCoderIncomplete},
       "- Previous coder attempt failed (INCOMPLETE): ran out of turns"},
      {"coder NO-GO: extra.error", {task("c", "issue-fix", "NO-GO", R"({"error":"cannot build"})")},
       "- Previous coder attempt failed (NO-GO): cannot build"},
      {"coder GO is not feedback", {task("c", "issue-fix", "GO", R"({"error":"warning only"})")}, ""},
      {"coder NO-GO without error", {task("c", "issue-fix", "NO-GO", "{}")}, ""},
      {"verify failure is not feedback", {task("v", "verify", "GATE-FAIL", R"({"error":"tests failed"})")}, ""},
      {"foreman-agent's review: findings list, the envelope's summary",
       {real_review_no_go(R"([{"severity":"major","area":"correctness","message":"no empty input",)"
                          R"("file":"parser.cpp","line":42,"suggestion":"return early"},)"
                          R"({"severity":"minor","area":"tests","message":"add a\ntest"},)"
                          R"({"severity":"minor","area":"style"},7])")},
       "- Reviewer rejected the previous attempt (NO-GO). [major/correctness] no empty input (parser.cpp:42); "
       "suggested fix: return early; [minor/tests] add a test; The change does not handle the empty input case."},
      {"foreman-agent's review without findings: the summary alone", {real_review_no_go("[]")},
       "- Reviewer rejected the previous attempt (NO-GO). The change does not handle the empty input case."},
      {"both, in task-name order", {kReviewNoGo, kCoderIncomplete},
       "- Previous coder attempt failed (INCOMPLETE): ran out of turns\n"
       "- Reviewer rejected the previous attempt (NO-GO). findings: missing_tests; "
       "missing_tests_details: no test for parse(); Tests are missing."},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) {
      std::vector<const json::object*> ptrs;
      for (const auto& t : r.tasks) ptrs.push_back(&t.as_object());
      BOOST_TEST(extract_feedback(Tasks(ptrs.data(), ptrs.size())) == r.expect);
    }
  }
  // Feedback flows into the retry action.
  const auto a = decide_retry(failed("1"), json::array{kCoderIncomplete}, IssueState::Open, config());
  BOOST_TEST(std::get<action::Retry>(a).feedback == "- Previous coder attempt failed (INCOMPLETE): ran out of turns");
}

BOOST_AUTO_TEST_CASE(branch_evidence_from_tasks) {
  struct Row {
    const char* given;
    json::array tasks;
    bool pushed;
    std::string why;
  };
  const Row rows[] = {
      {"no tasks", {}, false, "none"},
      {"coder INCOMPLETE only", {kCoderIncomplete}, false, "none"},
      {"pull request URL", {task("v", "verify", "GATE-PASS", R"({"pullRequestURL":"https://github.com/o/r/pull/9"})")},
       true, "pullRequestURL"},
      {"review verdict", {kReviewNoGo}, true, "review verdict"},
      {"review GO", {task("r", "review", "GO")}, true, "review verdict"},
      // LLMKube's Foreman cascade-fails a review behind a coder NO-GO (phase Failed, verdict
      // INCOMPLETE, condition UpstreamFailed): the reviewer never ran, nothing was pushed.
      {"coder NO-GO, review cascade-failed",
       {task("c", "issue-fix", "NO-GO", R"({"outcome":"COMMIT-REJECTED","intendedBranch":"foreman/wl-o-r-7/issue-7"})"),
        task("r", "review", "INCOMPLETE")},
       false, "none"},
      {"review Skipped (behind ALREADY-RESOLVED)", {task("r", "review", "Skipped")}, false, "none"},
      {"coder GO", {task("c", "issue-fix", "GO")}, true, "coder GO"},
      {"push rejected (outcome)", {task("c", "issue-fix", "NO-GO", R"({"outcome":"PUSH-FAILED"})")}, true, "push rejected"},
      {"push rejected (error)",
       {task("c", "issue-fix", "NO-GO", R"J({"error":"! [rejected] (non-fast-forward)"})J")}, true, "push rejected"},
      {"verify GATE-FAIL alone", {task("v", "verify", "GATE-FAIL")}, false, "none"},
  };
  const auto wl = read_view(failed());
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) {
      std::vector<const json::object*> ptrs;
      for (const auto& t : r.tasks) ptrs.push_back(&t.as_object());
      const auto e = branch_evidence(wl, Tasks(ptrs.data(), ptrs.size()));
      BOOST_TEST(e.pushed == r.pushed);
      BOOST_TEST(e.why == r.why);
      BOOST_TEST(e.branch == (r.pushed ? "foreman/wl-o-r-7/issue-7" : ""));
    }
  }
  // Without a payload branch on the task, the deterministic branch name is used.
  json::value t = task("c", "issue-fix", "GO");
  t.as_object()["spec"].as_object().erase("payload");
  const json::object* p = &t.as_object();
  const auto e = branch_evidence(wl, Tasks(&p, 1));
  BOOST_TEST(e.branch == "foreman/wl-o-r-7/issue-7");
}

BOOST_AUTO_TEST_CASE(branch_evidence_from_github) {
  const auto wl = read_view(failed());
  const BranchEvidence none{false, "", "none"};
  const BranchEvidence pushed{true, "foreman/custom", "coder GO"};
  // The branch asked about: the tasks' one, else the deterministic name; none without an issue.
  BOOST_TEST(branch_to_check(wl, pushed) == "foreman/custom");
  BOOST_TEST(branch_to_check(wl, none) == "foreman/wl-o-r-7/issue-7");
  WorkloadView no_issue = wl;
  no_issue.number = 0;
  BOOST_TEST(branch_to_check(no_issue, none).empty());

  struct Row {
    const char* given;
    BranchEvidence tasks;
    std::string branch;
    std::optional<bool> exists;
    bool pushed;
    std::string branch_out;
    std::string why;
    bool authenticated = true;
  };
  const Row rows[] = {
      {"tasks say nothing, GitHub has it", none, "foreman/wl-o-r-7/issue-7", true, true, "foreman/wl-o-r-7/issue-7",
       "GitHub: the branch exists"},
      {"tasks say pushed, GitHub has no such branch", pushed, "foreman/custom", false, false, "",
       "GitHub: no branch foreman/custom"},
      {"both agree", pushed, "foreman/custom", true, true, "foreman/custom", "GitHub: the branch exists"},
      {"GitHub unavailable: the tasks stand", pushed, "foreman/custom", std::nullopt, true, "foreman/custom",
       "coder GO (GitHub not asked or unavailable)"},
      {"GitHub unavailable, nothing pushed", none, "foreman/wl-o-r-7/issue-7", std::nullopt, false, "",
       "none (GitHub not asked or unavailable)"},
      // Without a token (issue 18 item 6): a branch shown is evidence; "no branch" is not
      // (a private repository answers 404 too), and a rate limit (nullopt) leaves the tasks.
      {"unauthenticated, GitHub has it", none, "foreman/wl-o-r-7/issue-7", true, true, "foreman/wl-o-r-7/issue-7",
       "GitHub: the branch exists", false},
      {"unauthenticated 404: the tasks stand", pushed, "foreman/custom", false, true, "foreman/custom",
       "coder GO (GitHub, unauthenticated, shows no branch foreman/custom: a private repository looks the same)", false},
      {"unauthenticated 404, nothing pushed", none, "foreman/wl-o-r-7/issue-7", false, false, "",
       "none (GitHub, unauthenticated, shows no branch foreman/wl-o-r-7/issue-7: a private repository looks the same)",
       false},
      {"unauthenticated, rate limited: the tasks stand", pushed, "foreman/custom", std::nullopt, true, "foreman/custom",
       "coder GO (GitHub not asked or unavailable)", false},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) {
      const auto e = github_branch_evidence(r.tasks, r.branch, r.exists, r.authenticated);
      BOOST_TEST(e.pushed == r.pushed);
      BOOST_TEST(e.branch == r.branch_out);
      BOOST_TEST(e.why == r.why);
    }
  }
  // Only retries carry branch evidence.
  RetryAction retry = action::Retry{};
  RetryAction infra = action::InfraRetry{};
  RetryAction park = action::Park{"x"};
  BOOST_TEST(branch_of(retry) == &std::get<action::Retry>(retry).branch);
  BOOST_TEST(branch_of(infra) == &std::get<action::InfraRetry>(infra).branch);
  BOOST_TEST(branch_of(park) == nullptr);
}

BOOST_AUTO_TEST_CASE(reading_the_workload) {
  const auto f = read_view(failed("2", "escalated", "1"));
  BOOST_TEST(f.name == "wl-o-r-7");
  BOOST_TEST(f.repo == "o/r");
  BOOST_TEST(f.number == 7);
  BOOST_TEST(f.title == "Fix it");
  BOOST_TEST(f.lane == "frontier");
  BOOST_TEST(f.issue_id == "iss-7");
  BOOST_TEST(f.attempt == 2);
  BOOST_TEST(f.infra_attempts == 1);
  BOOST_TEST(f.phase == "Failed");
  BOOST_TEST(f.bridge_owned);
  BOOST_TEST(!f.terminating);
  // Wrong types everywhere: defaults, no throw.
  const auto g = read_view(json::parse(R"({"metadata":{"name":5,"labels":[],"annotations":"x"},"spec":{"issues":"7"},
                                               "status":{"phase":1}})").as_object());
  BOOST_TEST(g.name.empty());
  BOOST_TEST(g.number == 0);
  BOOST_TEST(g.attempt == 1);
  BOOST_TEST(!g.bridge_owned);
  BOOST_TEST(action_name(decide_retry(json::object{}, json::array{}, IssueState::Open, config())) == "nothing");
}

BOOST_AUTO_TEST_CASE(rebuilding_after_a_decision) {
  const auto wl = read_view(failed("2", "local", "1"));
  struct Row {
    const char* given;
    json::array tasks;
    json::object workload;
    bool rebuild;
    int attempt;
    int infra;
    bool pipeline;
    std::string revise;
  };
  json::object infra = failed("2", "local", "1");
  const Row rows[] = {
      {"retry with feedback and a pushed branch", {kReviewNoGo}, failed("2", "local", "1"), true, 3, 0, true,
       "foreman/wl-o-r-7/issue-7"},
      {"retry without anything", {}, failed("1"), true, 2, 0, false, ""},
      // Evidence without feedback (a push rejected as non-fast-forward: a stale branch):
      // pipeline mode carries reviseFromBranch, branchStrategy and allowOverwrite.
      {"retry with a rejected push and no feedback",
       {task("wl-o-r-7-code-7", "issue-fix", "", R"({"outcome":"PUSH-FAILED"})")}, failed("1"), true, 2, 0, true,
       "foreman/wl-o-r-7/issue-7"},
      {"retry after a coder GO and no feedback", {task("wl-o-r-7-code-7", "issue-fix", "GO")}, failed("1"), true, 2, 0,
       true, "foreman/wl-o-r-7/issue-7"},
      // A failed coder that pushed nothing: no allowOverwrite of any kind.
      {"retry after a coder that pushed nothing", {kCoderIncomplete}, failed("1"), true, 2, 0, true, ""},
      {"infra retry keeps the attempt", {task("t", "verify", "", "{}", "InfrastructureError")}, infra, true, 2, 2, false, ""},
      {"park: nothing to build", {}, failed("3"), false, 0, 0, false, ""},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) {
      const auto a = decide_retry(r.workload, r.tasks, IssueState::Open, config());
      const auto req = rebuild_request(read_view(r.workload), a);
      BOOST_TEST(req.has_value() == r.rebuild);
      if (!req) continue;
      BOOST_TEST(req->issue.repo == "o/r");
      BOOST_TEST(req->issue.number == 7);
      BOOST_TEST(req->issue.title == "Fix it");
      BOOST_TEST(req->issue.lane == "local");
      BOOST_TEST(req->issue.issue_id == "iss-7");
      BOOST_TEST(req->attempt == r.attempt);
      BOOST_TEST(req->infra_attempts == r.infra);
      BOOST_TEST(req->revise_from_branch == r.revise);
      const auto m = fdb::dispatch::build_workload(*req, fdb::dispatch::WorkloadSettings{});
      BOOST_TEST(m.at("metadata").at("name") == "wl-o-r-7");  // the same name, so the same branch
      BOOST_TEST(m.at("spec").as_object().contains("pipeline") == r.pipeline);
      // allowOverwrite exactly when a branch is revised from, never bare.
      BOOST_TEST((json::serialize(m).find("allowOverwrite") != std::string::npos) == !r.revise.empty());
      BOOST_TEST(m.at("metadata").at("annotations").at("foreman.llmkube.dev/attempt") ==
                 json::value(std::to_string(r.attempt)));
    }
  }
  const auto text = park_comment(wl, "the coder declared DESIGN-DECISION");
  BOOST_TEST(text.rfind("Needs a human decision: the coder declared DESIGN-DECISION", 0) == 0u);
  BOOST_TEST(text.find("https://github.com/o/r/issues/7") != std::string::npos);
  BOOST_TEST(text.find("wl-o-r-7") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
