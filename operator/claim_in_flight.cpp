#include "operator/claim_in_flight.hpp"

namespace fdb::op {

void ClaimsInFlight::end_claim(std::string_view name) {
  if (auto it = claiming_.find(name); it != claiming_.end()) claiming_.erase(it);
}

void ClaimsInFlight::forget(std::string_view name) {
  if (auto it = pending_.find(name); it != pending_.end()) pending_.erase(it);
}

std::vector<std::string> ClaimsInFlight::settle(const std::function<Cached(std::string_view)>& cached, TimePoint now,
                                                std::chrono::milliseconds unseen_after,
                                                std::chrono::milliseconds deferred_ttl) {
  std::vector<std::string> unseen;
  for (auto it = pending_.begin(); it != pending_.end();) {
    const Cached c = cached(it->first);
    const auto age = now - it->second.since;
    if (it->second.deferred) {
      // The old object is still there, terminating: the intent (or what it made) is to come.
      const bool shown = c.intent || (c.workload && !c.workload_terminating);
      if (shown || age >= deferred_ttl) {
        it = pending_.erase(it);
        continue;
      }
    } else {
      if (c.workload) {
        it = pending_.erase(it);
        continue;
      }
      if (age >= unseen_after) unseen.push_back(it->first);
    }
    ++it;
  }
  return unseen;
}

}  // namespace fdb::op
