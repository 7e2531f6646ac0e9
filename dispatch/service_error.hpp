// The error of a call to a service other than the API server (dispatch, GitHub) that
// failed for good — after its retries, or with an answer that asking again will not
// change: the call's label, the last HTTP status (0: no answer) and whether trying again
// later may help. what() reads "{service} {label}: {message}"; it never holds a token.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace fdb::dispatch {

class ServiceError : public std::runtime_error {
 public:
  ServiceError(std::string_view service, std::string label, int status, const std::string& message, bool transient)
      : std::runtime_error(std::string(service) + " " + label + ": " + message),
        label_(std::move(label)),
        status_(status),
        transient_(transient) {}
  const std::string& label() const noexcept { return label_; }
  int status() const noexcept { return status_; }  // 0: no answer (transport, timeout)
  bool transient() const noexcept { return transient_; }
  // No answer came after the whole request was written: the service may have acted on it.
  bool request_sent() const noexcept { return request_sent_; }
  ServiceError& mark_request_sent() noexcept {
    request_sent_ = true;
    return *this;
  }

 private:
  std::string label_;
  int status_;
  bool transient_;
  bool request_sent_ = false;
};

}  // namespace fdb::dispatch
