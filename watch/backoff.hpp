// The one backoff of the program: exponential (base × factor^n, capped) with a jitter
// policy. Pure: the retry number, the random draw and the time are parameters, so a test
// is a table. Users:
//  - the work queue's per-key rate limiter (5 ms doubling to 1000 s, no jitter: client-go's
//    ItemExponentialFailureRateLimiter);
//  - the dispatch and GitHub clients' retries (500 ms doubling to 10 s, full jitter:
//    uniform over [0, delay]);
//  - the reflector (800 ms doubling to 30 s, jitter up to +50 %: uniform over
//    [delay, 1.5 × delay); reset after 2 minutes healthy) through `Backoff`.
// What to do with a server's Retry-After stays with each caller (a floor for the
// reflector, a replacement capped at 60 s for the service clients).
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <optional>

namespace fdb::kube {

enum class Jitter {
  None,  // exactly the nominal delay
  Full,  // uniform over the whole milliseconds 0 … nominal (AWS's "full jitter")
  Over,  // nominal × (1 + spread × u): uniform over [nominal, nominal × (1 + spread))
};

struct BackoffPolicy {
  std::chrono::milliseconds base{0};   // the first delay (retry 0)
  std::chrono::milliseconds cap{0};    // no nominal delay exceeds it
  double factor = 2.0;                 // growth per retry
  Jitter jitter = Jitter::None;
  double spread = 0.5;                 // Jitter::Over only
};

// The nominal delay of retry `n` (0 for the first): min(base × factor^n, cap); n < 0 reads
// as 0. Computed in floating point and clamped, so a large n is the cap, never an overflow.
inline std::chrono::milliseconds nominal_delay(const BackoffPolicy& p, int n) noexcept {
  const double base = static_cast<double>(std::max<std::int64_t>(p.base.count(), 0));
  const double cap = static_cast<double>(std::max<std::int64_t>(p.cap.count(), 0));
  const double grown = base * std::pow(std::max(p.factor, 1.0), std::clamp(n, 0, 1024));
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::min(grown, cap)));
}

// The delay of retry `n` with the policy's jitter; `u` is a uniform draw in [0, 1) (values
// outside are clamped into it).
inline std::chrono::milliseconds backoff_delay(const BackoffPolicy& p, int n, double u) noexcept {
  const auto d = nominal_delay(p, n);
  u = std::clamp(u, 0.0, std::nextafter(1.0, 0.0));
  switch (p.jitter) {
    case Jitter::None: return d;
    case Jitter::Full:
      return std::chrono::milliseconds(static_cast<std::int64_t>(u * static_cast<double>(d.count() + 1)));
    case Jitter::Over:
      return std::chrono::milliseconds(
          static_cast<std::int64_t>(static_cast<double>(d.count()) * (1.0 + std::max(p.spread, 0.0) * u)));
  }
  return d;
}

// A backoff with memory, for one stream of failures: each failure waits longer, and a
// period of health (`reset_after` since the last failure) starts again from the base
// (client-go's backoff manager of the reflector). Time is a parameter.
template <class Clock = std::chrono::steady_clock>
class Backoff {
 public:
  using time_point = typename Clock::time_point;

  explicit Backoff(BackoffPolicy policy, std::chrono::milliseconds reset_after = std::chrono::milliseconds::max())
      : policy_(policy), reset_after_(reset_after) {}

  // A failure at `now`: the delay to wait (u: a uniform draw in [0, 1)).
  std::chrono::milliseconds failed(time_point now, double u) noexcept {
    const auto d = backoff_delay(policy_, failures_, u);
    ++failures_;
    last_failure_ = now;
    return d;
  }
  // Things went well at `now`: forgets the failures once `reset_after` has passed since
  // the last one. Returns whether it did.
  bool healthy(time_point now) noexcept {
    if (failures_ == 0) return false;
    if (last_failure_ && std::chrono::duration_cast<std::chrono::milliseconds>(now - *last_failure_) < reset_after_)
      return false;
    reset();
    return true;
  }
  void reset() noexcept {
    failures_ = 0;
    last_failure_.reset();
  }

  // Failures since the last reset.
  int failures() const noexcept { return failures_; }
  // The nominal delay of the last failure (0 when none since the last reset).
  std::chrono::milliseconds current() const noexcept {
    return failures_ == 0 ? std::chrono::milliseconds(0) : nominal_delay(policy_, failures_ - 1);
  }
  const BackoffPolicy& policy() const noexcept { return policy_; }

 private:
  BackoffPolicy policy_;
  std::chrono::milliseconds reset_after_;
  int failures_ = 0;
  std::optional<time_point> last_failure_;
};

}  // namespace fdb::kube
