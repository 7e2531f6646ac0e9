// Scripted API, dispatch and GitHub servers on loopback and a cache the test controls:
// the world the claim loop's, the claim sweeps' and the PR-fix loop's I/O layers run in.
// Every answer is scripted per request; nothing sleeps.
#pragma once

#include "dispatch/client_io.hpp"
#include "dispatch/github_io.hpp"
#include "operator/config.hpp"
#include "support/fixture_servers.hpp"
#include "support/foreman_fixtures.hpp"
#include "support/test_server.hpp"
#include "watch/client_io.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace fdb::test {

inline const std::string kWl = "/apis/foreman.llmkube.dev/v1alpha1/namespaces/llm/workloads";
inline const std::string kCm = "/api/v1/namespaces/llm/configmaps";

struct World {
  using Script = std::function<std::optional<TestReply>(const TestRequest&)>;
  boost::asio::io_context io;
  // Each server asks its script first; nullopt falls back to the default answer.
  Script api_script, dispatch_script, github_script;
  TestServer api{io, [this](const TestRequest& r) { return answer(api_script, r, 201, "{}"); }};
  TestServer dispatch_server{io, [this](const TestRequest& r) { return answer(dispatch_script, r, 200, R"({"success":true})"); }};
  TestServer github_server{io, [this](const TestRequest& r) { return answer(github_script, r, 404, "{}"); }};
  kube::Client kube{io.get_executor(), cluster_at(api.url())};
  dispatch::Client dispatch{io.get_executor(), dispatch_at(dispatch_server.url())};
  github::Client github{io.get_executor(), github_options()};
  op::Config config = make_config();
  MapCache cache;

  static TestReply answer(const Script& s, const TestRequest& r, int status, std::string body) {
    if (s) {
      if (auto a = s(r)) return *a;
    }
    return reply(status, std::move(body));
  }
  github::ClientOptions github_options() {
    github::ClientOptions o;
    o.base_url = github_server.url();
    o.token = "gh";
    o.max_attempts = 1;
    return o;
  }
  static op::Config make_config() {
    return config_from_env({{"DISPATCH_AGENT_TOKEN", "t"}, {"DISPATCH_LANES", "normal"}, {"PR_FIX_ENABLED", "true"}});
  }
  // "METHOD path" of each request since `from` (events excluded).
  static std::vector<std::string> log(const TestServer& s, std::size_t from = 0) { return request_log(s, from); }
};

}  // namespace fdb::test
