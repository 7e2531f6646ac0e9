#include "operator/in_flight.hpp"

namespace fdb::op {

void InFlight::intent_recorded(const Intent& intent, SteadyTime decided_at) {
  intents_.insert_or_assign(intent.workload, intent);
  timings(intent.workload).failed_seen = decided_at;
}

const Intent* InFlight::intent(std::string_view name) const {
  const auto it = intents_.find(name);
  return it == intents_.end() ? nullptr : &it->second;
}

RetryTimings InFlight::intent_cleared(std::string_view name) {
  RetryTimings t;
  if (auto it = timings_.find(name); it != timings_.end()) {
    t = it->second;
    timings_.erase(it);
  }
  if (auto it = intents_.find(name); it != intents_.end()) intents_.erase(it);
  return t;
}

RetryTimings& InFlight::timings(std::string_view name) {
  auto it = timings_.find(name);
  if (it == timings_.end()) it = timings_.emplace(std::string(name), RetryTimings{}).first;
  return it->second;
}

const RetryTimings* InFlight::find_timings(std::string_view name) const {
  const auto it = timings_.find(name);
  return it == timings_.end() ? nullptr : &it->second;
}

std::chrono::milliseconds InFlight::task_wait_left(std::string_view name, bool needed, SteadyTime now,
                                                   std::chrono::milliseconds budget) {
  if (!needed) {
    task_wait_end(name);
    return std::chrono::milliseconds(0);
  }
  auto it = task_waits_.find(name);
  if (it == task_waits_.end()) it = task_waits_.emplace(std::string(name), now).first;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(budget - (now - it->second));
  if (left.count() <= 0) task_waits_.erase(it);
  return left;
}

void InFlight::task_wait_end(std::string_view name) {
  if (auto it = task_waits_.find(name); it != task_waits_.end()) task_waits_.erase(it);
}

void InFlight::forget() {
  intents_.clear();
  timings_.clear();
  task_waits_.clear();
  claims_ = ClaimsInFlight();
}

}  // namespace fdb::op
