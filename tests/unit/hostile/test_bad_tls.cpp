// Bad TLS material and failed verification, against the scripted test server with a PKI
// made during the test: a ConfigError naming the configuration source when the material
// cannot be loaded, an ApiError of kind Transport naming the handshake when verification
// fails, and a DispatchError for the dispatch service.
#include "dispatch/client_io.hpp"
#include "support/pki.hpp"
#include "support/test_server.hpp"
#include "watch/client_io.hpp"
#include "watch/config.hpp"
#include "watch/errors.hpp"
#include "watch/request.hpp"
#include "support/run_coroutine.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <string>

namespace asio = boost::asio;
using asio::awaitable;
using namespace fdb;
using namespace fdb::kube;
using namespace std::chrono_literals;

using fdb::test::run;

namespace {

const test::Pem& ca() {
  static const test::Pem pem = test::make_ca("fdb hostile CA");
  return pem;
}
const test::Pem& server_cert() {
  static const test::Pem pem = test::make_leaf(ca(), "kube-apiserver", {"DNS:localhost", "IP:127.0.0.1"}, false);
  return pem;
}

test::TestReply ok() {
  test::TestReply r;
  r.body = "{}";
  return r;
}

std::string config_error(const ClusterConfig& cfg) {
  asio::io_context io;
  try {
    Client client(io.get_executor(), cfg);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(accepted)";
}

// A ClusterConfig as a kubeconfig would give it, without reading files.
ClusterConfig from_kubeconfig(const std::string& cluster, const std::string& user) {
  const std::string text = "current-context: main\nclusters: [{name: c, cluster: " + cluster +
                           "}]\ncontexts: [{name: main, context: {cluster: c, user: u}}]\nusers: [{name: u, user: " + user + "}]\n";
  return parse_kubeconfig(text, "/nonexistent", {}, "kubeconfig kc.yaml",
                          [](const std::filesystem::path& p, std::string_view) { return "FILE " + p.string(); });
}

std::string base64(std::string_view in) {
  static constexpr char k[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += {k[(v >> 18) & 63], k[(v >> 12) & 63], k[(v >> 6) & 63], k[v & 63]};
  }
  if (const std::size_t rest = in.size() - i; rest > 0) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (rest == 2) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += {k[(v >> 18) & 63], k[(v >> 12) & 63], rest == 2 ? k[(v >> 6) & 63] : '=', '='};
  }
  return out;
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

BOOST_AUTO_TEST_SUITE(hostile_tls)

BOOST_AUTO_TEST_CASE(material_that_cannot_be_loaded_is_a_config_error) {
  const auto other = test::make_ca("other");
  ClusterConfig base;
  base.server = "https://127.0.0.1:1";
  base.source = "kubeconfig kc.yaml (context main)";
  struct Row {
    std::string name;
    std::function<void(ClusterConfig&)> change;
    std::string expect_prefix;
  };
  const std::string corrupt_ca = "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n";
  const Row rows[] = {
      {"garbage CA", [](ClusterConfig& c) { c.ca_pem = "hello"; },
       "kubeconfig kc.yaml (context main): the certificate authority is not valid PEM ("},
      {"corrupt CA PEM", [&](ClusterConfig& c) { c.ca_pem = corrupt_ca; },
       "kubeconfig kc.yaml (context main): the certificate authority is not valid PEM ("},
      {"a key where the CA should be", [](ClusterConfig& c) { c.ca_pem = ca().key; },
       "kubeconfig kc.yaml (context main): the certificate authority is not valid PEM ("},
      {"garbage client certificate",
       [](ClusterConfig& c) {
         c.client_cert_pem = "hello";
         c.client_key_pem = server_cert().key;
       },
       "kubeconfig kc.yaml (context main): the client certificate is not valid PEM ("},
      {"garbage client key",
       [](ClusterConfig& c) {
         c.client_cert_pem = server_cert().cert;
         c.client_key_pem = "hello";
       },
       "kubeconfig kc.yaml (context main): the client key is not valid PEM or does not match ("},
      {"mismatched client certificate and key",
       [&](ClusterConfig& c) {
         c.client_cert_pem = server_cert().cert;
         c.client_key_pem = other.key;
       },
       "kubeconfig kc.yaml (context main): the client key is not valid PEM or does not match ("},
      {"a certificate without its key",
       [](ClusterConfig& c) { c.client_cert_pem = server_cert().cert; },
       "kubeconfig kc.yaml (context main): the client key is not valid PEM or does not match ("},
      {"not a URL", [](ClusterConfig& c) { c.server = "https://[::1"; }, "server \"https://[::1\": not a valid URL"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.name) {
      ClusterConfig cfg = base;
      r.change(cfg);
      const std::string e = config_error(cfg);
      BOOST_TEST(starts_with(e, r.expect_prefix), e);
      BOOST_TEST(e.find('\n') == std::string::npos);
      BOOST_TEST(e.find("PRIVATE KEY") == std::string::npos);  // never the material itself
    }
  }
  // The same from a kubeconfig whose -data fields decode to garbage.
  const auto cfg = from_kubeconfig("{server: 'https://127.0.0.1:1', certificate-authority-data: " + base64("junk") + "}",
                                   "{token: t}");
  BOOST_TEST(starts_with(config_error(cfg), "kubeconfig kc.yaml (context main): the certificate authority is not valid PEM ("),
             config_error(cfg));
}

BOOST_AUTO_TEST_CASE(verification_failures_are_transport_errors) {
  const auto other_ca = test::make_ca("some other CA");
  const auto client_ca = test::make_ca("client CA");
  const auto stranger = test::make_leaf(other_ca, "stranger", {}, true);
  struct Row {
    std::string name;
    std::string ca;
    std::string client_ca;  // the server wants a client certificate signed by it
    test::Pem client;       // what the client presents
    std::string expect;     // in the message
    bool in_handshake;      // the client sees it in its handshake (TLS 1.3: the server's
                            // refusal of a client certificate arrives with the answer)
  };
  const Row rows[] = {
      {"server signed by another CA", other_ca.cert, "", {}, "certificate verify failed", true},
      {"client certificate from another CA", ca().cert, client_ca.cert, stranger, "alert unknown ca", false},
      {"no client certificate where one is required", ca().cert, client_ca.cert, {}, "alert certificate required", false},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.name) {
      asio::io_context io;
      test::TestServer server(io, [](const test::TestRequest&) { return ok(); },
                              test::TlsOptions{server_cert().cert, server_cert().key, r.client_ca});
      ClusterConfig cfg;
      cfg.server = server.url();
      cfg.source = "test";
      cfg.ca_pem = r.ca;
      cfg.client_cert_pem = r.client.cert;
      cfg.client_key_pem = r.client.key;
      Client client(io.get_executor(), cfg);
      auto body = [&]() -> awaitable<void> { co_await client.call(Requests(workloads(), "llm").get("a")); };
      try {
        run(io, body);
        BOOST_ERROR("expected a failure");
      } catch (const ApiError& e) {
        BOOST_TEST_MESSAGE(e.what());
        BOOST_TEST(static_cast<int>(e.kind()) == static_cast<int>(ErrorKind::Transport));
        BOOST_TEST(e.retryable());
        BOOST_TEST(starts_with(e.what(), "GET /apis/foreman.llmkube.dev/v1alpha1/namespaces/llm/workloads/a"), e.what());
        const std::string what = e.what();
        BOOST_TEST((what.find("(TLS handshake with 127.0.0.1:") != std::string::npos) == r.in_handshake, what);
        BOOST_TEST(what.find(r.expect) != std::string::npos, what);
      }
      BOOST_TEST(server.requests().empty());
    }
  }
}

BOOST_AUTO_TEST_CASE(dispatch_behind_an_unknown_ca) {
  // The dispatch client verifies with the system roots: a private CA fails the handshake,
  // which is a transient DispatchError after the attempts.
  asio::io_context io;
  test::TestServer server(io, [](const test::TestRequest&) { return ok(); },
                          test::TlsOptions{server_cert().cert, server_cert().key, {}});
  dispatch::ClientOptions o;
  o.url = server.url();
  o.token = "s3cret-token";
  o.max_attempts = 2;
  o.base_backoff = 1ms;
  o.max_backoff = 2ms;
  dispatch::Client client(io.get_executor(), o);
  auto body = [&]() -> awaitable<void> { co_await client.queue("local"); };
  try {
    run(io, body);
    BOOST_ERROR("expected a DispatchError");
  } catch (const dispatch::DispatchError& e) {
    const std::string what = e.what();
    BOOST_TEST(e.transient());
    BOOST_TEST(e.status() == 0);
    BOOST_TEST(starts_with(what, "dispatch queue: "), what);
    BOOST_TEST(what.find("certificate verify failed") != std::string::npos, what);
    BOOST_TEST(what.find("(gave up after 2 attempts)") != std::string::npos, what);
    BOOST_TEST(what.find("s3cret") == std::string::npos);
  }
  BOOST_TEST(server.requests().empty());
}

BOOST_AUTO_TEST_SUITE_END()
