// The operations HTTP server over loopback: routes, methods, HEAD, keep-alive, limits,
// timeouts, the connection cap (the oldest idle connection makes way) and a graceful stop.
#include "operator/http_server_io.hpp"
#include "operator/metrics.hpp"
#include "support/prom_parser.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/test/unit_test.hpp>

#include <map>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::awaitable;
using asio::use_awaitable;
using tcp = asio::ip::tcp;
using namespace fdb::op;
using namespace std::chrono_literals;

namespace {

struct Answer {
  unsigned status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  bool keep_alive = false;
};

awaitable<beast::tcp_stream> connect(unsigned short port) {
  beast::tcp_stream s(co_await asio::this_coro::executor);
  const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
  co_await s.async_connect(ep, use_awaitable);
  co_return s;
}

awaitable<Answer> request(beast::tcp_stream& s, http::verb verb, const std::string& target_in,
                          const std::string& body_in) {
  const std::string target = target_in;
  const std::string body = body_in;
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, "localhost");
  req.keep_alive(true);
  if (!body.empty()) req.body() = body;
  req.prepare_payload();
  s.expires_after(10s);
  co_await http::async_write(s, req, use_awaitable);
  beast::flat_buffer buf;
  http::response_parser<http::string_body> p;
  p.skip(verb == http::verb::head);
  co_await http::async_read(s, buf, p, use_awaitable);
  Answer a;
  const auto& res = p.get();
  a.status = res.result_int();
  a.body = res.body();
  a.keep_alive = res.keep_alive();
  for (const auto& f : res) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    a.headers[name] = std::string(f.value());
  }
  co_return a;
}

// Reads until the server closes the connection; returns what came (a raw HTTP answer).
awaitable<std::string> read_to_close(beast::tcp_stream& s) {
  std::string out;
  char buf[4096];
  s.expires_after(10s);
  for (;;) {
    auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), asio::as_tuple(use_awaitable));
    out.append(buf, n);
    if (ec) break;
  }
  co_return out;
}

awaitable<void> send_raw(beast::tcp_stream& s, const std::string& data_in) {
  const std::string data = data_in;
  co_await asio::async_write(s, asio::buffer(data), use_awaitable);
}

template <class F>
void run(asio::io_context& io, F& body) {
  std::exception_ptr error;
  bool done = false;
  asio::co_spawn(io, body(), [&](std::exception_ptr e) {
    error = e;
    done = true;
  });
  while (!done && io.run_one_for(30s) > 0) {
  }
  BOOST_REQUIRE_MESSAGE(done, "the test coroutine did not finish");
  if (error) std::rethrow_exception(error);
}

struct Fixture {
  fdb::metrics::Registry registry;
  bool ready = false;
  std::string not_ready_reason = "caches not synced";
  Routes routes() {
    Routes r;
    r.metrics = [this] { return registry.expose(); };
    r.healthz = [] { return Health{}; };
    r.readyz = [this] { return ready ? Health{} : Health{false, not_ready_reason}; };
    return r;
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(http_server)

BOOST_AUTO_TEST_CASE(serves_metrics_health_and_readiness) {
  asio::io_context io;
  Fixture fx;
  auto& c = fx.registry.counter("foreman_bridge_test_total", "A test counter.", {"k"});
  c.labels({"a\"b"}).inc(7);
  fx.registry.histogram("foreman_bridge_test_seconds", "A test histogram.").get().observe(0.3);
  HttpServer server(io.get_executor(), "127.0.0.1:0", fx.routes());
  BOOST_TEST(server.port() != 0);
  BOOST_TEST(server.local_address() == "127.0.0.1:" + std::to_string(server.port()));
  server.start();

  auto body = [&]() -> awaitable<void> {
    auto s = co_await connect(server.port());
    const std::string none;

    auto m = co_await request(s, http::verb::get, "/metrics", none);
    BOOST_TEST(m.status == 200u);
    BOOST_TEST(m.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8");
    BOOST_TEST(m.body == fx.registry.expose());
    const auto e = fdb::test::prom::parse(m.body);
    BOOST_TEST(e.errors.empty());
    BOOST_TEST_REQUIRE(e.find("foreman_bridge_test_total"));
    BOOST_TEST(e.find("foreman_bridge_test_total")->samples.at(0).labels.at("k") == "a\"b");
    BOOST_TEST(e.find("foreman_bridge_test_total")->samples.at(0).value == 7);
    BOOST_TEST(m.keep_alive);

    // Counters move between scrapes.
    c.labels({"a\"b"}).inc();
    m = co_await request(s, http::verb::get, "/metrics?debug=1", none);
    BOOST_TEST(m.status == 200u);
    BOOST_TEST(fdb::test::prom::parse(m.body).find("foreman_bridge_test_total")->samples.at(0).value == 8);

    auto h = co_await request(s, http::verb::head, "/metrics", none);
    BOOST_TEST(h.status == 200u);
    BOOST_TEST(h.body.empty());
    BOOST_TEST(h.headers["content-length"] == std::to_string(fx.registry.expose().size()));
    BOOST_TEST(h.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8");

    auto hz = co_await request(s, http::verb::get, "/healthz", none);
    BOOST_TEST(hz.status == 200u);
    BOOST_TEST(hz.body == "ok\n");

    auto rz = co_await request(s, http::verb::get, "/readyz", none);
    BOOST_TEST(rz.status == 503u);
    BOOST_TEST(rz.body.find("caches not synced") != std::string::npos);
    fx.ready = true;
    rz = co_await request(s, http::verb::get, "/readyz", none);
    BOOST_TEST(rz.status == 200u);
    BOOST_TEST(rz.body == "ok\n");

    auto nf = co_await request(s, http::verb::get, "/nope", none);
    BOOST_TEST(nf.status == 404u);
    nf = co_await request(s, http::verb::get, "/metricsx", none);
    BOOST_TEST(nf.status == 404u);

    for (auto verb : {http::verb::post, http::verb::put, http::verb::delete_, http::verb::patch}) {
      auto na = co_await request(s, verb, "/metrics", "{}");
      BOOST_TEST(na.status == 405u);
      BOOST_TEST(na.headers["allow"] == "GET, HEAD");
    }
    auto na = co_await request(s, http::verb::post, "/readyz", none);
    BOOST_TEST(na.status == 405u);

    // Everything went over one kept-alive connection.
    BOOST_TEST(server.connections() == 1u);
    server.stop();
    // The idle connection is closed by the stop.
    const auto rest = co_await read_to_close(s);
    BOOST_TEST(rest.empty());
  };
  run(io, body);
  // Stopped: nothing is left to run, so the context runs dry on its own.
  io.restart();
  io.run_for(10s);
  BOOST_TEST(io.stopped());
  BOOST_TEST(server.connections() == 0u);
}

BOOST_AUTO_TEST_CASE(an_unset_route_is_not_found_and_a_throwing_one_is_an_error) {
  asio::io_context io;
  Routes routes;
  routes.healthz = []() -> Health { throw std::runtime_error("boom"); };
  HttpServer server(io.get_executor(), "127.0.0.1:0", routes);
  server.start();
  auto body = [&]() -> awaitable<void> {
    auto s = co_await connect(server.port());
    const std::string none;
    auto a = co_await request(s, http::verb::get, "/metrics", none);
    BOOST_TEST(a.status == 404u);
    a = co_await request(s, http::verb::get, "/readyz", none);
    BOOST_TEST(a.status == 404u);
    a = co_await request(s, http::verb::get, "/healthz", none);
    BOOST_TEST(a.status == 500u);
    BOOST_TEST(a.body.find("boom") != std::string::npos);
    server.stop();
  };
  run(io, body);
}

BOOST_AUTO_TEST_CASE(oversized_and_malformed_requests_are_refused) {
  asio::io_context io;
  Fixture fx;
  ServerOptions opts;
  opts.max_header_bytes = 1024;
  opts.max_body_bytes = 16;
  HttpServer server(io.get_executor(), "127.0.0.1:0", fx.routes(), opts);
  server.start();
  auto body = [&]() -> awaitable<void> {
    {
      auto s = co_await connect(server.port());
      co_await send_raw(s, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4000, 'a') + "\r\n\r\n");
      const auto answer = co_await read_to_close(s);
      BOOST_TEST(answer.starts_with("HTTP/1.1 431"), answer.substr(0, 40));
    }
    {
      auto s = co_await connect(server.port());
      co_await send_raw(s, "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'b'));
      const auto answer = co_await read_to_close(s);
      BOOST_TEST(answer.starts_with("HTTP/1.1 413"), answer.substr(0, 40));
    }
    {
      auto s = co_await connect(server.port());
      co_await send_raw(s, "THIS IS NOT HTTP\r\n\r\n");
      const auto answer = co_await read_to_close(s);
      BOOST_TEST(answer.starts_with("HTTP/1.1 400"), answer.substr(0, 40));
    }
    {
      // A request within the limits on a fresh connection still works.
      auto s = co_await connect(server.port());
      const std::string none;
      auto a = co_await request(s, http::verb::get, "/healthz", none);
      BOOST_TEST(a.status == 200u);
    }
    server.stop();
  };
  run(io, body);
}

BOOST_AUTO_TEST_CASE(a_silent_client_is_dropped_after_the_read_timeout) {
  asio::io_context io;
  Fixture fx;
  ServerOptions opts;
  opts.read_timeout = 200ms;
  HttpServer server(io.get_executor(), "127.0.0.1:0", fx.routes(), opts);
  server.start();
  auto body = [&]() -> awaitable<void> {
    auto s = co_await connect(server.port());
    co_await send_raw(s, "GET /heal");  // half a request line, then silence
    const auto answer = co_await read_to_close(s);
    BOOST_TEST(answer.empty());
    server.stop();
  };
  run(io, body);
}

BOOST_AUTO_TEST_CASE(at_the_cap_the_oldest_idle_connection_makes_way) {
  asio::io_context io;
  Fixture fx;
  ServerOptions opts;
  opts.max_connections = 2;
  HttpServer server(io.get_executor(), "127.0.0.1:0", fx.routes(), opts);
  server.start();
  auto body = [&]() -> awaitable<void> {
    const std::string none;
    auto first = co_await connect(server.port());
    auto a = co_await request(first, http::verb::get, "/healthz", none);
    BOOST_TEST(a.status == 200u);
    auto slow = co_await connect(server.port());
    co_await send_raw(slow, "GET /heal");  // a request begun: not idle
    // A third: the first (idle since its answer) is closed for it, the slow one is not.
    auto third = co_await connect(server.port());
    a = co_await request(third, http::verb::get, "/healthz", none);
    BOOST_TEST(a.status == 200u);
    BOOST_TEST(a.body == "ok\n");
    const std::string after = co_await read_to_close(first);
    BOOST_TEST(after.empty());
    co_await send_raw(slow, "thz HTTP/1.1\r\nHost: x\r\n\r\n");
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    co_await http::async_read(slow, buf, res, use_awaitable);
    BOOST_TEST(res.result_int() == 200u);
    server.stop();
  };
  run(io, body);
}

// Issue 20: a crowd of idle connections (a scraper's leak, a port scan, a few a second for
// minutes) must not lock the kubelet's probes out.
BOOST_AUTO_TEST_CASE(probes_answer_while_500_idle_connections_are_open) {
  asio::io_context io;
  Fixture fx;
  HttpServer server(io.get_executor(), "127.0.0.1:0", fx.routes());  // the default cap, 64
  server.start();
  std::vector<beast::tcp_stream> idle;
  auto body = [&]() -> awaitable<void> {
    const std::string none;
    for (int i = 0; i < 500; ++i) {
      idle.push_back(co_await connect(server.port()));
      if (i % 100 == 99) {
        // A probe now and then, each on a new connection as the kubelet makes them.
        auto probe = co_await connect(server.port());
        const auto a = co_await request(probe, http::verb::get, "/healthz", none);
        BOOST_TEST(a.status == 200u);
      }
    }
    for (const char* path : {"/healthz", "/readyz", "/metrics"}) {
      auto probe = co_await connect(server.port());
      const auto a = co_await request(probe, http::verb::get, path, none);
      BOOST_TEST(a.status == (std::string(path) == "/readyz" ? 503u : 200u), path);
    }
    BOOST_TEST(server.connections() <= 64u + 1u);
    server.stop();
  };
  run(io, body);
  BOOST_TEST(idle.size() == 500u);
}

BOOST_AUTO_TEST_CASE(a_stopped_server_refuses_connections) {
  asio::io_context io;
  Fixture fx;
  HttpServer server(io.get_executor(), "127.0.0.1:0", fx.routes());
  server.start();
  server.stop();
  io.poll();  // run the start and the stop
  io.restart();
  BOOST_TEST(server.connections() == 0u);
  const auto port = server.port();
  auto body = [&]() -> awaitable<void> {
    tcp::socket s(co_await asio::this_coro::executor);
    auto [ec] = co_await s.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                                         asio::as_tuple(use_awaitable));
    BOOST_TEST(ec == asio::error::connection_refused, ec.message());
  };
  run(io, body);
}

BOOST_AUTO_TEST_CASE(listen_addresses) {
  struct Case {
    std::string in;
    std::string host;
    unsigned short port;
  };
  for (const auto& c : std::vector<Case>{{"0.0.0.0:8080", "0.0.0.0", 8080},
                                         {":8081", "0.0.0.0", 8081},
                                         {"127.0.0.1:0", "127.0.0.1", 0},
                                         {"localhost:65535", "localhost", 65535},
                                         {"[::1]:9090", "::1", 9090},
                                         {"[::]:0", "::", 0}}) {
    const auto hp = parse_host_port(c.in);
    BOOST_TEST(hp.host == c.host, c.in);
    BOOST_TEST(hp.port == c.port, c.in);
  }
  for (const std::string bad : {"", "8080", "host", "host:", "host:http", "host:65536", "host:-1", "::1:80",
                                "[::1]80", "[::1", "[]:80", "host:80x"}) {
    BOOST_CHECK_THROW(parse_host_port(bad), std::invalid_argument);
  }
  asio::io_context io;
  Fixture fx;
  HttpServer first(io.get_executor(), "127.0.0.1:0", fx.routes());
  BOOST_CHECK_THROW(HttpServer(io.get_executor(), "127.0.0.1:" + std::to_string(first.port()), fx.routes()),
                    std::system_error);
  BOOST_CHECK_THROW(HttpServer(io.get_executor(), "127.0.0.1", fx.routes()), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
