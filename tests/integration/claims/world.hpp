// Scripted API, dispatch and GitHub servers on loopback and a cache the test controls:
// the world the claim loop's, the claim sweeps' and the PR-fix loop's I/O layers run in.
// Every answer is scripted per request; nothing sleeps.
#pragma once

#include "../../unit/claims/fake_cache.hpp"
#include "dispatch/client_io.hpp"
#include "dispatch/github_io.hpp"
#include "operator/config.hpp"
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
  kube::Client kube{io.get_executor(), cluster()};
  dispatch::Client dispatch{io.get_executor(), dispatch_options()};
  github::Client github{io.get_executor(), github_options()};
  op::Config config = make_config();
  MapCache cache;

  static TestReply answer(const Script& s, const TestRequest& r, int status, std::string body) {
    if (s) {
      if (auto a = s(r)) return *a;
    }
    return reply(status, std::move(body));
  }
  kube::ClusterConfig cluster() {
    kube::ClusterConfig c;
    c.server = api.url();
    return c;
  }
  dispatch::ClientOptions dispatch_options() {
    dispatch::ClientOptions o;
    o.url = dispatch_server.url();
    o.token = "t";
    o.base_backoff = std::chrono::milliseconds(1);
    return o;
  }
  github::ClientOptions github_options() {
    github::ClientOptions o;
    o.base_url = github_server.url();
    o.token = "gh";
    o.max_attempts = 1;
    return o;
  }
  static op::Config make_config() {
    op::LoadOptions lo;
    lo.env = [](std::string_view n) -> std::optional<std::string> {
      if (n == "DISPATCH_AGENT_TOKEN") return "t";
      if (n == "DISPATCH_LANES") return "normal";
      if (n == "PR_FIX_ENABLED") return "true";
      return std::nullopt;
    };
    return op::load_config(std::vector<std::string>{}, lo);
  }
  // "METHOD path" of each request since `from` (events excluded).
  static std::vector<std::string> log(const TestServer& s, std::size_t from = 0) {
    std::vector<std::string> out;
    for (std::size_t i = from; i < s.requests().size(); ++i) {
      const auto& r = s.requests()[i];
      if (r.target.find("/events") != std::string::npos) continue;
      out.push_back(r.method + " " + r.target.substr(0, r.target.find('?')));
    }
    return out;
  }
};

}  // namespace fdb::test
