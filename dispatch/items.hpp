// Tolerant parsing of the dispatch service's answers (SPEC §2). Pure: JSON in, plain
// structs out. Nothing here throws on untrusted input: a malformed item yields a
// ParseError naming the field (the caller logs it and counts it), a malformed answer as a
// whole yields a ParseError too (the caller fails that lane only).
//
// Accepted aliases: `number`/`issueNumber`, `issueId`/`id`, `lane`/`currentLane`; lanes
// `normal` = `local`, `escalated` = `frontier`. Numbers may arrive as JSON integers,
// integral doubles or decimal strings; an id may be a string or a number.
#pragma once

#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace fdb::dispatch {

struct ParseError {
  std::string field;    // "number", "repoFullName", "(answer)", …
  std::string message;  // "expected a positive integer, got \"abc\""
  long index = -1;      // position of the item in its array, -1 for a whole answer
  std::string what() const;  // "item 3: number: expected …" / "answer: expected an array, got object"
};

template <class T>
using Parsed = std::variant<T, ParseError>;

// One entry of a lane queue.
struct QueueItem {
  std::string type;              // "issue" for issues
  std::int64_t number = 0;       // `number` or `issueNumber`, >= 1
  std::string issue_id;          // `issueId` or `id`
  std::string repo_full_name;    // "owner/repo"
  std::string title;
  std::string url;
  std::vector<std::string> labels;  // string entries only
  std::string priority;
  std::string status;            // the `status` field as sent
  std::string lane;              // `lane` or `currentLane`, aliases applied; empty when absent
  bool agent_match = false;
  bool claimable = false;
  std::size_t position = 0;      // index in the answer it came from

  // The first `status/*` label, else `status`.
  std::string effective_status() const;
};

// Items that are not issues are returned as they are (type set, other fields maybe
// empty); an issue must have a number, a repoFullName of the form owner/repo and an id.
Parsed<QueueItem> parse_queue_item(const boost::json::value& v, long index = -1);

// The answer of a lane queue: an array (or an object with an `items` array). Items that
// fail parse_queue_item are in `malformed`, in order.
struct QueueAnswer {
  std::vector<QueueItem> items;
  std::vector<ParseError> malformed;
};
Parsed<QueueAnswer> parse_queue(const boost::json::value& answer);

// POST /api/issues/claim → 200 {success, labels}. A missing `success` reads as true
// (the status code already said so); only an explicit false is a refusal.
struct ClaimAnswer {
  bool success = true;
  std::vector<std::string> labels;
};
Parsed<ClaimAnswer> parse_claim_answer(const boost::json::value& answer);

// POST /api/issues/status → 200 {success, status, labels}.
struct StatusAnswer {
  bool success = true;
  std::string status;
  std::vector<std::string> labels;
};
Parsed<StatusAnswer> parse_status_answer(const boost::json::value& answer);

// GET /api/issues/claimed → [{issueId, number, repoFullName, currentLane, labels, hasOpenPr}].
struct ClaimedIssue {
  std::string issue_id;
  std::int64_t number = 0;
  std::string repo_full_name;
  std::string lane;  // aliases applied
  std::vector<std::string> labels;
  bool has_open_pr = false;
};
struct ClaimedAnswer {
  std::vector<ClaimedIssue> items;
  std::vector<ParseError> malformed;
};
Parsed<ClaimedAnswer> parse_claimed(const boost::json::value& answer);

// GET /api/issues/state → {issueId, repoFullName, number, state, closedAt, labels}.
enum class IssueState { Open, Closed, Unknown };
std::string_view to_string(IssueState s) noexcept;
struct IssueStateAnswer {
  std::string issue_id;
  std::string repo_full_name;
  std::int64_t number = 0;
  IssueState state = IssueState::Unknown;  // any other `state` reads Unknown (fails open)
  std::string closed_at;
  std::vector<std::string> labels;
};
Parsed<IssueStateAnswer> parse_issue_state(const boost::json::value& answer);

}  // namespace fdb::dispatch
