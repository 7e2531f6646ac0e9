// The PR-fix loop (issue 8): with PR_FIX_ENABLED, every CLAIM_INTERVAL_S on the leader, it
// reads both PR-fix lanes (NORMAL, ESCALATED) and for each queued item reads its facts —
// the fix Workload (the Workload cache, which holds PR-fix Workloads too; the API server
// when the cache does not show one, so a lagging cache never creates twice), whether a
// replace of it is in flight (an intent in the cache), a 0.x ladder ConfigMap — and (with
// GITHUB_TOKEN) the pull request, then runs the steps operator/prfix_steps.hpp decides:
// create the fix, mark the item FIXED / BLOCKED / STALE (and delete the fix), or replace
// a failed fix through the ONE replace path: an intent of kind PrFix, which the
// reconciler carries out (Foreground delete, wait until gone, create the next fix).
// A step that fails is logged and tried again next round; nothing is lost by a crash: the
// queue, the Workload and the intent are the whole state.
//
// Upgrading from 0.x mid-flight: the ladder ConfigMaps `bridge-prfix-{workload}` 0.x wrote
// between a retry's delete and the next create are listed once (again only after a failed
// list), used as the next fix's ladder position, and deleted once the item's step settles.
#pragma once

#include "dispatch/prfix.hpp"
#include "operator/config.hpp"
#include "operator/loop_deps.hpp"
#include "operator/prfix_steps.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <map>
#include <optional>
#include <string>

namespace fdb::kube {
class Client;
struct HttpRequest;
}  // namespace fdb::kube
namespace fdb::dispatch {
class Client;
}  // namespace fdb::dispatch
namespace fdb::github {
class Client;
}
namespace fdb::metrics {
struct BridgeMetrics;
}

namespace fdb::op {

class CacheView;

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
  // What the claim loop and the sweeps act through (operator/loop_deps.hpp), and GitHub:
  // null leaves the PR state unknown (the program always sets it).
  PrFixLoop(LoopDeps deps, github::Client* github);

  boost::asio::awaitable<PrFixRound> run_once();
  // Rounds every CLAIM_INTERVAL_S until cancelled; returns at once without PR_FIX_ENABLED.
  boost::asio::awaitable<void> run();

 private:
  // One item: what its round came to.
  boost::asio::awaitable<PrFixResult> handle(const dispatch::PrFixItem& item);
  boost::asio::awaitable<PrFixFacts> read_facts(const dispatch::PrFixItem& item);
  // The pull request (nullopt: unknown), with its checks when asked.
  boost::asio::awaitable<std::optional<dispatch::PrState>> read_pull_request(const dispatch::PrFixItem& item,
                                                                             bool with_checks);
  // The check runs on the pull request's head, summed up; nullopt when GitHub could not
  // say (merge_status then reads "checks pending": never FIXED on it).
  boost::asio::awaitable<std::optional<dispatch::ChecksState>> checks_of(const dispatch::PrFixItem& item,
                                                                          const std::string& sha);
  boost::asio::awaitable<void> run_step(const dispatch::PrFixItem& item, const PrFixStep& step);
  // The 0.x ladder ConfigMaps, listed once.
  boost::asio::awaitable<void> read_ladders();
  // A DELETE that also counts 404 (gone already) as done.
  boost::asio::awaitable<void> remove_if_present(kube::HttpRequest req);

  LoopDeps d_;
  github::Client* github_;
  bool ladders_read_ = false;
  std::map<std::string, dispatch::PrFixWorkload, std::less<>> ladders_;  // by ConfigMap name
};

}  // namespace fdb::op
