// The dispatch API of SPEC §2 as a route table: method + path pattern -> one handler each
// (the queue, claimed issues, issue state, the PR-fix queue, claim, unclaim, status, labels,
// comments, re-lane), after the token check and the injected faults.
#include "sim/dispatch.hpp"
#include "sim/dispatch_detail.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace fdb::sim {
using namespace dispatch_detail;

struct Dispatch::Call {
  const std::string& path;
  const std::map<std::string, std::string>& query;
  std::string capture;                    // what the pattern's {} matched
  const json::object* body = nullptr;     // POST routes
  Issue* issue = nullptr;                 // routes that name an issue in the body
  std::string q(const char* k) const {
    auto it = query.find(k);
    return it == query.end() ? std::string() : it->second;
  }
};

namespace {

// `pattern` with at most one {} (a non-empty run, slashes included) against `path`.
bool match(std::string_view pattern, const std::string& path, std::string& capture) {
  const auto hole = pattern.find("{}");
  if (hole == std::string_view::npos) return path == pattern;
  const auto prefix = pattern.substr(0, hole), suffix = pattern.substr(hole + 2);
  if (path.size() <= prefix.size() + suffix.size() || !path.starts_with(prefix) || !path.ends_with(suffix)) return false;
  capture = path.substr(prefix.size(), path.size() - prefix.size() - suffix.size());
  return true;
}

std::string lane_alias(std::string l) {
  std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (l == "normal") return std::string("local");
  if (l == "escalated") return std::string("frontier");
  return l;
}

}  // namespace

struct Dispatch::Route {
  const char* method;
  const char* pattern;
  bool names_issue;  // the body names an issue (issueId, or repoFullName + issueNumber)
  HttpAnswer (Dispatch::*fn)(const Call&);
};

const std::vector<Dispatch::Route>& Dispatch::routes() {
  static const std::vector<Route> table = {
      {"GET", "/api/agents/{}/queue", false, &Dispatch::get_queue},
      {"GET", "/api/issues/claimed", false, &Dispatch::get_claimed},
      {"GET", "/api/issues/state", false, &Dispatch::get_state},
      {"GET", "/api/pr-fix-queue/queued", false, &Dispatch::get_prfix_queued},
      {"POST", "/api/pr-fix-queue/mark", false, &Dispatch::post_prfix_mark},
      {"POST", "/api/issues/{}/lane", false, &Dispatch::post_lane},
      {"POST", "/api/issues/claim", true, &Dispatch::post_claim},
      {"POST", "/api/issues/unclaim", true, &Dispatch::post_unclaim},
      {"POST", "/api/issues/status", true, &Dispatch::post_status},
      {"POST", "/api/issues/label", true, &Dispatch::post_label},
      {"POST", "/api/issues/unlabel", true, &Dispatch::post_label},
      {"POST", "/api/issues/comment", true, &Dispatch::post_comment},
  };
  return table;
}

HttpAnswer Dispatch::handle(const std::string& method, const std::string& path,
                            const std::map<std::string, std::string>& query, const std::string& body,
                            const std::string& authorization) {
  ++requests_;
  if (!token_.empty() && authorization != "Bearer " + token_) return error(401, "unauthorized");
  const auto lane_it = query.find("lane");
  FaultEffect effect;
  if (auto a = apply_faults(method, path, lane_it == query.end() ? std::string() : lane_it->second, effect)) return *a;
  HttpAnswer a = route(method, path, query, body);
  a.delay_ms = effect.delay_ms;
  a.reset = effect.reset;
  return a;
}

// Latency adds up and a reset is remembered; the first status or garbage fault answers.
std::optional<HttpAnswer> Dispatch::apply_faults(const std::string& method, const std::string& path,
                                                 const std::string& lane, FaultEffect& effect) {
  for (auto it = faults_.begin(); it != faults_.end();) {
    auto& f = *it;
    if (path.rfind(f.path, 0) != 0 || (!f.method.empty() && f.method != method) || (!f.lane.empty() && f.lane != lane)) {
      ++it;
      continue;
    }
    DispatchFault hit = f;
    if (f.count > 0 && --f.count == 0) it = faults_.erase(it);
    else ++it;
    if (hit.mode == "latency") {
      effect.delay_ms += hit.latency_ms;
      continue;
    }
    if (hit.mode == "reset") {
      effect.reset = true;
      continue;
    }
    HttpAnswer a = hit.mode == "garbage" ? HttpAnswer{200, "{\"items\": [ {\"number\": 4", "application/json", {}, 0}
                                          : error(hit.code, "injected fault");
    if (hit.retry_after >= 0) a.headers["Retry-After"] = std::to_string(hit.retry_after);
    a.delay_ms = effect.delay_ms + hit.latency_ms;
    return a;
  }
  return std::nullopt;
}

HttpAnswer Dispatch::route(const std::string& method, const std::string& path,
                           const std::map<std::string, std::string>& query, const std::string& body) {
  Call call{path, query, {}, nullptr, nullptr};
  if (method == "GET")
    for (const auto& r : routes())
      if (r.method == method && match(r.pattern, path, call.capture)) return (this->*r.fn)(call);
  if (method != "POST") return error(404, "no route for " + method + " " + path);
  auto b = parse_obj(body);
  if (!b) return error(400, "body must be a JSON object");
  call.body = &*b;
  bool looked_up = false;
  for (const auto& r : routes()) {
    if (r.names_issue && !looked_up) {
      call.issue = find(*b);
      looked_up = true;
    }
    if (r.method == method && match(r.pattern, path, call.capture)) {
      if (r.names_issue && call.issue == nullptr) return error(404, "issue not found");
      return (this->*r.fn)(call);
    }
  }
  // No route; a body that names no issue is answered as the issue it names (dispatch's order).
  return error(404, call.issue == nullptr ? std::string("issue not found") : "no route for " + method + " " + path);
}

HttpAnswer Dispatch::get_queue(const Call& c) {
  const std::string& agent = c.capture;
  std::string lane = lane_alias(c.q("lane"));
  if (std::find(lanes_.begin(), lanes_.end(), lane) == lanes_.end() && lane != "backlog")
    return error(400, "unknown lane: " + c.q("lane"));
  bool include_claimed = c.q("includeClaimed") == "true";
  json::array items;
  for (const auto& i : issues_) {
    if (i.lane != lane || i.state != "open" || i.status == "done") continue;
    if (!include_claimed && !i.claimed_by.empty()) continue;
    items.push_back(item_json(i, agent));
    if (lane == "backlog") items.back().as_object()["claimable"] = false;
  }
  return answer(200, items);
}

HttpAnswer Dispatch::get_claimed(const Call& c) {
  std::string agent = c.q("agentName");
  std::string status = c.q("status").empty() ? std::string("in-progress") : c.q("status");
  json::array out;
  for (const auto& i : issues_) {
    if (i.claimed_by != agent || i.status != status) continue;
    out.push_back(json::object{{"issueId", i.id},           {"number", i.number},        {"repoFullName", i.repo},
                               {"currentLane", i.lane},      {"labels", labels_json(i)}, {"hasOpenPr", i.has_open_pr},
                               {"status", i.status}});
  }
  return answer(200, out);
}

HttpAnswer Dispatch::get_state(const Call& c) {
  std::string repo = c.q("repo");
  int number = 0;
  try {
    number = std::stoi(c.q("number"));
  } catch (const std::exception&) {
    return error(400, "number must be an integer");
  }
  for (const auto& i : issues_)
    if (i.repo == repo && i.number == number)
      return answer(200, json::object{{"issueId", i.id},
                                      {"repoFullName", i.repo},
                                      {"number", i.number},
                                      {"state", i.state},
                                      {"closedAt", i.closed_at.empty() ? json::value(nullptr) : json::value(i.closed_at)},
                                      {"labels", labels_json(i)}});
  return error(404, "issue not found");
}

HttpAnswer Dispatch::get_prfix_queued(const Call& c) {
  std::string lane = c.q("lane").empty() ? "NORMAL" : c.q("lane");
  json::array out;
  for (const auto& p : prfix_) {
    if (p.lane != lane || p.status != "QUEUED") continue;
    json::array fb;
    for (const auto& f : p.feedback) fb.push_back(json::value(f));
    out.push_back(json::object{{"id", fmt::format("{}#{}", p.repo, p.pr)},
                               {"repo", p.repo},
                               {"pr", p.pr},
                               {"issue", p.issue},
                               {"branch", p.branch},
                               {"url", fmt::format("https://github.com/{}/pull/{}", p.repo, p.pr)},
                               {"title", p.title},
                               {"headSha", p.head_sha},
                               {"lane", p.lane},
                               {"type", "review-feedback"},
                               {"status", p.status},
                               {"reason", p.reason},
                               {"feedback", std::move(fb)},
                               {"generation", p.generation}});
  }
  return answer(200, out);
}

HttpAnswer Dispatch::post_prfix_mark(const Call& c) {
  const auto& b = *c.body;
  std::string repo = str(b, "repo");
  int pr = num(b, "pr");
  std::string st = str(b, "status");
  static const std::vector<std::string> ok = {"QUEUED", "FIXED", "BLOCKED", "STALE", "IGNORED"};
  if (std::find(ok.begin(), ok.end(), st) == ok.end()) return error(400, "invalid status: " + st);
  for (auto& p : prfix_)
    if (p.repo == repo && p.pr == pr) {
      p.status = st;
      p.note = str(b, "note");
      return answer(200, json::object{{"repo", p.repo}, {"pr", p.pr}, {"status", p.status}, {"note", p.note}});
    }
  return error(404, "pr-fix item not found");
}

HttpAnswer Dispatch::post_lane(const Call& c) {
  Issue* i = find_id(c.capture);
  if (i == nullptr) return error(404, "issue not found");
  const json::value* cl = c.body->if_contains("classification");
  std::string lane = cl != nullptr && cl->is_object() ? lane_alias(str(cl->as_object(), "lane")) : "";
  if (std::find(lanes_.begin(), lanes_.end(), lane) == lanes_.end() && lane != "backlog")
    return error(400, "unknown lane: " + lane);
  i->lane_history.push_back(i->lane);
  i->lane = lane;
  i->history.push_back("lane:" + lane);
  return answer(200, json::object{{"success", true}, {"lane", lane}});
}

HttpAnswer Dispatch::post_claim(const Call& c) {
  Issue* i = c.issue;
  const std::string agent = str(*c.body, "agentName");
  if (i->state == "closed" || i->status == "done") return error(400, "issue is closed or done");
  if (!i->claimed_by.empty() && i->claimed_by != agent) return error(409, "issue is claimed by " + i->claimed_by);
  // A claim of an issue the agent holds already: answered as a claim, but recorded, for
  // the soak counts it (a claim sent twice, or two leaders claiming at once).
  const bool again = i->claimed_by == agent && i->status == "in-progress";
  i->claimed_by = agent;
  i->status = "in-progress";
  i->history.push_back(again ? "claim-again" : "claim");
  return answer(200, json::object{{"success", true}, {"labels", labels_json(*i)}});
}

HttpAnswer Dispatch::post_unclaim(const Call& c) {
  Issue* i = c.issue;
  const std::string agent = str(*c.body, "agentName");
  if (i->claimed_by.empty() || i->claimed_by != agent) return error(400, "issue is not claimed by " + agent);
  i->claimed_by.clear();
  if (i->status == "in-progress") i->status = "ready";
  i->history.push_back("unclaim");
  return answer(200, json::object{{"success", true}, {"labels", labels_json(*i)}});
}

HttpAnswer Dispatch::post_status(const Call& c) {
  Issue* i = c.issue;
  std::string st = str(*c.body, "status");
  if (std::find(kStatuses.begin(), kStatuses.end(), st) == kStatuses.end()) return error(400, "invalid status: " + st);
  i->status = st;
  i->history.push_back("status:" + st);
  if (st == "backlog" || st == "ready" || st == "done") i->claimed_by = st == "done" ? i->claimed_by : std::string();
  return answer(200, json::object{{"success", true}, {"status", st}, {"labels", labels_json(*i)}});
}

// POST /api/issues/label and /api/issues/unlabel.
HttpAnswer Dispatch::post_label(const Call& c) {
  Issue* i = c.issue;
  const bool add = c.path == "/api/issues/label";
  std::string label = str(*c.body, "label");
  if (label.empty()) return error(400, "label is required");
  auto it = std::find(i->labels.begin(), i->labels.end(), label);
  if (add && it == i->labels.end()) i->labels.push_back(label);
  if (!add && it != i->labels.end()) i->labels.erase(it);
  i->history.push_back((add ? "label:" : "unlabel:") + label);
  return answer(200, json::object{{"success", true}, {"labels", labels_json(*i)}});
}

HttpAnswer Dispatch::post_comment(const Call& c) {
  std::string text = str(*c.body, "body");
  if (text.empty()) return error(400, "body is required");
  c.issue->comments.push_back(text);
  c.issue->history.push_back("comment");
  return answer(200, json::object{{"success", true}});
}

}  // namespace fdb::sim
