#include "dispatch/client_io.hpp"

#include "dispatch/service_http_io.hpp"

#include "watch/client_io.hpp"
#include "watch/json_input.hpp"
#include "watch/request.hpp"

#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace fdb::dispatch {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
using namespace std::chrono_literals;

namespace {

bool transient_status(int status, std::string_view /*body*/) {
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

// Whether a `claimed` answer lists the issue (by issueId, else by repo and number).
bool claimed_lists(const json::value& answer, const IssueRef& issue) {
  if (!answer.is_array()) return false;
  for (const auto& v : answer.get_array()) {
    if (!v.is_object()) continue;
    const auto& o = v.get_object();
    const auto* id = o.if_contains("issueId");
    if (!issue.issue_id.empty() && id != nullptr && id->is_string()) {
      if (id->get_string() == issue.issue_id) return true;
      continue;
    }
    const auto* repo = o.if_contains("repoFullName");
    const auto* number = o.if_contains("number");
    if (repo != nullptr && repo->is_string() && repo->get_string() == issue.repo_full_name && number != nullptr &&
        number->is_int64() && number->get_int64() == issue.number)
      return true;
  }
  return false;
}

// An answer whose body does not matter much (claim, status): null when it is not JSON.
json::value parse_or_null(std::string_view body) {
  boost::system::error_code ec;
  return kube::parse_json(body, ec);
}

}  // namespace

struct Client::Impl {
  ClientOptions opts;
  ServiceHttp http;

  static ServiceTarget target(const ClientOptions& o) {
    return ServiceTarget{o.url, o.token, "DISPATCH_URL", std::min(o.get_timeout, o.post_timeout),
                         std::max(o.get_timeout, o.post_timeout), std::size_t{64} << 20, {{"X-Agent-Name", o.agent_name}}};
  }

  Impl(asio::any_io_executor e, ClientOptions o)
      : opts(std::move(o)),
        http(e, target(opts), Retries{opts.max_attempts, opts.base_backoff, opts.max_backoff}, transient_status) {}

  // One call with its retries. Returns the final answer (any non-transient status);
  // throws DispatchError when the retries run out.
  awaitable<kube::HttpResponse> exchange(const kube::HttpRequest& req, std::string_view endpoint_label) {
    co_return co_await exchange(req, endpoint_label, Replay::Safe);
  }
  awaitable<kube::HttpResponse> exchange(const kube::HttpRequest& req, std::string_view endpoint_label, Replay replay) {
    const std::string endpoint(endpoint_label);
    const auto timeout = req.method == "GET" ? opts.get_timeout : opts.post_timeout;
    try {
      co_return co_await http.send(req, timeout, endpoint, replay);
    } catch (const GaveUp& e) {
      DispatchError error(endpoint, e.status(), e.what(), true);
      if (e.request_sent()) error.mark_request_sent();
      throw error;
    }
  }

  // Whether dispatch lists the issue as claimed (in progress) by this agent: what a claim
  // whose answer was lost did. Throws DispatchError when dispatch cannot say.
  awaitable<bool> holds_claim(const IssueRef& issue) {
    std::vector<std::pair<std::string_view, std::string>> params;
    params.emplace_back("agentName", opts.agent_name);
    const auto req = get(kube::with_query("/api/issues/claimed", params));
    const json::value answer = expect_ok(co_await exchange(req, "claimed"), "claimed");
    co_return claimed_lists(answer, issue);
  }

  static kube::HttpRequest get(std::string target) { return {"GET", std::move(target), {}, {}, false}; }
  static kube::HttpRequest post(std::string target, const json::object& body) {
    return {"POST", std::move(target), json::serialize(body), "application/json", false};
  }

  json::object issue_body(const IssueRef& i) const {
    return {{"issueId", i.issue_id}, {"repoFullName", i.repo_full_name}, {"issueNumber", i.number}};
  }

  // A lane's answer (the issue queue, the PR-fix queue): its JSON, or a DispatchError
  // naming the lane and the status, or why it is not JSON.
  static json::value lane_answer(const kube::HttpResponse& res, const std::string& endpoint, const std::string& lane) {
    if (res.status < 200 || res.status >= 300) {
      throw DispatchError(endpoint, res.status, fmt::format("lane {}: HTTP {}: {}", lane, res.status, excerpt(res.body)), false);
    }
    boost::system::error_code ec;
    json::value v = kube::parse_json(res.body, ec);
    if (ec) {
      throw DispatchError(endpoint, res.status,
                          fmt::format("lane {}: the answer is not JSON ({})", lane, kube::json_error_text(ec)), false);
    }
    return v;
  }

  // A 2xx answer's JSON, or a DispatchError naming the status.
  static json::value expect_ok(const kube::HttpResponse& res, const std::string& endpoint) {
    if (res.status < 200 || res.status >= 300) {
      throw DispatchError(endpoint, res.status, fmt::format("HTTP {}: {}", res.status, excerpt(res.body)), false);
    }
    return parse_or_null(res.body);
  }
};

Client::Client(asio::any_io_executor ex, ClientOptions opts)
    : impl_(std::make_shared<Impl>(std::move(ex), std::move(opts))) {}
Client::~Client() = default;

void Client::set_observer(Observer observer) { impl_->http.set_observer(std::move(observer)); }
const ClientOptions& Client::options() const noexcept { return impl_->opts; }

awaitable<json::value> Client::queue(const std::string& lane) {
  auto impl = impl_;
  std::vector<std::pair<std::string_view, std::string>> params;
  params.emplace_back("lane", lane);
  params.emplace_back("includeClaimed", "true");
  const auto req =
      Impl::get(kube::with_query(fmt::format("/api/agents/{}/queue", kube::percent_encode(impl->opts.agent_name)), params));
  co_return Impl::lane_answer(co_await impl->exchange(req, "queue"), "queue", lane);
}

awaitable<ClaimResult> Client::claim(const IssueRef& issue) {
  auto impl = impl_;
  json::object body = impl->issue_body(issue);
  body["agentName"] = impl->opts.agent_name;
  const auto req = Impl::post("/api/issues/claim", body);
  ClaimResult out;
  // A claim is never sent again blindly: one whose answer was lost may have been made, and
  // made again it reads as taken (409), stranding the issue. Dispatch is asked first.
  kube::HttpResponse res;
  for (int sent = 1;; ++sent) {
    try {
      res = co_await impl->exchange(req, "claim", Replay::Never);
      break;
    } catch (const DispatchError& e) {
      if (!e.request_sent() || sent > 1) throw;
    }
    out.checked = true;
    if (co_await impl->holds_claim(issue)) {
      out.outcome = ClaimOutcome::Claimed;
      co_return out;
    }
  }
  out.answer = parse_or_null(res.body);
  switch (res.status) {
    case 200: case 201: out.outcome = ClaimOutcome::Claimed; break;
    case 409:
      // Held by someone else — or by us: a claim of ours that dispatch made but whose answer
      // was lost (a proxy's 502 or 504 retried, say). Ours is a claim.
      out.outcome = ClaimOutcome::Taken;
      out.checked = true;
      try {
        if (co_await impl->holds_claim(issue)) out.outcome = ClaimOutcome::Claimed;
      } catch (const DispatchError&) {
        // Cannot tell: taken (if it is ours after all, the stranded-claims sweep frees it).
      }
      break;
    case 400: out.outcome = ClaimOutcome::Closed; break;
    case 404: out.outcome = ClaimOutcome::Unknown; break;
    default:
      throw DispatchError("claim", res.status, fmt::format("{}#{}: HTTP {}: {}", issue.repo_full_name, issue.number,
                                                           res.status, excerpt(res.body)), false);
  }
  co_return out;
}

awaitable<bool> Client::unclaim(const IssueRef& issue) {
  auto impl = impl_;
  json::object body = impl->issue_body(issue);
  body["agentName"] = impl->opts.agent_name;
  const auto req = Impl::post("/api/issues/unclaim", body);
  const auto res = co_await impl->exchange(req, "unclaim");
  if (res.status == 400) co_return true;  // not ours any more: done
  Impl::expect_ok(res, "unclaim");
  co_return true;
}

awaitable<json::value> Client::set_status(const IssueRef& issue, const std::string& status) {
  auto impl = impl_;
  json::object body = impl->issue_body(issue);
  body["status"] = status;
  body["agentName"] = impl->opts.agent_name;
  const auto req = Impl::post("/api/issues/status", body);
  co_return Impl::expect_ok(co_await impl->exchange(req, "status"), "status");
}

awaitable<void> Client::label(const IssueRef& issue, const std::string& label) {
  auto impl = impl_;
  json::object body = impl->issue_body(issue);
  body["number"] = issue.number;
  body["label"] = label;
  const auto req = Impl::post("/api/issues/label", body);
  Impl::expect_ok(co_await impl->exchange(req, "label"), "label");
}

awaitable<void> Client::unlabel(const IssueRef& issue, const std::string& label) {
  auto impl = impl_;
  json::object body = impl->issue_body(issue);
  body["number"] = issue.number;
  body["label"] = label;
  const auto req = Impl::post("/api/issues/unlabel", body);
  Impl::expect_ok(co_await impl->exchange(req, "unlabel"), "unlabel");
}

awaitable<void> Client::comment(const IssueRef& issue, const std::string& text) {
  auto impl = impl_;
  json::object body = impl->issue_body(issue);
  body["number"] = issue.number;
  body["body"] = text;
  const auto req = Impl::post("/api/issues/comment", body);
  // Posted twice if sent again after a lost answer: never resent.
  Impl::expect_ok(co_await impl->exchange(req, "comment", Replay::Never), "comment");
}

awaitable<void> Client::relane(const std::string& issue_id, const std::string& lane, const std::string& reason) {
  auto impl = impl_;
  const json::object body{{"model", "bridge-escalation"},
                          {"classification", json::object{{"lane", lane}, {"confidence", "high"}, {"reason", reason}}}};
  const auto req = Impl::post(fmt::format("/api/issues/{}/lane", kube::percent_encode(issue_id)), body);
  Impl::expect_ok(co_await impl->exchange(req, "lane"), "lane");
}

awaitable<json::value> Client::claimed(const std::string& status) {
  auto impl = impl_;
  std::vector<std::pair<std::string_view, std::string>> params;
  params.emplace_back("agentName", impl->opts.agent_name);
  if (!status.empty()) params.emplace_back("status", status);
  const auto req = Impl::get(kube::with_query("/api/issues/claimed", params));
  co_return Impl::expect_ok(co_await impl->exchange(req, "claimed"), "claimed");
}

awaitable<std::optional<json::value>> Client::issue_state(const std::string& repo, std::int64_t number) {
  auto impl = impl_;
  std::vector<std::pair<std::string_view, std::string>> params;
  params.emplace_back("repo", repo);
  params.emplace_back("number", std::to_string(number));
  const auto req = Impl::get(kube::with_query("/api/issues/state", params));
  const auto res = co_await impl->exchange(req, "state");
  if (res.status == 404) co_return std::nullopt;
  co_return Impl::expect_ok(res, "state");
}

awaitable<json::value> Client::prfix_queued(const std::string& lane) {
  auto impl = impl_;
  std::vector<std::pair<std::string_view, std::string>> params;
  params.emplace_back("lane", lane);
  const auto req = Impl::get(kube::with_query("/api/pr-fix-queue/queued", params));
  co_return Impl::lane_answer(co_await impl->exchange(req, "pr_fix_queue"), "pr_fix_queue", lane);
}

awaitable<bool> Client::prfix_mark(const std::string& repo, std::int64_t pr, const std::string& status,
                                   const std::string& note) {
  auto impl = impl_;
  const json::object body{{"repo", repo}, {"pr", pr}, {"status", status}, {"note", note}};
  const auto req = Impl::post("/api/pr-fix-queue/mark", body);
  const auto res = co_await impl->exchange(req, "pr_fix_mark");
  if (res.status == 404) co_return false;
  Impl::expect_ok(res, "pr_fix_mark");
  co_return true;
}

}  // namespace fdb::dispatch
