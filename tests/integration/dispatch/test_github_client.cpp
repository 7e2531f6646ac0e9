// The GitHub client against a scripted server over loopback: paths (encoded, a base URL
// with a path prefix), headers, 200/404 as answers, retries of transient statuses and rate
// limits, refusals that are final, timeouts, malformed pull requests, the token kept out of
// errors. And parse_pull_request as a table.
#include "dispatch/github_io.hpp"
#include "support/test_server.hpp"
#include "support/run_coroutine.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

namespace asio = boost::asio;
using asio::awaitable;
using namespace fdb;
using namespace std::chrono_literals;
using test::TestReply;
using test::TestRequest;
using test::TestServer;

using fdb::test::reply;
using fdb::test::run;

namespace {

github::ClientOptions options(const TestServer& s, const std::string& prefix = {}) {
  github::ClientOptions o;
  o.base_url = s.url() + prefix;
  o.token = "ghp_s3cret";
  o.base_backoff = 1ms;
  o.max_backoff = 5ms;
  return o;
}

const char* kPull = R"({"number":12,"state":"open","draft":false,"merged":false,"mergeable":true,
  "mergeable_state":"clean","html_url":"https://github.com/o/r/pull/12",
  "head":{"ref":"foreman/wl-o-r-7/issue-7","sha":"abc123"},"base":{"ref":"main"}})";

}  // namespace

BOOST_AUTO_TEST_SUITE(github_client)

BOOST_AUTO_TEST_CASE(paths_headers_and_answers) {
  asio::io_context io;
  TestServer server(io, [](const TestRequest& r) {
    if (r.target == "/api/v3/repos/o/r/branches/foreman%2Fwl-o-r-7%2Fissue-7") return reply(404, R"({"message":"Branch not found"})");
    if (r.target == "/api/v3/repos/o/r/branches/foreman/wl-o-r-7/issue-7") return reply(200, R"({"name":"x"})");
    if (r.target == "/api/v3/repos/o/r/pulls/12") return reply(200, kPull);
    if (r.target == "/api/v3/repos/o/r/pulls/13") return reply(404, R"({"message":"Not Found"})");
    if (r.target == "/api/v3/repos/o/my%20repo/branches/main") return reply(200, "{}");
    return reply(500, "unexpected " + r.target);
  });
  // A GitHub Enterprise style base URL: the prefix is kept.
  github::Client client(io.get_executor(), options(server, "/api/v3"));
  auto body = [&]() -> awaitable<void> {
    BOOST_TEST(co_await client.branch_exists("o/r", "foreman/wl-o-r-7/issue-7"));
    const auto pr = co_await client.pull_request("o/r", 12);
    BOOST_REQUIRE(pr.has_value());
    BOOST_TEST(pr->number == 12);
    BOOST_TEST(pr->state == "open");
    BOOST_TEST(pr->head_ref == "foreman/wl-o-r-7/issue-7");
    BOOST_TEST(pr->head_sha == "abc123");
    BOOST_TEST(pr->base_ref == "main");
    BOOST_TEST(pr->mergeable.value_or(false));
    BOOST_TEST(!(co_await client.pull_request("o/r", 13)).has_value());
    BOOST_TEST(co_await client.branch_exists("o/my repo", "main"));
  };
  run(io, body);
  const auto& rq = server.requests();
  BOOST_REQUIRE(rq.size() == 4u);
  for (const auto& r : rq) {
    BOOST_TEST(r.method == "GET");
    BOOST_TEST(r.headers.at("authorization") == "Bearer ghp_s3cret");
    BOOST_TEST(r.headers.at("accept") == "application/vnd.github+json");
    BOOST_TEST(r.headers.at("x-github-api-version") == "2022-11-28");
    BOOST_TEST(!r.headers.at("user-agent").empty());
  }
}

BOOST_AUTO_TEST_CASE(bad_names_are_refused_before_any_request) {
  asio::io_context io;
  TestServer server(io, [](const TestRequest&) { return reply(200, "{}"); });
  github::Client client(io.get_executor(), options(server));
  for (const auto& [repo, branch] : std::vector<std::pair<std::string, std::string>>{
           {"no-slash", "main"}, {"/r", "main"}, {"o/", "main"}, {"o/r/x", "main"}, {"o/..", "main"}, {"o/r", ""},
           {"o/r", "a/../b"}}) {
    BOOST_TEST_CONTEXT(repo << " " << branch) {
      auto body = [&]() -> awaitable<void> { co_await client.branch_exists(repo, branch); };
      BOOST_CHECK_THROW(run(io, body), github::GitHubError);
      io.restart();
    }
  }
  auto bad_number = [&]() -> awaitable<void> { co_await client.pull_request("o/r", 0); };
  BOOST_CHECK_THROW(run(io, bad_number), github::GitHubError);
  BOOST_TEST(server.requests().empty());
}

BOOST_AUTO_TEST_CASE(transient_answers_are_retried_and_refusals_are_not) {
  struct Row {
    std::vector<TestReply> answers;
    bool ok;
    std::size_t requests;
    int status;  // of the error when not ok
    bool transient;
  };
  const std::string rate = R"({"message":"API rate limit exceeded for installation ID 1."})";
  const Row rows[] = {
      {{reply(503, "{}"), reply(200, "{}")}, true, 2, 0, false},
      {{reply(429, "{}", {{"Retry-After", "0"}}), reply(200, "{}")}, true, 2, 0, false},
      {{reply(403, rate), reply(200, "{}")}, true, 2, 0, false},               // a rate limit
      {{reply(502, "{}"), reply(500, "{}"), reply(504, "{}")}, false, 3, 504, true},  // max_attempts = 3
      {{reply(401, R"({"message":"Bad credentials"})")}, false, 1, 401, false},
      {{reply(403, R"({"message":"Resource not accessible by integration"})")}, false, 1, 403, false},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.answers.size() << " answers, first " << r.answers.front().status) {
      asio::io_context io;
      std::size_t n = 0;
      TestServer server(io, [&](const TestRequest&) { return r.answers.at(std::min(n++, r.answers.size() - 1)); });
      github::Client client(io.get_executor(), options(server));
      std::vector<int> observed;
      client.set_observer([&](std::string_view call, int status, double) {
        BOOST_TEST(call == "branch");
        observed.push_back(status);
      });
      auto body = [&]() -> awaitable<void> { BOOST_TEST(co_await client.branch_exists("o/r", "b")); };
      if (r.ok) {
        run(io, body);
      } else {
        try {
          run(io, body);
          BOOST_ERROR("expected GitHubError");
        } catch (const github::GitHubError& e) {
          BOOST_TEST(e.status() == r.status);
          BOOST_TEST(e.transient() == r.transient);
          BOOST_TEST(e.call() == "branch");
          BOOST_TEST(std::string(e.what()).find("ghp_s3cret") == std::string::npos);
        }
      }
      BOOST_TEST(server.requests().size() == r.requests);
      BOOST_TEST(observed.size() == r.requests);
    }
  }
}

BOOST_AUTO_TEST_CASE(timeouts_and_malformed_pull_requests) {
  asio::io_context io;
  TestServer server(io, [](const TestRequest& r) {
    if (r.target.find("/pulls/1") != std::string::npos) {
      TestReply s;
      s.mode = TestReply::Mode::Stall;
      return s;
    }
    return reply(200, R"({"number":2,"state":"open"})");  // no head
  });
  auto opts = options(server);
  opts.timeout = 200ms;
  opts.max_attempts = 2;
  github::Client client(io.get_executor(), opts);
  auto stall = [&]() -> awaitable<void> { co_await client.pull_request("o/r", 1); };
  try {
    run(io, stall);
    BOOST_ERROR("expected a timeout");
  } catch (const github::GitHubError& e) {
    BOOST_TEST(e.status() == 0);
    BOOST_TEST(e.transient());
    BOOST_TEST(std::string(e.what()).find("timed out") != std::string::npos, e.what());
  }
  io.restart();
  auto malformed = [&]() -> awaitable<void> { co_await client.pull_request("o/r", 2); };
  try {
    run(io, malformed);
    BOOST_ERROR("expected a malformed pull request");
  } catch (const github::GitHubError& e) {
    BOOST_TEST(std::string(e.what()).find("head.ref is missing") != std::string::npos, e.what());
  }
}

BOOST_AUTO_TEST_CASE(parse_pull_request_table) {
  struct Row {
    std::string body;
    bool ok;
    std::string error;  // a part of the message
    std::string field;  // the field named
  };
  const Row rows[] = {
      {kPull, true, "", ""},
      {R"({"number":3,"state":"closed","merged_at":"2026-01-02T03:04:05Z","head":{"ref":"b"}})", true, "", ""},
      {"not json", false, "not JSON", "(answer)"},
      {"[1]", false, "not a JSON object", "(answer)"},
      {R"({"state":"open","head":{"ref":"b"}})", false, "number", "number"},
      {R"({"number":"3","state":"open","head":{"ref":"b"}})", false, "number", "number"},
      {R"({"number":-3,"state":"open","head":{"ref":"b"}})", false, "number", "number"},
      {R"({"number":3,"state":"weird","head":{"ref":"b"}})", false, "state", "state"},
      {R"({"number":3,"state":"open","head":"b"})", false, "head.ref", "head.ref"},
      {std::string(100, '[') + std::string(100, ']'), false, "not JSON", "(answer)"},  // deeper than the bound
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.body.substr(0, 60)) {
      const auto pr = github::parse_pull_request(r.body);
      BOOST_TEST(std::holds_alternative<github::PullRequest>(pr) == r.ok);
      if (const auto* e = std::get_if<fdb::dispatch::ParseError>(&pr); e != nullptr && !r.ok) {
        BOOST_TEST(e->message.find(r.error) != std::string::npos, e->message);
        BOOST_TEST(e->field == r.field);
      }
    }
  }
  const auto parsed = github::parse_pull_request(rows[1].body);
  const auto* merged = std::get_if<github::PullRequest>(&parsed);
  BOOST_REQUIRE(merged != nullptr);
  BOOST_TEST(merged->merged);
  BOOST_TEST(!merged->mergeable.has_value());
}

BOOST_AUTO_TEST_SUITE_END()
