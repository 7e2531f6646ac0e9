// The API client over loopback against a scripted server: plain HTTP and keep-alive,
// typed errors, timeouts, bearer tokens and rotation, extra headers. (TLS:
// test_client_tls.cpp; watch streaming: test_client_stream.cpp.)
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

#include <filesystem>
#include <fstream>
#include <optional>
#include <random>

namespace asio = boost::asio;
using asio::awaitable;
using namespace fdb;
using namespace fdb::kube;
using namespace std::chrono_literals;
using namespace fdb::test;

BOOST_AUTO_TEST_SUITE(client_http)

BOOST_AUTO_TEST_CASE(keep_alive_reuses_one_connection) {
  asio::io_context io;
  TestServer server(io, [](const TestRequest& r) { return json(200, R"({"path":")" + r.target + "\"}"); });
  Client client(io.get_executor(), config_for(server.url()));
  auto body = [&]() -> awaitable<void> {
    for (int i = 0; i < 5; ++i) {
      const auto out = co_await client.call(Requests(workloads(), "llm").get("wl-" + std::to_string(i)));
      BOOST_TEST(out.find("wl-" + std::to_string(i)) != std::string::npos);
    }
  };
  run(io, body);
  BOOST_TEST(server.connections() == 1u);
  BOOST_TEST(client.connections_opened() == 1u);
  BOOST_TEST(server.requests().size() == 5u);
  const auto& h = server.requests().front().headers;
  BOOST_TEST(h.at("accept") == "application/json");
  BOOST_TEST(h.at("host") == "127.0.0.1:" + std::to_string(server.port()));
  BOOST_TEST(h.count("authorization") == 0u);
}

BOOST_AUTO_TEST_CASE(a_closed_idle_connection_is_replaced) {
  asio::io_context io;
  int n = 0;
  TestServer server(io, [&](const TestRequest&) {
    auto r = json(200, "{}");
    r.close = (++n == 1);  // the server closes after the first answer, without saying so first
    return r;
  });
  Client client(io.get_executor(), config_for(server.url()));
  auto body = [&]() -> awaitable<void> {
    co_await client.call(Requests(workloads(), "llm").get("a"));
    co_await client.call(Requests(workloads(), "llm").get("b"));
  };
  run(io, body);
  BOOST_TEST(server.requests().size() == 2u);
  BOOST_TEST(server.connections() == 2u);
}

// Issue 20, item 2: the server reads a request on a pooled connection and closes it
// without answering (a proxy's reset, a crash after the write). A GET is sent once more on
// a fresh connection; a POST — which the server may have acted on — is not, and its error
// says it was sent.
BOOST_AUTO_TEST_CASE(a_written_post_is_not_replayed_but_a_get_is) {
  asio::io_context io;
  int n = 0;
  TestServer server(io, [&](const TestRequest&) {
    TestReply r = json(200, "{}");
    ++n;
    if (n == 2 || n == 4) r.mode = TestReply::Mode::Drop;  // the 2nd and 4th requests
    return r;
  });
  Client client(io.get_executor(), config_for(server.url()));
  std::optional<ApiError> post_error;
  auto body = [&]() -> awaitable<void> {
    co_await client.call(Requests(workloads(), "llm").get("a"));  // 1: pools the connection
    co_await client.call(Requests(workloads(), "llm").get("b"));  // 2 dropped, 3 answers it
    try {
      co_await client.call(Requests(workloads(), "llm").create("{}"));  // 4 dropped: not resent
    } catch (const ApiError& e) {
      post_error = e;
    }
  };
  run(io, body);
  std::vector<std::string> sent;
  for (const auto& r : server.requests()) sent.push_back(r.method + " " + r.target.substr(r.target.rfind('/')));
  BOOST_TEST((sent == std::vector<std::string>{"GET /a", "GET /b", "GET /b", "POST /workloads"}),
             boost::test_tools::per_element());
  BOOST_TEST_REQUIRE(post_error.has_value());
  BOOST_TEST(static_cast<int>(post_error->kind()) == static_cast<int>(ErrorKind::Transport));
  BOOST_TEST(post_error->request_sent());
  BOOST_TEST(post_error->retryable());
}

// Issue 20, item 1: the request timeout bounds connecting too (the API server accepts
// nothing), not only the exchange; the connect timeout (10 s) is far longer.
BOOST_AUTO_TEST_CASE(a_stalled_connect_is_bounded_by_the_request_timeout) {
  asio::io_context io;
  TestServer server(io, [](const TestRequest&) { return json(200, "{}"); });
  server.stall_connects(true);
  Client client(io.get_executor(), config_for(server.url()));
  BOOST_TEST_REQUIRE(client.options().connect_timeout.count() >= 10000);
  const auto start = std::chrono::steady_clock::now();
  std::optional<ApiError> error;
  auto body = [&]() -> awaitable<void> {
    try {
      co_await client.call(Requests(workloads(), "llm").get("a"), std::chrono::milliseconds(400));
    } catch (const ApiError& e) {
      error = e;
    }
  };
  run(io, body);
  const auto took = std::chrono::steady_clock::now() - start;
  BOOST_TEST_REQUIRE(error.has_value());
  BOOST_TEST(static_cast<int>(error->kind()) == static_cast<int>(ErrorKind::Timeout));
  BOOST_TEST(!error->request_sent());
  BOOST_TEST_MESSAGE("gave up after " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
  BOOST_TEST((took < 5s));  // the 400 ms deadline ended it, not the 10 s connect timeout
  BOOST_TEST(server.requests().empty());
}

BOOST_AUTO_TEST_CASE(status_answers_become_typed_errors) {
  asio::io_context io;
  TestServer server(io, [](const TestRequest& r) {
    if (r.method == "POST") {
      auto rep = json(409, R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"workloads.foreman.llmkube.dev \"a\" already exists","reason":"AlreadyExists","code":409})");
      return rep;
    }
    auto rep = json(429, R"({"kind":"Status","status":"Failure","reason":"TooManyRequests","code":429})");
    rep.headers.emplace_back("Retry-After", "2");
    return rep;
  });
  Client client(io.get_executor(), config_for(server.url()));
  std::vector<ApiError> errors;
  auto body = [&]() -> awaitable<void> {
    for (auto req : {Requests(workloads(), "llm").create("{}"), Requests(workloads(), "llm").get("a")}) {
      try {
        co_await client.call(req);
      } catch (const ApiError& e) {
        errors.push_back(e);
      }
    }
    // send() hands back any answer as it is.
    const auto raw = co_await client.send(Requests(workloads(), "llm").get("a"));
    BOOST_TEST(raw.status == 429);
    BOOST_TEST(raw.retry_after == "2");
  };
  run(io, body);
  BOOST_REQUIRE(errors.size() == 2u);
  BOOST_TEST(static_cast<int>(errors[0].kind()) == static_cast<int>(ErrorKind::AlreadyExists));
  BOOST_TEST(errors[0].context() == "POST /apis/foreman.llmkube.dev/v1alpha1/namespaces/llm/workloads");
  BOOST_TEST(static_cast<int>(errors[1].kind()) == static_cast<int>(ErrorKind::TooManyRequests));
  BOOST_TEST(errors[1].retry_after()->count() == 2);
}

BOOST_AUTO_TEST_CASE(a_stalling_server_hits_the_timeout) {
  asio::io_context io;
  TestServer server(io, [](const TestRequest&) {
    TestReply r;
    r.mode = TestReply::Mode::Stall;
    return r;
  });
  ClientOptions opts;
  opts.request_timeout = 300ms;
  Client client(io.get_executor(), config_for(server.url()), opts);
  const auto start = std::chrono::steady_clock::now();
  auto body = [&]() -> awaitable<void> { co_await client.call(Requests(workloads(), "llm").get("a")); };
  BOOST_TEST(static_cast<int>(kind_of([&] { run(io, body); })) == static_cast<int>(ErrorKind::Timeout));
  // It was the 300 ms deadline that ended it, not the server's 60 s stall.
  BOOST_TEST((std::chrono::steady_clock::now() - start < 10s));
}

BOOST_AUTO_TEST_CASE(connection_refused_is_a_transport_error) {
  asio::io_context io;
  unsigned short port = 0;
  {
    TestServer closed(io, [](const TestRequest&) { return json(200, "{}"); });
    port = closed.port();
  }
  Client client(io.get_executor(), config_for("http://127.0.0.1:" + std::to_string(port)));
  auto body = [&]() -> awaitable<void> { co_await client.call(Requests(workloads(), "llm").get("a")); };
  BOOST_TEST(static_cast<int>(kind_of([&] { run(io, body); })) == static_cast<int>(ErrorKind::Transport));
}

BOOST_AUTO_TEST_CASE(bearer_token_from_a_rotating_file) {
  const auto dir = std::filesystem::temp_directory_path() / ("fdb-token-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "token") << "first\n";
  asio::io_context io;
  TestServer server(io, [](const TestRequest&) { return json(200, "{}"); });
  auto cfg = config_for(server.url());
  cfg.token_file = (dir / "token").string();
  Client client(io.get_executor(), cfg);
  auto body = [&]() -> awaitable<void> {
    co_await client.call(Requests(workloads(), "llm").get("a"));
    std::ofstream(dir / "token.new") << "second-token\n";
    std::filesystem::rename(dir / "token.new", dir / "token");
    co_await client.call(Requests(workloads(), "llm").get("a"));
  };
  run(io, body);
  std::filesystem::remove_all(dir);
  BOOST_REQUIRE(server.requests().size() == 2u);
  BOOST_TEST(server.requests()[0].headers.at("authorization") == "Bearer first");
  BOOST_TEST(server.requests()[1].headers.at("authorization") == "Bearer second-token");
}

BOOST_AUTO_TEST_CASE(extra_headers_and_path_prefix) {
  asio::io_context io;
  TestServer server(io, [](const TestRequest&) { return json(200, "{}"); });
  ClientOptions opts;
  opts.extra_headers = {{"X-Agent-Name", "foreman-coder"}};
  auto cfg = config_for(server.url() + "/k8s/clusters/c-1/");
  cfg.token = "static";
  Client client(io.get_executor(), cfg, opts);
  // A named request: GCC 12 destroys a braced temporary inside co_await twice.
  const HttpRequest version{"GET", "/version", {}, {}, false};
  auto body = [&]() -> awaitable<void> { co_await client.call(version); };
  run(io, body);
  BOOST_TEST(server.requests().at(0).target == "/k8s/clusters/c-1/version");
  BOOST_TEST(server.requests().at(0).headers.at("x-agent-name") == "foreman-coder");
  BOOST_TEST(server.requests().at(0).headers.at("authorization") == "Bearer static");
}

BOOST_AUTO_TEST_SUITE_END()
