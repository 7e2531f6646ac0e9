#include "operator/claim_sweep_steps.hpp"

#include "operator/adoption.hpp"
#include "operator/cache_view.hpp"

#include <algorithm>

namespace fdb::op {

ClaimFacts read_claim_facts(const CacheView& cache, const InFlightFacts& in_flight, const dispatch::ClaimedIssue& issue,
                            std::vector<std::string>* names_out) {
  ClaimFacts f;
  std::vector<std::string> names = names_for_issue(issue.repo_full_name, issue.number);
  for (auto& n : cache.workloads_for_issue(issue.issue_id, issue.repo_full_name, issue.number)) {
    if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(std::move(n));
  }
  for (const auto& n : names) {
    f.workload_live = f.workload_live || cache.workload(n).has_value();
    f.retry_in_flight = f.retry_in_flight || cache.intent(n).has_value() ||
                        (in_flight.retry_in_flight && in_flight.retry_in_flight(n));
  }
  const std::string name = dispatch::workload_name(issue.repo_full_name, issue.number);
  f.create_in_flight = in_flight.create_in_flight && in_flight.create_in_flight(name);
  if (names_out != nullptr) *names_out = std::move(names);
  return f;
}

std::string_view sweeps_result(SweepEvent e) noexcept {
  switch (e) {
    case SweepEvent::ListError: return "list-error";
    case SweepEvent::Malformed: return "malformed";
    case SweepEvent::InFlight: return "in-flight";
    case SweepEvent::NotStranded: return "";
    case SweepEvent::Reset: return "reset";
    case SweepEvent::Unclaimed: return "unclaimed";
    case SweepEvent::Error: return "error";
  }
  return "";
}

std::vector<SweepAction> ClaimSweepMachine::start(const ClaimedListRead& list) {
  std::vector<SweepAction> out;
  if (const auto* error = std::get_if<std::string>(&list.answer)) {
    ++round_.errors;
    out.push_back(sweep::Event{SweepEvent::ListError, {}, "cannot list claimed issues: " + *error});
    return out;
  }
  auto parsed = dispatch::parse_claimed(std::get<boost::json::value>(list.answer));
  if (const auto* bad = std::get_if<dispatch::ParseError>(&parsed)) {
    ++round_.errors;
    out.push_back(sweep::Event{SweepEvent::ListError, {}, "malformed claimed-issues answer: " + bad->what()});
    return out;
  }
  auto& claimed = std::get<dispatch::ClaimedAnswer>(parsed);
  for (const auto& m : claimed.malformed) {
    ++round_.malformed;
    out.push_back(sweep::Event{SweepEvent::Malformed, {}, m.what()});
  }
  round_.listed += static_cast<int>(claimed.items.size());
  items_ = std::move(claimed.items);
  next_ = 0;
  return out;
}

std::vector<SweepAction> ClaimSweepMachine::next(const FactsOf& facts_of) {
  std::vector<SweepAction> out;
  while (next_ < items_.size()) {
    const dispatch::ClaimedIssue& issue = items_[next_++];
    const ClaimFacts f = facts_of(issue);
    const ClaimAction a = classify_claim(which_, issue, f);
    if (a.kind == ClaimActionKind::Leave) {
      // Counted only when the in-flight facts alone keep it: it would be acted on otherwise.
      const ClaimFacts settled{f.workload_live, false, false};
      if (classify_claim(which_, issue, settled).kind != ClaimActionKind::Leave) {
        ++round_.in_flight;
        out.push_back(sweep::Event{SweepEvent::InFlight, issue, a.why});
      }
      continue;
    }
    // The cache says there is no Workload; the API server has the last word, under this
    // program's name or the Python bridge's (the cache may lag for either).
    current_ = issue;
    out.push_back(sweep::AskServer{issue, names_for_issue(issue.repo_full_name, issue.number)});
    return out;
  }
  out.push_back(sweep::Done{});
  return out;
}

std::vector<SweepAction> ClaimSweepMachine::on_server(const ServerAnswer& answer, ClaimFacts facts) {
  if (!answer.error.empty()) {
    ++round_.errors;
    return {sweep::Event{SweepEvent::Error, current_, "cannot read the Workload: " + answer.error}};
  }
  facts.workload_live = facts.workload_live || answer.live;
  const ClaimAction a = classify_claim(which_, current_, facts);
  acting_ = a.kind;
  switch (a.kind) {
    case ClaimActionKind::Leave: return {sweep::Event{SweepEvent::NotStranded, current_, a.why}};
    case ClaimActionKind::ResetToReady: return {sweep::ResetToReady{current_, a.unlabel_needs_human, a.why}};
    case ClaimActionKind::Unclaim: break;
  }
  return {sweep::Unclaim{current_, a.why}};
}

std::vector<SweepAction> ClaimSweepMachine::on_action(bool done, const std::string& error) {
  if (!done) {
    ++round_.errors;
    return {sweep::Event{SweepEvent::Error, current_, "sweep action failed: " + error}};
  }
  if (acting_ == ClaimActionKind::ResetToReady) {
    ++round_.reset;
    return {sweep::Event{SweepEvent::Reset, current_, {}}};
  }
  ++round_.unclaimed;
  return {sweep::Event{SweepEvent::Unclaimed, current_, {}}};
}

}  // namespace fdb::op
