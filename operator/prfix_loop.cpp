#include "operator/prfix_loop.hpp"

#include "dispatch/client.hpp"
#include "dispatch/github.hpp"
#include "dispatch/prfix.hpp"
#include "operator/metrics.hpp"
#include "operator/prfix_steps.hpp"
#include "watch/client.hpp"
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

constexpr auto& obj = kube::object_field;

}  // namespace

PrFixLoop::PrFixLoop(Deps deps) : d_(std::move(deps)) {}

awaitable<void> PrFixLoop::run() {
  if (!d_.config.pr_fix_enabled) co_return;
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer timer(ex);
  for (;;) {
    const auto start = std::chrono::steady_clock::now();
    const PrFixRound r = co_await run_once();
    if (r.created || r.marked || r.retried || r.failed || r.lanes_failed || r.malformed) {
      logger().info("pr-fix round", {{"created", r.created}, {"marked", r.marked}, {"retried", r.retried},
                                     {"waiting", r.waiting}, {"failed", r.failed}, {"lanes_failed", r.lanes_failed},
                                     {"malformed", r.malformed}});
    }
    timer.expires_at(start + std::chrono::seconds(d_.config.claim_interval_s));
    co_await timer.async_wait(asio::use_awaitable);
  }
}

awaitable<PrFixRound> PrFixLoop::run_once() {
  PrFixRound round;
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
    const auto* queue = &std::get<dispatch::PrFixQueue>(*parsed);
    for (const auto& bad : queue->malformed) {
      ++round.malformed;
      logger().warn("skipping a malformed PR-fix item", {{"lane", lane}, {"why", bad.what()}});
      if (d_.metrics) d_.metrics->dispatch_malformed_items_total.labels({"pr-fix-" + lane}).inc();
    }
    for (const auto& item : queue->items) {
      if (!seen.insert(item.repo + "#" + std::to_string(item.pr)).second) continue;
      std::string done = "error";
      std::string error;
      try {
        done = co_await handle(item);
      } catch (const kube::ApiError& e) {
        if (e.kind() == kube::ErrorKind::Cancelled) throw;
        error = e.what();
      } catch (const dispatch::DispatchError& e) {
        error = e.what();
      }
      if (done == "created") ++round.created;
      else if (done == "fixed" || done == "blocked" || done == "stale") ++round.marked;
      else if (done == "retried") ++round.retried;
      else if (done == "waiting") ++round.waiting;
      else {
        ++round.failed;
        logger().warn("a PR-fix step failed; trying again next round",
                      {{"pr", item.repo + "#" + std::to_string(item.pr)}, {"error", error}});
      }
      if (d_.metrics) d_.metrics->sweeps_total.labels({"prfix", done}).inc();
    }
  }
  co_return round;
}

awaitable<std::optional<dispatch::ChecksState>> PrFixLoop::checks_of(const dispatch::PrFixItem& item, const std::string& sha) {
  try {
    const auto answer = co_await d_.github->check_runs(item.repo, sha);
    if (auto summary = dispatch::summarize_check_runs(answer)) co_return summary;
    logger().warn("GitHub's check runs are not in the expected shape; counted as pending",
                  {{"pr", item.repo + "#" + std::to_string(item.pr)}});
  } catch (const github::GitHubError& e) {
    logger().warn("GitHub could not give the check runs; counted as pending",
                  {{"pr", item.repo + "#" + std::to_string(item.pr)}, {"error", e.what()}});
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

awaitable<std::string> PrFixLoop::handle(const dispatch::PrFixItem& item) {
  const std::string& ns = d_.config.workload.namespace_name;
  const std::string name = dispatch::prfix_workload_name(item.repo, item.pr);
  const std::string pr_ref = item.repo + "#" + std::to_string(item.pr);
  const kube::Requests workloads(kube::workloads(), ns);
  const kube::Requests config_maps(kube::config_maps(), ns);

  // What exists: the fix Workload, and the ladder position recorded before a retry's delete.
  std::optional<json::object> fix_object;
  try {
    const auto get = workloads.get(name);
    fix_object = kube::parse_api_object(co_await d_.kube.call(get), "GET workload " + name);
  } catch (const kube::ApiError& e) {
    if (e.kind() != kube::ErrorKind::NotFound) throw;
  }
  if (fix_object) {
    const auto* md = obj(&*fix_object, "metadata");
    if (md != nullptr && md->if_contains("deletionTimestamp") != nullptr && !md->at("deletionTimestamp").is_null()) {
      co_return "waiting";  // a delete in progress: the next round creates what comes next
    }
  }
  std::optional<dispatch::PrFixWorkload> pending;
  try {
    const auto get = config_maps.get(prfix_ladder_name(name));
    const json::object cm = kube::parse_api_object(co_await d_.kube.call(get), "GET configmap " + prfix_ladder_name(name));
    const auto* data = obj(&cm, "data");
    dispatch::PrFixWorkload p;
    auto field = [&](std::string_view k) {
      const auto* v = data ? data->if_contains(k) : nullptr;
      return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
    };
    p.lane = field("lane");
    p.attempt = dispatch::parse_attempt(field("attempt"));
    p.signature = field("signature");
    if (p.lane == dispatch::kPrFixNormal || p.lane == dispatch::kPrFixEscalated) pending = p;
  } catch (const kube::ApiError& e) {
    if (e.kind() != kube::ErrorKind::NotFound) throw;
  }

  // The pull request (GitHub asked with the token, else unauthenticated); with a token a
  // 404 is a pull request gone.
  std::optional<dispatch::PrState> pr;
  if (d_.github != nullptr) {
    try {
      if (auto got = co_await d_.github->pull_request(item.repo, item.pr)) {
        std::string state = got->mergeable_state;
        for (auto& ch : state) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        pr = dispatch::PrState{got->state == "open", got->merged, got->head_sha, state, std::nullopt};
        if (pr->open && !pr->merged && !pr->head_sha.empty() && fix_object) pr->checks = co_await checks_of(item, pr->head_sha);
      } else if (!d_.github->options().token.empty()) {
        pr = dispatch::PrState{false, false, {}};
      } else {
        // Unauthenticated, a private repository's pull request answers 404 too: unknown.
        logger().info("GitHub (unauthenticated) does not show the pull request; deciding without it", {{"pr", pr_ref}});
      }
    } catch (const github::GitHubError& e) {
      logger().warn("GitHub could not give the pull request's state; deciding without it",
                    {{"pr", pr_ref}, {"error", e.what()}});
    }
  }

  const std::optional<dispatch::PrFixWorkload> fix =
      fix_object ? std::optional<dispatch::PrFixWorkload>(dispatch::read_prfix_workload(*fix_object)) : std::nullopt;
  const dispatch::PrFixAction action = dispatch::decide_prfix(item, fix, pending, pr, settings_of(d_.config));

  if (const auto* c = std::get_if<dispatch::prfix::Create>(&action)) {
    const json::object manifest = dispatch::build_prfix_workload(c->request, d_.config.workload, settings_of(d_.config));
    try {
      const auto create = workloads.create(json::serialize(manifest));
      co_await d_.kube.call(create);
    } catch (const kube::ApiError& e) {
      if (e.kind() != kube::ErrorKind::AlreadyExists) throw;
    }
    // The Workload carries the ladder position from now on.
    const auto clear = config_maps.remove(prfix_ladder_name(name));
    co_await remove_if_present(clear);
    logger().info("PR fix created", {{"workload", name}, {"pr", pr_ref}, {"lane", c->request.lane},
                                     {"attempt", c->request.attempt}, {"signature", dispatch::failure_signature(item)}});
    co_return "created";
  }
  if (const auto* m = std::get_if<dispatch::prfix::Mark>(&action)) {
    if (!co_await d_.dispatch.prfix_mark(item.repo, item.pr, m->status, m->note)) {
      logger().warn("dispatch no longer knows the PR-fix item", {{"pr", pr_ref}});
    }
    if (fix_object) {
      const auto del = workloads.remove(name);
      co_await remove_if_present(del);
    }
    const auto clear = config_maps.remove(prfix_ladder_name(name));
    co_await remove_if_present(clear);
    logger().info("PR-fix item marked", {{"pr", pr_ref}, {"status", m->status}, {"note", m->note}});
    std::string result;
    for (char ch : m->status) result += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    co_return result;  // fixed, blocked, stale
  }
  if (const auto* r = std::get_if<dispatch::prfix::Retry>(&action)) {
    // The next position first, then the delete: a crash in between leaves the record, and
    // the next round creates from it once the old fix is gone.
    const json::object cm{
        {"apiVersion", "v1"},
        {"kind", "ConfigMap"},
        {"metadata", json::object{{"name", prfix_ladder_name(name)},
                                  {"namespace", ns},
                                  {"labels", json::object{{"foreman.llmkube.dev/prfix-ladder", "true"}}}}},
        {"data", json::object{{"lane", r->request.lane},
                              {"attempt", std::to_string(r->request.attempt)},
                              {"signature", dispatch::failure_signature(item)}}}};
    bool exists = false;
    const auto create = config_maps.create(json::serialize(cm));
    try {
      co_await d_.kube.call(create);
    } catch (const kube::ApiError& e) {
      if (e.kind() != kube::ErrorKind::AlreadyExists) throw;
      exists = true;
    }
    if (exists) {
      // An older record (a crash before its create): replaced, with the verbs the chart's
      // Role already grants for ConfigMaps (create, delete).
      const auto old_record = config_maps.remove(prfix_ladder_name(name));
      co_await remove_if_present(old_record);
      co_await d_.kube.call(create);
    }
    kube::DeleteOptions opts;
    opts.propagation_policy = "Foreground";
    const auto del = workloads.remove(name, opts);
    co_await remove_if_present(del);
    logger().info("PR fix failed; the next one is recorded and the old one deleted",
                  {{"workload", name}, {"pr", pr_ref}, {"lane", r->request.lane}, {"attempt", r->request.attempt},
                   {"reason", r->reason}});
    co_return "retried";
  }
  co_return "waiting";
}

}  // namespace fdb::op
