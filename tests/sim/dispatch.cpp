#include "sim/dispatch.hpp"

#include <boost/json.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace fdb::sim {
namespace json = boost::json;

namespace {
HttpAnswer answer(int code, const json::value& v) { return HttpAnswer{code, json::serialize(v) + "\n", "application/json", {}, 0}; }
HttpAnswer error(int code, const std::string& msg) { return answer(code, json::object{{"error", msg}}); }

std::string str(const json::object& o, const char* k) {
  auto* v = o.if_contains(k);
  if (v == nullptr) return {};
  if (v->is_string()) return std::string(v->as_string());
  if (v->is_int64()) return std::to_string(v->as_int64());
  return {};
}
int num(const json::object& o, const char* k) {
  auto* v = o.if_contains(k);
  if (v == nullptr) return 0;
  if (v->is_int64()) return static_cast<int>(v->as_int64());
  if (v->is_string()) {
    try {
      return std::stoi(std::string(v->as_string()));
    } catch (const std::exception&) {
      return 0;
    }
  }
  return 0;
}
std::optional<json::object> parse_obj(const std::string& body) {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return v.as_object();
}
const std::vector<std::string> kStatuses = {"backlog", "ready", "in-progress", "in-review", "blocked", "done"};
}  // namespace

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

HttpAnswer Dispatch::handle(const std::string& method, const std::string& path,
                            const std::map<std::string, std::string>& query, const std::string& body,
                            const std::string& authorization) {
  ++requests_;
  if (!token_.empty() && authorization != "Bearer " + token_) return error(401, "unauthorized");
  auto qget = [&](const char* k) {
    auto it = query.find(k);
    return it == query.end() ? std::string() : it->second;
  };
  int delay = 0;
  bool reset = false;
  for (auto it = faults_.begin(); it != faults_.end();) {
    auto& f = *it;
    bool match = path.rfind(f.path, 0) == 0 && (f.method.empty() || f.method == method) &&
                 (f.lane.empty() || f.lane == qget("lane"));
    if (!match) {
      ++it;
      continue;
    }
    DispatchFault hit = f;
    if (f.count > 0 && --f.count == 0) it = faults_.erase(it);
    else ++it;
    if (hit.mode == "latency") {
      delay += hit.latency_ms;
      continue;
    }
    if (hit.mode == "reset") {
      reset = true;
      continue;
    }
    HttpAnswer a = hit.mode == "garbage" ? HttpAnswer{200, "{\"items\": [ {\"number\": 4", "application/json", {}, 0}
                                          : error(hit.code, "injected fault");
    if (hit.retry_after >= 0) a.headers["Retry-After"] = std::to_string(hit.retry_after);
    a.delay_ms = delay + hit.latency_ms;
    return a;
  }
  auto finish = [delay, reset](HttpAnswer a) {
    a.delay_ms = delay;
    a.reset = reset;
    return a;
  };
  auto lane_alias = [](std::string l) {
    std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (l == "normal") return std::string("local");
    if (l == "escalated") return std::string("frontier");
    return l;
  };
  // GET /api/agents/{agent}/queue
  if (method == "GET" && path.rfind("/api/agents/", 0) == 0 && path.size() > 18 && path.substr(path.size() - 6) == "/queue") {
    std::string agent = path.substr(12, path.size() - 18);
    std::string lane = lane_alias(qget("lane"));
    if (std::find(lanes_.begin(), lanes_.end(), lane) == lanes_.end() && lane != "backlog")
      return finish(error(400, "unknown lane: " + qget("lane")));
    bool include_claimed = qget("includeClaimed") == "true";
    json::array items;
    for (const auto& i : issues_) {
      if (i.lane != lane || i.state != "open" || i.status == "done") continue;
      if (!include_claimed && !i.claimed_by.empty()) continue;
      items.push_back(item_json(i, agent));
      if (lane == "backlog") items.back().as_object()["claimable"] = false;
    }
    return finish(answer(200, items));
  }
  if (method == "GET" && path == "/api/issues/claimed") {
    std::string agent = qget("agentName");
    std::string status = qget("status").empty() ? std::string("in-progress") : qget("status");
    json::array out;
    for (const auto& i : issues_) {
      if (i.claimed_by != agent || i.status != status) continue;
      out.push_back(json::object{{"issueId", i.id},           {"number", i.number},        {"repoFullName", i.repo},
                                 {"currentLane", i.lane},      {"labels", labels_json(i)}, {"hasOpenPr", i.has_open_pr},
                                 {"status", i.status}});
    }
    return finish(answer(200, out));
  }
  if (method == "GET" && path == "/api/issues/state") {
    std::string repo = qget("repo");
    int number = 0;
    try {
      number = std::stoi(qget("number"));
    } catch (const std::exception&) {
      return finish(error(400, "number must be an integer"));
    }
    for (const auto& i : issues_)
      if (i.repo == repo && i.number == number)
        return finish(answer(200, json::object{{"issueId", i.id},
                                               {"repoFullName", i.repo},
                                               {"number", i.number},
                                               {"state", i.state},
                                               {"closedAt", i.closed_at.empty() ? json::value(nullptr) : json::value(i.closed_at)},
                                               {"labels", labels_json(i)}}));
    return finish(error(404, "issue not found"));
  }
  if (method == "GET" && path == "/api/pr-fix-queue/queued") {
    std::string lane = qget("lane").empty() ? "NORMAL" : qget("lane");
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
    return finish(answer(200, out));
  }
  if (method != "POST") return finish(error(404, "no route for " + method + " " + path));
  auto b = parse_obj(body);
  if (!b) return finish(error(400, "body must be a JSON object"));
  if (path == "/api/pr-fix-queue/mark") {
    std::string repo = str(*b, "repo");
    int pr = num(*b, "pr");
    std::string st = str(*b, "status");
    static const std::vector<std::string> ok = {"QUEUED", "FIXED", "BLOCKED", "STALE", "IGNORED"};
    if (std::find(ok.begin(), ok.end(), st) == ok.end()) return finish(error(400, "invalid status: " + st));
    for (auto& p : prfix_)
      if (p.repo == repo && p.pr == pr) {
        p.status = st;
        p.note = str(*b, "note");
        return finish(answer(200, json::object{{"repo", p.repo}, {"pr", p.pr}, {"status", p.status}, {"note", p.note}}));
      }
    return finish(error(404, "pr-fix item not found"));
  }
  // POST /api/issues/{id}/lane
  if (path.rfind("/api/issues/", 0) == 0 && path.size() > 17 && path.substr(path.size() - 5) == "/lane") {
    std::string id = path.substr(12, path.size() - 17);
    Issue* i = find_id(id);
    if (i == nullptr) return finish(error(404, "issue not found"));
    const json::value* cl = b->if_contains("classification");
    std::string lane = cl != nullptr && cl->is_object() ? lane_alias(str(cl->as_object(), "lane")) : "";
    if (std::find(lanes_.begin(), lanes_.end(), lane) == lanes_.end() && lane != "backlog")
      return finish(error(400, "unknown lane: " + lane));
    i->lane_history.push_back(i->lane);
    i->lane = lane;
    i->history.push_back("lane:" + lane);
    return finish(answer(200, json::object{{"success", true}, {"lane", lane}}));
  }
  Issue* i = find(*b);
  std::string agent = str(*b, "agentName");
  if (path == "/api/issues/claim") {
    if (i == nullptr) return finish(error(404, "issue not found"));
    if (i->state == "closed" || i->status == "done") return finish(error(400, "issue is closed or done"));
    if (!i->claimed_by.empty() && i->claimed_by != agent)
      return finish(error(409, "issue is claimed by " + i->claimed_by));
    // A claim of an issue the agent holds already: answered as a claim, but recorded, for
    // the soak counts it (a claim sent twice, or two leaders claiming at once).
    const bool again = i->claimed_by == agent && i->status == "in-progress";
    i->claimed_by = agent;
    i->status = "in-progress";
    i->history.push_back(again ? "claim-again" : "claim");
    return finish(answer(200, json::object{{"success", true}, {"labels", labels_json(*i)}}));
  }
  if (path == "/api/issues/unclaim") {
    if (i == nullptr) return finish(error(404, "issue not found"));
    if (i->claimed_by.empty() || i->claimed_by != agent) return finish(error(400, "issue is not claimed by " + agent));
    i->claimed_by.clear();
    if (i->status == "in-progress") i->status = "ready";
    i->history.push_back("unclaim");
    return finish(answer(200, json::object{{"success", true}, {"labels", labels_json(*i)}}));
  }
  if (i == nullptr) return finish(error(404, "issue not found"));
  if (path == "/api/issues/status") {
    std::string st = str(*b, "status");
    if (std::find(kStatuses.begin(), kStatuses.end(), st) == kStatuses.end())
      return finish(error(400, "invalid status: " + st));
    i->status = st;
    i->history.push_back("status:" + st);
    if (st == "backlog" || st == "ready" || st == "done") i->claimed_by = st == "done" ? i->claimed_by : std::string();
    return finish(answer(200, json::object{{"success", true}, {"status", st}, {"labels", labels_json(*i)}}));
  }
  if (path == "/api/issues/label" || path == "/api/issues/unlabel") {
    std::string label = str(*b, "label");
    if (label.empty()) return finish(error(400, "label is required"));
    auto it = std::find(i->labels.begin(), i->labels.end(), label);
    if (path == "/api/issues/label" && it == i->labels.end()) i->labels.push_back(label);
    if (path == "/api/issues/unlabel" && it != i->labels.end()) i->labels.erase(it);
    i->history.push_back((path == "/api/issues/label" ? "label:" : "unlabel:") + label);
    return finish(answer(200, json::object{{"success", true}, {"labels", labels_json(*i)}}));
  }
  if (path == "/api/issues/comment") {
    std::string text = str(*b, "body");
    if (text.empty()) return finish(error(400, "body is required"));
    i->comments.push_back(text);
    i->history.push_back("comment");
    return finish(answer(200, json::object{{"success", true}}));
  }
  return finish(error(404, "no route for " + method + " " + path));
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
    Issue i;
    i.id = str(*b, "issueId");
    i.repo = str(*b, "repoFullName");
    i.number = num(*b, "number");
    i.title = str(*b, "title");
    i.lane = str(*b, "lane");
    if (!str(*b, "status").empty()) i.status = str(*b, "status");
    if (auto* c = b->if_contains("claimable"); c != nullptr && c->is_bool()) i.claimable = c->as_bool();
    if (auto* c = b->if_contains("hasOpenPr"); c != nullptr && c->is_bool()) i.has_open_pr = c->as_bool();
    if (!str(*b, "claimedBy").empty()) i.claimed_by = str(*b, "claimedBy");
    if (auto* ls = b->if_contains("labels"); ls != nullptr && ls->is_array())
      for (const auto& l : ls->as_array())
        if (l.is_string() && !l.as_string().starts_with("status/")) i.labels.emplace_back(l.as_string());
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
    DispatchFault f;
    f.path = str(*b, "path");
    f.method = str(*b, "method");
    f.lane = str(*b, "lane");
    if (!str(*b, "mode").empty()) f.mode = str(*b, "mode");
    if (b->contains("code")) f.code = num(*b, "code");
    if (b->contains("count")) f.count = num(*b, "count");
    f.latency_ms = num(*b, "latencyMs");
    if (b->contains("retryAfter")) f.retry_after = num(*b, "retryAfter");
    if (f.path.empty() || f.count == 0 ||
        (f.mode != "status" && f.mode != "garbage" && f.mode != "latency" && f.mode != "reset"))
      return error(400, "a fault needs path, a non-zero count and mode status|garbage|latency|reset");
    faults_.push_back(f);
    return answer(200, json::object{{"faults", static_cast<std::int64_t>(faults_.size())}});
  }
  if (path == "/_sim/dispatch/prfix") {
    PrFix p;
    p.repo = str(*b, "repo");
    p.pr = num(*b, "pr");
    p.issue = num(*b, "issue");
    p.branch = str(*b, "branch");
    p.title = str(*b, "title");
    p.head_sha = str(*b, "headSha").empty() ? "0123456789abcdef0123456789abcdef01234567" : str(*b, "headSha");
    if (!str(*b, "lane").empty()) p.lane = str(*b, "lane");
    p.reason = str(*b, "reason");
    if (auto* fb = b->if_contains("feedback"); fb != nullptr && fb->is_array())
      for (const auto& x : fb->as_array())
        if (x.is_string()) p.feedback.emplace_back(x.as_string());
    if (p.repo.empty() || p.pr == 0) return error(400, "repo and pr are required");
    prfix_.push_back(std::move(p));
    return answer(200, json::object{{"queued", static_cast<std::int64_t>(prfix_.size())}});
  }
  return error(404, "no control route " + method + " " + path);
}

}  // namespace fdb::sim
