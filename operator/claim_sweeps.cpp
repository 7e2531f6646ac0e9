#include "operator/claim_sweeps.hpp"

#include "dispatch/client.hpp"
#include "dispatch/items.hpp"
#include "dispatch/workload.hpp"
#include "operator/adoption.hpp"
#include "operator/cache_view.hpp"
#include "operator/metrics.hpp"
#include "watch/client.hpp"
#include "watch/errors.hpp"
#include "watch/log.hpp"
#include "watch/request.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <variant>

namespace fdb::op {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;

namespace {

const log::Logger& logger() {
  static const log::Logger l("sweep");
  return l;
}

}  // namespace

ClaimSweeper::ClaimSweeper(Deps deps) : d_(std::move(deps)) {}

void ClaimSweeper::count(ClaimSweep which, std::string_view result) {
  if (d_.metrics) d_.metrics->sweeps_total.labels({to_string(which), result}).inc();
}

ClaimFacts ClaimSweeper::facts(const dispatch::ClaimedIssue& issue, std::vector<std::string>& names) const {
  // Every name the issue's Workload may have (operator/adoption.hpp): the cached Workloads
  // filed under its id or repo and number, this program's name and the Python bridge's.
  ClaimFacts f;
  const std::string name = dispatch::workload_name(issue.repo_full_name, issue.number);
  names = names_for_issue(issue.repo_full_name, issue.number);
  for (auto& n : d_.cache.workloads_for_issue(issue.issue_id, issue.repo_full_name, issue.number)) {
    if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(std::move(n));
  }
  for (const auto& n : names) {
    f.workload_live = f.workload_live || d_.cache.workload(n).has_value();
    f.retry_in_flight = f.retry_in_flight || d_.cache.intent(n).has_value() || (d_.retry_in_flight && d_.retry_in_flight(n));
  }
  f.create_in_flight = d_.create_in_flight && d_.create_in_flight(name);
  return f;
}

awaitable<bool> ClaimSweeper::workload_exists(const std::string& name) {
  const auto get = kube::Requests(kube::workloads(), d_.config.workload.namespace_name).get(name);
  try {
    co_await d_.kube.call(get);
  } catch (const kube::ApiError& e) {
    if (e.kind() == kube::ErrorKind::NotFound) co_return false;
    throw;
  }
  co_return true;
}

awaitable<void> ClaimSweeper::run() {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer timer(ex);
  for (;;) {
    if (!d_.cache.synced()) {
      timer.expires_after(std::chrono::milliseconds(50));
      co_await timer.async_wait(asio::use_awaitable);
      continue;
    }
    const auto start = std::chrono::steady_clock::now();
    const ClaimSweepRound r = co_await run_once();
    if (r.reset || r.unclaimed || r.errors || r.malformed) {
      logger().info("claim sweeps", {{"listed", r.listed}, {"reset_to_ready", r.reset}, {"unclaimed", r.unclaimed},
                                     {"in_flight", r.in_flight}, {"errors", r.errors}, {"malformed", r.malformed}});
    }
    timer.expires_at(start + std::chrono::seconds(d_.config.claim_interval_s));
    co_await timer.async_wait(asio::use_awaitable);
  }
}

awaitable<ClaimSweepRound> ClaimSweeper::run_once() {
  ClaimSweepRound round;
  co_await sweep(ClaimSweep::Stranded, round);
  co_await sweep(ClaimSweep::Stuck, round);
  co_return round;
}

awaitable<void> ClaimSweeper::sweep(ClaimSweep which, ClaimSweepRound& round) {
  const std::string sweep_name(to_string(which));
  json::value answer;
  try {
    answer = co_await d_.dispatch.claimed(which == ClaimSweep::Stuck ? "ready" : "");
  } catch (const dispatch::DispatchError& e) {
    ++round.errors;
    count(which, "list-error");
    logger().warn("cannot list claimed issues; trying again at the next pass", {{"sweep", sweep_name}, {"error", e.what()}});
    co_return;
  }
  auto parsed = dispatch::parse_claimed(answer);
  if (const auto* bad = std::get_if<dispatch::ParseError>(&parsed)) {
    ++round.errors;
    count(which, "list-error");
    logger().warn("malformed claimed-issues answer; trying again at the next pass", {{"sweep", sweep_name}, {"error", bad->what()}});
    co_return;
  }
  const auto& claimed = std::get<dispatch::ClaimedAnswer>(parsed);
  for (const auto& m : claimed.malformed) {
    ++round.malformed;
    count(which, "malformed");
    logger().warn("skipping a malformed claimed issue", {{"sweep", sweep_name}, {"error", m.what()}});
  }
  round.listed += static_cast<int>(claimed.items.size());

  for (const auto& issue : claimed.items) {
    const std::string name = dispatch::workload_name(issue.repo_full_name, issue.number);
    const std::string label = fmt::format("{}#{}", issue.repo_full_name, issue.number);
    std::vector<std::string> names;
    ClaimFacts f = facts(issue, names);
    ClaimAction a = classify_claim(which, issue, f);
    if (a.kind == ClaimActionKind::Leave) {
      const ClaimFacts settled{f.workload_live, false, false};
      if (classify_claim(which, issue, settled).kind != ClaimActionKind::Leave) {
        ++round.in_flight;
        count(which, "in-flight");
        logger().debug("left alone while in flight", {{"sweep", sweep_name}, {"issue", label}, {"why", a.why}});
      }
      continue;
    }
    // The cache says there is no Workload; the API server has the last word (the cache
    // may not show a create yet). Then what this process knows is read again: it may
    // have changed while the GET was out.
    bool live = false;
    try {
      // Under this program's name or the Python bridge's (the cache may lag for either).
      for (const auto& n : names_for_issue(issue.repo_full_name, issue.number)) {
        if (!live) live = co_await workload_exists(n);
      }
    } catch (const kube::ApiError& e) {
      if (e.kind() == kube::ErrorKind::Cancelled) throw;
      ++round.errors;
      count(which, "error");
      logger().warn("cannot read the Workload; trying again at the next pass", {{"sweep", sweep_name}, {"issue", label},
                    {"workload", name}, {"error", e.what()}});
      continue;
    }
    f = facts(issue, names);
    f.workload_live = f.workload_live || live;
    a = classify_claim(which, issue, f);
    if (a.kind == ClaimActionKind::Leave) {
      logger().debug("not stranded after all", {{"sweep", sweep_name}, {"issue", label}, {"why", a.why}});
      continue;
    }
    const dispatch::IssueRef ref{issue.issue_id, issue.repo_full_name, issue.number};
    try {
      if (a.kind == ClaimActionKind::ResetToReady) {
        // The label first: if the status fails after it, the issue is still in-progress
        // and the next pass finishes; the other way round, needs-human would stay.
        if (a.unlabel_needs_human) co_await d_.dispatch.unlabel(ref, "needs-human");
        co_await d_.dispatch.set_status(ref, "ready");
        ++round.reset;
        count(which, "reset");
        logger().info("stranded claim set back to ready", {{"issue", label}, {"workload", name}, {"why", a.why},
                      {"removed_needs_human", a.unlabel_needs_human}});
      } else {
        co_await d_.dispatch.unclaim(ref);
        ++round.unclaimed;
        count(which, "unclaimed");
        logger().info("stuck claim released", {{"issue", label}, {"workload", name}, {"why", a.why}});
      }
    } catch (const dispatch::DispatchError& e) {
      ++round.errors;
      count(which, "error");
      logger().warn("sweep action failed; trying again at the next pass", {{"sweep", sweep_name}, {"issue", label},
                    {"error", e.what()}});
    }
  }
}

}  // namespace fdb::op
