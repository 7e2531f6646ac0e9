#include "dispatch/candidates.hpp"

#include "dispatch/workload.hpp"

namespace fdb::dispatch {

std::string_view to_string(SkipReason r) noexcept {
  switch (r) {
    case SkipReason::NotAnIssue: return "not-an-issue";
    case SkipReason::Renovate: return "renovate";
    case SkipReason::OtherLane: return "other-lane";
    case SkipReason::NotReady: return "not-ready";
    case SkipReason::NotClaimable: return "not-claimable";
  }
  return "?";
}

namespace {

bool contains_renovate(std::string_view title) noexcept {
  constexpr std::string_view needle = "renovate";
  if (title.size() < needle.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= title.size(); ++i) {
    bool match = true;
    for (std::size_t j = 0; j < needle.size() && match; ++j) {
      char c = title[i + j];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      match = c == needle[j];
    }
    if (match) return true;
  }
  return false;
}

}  // namespace

std::optional<SkipReason> why_not_candidate(const QueueItem& item, std::string_view lane) {
  if (item.type != "issue") return SkipReason::NotAnIssue;
  if (contains_renovate(item.title)) return SkipReason::Renovate;
  if (!item.lane.empty() && item.lane != normalize_lane(lane)) return SkipReason::OtherLane;
  if (item.effective_status() != "status/ready") return SkipReason::NotReady;
  if (!item.claimable && !item.agent_match) return SkipReason::NotClaimable;
  return std::nullopt;
}

Selection select_candidates(const QueueAnswer& queue, std::string_view lane) {
  Selection out;
  out.malformed = queue.malformed;
  for (const auto& item : queue.items) {
    if (const auto why = why_not_candidate(item, lane))
      out.skipped.push_back({item.position, *why});
    else
      out.candidates.push_back(item);
  }
  return out;
}

Parsed<Selection> select_candidates(const boost::json::value& answer, std::string_view lane) {
  auto parsed = parse_queue(answer);
  if (auto* e = std::get_if<ParseError>(&parsed)) return *e;
  return select_candidates(std::get<QueueAnswer>(parsed), lane);
}

}  // namespace fdb::dispatch
