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

 private:
  boost::asio::awaitable<bool> create(const std::string& name, const std::string& body);
  boost::asio::awaitable<std::optional<boost::json::object>> get_workload(const std::string& name);

  Deps d_;
  std::set<std::string, std::less<>> pending_;
};

}  // namespace fdb::op
