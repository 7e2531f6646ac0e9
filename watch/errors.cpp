#include "watch/errors.hpp"

#include "watch/json_input.hpp"

#include <boost/json/value.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace fdb::kube {

std::string_view to_string(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::BadRequest: return "BadRequest";
    case ErrorKind::Unauthorized: return "Unauthorized";
    case ErrorKind::Forbidden: return "Forbidden";
    case ErrorKind::NotFound: return "NotFound";
    case ErrorKind::MethodNotAllowed: return "MethodNotAllowed";
    case ErrorKind::AlreadyExists: return "AlreadyExists";
    case ErrorKind::Conflict: return "Conflict";
    case ErrorKind::Gone: return "Gone";
    case ErrorKind::Expired: return "Expired";
    case ErrorKind::UnsupportedMediaType: return "UnsupportedMediaType";
    case ErrorKind::Invalid: return "Invalid";
    case ErrorKind::TooManyRequests: return "TooManyRequests";
    case ErrorKind::InternalError: return "InternalError";
    case ErrorKind::ServiceUnavailable: return "ServiceUnavailable";
    case ErrorKind::ServerTimeout: return "ServerTimeout";
    case ErrorKind::ServerError: return "ServerError";
    case ErrorKind::Unknown: return "Unknown";
    case ErrorKind::Transport: return "Transport";
    case ErrorKind::Timeout: return "Timeout";
    case ErrorKind::Decode: return "Decode";
    case ErrorKind::Cancelled: return "Cancelled";
  }
  return "Unknown";
}

namespace {

std::string describe(ErrorKind kind, int status, const std::string& reason,
                     const std::string& message, const std::string& context) {
  std::string out;
  if (!context.empty()) out = context + ": ";
  out += std::string(to_string(kind));
  if (status != 0) out += fmt::format(" (HTTP {})", status);
  if (!reason.empty() && reason != to_string(kind)) out += fmt::format(" reason {}", reason);
  if (!message.empty()) out += ": " + message;
  return out;
}

// A short, printable excerpt of an answer that was not a Status object.
std::string excerpt(std::string_view body) {
  constexpr std::size_t kMax = 200;
  std::string out;
  for (char c : body.substr(0, kMax)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? ' ' : c;
  }
  if (body.size() > kMax) out += "…";
  return out;
}

}  // namespace

ApiError::ApiError(ErrorKind kind, int http_status, std::string reason, std::string message,
                   std::string context, std::optional<std::chrono::seconds> retry_after)
    : std::runtime_error(describe(kind, http_status, reason, message, context)),
      kind_(kind),
      http_status_(http_status),
      reason_(std::move(reason)),
      message_(std::move(message)),
      context_(std::move(context)),
      retry_after_(retry_after) {}

bool ApiError::retryable() const noexcept {
  switch (kind_) {
    case ErrorKind::Transport:
    case ErrorKind::Timeout:
    case ErrorKind::TooManyRequests:
    case ErrorKind::InternalError:
    case ErrorKind::ServiceUnavailable:
    case ErrorKind::ServerTimeout:
      return true;
    case ErrorKind::ServerError:
      return http_status_ == 502;
    default:
      return false;
  }
}

ErrorKind classify(int status, std::string_view reason) noexcept {
  // The reason decides where a status code is shared by several kinds.
  if (reason == "Expired") return ErrorKind::Expired;
  if (reason == "Gone") return ErrorKind::Gone;
  if (reason == "AlreadyExists") return ErrorKind::AlreadyExists;
  if (reason == "Conflict") return ErrorKind::Conflict;
  if (reason == "Timeout" || reason == "ServerTimeout") {
    if (status == 504 || status == 500 || status == 0) return ErrorKind::ServerTimeout;
  }
  switch (status) {
    case 400: return ErrorKind::BadRequest;
    case 401: return ErrorKind::Unauthorized;
    case 403: return ErrorKind::Forbidden;
    case 404: return ErrorKind::NotFound;
    case 405: return ErrorKind::MethodNotAllowed;
    case 409: return ErrorKind::Conflict;  // a 409 without a reason: treat as a conflict
    case 410: return ErrorKind::Gone;
    case 415: return ErrorKind::UnsupportedMediaType;
    case 422: return ErrorKind::Invalid;
    case 429: return ErrorKind::TooManyRequests;
    case 500: return ErrorKind::InternalError;
    case 503: return ErrorKind::ServiceUnavailable;
    case 504: return ErrorKind::ServerTimeout;
    default: break;
  }
  if (status >= 500 && status <= 599) return ErrorKind::ServerError;
  return ErrorKind::Unknown;
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value) noexcept {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  // delay-seconds = 1*DIGIT (RFC 9110): no sign, nothing after the digits.
  if (value.empty() || value.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  long long n = 0;
  const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec == std::errc::result_out_of_range) return std::chrono::seconds(3600);
  return std::chrono::seconds(std::min<long long>(n, 3600));
}

ApiError decode_status(int http_status, std::string_view body,
                       std::string_view retry_after_header, std::string context) {
  std::string reason;
  std::string message;
  std::optional<std::chrono::seconds> retry_after = parse_retry_after(retry_after_header);

  boost::system::error_code ec;
  const boost::json::value v = parse_json(body, ec);
  const boost::json::object* status = (!ec && v.is_object()) ? &v.get_object() : nullptr;
  if (status != nullptr) {
    if (const auto* kind = status->if_contains("kind"); kind == nullptr || !kind->is_string() ||
                                                        kind->get_string() != "Status") {
      status = nullptr;
    }
  }
  if (status != nullptr) {
    if (const auto* r = status->if_contains("reason"); r != nullptr && r->is_string()) {
      reason = std::string(r->get_string());
    }
    if (const auto* m = status->if_contains("message"); m != nullptr && m->is_string()) {
      message = std::string(m->get_string());
    }
    if (const auto* d = status->if_contains("details"); d != nullptr && d->is_object()) {
      if (const auto* ra = d->get_object().if_contains("retryAfterSeconds");
          ra != nullptr && ra->is_int64() && !retry_after) {
        retry_after = std::chrono::seconds(std::clamp<std::int64_t>(ra->get_int64(), 0, 3600));
      }
    }
    // A Status inside an HTTP 200 (a watch ERROR event) carries its own code.
    if (const auto* c = status->if_contains("code"); c != nullptr && c->is_int64() &&
                                                     (http_status == 0 || http_status == 200)) {
      http_status = static_cast<int>(c->get_int64());
    }
  } else if (!body.empty()) {
    message = excerpt(body);
  }
  const ErrorKind kind = classify(http_status, reason);  // before `reason` is moved from
  return ApiError(kind, http_status, std::move(reason), std::move(message), std::move(context), retry_after);
}

boost::json::object parse_api_object(std::string_view body, std::string_view what) {
  boost::system::error_code ec;
  boost::json::value v = parse_json(body, ec);
  if (ec) {
    throw ApiError(ErrorKind::Decode, 200, {}, fmt::format("the answer is not JSON ({}) in {} bytes", json_error_text(ec), body.size()),
                   std::string(what));
  }
  if (!v.is_object()) throw ApiError(ErrorKind::Decode, 200, {}, "the answer is not a JSON object", std::string(what));
  return std::move(v.get_object());
}

}  // namespace fdb::kube
