#include "operator/liveness.hpp"

#include <fmt/format.h>

namespace fdb::op {

void Liveness::dispatch_answered(int status, Clock::time_point now) {
  if (status == 0) return;  // no answer: says nothing about the token
  if (status == 401 || status == 403) {
    if (!refused_since_) refused_since_ = now;
    return;
  }
  refused_since_.reset();
}

void Liveness::loop_ended(const std::string& what) {
  if (ended_.empty()) ended_ = what;
}

Health Liveness::check(Clock::time_point now) const {
  if (!ended_.empty()) return Health{false, ended_};
  if (refused_since_ && now - *refused_since_ >= refused_for_) {
    const auto s = std::chrono::duration_cast<std::chrono::seconds>(now - *refused_since_).count();
    return Health{false, fmt::format("dispatch has refused the token (401/403) on every answer for {} s; a restart "
                                     "reads DISPATCH_AGENT_TOKEN again",
                                     s)};
  }
  return Health{true, {}};
}

}  // namespace fdb::op
