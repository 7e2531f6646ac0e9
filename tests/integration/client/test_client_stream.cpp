// The API client's watch streaming against a scripted server: lines as they are sent,
// an idle stream's timeout, error answers and oversized lines, cancellation.
#include "client_fixture.hpp"
#include "support/test_server.hpp"
#include "watch/client_io.hpp"
#include "watch/errors.hpp"
#include "support/run_coroutine.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using namespace fdb;
using namespace fdb::kube;
using namespace std::chrono_literals;
using namespace fdb::test;

BOOST_AUTO_TEST_SUITE(client_stream)

BOOST_AUTO_TEST_CASE(lines_arrive_as_they_are_sent) {
  asio::io_context io;
  std::vector<std::string> lines;
  asio::steady_timer gate(io, asio::steady_timer::time_point::max());
  bool gate_opened_by_client = false;
  TestServer server(io, [&](const TestRequest&) {
    TestReply r;
    r.mode = TestReply::Mode::Stream;
    // The first event is split inside a line and inside a UTF-8 sequence (é = c3 a9).
    r.chunks = {"{\"type\":\"ADDED\",\"object\":{\"t\":\"caf\xc3", "\xa9\"}}\n",
                "{\"type\":\"DELETED\",\"object\":{}}\n"};
    r.before_chunk = [&](std::size_t i) -> awaitable<void> {
      if (i == 2) {
        // Hold the second event until the client has handed the first one over: a client
        // that buffered the stream would stall here until the test's deadline.
        co_await gate.async_wait(asio::as_tuple(use_awaitable));
      }
    };
    return r;
  });
  Client client(io.get_executor(), config_for(server.url()));
  auto body = [&]() -> awaitable<void> {
    auto on_line = [&](std::string_view line) {
      lines.emplace_back(line);
      if (lines.size() == 1) {
        gate_opened_by_client = true;
        gate.cancel();
      }
    };
    const auto watch = Requests(workloads()).watch({.resource_version = "5"});
    co_await client.stream(watch, on_line, 10s);
  };
  run(io, body);
  BOOST_TEST(gate_opened_by_client);
  BOOST_REQUIRE(lines.size() == 2u);
  BOOST_TEST(lines[0] == "{\"type\":\"ADDED\",\"object\":{\"t\":\"caf\xc3\xa9\"}}");
  BOOST_TEST(lines[1] == "{\"type\":\"DELETED\",\"object\":{}}");
  BOOST_TEST(server.requests().at(0).target ==
             "/apis/foreman.llmkube.dev/v1alpha1/workloads?watch=true&resourceVersion=5&allowWatchBookmarks=true");
}

BOOST_AUTO_TEST_CASE(an_idle_stream_times_out) {
  asio::io_context io;
  TestServer server(io, [](const TestRequest&) {
    TestReply r;
    r.mode = TestReply::Mode::Stream;
    r.chunks = {"{\"type\":\"BOOKMARK\",\"object\":{}}\n"};
    r.end_stream = false;  // then silence
    return r;
  });
  Client client(io.get_executor(), config_for(server.url()));
  int seen = 0;
  auto body = [&]() -> awaitable<void> {
    auto on_line = [&](std::string_view) { ++seen; };
    co_await client.stream(Requests(workloads()).watch(), on_line, 300ms);
  };
  BOOST_TEST(static_cast<int>(kind_of([&] { run(io, body); })) == static_cast<int>(ErrorKind::Timeout));
  BOOST_TEST(seen == 1);
}

BOOST_AUTO_TEST_CASE(error_answers_and_oversized_lines) {
  asio::io_context io;
  TestServer server(io, [](const TestRequest& req) {
    if (req.target.find("resourceVersion=1") != std::string::npos) {
      return json(410, R"({"kind":"Status","status":"Failure","reason":"Expired","code":410,"message":"too old"})");
    }
    TestReply r;
    r.mode = TestReply::Mode::Stream;
    r.chunks = {std::string(5000, 'x'), "\n"};
    return r;
  });
  ClientOptions opts;
  opts.max_line_bytes = 4096;
  Client client(io.get_executor(), config_for(server.url()), opts);
  auto on_line = [](std::string_view) {};
  auto expired = [&]() -> awaitable<void> {
    const auto watch = Requests(workloads()).watch({.resource_version = "1"});
    co_await client.stream(watch, on_line, 5s);
  };
  BOOST_TEST(static_cast<int>(kind_of([&] { run(io, expired); })) == static_cast<int>(ErrorKind::Expired));
  io.restart();
  auto huge = [&]() -> awaitable<void> { co_await client.stream(Requests(workloads()).watch(), on_line, 5s); };
  BOOST_TEST(static_cast<int>(kind_of([&] { run(io, huge); })) == static_cast<int>(ErrorKind::Decode));
}

BOOST_AUTO_TEST_CASE(a_stream_can_be_cancelled) {
  using namespace asio::experimental::awaitable_operators;
  asio::io_context io;
  TestServer server(io, [](const TestRequest&) {
    TestReply r;
    r.mode = TestReply::Mode::Stream;
    r.end_stream = false;
    return r;
  });
  Client client(io.get_executor(), config_for(server.url()));
  bool timer_won = false;
  auto body = [&]() -> awaitable<void> {
    auto on_line = [](std::string_view) {};
    asio::steady_timer t(io, 200ms);
    auto r = co_await (client.stream(Requests(workloads()).watch(), on_line, 60s) ||
                       t.async_wait(use_awaitable));
    timer_won = r.index() == 1;
  };
  const auto start = std::chrono::steady_clock::now();
  run(io, body);
  BOOST_TEST(timer_won);
  BOOST_TEST((std::chrono::steady_clock::now() - start < 10s));
}

BOOST_AUTO_TEST_SUITE_END()
