// The PR-fix loop (issue 8; the decisions are dispatch/prfix.hpp): with PR_FIX_ENABLED,
// every CLAIM_INTERVAL_S on the leader, it reads both PR-fix lanes (NORMAL, ESCALATED) and
// for each queued item reads its fix Workload, the ladder position recorded for it, and
// (with GITHUB_TOKEN) the pull request, then does what decide_prfix says: create the fix,
// mark the item FIXED / BLOCKED / STALE (and delete the fix), or retry — record the next
// ladder position in a ConfigMap `bridge-prfix-{workload}`, then delete the failed fix
// (Foreground); a later round, once it is gone, creates the next one from that record.
// A step that fails is logged and tried again next round; nothing is lost by a crash: the
// queue, the Workload and the ConfigMap are the whole state.
#pragma once

#include "dispatch/prfix.hpp"
#include "operator/config.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>

namespace fdb::kube {
class Client;
struct HttpRequest;
}  // namespace fdb::kube
namespace fdb::dispatch {
class Client;
struct PrFixItem;
}  // namespace fdb::dispatch
namespace fdb::github {
class Client;
}
namespace fdb::metrics {
struct BridgeMetrics;
}

namespace fdb::op {

struct PrFixRound {
  int lanes_failed = 0;
  int malformed = 0;
  int created = 0;
  int marked = 0;
  int retried = 0;
  int waiting = 0;
  int failed = 0;  // items whose step failed (tried again next round)
};

class PrFixLoop {
 public:
  struct Deps {
    kube::Client& kube;
    dispatch::Client& dispatch;
    const Config& config;
    github::Client* github = nullptr;  // null: PR state unknown (the program always sets it)
    metrics::BridgeMetrics* metrics = nullptr;
  };
  explicit PrFixLoop(Deps deps);

  boost::asio::awaitable<PrFixRound> run_once();
  // Rounds every CLAIM_INTERVAL_S until cancelled; returns at once without PR_FIX_ENABLED.
  boost::asio::awaitable<void> run();

 private:
  // One item: what was done ("created", "fixed", "blocked", "stale", "retried", "waiting").
  boost::asio::awaitable<std::string> handle(const dispatch::PrFixItem& item);
  // The check runs on the pull request's head, summed up; nullopt when GitHub could not
  // say (merge_status then reads "checks pending": never FIXED on it).
  boost::asio::awaitable<std::optional<dispatch::ChecksState>> checks_of(const dispatch::PrFixItem& item,
                                                                          const std::string& sha);
  // A DELETE that also counts 404 (gone already) as done.
  boost::asio::awaitable<void> remove_if_present(kube::HttpRequest req);

  Deps d_;
};

}  // namespace fdb::op
