// The dispatch client against a scripted server over loopback: the exact paths, bodies
// and headers of SPEC §2, the status outcomes, retries with backoff and Retry-After,
// timeouts, and the token kept out of errors.
#include "dispatch/client_io.hpp"
#include "support/test_server.hpp"
#include "support/run_coroutine.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
using namespace fdb;
using namespace std::chrono_literals;
using test::TestReply;
using test::TestRequest;
using test::TestServer;

using fdb::test::reply;
using fdb::test::run;

namespace {

dispatch::ClientOptions options(const TestServer& s) {
  dispatch::ClientOptions o;
  o.url = s.url();
  o.token = "s3cret-token";
  o.agent_name = "foreman-coder";
  o.base_backoff = 1ms;
  o.max_backoff = 5ms;
  return o;
}

const dispatch::IssueRef kIssue{"I_kw1", "misospace/dispatch", 42};

}  // namespace

BOOST_AUTO_TEST_SUITE(dispatch_client)

BOOST_AUTO_TEST_CASE(paths_bodies_and_headers) {
  asio::io_context io;
  TestServer server(io, [](const TestRequest& r) {
    if (r.target.rfind("/api/agents/", 0) == 0) return reply(200, R"([{"type":"issue","number":1}])");
    if (r.target.rfind("/api/issues/state", 0) == 0) return reply(200, R"({"state":"open"})");
    if (r.target.rfind("/api/issues/claimed", 0) == 0) return reply(200, "[]");
    return reply(200, R"({"success":true,"labels":["status/in-progress"]})");
  });
  dispatch::Client client(io.get_executor(), options(server));
  auto body = [&]() -> awaitable<void> {
    const auto q = co_await client.queue("local");
    BOOST_TEST(q.is_array());
    const auto c = co_await client.claim(kIssue);
    BOOST_TEST(static_cast<int>(c.outcome) == static_cast<int>(dispatch::ClaimOutcome::Claimed));
    co_await client.unclaim(kIssue);
    co_await client.set_status(kIssue, "in-review");
    co_await client.label(kIssue, "needs-human");
    co_await client.unlabel(kIssue, "needs-human");
    co_await client.comment(kIssue, "Needs a human decision");
    co_await client.relane("I_kw1", "frontier", "attempts exhausted");
    co_await client.claimed("ready");
    const auto st = co_await client.issue_state("misospace/dispatch", 42);
    BOOST_TEST(st.has_value());
  };
  run(io, body);

  const auto& rq = server.requests();
  BOOST_REQUIRE(rq.size() == 10u);
  for (const auto& r : rq) {
    BOOST_TEST(r.headers.at("authorization") == "Bearer s3cret-token");
    BOOST_TEST(r.headers.at("x-agent-name") == "foreman-coder");
  }
  struct Row {
    std::string method, target, body;
  };
  const Row expected[] = {
      {"GET", "/api/agents/foreman-coder/queue?lane=local&includeClaimed=true", ""},
      {"POST", "/api/issues/claim", R"({"issueId":"I_kw1","repoFullName":"misospace/dispatch","issueNumber":42,"agentName":"foreman-coder"})"},
      {"POST", "/api/issues/unclaim", R"({"issueId":"I_kw1","repoFullName":"misospace/dispatch","issueNumber":42,"agentName":"foreman-coder"})"},
      {"POST", "/api/issues/status", R"({"issueId":"I_kw1","repoFullName":"misospace/dispatch","issueNumber":42,"status":"in-review","agentName":"foreman-coder"})"},
      {"POST", "/api/issues/label", R"({"issueId":"I_kw1","repoFullName":"misospace/dispatch","issueNumber":42,"number":42,"label":"needs-human"})"},
      {"POST", "/api/issues/unlabel", R"({"issueId":"I_kw1","repoFullName":"misospace/dispatch","issueNumber":42,"number":42,"label":"needs-human"})"},
      {"POST", "/api/issues/comment", R"({"issueId":"I_kw1","repoFullName":"misospace/dispatch","issueNumber":42,"number":42,"body":"Needs a human decision"})"},
      {"POST", "/api/issues/I_kw1/lane", R"({"model":"bridge-escalation","classification":{"lane":"frontier","confidence":"high","reason":"attempts exhausted"}})"},
      {"GET", "/api/issues/claimed?agentName=foreman-coder&status=ready", ""},
      {"GET", "/api/issues/state?repo=misospace%2Fdispatch&number=42", ""},
  };
  for (std::size_t i = 0; i < std::size(expected); ++i) {
    BOOST_TEST_CONTEXT(expected[i].target) {
      BOOST_TEST(rq[i].method == expected[i].method);
      BOOST_TEST(rq[i].target == expected[i].target);
      if (expected[i].body.empty()) {
        BOOST_TEST(rq[i].body.empty());
      } else {
        BOOST_TEST(json::parse(rq[i].body) == json::parse(expected[i].body));
        BOOST_TEST(rq[i].headers.at("content-type") == "application/json");
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(the_pr_fix_queue_calls) {
  asio::io_context io;
  TestServer server(io, [](const TestRequest& r) {
    if (r.target.rfind("/api/pr-fix-queue/queued", 0) == 0) return reply(200, R"([{"repo":"o/r","pr":12,"branch":"b"}])");
    if (r.body.find("\"pr\":404") != std::string::npos) return reply(404, R"({"error":"pr-fix item not found"})");
    if (r.body.find("\"pr\":500") != std::string::npos) return reply(400, R"({"error":"invalid status"})");
    return reply(200, R"({"repo":"o/r","pr":12,"status":"FIXED"})");
  });
  dispatch::Client client(io.get_executor(), options(server));
  auto body = [&]() -> awaitable<void> {
    const auto q = co_await client.prfix_queued("ESCALATED");
    BOOST_TEST(q.is_array());
    BOOST_TEST(co_await client.prfix_mark("o/r", 12, "FIXED", "fixed in lane NORMAL at attempt 1"));
    BOOST_TEST(!(co_await client.prfix_mark("o/r", 404, "STALE", "gone")));
    try {
      co_await client.prfix_mark("o/r", 500, "BOGUS", "x");
      BOOST_ERROR("expected DispatchError");
    } catch (const dispatch::DispatchError& e) {
      BOOST_TEST(e.status() == 400);
      BOOST_TEST(e.endpoint() == "pr_fix_mark");
    }
  };
  run(io, body);
  const auto& rq = server.requests();
  BOOST_REQUIRE(rq.size() == 4u);
  BOOST_TEST(rq[0].method == "GET");
  BOOST_TEST(rq[0].target == "/api/pr-fix-queue/queued?lane=ESCALATED");
  BOOST_TEST(rq[1].method == "POST");
  BOOST_TEST(rq[1].target == "/api/pr-fix-queue/mark");
  BOOST_TEST(json::parse(rq[1].body) ==
             json::parse(R"({"repo":"o/r","pr":12,"status":"FIXED","note":"fixed in lane NORMAL at attempt 1"})"));
  BOOST_TEST(rq[1].headers.at("authorization") == "Bearer s3cret-token");
}

BOOST_AUTO_TEST_CASE(claim_outcomes_by_status) {
  struct Row {
    int status;
    dispatch::ClaimOutcome outcome;
    std::size_t requests;
  };
  // A 409 asks whether the issue is ours after all (here the check answers 409 too: taken).
  const Row rows[] = {{200, dispatch::ClaimOutcome::Claimed, 1},
                      {409, dispatch::ClaimOutcome::Taken, 2},
                      {400, dispatch::ClaimOutcome::Closed, 1},
                      {404, dispatch::ClaimOutcome::Unknown, 1}};
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.status) {
      asio::io_context io;
      TestServer server(io, [&](const TestRequest&) { return reply(r.status, R"({"error":"x"})"); });
      dispatch::Client client(io.get_executor(), options(server));
      dispatch::ClaimResult got;
      auto body = [&]() -> awaitable<void> { got = co_await client.claim(kIssue); };
      run(io, body);
      BOOST_TEST(static_cast<int>(got.outcome) == static_cast<int>(r.outcome));
      BOOST_TEST(server.requests().size() == r.requests);  // not transient: no retry
    }
  }
}

// Issue 20, item 2: a claim whose connection fails after it was written is not sent again
// blindly (made twice, dispatch answers 409 and the issue would be stranded): dispatch's
// list of this agent's claims says whether it was made; a 409 that is ours is a claim; a
// comment is never sent twice.
BOOST_AUTO_TEST_CASE(a_claim_with_a_lost_answer_asks_what_happened) {
  struct Row {
    const char* given;
    std::vector<std::string> script;  // per claim POST: "drop-made", "drop-not-made", "409-ours", "200"
    dispatch::ClaimOutcome outcome;
    std::vector<std::string> sent;
  };
  const Row rows[] = {
      {"made, answer lost", {"drop-made"}, dispatch::ClaimOutcome::Claimed, {"POST claim", "GET claimed"}},
      {"not made, answer lost", {"drop-not-made", "200"}, dispatch::ClaimOutcome::Claimed,
       {"POST claim", "GET claimed", "POST claim"}},
      {"ours, answered 409", {"409-ours"}, dispatch::ClaimOutcome::Claimed, {"POST claim", "GET claimed"}},
      {"someone else's, 409", {"409-theirs"}, dispatch::ClaimOutcome::Taken, {"POST claim", "GET claimed"}},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) {
      asio::io_context io;
      std::size_t posts = 0;
      bool ours = false;
      std::vector<std::string> sent;
      TestServer server(io, [&](const TestRequest& q) {
        const bool claim = q.target == "/api/issues/claim";
        sent.push_back(claim ? "POST claim" : "GET claimed");
        if (!claim) {
          return reply(200, ours ? R"([{"issueId":"I_kw1","number":42,"repoFullName":"misospace/dispatch"}])" : "[]");
        }
        const std::string step = r.script.at(std::min(posts++, r.script.size() - 1));
        TestReply rep = reply(200, R"({"success":true})");
        if (step.starts_with("drop")) rep.mode = TestReply::Mode::Drop;
        if (step.starts_with("409")) rep = reply(409, R"({"error":"claimed"})");
        ours = ours || step == "drop-made" || step == "409-ours" || step == "200";
        return rep;
      });
      dispatch::Client client(io.get_executor(), options(server));
      dispatch::ClaimResult got;
      auto body = [&]() -> awaitable<void> { got = co_await client.claim(kIssue); };
      run(io, body);
      BOOST_TEST(static_cast<int>(got.outcome) == static_cast<int>(r.outcome));
      BOOST_TEST(got.checked);
      BOOST_TEST(sent == r.sent, boost::test_tools::per_element());
    }
  }
}

BOOST_AUTO_TEST_CASE(a_comment_with_a_lost_answer_is_not_posted_again) {
  asio::io_context io;
  TestServer server(io, [](const TestRequest&) {
    TestReply rep;
    rep.mode = TestReply::Mode::Drop;
    return rep;
  });
  dispatch::Client client(io.get_executor(), options(server));
  auto body = [&]() -> awaitable<void> { co_await client.comment(kIssue, "Needs a human decision"); };
  try {
    run(io, body);
    BOOST_ERROR("expected DispatchError");
  } catch (const dispatch::DispatchError& e) {
    BOOST_TEST(e.request_sent());
    BOOST_TEST(e.status() == 0);
  }
  BOOST_TEST(server.requests().size() == 1u);
}

BOOST_AUTO_TEST_CASE(unclaim_400_and_state_404_are_answers) {
  asio::io_context io;
  TestServer server(io, [](const TestRequest& r) {
    return r.target.rfind("/api/issues/state", 0) == 0 ? reply(404, "{}") : reply(400, R"({"error":"not claimed"})");
  });
  dispatch::Client client(io.get_executor(), options(server));
  bool released = false;
  std::optional<json::value> state = json::value(1);
  auto body = [&]() -> awaitable<void> {
    released = co_await client.unclaim(kIssue);
    state = co_await client.issue_state("o/r", 1);
  };
  run(io, body);
  BOOST_TEST(released);
  BOOST_TEST(!state.has_value());
}

BOOST_AUTO_TEST_CASE(transient_failures_are_retried) {
  // Each row: the statuses answered in turn; whether the call succeeds in the end.
  struct Row {
    std::vector<int> statuses;
    bool ok;
    std::size_t requests;
  };
  const Row rows[] = {
      {{503, 503, 200}, true, 3},
      {{429, 200}, true, 2},
      {{500, 502, 504, 200}, true, 4},
      {{500, 500, 500, 500, 500}, false, 4},  // max_attempts = 4
      {{401}, false, 1},                      // not transient
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.statuses.size() << " answers, first " << r.statuses.front()) {
      asio::io_context io;
      std::size_t n = 0;
      TestServer server(io, [&](const TestRequest&) {
        const int status = r.statuses.at(std::min(n++, r.statuses.size() - 1));
        return status == 429 ? reply(status, "{}", {{"Retry-After", "0"}}) : reply(status, "[]");
      });
      dispatch::Client client(io.get_executor(), options(server));
      std::vector<int> observed;
      client.set_observer([&](std::string_view endpoint, int status, double) {
        BOOST_TEST(endpoint == "queue");
        observed.push_back(status);
      });
      auto body = [&]() -> awaitable<void> { co_await client.queue("cloud"); };
      if (r.ok) {
        run(io, body);
      } else {
        try {
          run(io, body);
          BOOST_ERROR("expected DispatchError");
        } catch (const dispatch::DispatchError& e) {
          BOOST_TEST(e.endpoint() == "queue");
          BOOST_TEST(std::string(e.what()).find("s3cret") == std::string::npos);
        }
      }
      BOOST_TEST(server.requests().size() == r.requests);
      BOOST_TEST(observed.size() == r.requests);
    }
  }
}

BOOST_AUTO_TEST_CASE(timeouts_and_garbage) {
  asio::io_context io;
  TestServer server(io, [](const TestRequest& r) {
    if (r.target.find("lane=stall") != std::string::npos) {
      TestReply s;
      s.mode = TestReply::Mode::Stall;
      return s;
    }
    return reply(200, "<html>not json");
  });
  auto opts = options(server);
  opts.get_timeout = 200ms;
  opts.max_attempts = 2;
  dispatch::Client client(io.get_executor(), opts);
  auto stall = [&]() -> awaitable<void> { co_await client.queue("stall"); };
  try {
    run(io, stall);
    BOOST_ERROR("expected a timeout");
  } catch (const dispatch::DispatchError& e) {
    BOOST_TEST(e.status() == 0);
    BOOST_TEST(e.transient());
    BOOST_TEST(std::string(e.what()).find("timed out") != std::string::npos, e.what());
  }
  io.restart();
  auto garbage = [&]() -> awaitable<void> { co_await client.queue("local"); };
  try {
    run(io, garbage);
    BOOST_ERROR("expected a parse failure");
  } catch (const dispatch::DispatchError& e) {
    BOOST_TEST(std::string(e.what()).find("not JSON") != std::string::npos, e.what());
  }
}

BOOST_AUTO_TEST_CASE(redacted_urls) {
  BOOST_TEST(dispatch::redact_url("http://dispatch.llm:3000") == "http://dispatch.llm:3000");
  BOOST_TEST(dispatch::redact_url("https://user:pw@dispatch.llm/x@y") == "https://***@dispatch.llm/x@y");
}

BOOST_AUTO_TEST_SUITE_END()
