#include "operator/prfix_loop_io.hpp"

#include "dispatch/client_io.hpp"
#include "dispatch/github_io.hpp"
#include "dispatch/prfix.hpp"
#include "operator/cache_view.hpp"
#include "operator/metrics.hpp"
#include "operator/retry_flow.hpp"
#include "operator/round_loop_io.hpp"
#include "watch/client_io.hpp"
#include "watch/errors.hpp"
#include "watch/json_access.hpp"
#include "watch/log.hpp"
#include "watch/request.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>

#include <array>
#include <cctype>
#include <set>

namespace fdb::op {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;

namespace {

const log::Logger& logger() {
  static const log::Logger l("prfix");
  return l;
}

dispatch::PrFixSettings settings_of(const Config& c) { return {c.pr_fix_max_attempts, c.pr_fix_lane_agents}; }

std::string pr_ref(const dispatch::PrFixItem& item) { return item.repo + "#" + std::to_string(item.pr); }

// The intent that replaces a failed fix (the reconciler deletes it, waits, creates `r`).
Intent prfix_intent(const dispatch::PrFixItem& item, const prfix_step::RecordIntent& r) {
  Intent i;
  i.kind = Intent::Kind::PrFix;
  i.workload = r.name;
  i.old_uid = r.old_uid;
  i.next_attempt = r.request.attempt;
  i.repo = item.repo;
  i.number = item.pr;
  i.title = item.title;
  i.lane = r.request.lane;
  i.reason = r.reason;
  i.prfix = r.request;
  return i;
}

}  // namespace

PrFixLoop::PrFixLoop(LoopDeps deps, github::Client* github) : d_(deps), github_(github) {}

awaitable<void> PrFixLoop::run() {
  if (!d_.config.pr_fix_enabled) co_return;
  co_await run_rounds(std::chrono::seconds(d_.config.claim_interval_s), {}, [this]() -> awaitable<void> {
    const PrFixRound r = co_await run_once();
    if (r.created || r.marked || r.retried || r.failed || r.lanes_failed || r.malformed) {
      logger().info("pr-fix round", {{"created", r.created}, {"marked", r.marked}, {"retried", r.retried},
                                     {"waiting", r.waiting}, {"failed", r.failed}, {"lanes_failed", r.lanes_failed},
                                     {"malformed", r.malformed}});
    }
  });
}

awaitable<void> PrFixLoop::read_ladders() {
  const auto list = kube::Requests(kube::config_maps(), d_.config.workload.namespace_name)
                        .list(kube::ListOptions{std::string(kPrFixLadderLabel) + "=true", {}, {}, {}});
  try {
    const json::object answer = kube::parse_api_object(co_await d_.kube.call(list), "LIST prfix ladder configmaps");
    const auto* items = answer.if_contains("items");
    if (items != nullptr && items->is_array()) {
      for (const auto& v : items->get_array()) {
        if (!v.is_object()) continue;
        const std::string name = kube::string_field(kube::object_field(&v.get_object(), "metadata"), "name");
        if (auto ladder = read_prfix_ladder(v.get_object()); ladder && !name.empty()) ladders_.emplace(name, *ladder);
      }
    }
    ladders_read_ = true;
    if (!ladders_.empty()) logger().info("0.x PR-fix ladder ConfigMaps found; each is used once, then deleted",
                                         {{"count", ladders_.size()}});
  } catch (const kube::ApiError& e) {
    if (e.kind() == kube::ErrorKind::Cancelled) throw;
    logger().warn("cannot list 0.x PR-fix ladder ConfigMaps; trying again next round", {{"error", e.what()}});
  } catch (const std::exception& e) {  // an answer that is not a JSON object
    logger().warn("cannot list 0.x PR-fix ladder ConfigMaps; trying again next round", {{"error", e.what()}});
  }
}

awaitable<PrFixRound> PrFixLoop::run_once() {
  PrFixRound round;
  if (!ladders_read_) co_await read_ladders();
  std::set<std::string> seen;  // an item queued in both lanes is handled once
  static const std::array<std::string, 2> kLanes = {std::string(dispatch::kPrFixNormal),
                                                     std::string(dispatch::kPrFixEscalated)};
  for (const std::string& lane : kLanes) {
    std::optional<dispatch::Parsed<dispatch::PrFixQueue>> parsed;
    try {
      parsed = dispatch::parse_prfix_queue(co_await d_.dispatch.prfix_queued(lane));
    } catch (const dispatch::DispatchError& e) {
      ++round.lanes_failed;
      logger().warn("cannot read the PR-fix queue", {{"lane", lane}, {"error", e.what()}});
      continue;
    }
    if (const auto* bad = std::get_if<dispatch::ParseError>(&*parsed)) {
      ++round.lanes_failed;
      logger().warn("the PR-fix queue answer is malformed; lane skipped", {{"lane", lane}, {"error", bad->what()}});
      if (d_.metrics) d_.metrics->dispatch_malformed_items_total.labels({"pr-fix-" + lane}).inc();
      continue;
    }
    const auto& queue = std::get<dispatch::PrFixQueue>(*parsed);
    for (const auto& bad : queue.malformed) {
      ++round.malformed;
      logger().warn("skipping a malformed PR-fix item", {{"lane", lane}, {"why", bad.what()}});
      if (d_.metrics) d_.metrics->dispatch_malformed_items_total.labels({"pr-fix-" + lane}).inc();
    }
    for (const auto& item : queue.items) {
      if (!seen.insert(pr_ref(item)).second) continue;
      PrFixResult done = PrFixResult::Error;
      std::string error;
      try {
        done = co_await handle(item);
      } catch (const kube::ApiError& e) {
        if (e.kind() == kube::ErrorKind::Cancelled) throw;
        error = e.what();
      } catch (const dispatch::DispatchError& e) {
        error = e.what();
      }
      switch (done) {
        case PrFixResult::Created: ++round.created; break;
        case PrFixResult::Fixed:
        case PrFixResult::Blocked:
        case PrFixResult::Stale: ++round.marked; break;
        case PrFixResult::Retried: ++round.retried; break;
        case PrFixResult::Waiting: ++round.waiting; break;
        case PrFixResult::Error:
          ++round.failed;
          logger().warn("a PR-fix step failed; trying again next round", {{"pr", pr_ref(item)}, {"error", error}});
          break;
      }
      if (d_.metrics) d_.metrics->sweeps_total.labels({"prfix", to_string(done)}).inc();
    }
  }
  co_return round;
}

awaitable<PrFixFacts> PrFixLoop::read_facts(const dispatch::PrFixItem& item) {
  PrFixFacts f;
  f.item = item;
  const std::string name = dispatch::prfix_workload_name(item.repo, item.pr);
  f.fix = d_.cache.workload(name);
  if (!f.fix) {
    // Not cached (yet): the API server says, so a lagging cache never creates twice.
    const auto get = kube::Requests(kube::workloads(), d_.config.workload.namespace_name).get(name);
    try {
      f.fix = kube::parse_api_object(co_await d_.kube.call(get), "GET workload " + name);
    } catch (const kube::ApiError& e) {
      if (e.kind() != kube::ErrorKind::NotFound) throw;
    }
  }
  f.replacing = d_.cache.intent(name).has_value();
  if (auto it = ladders_.find(prfix_ladder_name(name)); it != ladders_.end()) f.legacy = it->second;
  co_return f;
}

awaitable<PrFixResult> PrFixLoop::handle(const dispatch::PrFixItem& item) {
  const PrFixFacts facts = co_await read_facts(item);
  const PrFixPlan first = prfix_first(facts);
  const auto* read = std::get_if<prfix_step::ReadPullRequest>(&first.steps.front());
  if (read == nullptr) co_return first.result;  // waiting: a delete or a replace is under way
  const std::optional<dispatch::PrState> pr = co_await read_pull_request(item, read->with_checks);
  const PrFixPlan plan = prfix_decide(facts, pr, settings_of(d_.config), d_.config.workload);
  for (const auto& step : plan.steps) co_await run_step(item, step);
  co_return plan.result;
}

awaitable<void> PrFixLoop::run_step(const dispatch::PrFixItem& item, const PrFixStep& step) {
  const std::string& ns = d_.config.workload.namespace_name;
  if (const auto* c = std::get_if<prfix_step::Create>(&step)) {
    const auto create = kube::Requests(kube::workloads(), ns).create(json::serialize(c->manifest));
    try {
      co_await d_.kube.call(create);
    } catch (const kube::ApiError& e) {
      if (e.kind() != kube::ErrorKind::AlreadyExists) throw;
    }
    logger().info("PR fix created", {{"workload", c->name}, {"pr", pr_ref(item)}, {"lane", c->request.lane},
                                     {"attempt", c->request.attempt}, {"signature", dispatch::failure_signature(item)}});
  } else if (const auto* m = std::get_if<prfix_step::Mark>(&step)) {
    if (!co_await d_.dispatch.prfix_mark(item.repo, item.pr, m->status, m->note)) {
      logger().warn("dispatch no longer knows the PR-fix item", {{"pr", pr_ref(item)}});
    }
    logger().info("PR-fix item marked", {{"pr", pr_ref(item)}, {"status", m->status}, {"note", m->note}});
  } else if (const auto* d = std::get_if<prfix_step::DeleteFix>(&step)) {
    const auto del = kube::Requests(kube::workloads(), ns).remove(d->name);
    co_await remove_if_present(del);
  } else if (const auto* r = std::get_if<prfix_step::RecordIntent>(&step)) {
    const json::object cm = intent_to_configmap(prfix_intent(item, *r), ns);
    const auto create = kube::Requests(kube::config_maps(), ns).create(json::serialize(cm));
    try {
      co_await d_.kube.call(create);
    } catch (const kube::ApiError& e) {
      if (e.kind() != kube::ErrorKind::AlreadyExists) throw;  // recorded already: the reconciler carries it out
    }
    logger().info("PR fix failed; its replacement is recorded as an intent (the reconciler deletes, waits, creates)",
                  {{"workload", r->name}, {"pr", pr_ref(item)}, {"lane", r->request.lane},
                   {"attempt", r->request.attempt}, {"reason", r->reason}});
  } else if (const auto* l = std::get_if<prfix_step::DeleteLegacy>(&step)) {
    const auto del = kube::Requests(kube::config_maps(), ns).remove(l->name);
    co_await remove_if_present(del);
    ladders_.erase(l->name);
    logger().info("a 0.x PR-fix ladder ConfigMap was used and deleted", {{"configmap", l->name}, {"pr", pr_ref(item)}});
  }
}

awaitable<std::optional<dispatch::PrState>> PrFixLoop::read_pull_request(const dispatch::PrFixItem& item,
                                                                         bool with_checks) {
  // The pull request (GitHub asked with the token, else unauthenticated); with a token a
  // 404 is a pull request gone.
  std::optional<dispatch::PrState> pr;
  if (github_ == nullptr) co_return pr;
  try {
    if (auto got = co_await github_->pull_request(item.repo, item.pr)) {
      std::string state = got->mergeable_state;
      for (auto& ch : state) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      pr = dispatch::PrState{got->state == "open", got->merged, got->head_sha, state, std::nullopt};
      if (pr->open && !pr->merged && !pr->head_sha.empty() && with_checks) pr->checks = co_await checks_of(item, pr->head_sha);
    } else if (!github_->options().token.empty()) {
      pr = dispatch::PrState{false, false, {}};
    } else {
      // Unauthenticated, a private repository's pull request answers 404 too: unknown.
      logger().info("GitHub (unauthenticated) does not show the pull request; deciding without it", {{"pr", pr_ref(item)}});
    }
  } catch (const github::GitHubError& e) {
    logger().warn("GitHub could not give the pull request's state; deciding without it",
                  {{"pr", pr_ref(item)}, {"error", e.what()}});
  }
  co_return pr;
}

awaitable<std::optional<dispatch::ChecksState>> PrFixLoop::checks_of(const dispatch::PrFixItem& item, const std::string& sha) {
  try {
    const auto answer = co_await github_->check_runs(item.repo, sha);
    if (auto summary = dispatch::summarize_check_runs(answer)) co_return summary;
    logger().warn("GitHub's check runs are not in the expected shape; counted as pending", {{"pr", pr_ref(item)}});
  } catch (const github::GitHubError& e) {
    logger().warn("GitHub could not give the check runs; counted as pending", {{"pr", pr_ref(item)}, {"error", e.what()}});
  }
  co_return std::nullopt;
}

awaitable<void> PrFixLoop::remove_if_present(kube::HttpRequest req) {
  try {
    co_await d_.kube.call(req);
  } catch (const kube::ApiError& e) {
    if (e.kind() != kube::ErrorKind::NotFound) throw;
  }
}

}  // namespace fdb::op
