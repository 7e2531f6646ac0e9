// The world the reconciler's tests run it in: scripted API and dispatch servers on
// loopback whose answers the test sets field by field, and a cache the test controls
// (support/foreman_fixtures.hpp's MapCache). Nothing sleeps.
#pragma once

#include "dispatch/client_io.hpp"
#include "operator/config.hpp"
#include "operator/reconciler_io.hpp"
#include "support/fixture_servers.hpp"
#include "support/foreman_fixtures.hpp"
#include "support/run_coroutine.hpp"
#include "support/test_server.hpp"
#include "watch/client_io.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/serialize.hpp>

#include <string>
#include <vector>

namespace fdb::test {

inline const std::string kWl = "/apis/foreman.llmkube.dev/v1alpha1/namespaces/llm/workloads";
inline const std::string kCm = "/api/v1/namespaces/llm/configmaps";

// The bridge's Workload of o/r#7 at `attempt`, Failed (its children failed), in lane local.
inline boost::json::object failed_workload(int attempt, bool terminating = false) {
  WorkloadFields f;
  f.name = "wl-o-r-7";
  f.uid = "u-1";
  f.resource_version = "5";
  f.lane = "local";
  f.attempt = std::to_string(attempt);
  f.issue_id = "I_7";
  f.agent_name = "foreman-coder";
  f.intent = "Fix the parser";
  f.coder = "coder";
  f.phase = "Failed";
  f.completed_reason = "ChildrenFailed";
  f.terminating = terminating;
  return workload_object(f);
}

// Its AgenticTasks: a review that said NO-GO, "tests are missing".
inline const char* kTasks = R"({"kind":"AgenticTaskList","items":[
  {"metadata":{"name":"wl-o-r-7-review-0","labels":{"foreman.llmkube.dev/workload":"wl-o-r-7","foreman.llmkube.dev/step":"review"}},
   "spec":{"kind":"review"},
   "status":{"phase":"Succeeded","verdict":"NO-GO","result":{"extra":{"modelSummary":"tests are missing"}}}}]})";

struct ReconcilerWorld {
  boost::asio::io_context io;
  std::string issue_state = "open";
  std::string tasks_body = kTasks;  // what a LIST of AgenticTasks returns
  int status_code = 200;            // what POST /api/issues/status answers
  std::string claimed_body = "[]";  // what GET /api/issues/claimed answers
  int label_code = 200;             // what POST /api/issues/label answers
  int comment_code = 200;           // what POST /api/issues/comment answers
  boost::json::object current;      // what GET on the Workload returns
  int create_code = 0;              // non-zero: what POST of a Workload answers
  TestServer api{io, [this](const TestRequest& r) { return api_answer(r); }};
  TestServer dispatch_server{io, [this](const TestRequest& r) { return dispatch_answer(r); }};
  kube::Client kube{io.get_executor(), cluster_at(api.url())};
  dispatch::Client dispatch{io.get_executor(), dispatch_at(dispatch_server.url())};
  op::Config config = config_from_env({{"DISPATCH_AGENT_TOKEN", "t"}});
  MapCache cache;

  // The reconciler's dependencies: these clients, configuration and cache; no metrics,
  // no events.
  op::Reconciler::Deps deps() { return {kube, dispatch, config, cache, nullptr, nullptr, {}}; }

  TestReply api_answer(const TestRequest& r) const {
    if (r.target.find("/agentictasks") != std::string::npos) return reply(200, tasks_body);
    if (r.method == "GET" && r.target.find("/workloads/") != std::string::npos) return reply(200, boost::json::serialize(current));
    if (create_code != 0 && r.method == "POST" && r.target.find("/workloads") != std::string::npos) {
      return reply(create_code, R"({"kind":"Status","status":"Failure","reason":"Invalid","code":)" +
                                    std::to_string(create_code) + "}");
    }
    if (r.method == "POST" || r.method == "PATCH") return reply(201, r.body.empty() ? "{}" : r.body);
    return reply(200, "{}");
  }
  TestReply dispatch_answer(const TestRequest& r) const {
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
  std::vector<std::string> api_log(std::size_t from = 0) const { return request_log(api, from); }
  // The same without the reads: what the reconciler wrote.
  std::vector<std::string> api_writes() const {
    std::vector<std::string> writes;
    for (const auto& l : api_log()) {
      if (l.rfind("GET", 0) != 0) writes.push_back(l);
    }
    return writes;
  }
};

// Reconciles `name` once with `rec`, on the world's io_context; what it answered.
inline op::ReconcileResult reconcile(ReconcilerWorld& w, op::Reconciler& rec, const std::string& name) {
  op::ReconcileResult r;
  auto step = [&]() -> boost::asio::awaitable<void> { r = co_await rec.reconcile(name); };
  run(w.io, step);
  return r;
}

}  // namespace fdb::test
