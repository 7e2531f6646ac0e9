#include "dispatch/service_http_io.hpp"

#include "watch/errors.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace fdb::dispatch {

namespace asio = boost::asio;
using namespace std::chrono_literals;

std::string excerpt(std::string_view body) {
  std::string out;
  for (char c : body.substr(0, 160)) out += (static_cast<unsigned char>(c) < 0x20) ? ' ' : c;
  if (body.size() > 160) out += "…";
  return out;
}

kube::ClusterConfig transport_config(const ServiceTarget& target) {
  kube::ClusterConfig c;
  c.server = target.url;
  c.token = target.token;
  c.source = target.source;
  return c;
}

kube::ClientOptions transport_options(const ServiceTarget& target) {
  kube::ClientOptions k;
  k.request_timeout = target.longest_call;
  k.connect_timeout = std::min<std::chrono::milliseconds>(10s, target.shortest_call);
  k.max_body_bytes = target.max_body_bytes;
  k.extra_headers = target.headers;
  return k;
}

ServiceHttp::ServiceHttp(asio::any_io_executor ex, const ServiceTarget& target, Retries retries, Transient transient)
    : ex_(ex),
      http_(ex, transport_config(target), transport_options(target)),
      retries_(retries),
      transient_(std::move(transient)) {}

std::chrono::milliseconds retry_delay(const Retries& retries, int retry, std::optional<std::chrono::seconds> retry_after,
                                      double u) noexcept {
  if (retry_after) {
    return std::min<std::chrono::milliseconds>(*retry_after, std::max<std::chrono::milliseconds>(retries.max_backoff, 60s));
  }
  return kube::backoff_delay(retries.policy(), retry, u);  // full jitter
}

asio::awaitable<kube::HttpResponse> ServiceHttp::send(const kube::HttpRequest& req, std::chrono::milliseconds timeout,
                                                      std::string label, Replay replay) {
  std::string last_error;
  int last_status = 0;
  for (int attempt = 1;; ++attempt) {
    std::optional<std::chrono::seconds> retry_after;
    const auto start = std::chrono::steady_clock::now();
    auto observe = [&](int status) {
      if (!observer_) return;
      observer_(label, status, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    };
    try {
      kube::HttpResponse res = co_await http_.send(req, timeout);
      observe(res.status);
      if (!transient_(res.status, res.body)) co_return res;
      last_status = res.status;
      last_error = fmt::format("HTTP {}: {}", res.status, excerpt(res.body));
      retry_after = kube::parse_retry_after(res.retry_after);
    } catch (const kube::ApiError& e) {
      observe(0);
      if (e.kind() == kube::ErrorKind::Cancelled) throw;
      last_status = 0;
      last_error = e.message();
      if (e.request_sent() && replay == Replay::Never) {
        throw GaveUp(0, fmt::format("{} (after the request was sent: not sent again, attempt {})", last_error, attempt),
                     true);
      }
    }
    if (attempt >= retries_.max_attempts) {
      throw GaveUp(last_status, fmt::format("{} (gave up after {} attempts)", last_error, attempt));
    }
    asio::steady_timer t(ex_, retry_delay(retries_, attempt - 1, retry_after, uniform_(rng_)));
    co_await t.async_wait(asio::use_awaitable);
  }
}

}  // namespace fdb::dispatch
