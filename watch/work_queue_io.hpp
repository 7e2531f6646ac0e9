// A rate-limited, deduplicating work queue with client-go's semantics:
//  - a key added while it waits is processed once (dirty set);
//  - a key added while it is being processed is processed again after done();
//  - add_after() delays a key; the earliest pending time wins;
//  - add_rate_limited() delays by the per-key backoff (5 ms doubling to 1000 s) or the
//    overall token bucket (10/s, burst 100), whichever is longer; forget() resets it;
//  - shutdown() lets workers drain what is queued, then get() answers "no more".
// QueueCore is the pure part (time is a parameter); WorkQueue wraps it for coroutines.
#pragma once

#include "watch/backoff.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

namespace fdb::kube {

struct QueueMetricsHooks {
  std::function<void(std::size_t depth)> depth;
  std::function<void()> add;
  std::function<void(double seconds)> queue_latency;  // from add to get
  std::function<void(double seconds)> work_duration;  // from get to done
  std::function<void()> retry;                        // add_rate_limited
};

class QueueCore {
 public:
  using Clock = std::chrono::steady_clock;
  struct Limits {
    std::chrono::milliseconds base_delay{5};
    std::chrono::milliseconds max_delay{1000 * 1000};
    double qps = 10.0;
    double burst = 100.0;

    // The per-key backoff: base_delay doubling to max_delay, no jitter.
    BackoffPolicy per_key() const noexcept { return BackoffPolicy{base_delay, max_delay, 2.0, Jitter::None}; }
  };

  QueueCore() : QueueCore(Limits()) {}
  explicit QueueCore(Limits limits);

  void set_hooks(QueueMetricsHooks hooks) { hooks_ = std::move(hooks); }

  // Returns true when the key became ready (a waiting worker should wake).
  bool add(const std::string& key, Clock::time_point now);
  void add_after(const std::string& key, std::chrono::milliseconds delay, Clock::time_point now);
  // The delay it chose.
  std::chrono::milliseconds add_rate_limited(const std::string& key, Clock::time_point now);
  void forget(const std::string& key);
  int requeues(const std::string& key) const;

  // Moves delayed keys whose time has come into the queue; returns how many.
  std::size_t promote(Clock::time_point now);
  // The next key to process, if one is ready.
  std::optional<std::string> get(Clock::time_point now);
  void done(const std::string& key, Clock::time_point now);

  // When the earliest delayed key is due.
  std::optional<Clock::time_point> next_due() const;
  std::size_t depth() const noexcept { return queue_.size(); }
  std::size_t delayed() const noexcept { return delayed_by_key_.size(); }
  std::size_t processing() const noexcept { return processing_.size(); }
  // Seconds the longest-running key has been processed, and the sum over all.
  double longest_running(Clock::time_point now) const;
  double unfinished_work(Clock::time_point now) const;

  void shutdown() { shutting_down_ = true; }
  bool shutting_down() const noexcept { return shutting_down_; }
  // Shut down and nothing left to hand out or finish.
  bool drained() const noexcept { return shutting_down_ && queue_.empty() && processing_.empty(); }

 private:
  Limits limits_;
  QueueMetricsHooks hooks_;
  std::deque<std::string> queue_;
  std::set<std::string, std::less<>> dirty_;
  std::map<std::string, Clock::time_point, std::less<>> processing_;  // key → since
  std::map<std::string, Clock::time_point, std::less<>> added_at_;    // for queue latency
  std::multimap<Clock::time_point, std::string> delayed_;
  std::map<std::string, Clock::time_point, std::less<>> delayed_by_key_;
  std::map<std::string, int, std::less<>> failures_;
  double tokens_;
  Clock::time_point last_refill_{};
  bool shutting_down_ = false;
};

class WorkQueue {
 public:
  explicit WorkQueue(boost::asio::any_io_executor ex, QueueCore::Limits limits = QueueCore::Limits());
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  void set_hooks(QueueMetricsHooks hooks);
  void add(const std::string& key);
  void add_after(const std::string& key, std::chrono::milliseconds delay);
  void add_rate_limited(const std::string& key);
  void forget(const std::string& key);
  void done(const std::string& key);
  // Waits for a key; nullopt once shut down and drained of queued keys.
  boost::asio::awaitable<std::optional<std::string>> get();
  void shutdown();
  const QueueCore& core() const noexcept;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace fdb::kube
