// A small GitHub REST client: what the bridge asks GitHub — with GITHUB_TOKEN when it is
// set, unauthenticated otherwise, as the Python bridge did — does a branch exist (branch
// evidence before a retry, SPEC §5), what state is a pull request in and how did the
// check runs on its head go (the PR-fix queue). The base URL is configurable (GITHUB_API_URL) so
// that tests point it at kube-sim's stand-in. Every call has a timeout and retries
// transient failures (connect errors, timeouts, 429, 500, 502, 503, 504) with backoff and
// full jitter, honouring Retry-After; a 403 with `x-ratelimit-remaining: 0` is a rate limit,
// also retried. The token never appears in errors or logs.
#pragma once

#include "dispatch/items.hpp"
#include "dispatch/service_error.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace fdb::github {

struct ClientOptions {
  std::string base_url = "https://api.github.com";
  std::string token;
  std::chrono::milliseconds timeout{15'000};      // one request
  int max_attempts = 3;                            // tries of one call, the first included
  std::chrono::milliseconds base_backoff{500};     // doubled each retry, full jitter
  std::chrono::milliseconds max_backoff{10'000};   // cap of one wait (Retry-After up to 60 s)
};

// A call that failed for good: after its retries, or with a status that asking again
// will not change (401, 403 other than a rate limit, 422, …).
class GitHubError : public dispatch::ServiceError {
 public:
  GitHubError(std::string call, int status, const std::string& message, bool transient)
      : ServiceError("github", std::move(call), status, message, transient) {}
  const std::string& call() const noexcept { return label(); }
};

// What the bridge needs of a pull request (GET /repos/{owner}/{repo}/pulls/{number}).
struct PullRequest {
  std::int64_t number = 0;
  std::string state;       // "open" or "closed"
  bool merged = false;
  bool draft = false;
  std::string head_ref;    // the branch
  std::string head_sha;
  std::string base_ref;
  std::string html_url;
  std::optional<bool> mergeable;     // null while GitHub computes it
  std::string mergeable_state;       // "clean", "dirty", "blocked", "unknown", …
};

// Observes each HTTP exchange: call label ("branch", "pull"), status (0: no answer), seconds.
using Observer = std::function<void(std::string_view call, int status, double seconds)>;

class Client {
 public:
  Client(boost::asio::any_io_executor ex, ClientOptions opts);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // GET /repos/{repo}/branches/{branch}: true on 200, false on 404. Throws GitHubError.
  boost::asio::awaitable<bool> branch_exists(std::string repo, std::string branch);
  // GET /repos/{repo}/pulls/{number}: nullopt on 404. Throws GitHubError (also when the
  // answer is not a pull request object).
  boost::asio::awaitable<std::optional<PullRequest>> pull_request(std::string repo, std::int64_t number);
  // GET /repos/{repo}/commits/{sha}/check-runs: the answer's JSON (an object with
  // `check_runs`), for dispatch::summarize_check_runs. Throws GitHubError on any status
  // but 200, and when the answer is not JSON.
  boost::asio::awaitable<boost::json::value> check_runs(std::string repo, std::string sha);

  void set_observer(Observer observer);
  const ClientOptions& options() const noexcept;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// Pure: a pull request object of the REST API → PullRequest, or a ParseError naming the
// field ("(answer)" when the body is not a JSON object) when a required field (number,
// state, head.ref) is missing or of the wrong type (docs/errors.md).
dispatch::Parsed<PullRequest> parse_pull_request(std::string_view body);

}  // namespace fdb::github
