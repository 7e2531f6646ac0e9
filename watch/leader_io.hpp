// The leader elector: the coroutine driver that runs the LeaseMachine
// (watch/lease_machine.hpp) against the API server.
#pragma once

#include "watch/lease_machine.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <functional>
#include <memory>
#include <string>

namespace fdb::kube {

class Client;

// ---------------------------------------------------------------------------------------
// The driver.

struct LeaderCallbacks {
  std::function<void()> on_started_leading;
  // Called when leadership ends: renew deadline passed, lost to another holder, or shutdown.
  std::function<void()> on_stopped_leading;
  // The observed holder changed ("" when nobody holds the lease).
  std::function<void(const std::string& holder)> on_new_leader;
};

class LeaderElector {
 public:
  // `ex` must be the executor run() is spawned on (single-threaded, or a strand); `client`
  // must outlive run(). Throws std::invalid_argument on an invalid config.
  LeaderElector(boost::asio::any_io_executor ex, Client& client, std::string ns, std::string lease_name,
                LeaderConfig config, LeaderCallbacks callbacks);
  ~LeaderElector();
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  // Campaigns, leads and renews until stop(); then lets an in-flight request finish,
  // releases the lease when held and returns. Never throws for API failures (they are
  // retried); every request is bounded by the renew deadline.
  boost::asio::awaitable<void> run();
  // Thread-safe; wakes run() from its sleep.
  void stop();
  // Thread-safe.
  bool is_leader() const noexcept;
  // The holder last observed ("" when none); call on the executor.
  std::string current_holder() const;

  struct Impl;  // opaque

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace fdb::kube
