// The reconciler against scripted API and dispatch servers and a cache the test controls:
// the exact requests of each step of a retry, the cap, a closed issue, and a process that
// restarts between the delete and the create.
#include "dispatch/client_io.hpp"
#include "dispatch/prfix.hpp"
#include "operator/cache_view.hpp"
#include "operator/config.hpp"
#include "operator/events_io.hpp"
#include "operator/reconciler_io.hpp"
#include "operator/retry_flow.hpp"
#include "operator/sweeps.hpp"
#include "support/test_server.hpp"
#include "watch/client_io.hpp"
#include "support/run_coroutine.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <set>

#include <map>

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
using namespace fdb;
using namespace fdb::op;
using namespace std::chrono_literals;
using test::TestReply;
using test::TestRequest;
using test::TestServer;

using fdb::test::run;

namespace {

class FakeCache final : public CacheView {
 public:
  std::map<std::string, json::object, std::less<>> workloads;
  std::map<std::string, json::object, std::less<>> intents;
  std::optional<json::object> workload(std::string_view n) const override {
    auto it = workloads.find(n);
    return it == workloads.end() ? std::nullopt : std::optional(it->second);
  }
  std::optional<json::object> intent(std::string_view n) const override {
    auto it = intents.find(n);
    return it == intents.end() ? std::nullopt : std::optional(it->second);
  }
  void for_each_workload(const std::function<void(const json::object&)>& f) const override {
    for (const auto& [k, v] : workloads) f(v);
  }
  bool synced() const override { return true; }
  std::optional<json::array> cached_tasks;
  std::optional<json::array> tasks(std::string_view) const override { return cached_tasks; }
};

json::object failed_workload(int attempt, bool terminating = false) {
  auto w = json::parse(R"({"apiVersion":"foreman.llmkube.dev/v1alpha1","kind":"Workload",
    "metadata":{"name":"wl-o-r-7","namespace":"llm","uid":"u-1","resourceVersion":"5",
      "labels":{"created-by":"dispatch-bridge","lane":"local"},
      "annotations":{"foreman.llmkube.dev/attempt":")" + std::to_string(attempt) + R"(","foreman.llmkube.dev/issue-id":"I_7",
        "foreman.llmkube.dev/agent-name":"foreman-coder"}},
    "spec":{"intent":"Fix the parser","repo":"o/r","issues":[7],"coderAgentRef":{"name":"coder"}},
    "status":{"phase":"Failed","conditions":[{"type":"Completed","status":"False","reason":"ChildrenFailed"}]}})")
               .as_object();
  if (terminating) w["metadata"].as_object()["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  return w;
}

const char* kTasks = R"({"kind":"AgenticTaskList","items":[
  {"metadata":{"name":"wl-o-r-7-review-0","labels":{"foreman.llmkube.dev/workload":"wl-o-r-7","foreman.llmkube.dev/step":"review"}},
   "spec":{"kind":"review"},
   "status":{"phase":"Succeeded","verdict":"NO-GO","result":{"extra":{"modelSummary":"tests are missing"}}}}]})";

struct World {
  asio::io_context io;
  std::string issue_state = "open";
  std::string tasks_body = kTasks;  // what a LIST of AgenticTasks returns
  int status_code = 200;            // what POST /api/issues/status answers
  std::string claimed_body = "[]";  // what GET /api/issues/claimed answers
  int label_code = 200;             // what POST /api/issues/label answers
  int comment_code = 200;           // what POST /api/issues/comment answers
  json::object current;  // what GET on the Workload returns
  int create_code = 0;   // non-zero: what POST of a Workload answers
  TestServer api{io, [this](const TestRequest& r) { return api_answer(r); }};
  TestServer dispatch_server{io, [this](const TestRequest& r) { return dispatch_answer(r); }};
  kube::Client kube{io.get_executor(), cluster()};
  dispatch::Client dispatch{io.get_executor(), dispatch_options()};
  Config config = make_config();
  FakeCache cache;

  kube::ClusterConfig cluster() {
    kube::ClusterConfig c;
    c.server = api.url();
    return c;
  }
  dispatch::ClientOptions dispatch_options() {
    dispatch::ClientOptions o;
    o.url = dispatch_server.url();
    o.token = "t";
    o.base_backoff = 1ms;
    return o;
  }
  static Config make_config() {
    LoadOptions lo;
    lo.env = [](std::string_view n) -> std::optional<std::string> {
      if (n == "DISPATCH_AGENT_TOKEN") return "t";
      return std::nullopt;
    };
    return load_config(std::vector<std::string>{}, lo);
  }
  TestReply reply(int status, std::string body) {
    TestReply r;
    r.status = status;
    r.body = std::move(body);
    return r;
  }
  TestReply api_answer(const TestRequest& r) {
    if (r.target.find("/agentictasks") != std::string::npos) return reply(200, tasks_body);
    if (r.method == "GET" && r.target.find("/workloads/") != std::string::npos) return reply(200, json::serialize(current));
    if (create_code != 0 && r.method == "POST" && r.target.find("/workloads") != std::string::npos) {
      return reply(create_code, R"({"kind":"Status","status":"Failure","reason":"Invalid","code":)" +
                                    std::to_string(create_code) + "}");
    }
    if (r.method == "POST" || r.method == "PATCH") return reply(201, r.body.empty() ? "{}" : r.body);
    return reply(200, "{}");
  }
  TestReply dispatch_answer(const TestRequest& r) {
    if (r.target.rfind("/api/issues/claimed", 0) == 0) return reply(200, claimed_body);
    if (r.target.rfind("/api/issues/state", 0) == 0) {
      return reply(200, R"({"issueId":"I_7","repoFullName":"o/r","number":7,"state":")" + issue_state + "\"}");
    }
    if (r.target == "/api/issues/status" && status_code != 200) return reply(status_code, R"({"error":"no"})");
    if (r.target == "/api/issues/label" && label_code != 200) return reply(label_code, R"({"error":"no"})");
    if (r.target == "/api/issues/comment" && comment_code != 200) return reply(comment_code, R"({"error":"no"})");
    return reply(200, R"({"success":true})");
  }
  // Requests to the API server since `from`, as "METHOD path" lines (events excluded).
  std::vector<std::string> api_log(std::size_t from = 0) const {
    std::vector<std::string> out;
    for (std::size_t i = from; i < api.requests().size(); ++i) {
      const auto& r = api.requests()[i];
      if (r.target.find("/events") != std::string::npos) continue;
      out.push_back(r.method + " " + r.target.substr(0, r.target.find('?')));
    }
    return out;
  }
};

const std::string kWl = "/apis/foreman.llmkube.dev/v1alpha1/namespaces/llm/workloads";
const std::string kCm = "/api/v1/namespaces/llm/configmaps";

}  // namespace

BOOST_AUTO_TEST_SUITE(reconciler)

// One replace path: a claim that met a terminating object records an intent of kind
// Claim; once the old object is gone the reconciler creates attempt 1 and clears the
// intent. A create refused for good (422) gives the claim back instead.
BOOST_AUTO_TEST_CASE(a_claim_intent_creates_attempt_1_or_gives_the_claim_back) {
  for (const int code : {0, 422}) {
    BOOST_TEST_CONTEXT("create answers " << (code ? code : 201)) {
      World w;
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
      Reconciler rec({w.kube, w.dispatch, w.config, w.cache, nullptr, nullptr, {}});
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
  World w;
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
  Reconciler rec({w.kube, w.dispatch, w.config, w.cache, nullptr, nullptr, {}});
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
  World w;
  w.current = failed_workload(1);
  w.cache.workloads["wl-o-r-7"] = w.current;
  Reconciler rec({w.kube, w.dispatch, w.config, w.cache, nullptr, nullptr, {}});

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
      World w;
      w.current = failed_workload(1);
      json::object cached = w.current;
      cached["status"].as_object()["succeededTasks"] = 1;  // the Workload counts one task
      w.cache.workloads["wl-o-r-7"] = cached;
      const json::array tasks = json::parse(kTasks).at("items").as_array();
      json::array lagging = tasks;
      lagging[0].as_object()["status"].as_object()["phase"] = "Running";  // the task watch lags
      w.cache.cached_tasks = mode == "complete" ? tasks : lagging;
      Reconciler::Deps deps{w.kube, w.dispatch, w.config, w.cache, nullptr, nullptr, {}};
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
  World w;
  w.current = failed_workload(2);
  w.cache.workloads["wl-o-r-7"] = w.current;
  {
    Reconciler before_crash({w.kube, w.dispatch, w.config, w.cache, nullptr, nullptr, {}});
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

  Reconciler after_restart({w.kube, w.dispatch, w.config, w.cache, nullptr, nullptr, {}});
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

// Issue 18 item 8: parking sets the status, then the label and the comment as two
// independent best-effort calls — a failed label does not skip the comment, nor the other
// way round — and the park goes on (annotation, delete).
BOOST_AUTO_TEST_CASE(park_label_and_comment_are_independent) {
  struct Row {
    const char* given;
    int label_code, comment_code;
  };
  const Row rows[] = {{"both answer", 200, 200}, {"the label fails", 400, 200}, {"the comment fails", 200, 400},
                      {"both fail", 400, 400}};
  for (const auto& row : rows) {
    BOOST_TEST_CONTEXT(row.given) {
      World w;
      w.label_code = row.label_code;
      w.comment_code = row.comment_code;
      w.current = failed_workload(3);  // the cap, PARK_ON_GIVE_UP default: park
      w.cache.workloads["wl-o-r-7"] = w.current;
      Reconciler rec({w.kube, w.dispatch, w.config, w.cache, nullptr, nullptr, {}});
      ReconcileResult r;
      auto step = [&]() -> awaitable<void> { r = co_await rec.reconcile("wl-o-r-7"); };
      run(w.io, step);
      BOOST_TEST(!r.error);
      BOOST_TEST(r.step == "park");
      std::vector<std::string> calls;
      for (const auto& q : w.dispatch_server.requests()) {
        if (q.method == "POST") calls.push_back(q.target);
      }
      const std::vector<std::string> expected = {"/api/issues/status", "/api/issues/label", "/api/issues/comment"};
      BOOST_TEST(calls == expected, boost::test_tools::per_element());
      // The park is recorded and the tombstone deleted either way.
      bool deleted = false;
      for (const auto& l : w.api_log()) deleted |= l == "DELETE " + kWl + "/wl-o-r-7";
      BOOST_TEST(deleted);
    }
  }
}

// A tombstone (the cap, or a closed issue) is marked and stamped terminal-since-Failed in
// one merge patch, so that the prune sweep may collect it later; nothing else is written.
BOOST_AUTO_TEST_CASE(the_cap_leaves_a_tombstone_and_a_closed_issue_a_marked_one) {
  struct Row {
    const char* given;
    int attempt;
    std::string issue_state;
    bool park;
    std::vector<std::string> writes;  // API writes expected (no GETs)
    std::string tombstone;            // the value patched, if any
  };
  const Row rows[] = {
      {"attempt 3 of 3, PARK_ON_GIVE_UP=false", 3, "open", false, {"PATCH " + kWl + "/wl-o-r-7"}, "true"},
      {"attempt 3 of 3, parked", 3, "open", true, {"PATCH " + kWl + "/wl-o-r-7", "DELETE " + kWl + "/wl-o-r-7"}, ""},
      {"issue closed", 1, "closed", true, {"PATCH " + kWl + "/wl-o-r-7"}, "issue-closed"},
  };
  for (const auto& row : rows) {
    BOOST_TEST_CONTEXT(row.given) {
      World w;
      w.config.park_on_give_up = row.park;
      w.issue_state = row.issue_state;
      w.current = failed_workload(row.attempt);
      w.cache.workloads["wl-o-r-7"] = w.current;
      Reconciler rec({w.kube, w.dispatch, w.config, w.cache, nullptr, nullptr, {}});
      auto step = [&]() -> awaitable<void> { co_await rec.reconcile("wl-o-r-7"); };
      run(w.io, step);
      std::vector<std::string> writes;
      for (const auto& l : w.api_log()) {
        if (l.rfind("GET", 0) != 0) writes.push_back(l);
      }
      BOOST_TEST(writes == row.writes, boost::test_tools::per_element());
      if (!row.tombstone.empty()) {
        for (const auto& r : w.api.requests()) {
          if (r.method != "PATCH") continue;
          const auto ann = json::parse(r.body).at("metadata").at("annotations").as_object();
          BOOST_TEST(ann.at("foreman.llmkube.dev/tombstone").as_string() == row.tombstone);
          BOOST_TEST(ann.at("foreman.llmkube.dev/terminal-since-Failed").as_string().size() == 27u);
        }
      }
      bool backlog = false;
      for (const auto& r : w.dispatch_server.requests()) backlog |= r.target == "/api/issues/status";
      BOOST_TEST(backlog == (row.park && row.issue_state == "open"));
    }
  }
}

// The sweeps of a terminal Workload, request by request: a Completed one reported once
// (with its stamp), a failing status call (the stamp kept, the step failed for the queue's
// backoff), a definite refusal (recorded, not repeated), the prune deadline as a requeue,
// the prune itself (a Failed tombstone's issue set back to ready first).
BOOST_AUTO_TEST_CASE(terminal_workloads_are_reported_stamped_and_pruned) {
  const auto ago = [](std::chrono::hours h) {
    return op::format_stamp(std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now()) - h);
  };
  const char* kPrTasks = R"({"items":[{"metadata":{"name":"wl-o-r-7-code-1"},"spec":{"kind":"issue-fix"},
      "status":{"phase":"Succeeded","verdict":"GO","result":{"extra":{"pullRequestURL":"https://github.com/o/r/pull/9"}}}}]})";
  struct Row {
    const char* given;
    std::string phase;
    json::object annotations;
    int status_code;
    std::vector<std::string> api_writes;       // non-GET requests to the API server
    std::vector<std::string> dispatch_status;  // statuses POSTed to dispatch (answered or not)
    std::map<std::string, std::string> patched;  // annotations the PATCH sets ("*": any value)
    bool error;
    bool requeued;
  };
  const std::string wl = "PATCH " + kWl + "/wl-o-r-7";
  const std::string del = "DELETE " + kWl + "/wl-o-r-7";
  const Row rows[] = {
      {"Completed, first seen", "Completed", {}, 200, {wl}, {"in-review"},
       {{"foreman.llmkube.dev/reported-status", "in-review"}, {"foreman.llmkube.dev/terminal-since-Completed", "*"}}, false, false},
      {"Completed, dispatch down", "Completed", {}, 503, {wl}, {"in-review", "in-review", "in-review", "in-review"},
       {{"foreman.llmkube.dev/terminal-since-Completed", "*"}}, true, false},
      {"Completed, issue unknown to dispatch", "Completed", {{"foreman.llmkube.dev/terminal-since-Completed", ago(1h)}}, 404, {wl},
       {"in-review"}, {{"foreman.llmkube.dev/reported-status", "rejected: in-review (HTTP 404)"}}, false, false},
      {"Completed, reported 1 h ago", "Completed",
       {{"foreman.llmkube.dev/terminal-since-Completed", ago(1h)}, {"foreman.llmkube.dev/reported-status", "in-review"}}, 200, {},
       {}, {}, false, true},
      {"Completed, reported 7 h ago", "Completed",
       {{"foreman.llmkube.dev/terminal-since-Completed", ago(7h)}, {"foreman.llmkube.dev/reported-status", "in-review"}}, 200,
       {del}, {}, {}, false, false},
      {"Completed, reported, no stamp", "Completed", {{"foreman.llmkube.dev/reported-status", "done"}}, 200, {wl}, {},
       {{"foreman.llmkube.dev/terminal-since-Completed", "*"}}, false, true},
      {"tombstone 49 h old", "Failed",
       {{"foreman.llmkube.dev/tombstone", "true"}, {"foreman.llmkube.dev/terminal-since-Failed", ago(49h)}}, 200, {del},
       {"ready"}, {}, false, false},
      {"tombstone 49 h old, dispatch down", "Failed",
       {{"foreman.llmkube.dev/tombstone", "true"}, {"foreman.llmkube.dev/terminal-since-Failed", ago(49h)}}, 503, {},
       {"ready", "ready", "ready", "ready"}, {}, true, false},
  };
  for (const auto& row : rows) {
    BOOST_TEST_CONTEXT(row.given) {
      World w;
      w.tasks_body = kPrTasks;
      w.status_code = row.status_code;
      json::object o = failed_workload(1);
      o["status"].as_object()["phase"] = row.phase;
      for (const auto& [k, v] : row.annotations) o["metadata"].as_object()["annotations"].as_object()[k] = v;
      w.current = o;
      w.cache.workloads["wl-o-r-7"] = o;
      Reconciler rec({w.kube, w.dispatch, w.config, w.cache, nullptr, nullptr, {}});
      ReconcileResult r;
      auto step = [&]() -> awaitable<void> { r = co_await rec.reconcile("wl-o-r-7"); };
      run(w.io, step);
      std::vector<std::string> writes;
      for (const auto& l : w.api_log()) {
        if (l.rfind("GET", 0) != 0) writes.push_back(l);
      }
      BOOST_TEST(writes == row.api_writes, boost::test_tools::per_element());
      std::vector<std::string> statuses;
      for (const auto& q : w.dispatch_server.requests()) {
        if (q.target == "/api/issues/status") statuses.emplace_back(json::parse(q.body).at("status").as_string());
      }
      BOOST_TEST(statuses == row.dispatch_status, boost::test_tools::per_element());
      for (const auto& q : w.api.requests()) {
        if (q.method != "PATCH") continue;
        const auto ann = json::parse(q.body).at("metadata").at("annotations").as_object();
        BOOST_TEST(ann.size() == row.patched.size());
        for (const auto& [k, v] : row.patched) {
          BOOST_REQUIRE_MESSAGE(ann.contains(k), k);
          if (v != "*") BOOST_TEST(ann.at(k).as_string() == v);
          if (k.find("terminal-since") != std::string::npos) BOOST_TEST(op::parse_stamp(ann.at(k).as_string()).has_value());
        }
      }
      for (const auto& q : w.api.requests()) {
        if (q.method == "DELETE") BOOST_TEST(q.body.find("Foreground") != std::string::npos, q.body);
      }
      BOOST_TEST(r.error == row.error);
      BOOST_TEST(r.requeue_after.has_value() == row.requeued);
      if (row.requeued && std::string(row.given) == "Completed, reported 1 h ago") {
        BOOST_TEST(r.requeue_after->count() > std::chrono::milliseconds(4h + 59min).count());
        BOOST_TEST(r.requeue_after->count() <= std::chrono::milliseconds(5h).count());
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(an_api_error_spends_no_attempt) {
  World w;
  w.current = failed_workload(1);
  w.cache.workloads["wl-o-r-7"] = w.current;
  int deletes = 0;
  TestServer flaky(w.io, [&](const TestRequest& r) {
    if (r.method == "DELETE" && r.target.find("/workloads/") != std::string::npos && deletes++ == 0) {
      return w.reply(503, R"({"kind":"Status","status":"Failure","reason":"ServiceUnavailable","code":503})");
    }
    return w.api_answer(r);
  });
  kube::ClusterConfig c;
  c.server = flaky.url();
  kube::Client client(w.io.get_executor(), c);
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
