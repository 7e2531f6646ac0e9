#include "operator/claimer.hpp"


#include "dispatch/candidates.hpp"
#include "dispatch/client.hpp"
#include "dispatch/workload.hpp"
#include "operator/cache_view.hpp"
#include "operator/metrics.hpp"
#include "operator/retry_flow.hpp"
#include "watch/client.hpp"
#include "watch/errors.hpp"
#include "watch/log.hpp"
#include "watch/request.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <optional>
#include <variant>

namespace fdb::op {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
using asio::use_awaitable;
using namespace std::chrono_literals;

namespace {

const log::Logger& logger() {
  static const log::Logger l("claim");
  return l;
}

struct LaneResult {
  std::string lane;
  std::optional<dispatch::Selection> selection;  // nullopt: the lane failed
  std::string error;
};

// Fetches one lane; never throws (but for cancellation): a failure fails that lane only.
awaitable<void> fetch_lane(dispatch::Client& client, LaneResult& out) {
  try {
    const json::value answer = co_await client.queue(out.lane);
    auto parsed = dispatch::select_candidates(answer, out.lane);
    if (auto* sel = std::get_if<dispatch::Selection>(&parsed)) {
      out.selection = std::move(*sel);
    } else {
      out.error = std::get<dispatch::ParseError>(parsed).what();
    }
  } catch (const dispatch::DispatchError& e) {
    out.error = e.what();
  }
}

// Holds a name in a set for the life of a scope.
class InFlight {
 public:
  InFlight(std::set<std::string, std::less<>>& set, std::string name) : set_(set), name_(std::move(name)) {
    set_.insert(name_);
  }
  ~InFlight() { set_.erase(name_); }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;

 private:
  std::set<std::string, std::less<>>& set_;
  std::string name_;
};

// How long a create may go unseen by the cache before the API server is asked.
constexpr std::chrono::seconds kUnseenAfter{2};

}  // namespace

Claimer::Claimer(Deps deps) : d_(std::move(deps)) {}

awaitable<void> Claimer::run() {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer timer(ex);
  for (;;) {
    const auto start = std::chrono::steady_clock::now();
    if (d_.cache.synced()) {
      const ClaimRound r = co_await run_once();
      if (r.claimed || r.unclaimed || r.lanes_failed || r.malformed) {
        logger().info("claim round", {{"claimed", r.claimed}, {"taken", r.taken}, {"unclaimed", r.unclaimed},
                                      {"lanes_failed", r.lanes_failed}, {"malformed", r.malformed},
                                      {"in_progress", r.in_progress}, {"capped", r.capped}});
      }
    } else {
      // Not synced yet: look again soon rather than a whole interval later.
      logger().debug("caches not synced yet; waiting");
      timer.expires_after(std::chrono::milliseconds(50));
      co_await timer.async_wait(use_awaitable);
      continue;
    }
    timer.expires_at(start + std::chrono::seconds(d_.config.claim_interval_s));
    co_await timer.async_wait(use_awaitable);
  }
}

awaitable<ClaimRound> Claimer::run_once() {
  ClaimRound round;
  const auto& s = d_.config.workload;

  // In progress: the cache, plus creates it has not shown yet.
  // A create the cache still does not show a while later may have come and gone between
  // two rounds (a Workload that failed and was escalated, parked or pruned within a
  // round): the API server says. Left pending, it would count as in progress and keep its
  // issue from being claimed again, for ever.
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::string> unseen;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (d_.cache.workload(it->first)) {
      it = pending_.erase(it);
      continue;
    }
    if (now - it->second >= kUnseenAfter) unseen.push_back(it->first);
    ++it;
  }
  for (const auto& name : unseen) {
    bool exists = true;
    try {
      exists = (co_await get_workload(name)).has_value();
    } catch (const kube::ApiError& e) {
      if (e.kind() == kube::ErrorKind::Cancelled) throw;
      logger().warn("cannot check a created Workload the cache does not show", {{"workload", name}, {"error", e.what()}});
    } catch (const std::exception& e) {  // an answer that is not a JSON object
      logger().warn("cannot check a created Workload the cache does not show", {{"workload", name}, {"error", e.what()}});
    }
    if (!exists && !d_.cache.workload(name)) {
      logger().info("a Workload created here is gone already", {{"workload", name}});
      pending_.erase(name);
    }
  }
  CacheView::Load cached = d_.cache.load();
  dispatch::LoadMap load = std::move(cached.by_coder);
  int in_progress = static_cast<int>(pending_.size()) + cached.in_progress;

  // Every lane at once; each fails alone.
  std::vector<LaneResult> lanes;
  for (const auto& lane : d_.config.dispatch_lanes) lanes.push_back({lane, std::nullopt, {}});
  {
    auto ex = co_await asio::this_coro::executor;
    using Op = decltype(asio::co_spawn(ex, fetch_lane(d_.dispatch, lanes[0]), asio::deferred));
    std::vector<Op> ops;
    for (auto& l : lanes) ops.push_back(asio::co_spawn(ex, fetch_lane(d_.dispatch, l), asio::deferred));
    auto [order, errors] = co_await asio::experimental::make_parallel_group(std::move(ops))
                               .async_wait(asio::experimental::wait_for_all(), use_awaitable);
    for (const auto& e : errors) {
      if (e) std::rethrow_exception(e);  // only cancellation gets here
    }
  }

  const bool capped_by_config = d_.config.max_in_progress > 0;
  for (auto& lane : lanes) {
    if (!lane.selection) {
      ++round.lanes_failed;
      logger().warn("lane failed; the other lanes go on", {{"lane", lane.lane}, {"error", lane.error}});
      if (d_.metrics) d_.metrics->claims_total.labels({lane.lane, "lane-error"}).inc();
      continue;
    }
    ++round.lanes_ok;
    for (const auto& bad : lane.selection->malformed) {
      ++round.malformed;
      logger().warn("skipping a malformed queue item", {{"lane", lane.lane}, {"error", bad.what()}});
      if (d_.metrics) d_.metrics->dispatch_malformed_items_total.labels({lane.lane}).inc();
    }
    for (const auto& item : lane.selection->candidates) {
      if (capped_by_config && in_progress >= d_.config.max_in_progress) {
        round.capped = true;
        break;
      }
      if (dispatch::lane_coders_saturated(s, lane.lane, load)) break;

      const std::string name = dispatch::workload_name(item.repo_full_name, item.number);
      // The issue's Workload may carry another name (one the Python bridge made, say):
      // looked up by issue, not by name alone (operator/adoption.hpp).
      if (issue_has_workload(d_.cache, item.issue_id, item.repo_full_name, item.number)) {
        if (!d_.cache.workload(name)) {
          logger().debug("the issue has a Workload under another name; not claimed",
                         {{"issue", fmt::format("{}#{}", item.repo_full_name, item.number)}, {"workload", name}});
        }
        continue;
      }
      if (pending_.find(name) != pending_.end()) continue;

      const dispatch::IssueRef ref{item.issue_id, item.repo_full_name, item.number};
      // From the claim until the create is settled (and its object cached, see pending_),
      // the issue is claimed with no Workload to show for it: not stranded.
      const InFlight in_flight(in_flight_, name);
      dispatch::ClaimResult claim;
      try {
        claim = co_await d_.dispatch.claim(ref);
      } catch (const dispatch::DispatchError& e) {
        logger().warn("claim failed; trying the next candidate", {{"lane", lane.lane}, {"issue", fmt::format("{}#{}", item.repo_full_name, item.number)}, {"error", e.what()}});
        if (d_.metrics) d_.metrics->claims_total.labels({lane.lane, "error"}).inc();
        continue;
      }
      if (claim.checked && claim.outcome == dispatch::ClaimOutcome::Claimed) {
        logger().info("a claim whose answer was lost (or a 409) is ours in dispatch's list of claims",
                      {{"lane", lane.lane}, {"issue", fmt::format("{}#{}", item.repo_full_name, item.number)}});
      }
      if (claim.outcome != dispatch::ClaimOutcome::Claimed) {
        const char* result = claim.outcome == dispatch::ClaimOutcome::Taken ? "taken"
                             : claim.outcome == dispatch::ClaimOutcome::Closed ? "closed" : "unknown";
        if (claim.outcome == dispatch::ClaimOutcome::Taken) ++round.taken;
        if (d_.metrics) d_.metrics->claims_total.labels({lane.lane, result}).inc();
        continue;
      }

      dispatch::BuildRequest build;
      build.issue = {item.repo_full_name, item.number, item.title, lane.lane, item.issue_id};
      build.attempt = 1;
      const json::object manifest = dispatch::build_workload(build, s, load);
      const bool ok = co_await create(name, json::serialize(manifest));
      if (ok) {
        ++round.claimed;
        ++in_progress;
        if (auto coder = coder_of(manifest); !coder.empty()) ++load[coder];
        if (d_.metrics) {
          d_.metrics->claims_total.labels({lane.lane, "claimed"}).inc();
          d_.metrics->workloads_created_total.labels({lane.lane}).inc();
        }
        logger().info("claimed; Workload created", {{"workload", name}, {"issue", fmt::format("{}#{}", item.repo_full_name, item.number)},
                                                     {"lane", lane.lane}, {"coder", coder_of(manifest)}});
        continue;
      }
      // Not stranded: give the claim back.
      try {
        co_await d_.dispatch.unclaim(ref);
        ++round.unclaimed;
        if (d_.metrics) d_.metrics->claims_total.labels({lane.lane, "unclaimed"}).inc();
      } catch (const dispatch::DispatchError& e) {
        logger().error("cannot unclaim after a failed create; the stranded-claims sweep will", {{"workload", name}, {"error", e.what()}});
        if (d_.metrics) d_.metrics->claims_total.labels({lane.lane, "stranded"}).inc();
      }
    }
  }
  round.in_progress = in_progress;
  co_return round;
}

awaitable<bool> Claimer::create(const std::string& name, const std::string& body) {
  const auto& ns = d_.config.workload.namespace_name;
  auto ex = co_await asio::this_coro::executor;
  const auto req = kube::Requests(kube::workloads(), ns).create(body);
  constexpr int kAttempts = 4;
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    std::chrono::milliseconds wait = std::chrono::milliseconds(200 << attempt);
    bool exists = false;
    try {
      co_await d_.kube.call(req);
      pending_.insert_or_assign(name, std::chrono::steady_clock::now());
      co_return true;
    } catch (const kube::ApiError& e) {
      if (e.kind() == kube::ErrorKind::Cancelled) throw;
      if (e.kind() == kube::ErrorKind::AlreadyExists) {
        exists = true;
      } else if (!e.retryable() || attempt == kAttempts) {
        logger().error("cannot create the Workload", {{"workload", name}, {"error", e.what()}});
        co_return false;
      } else {
        if (e.retry_after()) wait = std::chrono::duration_cast<std::chrono::milliseconds>(*e.retry_after());
        logger().warn("create failed; retrying", {{"workload", name}, {"attempt", attempt}, {"error", e.what()}});
      }
    }
    if (exists) {
      // It exists: ours already (the same issue maps to the same name), unless it is on
      // its way out — then wait for the watch to report it gone, and create.
      std::optional<json::object> existing = d_.cache.workload(name);
      if (!existing || !is_terminating(*existing)) {
        existing = co_await get_workload(name);
        if (!existing) continue;  // gone between the two calls: create again
      }
      if (!is_terminating(*existing)) co_return true;
      logger().info("a Workload of that name is terminating; waiting until it is gone", {{"workload", name}});
      const CacheView& cache = d_.cache;
      const std::function<bool()> present = [&cache, name] { return cache.workload(name).has_value(); };
      const std::chrono::milliseconds timeout = std::chrono::seconds(d_.config.delete_workload_timeout_s);
      const bool gone = co_await d_.gone.wait(name, timeout, present);
      if (!gone) {
        logger().warn("the old Workload was not gone in time", {{"workload", name}});
        co_return false;
      }
      continue;
    }
    asio::steady_timer t(ex, wait);
    co_await t.async_wait(use_awaitable);
  }
  co_return false;
}

awaitable<std::optional<json::object>> Claimer::get_workload(const std::string& name) {
  const auto get = kube::Requests(kube::workloads(), d_.config.workload.namespace_name).get(name);
  std::string body;
  try {
    body = co_await d_.kube.call(get);
  } catch (const kube::ApiError& e) {
    if (e.kind() == kube::ErrorKind::NotFound) co_return std::nullopt;
    throw;
  }
  co_return kube::parse_api_object(body, "GET workload " + name);
}

}  // namespace fdb::op
