#include "sim/listener_stall_io.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <iostream>

namespace fdb::sim {

namespace net = boost::asio;
using net::ip::tcp;

ListenerStall::ListenerStall(tcp::acceptor& acceptor, std::function<void()> resume)
    : acceptor_(acceptor), resume_(std::move(resume)), timer_(acceptor.get_executor()) {}

void ListenerStall::stall_for(std::chrono::milliseconds duration) {
  timer_.expires_after(duration);  // a stall in progress: its hold() waits on
  if (active_) return;
  active_ = true;
  boost::system::error_code ec;
  acceptor_.cancel(ec);  // the accept loop ends
  acceptor_.listen(0, ec);  // one place in the accept queue...
  filler_.emplace(acceptor_.get_executor());
  filler_->connect(acceptor_.local_endpoint(), ec);  // ...taken: further SYNs are dropped
  if (ec) std::cerr << "kube-sim: stalling connects: " << ec.message() << "\n";
  net::co_spawn(acceptor_.get_executor(), hold(this), net::detached);
}

net::awaitable<void> ListenerStall::hold(ListenerStall* self) {
  for (;;) {
    auto [ec] = co_await self->timer_.async_wait(net::as_tuple(net::use_awaitable));
    // Cancelled: the stall was extended (the timer set again), wait on; otherwise it is over.
    if (!ec || self->timer_.expiry() <= std::chrono::steady_clock::now()) break;
  }
  self->release();
}

void ListenerStall::release() {
  boost::system::error_code ec;
  if (filler_) filler_->close(ec);
  filler_.reset();
  acceptor_.listen(net::socket_base::max_listen_connections, ec);
  active_ = false;
  resume_();
}

}  // namespace fdb::sim
