// The API client over TLS with a CA made during the test: the right CA, a wrong CA or
// name, insecure, a client certificate, bad TLS material.
#include "client_fixture.hpp"
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

namespace asio = boost::asio;
using asio::awaitable;
using namespace fdb;
using namespace fdb::kube;
using namespace std::chrono_literals;
using namespace fdb::test;

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
