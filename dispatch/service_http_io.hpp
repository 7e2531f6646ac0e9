// The HTTP side shared by the clients of services other than the API server (dispatch,
// GitHub): the API client's transport (TLS, timeouts, connection reuse) and one call with
// its retries — transport errors and transient answers are tried again with exponential
// backoff and full jitter, honouring Retry-After (capped at 60 s). What counts as
// transient, and what a failure is called, belong to each service's client.
#pragma once

#include "watch/backoff.hpp"
#include "watch/client_io.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fdb::dispatch {

struct Retries {
  int max_attempts = 4;                           // tries of one call, the first included
  std::chrono::milliseconds base_backoff{500};    // doubled each retry, full jitter
  std::chrono::milliseconds max_backoff{10'000};  // cap of one wait (Retry-After too, up to 60 s)

  // The backoff: base_backoff doubling to max_backoff, full jitter.
  kube::BackoffPolicy policy() const noexcept {
    return kube::BackoffPolicy{base_backoff, max_backoff, 2.0, kube::Jitter::Full};
  }
};

// Pure: the wait before retry `retry` (0 for the first): the server's Retry-After when it
// sent one (capped at max(max_backoff, 60 s), no jitter), else the policy's delay with the
// uniform draw `u` in [0, 1).
std::chrono::milliseconds retry_delay(const Retries& retries, int retry,
                                      std::optional<std::chrono::seconds> retry_after, double u) noexcept;

// The retries of one call ran out: the last status (0: no answer) and what went wrong, with
// the number of attempts. `request_sent`: the last try failed with no answer after the
// whole request was written (the service may have acted on it).
class GaveUp : public std::runtime_error {
 public:
  GaveUp(int status, const std::string& message, bool request_sent = false)
      : std::runtime_error(message), status_(status), request_sent_(request_sent) {}
  int status() const noexcept { return status_; }
  bool request_sent() const noexcept { return request_sent_; }

 private:
  int status_;
  bool request_sent_;
};

// Whether a call may be sent again after it was written and no answer came: Safe for
// reads and for writes whose repetition changes nothing (set a status, a label); Never for
// those that would act twice or answer differently the second time (a claim reads as
// taken, a comment is posted twice). Transient answers (429, 5xx) are retried either way:
// the service answered.
enum class Replay { Safe, Never };

// Where a service is and what its calls may take: what ServiceHttp's transport (the API
// client's, watch/client_io.hpp) is made of for it.
struct ServiceTarget {
  std::string url;
  std::string token;                 // bearer token; empty: none
  std::string source;                // the setting the URL came from ("DISPATCH_URL"), for errors
  std::chrono::milliseconds shortest_call{30'000};  // connecting takes at most this, and 10 s
  std::chrono::milliseconds longest_call{30'000};   // bounds every whole call
  std::size_t max_body_bytes = std::size_t{8} << 20;
  std::vector<std::pair<std::string, std::string>> headers;  // sent with every request
};

// Pure: the transport's settings for a target.
kube::ClusterConfig transport_config(const ServiceTarget& target);
kube::ClientOptions transport_options(const ServiceTarget& target);

class ServiceHttp {
 public:
  // Whether an answer is worth asking again for (429, 5xx; a rate limit).
  using Transient = std::function<bool(int status, std::string_view body)>;
  // Each exchange: the call's label, the status (0: no answer), seconds.
  using Observer = std::function<void(std::string_view label, int status, double seconds)>;

  ServiceHttp(boost::asio::any_io_executor ex, const ServiceTarget& target, Retries retries, Transient transient);

  // The first answer that is not transient (any status); GaveUp when the retries run out,
  // or at once (request_sent) when `replay` is Never and a try failed after it was written.
  // Cancellation (kube::ErrorKind::Cancelled) is passed through at once.
  boost::asio::awaitable<kube::HttpResponse> send(const kube::HttpRequest& req, std::chrono::milliseconds timeout,
                                                  std::string label, Replay replay);

  void set_observer(Observer observer) { observer_ = std::move(observer); }

 private:
  boost::asio::any_io_executor ex_;
  kube::Client http_;
  Retries retries_;
  Transient transient_;
  Observer observer_;
  std::mt19937_64 rng_{std::random_device{}()};
  std::uniform_real_distribution<double> uniform_{0.0, 1.0};
};

// A short, printable excerpt of an answer for an error message (never the request).
std::string excerpt(std::string_view body);

}  // namespace fdb::dispatch
