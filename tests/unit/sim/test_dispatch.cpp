#include "sim/dispatch.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

namespace json = boost::json;
using namespace fdb::sim;

namespace {
struct Fixture {
  Dispatch d{{"local", "cloud", "frontier"}, "tok"};
  Fixture() {
    d.add(Issue{"I1", "o/r", 1, "Fix it", "local"});
    d.add(Issue{"I2", "o/r", 2, "Other", "cloud"});
    Issue closed{"I3", "o/r", 3, "Closed", "local"};
    closed.state = "closed";
    d.add(closed);
  }
  HttpAnswer post(const std::string& path, const std::string& body, const std::string& auth = "Bearer tok") {
    return d.handle("POST", path, {}, body, auth);
  }
  HttpAnswer get(const std::string& path, std::map<std::string, std::string> q) { return d.handle("GET", path, q, "", "Bearer tok"); }
};
std::string claim(const std::string& id, const std::string& agent) {
  return json::serialize(json::object{{"issueId", id}, {"repoFullName", "o/r"}, {"issueNumber", 0}, {"agentName", agent}});
}
}  // namespace

BOOST_AUTO_TEST_SUITE(sim_dispatch)

BOOST_AUTO_TEST_CASE(claim_unclaim_table) {
  Fixture f;
  struct Row {
    std::string path, id, agent;
    int code;
  } rows[] = {
      {"/api/issues/claim", "I1", "a", 200},   {"/api/issues/claim", "I1", "a", 200},  // ours again
      {"/api/issues/claim", "I1", "b", 409},   {"/api/issues/claim", "I3", "a", 400},
      {"/api/issues/claim", "nope", "a", 404}, {"/api/issues/unclaim", "I1", "b", 400},
      {"/api/issues/unclaim", "I1", "a", 200}, {"/api/issues/unclaim", "I1", "a", 400},
      {"/api/issues/unclaim", "nope", "a", 404},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.path << " " << r.id << " by " << r.agent) {
      BOOST_TEST(f.post(r.path, claim(r.id, r.agent)).status == r.code);
    }
  }
  BOOST_TEST(f.post("/api/issues/claim", claim("I1", "a"), "Bearer wrong").status == 401);
  BOOST_TEST(f.post("/api/issues/claim", "not json").status == 400);
  // The second claim by "a" came while it held the issue: recorded for the soak.
  const auto state = f.d.state();
  const auto& h = state.at("issues").as_array()[0].as_object().at("history").as_array();
  BOOST_TEST(json::serialize(h) == R"(["claim","claim-again","unclaim"])");
}

// Issue 20: mode reset acts on the request, then the server resets the connection.
BOOST_AUTO_TEST_CASE(a_reset_fault_acts_then_resets) {
  Fixture f;
  BOOST_TEST(f.d.control("POST", "/_sim/dispatch/faults", R"({"path":"/api/issues/claim","mode":"reset","count":1})").status == 200);
  const auto first = f.post("/api/issues/claim", claim("I1", "a"));
  BOOST_TEST(first.reset);
  BOOST_TEST(f.d.issues()[0].claimed_by == "a");
  BOOST_TEST(!f.post("/api/issues/claim", claim("I2", "a")).reset);
  BOOST_TEST(f.d.control("POST", "/_sim/dispatch/faults", R"({"path":"/api/","mode":"explode"})").status == 400);
}

BOOST_AUTO_TEST_CASE(queue_status_labels) {
  Fixture f;
  auto q = f.get("/api/agents/a/queue", {{"lane", "local"}, {"includeClaimed", "true"}});
  BOOST_TEST(q.status == 200);
  auto items = json::parse(q.body).as_array();
  BOOST_TEST(items.size() == 1U);  // the closed one is not queued
  auto it = items.front().as_object();
  BOOST_TEST(it["status"].as_string() == "status/ready");
  BOOST_TEST(it["claimable"].as_bool());
  BOOST_TEST(f.get("/api/agents/a/queue", {{"lane", "nowhere"}}).status == 400);
  BOOST_TEST(json::parse(f.get("/api/agents/a/queue", {{"lane", "normal"}}).body).as_array().size() == 1U);
  BOOST_REQUIRE(f.post("/api/issues/claim", claim("I1", "a")).status == 200);
  auto claimed = json::parse(f.get("/api/issues/claimed", {{"agentName", "a"}}).body).as_array();
  BOOST_TEST(claimed.size() == 1U);
  BOOST_TEST(claimed.front().as_object().at("currentLane").as_string() == "local");
  auto st = f.post("/api/issues/status", R"({"issueId":"I1","status":"in-review"})");
  BOOST_TEST(st.status == 200);
  BOOST_TEST(f.post("/api/issues/status", R"({"issueId":"I1","status":"status/done"})").status == 400);
  BOOST_TEST(f.post("/api/issues/label", R"({"issueId":"I1","number":1,"issueNumber":1,"label":"needs-human"})").status == 200);
  BOOST_TEST(f.post("/api/issues/comment", R"({"issueId":"I1","body":"Needs a human decision"})").status == 200);
  BOOST_TEST(f.post("/api/issues/I1/lane", R"({"model":"bridge-escalation","classification":{"lane":"frontier","confidence":"high","reason":"x"}})").status == 200);
  BOOST_TEST(f.post("/api/issues/I1/lane", R"({"classification":{"lane":"mars"}})").status == 400);
  auto state = f.get("/api/issues/state", {{"repo", "o/r"}, {"number", "1"}});
  auto so = json::parse(state.body).as_object();
  BOOST_TEST(so["state"].as_string() == "open");
  BOOST_TEST(f.get("/api/issues/state", {{"repo", "o/r"}, {"number", "99"}}).status == 404);
  auto full = f.d.state()["issues"].as_array().front().as_object();
  BOOST_TEST(full["lane"].as_string() == "frontier");
  BOOST_TEST(full["status"].as_string() == "in-review");
  BOOST_TEST(full["comments"].as_array().size() == 1U);
  BOOST_TEST(full["labels"].as_array().front().as_string() == "needs-human");
}

BOOST_AUTO_TEST_CASE(faults_and_prfix) {
  Fixture f;
  BOOST_TEST(f.d.control("POST", "/_sim/dispatch/faults", R"({"path":"/api/agents/","lane":"cloud","code":503,"count":2,"retryAfter":1})").status == 200);
  auto a = f.get("/api/agents/a/queue", {{"lane", "cloud"}});
  BOOST_TEST(a.status == 503);
  BOOST_TEST(a.headers["Retry-After"] == "1");
  BOOST_TEST(f.get("/api/agents/a/queue", {{"lane", "local"}}).status == 200);  // other lane untouched
  BOOST_TEST(f.get("/api/agents/a/queue", {{"lane", "cloud"}}).status == 503);
  BOOST_TEST(f.get("/api/agents/a/queue", {{"lane", "cloud"}}).status == 200);  // count used up
  BOOST_TEST(f.d.control("POST", "/_sim/dispatch/faults", R"({"path":"/api/agents/","mode":"garbage"})").status == 200);
  boost::system::error_code ec;
  (void)json::parse(f.get("/api/agents/a/queue", {{"lane", "local"}}).body, ec);
  BOOST_TEST(bool(ec));
  BOOST_TEST(f.d.control("POST", "/_sim/dispatch/faults", R"({"path":"/api/issues/claim","mode":"latency","latencyMs":50})").status == 200);
  auto slow = f.post("/api/issues/claim", claim("I1", "a"));
  BOOST_TEST(slow.status == 200);
  BOOST_TEST(slow.delay_ms == 50);
  BOOST_TEST(f.d.control("POST", "/_sim/dispatch/faults", R"({"mode":"status"})").status == 400);
  BOOST_TEST(f.d.control("POST", "/_sim/dispatch/prfix", R"({"repo":"o/r","pr":5,"issue":1,"feedback":["fix lint"]})").status == 200);
  auto q = json::parse(f.get("/api/pr-fix-queue/queued", {{"lane", "NORMAL"}}).body).as_array();
  BOOST_TEST(q.size() == 1U);
  BOOST_TEST(f.post("/api/pr-fix-queue/mark", R"({"repo":"o/r","pr":5,"status":"FIXED","note":"done"})").status == 200);
  BOOST_TEST(json::parse(f.get("/api/pr-fix-queue/queued", {{"lane", "NORMAL"}}).body).as_array().empty());
  BOOST_TEST(f.post("/api/pr-fix-queue/mark", R"({"repo":"o/r","pr":6,"status":"FIXED"})").status == 404);
  BOOST_TEST(f.d.control("POST", "/_sim/dispatch/issues/close", R"({"issueId":"I2"})").status == 200);
  BOOST_TEST(f.post("/api/issues/claim", claim("I2", "a")).status == 400);
}

// What the sweeps read: claimed issues by status (in-progress by default, as dispatch
// answers), the labels an issue is created with, and the history of changes.
BOOST_AUTO_TEST_CASE(claimed_by_status_labels_and_history) {
  Fixture f;
  BOOST_REQUIRE(f.d.control("POST", "/_sim/dispatch/issues",
                            R"({"issueId":"I9","repoFullName":"o/r","number":9,"lane":"local","status":"ready",)"
                            R"("claimedBy":"a","labels":["needs-human","status/x"]})")
                    .status == 200);
  BOOST_REQUIRE(f.post("/api/issues/claim", claim("I1", "a")).status == 200);
  auto ids = [&](std::map<std::string, std::string> q) {
    std::vector<std::string> out;
    const json::value answer = json::parse(f.get("/api/issues/claimed", std::move(q)).body);
    for (const auto& i : answer.as_array()) out.emplace_back(i.at("issueId").as_string());
    return out;
  };
  BOOST_TEST(ids({{"agentName", "a"}}) == std::vector<std::string>{"I1"}, boost::test_tools::per_element());
  BOOST_TEST(ids({{"agentName", "a"}, {"status", "ready"}}) == std::vector<std::string>{"I9"}, boost::test_tools::per_element());
  BOOST_TEST(ids({{"agentName", "b"}}).empty());
  const auto nine = json::parse(f.get("/api/issues/claimed", {{"agentName", "a"}, {"status", "ready"}}).body).as_array().at(0);
  BOOST_TEST(json::serialize(nine.at("labels")) == R"(["status/ready","priority/p2","needs-human"])");

  BOOST_REQUIRE(f.post("/api/issues/unlabel", R"({"issueId":"I9","number":9,"label":"needs-human"})").status == 200);
  BOOST_REQUIRE(f.post("/api/issues/status", R"({"issueId":"I1","status":"in-review"})").status == 200);
  BOOST_REQUIRE(f.post("/api/issues/I1/lane", R"({"classification":{"lane":"cloud"}})").status == 200);
  BOOST_REQUIRE(f.post("/api/issues/unclaim", claim("I1", "a")).status == 200);
  BOOST_REQUIRE(f.post("/api/issues/comment", R"({"issueId":"I1","body":"hi"})").status == 200);
  const auto issues = f.d.state()["issues"].as_array();
  auto history = [&](const char* id) {
    for (const auto& i : issues)
      if (i.at("issueId") == id) return json::serialize(i.at("history"));
    return std::string();
  };
  BOOST_TEST(history("I1") == R"(["claim","status:in-review","lane:cloud","unclaim","comment"])");
  BOOST_TEST(history("I9") == R"(["unlabel:needs-human"])");
}

BOOST_AUTO_TEST_CASE(seeding) {
  Dispatch d({"local", "cloud", "frontier"}, "");
  d.seed(34);
  BOOST_TEST(d.issues().size() == 34U);
  int renovate = 0, unclaimable = 0;
  std::map<std::string, int> lanes;
  for (const auto& i : d.issues()) {
    renovate += i.title.find("renovate") != std::string::npos ? 1 : 0;
    unclaimable += i.claimable ? 0 : 1;
    lanes[i.lane]++;
    BOOST_TEST(i.status == "ready");
  }
  BOOST_TEST(renovate >= 1);
  BOOST_TEST(unclaimable >= 1);
  BOOST_TEST(lanes.size() == 3U);
}

BOOST_AUTO_TEST_SUITE_END()
