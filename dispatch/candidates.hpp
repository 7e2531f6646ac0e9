// Candidate selection (SPEC §2) as a pure function of one lane's queue answer.
//
// An item is a candidate when: it is an object of type issue; its title does not match
// /renovate/i; its lane (after aliasing) is the lane asked for, or it has none; its status
// (first `status/*` label, else `status`) is `status/ready`; and `claimable` or
// `agentMatch` is true. Candidates keep queue order. A malformed item is reported in
// `malformed` (the caller logs and counts it) and never stops the rest of the lane.
#pragma once

#include "dispatch/items.hpp"

#include <boost/json/value.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fdb::dispatch {

enum class SkipReason { NotAnIssue, Renovate, OtherLane, NotReady, NotClaimable };
std::string_view to_string(SkipReason r) noexcept;

struct Skipped {
  std::size_t index = 0;  // position in the answer
  SkipReason reason = SkipReason::NotAnIssue;
};

struct Selection {
  std::vector<QueueItem> candidates;   // in queue order
  std::vector<ParseError> malformed;   // items skipped because they could not be read
  std::vector<Skipped> skipped;        // well-formed items that are not candidates (for debug logs)
};

// Why a well-formed item is not a candidate for `lane`, or nothing when it is one.
std::optional<SkipReason> why_not_candidate(const QueueItem& item, std::string_view lane);

// `answer` is the raw queue answer; a malformed answer (not an array) is a ParseError.
Parsed<Selection> select_candidates(const boost::json::value& answer, std::string_view lane);
// The same over an already parsed queue.
Selection select_candidates(const QueueAnswer& queue, std::string_view lane);

}  // namespace fdb::dispatch
