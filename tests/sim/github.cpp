#include "sim/github.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

namespace fdb::sim {

namespace json = boost::json;

namespace {

HttpAnswer answer(int status, const json::value& body) {
  HttpAnswer a;
  a.status = status;
  a.body = json::serialize(body);
  return a;
}
HttpAnswer message(int status, std::string text) {
  return answer(status, json::object{{"message", std::move(text)}, {"documentation_url", "https://docs.github.com/rest"}});
}

std::string str(const json::object& o, std::string_view k, std::string fallback = {}) {
  const auto* v = o.if_contains(k);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : fallback;
}

json::value pull_json(const GitHubPull& p) {
  const auto slash = p.repo.find('/');
  const std::string owner = p.repo.substr(0, slash);
  json::value mergeable = nullptr;
  if (p.mergeable == "true") mergeable = true;
  if (p.mergeable == "false") mergeable = false;
  return json::object{
      {"url", fmt::format("https://api.github.com/repos/{}/pulls/{}", p.repo, p.number)},
      {"html_url", fmt::format("https://github.com/{}/pull/{}", p.repo, p.number)},
      {"number", p.number},
      {"state", p.state},
      {"draft", p.draft},
      {"merged", p.merged},
      {"merged_at", p.merged ? json::value("2026-01-02T03:04:05Z") : json::value(nullptr)},
      {"mergeable", mergeable},
      {"mergeable_state", p.mergeable_state},
      {"title", fmt::format("Fix #{}", p.number)},
      {"user", json::object{{"login", "foreman-bot"}}},
      {"head", json::object{{"ref", p.head_ref}, {"sha", p.head_sha}, {"label", owner + ":" + p.head_ref}}},
      {"base", json::object{{"ref", p.base_ref}, {"label", owner + ":" + p.base_ref}}},
  };
}

}  // namespace

HttpAnswer GitHub::handle(const std::string& method, const std::string& path, const std::string& body,
                          const std::string& authorization) {
  if (path.rfind("/_sim/github/", 0) == 0) return control(method, path, body);
  requests_.push_back(method + " " + path);
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (path.rfind(it->path, 0) != 0) continue;
    HttpAnswer a = it->body.empty() ? message(it->status, fmt::format("injected fault: {}", it->status)) : HttpAnswer{it->status, it->body};
    if (it->retry_after >= 0) a.headers["Retry-After"] = std::to_string(it->retry_after);
    if (it->count > 0 && --it->count == 0) faults_.erase(it);
    return a;
  }
  // /repos/{owner}/{repo}/{what}/{rest}
  constexpr std::string_view kRepos = "/repos/";
  const auto owner_end = path.rfind(kRepos, 0) == 0 ? path.find('/', kRepos.size()) : std::string::npos;
  const auto repo_end = owner_end == std::string::npos ? owner_end : path.find('/', owner_end + 1);
  const auto what_end = repo_end == std::string::npos ? repo_end : path.find('/', repo_end + 1);
  const std::string repo = repo_end == std::string::npos ? std::string() : path.substr(kRepos.size(), repo_end - kRepos.size());
  if (authorization.empty()) {
    if (public_.count(repo) == 0) return message(401, "Requires authentication");
    ++anonymous_;
  }
  if (method != "GET") return message(404, "Not Found");
  if (what_end == std::string::npos || what_end + 1 >= path.size()) return message(404, "Not Found");
  const std::string what = path.substr(repo_end + 1, what_end - repo_end - 1);
  const std::string rest = path.substr(what_end + 1);
  if (what == "branches") {
    if (branches_.count(repo + "\n" + rest) == 0) return message(404, "Branch not found");
    return answer(200, json::object{{"name", rest}, {"commit", json::object{{"sha", "0123456789abcdef0123456789abcdef01234567"}}},
                                    {"protected", false}});
  }
  if (what == "commits" && rest.size() > 11 && rest.ends_with("/check-runs")) {
    const std::string sha = rest.substr(0, rest.size() - 11);
    json::array runs;
    if (auto it = checks_.find(repo + "@" + sha); it != checks_.end()) runs = it->second;
    return answer(200, json::object{{"total_count", static_cast<std::int64_t>(runs.size())}, {"check_runs", runs}});
  }
  if (what == "pulls") {
    auto it = pulls_.find(repo + "#" + rest);
    if (it == pulls_.end()) return message(404, "Not Found");
    return answer(200, pull_json(it->second));
  }
  return message(404, "Not Found");
}

HttpAnswer GitHub::control(const std::string& method, const std::string& path, const std::string& body) {
  if (method == "GET" && path == "/_sim/github/requests") {
    json::array out;
    for (const auto& r : requests_) out.emplace_back(r);
    return answer(200, out);
  }
  if (method == "GET" && path == "/_sim/github/anonymous") {
    return answer(200, json::object{{"anonymous", anonymous_}});
  }
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return message(400, "body must be a JSON object");
  const json::object& b = v.get_object();
  auto num = [&](std::string_view k, int fallback) {
    const auto* x = b.if_contains(k);
    return x != nullptr && x->is_int64() ? static_cast<int>(x->get_int64()) : fallback;
  };
  auto flag = [&](std::string_view k) {
    const auto* x = b.if_contains(k);
    return x != nullptr && x->is_bool() && x->get_bool();
  };
  const std::string repo = str(b, "repo");
  if (path == "/_sim/github/branch" && (method == "POST" || method == "DELETE")) {
    const std::string branch = str(b, "branch");
    if (repo.empty() || branch.empty()) return message(400, "repo and branch are required");
    if (method == "POST") branches_.insert(repo + "\n" + branch);
    else branches_.erase(repo + "\n" + branch);
    return answer(200, json::object{{"branches", static_cast<std::int64_t>(branches_.size())}});
  }
  if (path == "/_sim/github/public" && (method == "POST" || method == "DELETE")) {
    if (repo.find('/') == std::string::npos) return message(400, "repo (owner/name) is required");
    if (method == "POST") public_.insert(repo);
    else public_.erase(repo);
    return answer(200, json::object{{"public", static_cast<std::int64_t>(public_.size())}});
  }
  if (method == "POST" && path == "/_sim/github/pull") {
    GitHubPull p;
    p.repo = repo;
    p.number = num("number", 0);
    if (repo.find('/') == std::string::npos || p.number <= 0) return message(400, "repo (owner/name) and number are required");
    p.state = str(b, "state", "open");
    p.merged = flag("merged");
    p.draft = flag("draft");
    p.head_ref = str(b, "headRef", fmt::format("fix-{}", p.number));
    p.head_sha = str(b, "headSha", "0123456789abcdef0123456789abcdef01234567");
    p.base_ref = str(b, "baseRef", "main");
    if (const auto* m = b.if_contains("mergeable")) p.mergeable = m->is_bool() ? (m->get_bool() ? "true" : "false") : "null";
    p.mergeable_state = str(b, "mergeableState", "clean");
    pulls_[repo + "#" + std::to_string(p.number)] = p;
    return answer(200, pull_json(p));
  }
  if (method == "POST" && path == "/_sim/github/checks") {
    const std::string sha = str(b, "sha");
    const auto* runs = b.if_contains("runs");
    if (repo.find('/') == std::string::npos || sha.empty() || runs == nullptr || !runs->is_array())
      return message(400, "repo (owner/name), sha and runs (a list) are required");
    json::array out;
    for (const auto& r : runs->as_array()) {
      if (!r.is_object()) return message(400, "each run is an object {status, conclusion}");
      out.push_back(json::object{{"name", "ci"}, {"status", str(r.as_object(), "status", "completed")},
                                 {"conclusion", r.as_object().contains("conclusion") ? r.as_object().at("conclusion") : json::value(nullptr)}});
    }
    checks_[repo + "@" + sha] = std::move(out);
    return answer(200, json::object{{"checks", static_cast<std::int64_t>(checks_.size())}});
  }
  if (method == "POST" && path == "/_sim/github/fault") {
    Fault f;
    f.path = str(b, "path");
    f.count = num("count", 1);
    f.status = num("status", 500);
    f.retry_after = num("retryAfter", -1);
    f.body = str(b, "body");
    if (f.path.empty() || f.count == 0 || f.status < 100 || f.status > 599) return message(400, "a fault needs path, count != 0 and status");
    faults_.push_back(f);
    return answer(200, json::object{{"faults", static_cast<std::int64_t>(faults_.size())}});
  }
  return message(404, "no control route " + method + " " + path);
}

}  // namespace fdb::sim
