#include "operator/claim_round.hpp"

#include "operator/cache_view.hpp"
#include "operator/claim_in_flight.hpp"

namespace fdb::op {

std::string_view to_string(ClaimEvent e) noexcept {
  switch (e) {
    case ClaimEvent::LaneError: return "lane-error";
    case ClaimEvent::Malformed: return "malformed";
    case ClaimEvent::Capped: return "capped";
    case ClaimEvent::OtherName: return "other-name";
    case ClaimEvent::ClaimError: return "error";
    case ClaimEvent::SettledByList: return "settled-by-list";
    case ClaimEvent::Taken: return "taken";
    case ClaimEvent::Closed: return "closed";
    case ClaimEvent::Unknown: return "unknown";
    case ClaimEvent::Claimed: return "claimed";
    case ClaimEvent::Deferred: return "deferred";
    case ClaimEvent::Unclaimed: return "unclaimed";
    case ClaimEvent::Stranded: return "stranded";
  }
  return "unknown";
}

std::string_view claims_result(ClaimEvent e) noexcept {
  switch (e) {
    case ClaimEvent::LaneError: return "lane-error";
    case ClaimEvent::ClaimError: return "error";
    case ClaimEvent::Taken: return "taken";
    case ClaimEvent::Closed: return "closed";
    case ClaimEvent::Unknown: return "unknown";
    // The claim is ours and its Workload exists or is to come (the intent).
    case ClaimEvent::Claimed:
    case ClaimEvent::Deferred: return "claimed";
    case ClaimEvent::Unclaimed: return "unclaimed";
    case ClaimEvent::Stranded: return "stranded";
    case ClaimEvent::Malformed:
    case ClaimEvent::Capped:
    case ClaimEvent::OtherName:
    case ClaimEvent::SettledByList: return "";
  }
  return "";
}

ClaimRoundMachine::ClaimRoundMachine(ClaimSettings settings, std::vector<LaneRead> lanes, int in_progress,
                                     dispatch::LoadMap load)
    : s_(settings), lanes_(std::move(lanes)), load_(std::move(load)) {
  round_.in_progress = in_progress;
}

std::vector<ClaimRoundAction> ClaimRoundMachine::next(const CacheView& cache, const ClaimsInFlight& in_flight) {
  std::vector<ClaimRoundAction> out;
  const bool capped_by_config = s_.max_in_progress > 0;
  for (; lane_ < lanes_.size(); ++lane_, candidate_ = 0, lane_started_ = false) {
    const LaneRead& lane = lanes_[lane_];
    if (!lane_started_) {
      lane_started_ = true;
      if (const auto* failed = std::get_if<LaneFailure>(&lane.answer)) {
        ++round_.lanes_failed;
        out.push_back(claim::Event{ClaimEvent::LaneError, {lane.lane, {}, {}, {}}, failed->error});
        continue;
      }
      ++round_.lanes_ok;
      for (const auto& bad : std::get<dispatch::Selection>(lane.answer).malformed) {
        ++round_.malformed;
        out.push_back(claim::Event{ClaimEvent::Malformed, {lane.lane, {}, {}, {}}, bad.what()});
      }
    }
    const auto* sel = std::get_if<dispatch::Selection>(&lane.answer);
    if (sel == nullptr) continue;
    while (candidate_ < sel->candidates.size()) {
      if (capped_by_config && round_.in_progress >= s_.max_in_progress) {
        if (!round_.capped) out.push_back(claim::Event{ClaimEvent::Capped, {lane.lane, {}, {}, {}}, {}});
        round_.capped = true;
        break;
      }
      if (dispatch::lane_coders_saturated(s_.workload, lane.lane, load_)) break;
      const dispatch::QueueItem& item = sel->candidates[candidate_++];
      ClaimSubject subject{lane.lane, {item.issue_id, item.repo_full_name, item.number}, item.title,
                           dispatch::workload_name(item.repo_full_name, item.number)};
      // The issue's Workload may carry another name (one the Python bridge made, say):
      // looked up by issue, not by name alone (operator/adoption.hpp).
      if (issue_has_workload(cache, item.issue_id, item.repo_full_name, item.number)) {
        if (!cache.workload(subject.name)) out.push_back(claim::Event{ClaimEvent::OtherName, std::move(subject), {}});
        continue;
      }
      if (in_flight.pending(subject.name)) continue;
      current_ = subject;
      out.push_back(claim::Claim{std::move(subject)});
      return out;
    }
  }
  out.push_back(claim::Done{});
  return out;
}

std::vector<ClaimRoundAction> ClaimRoundMachine::on_claim(const ClaimAnswer& answer) {
  if (!answer.result) return {claim::Event{ClaimEvent::ClaimError, current_, answer.error}};
  std::vector<ClaimRoundAction> out;
  const dispatch::ClaimResult& r = *answer.result;
  if (r.checked && r.outcome == dispatch::ClaimOutcome::Claimed) {
    out.push_back(claim::Event{ClaimEvent::SettledByList, current_, {}});
  }
  switch (r.outcome) {
    case dispatch::ClaimOutcome::Claimed: break;
    case dispatch::ClaimOutcome::Taken:
      ++round_.taken;
      out.push_back(claim::Event{ClaimEvent::Taken, current_, {}});
      return out;
    case dispatch::ClaimOutcome::Closed: out.push_back(claim::Event{ClaimEvent::Closed, current_, {}}); return out;
    case dispatch::ClaimOutcome::Unknown: out.push_back(claim::Event{ClaimEvent::Unknown, current_, {}}); return out;
  }
  dispatch::BuildRequest build;
  build.issue = {current_.issue.repo_full_name, current_.issue.number, current_.title, current_.lane,
                 current_.issue.issue_id};
  build.attempt = 1;
  manifest_ = dispatch::build_workload(build, s_.workload, load_);
  out.push_back(claim::CreateWorkload{current_, manifest_});
  return out;
}

std::vector<ClaimRoundAction> ClaimRoundMachine::counted_claim(ClaimEvent kind) {
  ++round_.claimed;
  ++round_.in_progress;
  if (kind == ClaimEvent::Deferred) ++round_.deferred;
  const std::string coder = coder_of(manifest_);
  if (!coder.empty()) ++load_[coder];
  return {claim::Event{kind, current_, coder}};
}

std::vector<ClaimRoundAction> ClaimRoundMachine::on_create(const CreateAnswer& answer) {
  switch (answer.outcome) {
    case ClaimCreateOutcome::Created:
    case ClaimCreateOutcome::Exists: return counted_claim(ClaimEvent::Claimed);
    case ClaimCreateOutcome::ExistsTerminating: return {claim::RecordClaimIntent{current_, answer.old_uid}};
    case ClaimCreateOutcome::Failed: break;
  }
  return {claim::Unclaim{current_, "the create failed: " + answer.error}};
}

std::vector<ClaimRoundAction> ClaimRoundMachine::on_intent(bool recorded, const std::string& error) {
  if (recorded) return counted_claim(ClaimEvent::Deferred);
  return {claim::Unclaim{current_, "cannot record the claim's intent: " + error}};
}

std::vector<ClaimRoundAction> ClaimRoundMachine::on_unclaim(bool released, const std::string& error) {
  if (released) {
    ++round_.unclaimed;
    return {claim::Event{ClaimEvent::Unclaimed, current_, {}}};
  }
  return {claim::Event{ClaimEvent::Stranded, current_, error}};
}

}  // namespace fdb::op
