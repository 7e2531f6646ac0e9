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

}  // namespace

BOOST_AUTO_TEST_SUITE(e2e_prfix)

BOOST_AUTO_TEST_CASE(fixed_laddered_to_blocked_and_stale) {
  Sim sim = start_test_sim("prfix");
  SimClient api(sim.api_url);
  SimClient gh(sim.github_url, "gh");
  const std::string log = temp_dir("bridge-prfix") + "/bridge.log";
  // 21 completes; 22 fails every time; 23's pull request is closed; 24's head moved.
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
    api.post("/_sim/dispatch/prfix", json::object{{"repo", "o/p"}, {"pr", i.pr}, {"issue", i.issue},
                                                  {"branch", "fix-" + std::to_string(i.pr)}, {"headSha", i.sha},
                                                  {"title", "Fix it"}, {"feedback", json::array{"Handle the empty input"}}});
    gh.post("/_sim/github/pull", json::object{{"repo", "o/p"}, {"number", i.pr}, {"state", i.state},
                                              {"headRef", "fix-" + std::to_string(i.pr)}, {"headSha", i.head}});
  }
  // 25: GitHub cannot answer about it and dispatch refuses its first marks (503). As the
  // Python bridge decided (#93), a fix is never FIXED off an unverified success: each
  // completed fix counts as not verified, the ladder climbs, and the item ends BLOCKED —
  // marked once dispatch answers again.
  api.set_issue_rule("o/p", 505, {{"*", "succeed"}});
  api.post("/_sim/dispatch/prfix", json::object{{"repo", "o/p"}, {"pr", 25}, {"issue", 505}, {"branch", "fix-25"},
                                                {"headSha", "fff"}, {"feedback", json::array{"Add a test"}}});
  gh.post("/_sim/github/fault", json::object{{"path", "/repos/o/p/pulls/25"}, {"count", 1000}, {"status", 503}});
  // 26: the fix completes, but the pull request has a merge conflict: BLOCKED at once.
  // 27: merged before any fix: FIXED, no fix made.
  api.set_issue_rule("o/p", 506, {{"*", "succeed"}});
  for (const int pr : {26, 27}) {
    api.post("/_sim/dispatch/prfix", json::object{{"repo", "o/p"}, {"pr", pr}, {"issue", 480 + pr}, {"branch", "fix-" + std::to_string(pr)},
                                                  {"headSha", "ggg"}, {"feedback", json::array{"Rebase it"}}});
  }
  gh.post("/_sim/github/pull", json::object{{"repo", "o/p"}, {"number", 26}, {"headRef", "fix-26"}, {"headSha", "ggg"},
                                            {"mergeableState", "dirty"}, {"mergeable", false}});
  gh.post("/_sim/github/pull", json::object{{"repo", "o/p"}, {"number", 27}, {"state", "closed"}, {"merged", true},
                                            {"headRef", "fix-27"}, {"headSha", "ggg"}});
  api.post("/_sim/dispatch/faults", json::object{{"path", "/api/pr-fix-queue/mark"}, {"mode", "status"}, {"code", 503},
                                                 {"count", 6}});
  auto bridge = start_bridge(sim,
                             {{"PR_FIX_ENABLED", "true"}, {"PR_FIX_MAX_ATTEMPTS", "1"}, {"GITHUB_TOKEN", "gh"},
                              {"GITHUB_API_URL", sim.github_url}},
                             log);
  BOOST_REQUIRE_MESSAGE(SimClient::wait_until([&] { return prfix_status(api, 21) == "FIXED"; }, 30s),
                        "21 not FIXED; see " << log);
  BOOST_REQUIRE_MESSAGE(SimClient::wait_until([&] { return prfix_status(api, 22) == "BLOCKED"; }, 30s),
                        "22 not BLOCKED; see " << log);
  BOOST_REQUIRE(SimClient::wait_until([&] { return prfix_status(api, 23) == "STALE" && prfix_status(api, 24) == "STALE"; }, 30s));

  // 21: one fix, created once.
  BOOST_TEST(creates(api, "prfix-o-p-21").size() == 1u);
  // 22: NORMAL, then ESCALATED — each created while no object of that name existed.
  const auto c22 = creates(api, "prfix-o-p-22");
  BOOST_REQUIRE(c22.size() == 2u);
  for (const auto& c : c22) BOOST_TEST(!c.at("liveExisted").as_bool());
  // Stale items got no fix at all.
  BOOST_TEST(creates(api, "prfix-o-p-23").empty());
  BOOST_TEST(creates(api, "prfix-o-p-24").empty());
  // Marked items' fixes and ladder records are cleaned up.
  BOOST_REQUIRE(SimClient::wait_until([&] {
    return api.workload("llm", "prfix-o-p-21").is_null() && api.workload("llm", "prfix-o-p-22").is_null();
  }, 20s));
  BOOST_TEST(api.status("/api/v1/namespaces/llm/configmaps/bridge-prfix-prfix-o-p-22") == 404);
  // The issue retry flow never touched them (no retry intent was written for a PR fix).
  BOOST_TEST(api.status("/api/v1/namespaces/llm/configmaps/bridge-intent-prfix-o-p-22") == 404);

  BOOST_REQUIRE_MESSAGE(SimClient::wait_until([&] { return prfix_status(api, 25) == "BLOCKED"; }, 40s),
                        "25 not BLOCKED; see " << log);
  BOOST_TEST(creates(api, "prfix-o-p-25").size() == 2u);  // NORMAL, then ESCALATED
  BOOST_REQUIRE_MESSAGE(SimClient::wait_until([&] { return prfix_status(api, 26) == "BLOCKED" && prfix_status(api, 27) == "FIXED"; }, 30s),
                        "26 not BLOCKED or 27 not FIXED; see " << log);
  BOOST_TEST(creates(api, "prfix-o-p-26").size() == 1u);
  BOOST_TEST(creates(api, "prfix-o-p-27").empty());

  const std::string text = api.text("/_sim/dispatch/state");
  BOOST_TEST(text.find("fixed in lane NORMAL at attempt 1") != std::string::npos, text);
  BOOST_TEST(text.find("attempts failed in lane ESCALATED for review-feedback::") != std::string::npos, text);
  BOOST_TEST(text.find("the pull request was closed") != std::string::npos, text);
  BOOST_TEST(text.find("head moved") != std::string::npos, text);
  BOOST_TEST(text.find("checks pending") != std::string::npos, text);
  BOOST_TEST(text.find("merge conflict") != std::string::npos, text);
  BOOST_TEST(text.find("was merged") != std::string::npos, text);
  bridge->signal(SIGTERM);
  BOOST_TEST(bridge->wait(10s).value_or(-1) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
