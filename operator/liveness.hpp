// What /healthz answers (issue 20): alive unless the process goes on without doing its job,
// so that the kubelet's restart is the remedy. Pure: fed with what happened and when,
// asked with the time.
//  - A core loop ended while it should run (the informers, the leader election, the leader
//    work while leading): a restart starts it again.
//  - Dispatch refused the token (401/403) on every answer for `refused_for` (5 min): the
//    token is wrong or was rotated. Environment variables from a Secret are read when the
//    container starts, so a restart picks up a rotated DISPATCH_AGENT_TOKEN; a token that
//    is plainly wrong shows as a restart loop, which is what it is.
// Answers that never came (transport failures, timeouts) say nothing about the token.
#pragma once

#include "operator/http_server_io.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace fdb::op {

class Liveness {
 public:
  using Clock = std::chrono::steady_clock;
  explicit Liveness(std::chrono::seconds refused_for = std::chrono::minutes(5)) : refused_for_(refused_for) {}

  // An answer from dispatch (0: none came).
  void dispatch_answered(int status, Clock::time_point now);
  // A loop that should run for the life of the process ended (the first is kept).
  void loop_ended(const std::string& what);

  Health check(Clock::time_point now) const;

 private:
  std::chrono::seconds refused_for_;
  std::optional<Clock::time_point> refused_since_;  // first 401/403 since the last other answer
  std::string ended_;
};

}  // namespace fdb::op
