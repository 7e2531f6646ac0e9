#include "sim/dispatch.hpp"
#include "sim/dispatch_detail.hpp"

#include <boost/json.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace fdb::sim {
namespace json = boost::json;

using namespace dispatch_detail;

Dispatch::Dispatch(std::vector<std::string> lanes, std::string token) : lanes_(std::move(lanes)), token_(std::move(token)) {}

Issue& Dispatch::add(Issue i) {
  if (i.id.empty()) i.id = fmt::format("I_sim{:06d}", next_id_);
  ++next_id_;
  if (i.repo.empty()) i.repo = "misospace/dispatch";
  if (i.number == 0) i.number = next_id_ + 99;
  if (i.title.empty()) i.title = fmt::format("Issue {}", i.number);
  if (i.lane.empty()) i.lane = lanes_.empty() ? "local" : lanes_.front();
  issues_.push_back(std::move(i));
  return issues_.back();
}

void Dispatch::seed(int n) {
  static const char* titles[] = {"Fix crash when config file is empty", "Add retry to the webhook sender",
                                 "Handle unicode in branch names", "Parser rejects trailing commas",
                                 "Document the lane aliases", "Flaky test in claim loop",
                                 "Support gzip in the fetcher", "Wrong exit code on SIGTERM"};
  static const char* repos[] = {"misospace/dispatch", "misospace/foreman", "acme/widgets", "acme/Web_App.js"};
  for (int k = 0; k < n; ++k) {
    Issue i;
    i.repo = repos[k % 4];
    i.number = 100 + k;
    i.title = k % 17 == 5 ? "chore(deps): update dependency boost to v1.86 (renovate)" : titles[k % 8];
    i.lane = lanes_.empty() ? "local" : lanes_[static_cast<std::size_t>(k) % lanes_.size()];
    i.claimable = k % 11 != 7;
    i.priority = k % 3 == 0 ? "priority/p1" : "priority/p2";
    add(std::move(i));
  }
}

Issue* Dispatch::find_id(const std::string& id) {
  for (auto& i : issues_)
    if (i.id == id) return &i;
  return nullptr;
}

Issue* Dispatch::find(const json::object& b) {
  std::string id = str(b, "issueId");
  if (!id.empty())
    if (auto* i = find_id(id)) return i;
  std::string repo = str(b, "repoFullName");
  int number = num(b, "issueNumber");
  if (number == 0) number = num(b, "number");
  for (auto& i : issues_)
    if (i.repo == repo && i.number == number) return &i;
  return nullptr;
}

json::array Dispatch::labels_json(const Issue& i) const {
  json::array a;
  a.push_back(json::value("status/" + i.status));
  a.push_back(json::value(i.priority));
  for (const auto& l : i.labels) a.push_back(json::value(l));
  return a;
}

json::object Dispatch::item_json(const Issue& i, const std::string& agent) const {
  return json::object{{"type", "issue"},
                      {"number", i.number},
                      {"title", i.title},
                      {"url", fmt::format("https://github.com/{}/issues/{}", i.repo, i.number)},
                      {"labels", labels_json(i)},
                      {"priority", i.priority},
                      {"status", "status/" + i.status},
                      {"agentMatch", !i.claimed_by.empty() && i.claimed_by == agent},
                      {"lane", i.lane},
                      {"issueId", i.id},
                      {"repoFullName", i.repo},
                      {"claimable", i.claimable && i.claimed_by.empty()},
                      {"claimedBy", i.claimed_by.empty() ? json::value(nullptr) : json::value(i.claimed_by)}};
}

json::object Dispatch::state() const {
  json::array issues;
  for (const auto& i : issues_) {
    json::array comments, labels, hist, history;
    for (const auto& c : i.comments) comments.push_back(json::value(c));
    for (const auto& l : i.labels) labels.push_back(json::value(l));
    for (const auto& l : i.lane_history) hist.push_back(json::value(l));
    for (const auto& h : i.history) history.push_back(json::value(h));
    issues.push_back(json::object{{"issueId", i.id},       {"repoFullName", i.repo},  {"number", i.number},
                                  {"title", i.title},      {"lane", i.lane},          {"status", i.status},
                                  {"state", i.state},      {"claimedBy", i.claimed_by}, {"claimable", i.claimable},
                                  {"hasOpenPr", i.has_open_pr}, {"labels", std::move(labels)},
                                  {"comments", std::move(comments)}, {"laneHistory", std::move(hist)},
                                  {"history", std::move(history)}});
  }
  json::array prs;
  for (const auto& p : prfix_)
    prs.push_back(json::object{{"repo", p.repo}, {"pr", p.pr}, {"status", p.status}, {"lane", p.lane}, {"note", p.note}});
  return json::object{{"issues", std::move(issues)}, {"prFix", std::move(prs)},
                      {"requests", static_cast<std::int64_t>(requests_)}, {"faults", static_cast<std::int64_t>(faults_.size())}};
}

namespace {
// The control API's bodies: an issue to add, a fault, a PR-fix item.
Issue issue_from(const json::object& b) {
  Issue i;
  i.id = str(b, "issueId");
  i.repo = str(b, "repoFullName");
  i.number = num(b, "number");
  i.title = str(b, "title");
  i.lane = str(b, "lane");
  if (!str(b, "status").empty()) i.status = str(b, "status");
  if (auto* c = b.if_contains("claimable"); c != nullptr && c->is_bool()) i.claimable = c->as_bool();
  if (auto* c = b.if_contains("hasOpenPr"); c != nullptr && c->is_bool()) i.has_open_pr = c->as_bool();
  if (!str(b, "claimedBy").empty()) i.claimed_by = str(b, "claimedBy");
  if (auto* ls = b.if_contains("labels"); ls != nullptr && ls->is_array())
    for (const auto& l : ls->as_array())
      if (l.is_string() && !l.as_string().starts_with("status/")) i.labels.emplace_back(l.as_string());
  return i;
}

DispatchFault fault_from(const json::object& b) {
  DispatchFault f;
  f.path = str(b, "path");
  f.method = str(b, "method");
  f.lane = str(b, "lane");
  if (!str(b, "mode").empty()) f.mode = str(b, "mode");
  if (b.contains("code")) f.code = num(b, "code");
  if (b.contains("count")) f.count = num(b, "count");
  f.latency_ms = num(b, "latencyMs");
  if (b.contains("retryAfter")) f.retry_after = num(b, "retryAfter");
  return f;
}

PrFix prfix_from(const json::object& b) {
  PrFix p;
  p.repo = str(b, "repo");
  p.pr = num(b, "pr");
  p.issue = num(b, "issue");
  p.branch = str(b, "branch");
  p.title = str(b, "title");
  p.head_sha = str(b, "headSha").empty() ? "0123456789abcdef0123456789abcdef01234567" : str(b, "headSha");
  if (!str(b, "lane").empty()) p.lane = str(b, "lane");
  p.reason = str(b, "reason");
  if (auto* fb = b.if_contains("feedback"); fb != nullptr && fb->is_array())
    for (const auto& x : fb->as_array())
      if (x.is_string()) p.feedback.emplace_back(x.as_string());
  return p;
}
}  // namespace

HttpAnswer Dispatch::control(const std::string& method, const std::string& path, const std::string& body) {
  if (method == "GET" && path == "/_sim/dispatch/state") return answer(200, state());
  if (method == "DELETE" && path == "/_sim/dispatch/faults") {
    faults_.clear();
    return answer(200, json::object{{"cleared", true}});
  }
  if (method != "POST") return error(404, "no control route " + method + " " + path);
  auto b = parse_obj(body);
  if (!b) return error(400, "body must be a JSON object");
  if (path == "/_sim/dispatch/issues") {
    Issue i = issue_from(*b);
    if (!i.lane.empty() && i.lane != "backlog" && std::find(lanes_.begin(), lanes_.end(), i.lane) == lanes_.end())
      return error(400, "unknown lane: " + i.lane);
    for (const auto& x : issues_)
      if ((!i.id.empty() && x.id == i.id) || (x.repo == i.repo && x.number == i.number && i.number != 0))
        return error(409, "issue already exists");
    const Issue& added = add(std::move(i));
    return answer(200, item_json(added, ""));
  }
  if (path == "/_sim/dispatch/issues/close" || path == "/_sim/dispatch/issues/update") {
    Issue* i = find(*b);
    if (i == nullptr) return error(404, "issue not found");
    if (path.ends_with("close")) {
      i->state = "closed";
      i->closed_at = str(*b, "closedAt").empty() ? "2026-01-01T00:00:00Z" : str(*b, "closedAt");
    } else {
      if (!str(*b, "status").empty()) i->status = str(*b, "status");
      if (!str(*b, "lane").empty()) i->lane = str(*b, "lane");
      if (!str(*b, "state").empty()) i->state = str(*b, "state");
      if (auto* c = b->if_contains("claimedBy"); c != nullptr && c->is_string()) i->claimed_by = std::string(c->as_string());
      if (auto* c = b->if_contains("claimable"); c != nullptr && c->is_bool()) i->claimable = c->as_bool();
      if (auto* c = b->if_contains("hasOpenPr"); c != nullptr && c->is_bool()) i->has_open_pr = c->as_bool();
    }
    return answer(200, json::object{{"issueId", i->id}, {"state", i->state}, {"status", i->status}});
  }
  if (path == "/_sim/dispatch/faults") {
    DispatchFault f = fault_from(*b);
    if (f.path.empty() || f.count == 0 ||
        (f.mode != "status" && f.mode != "garbage" && f.mode != "latency" && f.mode != "reset"))
      return error(400, "a fault needs path, a non-zero count and mode status|garbage|latency|reset");
    faults_.push_back(f);
    return answer(200, json::object{{"faults", static_cast<std::int64_t>(faults_.size())}});
  }
  if (path == "/_sim/dispatch/prfix") {
    PrFix p = prfix_from(*b);
    if (p.repo.empty() || p.pr == 0) return error(400, "repo and pr are required");
    prfix_.push_back(std::move(p));
    return answer(200, json::object{{"queued", static_cast<std::int64_t>(prfix_.size())}});
  }
  return error(404, "no control route " + method + " " + path);
}

}  // namespace fdb::sim
