// The reconciler against scripted API and dispatch servers and a cache the test controls
// (reconciler_world.hpp): the exact requests of each step of a retry, an intent's create,
// the task informer's tasks, and a process that restarts between the delete and the
// create. (Terminal Workloads: test_reconciler_terminal.cpp.)
#include "reconciler_world.hpp"

#include "dispatch/prfix.hpp"
#include "operator/retry_flow.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <set>

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
using namespace fdb;
using namespace fdb::op;
using namespace std::chrono_literals;
using test::failed_workload;
using test::kCm;
using test::kTasks;
using test::kWl;
using test::ReconcilerWorld;
using test::TestRequest;
using test::TestServer;

using fdb::test::run;

BOOST_AUTO_TEST_SUITE(reconciler)

// One replace path: a claim that met a terminating object records an intent of kind
// Claim; once the old object is gone the reconciler creates attempt 1 and clears the
// intent. A create refused for good (422) gives the claim back instead.
BOOST_AUTO_TEST_CASE(a_claim_intent_creates_attempt_1_or_gives_the_claim_back) {
  for (const int code : {0, 422}) {
    BOOST_TEST_CONTEXT("create answers " << (code ? code : 201)) {
      ReconcilerWorld w;
      w.create_code = code;
      Intent i;
      i.kind = Intent::Kind::Claim;
      i.workload = "wl-o-r-7";
      i.old_uid = "u-old";
      i.issue_id = "I_7";
      i.repo = "o/r";
      i.number = 7;
      i.title = "Fix the parser";
      i.lane = "local";
      w.cache.intents["wl-o-r-7"] = intent_to_configmap(i, "llm");
      Reconciler rec(w.deps());
      auto step = [&]() -> awaitable<void> { co_await rec.reconcile("wl-o-r-7"); };
      run(w.io, step);
      const auto log = w.api_log();
      BOOST_TEST(std::count(log.begin(), log.end(), "POST " + kWl) == 1);
      BOOST_TEST(std::count(log.begin(), log.end(), "DELETE " + kCm + "/bridge-intent-wl-o-r-7") == 1);
      for (const auto& r : w.api.requests()) {
        if (r.method == "POST" && r.target == kWl) {
          const auto md = json::parse(r.body).at("metadata").as_object();
          BOOST_TEST(md.at("annotations").at("foreman.llmkube.dev/attempt").as_string() == "1");
          BOOST_TEST(md.at("labels").at("created-by").as_string() == "dispatch-bridge");
        }
      }
      int unclaims = 0;
      for (const auto& r : w.dispatch_server.requests()) unclaims += r.target.find("unclaim") != std::string::npos;
      BOOST_TEST(unclaims == (code == 422 ? 1 : 0));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_prfix_intent_creates_the_prfix_workload) {
  ReconcilerWorld w;
  Intent i;
  i.kind = Intent::Kind::PrFix;
  i.workload = "prfix-o-r-5";
  i.old_uid = "u-old";
  i.repo = "o/r";
  i.number = 5;
  dispatch::PrFixRequest req;
  req.item.repo = "o/r";
  req.item.pr = 5;
  req.item.branch = "foreman/wl-o-r-7/issue-7";
  req.item.lane = "NORMAL";
  req.item.feedback = {"lint fails"};
  req.lane = "ESCALATED";
  req.attempt = 2;
  i.prfix = req;
  w.cache.intents["prfix-o-r-5"] = intent_to_configmap(i, "llm");
  Reconciler rec(w.deps());
  auto step = [&]() -> awaitable<void> { co_await rec.reconcile("prfix-o-r-5"); };
  run(w.io, step);
  int creates = 0;
  for (const auto& r : w.api.requests()) {
    if (r.method != "POST" || r.target != kWl) continue;
    ++creates;
    const auto md = json::parse(r.body).at("metadata").as_object();
    BOOST_TEST(md.at("name").as_string() == "prfix-o-r-5");
    BOOST_TEST(md.at("labels").at("created-by").as_string() == "dispatch-bridge-prfix");
    BOOST_TEST(md.at("annotations").at("foreman.llmkube.dev/prfix-lane").as_string() == "ESCALATED");
  }
  BOOST_TEST(creates == 1);
  const auto log = w.api_log();
  BOOST_TEST(std::count(log.begin(), log.end(), "DELETE " + kCm + "/bridge-intent-prfix-o-r-5") == 1);
}

BOOST_AUTO_TEST_CASE(a_failed_workload_is_retried_step_by_step) {
  ReconcilerWorld w;
  w.current = failed_workload(1);
  w.cache.workloads["wl-o-r-7"] = w.current;
  Reconciler rec(w.deps());

  // 1. Failed: decide, record the intent, delete with Foreground and the uid precondition.
  ReconcileResult r;
  auto step = [&]() -> awaitable<void> { r = co_await rec.reconcile("wl-o-r-7"); };
  run(w.io, step);
  BOOST_TEST(!r.error);
  BOOST_TEST(r.step == "delete");
  BOOST_TEST(r.requeue_after.has_value());
  const std::vector<std::string> first = {"GET " + kWl + "/wl-o-r-7", "GET /apis/foreman.llmkube.dev/v1alpha1/namespaces/llm/agentictasks",
                                          "POST " + kCm, "DELETE " + kWl + "/wl-o-r-7"};
  BOOST_TEST(w.api_log() == first, boost::test_tools::per_element());
  const auto& reqs = w.api.requests();
  const auto intent_cm = json::parse(reqs[2].body).as_object();
  BOOST_TEST(intent_cm.at("data").at("nextAttempt").as_string() == "2");
  BOOST_TEST(intent_cm.at("data").at("oldUid").as_string() == "u-1");
  BOOST_TEST(std::string(intent_cm.at("data").at("feedback").as_string()).find("tests are missing") != std::string::npos);
  const auto del = json::parse(reqs[3].body).as_object();
  BOOST_TEST(del.at("propagationPolicy").as_string() == "Foreground");
  BOOST_TEST(del.at("preconditions").at("uid").as_string() == "u-1");
  // Dispatch: the issue's state, and its current lane (the claimed list), asked in parallel.
  std::set<std::string> asked;
  for (const auto& q : w.dispatch_server.requests()) asked.insert(q.target);
  BOOST_TEST(asked.count("/api/issues/state?repo=o%2Fr&number=7") == 1u);
  BOOST_TEST(asked.count("/api/issues/claimed?agentName=foreman-coder") == 1u);
  BOOST_TEST(rec.intents_in_flight() == 1u);

  // 2. Still terminating: wait for the watch, no request.
  w.cache.workloads["wl-o-r-7"] = failed_workload(1, true);
  std::size_t mark = w.api.requests().size();
  run(w.io, step);
  BOOST_TEST(r.step == "await-gone");
  BOOST_TEST(w.api_log(mark).empty());

  // 3. Gone: create attempt 2 in pipeline mode with the feedback, then clear the intent.
  w.cache.workloads.erase("wl-o-r-7");
  mark = w.api.requests().size();
  run(w.io, step);
  BOOST_TEST(!r.error);
  const std::vector<std::string> third = {"POST " + kWl, "DELETE " + kCm + "/bridge-intent-wl-o-r-7"};
  BOOST_TEST(w.api_log(mark) == third, boost::test_tools::per_element());
  const auto created = json::parse(w.api.requests()[mark].body).as_object();
  BOOST_TEST(created.at("metadata").at("name").as_string() == "wl-o-r-7");
  BOOST_TEST(created.at("metadata").at("annotations").at("foreman.llmkube.dev/attempt").as_string() == "2");
  BOOST_TEST(created.at("spec").as_object().contains("pipeline"));
  BOOST_TEST(rec.intents_in_flight() == 0u);
}

BOOST_AUTO_TEST_CASE(tasks_come_from_the_task_informer_only_when_it_cannot_be_behind) {
  // complete: read from the cache. lagging: the decision waits for the task watch (which
  // requeues the Workload); once the cache has caught up, still no LIST. past the window:
  // a LIST.
  for (const std::string mode : {"complete", "catches up", "past the window"}) {
    BOOST_TEST_CONTEXT(mode) {
      ReconcilerWorld w;
      w.current = failed_workload(1);
      json::object cached = w.current;
      cached["status"].as_object()["succeededTasks"] = 1;  // the Workload counts one task
      w.cache.workloads["wl-o-r-7"] = cached;
      const json::array tasks = json::parse(kTasks).at("items").as_array();
      json::array lagging = tasks;
      lagging[0].as_object()["status"].as_object()["phase"] = "Running";  // the task watch lags
      w.cache.cached_tasks = mode == "complete" ? tasks : lagging;
      Reconciler::Deps deps = w.deps();
      if (mode == "past the window") deps.task_catch_up = std::chrono::milliseconds(0);
      Reconciler rec(deps);
      ReconcileResult r;
      auto step = [&]() -> awaitable<void> { r = co_await rec.reconcile("wl-o-r-7"); };
      if (mode == "catches up") {
        run(w.io, step);
        BOOST_TEST(r.step == "await-tasks");
        BOOST_TEST(!r.error);
        BOOST_REQUIRE(r.requeue_after.has_value());
        BOOST_TEST(r.requeue_after->count() > 0);
        BOOST_TEST(r.requeue_after->count() <= 2000);
        BOOST_TEST(w.api_log().empty());
        w.cache.cached_tasks = tasks;  // the task event arrives
      }
      run(w.io, step);
      BOOST_TEST(r.step == "delete");
      std::vector<std::string> expected = {"GET " + kWl + "/wl-o-r-7", "POST " + kCm, "DELETE " + kWl + "/wl-o-r-7"};
      const bool listed = mode == "past the window";
      if (listed) expected.insert(expected.begin() + 1, "GET /apis/foreman.llmkube.dev/v1alpha1/namespaces/llm/agentictasks");
      BOOST_TEST(w.api_log() == expected, boost::test_tools::per_element());
      // Either way the feedback is the task's.
      const auto& reqs = w.api.requests();
      const auto intent_cm = json::parse(reqs[listed ? 2 : 1].body).as_object();
      BOOST_TEST(std::string(intent_cm.at("data").at("feedback").as_string()).find("tests are missing") != std::string::npos);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_restart_between_delete_and_create_creates_once) {
  ReconcilerWorld w;
  w.current = failed_workload(2);
  w.cache.workloads["wl-o-r-7"] = w.current;
  {
    Reconciler before_crash(w.deps());
    auto step = [&]() -> awaitable<void> { co_await before_crash.reconcile("wl-o-r-7"); };
    run(w.io, step);
  }
  // The process dies after the DELETE. Its intent is in the API server (the cache of the
  // next process lists it); the old object is gone.
  const auto& reqs = w.api.requests();
  auto cm = std::find_if(reqs.begin(), reqs.end(), [](const TestRequest& r) { return r.method == "POST" && r.target.find("configmaps") != std::string::npos; });
  BOOST_REQUIRE(cm != reqs.end());
  w.cache.intents["wl-o-r-7"] = json::parse(cm->body).as_object();
  w.cache.workloads.erase("wl-o-r-7");

  Reconciler after_restart(w.deps());
  const std::size_t mark = w.api.requests().size();
  auto step = [&]() -> awaitable<void> { co_await after_restart.reconcile("wl-o-r-7"); };
  run(w.io, step);
  int creates = 0;
  for (std::size_t i = mark; i < w.api.requests().size(); ++i) {
    const auto& r = w.api.requests()[i];
    if (r.method == "POST" && r.target == kWl) {
      ++creates;
      BOOST_TEST(json::parse(r.body).at("metadata").at("annotations").at("foreman.llmkube.dev/attempt").as_string() == "3");
    }
  }
  BOOST_TEST(creates == 1);
  // The intent is cleared; the new object shows up in the cache: nothing more to do.
  w.cache.intents.clear();
  auto created = failed_workload(3);
  created["metadata"].as_object()["uid"] = "u-2";
  created["status"].as_object()["phase"] = "Planning";
  w.cache.workloads["wl-o-r-7"] = created;
  const std::size_t mark2 = w.api.requests().size();
  run(w.io, step);
  BOOST_TEST(w.api_log(mark2).empty());
}

BOOST_AUTO_TEST_CASE(an_api_error_spends_no_attempt) {
  ReconcilerWorld w;
  w.current = failed_workload(1);
  w.cache.workloads["wl-o-r-7"] = w.current;
  int deletes = 0;
  TestServer flaky(w.io, [&](const TestRequest& r) {
    if (r.method == "DELETE" && r.target.find("/workloads/") != std::string::npos && deletes++ == 0) {
      return test::reply(503, R"({"kind":"Status","status":"Failure","reason":"ServiceUnavailable","code":503})");
    }
    return w.api_answer(r);
  });
  kube::Client client(w.io.get_executor(), test::cluster_at(flaky.url()));
  Reconciler rec({client, w.dispatch, w.config, w.cache, nullptr, nullptr, {}});
  ReconcileResult r;
  auto step = [&]() -> awaitable<void> { r = co_await rec.reconcile("wl-o-r-7"); };
  run(w.io, step);
  BOOST_TEST(r.error);  // the queue backs off; the intent is recorded
  run(w.io, step);      // again: the intent says delete; same attempt
  BOOST_TEST(!r.error);
  int intents = 0;
  for (const auto& q : flaky.requests()) intents += q.method == "POST" && q.target.find("configmaps") != std::string::npos;
  BOOST_TEST(intents == 1);
  BOOST_TEST(deletes == 2);
}

BOOST_AUTO_TEST_SUITE_END()
