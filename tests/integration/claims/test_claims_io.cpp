// The I/O layers of the claim loop, the claim sweeps and the PR-fix loop against scripted
// servers on loopback and a cache the test controls: the exact requests each makes for
// what its step machine decides. No sleeps: every call is answered at once.
#include "world.hpp"

#include "operator/claim_sweeps_io.hpp"
#include "operator/claimer_io.hpp"
#include "operator/prfix_loop_io.hpp"
#include "support/run_coroutine.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>


namespace json = boost::json;
using boost::asio::awaitable;
using namespace fdb;
using namespace fdb::op;
using fdb::test::kCm;
using fdb::test::kWl;
using fdb::test::reply;
using fdb::test::run;
using fdb::test::TestReply;
using fdb::test::TestRequest;
using fdb::test::World;

namespace {

const char* kQueue = R"([
  {"type":"issue","number":1,"issueId":"I_1","repoFullName":"o/r","title":"one","labels":["status/ready"],"claimable":true},
  {"type":"issue","number":2,"issueId":"I_2","repoFullName":"o/r","title":"two","labels":["status/ready"],"claimable":true},
  {"type":"issue","number":3,"issueId":"I_3","repoFullName":"o/r","title":"three","labels":["status/ready"],"claimable":true}])";

std::vector<std::string> dispatch_posts(const World& w) {
  std::vector<std::string> out;
  for (const auto& r : w.dispatch_server.requests()) {
    if (r.method != "POST") continue;
    const auto body = json::parse(r.body).as_object();
    out.push_back(r.target + " #" + json::serialize(body.at("issueNumber")));
  }
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(claims_io)

// Issue 1 is created; issue 2's name is held by a terminating object: an intent of kind
// Claim is recorded and the round goes on at once; issue 3's create is refused: unclaimed.
BOOST_AUTO_TEST_CASE(claim_round_creates_defers_and_gives_back) {
  World w;
  w.dispatch_script = [](const TestRequest& r) -> std::optional<TestReply> {
    if (r.target.find("/queue") != std::string::npos) return reply(200, kQueue);
    return std::nullopt;
  };
  w.api_script = [](const TestRequest& r) -> std::optional<TestReply> {
    if (r.method == "POST" && r.target == kWl) {
      if (r.body.find("\"wl-o-r-2\"") != std::string::npos) return reply(409, R"({"kind":"Status","reason":"AlreadyExists","code":409})");
      if (r.body.find("\"wl-o-r-3\"") != std::string::npos) return reply(422, R"({"kind":"Status","reason":"Invalid","code":422})");
    }
    if (r.method == "GET" && r.target == kWl + "/wl-o-r-2") {
      return reply(200, R"({"metadata":{"name":"wl-o-r-2","uid":"u-old","deletionTimestamp":"2026-01-01T00:00:00Z"}})");
    }
    return std::nullopt;
  };
  ClaimsInFlight in_flight;
  Claimer claimer({w.kube, w.dispatch, w.config, w.cache, nullptr}, in_flight);
  ClaimRound round;
  auto body = [&]() -> awaitable<void> { round = co_await claimer.run_once(); };
  // The old wl-o-r-2 stays terminating throughout: the round ends all the same.
  run(w.io, body);

  const std::vector<std::string> api = {"POST " + kWl, "POST " + kWl, "GET " + kWl + "/wl-o-r-2", "POST " + kCm,
                                        "POST " + kWl};
  BOOST_REQUIRE(World::log(w.api) == api);
  const auto intent = json::parse(w.api.requests()[3].body).as_object();
  BOOST_TEST(intent.at("metadata").at("name").as_string() == "bridge-intent-wl-o-r-2");
  BOOST_TEST(intent.at("data").at("kind").as_string() == "claim");
  BOOST_TEST(intent.at("data").at("oldUid").as_string() == "u-old");
  BOOST_TEST(intent.at("data").at("issueId").as_string() == "I_2");
  BOOST_TEST(intent.at("data").at("title").as_string() == "two");

  const std::vector<std::string> posts = {"/api/issues/claim #1", "/api/issues/claim #2", "/api/issues/claim #3",
                                          "/api/issues/unclaim #3"};
  BOOST_TEST(dispatch_posts(w) == posts, boost::test_tools::per_element());
  BOOST_TEST(round.claimed == 2);
  BOOST_TEST(round.deferred == 1);
  BOOST_TEST(round.unclaimed == 1);
  BOOST_TEST(round.in_progress == 2);
  // Created and deferred names count as in progress, and are not stranded, until cached.
  BOOST_TEST(claimer.pending_creates() == 2u);
  BOOST_TEST(claimer.creating("wl-o-r-1"));
  BOOST_TEST(claimer.creating("wl-o-r-2"));
  BOOST_TEST(!claimer.creating("wl-o-r-3"));

  // The next round: wl-o-r-1 is cached, wl-o-r-2's intent too; nothing is claimed again.
  w.cache.workloads["wl-o-r-1"] = test::bridge_workload("wl-o-r-1", "o/r", 1);
  w.cache.intents["wl-o-r-2"] = json::object{};
  w.api_script = [](const TestRequest& r) -> std::optional<TestReply> {
    if (r.method == "POST" && r.target == kWl) return reply(422, R"({"kind":"Status","reason":"Invalid","code":422})");
    return std::nullopt;
  };
  const std::size_t mark = w.api.requests().size();
  run(w.io, body);
  BOOST_TEST(claimer.pending_creates() == 0u);
  BOOST_TEST(World::log(w.api, mark) == std::vector<std::string>{"POST " + kWl});  // issue 3 only
}

BOOST_AUTO_TEST_CASE(claim_sweeps_reset_release_and_ask_the_server) {
  World w;
  w.dispatch_script = [](const TestRequest& r) -> std::optional<TestReply> {
    if (r.target.rfind("/api/issues/claimed", 0) != 0) return std::nullopt;
    if (r.target.find("status=ready") != std::string::npos) {
      return reply(200, R"([{"issueId":"I_5","number":5,"repoFullName":"o/r","labels":["status/ready"]}])");
    }
    return reply(200, R"([{"issueId":"I_1","number":1,"repoFullName":"o/r","labels":["status/in-progress","needs-human"]},
                          {"issueId":"I_2","number":2,"repoFullName":"o/r","labels":["status/in-progress"]},
                          {"issueId":"I_3","number":3,"repoFullName":"o/r","labels":["status/in-progress"]},
                          {"number":"bad"}])");
  };
  w.api_script = [](const TestRequest& r) -> std::optional<TestReply> {
    // The server has issue 2's Workload (the cache lags); the others are gone.
    if (r.method == "GET" && r.target == kWl + "/wl-o-r-2") return reply(200, R"({"metadata":{"name":"wl-o-r-2"}})");
    if (r.method == "GET") return reply(404, R"({"kind":"Status","reason":"NotFound","code":404})");
    return std::nullopt;
  };
  ClaimSweeper sweeper({w.kube, w.dispatch, w.config, w.cache, nullptr}, {[](std::string_view n) { return n == "wl-o-r-3"; }, {}});
  ClaimSweepRound round;
  auto body = [&]() -> awaitable<void> { round = co_await sweeper.run_once(); };
  run(w.io, body);
  const std::vector<std::string> api = {"GET " + kWl + "/wl-o-r-1", "GET " + kWl + "/wl-o-r-2", "GET " + kWl + "/wl-o-r-5"};
  BOOST_TEST(World::log(w.api) == api, boost::test_tools::per_element());
  const std::vector<std::string> posts = {"/api/issues/unlabel #1", "/api/issues/status #1", "/api/issues/unclaim #5"};
  BOOST_TEST(dispatch_posts(w) == posts, boost::test_tools::per_element());
  BOOST_TEST(round.listed == 4);
  BOOST_TEST(round.reset == 1);
  BOOST_TEST(round.unclaimed == 1);
  BOOST_TEST(round.in_flight == 1);
  BOOST_TEST(round.malformed == 1);
  BOOST_TEST(round.errors == 0);
}

namespace {

const char* kPrItem = R"([{"repo":"o/p","pr":22,"branch":"feat","headSha":"abc","lane":"NORMAL","type":"review",
                           "title":"Fix it","feedback":["fix it"]}])";

// dispatch's PR-fix queue: lane NORMAL holds kPrItem, nothing is queued yet.
std::optional<TestReply> dispatch_one_pr_item(const TestRequest& r) {
  if (r.target.find("lane=NORMAL") != std::string::npos) return reply(200, kPrItem);
  if (r.target.find("/pr-fix-queue/queued") != std::string::npos) return reply(200, "[]");
  return std::nullopt;
}

std::optional<TestReply> github_open_and_green(const TestRequest& r) {
  if (r.target.find("/check-runs") != std::string::npos) {
    return reply(200, R"({"check_runs":[{"status":"completed","conclusion":"failure"}]})");
  }
  if (r.target.find("/pulls/22") != std::string::npos) {
    return reply(200, R"({"number":22,"state":"open","merged":false,"mergeable_state":"clean","head":{"sha":"abc","ref":"feat"}})");
  }
  return std::nullopt;
}

json::object failed_fix(const std::string& signature) {
  return json::parse(R"({"metadata":{"name":"prfix-o-p-22","uid":"u-fix","labels":{"created-by":"dispatch-bridge-prfix"},
      "annotations":{"foreman.llmkube.dev/prfix-lane":"NORMAL","foreman.llmkube.dev/attempt":"1",
                     "foreman.llmkube.dev/prfix-signature":")" + signature + R"("}},"status":{"phase":"Failed"}})")
      .as_object();
}

}  // namespace

// A failed fix is replaced through the ONE replace path: an intent of kind PrFix; the loop
// itself deletes nothing.
BOOST_AUTO_TEST_CASE(prfix_failed_fix_becomes_an_intent) {
  World w;
  w.dispatch_script = dispatch_one_pr_item;
  w.github_script = github_open_and_green;
  w.api_script = [](const TestRequest& r) -> std::optional<TestReply> {
    if (r.method == "GET" && r.target.rfind(kCm, 0) == 0) return reply(200, R"({"items":[]})");
    return std::nullopt;
  };
  const auto item = std::get<dispatch::PrFixQueue>(dispatch::parse_prfix_queue(json::parse(kPrItem))).items[0];
  w.cache.workloads["prfix-o-p-22"] = failed_fix(dispatch::failure_signature(item));
  PrFixLoop loop({w.kube, w.dispatch, w.config, w.cache, nullptr}, &w.github);
  PrFixRound round;
  auto body = [&]() -> awaitable<void> { round = co_await loop.run_once(); };
  run(w.io, body);
  BOOST_TEST(round.retried == 1);
  const std::vector<std::string> api = {"GET " + kCm, "POST " + kCm};  // the 0.x ladders listed once; the intent
  BOOST_REQUIRE(World::log(w.api) == api);
  const auto intent = json::parse(w.api.requests()[1].body).as_object();
  BOOST_TEST(intent.at("metadata").at("name").as_string() == "bridge-intent-prfix-o-p-22");
  BOOST_TEST(intent.at("data").at("kind").as_string() == "prfix");
  BOOST_TEST(intent.at("data").at("oldUid").as_string() == "u-fix");
  BOOST_TEST(intent.at("data").at("nextAttempt").as_string() == "2");

  // The next round: the intent is cached, the replace in flight: nothing is done, GitHub not asked.
  w.cache.intents["prfix-o-p-22"] = json::object{};
  const std::size_t api_mark = w.api.requests().size(), gh_mark = w.github_server.requests().size();
  run(w.io, body);
  BOOST_TEST(round.waiting == 1);
  BOOST_TEST(World::log(w.api, api_mark).empty());
  BOOST_TEST(World::log(w.github_server, gh_mark).empty());
}

// Upgrading mid-flight: a 0.x ladder ConfigMap and no fix Workload: the next fix is created
// where the ConfigMap says, then the ConfigMap is deleted; it is listed only once.
BOOST_AUTO_TEST_CASE(prfix_honours_a_0x_ladder_configmap_once) {
  World w;
  w.dispatch_script = dispatch_one_pr_item;
  w.github_script = github_open_and_green;
  const auto item = std::get<dispatch::PrFixQueue>(dispatch::parse_prfix_queue(json::parse(kPrItem))).items[0];
  const std::string ladder = R"({"items":[{"metadata":{"name":"bridge-prfix-prfix-o-p-22"},
      "data":{"lane":"ESCALATED","attempt":"2","signature":")" + dispatch::failure_signature(item) + R"("}}]})";
  w.api_script = [&ladder](const TestRequest& r) -> std::optional<TestReply> {
    if (r.method == "GET" && r.target.rfind(kCm + "?", 0) == 0) return reply(200, ladder);
    if (r.method == "GET") return reply(404, R"({"kind":"Status","reason":"NotFound","code":404})");
    return std::nullopt;
  };
  PrFixLoop loop({w.kube, w.dispatch, w.config, w.cache, nullptr}, &w.github);
  PrFixRound round;
  auto body = [&]() -> awaitable<void> { round = co_await loop.run_once(); };
  run(w.io, body);
  BOOST_TEST(round.created == 1);
  const std::vector<std::string> api = {"GET " + kCm, "GET " + kWl + "/prfix-o-p-22", "POST " + kWl,
                                        "DELETE " + kCm + "/bridge-prfix-prfix-o-p-22"};
  BOOST_REQUIRE(World::log(w.api) == api);
  BOOST_TEST(w.api.requests()[0].target.find("labelSelector=foreman.llmkube.dev%2Fprfix-ladder%3Dtrue") != std::string::npos,
             w.api.requests()[0].target);
  const auto created = json::parse(w.api.requests()[2].body).as_object();
  const auto& ann = created.at("metadata").at("annotations").as_object();
  BOOST_TEST(ann.at("foreman.llmkube.dev/prfix-lane").as_string() == "ESCALATED");
  BOOST_TEST(ann.at("foreman.llmkube.dev/attempt").as_string() == "2");

  // The next round: the fix is cached; the ConfigMaps are not listed again.
  w.cache.workloads["prfix-o-p-22"] = created;
  const std::size_t mark = w.api.requests().size();
  run(w.io, body);
  BOOST_TEST(World::log(w.api, mark).empty());
  BOOST_TEST(round.waiting == 1);
}

BOOST_AUTO_TEST_SUITE_END()
