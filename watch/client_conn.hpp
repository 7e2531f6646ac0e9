// The API client's connections (watch/client_io.cpp's internals; includes Beast, so it is
// included only by the client's own sources): the server's address parsed from the
// kubeconfig, one plain or TLS connection with its read buffer, the TLS context made from
// the cluster config, and the helpers that turn a socket's failure into an ApiError. No
// function here awaits.
#pragma once

#include "watch/config.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>

#include <memory>
#include <string>

namespace fdb::kube::detail {

// One connection to the API server, plain or TLS, with its read buffer.
struct Conn {
  std::unique_ptr<boost::beast::tcp_stream> plain;
  std::unique_ptr<boost::beast::ssl_stream<boost::beast::tcp_stream>> tls;
  boost::beast::flat_buffer buffer;
  bool reused = false;

  boost::beast::tcp_stream& lowest() { return tls ? boost::beast::get_lowest_layer(*tls) : *plain; }
  void close() {
    boost::system::error_code ec;
    lowest().socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
    lowest().close();
  }
};

struct Endpoint {
  bool tls = false;
  std::string host;         // for connecting: a name or an address without brackets
  std::string port;
  std::string host_header;  // "host" or "host:port", brackets kept for IPv6
  std::string path_prefix;  // "" or "/prefix" (no trailing slash)
  bool host_is_ip = false;
};

// The server URL of a kubeconfig (http or https, host, port, a path prefix); throws
// ConfigError for anything else.
Endpoint parse_server(const std::string& server);

// The TLS client context for `cfg`: TLS 1.2 or later, the server verified against the
// config's CA (or the system roots) and `ep`'s host (or tls-server-name), the client
// certificate when there is one. Throws ConfigError when the material is unusable.
std::unique_ptr<boost::asio::ssl::context> make_tls_context(const ClusterConfig& cfg, const Endpoint& ep);

// OpenSSL's queued errors, "; "-separated (empty when none), and the queue cleared.
std::string openssl_errors();

// Throws the ApiError for a failed socket operation: Timeout, Cancelled, or Transport
// (with OpenSSL's own errors). `sent`: the whole request had been written when it failed
// (ApiError::request_sent).
[[noreturn]] void throw_io(const boost::system::error_code& ec, const std::string& context, bool sent = false);

// RFC 9110 §9.2.2: a request of these methods may be sent again when its connection
// failed after it was written; any other (POST, PATCH) may have been acted on, and is
// never resent by this client.
bool idempotent_method(std::string_view method);

// A pooled connection the server has closed (or written to: an idle HTTP/1.1 connection
// has nothing to say but its close, TLS's close_notify included) reads as ready; a live
// one would block. Checked before reuse, so that a request is not written onto a
// connection already gone (where it would fail after being written).
bool idle_connection_alive(boost::asio::ip::tcp::socket& socket);

}  // namespace fdb::kube::detail
