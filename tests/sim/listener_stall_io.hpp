// Stalled connects for one of kube-sim's listeners (issue 20): while a stall lasts, the
// listener accepts nothing, its accept queue is shrunk to one place and that place is
// taken by a connection of our own, so the kernel drops every further SYN and a client's
// connect hangs (until its SYN is sent again after the stall, or its own timeout). Its
// idle keep-alive connections are closed by the caller, so that clients must connect.
// Asio only (no Beast): awaits a timer.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <optional>

namespace fdb::sim {

class ListenerStall {
 public:
  // `resume` starts the listener's accept loop again when a stall ends (the loop ends by
  // itself when its accept is cancelled at the start of one).
  ListenerStall(boost::asio::ip::tcp::acceptor& acceptor, std::function<void()> resume);

  // Stalls new connections for `duration` from now; a stall in progress is extended.
  void stall_for(std::chrono::milliseconds duration);
  bool active() const noexcept { return active_; }

 private:
  static boost::asio::awaitable<void> hold(ListenerStall* self);
  void release();

  boost::asio::ip::tcp::acceptor& acceptor_;
  std::function<void()> resume_;
  boost::asio::steady_timer timer_;
  std::optional<boost::asio::ip::tcp::socket> filler_;
  bool active_ = false;
};

}  // namespace fdb::sim
