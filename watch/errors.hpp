// Typed errors of the Kubernetes client: every failure of a call to the API server,
// whether the server answered with a `Status` object or the transport failed, is an
// ApiError carrying its kind, the HTTP status, the server's reason and message, and the
// request it happened on.
#pragma once

#include <boost/json/object.hpp>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace fdb::kube {

enum class ErrorKind {
  BadRequest,            // 400
  Unauthorized,          // 401
  Forbidden,             // 403
  NotFound,              // 404
  MethodNotAllowed,      // 405
  AlreadyExists,         // 409, reason AlreadyExists (create of an existing name)
  Conflict,              // 409, reason Conflict (stale resourceVersion on update)
  Gone,                  // 410, reason Gone (old servers) or no reason
  Expired,               // 410, reason Expired (resourceVersion too old)
  UnsupportedMediaType,  // 415 (e.g. strategic merge patch on a custom resource)
  Invalid,               // 422
  TooManyRequests,       // 429, with Retry-After
  InternalError,         // 500
  ServiceUnavailable,    // 503
  ServerTimeout,         // 504, or reason Timeout/ServerTimeout
  ServerError,           // other 5xx
  Unknown,               // anything else the server said
  Transport,             // connect, TLS handshake, read or write failure
  Timeout,               // the client's own deadline for the request passed
  Decode,                // the server's answer could not be understood
  Cancelled,             // the operation was cancelled (shutdown)
};

std::string_view to_string(ErrorKind kind) noexcept;

class ApiError : public std::runtime_error {
 public:
  ApiError(ErrorKind kind, int http_status, std::string reason, std::string message,
           std::string context = {},
           std::optional<std::chrono::seconds> retry_after = std::nullopt);

  ErrorKind kind() const noexcept { return kind_; }
  // The HTTP status code, or 0 for failures that never got an answer.
  int http_status() const noexcept { return http_status_; }
  // The Status object's `reason` (e.g. "AlreadyExists"), empty when there was none.
  const std::string& reason() const noexcept { return reason_; }
  // The Status object's `message`, or a description of the transport failure.
  const std::string& message() const noexcept { return message_; }
  // What was being done: "GET /apis/…", "watch workloads", etc.
  const std::string& context() const noexcept { return context_; }
  // From a Retry-After header or Status details.retryAfterSeconds.
  std::optional<std::chrono::seconds> retry_after() const noexcept { return retry_after_; }

  // True when trying again later may succeed: transport failures, client timeouts,
  // 429, 500, 502, 503, 504.
  bool retryable() const noexcept;
  // True for 410 Gone/Expired: the resourceVersion is too old, relist.
  bool expired() const noexcept { return kind_ == ErrorKind::Gone || kind_ == ErrorKind::Expired; }
  // True when no answer came (Transport, Timeout, Cancelled) after the whole request had
  // been written: the server may have acted on it. Sending a request that is not
  // idempotent again after such a failure may do it twice (a claim, a comment).
  bool request_sent() const noexcept { return request_sent_; }
  ApiError& mark_request_sent() noexcept {
    request_sent_ = true;
    return *this;
  }

 private:
  ErrorKind kind_;
  int http_status_;
  std::string reason_;
  std::string message_;
  std::string context_;
  std::optional<std::chrono::seconds> retry_after_;
  bool request_sent_ = false;
};

// Classifies an HTTP status and a Status `reason` into an ErrorKind.
ErrorKind classify(int http_status, std::string_view reason) noexcept;

// Builds the ApiError for a non-2xx answer. `body` should be a Status object; a body that
// is not (HTML from a proxy, garbage, empty) still yields an error of the right kind with
// a truncated excerpt of the body as its message. `retry_after_header` is the raw
// Retry-After header value (seconds), possibly empty.
ApiError decode_status(int http_status, std::string_view body,
                       std::string_view retry_after_header, std::string context);

// Parses a Retry-After header given in seconds (digits only, blanks around them allowed);
// HTTP dates, signs and garbage yield nullopt. Values are clamped to [0, 3600].
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value) noexcept;

// An API server answer that must be a JSON object (a GET, a LIST): the object, or an
// ApiError of kind Decode naming `what` and why ("not JSON (nested deeper than 64
// levels) in N bytes", "not a JSON object").
boost::json::object parse_api_object(std::string_view body, std::string_view what);

}  // namespace fdb::kube
