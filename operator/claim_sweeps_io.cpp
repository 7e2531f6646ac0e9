#include "operator/claim_sweeps_io.hpp"

#include "dispatch/client_io.hpp"
#include "dispatch/items.hpp"
#include "dispatch/workload.hpp"
#include "operator/cache_view.hpp"
#include "operator/metrics.hpp"
#include "operator/round_loop_io.hpp"
#include "watch/client_io.hpp"
#include "watch/errors.hpp"
#include "watch/log.hpp"
#include "watch/request.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

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

std::string issue_label(const dispatch::ClaimedIssue& i) { return fmt::format("{}#{}", i.repo_full_name, i.number); }

dispatch::IssueRef ref_of(const dispatch::ClaimedIssue& i) { return {i.issue_id, i.repo_full_name, i.number}; }

}  // namespace

ClaimSweeper::ClaimSweeper(LoopDeps deps, InFlightFacts in_flight) : d_(deps), in_flight_(std::move(in_flight)) {}

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
  co_await run_rounds(std::chrono::seconds(d_.config.claim_interval_s), [this] { return d_.cache.synced(); },
                      [this]() -> awaitable<void> {
                        const ClaimSweepRound r = co_await run_once();
                        if (r.reset || r.unclaimed || r.errors || r.malformed) {
                          logger().info("claim sweeps", {{"listed", r.listed}, {"reset_to_ready", r.reset},
                                                         {"unclaimed", r.unclaimed}, {"in_flight", r.in_flight},
                                                         {"errors", r.errors}, {"malformed", r.malformed}});
                        }
                      });
}

awaitable<ClaimSweepRound> ClaimSweeper::run_once() {
  ClaimSweepRound round;
  co_await sweep(ClaimSweep::Stranded, round);
  co_await sweep(ClaimSweep::Stuck, round);
  co_return round;
}

awaitable<void> ClaimSweeper::sweep(ClaimSweep which, ClaimSweepRound& round) {
  ClaimSweepMachine m(which);
  ClaimedListRead list{std::string()};
  try {
    list.answer = co_await d_.dispatch.claimed(which == ClaimSweep::Stuck ? "ready" : "");
  } catch (const dispatch::DispatchError& e) {
    list.answer = std::string(e.what());
  }
  const InFlightFacts& in_flight = in_flight_;
  const CacheView& cache = d_.cache;
  const ClaimSweepMachine::FactsOf facts_of = [&cache, &in_flight](const dispatch::ClaimedIssue& issue) {
    return read_claim_facts(cache, in_flight, issue);
  };
  std::vector<SweepAction> steps = m.start(list);
  for (;;) {
    std::optional<SweepAction> call;
    for (auto& a : steps) {
      if (const auto* e = std::get_if<sweep::Event>(&a)) report(which, *e);
      else call = std::move(a);
    }
    if (!call) {
      steps = m.next(facts_of);
    } else if (const auto* ask = std::get_if<sweep::AskServer>(&*call)) {
      const ServerAnswer answer = co_await ask_server(*ask);
      // What this process knows is read again: it may have changed while the GET was out.
      steps = m.on_server(answer, facts_of(ask->issue));
    } else if (const auto* r = std::get_if<sweep::ResetToReady>(&*call)) {
      const std::optional<std::string> error = co_await reset(*r);
      steps = m.on_action(!error, error.value_or(""));
    } else if (const auto* u = std::get_if<sweep::Unclaim>(&*call)) {
      const std::optional<std::string> error = co_await release(*u);
      steps = m.on_action(!error, error.value_or(""));
    } else {
      break;  // Done
    }
  }
  const ClaimSweepRound& r = m.round();
  round.listed += r.listed;
  round.reset += r.reset;
  round.unclaimed += r.unclaimed;
  round.in_flight += r.in_flight;
  round.errors += r.errors;
  round.malformed += r.malformed;
}

awaitable<ServerAnswer> ClaimSweeper::ask_server(const sweep::AskServer& ask) {
  ServerAnswer answer;
  try {
    for (const auto& n : ask.names) {
      if (!answer.live) answer.live = co_await workload_exists(n);
    }
  } catch (const kube::ApiError& e) {
    if (e.kind() == kube::ErrorKind::Cancelled) throw;
    answer.error = e.what();
  }
  co_return answer;
}

awaitable<std::optional<std::string>> ClaimSweeper::reset(const sweep::ResetToReady& r) {
  const dispatch::IssueRef ref = ref_of(r.issue);
  try {
    // The label first: if the status fails after it, the issue is still in-progress
    // and the next pass finishes; the other way round, needs-human would stay.
    if (r.unlabel_needs_human) co_await d_.dispatch.unlabel(ref, "needs-human");
    co_await d_.dispatch.set_status(ref, "ready");
  } catch (const dispatch::DispatchError& e) {
    co_return std::string(e.what());
  }
  logger().info("stranded claim set back to ready", {{"issue", issue_label(r.issue)},
                {"workload", dispatch::workload_name(r.issue.repo_full_name, r.issue.number)}, {"why", r.why},
                {"removed_needs_human", r.unlabel_needs_human}});
  co_return std::nullopt;
}

awaitable<std::optional<std::string>> ClaimSweeper::release(const sweep::Unclaim& u) {
  try {
    co_await d_.dispatch.unclaim(ref_of(u.issue));
  } catch (const dispatch::DispatchError& e) {
    co_return std::string(e.what());
  }
  logger().info("stuck claim released", {{"issue", issue_label(u.issue)},
                {"workload", dispatch::workload_name(u.issue.repo_full_name, u.issue.number)}, {"why", u.why}});
  co_return std::nullopt;
}

void ClaimSweeper::report(ClaimSweep which, const sweep::Event& e) {
  const std::string_view sweep_name = to_string(which);
  switch (e.kind) {
    case SweepEvent::ListError:
      logger().warn("cannot read the claimed issues; trying again at the next pass", {{"sweep", sweep_name}, {"error", e.detail}});
      break;
    case SweepEvent::Malformed:
      logger().warn("skipping a malformed claimed issue", {{"sweep", sweep_name}, {"error", e.detail}});
      break;
    case SweepEvent::InFlight:
      logger().debug("left alone while in flight", {{"sweep", sweep_name}, {"issue", issue_label(e.issue)}, {"why", e.detail}});
      break;
    case SweepEvent::NotStranded:
      logger().debug("not stranded after all", {{"sweep", sweep_name}, {"issue", issue_label(e.issue)}, {"why", e.detail}});
      break;
    case SweepEvent::Error:
      logger().warn("sweep step failed; trying again at the next pass", {{"sweep", sweep_name}, {"issue", issue_label(e.issue)},
                    {"error", e.detail}});
      break;
    case SweepEvent::Reset:
    case SweepEvent::Unclaimed: break;  // logged by the call, with its reason
  }
  if (const auto result = sweeps_result(e.kind); !result.empty() && d_.metrics) {
    d_.metrics->sweeps_total.labels({sweep_name, result}).inc();
  }
}

}  // namespace fdb::op
