// The dispatch API client (SPEC §2): every call sends the bearer token and X-Agent-Name,
// has a timeout (20 s GET, 30 s POST), and retries transient failures (connect errors,
// timeouts, 429, 500, 502, 503, 504) with exponential backoff and full jitter, honouring
// Retry-After. A call that is not idempotent (claim, comment) is not sent again after it
// was written and its answer was lost (DispatchError::request_sent()); a claim asks
// dispatch what happened instead. Answers are handed back as JSON values: their tolerant parsing is pure
// logic elsewhere (dispatch/items.hpp). The token never appears in errors or logs.
#pragma once

#include "dispatch/service_error.hpp"
#include "watch/url.hpp"

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

namespace fdb::dispatch {

struct ClientOptions {
  std::string url = "http://dispatch.llm:3000";
  std::string token;
  std::string agent_name = "foreman-coder";
  std::chrono::milliseconds get_timeout{20'000};
  std::chrono::milliseconds post_timeout{30'000};
  int max_attempts = 4;                           // tries of one call, the first included
  std::chrono::milliseconds base_backoff{500};    // doubled each retry, full jitter
  std::chrono::milliseconds max_backoff{10'000};  // cap of one wait (Retry-After too, up to 60 s)
};

// The issue a call is about; both number fields are sent where the API wants them.
struct IssueRef {
  std::string issue_id;
  std::string repo_full_name;  // "owner/repo"
  std::int64_t number = 0;
};

// A call that failed for good: after its retries, or with a non-transient status.
class DispatchError : public ServiceError {
 public:
  DispatchError(std::string endpoint, int status, const std::string& message, bool transient)
      : ServiceError("dispatch", std::move(endpoint), status, message, transient) {}
  const std::string& endpoint() const noexcept { return label(); }
};

enum class ClaimOutcome {
  Claimed,  // 200: ours now
  Taken,    // 409: someone else holds it, try the next candidate
  Closed,   // 400: closed or done
  Unknown,  // 404: no such issue
};

struct ClaimResult {
  ClaimOutcome outcome = ClaimOutcome::Unknown;
  boost::json::value answer;  // the 200 body ({success, labels}) or the error body
  // The outcome came from dispatch's list of this agent's claims: the claim's answer was
  // lost after it was written, or it answered 409 (see claim()).
  bool checked = false;
};

// Observes each HTTP exchange: endpoint label ("queue", "claim", …), status (0 when there
// was no answer), seconds. For metrics.
using Observer = std::function<void(std::string_view endpoint, int status, double seconds)>;

class Client {
 public:
  Client(boost::asio::any_io_executor ex, ClientOptions opts);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // GET /api/agents/{agent}/queue?lane={lane}&includeClaimed=true → the answer (an array
  // when well-formed). Throws DispatchError (400: unknown lane).
  boost::asio::awaitable<boost::json::value> queue(const std::string& lane);
  // POST /api/issues/claim. Never sent again blindly after a lost answer: when the claim
  // was written and no answer came, or when it answers 409, dispatch's list of this
  // agent's claims decides (the issue is there: Claimed), and only a claim that did not
  // happen is sent once more.
  boost::asio::awaitable<ClaimResult> claim(const IssueRef& issue);
  // true when released; a 400 (not ours any more) is also treated as done: true.
  boost::asio::awaitable<bool> unclaim(const IssueRef& issue);
  boost::asio::awaitable<boost::json::value> set_status(const IssueRef& issue, const std::string& status);
  boost::asio::awaitable<void> label(const IssueRef& issue, const std::string& label);
  boost::asio::awaitable<void> unlabel(const IssueRef& issue, const std::string& label);
  boost::asio::awaitable<void> comment(const IssueRef& issue, const std::string& body);
  boost::asio::awaitable<void> relane(const std::string& issue_id, const std::string& lane, const std::string& reason);
  // GET /api/issues/claimed?agentName=A[&status=S]
  boost::asio::awaitable<boost::json::value> claimed(const std::string& status);
  // GET /api/issues/state?repo=o%2Fn&number=N; nullopt on 404.
  boost::asio::awaitable<std::optional<boost::json::value>> issue_state(const std::string& repo, std::int64_t number);

  // GET /api/pr-fix-queue/queued?lane=NORMAL|ESCALATED → the answer (an array when
  // well-formed; dispatch/prfix.hpp reads it). Throws DispatchError.
  boost::asio::awaitable<boost::json::value> prfix_queued(const std::string& lane);
  // POST /api/pr-fix-queue/mark {repo, pr, status, note}; false on 404 (no such item).
  boost::asio::awaitable<bool> prfix_mark(const std::string& repo, std::int64_t pr, const std::string& status,
                                          const std::string& note);

  void set_observer(Observer observer);
  const ClientOptions& options() const noexcept;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// The URL fit for logs (watch/url.hpp: user-info and credentials in the query as "***").
using kube::redact_url;

}  // namespace fdb::dispatch
