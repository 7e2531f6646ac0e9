// The claim loop (SPEC §4): every CLAIM_INTERVAL_S, on the leader only, fetches each
// lane of DISPATCH_LANES in parallel, and while there is headroom (MAX_IN_PROGRESS and
// per-coder slots) claims the next candidate and creates its Workload. A 409 on create
// means it exists: success, unless that object is terminating — then wait until the
// watch reports it gone and create. A create that keeps failing unclaims the issue.
#pragma once

#include "operator/config.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace fdb::kube {
class Client;
}
namespace fdb::dispatch {
class Client;
}
namespace fdb::metrics {
struct BridgeMetrics;
}

namespace fdb::op {

class CacheView;
class GoneWaiter;

struct ClaimRound {
  int lanes_ok = 0;
  int lanes_failed = 0;
  int malformed = 0;   // queue items skipped as malformed
  int claimed = 0;     // claims that ended with a Workload
  int taken = 0;       // 409: someone else's
  int unclaimed = 0;   // claimed, but the create failed: given back
  int in_progress = 0; // at the end of the round
  bool capped = false; // MAX_IN_PROGRESS reached
};

class Claimer {
 public:
  struct Deps {
    kube::Client& kube;
    dispatch::Client& dispatch;
    const Config& config;
    const CacheView& cache;
    GoneWaiter& gone;
    metrics::BridgeMetrics* metrics = nullptr;
  };

  explicit Claimer(Deps deps);

  // One round over every lane.
  boost::asio::awaitable<ClaimRound> run_once();
  // Rounds every CLAIM_INTERVAL_S until cancelled.
  boost::asio::awaitable<void> run();

  // Workloads created but not yet seen in the cache (counted as in progress).
  std::size_t pending_creates() const noexcept { return pending_.size(); }
  // True while this loop is claiming an issue for that Workload name or creating it, and
  // until the cache shows what it created: the stranded-claims sweep leaves it alone.
  bool creating(std::string_view name) const {
    return in_flight_.find(name) != in_flight_.end() || pending_.find(name) != pending_.end();
  }

 private:
  boost::asio::awaitable<bool> create(const std::string& name, const std::string& body);
  boost::asio::awaitable<std::optional<boost::json::object>> get_workload(const std::string& name);

  Deps d_;
  // Created, not yet seen in the cache: name → when the create was answered.
  std::map<std::string, std::chrono::steady_clock::time_point, std::less<>> pending_;
  std::set<std::string, std::less<>> in_flight_;  // from the claim call until the create is settled
};

}  // namespace fdb::op
