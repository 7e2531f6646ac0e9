#include "dispatch/github_io.hpp"

#include "dispatch/service_http_io.hpp"

#include "watch/client_io.hpp"
#include "watch/json_access.hpp"
#include "watch/json_input.hpp"
#include "watch/request.hpp"
#include "watch/url.hpp"

#include <boost/json/value.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace fdb::github {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
using namespace std::chrono_literals;

namespace {

// GitHub answers a spent rate limit with 403 (primary) or 429 (secondary); the 403 is told
// from a permission refusal by its message.
bool transient_answer(int status, std::string_view body) {
  if (status == 429 || status == 500 || status == 502 || status == 503 || status == 504) return true;
  return status == 403 && body.find("rate limit") != std::string_view::npos;
}

// One path segment, percent-encoded (every byte outside the unreserved set); "." and ".."
// would walk the path and are refused.
std::string segment(std::string_view s) {
  if (s.empty() || s == "." || s == "..") throw GitHubError("path", 0, fmt::format("not a usable path segment: \"{}\"", s), false);
  return kube::percent_encode(s);
}

// owner/name → "owner/name" path segments, each percent-encoded; a repo that is not
// exactly two non-empty segments is refused before any request.
std::string repo_path(const std::string& repo, const std::string& call) {
  const auto slash = repo.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == repo.size() || repo.find('/', slash + 1) != std::string::npos) {
    throw GitHubError(call, 0, fmt::format("not an owner/name repository: \"{}\"", dispatch::excerpt(repo)), false);
  }
  return "/repos/" + segment(repo.substr(0, slash)) + "/" + segment(repo.substr(slash + 1));
}

constexpr auto& obj = kube::object_field;
constexpr auto& str = kube::string_field;

}  // namespace

dispatch::Parsed<PullRequest> parse_pull_request(std::string_view body) {
  auto fail = [](std::string field, std::string why) -> dispatch::Parsed<PullRequest> {
    return dispatch::ParseError{std::move(field), std::move(why)};
  };
  boost::system::error_code ec;
  const json::value v = kube::parse_json(body, ec);
  if (ec) return fail("(answer)", "not JSON: " + kube::json_error_text(ec));
  if (!v.is_object()) return fail("(answer)", "not a JSON object");
  const json::object& o = v.get_object();
  PullRequest pr;
  const auto* number = o.if_contains("number");
  if (number == nullptr || !number->is_int64() || number->get_int64() <= 0) return fail("number", "number is missing or not a positive integer");
  pr.number = number->get_int64();
  pr.state = str(&o, "state");
  if (pr.state != "open" && pr.state != "closed") return fail("state", "state is neither open nor closed");
  const auto* head = obj(&o, "head");
  pr.head_ref = str(head, "ref");
  if (pr.head_ref.empty()) return fail("head.ref", "head.ref is missing");
  pr.head_sha = str(head, "sha");
  pr.base_ref = str(obj(&o, "base"), "ref");
  pr.html_url = str(&o, "html_url");
  pr.mergeable_state = str(&o, "mergeable_state");
  if (const auto* m = o.if_contains("merged"); m != nullptr && m->is_bool()) pr.merged = m->get_bool();
  // A merged pull request has merged_at even where `merged` is left out (list answers).
  if (const auto* m = o.if_contains("merged_at"); m != nullptr && m->is_string()) pr.merged = true;
  if (const auto* d = o.if_contains("draft"); d != nullptr && d->is_bool()) pr.draft = d->get_bool();
  if (const auto* m = o.if_contains("mergeable"); m != nullptr && m->is_bool()) pr.mergeable = m->get_bool();
  return pr;
}

struct Client::Impl {
  ClientOptions opts;
  dispatch::ServiceHttp http;

  // A pull request is a few KB, a branch less. The transport always sends a User-Agent
  // (GitHub refuses requests without one).
  static dispatch::ServiceTarget target(const ClientOptions& o) {
    return dispatch::ServiceTarget{o.base_url, o.token, "GITHUB_API_URL", o.timeout, o.timeout, std::size_t{8} << 20,
                                   {{"Accept", "application/vnd.github+json"}, {"X-GitHub-Api-Version", "2022-11-28"}}};
  }

  Impl(asio::any_io_executor e, ClientOptions o)
      : opts(std::move(o)),
        http(e, target(opts), dispatch::Retries{opts.max_attempts, opts.base_backoff, opts.max_backoff}, transient_answer) {}

  // One GET with its retries: the final answer (any status that is not transient), or a
  // GitHubError when the retries run out.
  awaitable<kube::HttpResponse> get(std::string target, const std::string& call) {
    const kube::HttpRequest req{"GET", std::move(target), {}, {}, false};
    try {
      co_return co_await http.send(req, opts.timeout, call, dispatch::Replay::Safe);
    } catch (const dispatch::GaveUp& e) {
      throw GitHubError(call, e.status(), e.what(), true);
    }
  }
};

Client::Client(asio::any_io_executor ex, ClientOptions opts) : impl_(std::make_shared<Impl>(std::move(ex), std::move(opts))) {}
Client::~Client() = default;

void Client::set_observer(Observer observer) { impl_->http.set_observer(std::move(observer)); }
const ClientOptions& Client::options() const noexcept { return impl_->opts; }

awaitable<bool> Client::branch_exists(std::string repo, std::string branch) {
  auto impl = impl_;
  const std::string call = "branch";
  if (branch.empty()) throw GitHubError(call, 0, "no branch name", false);
  // A branch name may hold '/': each segment is encoded, the slashes stay (the API
  // resolves the longest matching ref).
  std::string encoded;
  for (std::size_t start = 0;;) {
    const auto slash = branch.find('/', start);
    encoded += segment(branch.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) break;
    encoded += '/';
    start = slash + 1;
  }
  const auto res = co_await impl->get(repo_path(repo, call) + "/branches/" + encoded, call);
  if (res.status == 200) co_return true;
  if (res.status == 404) co_return false;
  throw GitHubError(call, res.status, fmt::format("{} {}: HTTP {}: {}", repo, branch, res.status, dispatch::excerpt(res.body)), false);
}

awaitable<std::optional<PullRequest>> Client::pull_request(std::string repo, std::int64_t number) {
  auto impl = impl_;
  const std::string call = "pull";
  if (number <= 0) throw GitHubError(call, 0, fmt::format("not a pull request number: {}", number), false);
  const auto res = co_await impl->get(fmt::format("{}/pulls/{}", repo_path(repo, call), number), call);
  if (res.status == 404) co_return std::nullopt;
  if (res.status != 200) {
    throw GitHubError(call, res.status, fmt::format("{}#{}: HTTP {}: {}", repo, number, res.status, dispatch::excerpt(res.body)), false);
  }
  auto pr = parse_pull_request(res.body);
  if (const auto* e = std::get_if<dispatch::ParseError>(&pr)) {
    throw GitHubError(call, res.status, fmt::format("{}#{}: a malformed pull request: {}", repo, number, e->message), false);
  }
  co_return std::move(std::get<PullRequest>(pr));
}

awaitable<json::value> Client::check_runs(std::string repo, std::string sha) {
  auto impl = impl_;
  const std::string call = "check-runs";
  const auto res = co_await impl->get(fmt::format("{}/commits/{}/check-runs", repo_path(repo, call), segment(sha)), call);
  if (res.status != 200) {
    throw GitHubError(call, res.status, fmt::format("{}@{}: HTTP {}: {}", repo, sha, res.status, dispatch::excerpt(res.body)), false);
  }
  boost::system::error_code ec;
  json::value v = kube::parse_json(res.body, ec);
  if (ec) throw GitHubError(call, res.status, fmt::format("{}@{}: not JSON: {}", repo, sha, kube::json_error_text(ec)), false);
  co_return v;
}

}  // namespace fdb::github
