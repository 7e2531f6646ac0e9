#include "watch/work_queue_io.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cmath>
#include <list>

namespace fdb::kube {

namespace asio = boost::asio;
using Clock = QueueCore::Clock;

QueueCore::QueueCore(Limits limits) : limits_(limits), tokens_(limits.burst) {}

bool QueueCore::add(const std::string& key, Clock::time_point now) {
  if (shutting_down_) return false;
  if (hooks_.add) hooks_.add();
  if (dirty_.count(key) != 0) return false;  // already waiting
  dirty_.insert(key);
  added_at_.try_emplace(key, now);
  if (processing_.count(key) != 0) return false;  // re-queued by done()
  queue_.push_back(key);
  if (hooks_.depth) hooks_.depth(queue_.size());
  return true;
}

void QueueCore::add_after(const std::string& key, std::chrono::milliseconds delay, Clock::time_point now) {
  if (shutting_down_) return;
  if (delay.count() <= 0) {
    add(key, now);
    return;
  }
  const auto due = now + delay;
  if (auto it = delayed_by_key_.find(key); it != delayed_by_key_.end()) {
    if (it->second <= due) return;  // an earlier time is already pending
    auto [b, e] = delayed_.equal_range(it->second);
    for (auto d = b; d != e; ++d) {
      if (d->second == key) {
        delayed_.erase(d);
        break;
      }
    }
    it->second = due;
  } else {
    delayed_by_key_.emplace(key, due);
  }
  delayed_.emplace(due, key);
}

std::chrono::milliseconds QueueCore::add_rate_limited(const std::string& key, Clock::time_point now) {
  const int n = failures_[key]++;
  // Per key: base * 2^n, capped, no jitter (client-go's ItemExponentialFailureRateLimiter).
  const double per_key_ms = static_cast<double>(nominal_delay(limits_.per_key(), n).count());
  // Overall: a token bucket; a missing token is a wait until it refills.
  if (last_refill_.time_since_epoch().count() == 0) last_refill_ = now;
  const std::chrono::duration<double> since = now - last_refill_;
  tokens_ = std::min(limits_.burst, tokens_ + since.count() * limits_.qps);
  last_refill_ = now;
  tokens_ -= 1.0;
  const double bucket_ms = tokens_ >= 0 ? 0.0 : (-tokens_ / limits_.qps) * 1000.0;
  const auto delay = std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(std::max(per_key_ms, bucket_ms))));
  if (hooks_.retry) hooks_.retry();
  add_after(key, delay, now);
  return delay;
}

void QueueCore::forget(const std::string& key) { failures_.erase(key); }

int QueueCore::requeues(const std::string& key) const {
  const auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

std::size_t QueueCore::promote(Clock::time_point now) {
  std::size_t n = 0;
  while (!delayed_.empty() && delayed_.begin()->first <= now) {
    const std::string key = delayed_.begin()->second;
    delayed_.erase(delayed_.begin());
    delayed_by_key_.erase(key);
    if (add(key, now)) ++n;
  }
  return n;
}

std::optional<std::string> QueueCore::get(Clock::time_point now) {
  promote(now);
  if (queue_.empty()) return std::nullopt;
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  dirty_.erase(key);
  if (auto it = added_at_.find(key); it != added_at_.end()) {
    if (hooks_.queue_latency) hooks_.queue_latency(std::chrono::duration<double>(now - it->second).count());
    added_at_.erase(it);
  }
  processing_[key] = now;
  if (hooks_.depth) hooks_.depth(queue_.size());
  return key;
}

void QueueCore::done(const std::string& key, Clock::time_point now) {
  const auto it = processing_.find(key);
  if (it == processing_.end()) return;
  if (hooks_.work_duration) hooks_.work_duration(std::chrono::duration<double>(now - it->second).count());
  processing_.erase(it);
  if (dirty_.count(key) != 0) {
    queue_.push_back(key);  // added while it was processed: once more
    if (hooks_.depth) hooks_.depth(queue_.size());
  }
}

std::optional<Clock::time_point> QueueCore::next_due() const {
  if (delayed_.empty()) return std::nullopt;
  return delayed_.begin()->first;
}

double QueueCore::longest_running(Clock::time_point now) const {
  double longest = 0;
  for (const auto& [k, since] : processing_) longest = std::max(longest, std::chrono::duration<double>(now - since).count());
  return longest;
}

double QueueCore::unfinished_work(Clock::time_point now) const {
  double sum = 0;
  for (const auto& [k, since] : processing_) sum += std::chrono::duration<double>(now - since).count();
  return sum;
}

// ---- WorkQueue -----------------------------------------------------------------------

struct WorkQueue::Impl {
  asio::any_io_executor ex;
  QueueCore core;
  std::list<asio::steady_timer*> waiters;  // workers blocked in get()

  Impl(asio::any_io_executor e, QueueCore::Limits l) : ex(std::move(e)), core(l) {}

  void wake_one() {
    if (!waiters.empty()) waiters.front()->cancel();
  }
  void wake_all() {
    for (auto* t : waiters) t->cancel();
  }
};

WorkQueue::WorkQueue(asio::any_io_executor ex, QueueCore::Limits limits)
    : impl_(std::make_shared<Impl>(std::move(ex), limits)) {}
WorkQueue::~WorkQueue() = default;

void WorkQueue::set_hooks(QueueMetricsHooks hooks) { impl_->core.set_hooks(std::move(hooks)); }

void WorkQueue::add(const std::string& key) {
  if (impl_->core.add(key, Clock::now())) impl_->wake_one();
}

void WorkQueue::add_after(const std::string& key, std::chrono::milliseconds delay) {
  impl_->core.add_after(key, delay, Clock::now());
  if (delay.count() <= 0) impl_->wake_one();
  else impl_->wake_all();  // a waiter re-arms its timer for the new earliest due time
}

void WorkQueue::add_rate_limited(const std::string& key) {
  impl_->core.add_rate_limited(key, Clock::now());
  impl_->wake_all();
}

void WorkQueue::forget(const std::string& key) { impl_->core.forget(key); }

void WorkQueue::done(const std::string& key) {
  impl_->core.done(key, Clock::now());
  if (impl_->core.depth() > 0 || impl_->core.drained()) impl_->wake_one();
}

void WorkQueue::shutdown() {
  impl_->core.shutdown();
  impl_->wake_all();
}

const QueueCore& WorkQueue::core() const noexcept { return impl_->core; }

asio::awaitable<std::optional<std::string>> WorkQueue::get() {
  auto impl = impl_;
  asio::steady_timer timer(impl->ex);
  for (;;) {
    if (auto key = impl->core.get(Clock::now())) {
      // More ready work: let another worker have it.
      if (impl->core.depth() > 0) impl->wake_one();
      co_return key;
    }
    if (impl->core.shutting_down()) co_return std::nullopt;  // queued keys are drained first
    const auto due = impl->core.next_due();
    timer.expires_at(due ? *due : Clock::time_point::max());
    impl->waiters.push_back(&timer);
    const auto it = std::prev(impl->waiters.end());
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));  // a wake-up is a cancel
    impl->waiters.erase(it);
    if (auto cs = co_await asio::this_coro::cancellation_state; cs.cancelled() != asio::cancellation_type::none) {
      throw boost::system::system_error(asio::error::operation_aborted);
    }
  }
}

}  // namespace fdb::kube
