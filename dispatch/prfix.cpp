#include "dispatch/prfix.hpp"

#include "watch/json_access.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace fdb::dispatch {

namespace json = boost::json;

namespace {

constexpr auto& obj = kube::object_field;
constexpr auto& str = kube::string_field;
// A positive integer given as a number or a string of digits; 0 otherwise.
std::int64_t positive(const json::object& o, std::string_view k) {
  const auto* v = o.if_contains(k);
  if (v == nullptr) return 0;
  if (v->is_int64()) return std::max<std::int64_t>(0, v->get_int64());
  if (v->is_uint64()) return v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX) ? static_cast<std::int64_t>(v->get_uint64()) : 0;
  if (v->is_string()) {
    const std::string_view s = v->get_string();
    if (s.empty() || s.size() > 18 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) return 0;
    return std::stoll(std::string(s));
  }
  return 0;
}
std::string upper(std::string_view s) {
  std::string out;
  for (char c : s) out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}
std::string lower(std::string_view s) {
  std::string out;
  for (char c : s) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}
bool valid_repo(std::string_view r) {
  const auto slash = r.find('/');
  return slash != std::string_view::npos && slash > 0 && slash + 1 < r.size() && r.find('/', slash + 1) == std::string_view::npos;
}

}  // namespace

Parsed<PrFixItem> parse_prfix_item(const json::value& v, long index) {
  auto fail = [index](std::string field, std::string why) -> Parsed<PrFixItem> {
    return ParseError{std::move(field), std::move(why), index};
  };
  if (!v.is_object()) return fail("(item)", "not an object");
  const json::object& o = v.get_object();
  PrFixItem i;
  i.repo = str(&o, "repo");
  if (i.repo.empty()) i.repo = str(&o, "repoFullName");
  if (!valid_repo(i.repo)) return fail("repo", "missing or not owner/name");
  i.pr = positive(o, "pr");
  if (i.pr == 0) i.pr = positive(o, "number");
  if (i.pr == 0) return fail("pr", "missing or not a positive integer");
  i.branch = str(&o, "branch");
  if (i.branch.empty()) return fail("branch", "missing");
  i.lane = upper(str(&o, "lane"));
  if (i.lane.empty()) i.lane = std::string(kPrFixNormal);
  if (i.lane != kPrFixNormal && i.lane != kPrFixEscalated) return fail("lane", "neither NORMAL nor ESCALATED: " + i.lane);
  i.issue = positive(o, "issue");
  i.id = str(&o, "id");
  i.url = str(&o, "url");
  i.title = str(&o, "title");
  i.head_sha = str(&o, "headSha");
  i.type = str(&o, "type");
  i.status = str(&o, "status");
  i.reason = str(&o, "reason");
  i.generation = positive(o, "generation");
  if (const auto* fb = o.if_contains("feedback"); fb != nullptr && fb->is_array()) {
    for (const auto& f : fb->get_array()) {
      if (f.is_string() && !f.get_string().empty()) i.feedback.emplace_back(f.get_string());
    }
  } else if (fb != nullptr && fb->is_string() && !fb->get_string().empty()) {
    i.feedback.emplace_back(fb->get_string());
  }
  return i;
}

Parsed<PrFixQueue> parse_prfix_queue(const json::value& answer) {
  const json::array* items = nullptr;
  if (answer.is_array()) items = &answer.get_array();
  else if (answer.is_object()) {
    if (const auto* v = answer.get_object().if_contains("items"); v != nullptr && v->is_array()) items = &v->get_array();
  }
  if (items == nullptr) return ParseError{"", "expected an array (or an object with an items array)", -1};
  PrFixQueue q;
  for (std::size_t k = 0; k < items->size(); ++k) {
    auto parsed = parse_prfix_item((*items)[k], static_cast<long>(k));
    if (auto* i = std::get_if<PrFixItem>(&parsed)) q.items.push_back(std::move(*i));
    else q.malformed.push_back(std::move(std::get<ParseError>(parsed)));
  }
  return q;
}

std::string failure_signature(const PrFixItem& item) {
  const std::string type = item.type.empty() ? std::string("unknown") : lower(item.type);
  std::vector<std::string> lines;
  for (const auto& f : item.feedback) {
    std::string norm;
    for (char c : lower(f)) {
      const auto u = static_cast<unsigned char>(c);
      const char out = std::isdigit(u) ? '#' : std::isspace(u) ? ' ' : c;
      if (out == ' ' && (norm.empty() || norm.back() == ' ')) continue;
      norm += out;
    }
    while (!norm.empty() && norm.back() == ' ') norm.pop_back();
    if (!norm.empty()) lines.push_back(std::move(norm));
  }
  if (lines.empty()) return type + "::no-feedback";
  std::sort(lines.begin(), lines.end());
  std::string joined;
  for (const auto& l : lines) joined += l + "\n";
  return fmt::format("{}::{:08x}", type, static_cast<std::uint32_t>(fnv1a64(joined) >> 32));
}

std::string prfix_workload_name(std::string_view repo, std::int64_t pr) {
  // workload_name's rule with its own prefix (the hash, when one is added, is over the
  // same repo and number).
  return dns_label_name("prfix-", repo, pr);
}

json::object build_prfix_workload(const PrFixRequest& req, const WorkloadSettings& ws, const PrFixSettings& ps,
                                  const LoadMap& load) {
  const PrFixItem& it = req.item;
  const std::string name = prfix_workload_name(it.repo, it.pr);
  std::string coder(kDefaultCoder);
  if (const auto c = ps.lane_agents.find(req.lane); c != ps.lane_agents.end() && !c->second.empty()) {
    if (auto picked = pick_agent(c->second, it.pr, load, ws); !picked.empty()) coder = picked;
  }
  std::string feedback;
  for (const auto& f : it.feedback) feedback += "- " + f + "\n";
  if (feedback.empty()) feedback = "- " + (it.reason.empty() ? std::string("(no feedback was given; make the checks pass)") : it.reason) + "\n";
  const std::string prompt = utf8_prefix(fmt::format("{}\nPull request: {} ({}#{}), branch {}\n{}", kPrFixPromptPrefix,
                                                     it.url.empty() ? "-" : it.url, it.repo, it.pr, it.branch, feedback),
                                         kMaxPromptChars);
  const std::int64_t issue = it.issue > 0 ? it.issue : it.pr;
  const std::string fix = "fix-" + std::to_string(it.pr);
  json::array steps;
  steps.push_back(json::object{{"name", fix},
                               {"kind", "issue-fix"},
                               {"agentRef", json::object{{"name", coder}}},
                               {"payload", json::object{{"repo", it.repo},
                                                        {"issue", issue},
                                                        {"branch", it.branch},
                                                        {"prompt", prompt},
                                                        {"allowOverwrite", true},
                                                        {"reviseFromBranch", it.branch},
                                                        {"branchStrategy", "rebase"}}}});
  if (ws.verify_enabled) {
    steps.push_back(json::object{{"name", "verify-" + std::to_string(it.pr)},
                                 {"kind", "verify"},
                                 {"agentRef", json::object{{"name", kVerifierAgent}}},
                                 {"dependsOn", json::array{json::string(fix)}},
                                 {"payload", json::object{{"repo", it.repo}, {"issue", issue}, {"branch", it.branch}}}});
  }
  json::object spec{{"intent", it.title.empty() ? fmt::format("Fix review feedback on {}#{}", it.repo, it.pr)
                                                 : "Fix review feedback: " + it.title},
                    {"repo", it.repo},
                    {"issues", json::array{issue}},
                    {"pipeline", std::move(steps)}};
  if (const auto* gp = gate_profile_for(ws, it.repo)) spec["gateProfile"] = *gp;
  return json::object{
      {"apiVersion", kApiVersion},
      {"kind", kWorkloadKind},
      {"metadata",
       json::object{{"name", name},
                    {"namespace", ws.namespace_name},
                    {"labels", json::object{{kCreatedByLabel, kPrFixCreatedByValue}, {kLaneLabel, lower(req.lane)}}},
                    {"annotations", json::object{{kAttemptAnnotation, std::to_string(std::max(1, req.attempt))},
                                                 {kAgentNameAnnotation, ws.agent_name},
                                                 {kPrFixRepoAnnotation, it.repo},
                                                 {kPrFixNumberAnnotation, std::to_string(it.pr)},
                                                 {kPrFixLaneAnnotation, req.lane},
                                                 {kPrFixSignatureAnnotation, failure_signature(it)},
                                                 {kPrFixHeadAnnotation, it.head_sha}}}}},
      {"spec", std::move(spec)},
  };
}

PrFixWorkload read_prfix_workload(const json::object& w) {
  const auto* md = obj(&w, "metadata");
  const auto* ann = obj(md, "annotations");
  PrFixWorkload f;
  f.phase = str(obj(&w, "status"), "phase");
  f.lane = upper(str(ann, kPrFixLaneAnnotation));
  if (f.lane != kPrFixEscalated) f.lane = std::string(kPrFixNormal);
  f.attempt = parse_attempt(str(ann, kAttemptAnnotation));
  f.signature = str(ann, kPrFixSignatureAnnotation);
  return f;
}

std::string_view to_string(MergeStatus s) noexcept {
  switch (s) {
    case MergeStatus::Ok: return "ok";
    case MergeStatus::Dirty: return "dirty";
    case MergeStatus::ChecksFailed: return "checks failed";
    case MergeStatus::ChecksPending: return "checks pending";
    case MergeStatus::Blocked: return "blocked";
    case MergeStatus::Merged: return "merged";
    case MergeStatus::Closed: return "closed";
  }
  return "?";
}

MergeStatus merge_status(const std::optional<PrState>& pr) {
  if (!pr) return MergeStatus::ChecksPending;  // not verified: never FIXED on it
  if (pr->merged) return MergeStatus::Merged;
  if (!pr->open) return MergeStatus::Closed;
  if (pr->mergeable_state == "dirty" || pr->mergeable_state == "conflicting") return MergeStatus::Dirty;
  if (!pr->head_sha.empty()) {
    if (!pr->checks) return MergeStatus::ChecksPending;  // the check runs could not be read
    if (*pr->checks == ChecksState::Failed) return MergeStatus::ChecksFailed;
    if (*pr->checks == ChecksState::Pending) return MergeStatus::ChecksPending;
  }
  if (pr->mergeable_state == "blocked" || pr->mergeable_state == "unstable") return MergeStatus::Blocked;
  return MergeStatus::Ok;
}

std::optional<ChecksState> summarize_check_runs(const json::value& answer) {
  if (!answer.is_object()) return std::nullopt;
  const auto* runs = answer.get_object().if_contains("check_runs");
  if (runs == nullptr || !runs->is_array()) return std::nullopt;
  static constexpr std::string_view kFailing[] = {"failure", "timed_out", "cancelled", "action_required", "startup_failure", "stale"};
  static constexpr std::string_view kPending[] = {"queued", "in_progress", "waiting", "pending", "requested"};
  bool failed = false, pending = false, any = false;
  for (const auto& r : runs->get_array()) {
    any = true;
    const auto* o = r.if_object();
    const std::string conclusion = lower(o ? kube::string_field(o, "conclusion") : std::string());
    const std::string status = lower(o ? kube::string_field(o, "status") : std::string());
    if (std::find(std::begin(kFailing), std::end(kFailing), conclusion) != std::end(kFailing)) {
      failed = true;
    } else if (std::find(std::begin(kPending), std::end(kPending), status) != std::end(kPending) ||
               (conclusion.empty() && status != "completed")) {
      pending = true;
    }
  }
  if (failed) return ChecksState::Failed;
  if (pending) return ChecksState::Pending;
  return any ? ChecksState::Passed : ChecksState::None;
}

PrFixAction decide_prfix(const PrFixItem& item, const std::optional<PrFixWorkload>& fix,
                         const std::optional<PrFixWorkload>& pending, const std::optional<PrState>& pr,
                         const PrFixSettings& s) {
  const MergeStatus ms = merge_status(pr);
  if (ms == MergeStatus::Merged) return prfix::Mark{"FIXED", "the pull request was merged; nothing left to fix"};
  if (ms == MergeStatus::Closed) return prfix::Mark{"STALE", "the pull request was closed"};
  if (!fix) {
    if (pr && !pr->head_sha.empty() && !item.head_sha.empty() && pr->head_sha != item.head_sha) {
      return prfix::Mark{"STALE", fmt::format("the pull request's head moved from {} to {} since it was queued",
                                              item.head_sha.substr(0, 12), pr->head_sha.substr(0, 12))};
    }
    if (pending && pending->signature == failure_signature(item)) {
      return prfix::Create{PrFixRequest{item, pending->lane, std::max(1, pending->attempt)}};
    }
    return prfix::Create{PrFixRequest{item, item.lane, 1}};
  }
  if (fix->phase != "Completed" && fix->phase != "Failed") return prfix::Wait{};
  // The fix ended: marked as the Python bridge's reconcile_pr_fixes marked it.
  if (fix->phase == "Completed" && ms == MergeStatus::Ok) {
    return prfix::Mark{"FIXED", fmt::format("fixed in lane {} at attempt {}; the pull request is mergeable", fix->lane,
                                            fix->attempt)};
  }
  if (ms == MergeStatus::Dirty) {
    return prfix::Mark{"BLOCKED", fmt::format("the pull request has a merge conflict; a coder cannot resolve it (fix {} in lane {})",
                                              fix->phase, fix->lane)};
  }
  const int cap = std::max(1, s.max_attempts);
  if ((ms == MergeStatus::ChecksPending || ms == MergeStatus::Blocked) && fix->attempt < cap) {
    return prfix::Wait{};  // nothing a coder can do yet: no attempt spent; looked at again next round
  }
  const std::string signature = failure_signature(item);
  if (fix->signature != signature) {
    return prfix::Retry{PrFixRequest{item, item.lane, 1},
                        fmt::format("new failure signature {} (was {}): a budget of its own", signature,
                                    fix->signature.empty() ? "none" : fix->signature)};
  }
  const std::string why = fix->phase == "Failed" ? std::string("failed")
                                                 : fmt::format("completed, but the pull request's {}", to_string(ms));
  if (fix->attempt < cap) {
    return prfix::Retry{PrFixRequest{item, fix->lane, fix->attempt + 1},
                        fmt::format("attempt {} of {} in lane {} {}", fix->attempt, cap, fix->lane, why)};
  }
  if (fix->lane == kPrFixNormal) {
    return prfix::Retry{PrFixRequest{item, std::string(kPrFixEscalated), 1},
                        fmt::format("{} attempts failed in lane NORMAL for {} (last: {}); escalated", cap, signature, why)};
  }
  return prfix::Mark{"BLOCKED", fmt::format("{} attempts failed in lane ESCALATED for {} (last: {})", cap, signature, why)};
}

}  // namespace fdb::dispatch
