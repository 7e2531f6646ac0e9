#include "watch/client_conn.hpp"

#include "watch/errors.hpp"

#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/url/parse.hpp>

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <openssl/err.h>
#include <sys/socket.h>

namespace fdb::kube::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

Endpoint parse_server(const std::string& server) {
  auto r = boost::urls::parse_uri(server);
  if (!r) throw ConfigError(fmt::format("server {:?}: not a valid URL", server));
  Endpoint ep;
  const auto scheme = r->scheme();
  if (scheme == "https") ep.tls = true;
  else if (scheme != "http") throw ConfigError(fmt::format("server {:?}: scheme must be http or https", server));
  ep.host = std::string(r->host_address());
  if (ep.host.empty()) throw ConfigError(fmt::format("server {:?}: has no host", server));
  ep.host_is_ip = r->host_type() == boost::urls::host_type::ipv4 ||
                  r->host_type() == boost::urls::host_type::ipv6;
  ep.port = r->has_port() ? std::string(r->port()) : (ep.tls ? "443" : "80");
  ep.host_header = std::string(r->encoded_host_and_port());
  ep.path_prefix = std::string(r->encoded_path());
  while (!ep.path_prefix.empty() && ep.path_prefix.back() == '/') ep.path_prefix.pop_back();
  return ep;
}

std::string openssl_errors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

[[noreturn]] void throw_io(const boost::system::error_code& ec, const std::string& context, bool sent) {
  auto raise = [sent](ApiError e) {
    if (sent) e.mark_request_sent();
    throw e;
  };
  if (ec == beast::error::timeout) raise(ApiError(ErrorKind::Timeout, 0, {}, "the request timed out", context));
  if (ec == asio::error::operation_aborted) {
    raise(ApiError(ErrorKind::Cancelled, 0, {}, "the request was cancelled", context));
  }
  std::string msg = ec.message();
  if (ec.category() == asio::error::get_ssl_category()) {
    if (auto more = openssl_errors(); !more.empty()) msg += " (" + more + ")";
  }
  raise(ApiError(ErrorKind::Transport, 0, {}, msg, context));
  std::abort();  // not reached: raise always throws
}

bool idempotent_method(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE" || method == "PUT" ||
         method == "DELETE";
}

bool idle_connection_alive(tcp::socket& socket) {
  if (!socket.is_open()) return false;
  char byte;
  const ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

std::unique_ptr<ssl::context> make_tls_context(const ClusterConfig& cfg, const Endpoint& ep) {
  auto ssl_ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  ssl_ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  boost::system::error_code ec;
  if (cfg.insecure_skip_tls_verify) {
    ssl_ctx->set_verify_mode(ssl::verify_none);
  } else {
    ssl_ctx->set_verify_mode(ssl::verify_peer);
    if (!cfg.ca_pem.empty()) {
      ssl_ctx->add_certificate_authority(asio::buffer(cfg.ca_pem), ec);
      if (ec) throw ConfigError(fmt::format("{}: the certificate authority is not valid PEM ({})", cfg.source, ec.message()));
    } else {
      ssl_ctx->set_default_verify_paths(ec);
      if (ec) throw ConfigError(fmt::format("{}: cannot load the system CA roots ({})", cfg.source, ec.message()));
    }
    const std::string name = cfg.tls_server_name.empty() ? ep.host : cfg.tls_server_name;
    ssl_ctx->set_verify_callback(ssl::host_name_verification(name));
  }
  if (!cfg.client_cert_pem.empty()) {
    ssl_ctx->use_certificate_chain(asio::buffer(cfg.client_cert_pem), ec);
    if (ec) throw ConfigError(fmt::format("{}: the client certificate is not valid PEM ({})", cfg.source, ec.message()));
    ssl_ctx->use_private_key(asio::buffer(cfg.client_key_pem), ssl::context::pem, ec);
    if (ec) throw ConfigError(fmt::format("{}: the client key is not valid PEM or does not match ({})", cfg.source, ec.message()));
  }
  return ssl_ctx;
}

}  // namespace fdb::kube::detail
