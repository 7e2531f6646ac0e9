// A minimal HTTP/1.1 server for the operations endpoints (METRICS_ADDR, HEALTH_ADDR):
// GET or HEAD on /metrics, /healthz and /readyz; 404 for any other path, 405 for other
// methods on a known path. Keep-alive, an idle timeout and a read timeout per request, caps
// on header and body sizes and on concurrent connections (the oldest idle one makes way for
// a new one), and a graceful stop. Asio C++20 coroutines over
// Beast; Beast stays out of this header.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace fdb::op {

// The answer of a health check: ok, or not with a reason (sent in the 503 body).
struct Health {
  bool ok = true;
  std::string reason;
};

// What the server answers; an unset route answers 404.
struct Routes {
  std::function<std::string()> metrics;  // the body of /metrics (Prometheus text 0.0.4)
  std::function<Health()> healthz;       // /healthz: 200 "ok" or 503 "not ok: reason"
  std::function<Health()> readyz;        // /readyz, the same
};

struct ServerOptions {
  std::chrono::milliseconds idle_timeout{5'000};   // a connection with no request begun
  std::chrono::milliseconds read_timeout{10'000};  // to read one request once it has begun
  std::chrono::milliseconds write_timeout{10'000};
  std::size_t max_header_bytes = 8 * 1024;         // larger: 431 and close
  std::size_t max_body_bytes = 4 * 1024;           // larger: 413 and close
  // At the cap a new connection is still taken: the oldest idle one is closed for it (else
  // the oldest still sending its request), so that a crowd of idle or slow connections
  // cannot lock the kubelet's probes out. Only when every connection is being answered is
  // the new one closed.
  std::size_t max_connections = 64;
};

// Splits "host:port", "[v6]:port" or ":port" (all interfaces: 0.0.0.0). Throws
// std::invalid_argument on anything else (missing or non-numeric port, port > 65535).
struct HostPort {
  std::string host;
  unsigned short port = 0;
};
HostPort parse_host_port(std::string_view address);

class HttpServer {
 public:
  // Binds and listens on `address` at once (port 0: any free port; see port()); throws
  // std::invalid_argument for a bad address and std::system_error when it cannot bind.
  // Nothing is accepted until start(). All work runs on a strand of `ex`.
  HttpServer(boost::asio::any_io_executor ex, std::string_view address, Routes routes, ServerOptions options);
  HttpServer(boost::asio::any_io_executor ex, std::string_view address, Routes routes)
      : HttpServer(std::move(ex), address, std::move(routes), ServerOptions()) {}
  // Stops (see stop()).
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  void start();
  // Thread-safe and idempotent: stops accepting, closes idle connections and those
  // mid-request once their current answer is written.
  void stop();

  // The bound port and "host:port" (useful with port 0).
  unsigned short port() const noexcept;
  std::string local_address() const;
  // Connections open now (tests).
  std::size_t connections() const noexcept;

  struct Impl;  // opaque

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace fdb::op
