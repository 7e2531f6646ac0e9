// The HTTP side shared by the clients of services other than the API server (dispatch,
// GitHub): the API client's transport (TLS, timeouts, connection reuse) and one call with
// its retries — transport errors and transient answers are tried again with exponential
// backoff and full jitter, honouring Retry-After (capped at 60 s). What counts as
// transient, and what a failure is called, belong to each service's client.
#pragma once

#include "watch/client.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>

namespace fdb::dispatch {

struct Retries {
  int max_attempts = 4;                           // tries of one call, the first included
  std::chrono::milliseconds base_backoff{500};    // doubled each retry, full jitter
  std::chrono::milliseconds max_backoff{10'000};  // cap of one wait (Retry-After too, up to 60 s)
};

// The retries of one call ran out: the last status (0: no answer) and what went wrong, with
// the number of attempts.
class GaveUp : public std::runtime_error {
 public:
  GaveUp(int status, const std::string& message) : std::runtime_error(message), status_(status) {}
  int status() const noexcept { return status_; }

 private:
  int status_;
};

class ServiceHttp {
 public:
  // Whether an answer is worth asking again for (429, 5xx; a rate limit).
  using Transient = std::function<bool(int status, std::string_view body)>;
  // Each exchange: the call's label, the status (0: no answer), seconds.
  using Observer = std::function<void(std::string_view label, int status, double seconds)>;

  ServiceHttp(boost::asio::any_io_executor ex, kube::ClusterConfig cfg, kube::ClientOptions opts, Retries retries,
              Transient transient);

  // The first answer that is not transient (any status); GaveUp when the retries run out.
  // Cancellation (kube::ErrorKind::Cancelled) is passed through at once.
  boost::asio::awaitable<kube::HttpResponse> send(const kube::HttpRequest& req, std::chrono::milliseconds timeout,
                                                  std::string label);

  void set_observer(Observer observer) { observer_ = std::move(observer); }

 private:
  std::chrono::milliseconds backoff(int retry, std::optional<std::chrono::seconds> retry_after);

  boost::asio::any_io_executor ex_;
  kube::Client http_;
  Retries retries_;
  Transient transient_;
  Observer observer_;
  std::mt19937_64 rng_{std::random_device{}()};
};

// A short, printable excerpt of an answer for an error message (never the request).
std::string excerpt(std::string_view body);

}  // namespace fdb::dispatch
