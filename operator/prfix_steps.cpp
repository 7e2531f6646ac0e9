#include "operator/prfix_steps.hpp"

#include "operator/foreman_model.hpp"
#include "watch/json_access.hpp"

#include <cctype>

namespace fdb::op {

namespace json = boost::json;

namespace {

std::string name_of(const dispatch::PrFixItem& item) { return dispatch::prfix_workload_name(item.repo, item.pr); }

PrFixResult mark_result(std::string_view status) {
  if (status == "FIXED") return PrFixResult::Fixed;
  if (status == "STALE") return PrFixResult::Stale;
  return PrFixResult::Blocked;
}

}  // namespace

std::string prfix_ladder_name(std::string_view workload) { return "bridge-prfix-" + std::string(workload); }

std::optional<dispatch::PrFixWorkload> read_prfix_ladder(const json::object& cm) {
  const auto* data = kube::object_field(&cm, "data");
  if (data == nullptr) return std::nullopt;
  dispatch::PrFixWorkload p;
  p.lane = kube::string_field(data, "lane");
  p.attempt = dispatch::parse_attempt(kube::string_field(data, "attempt"));
  p.signature = kube::string_field(data, "signature");
  if (p.lane != dispatch::kPrFixNormal && p.lane != dispatch::kPrFixEscalated) return std::nullopt;
  return p;
}

std::string_view to_string(PrFixResult r) noexcept {
  switch (r) {
    case PrFixResult::Created: return "created";
    case PrFixResult::Fixed: return "fixed";
    case PrFixResult::Blocked: return "blocked";
    case PrFixResult::Stale: return "stale";
    case PrFixResult::Retried: return "retried";
    case PrFixResult::Waiting: return "waiting";
    case PrFixResult::Error: return "error";
  }
  return "error";
}

PrFixPlan prfix_first(const PrFixFacts& f) {
  if (f.fix && is_terminating(*f.fix)) {
    return {{prfix_step::Wait{"a delete of the fix is in progress"}}, PrFixResult::Waiting};
  }
  if (f.replacing) return {{prfix_step::Wait{"a replace of the fix is in flight (an intent)"}}, PrFixResult::Waiting};
  return {{prfix_step::ReadPullRequest{f.fix.has_value()}}, PrFixResult::Waiting};
}

PrFixPlan prfix_decide(const PrFixFacts& f, const std::optional<dispatch::PrState>& pr,
                       const dispatch::PrFixSettings& ps, const dispatch::WorkloadSettings& ws) {
  const std::string name = name_of(f.item);
  const std::optional<dispatch::PrFixWorkload> fix =
      f.fix ? std::optional(dispatch::read_prfix_workload(*f.fix)) : std::nullopt;
  const dispatch::PrFixAction action = dispatch::decide_prfix(f.item, fix, f.legacy, pr, ps);
  PrFixPlan plan;
  if (const auto* c = std::get_if<dispatch::prfix::Create>(&action)) {
    plan.steps.push_back(prfix_step::Create{name, c->request, dispatch::build_prfix_workload(c->request, ws, ps)});
    plan.result = PrFixResult::Created;
  } else if (const auto* m = std::get_if<dispatch::prfix::Mark>(&action)) {
    plan.steps.push_back(prfix_step::Mark{m->status, m->note});
    if (f.fix) plan.steps.push_back(prfix_step::DeleteFix{name});
    plan.result = mark_result(m->status);
  } else if (const auto* r = std::get_if<dispatch::prfix::Retry>(&action)) {
    plan.steps.push_back(prfix_step::RecordIntent{name, f.fix ? read_view(*f.fix).uid : std::string(), r->request, r->reason});
    plan.result = PrFixResult::Retried;
  } else {
    plan.steps.push_back(prfix_step::Wait{"the fix is running, or the pull request is not ready to judge"});
    return plan;
  }
  // The Workload (or the intent) carries the ladder position from now on.
  if (f.legacy) plan.steps.push_back(prfix_step::DeleteLegacy{prfix_ladder_name(name)});
  return plan;
}

}  // namespace fdb::op
