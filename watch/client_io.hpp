// The asynchronous Kubernetes API client: Boost.Asio C++20 coroutines over Beast,
// HTTP/1.1 with keep-alive connection reuse, TLS with SNI and server verification, client
// certificates, bearer tokens (re-read on rotation), a deadline on every request, and
// streaming of watch answers line by line. Asio and Beast stay out of this header.
#pragma once

#include "watch/config.hpp"
#include "watch/request.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fdb::kube {

struct ClientOptions {
  std::chrono::milliseconds request_timeout{30'000};  // a whole non-watch request, connecting included
  std::chrono::milliseconds connect_timeout{10'000};  // TCP connect plus TLS handshake (within the above)
  std::size_t max_idle_connections = 8;               // kept alive for reuse
  // A non-watch answer. Lists come in pages (the reflector asks for 500 objects), so even
  // large objects stay far below this; past it the request fails rather than the process.
  std::size_t max_body_bytes = std::size_t{256} << 20;
  std::size_t max_line_bytes = 16u << 20;             // one watch event
  std::string user_agent = "foreman-dispatch-bridge";
  // Sent with every request, e.g. {"X-Agent-Name", "foreman-coder"} for dispatch.
  std::vector<std::pair<std::string, std::string>> extra_headers;
};

struct HttpResponse {
  int status = 0;
  std::string body;
  std::string content_type;
  std::string retry_after;  // raw header value
};

// Observes every finished request: for metrics (verb, HTTP status or 0, seconds).
using RequestObserver = std::function<void(std::string_view method, int status, double seconds)>;

class Client {
 public:
  // Throws ConfigError when the TLS material in `cfg` is unusable.
  Client(boost::asio::any_io_executor ex, ClusterConfig cfg, ClientOptions opts = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Requests are taken by reference (GCC 12 mishandles by-value class parameters of
  // coroutines given temporaries in a co_await expression) and copied before the first
  // suspension, so a temporary argument is fine — but not a braced-init-list written
  // inside the co_await expression, which GCC 12 destroys twice: name it first.
  //
  // Sends a request and returns the answer whatever its status. Throws ApiError (kind
  // Transport, Timeout or Cancelled) when no answer came. `timeout` defaults to
  // options().request_timeout and bounds the whole call from its start: connecting, and a
  // second try when a pooled connection turns out closed, spend the same time. That second
  // try is made only when the request was not written yet or its method is idempotent
  // (GET, HEAD, OPTIONS, TRACE, PUT, DELETE); a POST or PATCH written before its
  // connection failed is never resent here (ApiError::request_sent() says so).
  boost::asio::awaitable<HttpResponse> send(const HttpRequest& req,
                                            std::optional<std::chrono::milliseconds> timeout = {});

  // Sends a request and returns the body of a 2xx answer; any other answer throws the
  // ApiError decoded from its Status.
  boost::asio::awaitable<std::string> call(const HttpRequest& req,
                                           std::optional<std::chrono::milliseconds> timeout = {});

  // Opens a streaming request (a watch) and calls on_line for each line as it arrives,
  // until the server ends the answer (returns normally) or `idle_timeout` passes without
  // a byte (throws ApiError Timeout). A non-2xx answer throws its ApiError before any
  // line. A line longer than max_line_bytes throws ApiError Decode. The connection used
  // is never returned to the pool. Cancel it with the awaiting coroutine's cancellation
  // slot (e.g. `||` with a timer).
  boost::asio::awaitable<void> stream(const HttpRequest& req,
                                      const std::function<void(std::string_view line)>& on_line,
                                      std::chrono::milliseconds idle_timeout);

  void set_observer(RequestObserver observer);
  const ClusterConfig& config() const noexcept;
  const ClientOptions& options() const noexcept;
  // Connections opened since start (for tests of keep-alive reuse).
  std::size_t connections_opened() const noexcept;
  // Closes idle pooled connections.
  void close_idle();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace fdb::kube
