// The API client over loopback against a scripted server: plain HTTP and keep-alive,
// TLS with a CA made during the test (right CA, wrong CA, insecure), a client
// certificate, bearer tokens and rotation, timeouts, and watch streaming.
#include "support/pki.hpp"
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
using asio::use_awaitable;
using namespace fdb;
using namespace fdb::kube;
using namespace std::chrono_literals;
using test::TestReply;
using test::TestRequest;
using test::TestServer;

using fdb::test::run;

namespace {

// Runs `body` on `io` to completion (at most 30 s) and rethrows what it threw.
ClusterConfig config_for(const std::string& url) {
  ClusterConfig c;
  c.server = url;
  c.source = "test";
  return c;
}

TestReply json(int status, std::string body) {
  TestReply r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

const test::Pem& ca() {
  static const test::Pem pem = test::make_ca("fdb test CA");
  return pem;
}
const test::Pem& server_cert() {
  static const test::Pem pem = test::make_leaf(ca(), "kube-apiserver", {"DNS:localhost", "IP:127.0.0.1"}, false);
  return pem;
}

ErrorKind kind_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ApiError& e) {
    BOOST_TEST_MESSAGE("ApiError: " << e.what());
    return e.kind();
  }
  BOOST_FAIL("expected an ApiError");
  return ErrorKind::Unknown;
}

}  // namespace

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

BOOST_AUTO_TEST_SUITE(client_tls)

BOOST_AUTO_TEST_CASE(the_right_ca_succeeds_by_ip_and_by_name) {
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    BOOST_TEST_CONTEXT(host) {
      asio::io_context io;
      TestServer server(io, [](const TestRequest&) { return json(200, R"({"ok":true})"); },
                        test::TlsOptions{server_cert().cert, server_cert().key, {}});
      auto cfg = config_for(server.url(host));
      cfg.ca_pem = ca().cert;
      Client client(io.get_executor(), cfg);
      std::string out;
      auto body = [&]() -> awaitable<void> {
        out = co_await client.call(Requests(workloads(), "llm").get("a"));
        out += co_await client.call(Requests(workloads(), "llm").get("b"));
      };
      run(io, body);
      BOOST_TEST(out == R"({"ok":true}{"ok":true})");
      BOOST_TEST(server.connections() == 1u);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_wrong_ca_or_a_wrong_name_fails) {
  const auto other_ca = test::make_ca("some other CA");
  struct Row {
    std::string name;
    std::string ca;
    std::string tls_server_name;
  };
  const Row rows[] = {
      {"wrong CA", other_ca.cert, ""},
      {"right CA, name not in the certificate", ca().cert, "not-the-server.example"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.name) {
      asio::io_context io;
      TestServer server(io, [](const TestRequest&) { return json(200, "{}"); },
                        test::TlsOptions{server_cert().cert, server_cert().key, {}});
      auto cfg = config_for(server.url());
      cfg.ca_pem = r.ca;
      cfg.tls_server_name = r.tls_server_name;
      Client client(io.get_executor(), cfg);
      auto body = [&]() -> awaitable<void> { co_await client.call(Requests(workloads(), "llm").get("a")); };
      try {
        run(io, body);
        BOOST_ERROR("the handshake should have failed");
      } catch (const ApiError& e) {
        BOOST_TEST(static_cast<int>(e.kind()) == static_cast<int>(ErrorKind::Transport));
        BOOST_TEST(std::string(e.what()).find("TLS handshake") != std::string::npos, e.what());
      }
      BOOST_TEST(server.requests().empty());
    }
  }
}

BOOST_AUTO_TEST_CASE(insecure_skip_verify_accepts_any_certificate) {
  asio::io_context io;
  TestServer server(io, [](const TestRequest&) { return json(200, "{}"); },
                    test::TlsOptions{server_cert().cert, server_cert().key, {}});
  auto cfg = config_for(server.url());
  cfg.insecure_skip_tls_verify = true;
  Client client(io.get_executor(), cfg);
  auto body = [&]() -> awaitable<void> { co_await client.call(Requests(workloads(), "llm").get("a")); };
  run(io, body);
  BOOST_TEST(server.requests().size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_client_certificate_is_presented) {
  const auto client_ca = test::make_ca("client CA");
  const auto client_cert = test::make_leaf(client_ca, "foreman-dispatch-bridge", {}, true);
  for (const bool present : {true, false}) {
    BOOST_TEST_CONTEXT("client certificate " << (present ? "present" : "absent")) {
      asio::io_context io;
      TestServer server(io, [](const TestRequest&) { return json(200, "{}"); },
                        test::TlsOptions{server_cert().cert, server_cert().key, client_ca.cert});
      auto cfg = config_for(server.url());
      cfg.ca_pem = ca().cert;
      if (present) {
        cfg.client_cert_pem = client_cert.cert;
        cfg.client_key_pem = client_cert.key;
      }
      Client client(io.get_executor(), cfg);
      auto body = [&]() -> awaitable<void> { co_await client.call(Requests(workloads(), "llm").get("a")); };
      if (present) {
        run(io, body);
        BOOST_REQUIRE(server.requests().size() == 1u);
        BOOST_TEST(server.requests()[0].client_cn == "foreman-dispatch-bridge");
      } else {
        BOOST_TEST(static_cast<int>(kind_of([&] { run(io, body); })) == static_cast<int>(ErrorKind::Transport));
        BOOST_TEST(server.requests().empty());
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(bad_tls_material_is_a_config_error) {
  asio::io_context io;
  auto cfg = config_for("https://127.0.0.1:1");
  cfg.ca_pem = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n";
  BOOST_CHECK_THROW(Client(io.get_executor(), cfg), ConfigError);
  cfg.ca_pem = ca().cert;
  cfg.client_cert_pem = server_cert().cert;
  cfg.client_key_pem = test::make_ca("x").key;  // does not match the certificate
  BOOST_CHECK_THROW(Client(io.get_executor(), cfg), ConfigError);
  BOOST_CHECK_THROW(Client(io.get_executor(), config_for("ftp://x")), ConfigError);
}

BOOST_AUTO_TEST_SUITE_END()

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
