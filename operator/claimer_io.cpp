#include "operator/claimer_io.hpp"

#include "dispatch/candidates.hpp"
#include "dispatch/client_io.hpp"
#include "dispatch/workload.hpp"
#include "operator/cache_view.hpp"
#include "operator/foreman_model.hpp"
#include "operator/metrics.hpp"
#include "operator/retry_flow.hpp"
#include "operator/round_loop_io.hpp"
#include "watch/client_io.hpp"
#include "watch/errors.hpp"
#include "watch/log.hpp"
#include "watch/request.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <optional>
#include <variant>

namespace fdb::op {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
using asio::use_awaitable;

namespace {

const log::Logger& logger() {
  static const log::Logger l("claim");
  return l;
}

// Fetches one lane; never throws (but for cancellation): a failure fails that lane only.
awaitable<void> fetch_lane(dispatch::Client& client, LaneRead& out) {
  try {
    const json::value answer = co_await client.queue(out.lane);
    auto parsed = dispatch::select_candidates(answer, out.lane);
    if (auto* sel = std::get_if<dispatch::Selection>(&parsed)) {
      out.answer = std::move(*sel);
    } else {
      out.answer = LaneFailure{std::get<dispatch::ParseError>(parsed).what()};
    }
  } catch (const dispatch::DispatchError& e) {
    out.answer = LaneFailure{e.what()};
  }
}

// How long a create may go unseen by the cache before the API server is asked.
constexpr std::chrono::seconds kUnseenAfter{2};

std::string issue_label(const ClaimSubject& s) { return fmt::format("{}#{}", s.issue.repo_full_name, s.issue.number); }

// The intent that creates attempt 1 of the issue once the terminating object is gone.
Intent claim_intent(const claim::RecordClaimIntent& c) {
  Intent i;
  i.kind = Intent::Kind::Claim;
  i.workload = c.subject.name;
  i.old_uid = c.old_uid;
  i.next_attempt = 1;
  i.issue_id = c.subject.issue.issue_id;
  i.repo = c.subject.issue.repo_full_name;
  i.number = c.subject.issue.number;
  i.title = c.subject.title;
  i.lane = c.subject.lane;
  i.reason = "claimed while the old Workload of that name was terminating";
  return i;
}

}  // namespace

Claimer::Claimer(LoopDeps deps, ClaimsInFlight& in_flight) : d_(deps), in_flight_(in_flight) {}

awaitable<void> Claimer::run() {
  co_await run_rounds(std::chrono::seconds(d_.config.claim_interval_s), [this] { return d_.cache.synced(); },
                      [this]() -> awaitable<void> {
                        const ClaimRound r = co_await run_once();
                        if (r.claimed || r.unclaimed || r.lanes_failed || r.malformed) {
                          logger().info("claim round", {{"claimed", r.claimed}, {"taken", r.taken}, {"unclaimed", r.unclaimed},
                                                        {"deferred", r.deferred}, {"lanes_failed", r.lanes_failed},
                                                        {"malformed", r.malformed}, {"in_progress", r.in_progress},
                                                        {"capped", r.capped}});
                        }
                      });
}

awaitable<void> Claimer::settle_pending() {
  // A create the cache still does not show a while later may have come and gone between
  // two rounds (a Workload that failed and was escalated, parked or pruned within a
  // round): the API server says. Left pending, it would count as in progress and keep its
  // issue from being claimed again, for ever.
  const CacheView& cache = d_.cache;
  auto cached = [&cache](std::string_view name) {
    ClaimsInFlight::Cached c;
    if (auto w = cache.workload(name)) {
      c.workload = true;
      c.workload_terminating = is_terminating(*w);
    }
    c.intent = cache.intent(name).has_value();
    return c;
  };
  const std::chrono::milliseconds deferred_ttl = std::chrono::seconds(d_.config.delete_workload_timeout_s);
  const auto unseen = in_flight_.settle(cached, std::chrono::steady_clock::now(), kUnseenAfter, deferred_ttl);
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
      in_flight_.forget(name);
    }
  }
}

awaitable<std::vector<LaneRead>> Claimer::read_lanes() {
  // Every lane at once; each fails alone.
  std::vector<LaneRead> lanes;
  for (const auto& lane : d_.config.dispatch_lanes) lanes.push_back({lane, LaneFailure{"not read"}});
  if (lanes.empty()) co_return lanes;
  auto ex = co_await asio::this_coro::executor;
  using Op = decltype(asio::co_spawn(ex, fetch_lane(d_.dispatch, lanes[0]), asio::deferred));
  std::vector<Op> ops;
  for (auto& l : lanes) ops.push_back(asio::co_spawn(ex, fetch_lane(d_.dispatch, l), asio::deferred));
  auto [order, errors] = co_await asio::experimental::make_parallel_group(std::move(ops))
                             .async_wait(asio::experimental::wait_for_all(), use_awaitable);
  for (const auto& e : errors) {
    if (e) std::rethrow_exception(e);  // only cancellation gets here
  }
  co_return lanes;
}

awaitable<ClaimRound> Claimer::run_once() {
  co_await settle_pending();
  // In progress: the cache, plus creates it has not shown yet.
  CacheView::Load cached = d_.cache.load();
  const int in_progress = static_cast<int>(in_flight_.pending_creates()) + cached.in_progress;
  ClaimRoundMachine m({d_.config.workload, d_.config.max_in_progress}, co_await read_lanes(), in_progress,
                      std::move(cached.by_coder));

  std::optional<std::string> claiming;  // the name held in the registry from its claim until settled
  std::vector<ClaimRoundAction> steps = m.next(d_.cache, in_flight_);
  for (;;) {
    std::optional<ClaimRoundAction> call;
    for (auto& a : steps) {
      if (const auto* e = std::get_if<claim::Event>(&a)) report(*e);
      else call = std::move(a);
    }
    if (!call || std::holds_alternative<claim::Claim>(*call) || std::holds_alternative<claim::Done>(*call)) {
      if (claiming) in_flight_.end_claim(*claiming);  // the last candidate is settled
      claiming.reset();
    }
    if (!call) {
      steps = m.next(d_.cache, in_flight_);
    } else if (const auto* c = std::get_if<claim::Claim>(&*call)) {
      claiming = c->subject.name;
      in_flight_.begin_claim(c->subject.name);
      steps = co_await claim(m, *c);
    } else if (const auto* w = std::get_if<claim::CreateWorkload>(&*call)) {
      steps = co_await create(m, *w);
    } else if (const auto* i = std::get_if<claim::RecordClaimIntent>(&*call)) {
      steps = co_await record_intent(m, *i);
    } else if (const auto* u = std::get_if<claim::Unclaim>(&*call)) {
      steps = co_await unclaim(m, *u);
    } else {
      break;  // Done
    }
  }
  co_return m.round();
}

awaitable<std::vector<ClaimRoundAction>> Claimer::claim(ClaimRoundMachine& m, const claim::Claim& c) {
  ClaimAnswer answer;
  try {
    answer.result = co_await d_.dispatch.claim(c.subject.issue);
  } catch (const dispatch::DispatchError& e) {
    answer.error = e.what();
  }
  co_return m.on_claim(answer);
}

awaitable<std::vector<ClaimRoundAction>> Claimer::create(ClaimRoundMachine& m, const claim::CreateWorkload& c) {
  const CreateAnswer answer = co_await create_workload(c.subject.name, json::serialize(c.manifest));
  if (answer.outcome == ClaimCreateOutcome::Created) in_flight_.created(c.subject.name, std::chrono::steady_clock::now());
  co_return m.on_create(answer);
}

awaitable<std::vector<ClaimRoundAction>> Claimer::record_intent(ClaimRoundMachine& m, const claim::RecordClaimIntent& c) {
  logger().info("a Workload of that name is terminating; the claim is recorded as an intent and the round goes on",
                {{"workload", c.subject.name}, {"old_uid", c.old_uid}});
  const Intent intent = claim_intent(c);
  const auto& ns = d_.config.workload.namespace_name;
  const auto req = kube::Requests(kube::config_maps(), ns).create(json::serialize(intent_to_configmap(intent, ns)));
  bool recorded = false;
  std::string error;
  try {
    co_await d_.kube.call(req);
    recorded = true;
  } catch (const kube::ApiError& e) {
    if (e.kind() == kube::ErrorKind::Cancelled) throw;
    // An intent of that name exists already: the reconciler creates what it says.
    recorded = e.kind() == kube::ErrorKind::AlreadyExists;
    error = e.what();
  }
  if (recorded) in_flight_.deferred(c.subject.name, std::chrono::steady_clock::now());
  co_return m.on_intent(recorded, error);
}

awaitable<std::vector<ClaimRoundAction>> Claimer::unclaim(ClaimRoundMachine& m, const claim::Unclaim& c) {
  // Not stranded: give the claim back.
  logger().warn("the claim is given back", {{"workload", c.subject.name}, {"why", c.why}});
  bool released = false;
  std::string error;
  try {
    co_await d_.dispatch.unclaim(c.subject.issue);
    released = true;
  } catch (const dispatch::DispatchError& e) {
    error = e.what();
  }
  co_return m.on_unclaim(released, error);
}

void Claimer::report(const claim::Event& e) {
  const std::string& lane = e.subject.lane;
  switch (e.kind) {
    case ClaimEvent::LaneError:
      logger().warn("lane failed; the other lanes go on", {{"lane", lane}, {"error", e.detail}});
      break;
    case ClaimEvent::Malformed:
      logger().warn("skipping a malformed queue item", {{"lane", lane}, {"error", e.detail}});
      if (d_.metrics) d_.metrics->dispatch_malformed_items_total.labels({lane}).inc();
      break;
    case ClaimEvent::Capped: logger().debug("MAX_IN_PROGRESS reached; no more claims this round", {{"lane", lane}}); break;
    case ClaimEvent::OtherName:
      logger().debug("the issue has a Workload under another name; not claimed",
                     {{"issue", issue_label(e.subject)}, {"workload", e.subject.name}});
      break;
    case ClaimEvent::ClaimError:
      logger().warn("claim failed; trying the next candidate", {{"lane", lane}, {"issue", issue_label(e.subject)}, {"error", e.detail}});
      break;
    case ClaimEvent::SettledByList:
      logger().info("a claim whose answer was lost (or a 409) is ours in dispatch's list of claims",
                    {{"lane", lane}, {"issue", issue_label(e.subject)}});
      break;
    case ClaimEvent::Claimed:
      if (d_.metrics) d_.metrics->workloads_created_total.labels({lane}).inc();
      logger().info("claimed; Workload created", {{"workload", e.subject.name}, {"issue", issue_label(e.subject)},
                                                   {"lane", lane}, {"coder", e.detail}});
      break;
    case ClaimEvent::Deferred:
      logger().info("claimed; the Workload is created once the old one is gone",
                    {{"workload", e.subject.name}, {"issue", issue_label(e.subject)}, {"lane", lane}});
      break;
    case ClaimEvent::Stranded:
      logger().error("cannot unclaim after a failed create; the stranded-claims sweep will",
                     {{"workload", e.subject.name}, {"error", e.detail}});
      break;
    case ClaimEvent::Taken:
    case ClaimEvent::Closed:
    case ClaimEvent::Unknown:
    case ClaimEvent::Unclaimed: break;
  }
  if (const auto result = claims_result(e.kind); !result.empty() && d_.metrics) {
    d_.metrics->claims_total.labels({lane, result}).inc();
  }
}

awaitable<CreateAnswer> Claimer::create_workload(const std::string& name, const std::string& body) {
  const auto& ns = d_.config.workload.namespace_name;
  auto ex = co_await asio::this_coro::executor;
  const auto req = kube::Requests(kube::workloads(), ns).create(body);
  constexpr int kAttempts = 4;
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    std::chrono::milliseconds wait = std::chrono::milliseconds(200 << attempt);
    bool exists = false;
    try {
      co_await d_.kube.call(req);
      co_return CreateAnswer{ClaimCreateOutcome::Created, {}, {}};
    } catch (const kube::ApiError& e) {
      if (e.kind() == kube::ErrorKind::Cancelled) throw;
      if (e.kind() == kube::ErrorKind::AlreadyExists) {
        exists = true;
      } else if (!e.retryable() || attempt == kAttempts) {
        logger().error("cannot create the Workload", {{"workload", name}, {"error", e.what()}});
        co_return CreateAnswer{ClaimCreateOutcome::Failed, {}, e.what()};
      } else {
        if (e.retry_after()) wait = std::chrono::duration_cast<std::chrono::milliseconds>(*e.retry_after());
        logger().warn("create failed; retrying", {{"workload", name}, {"attempt", attempt}, {"error", e.what()}});
      }
    }
    if (exists) {
      // It exists: ours already (the same issue maps to the same name), unless it is on
      // its way out — then the machine records an intent.
      std::optional<json::object> existing = d_.cache.workload(name);
      if (!existing || !is_terminating(*existing)) {
        existing = co_await get_workload(name);
        if (!existing) continue;  // gone between the two calls: create again
      }
      if (!is_terminating(*existing)) co_return CreateAnswer{ClaimCreateOutcome::Exists, {}, {}};
      co_return CreateAnswer{ClaimCreateOutcome::ExistsTerminating, read_view(*existing).uid, {}};
    }
    asio::steady_timer t(ex, wait);
    co_await t.async_wait(use_awaitable);
  }
  co_return CreateAnswer{ClaimCreateOutcome::Failed, {}, "the Workload kept being deleted and recreated"};
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
