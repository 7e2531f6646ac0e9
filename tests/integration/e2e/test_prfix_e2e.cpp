// The PR-fix queue end to end: the bridge binary with PR_FIX_ENABLED against kube-sim's
// Kubernetes, Foreman, dispatch and GitHub sides. A fix that completes on a mergeable pull
// request marks its item FIXED; fixes that keep failing climb the ladder (NORMAL, then
// ESCALATED) and end BLOCKED, each next fix created only after the last is gone; a closed
// pull request, or one whose head moved, is STALE without a fix, a merged one FIXED; a
// merge conflict is BLOCKED; with GitHub down a completed fix is never FIXED unverified;
// dispatch refusing marks delays an item, never loses it; the PR-fix Workloads never
// reach the issue retry flow.
#include "support/bridge_process.hpp"
#include "support/sim_client.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <csignal>

namespace json = boost::json;
using namespace fdb::test;
using namespace std::chrono_literals;

namespace {

std::string prfix_status(const SimClient& api, int pr) {
  const json::value st = api.dispatch_state();
  for (const auto& p : st.at("prFix").as_array()) {
    if (p.at("pr").as_int64() == pr) return std::string(p.at("status").as_string());
  }
  return {};
}

std::vector<json::object> creates(const SimClient& api, const std::string& name) {
  std::vector<json::object> out;
  for (auto& r : api.workload_records(name)) {
    if (r.at("op").as_string() == "create") out.push_back(r);
  }
  return out;
}

// The bridge with PR_FIX_ENABLED against kube-sim and its GitHub side: the named steps
// of the scenario.
struct PrFixWorld {
  Sim sim = start_test_sim("prfix");
  SimClient api{sim.api_url};
  SimClient gh{sim.github_url, "gh"};
  const std::string log = temp_dir("bridge-prfix") + "/bridge.log";
  std::unique_ptr<Process> bridge;

  // A queued item for `pr` of issue `issue` on branch fix-PR at `sha`.
  void queue_item(int pr, int issue, const std::string& sha, const char* feedback) {
    api.post("/_sim/dispatch/prfix", json::object{{"repo", "o/p"}, {"pr", pr}, {"issue", issue},
                                                  {"branch", "fix-" + std::to_string(pr)}, {"headSha", sha},
                                                  {"title", "Fix it"}, {"feedback", json::array{feedback}}});
  }
  // 21 completes; 22 fails every time; 23's pull request is closed; 24's head moved.
  void seed_fixed_failing_closed_and_moved() {
    api.set_issue_rule("o/p", 501, {{"*", "succeed"}});
    api.set_issue_rule("o/p", 502, {{"*", "fail-coder"}});
    const struct {
      int pr, issue;
      const char* sha;
      const char* state;
      const char* head;
    } items[] = {{21, 501, "aaa", "open", "aaa"}, {22, 502, "bbb", "open", "bbb"}, {23, 503, "ccc", "closed", "ccc"},
                 {24, 504, "ddd", "open", "eee"}};
    for (const auto& i : items) {
      queue_item(i.pr, i.issue, i.sha, "Handle the empty input");
      gh.post("/_sim/github/pull", json::object{{"repo", "o/p"}, {"number", i.pr}, {"state", i.state},
                                                {"headRef", "fix-" + std::to_string(i.pr)}, {"headSha", i.head}});
    }
  }
  // 25: GitHub cannot answer about it (and dispatch refuses the first marks, below). As
  // the Python bridge decided (#93), a fix is never FIXED off an unverified success: each
  // completed fix counts as not verified, the ladder climbs, and the item ends BLOCKED —
  // marked once dispatch answers again.
  void seed_unverifiable() {
    api.set_issue_rule("o/p", 505, {{"*", "succeed"}});
    api.post("/_sim/dispatch/prfix", json::object{{"repo", "o/p"}, {"pr", 25}, {"issue", 505}, {"branch", "fix-25"},
                                                  {"headSha", "fff"}, {"feedback", json::array{"Add a test"}}});
    gh.post("/_sim/github/fault", json::object{{"path", "/repos/o/p/pulls/25"}, {"count", 1000}, {"status", 503}});
  }
  // 26: the fix completes, but the pull request has a merge conflict: BLOCKED at once.
  // 27: merged before any fix: FIXED, no fix made.
  void seed_conflicted_and_merged() {
    api.set_issue_rule("o/p", 506, {{"*", "succeed"}});
    for (const int pr : {26, 27}) {
      api.post("/_sim/dispatch/prfix", json::object{{"repo", "o/p"}, {"pr", pr}, {"issue", 480 + pr}, {"branch", "fix-" + std::to_string(pr)},
                                                    {"headSha", "ggg"}, {"feedback", json::array{"Rebase it"}}});
    }
    gh.post("/_sim/github/pull", json::object{{"repo", "o/p"}, {"number", 26}, {"headRef", "fix-26"}, {"headSha", "ggg"},
                                              {"mergeableState", "dirty"}, {"mergeable", false}});
    gh.post("/_sim/github/pull", json::object{{"repo", "o/p"}, {"number", 27}, {"state", "closed"}, {"merged", true},
                                              {"headRef", "fix-27"}, {"headSha", "ggg"}});
  }
  // Dispatch refuses the first six marks (503).
  void refuse_the_first_marks() {
    api.post("/_sim/dispatch/faults", json::object{{"path", "/api/pr-fix-queue/mark"}, {"mode", "status"}, {"code", 503},
                                                   {"count", 6}});
  }
  void start_bridge_with_prfix() {
    bridge = start_bridge(sim,
                          {{"PR_FIX_ENABLED", "true"}, {"PR_FIX_MAX_ATTEMPTS", "1"}, {"GITHUB_TOKEN", "gh"},
                           {"GITHUB_API_URL", sim.github_url}},
                          log);
  }
  void await_status(int pr, const char* status, std::chrono::seconds within) {
    BOOST_REQUIRE_MESSAGE(SimClient::wait_until([&] { return prfix_status(api, pr) == status; }, within),
                          pr << " not " << status << "; see " << log);
  }
  // 21 one fix; 22 NORMAL then ESCALATED, each created while no object of that name
  // existed; the stale items no fix at all.
  void check_the_fixes_made() const {
    BOOST_TEST(creates(api, "prfix-o-p-21").size() == 1u);
    const auto c22 = creates(api, "prfix-o-p-22");
    BOOST_REQUIRE(c22.size() == 2u);
    for (const auto& c : c22) BOOST_TEST(!c.at("liveExisted").as_bool());
    BOOST_TEST(creates(api, "prfix-o-p-23").empty());
    BOOST_TEST(creates(api, "prfix-o-p-24").empty());
  }
  // Marked items' fixes and ladder records are cleaned up; the issue retry flow never
  // touched them (no retry intent was written for a PR fix).
  void await_the_marked_cleaned_up() const {
    BOOST_REQUIRE(SimClient::wait_until([&] {
      return api.workload("llm", "prfix-o-p-21").is_null() && api.workload("llm", "prfix-o-p-22").is_null();
    }, 20s));
    BOOST_TEST(api.status("/api/v1/namespaces/llm/configmaps/bridge-prfix-prfix-o-p-22") == 404);
    BOOST_TEST(api.status("/api/v1/namespaces/llm/configmaps/bridge-intent-prfix-o-p-22") == 404);
  }
  // Each mark's note names its reason.
  void check_the_notes() const {
    const std::string text = api.text("/_sim/dispatch/state");
    BOOST_TEST(text.find("fixed in lane NORMAL at attempt 1") != std::string::npos, text);
    BOOST_TEST(text.find("attempts failed in lane ESCALATED for review-feedback::") != std::string::npos, text);
    BOOST_TEST(text.find("the pull request was closed") != std::string::npos, text);
    BOOST_TEST(text.find("head moved") != std::string::npos, text);
    BOOST_TEST(text.find("checks pending") != std::string::npos, text);
    BOOST_TEST(text.find("merge conflict") != std::string::npos, text);
    BOOST_TEST(text.find("was merged") != std::string::npos, text);
  }
  void stop_bridge() {
    bridge->signal(SIGTERM);
    BOOST_TEST(bridge->wait(10s).value_or(-1) == 0);
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(e2e_prfix)

BOOST_AUTO_TEST_CASE(fixed_laddered_to_blocked_and_stale) {
  PrFixWorld w;
  w.seed_fixed_failing_closed_and_moved();
  w.seed_unverifiable();
  w.seed_conflicted_and_merged();
  w.refuse_the_first_marks();
  w.start_bridge_with_prfix();
  w.await_status(21, "FIXED", 30s);
  w.await_status(22, "BLOCKED", 30s);
  BOOST_REQUIRE(SimClient::wait_until([&] { return prfix_status(w.api, 23) == "STALE" && prfix_status(w.api, 24) == "STALE"; }, 30s));
  w.check_the_fixes_made();
  w.await_the_marked_cleaned_up();
  w.await_status(25, "BLOCKED", 40s);
  BOOST_TEST(creates(w.api, "prfix-o-p-25").size() == 2u);  // NORMAL, then ESCALATED
  BOOST_REQUIRE_MESSAGE(SimClient::wait_until([&] { return prfix_status(w.api, 26) == "BLOCKED" && prfix_status(w.api, 27) == "FIXED"; }, 30s),
                        "26 not BLOCKED or 27 not FIXED; see " << w.log);
  BOOST_TEST(creates(w.api, "prfix-o-p-26").size() == 1u);
  BOOST_TEST(creates(w.api, "prfix-o-p-27").empty());
  w.check_the_notes();
  w.stop_bridge();
}

BOOST_AUTO_TEST_SUITE_END()
