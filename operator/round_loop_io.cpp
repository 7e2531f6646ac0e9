#include "operator/round_loop_io.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace fdb::op {

namespace asio = boost::asio;

asio::awaitable<void> run_rounds(std::chrono::steady_clock::duration interval, std::function<bool()> ready,
                                 std::function<asio::awaitable<void>()> round) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    if (ready && !ready()) {
      // Not yet (the caches not synced): look again soon rather than a whole interval later.
      timer.expires_after(std::chrono::milliseconds(50));
      co_await timer.async_wait(asio::use_awaitable);
      continue;
    }
    const auto start = std::chrono::steady_clock::now();
    co_await round();
    timer.expires_at(start + interval);
    co_await timer.async_wait(asio::use_awaitable);
  }
}

}  // namespace fdb::op
