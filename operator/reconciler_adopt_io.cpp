// The reconciler's reads of dispatch before a decision (operator/adoption.hpp): the
// issue's current lane and, for a Workload without one, its issue id. Coroutines of the
// Reconciler; the rules are adoption.cpp's pure functions.
#include "operator/reconciler_io.hpp"

#include "dispatch/client_io.hpp"
#include "dispatch/items.hpp"
#include "dispatch/workload.hpp"
#include "operator/cache_view.hpp"
#include "operator/retry_decision.hpp"
#include "watch/log.hpp"

#include <boost/json/value.hpp>

#include <fmt/format.h>

#include <utility>
#include <variant>
#include <vector>

namespace fdb::op {

namespace json = boost::json;
using boost::asio::awaitable;

namespace {

const log::Logger& logger() {
  static const log::Logger l("reconciler");
  return l;
}

}  // namespace

awaitable<DispatchView> Reconciler::fetch_claimed_view(const std::string& name) {
  const auto cached = d_.cache.workload(name);
  if (!cached) co_return DispatchView{};
  const WorkloadView f = read_view(*cached);
  if (f.repo.empty() || f.number <= 0) co_return DispatchView{};
  json::value answer;
  try {
    answer = co_await d_.dispatch.claimed("");
  } catch (const dispatch::DispatchError& e) {
    logger().warn("cannot read the claimed issues; the Workload's lane label stands", {{"workload", name}, {"error", e.what()}});
    co_return DispatchView{};
  }
  auto parsed = dispatch::parse_claimed(answer);
  if (const auto* bad = std::get_if<dispatch::ParseError>(&parsed)) {
    logger().warn("malformed claimed-issues answer; the Workload's lane label stands", {{"workload", name}, {"error", bad->what()}});
    co_return DispatchView{};
  }
  co_return view_from_claimed(std::get<dispatch::ClaimedAnswer>(parsed), f.issue_id, f.repo, f.number);
}

awaitable<json::object> Reconciler::refresh_from_dispatch(json::object wl, DispatchView view) {
  const WorkloadView f = read_view(wl);
  if (f.repo.empty() || f.number <= 0) co_return wl;
  if (f.issue_id.empty() && view.issue_id.empty()) {
    // A Workload from before the issue-id annotation (Python bridge < 0.3), and not in the
    // claimed list: the lane queues (includeClaimed), first lane first, as the Python did.
    std::vector<std::pair<std::string, dispatch::QueueAnswer>> lanes;
    for (const auto& lane : d_.config.dispatch_lanes) {
      try {
        auto parsed = dispatch::parse_queue(co_await d_.dispatch.queue(lane));
        if (auto* q = std::get_if<dispatch::QueueAnswer>(&parsed)) lanes.emplace_back(lane, std::move(*q));
      } catch (const dispatch::DispatchError& e) {
        logger().warn("cannot read a lane queue to find an issue id", {{"workload", f.name}, {"lane", lane}, {"error", e.what()}});
      }
    }
    DispatchView found = view_from_queues(lanes, f.repo, f.number);
    if (view.lane.empty()) view.lane = found.lane;
    view.issue_id = found.issue_id;
    if (view.source.empty()) view.source = found.source;
    if (found.issue_id.empty()) {
      logger().warn("the Workload has no issue-id and dispatch lists no such issue", {{"workload", f.name},
                    {"issue", fmt::format("{}#{}", f.repo, f.number)}});
    }
  }
  if (!view.issue_id.empty() && f.issue_id.empty()) {
    logger().info("issue id found for a Workload without one", {{"workload", f.name}, {"issue_id", view.issue_id},
                                                                {"source", view.source}});
  }
  if (!view.lane.empty() && dispatch::normalize_lane(view.lane) != f.lane) {
    logger().info("the issue's lane changed since the Workload was made; dispatch's lane is used",
                  {{"workload", f.name}, {"label", f.lane}, {"lane", dispatch::normalize_lane(view.lane)}});
  }
  co_return with_dispatch_view(std::move(wl), view);
}

}  // namespace fdb::op
