#include "operator/retry_decision.hpp"

#include "dispatch/workload.hpp"
#include "watch/json_access.hpp"

#include <algorithm>
#include <charconv>

namespace fdb::op {

namespace json = boost::json;

namespace {

constexpr auto& obj = kube::object_field;
constexpr auto& str = kube::string_field;

std::string upper_trimmed(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  std::string out(s);
  for (auto& c : out) c = static_cast<char>((c >= 'a' && c <= 'z') ? c - 'a' + 'A' : c);
  return out;
}

struct TaskView {
  std::string name;
  std::string kind;     // spec.kind
  std::string verdict;  // status.verdict
  std::string failure_reason;
  const json::object* extra = nullptr;  // status.result.extra
  std::string summary;  // status.result.summary (foreman-agent's Result envelope)
  std::string branch;   // spec.payload.branch
};

TaskView view(const json::object& t) {
  TaskView v;
  const auto* md = obj(&t, "metadata");
  const auto* spec = obj(&t, "spec");
  const auto* status = obj(&t, "status");
  v.name = str(md, "name");
  v.kind = str(spec, "kind");
  v.verdict = upper_trimmed(str(status, "verdict"));
  v.failure_reason = str(status, "failureReason");
  v.extra = obj(obj(status, "result"), "extra");
  v.summary = str(obj(status, "result"), "summary");
  v.branch = str(obj(spec, "payload"), "branch");
  return v;
}

bool is_coder(const TaskView& t) { return t.kind == "issue-fix" || t.kind == "code"; }

// Tasks sorted by name (null entries dropped), for a stable feedback text.
std::vector<TaskView> sorted(Tasks tasks) {
  std::vector<TaskView> out;
  for (const auto* t : tasks)
    if (t != nullptr) out.push_back(view(*t));
  std::stable_sort(out.begin(), out.end(), [](const TaskView& a, const TaskView& b) { return a.name < b.name; });
  return out;
}

std::string one_line(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) out += (c == '\n' || c == '\r') ? ' ' : c;
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// foreman-agent's reviewer findings: a list of {severity, area, message, file, line,
// suggestion} (LLMKube pkg/foreman/agent/reviewer), as "[severity/area] message (file:line);
// suggested fix: …", one per finding, in order. Entries without a message are skipped.
std::vector<std::string> listed_findings(const json::array& findings) {
  std::vector<std::string> out;
  for (const auto& f : findings) {
    if (!f.is_object()) continue;
    const auto* o = &f.get_object();
    const auto message = one_line(str(o, "message"));
    if (message.empty()) continue;
    std::string line = "[" + std::string(str(o, "severity")) + "/" + std::string(str(o, "area")) + "] " + message;
    if (const auto file = str(o, "file"); !file.empty()) {
      line += " (" + std::string(file);
      if (const auto* l = o->if_contains("line"); l != nullptr && l->is_int64() && l->get_int64() > 0)
        line += ":" + std::to_string(l->get_int64());
      line += ")";
    }
    if (const auto fix = one_line(str(o, "suggestion")); !fix.empty()) line += "; suggested fix: " + fix;
    out.push_back(std::move(line));
  }
  return out;
}

// The branch of this Workload: foreman/{its own name}/issue-{n} (an adopted Workload's name
// may differ from workload_name()).
std::string branch_of(const WorkloadView& wl) {
  if (wl.number <= 0) return {};
  return dispatch::branch_of_workload(wl.name.empty() ? dispatch::workload_name(wl.repo, wl.number) : wl.name, wl.number);
}

}  // namespace

std::string_view action_name(const RetryAction& a) noexcept {
  static constexpr std::string_view names[] = {"nothing", "park", "infra-retry", "escalate", "tombstone", "retry"};
  return names[a.index()];
}

const std::string& action_reason(const RetryAction& a) noexcept {
  return std::visit([](const auto& x) -> const std::string& { return x.reason; }, a);
}

std::string extract_feedback(Tasks tasks) {
  std::vector<std::string> notes;
  for (const auto& t : sorted(tasks)) {
    if (t.kind == "review" && t.verdict == "NO-GO") {
      std::vector<std::string> parts;
      const auto* model_extra = obj(t.extra, "modelExtra");
      const auto* findings = obj(model_extra, "findings");
      if (findings == nullptr) findings = obj(t.extra, "findings");
      if (model_extra != nullptr) {
        if (const auto* list = model_extra->if_contains("findings"); list != nullptr && list->is_array())
          for (auto& f : listed_findings(list->get_array())) parts.push_back(std::move(f));
      }
      if (findings != nullptr) {
        std::vector<std::string> flags;
        std::vector<std::string> details;
        for (const auto& [k, v] : *findings) {
          if (v.is_bool() && v.get_bool()) flags.emplace_back(k);
          if (v.is_string() && !v.get_string().empty())
            details.push_back(std::string(k) + ": " + one_line(v.get_string()));
        }
        std::sort(flags.begin(), flags.end());
        std::sort(details.begin(), details.end());
        if (!flags.empty()) {
          std::string f = "findings: ";
          for (std::size_t i = 0; i < flags.size(); ++i) f += (i ? ", " : "") + flags[i];
          parts.push_back(std::move(f));
        }
        for (auto& d : details) parts.push_back(std::move(d));
      }
      auto summary = one_line(str(t.extra, "modelSummary"));
      if (summary.empty()) summary = one_line(t.summary);
      if (!summary.empty()) parts.push_back(std::move(summary));
      if (!parts.empty()) {
        std::string note = "Reviewer rejected the previous attempt (NO-GO). ";
        for (std::size_t i = 0; i < parts.size(); ++i) note += (i ? "; " : "") + parts[i];
        notes.push_back(std::move(note));
      }
    } else if (is_coder(t) && (t.verdict == "NO-GO" || t.verdict == "INCOMPLETE")) {
      if (auto e = one_line(str(t.extra, "error")); !e.empty())
        notes.push_back("Previous coder attempt failed (" + t.verdict + "): " + e);
    }
  }
  std::string out;
  for (const auto& n : notes) {
    if (!out.empty()) out += '\n';
    out += "- " + n;
  }
  return out;
}

std::optional<std::string> declared_escalation(Tasks tasks) {
  for (const auto& t : sorted(tasks)) {
    if (!is_coder(t)) continue;
    const std::string reason = upper_trimmed(str(obj(t.extra, "modelExtra"), "escalation"));
    if (reason == "DESIGN-DECISION" || reason == "NO-TECHNICAL-FIX") return reason;
  }
  return std::nullopt;
}

std::optional<std::string> already_resolved(Tasks tasks) {
  for (const auto& t : sorted(tasks)) {
    if (!is_coder(t) || t.verdict != "NO-GO") continue;
    if (upper_trimmed(str(t.extra, "outcome")) == "ALREADY-RESOLVED") return std::string(str(t.extra, "resolvedBy"));
  }
  return std::nullopt;
}

bool infrastructure_failure(const json::object& workload, Tasks tasks) {
  for (const auto* t : tasks)
    if (t != nullptr && view(*t).failure_reason == "InfrastructureError") return true;
  const auto* status = obj(&workload, "status");
  if (status == nullptr) return false;
  const auto* conds = status->if_contains("conditions");
  if (conds == nullptr || !conds->is_array()) return false;
  for (const auto& c : conds->get_array()) {
    if (!c.is_object()) continue;
    if (str(&c.get_object(), "type") == "Completed" && str(&c.get_object(), "reason") == "ExecutorError") return true;
  }
  return false;
}

BranchEvidence branch_evidence(const WorkloadView& wl, Tasks tasks) {
  BranchEvidence e;
  e.why = "none";
  for (const auto& t : sorted(tasks)) {
    std::string why;
    if (!str(t.extra, "pullRequestURL").empty()) {
      why = "pullRequestURL";
    } else if (t.kind == "review" && (t.verdict == "GO" || t.verdict == "NO-GO")) {
      // A reviewer's own verdict: it checked the branch out to judge it. Foreman gives a
      // review that never ran a verdict too — INCOMPLETE when it cascade-fails behind a
      // failed coder or gate, Skipped behind an ALREADY-RESOLVED coder — and that proves
      // nothing about the branch.
      why = "review verdict";
    } else if (is_coder(t) && t.verdict == "GO") {
      why = "coder GO";
    } else if (str(t.extra, "outcome").find("PUSH-FAILED") != std::string::npos ||
               str(t.extra, "error").find("non-fast-forward") != std::string::npos) {
      why = "push rejected";
    }
    if (why.empty()) continue;
    e.pushed = true;
    e.why = why;
    e.branch = !t.branch.empty() ? t.branch : branch_of(wl);
    if (e.branch.empty()) e.pushed = false;  // no name to revise from
    else return e;
  }
  return e;
}

std::string branch_to_check(const WorkloadView& wl, const BranchEvidence& from_tasks) {
  if (!from_tasks.branch.empty()) return from_tasks.branch;
  return wl.repo.empty() ? std::string() : branch_of(wl);
}

BranchEvidence github_branch_evidence(BranchEvidence from_tasks, const std::string& branch, std::optional<bool> exists,
                                      bool authenticated) {
  if (!exists) {
    from_tasks.why += " (GitHub not asked or unavailable)";
    return from_tasks;
  }
  if (!*exists && !authenticated) {
    from_tasks.why += " (GitHub, unauthenticated, shows no branch " + branch + ": a private repository looks the same)";
    return from_tasks;
  }
  BranchEvidence e;
  e.pushed = *exists && !branch.empty();
  e.branch = e.pushed ? branch : std::string();
  e.why = *exists ? "GitHub: the branch exists" : "GitHub: no branch " + branch;
  return e;
}

BranchEvidence* branch_of(RetryAction& a) noexcept {
  if (auto* r = std::get_if<action::Retry>(&a)) return &r->branch;
  if (auto* r = std::get_if<action::InfraRetry>(&a)) return &r->branch;
  return nullptr;
}

std::optional<dispatch::BuildRequest> rebuild_request(const WorkloadView& wl, const RetryAction& a) {
  dispatch::BuildRequest req;
  req.issue = dispatch::IssueInfo{wl.repo, wl.number, wl.title, wl.lane, wl.issue_id};
  if (const auto* r = std::get_if<action::Retry>(&a)) {
    req.attempt = r->attempt;
    req.infra_attempts = 0;  // a new attempt starts a new infra budget
    req.feedback = r->feedback;
    req.revise_from_branch = r->branch.pushed ? r->branch.branch : std::string();
    return req;
  }
  if (const auto* r = std::get_if<action::InfraRetry>(&a)) {
    req.attempt = r->attempt;
    req.infra_attempts = r->infra_attempts;
    req.feedback = r->feedback;
    req.revise_from_branch = r->branch.pushed ? r->branch.branch : std::string();
    return req;
  }
  return std::nullopt;
}

std::string park_comment(const WorkloadView& wl, std::string_view reason) {
  std::string out = "Needs a human decision: ";
  out += reason.empty() ? std::string_view("no reason given") : reason;
  out += "\n\nIssue: https://github.com/" + wl.repo + "/issues/" + std::to_string(wl.number);
  out += "\nWorkload: " + wl.name + " (attempt " + std::to_string(wl.attempt) + ", lane " +
         (wl.lane.empty() ? std::string("?") : wl.lane) + ")";
  return out;
}

RetryAction decide_retry(const json::object& workload, Tasks tasks, IssueState issue, const Config& config) {
  const WorkloadView wl = read_view(workload);
  if (!wl.bridge_owned) return action::Nothing{"not a bridge Workload"};
  if (wl.terminating) return action::Nothing{"already being deleted"};
  if (wl.phase != "Failed") return action::Nothing{"phase is " + (wl.phase.empty() ? std::string("(new)") : wl.phase)};
  if (wl.repo.empty() || wl.number <= 0) return action::Nothing{"no repo or issue number on the Workload"};

  // 1. The issue was closed: nothing can advance it.
  if (issue == IssueState::Closed) return action::Nothing{"issue closed in dispatch; tombstone kept"};

  // 2. The coder said a human must decide.
  if (auto declared = declared_escalation(tasks)) return action::Park{"the coder declared " + *declared};

  // 2b. The coder found the work already done. LLMKube's Foreman fails such a Workload when
  // a verifier is configured (the review behind the Skipped verify is cascade-failed), and
  // every retry would only find it again: a human confirms and closes the issue.
  if (auto by = already_resolved(tasks))
    return action::Park{"the coder found the issue already resolved" + (by->empty() ? std::string() : ": by " + *by)};

  // 3. Infrastructure, not the code: retry without spending an attempt, a few times.
  if (infrastructure_failure(workload, tasks)) {
    if (wl.infra_attempts < kMaxInfraRetries) {
      action::InfraRetry r;
      r.attempt = wl.attempt;
      r.infra_attempts = wl.infra_attempts + 1;
      r.feedback = extract_feedback(tasks);
      r.branch = branch_evidence(wl, tasks);
      r.reason = "infrastructure failure, infra retry " + std::to_string(r.infra_attempts) + " of " +
                 std::to_string(kMaxInfraRetries);
      return r;
    }
    return action::Park{"infrastructure failures: " + std::to_string(wl.infra_attempts) + " infra retries spent"};
  }

  // 4. The cap.
  if (wl.attempt >= config.retry_max_attempts) {
    const std::string esc = dispatch::normalize_lane(config.escalation_lane);
    const std::string spent = std::to_string(wl.attempt) + " of " + std::to_string(config.retry_max_attempts) +
                              " attempts failed in lane " + (wl.lane.empty() ? std::string("?") : wl.lane);
    if (!esc.empty() && esc != wl.lane) return action::Escalate{esc, spent + "; escalating to " + esc};
    if (config.park_on_give_up) return action::Park{spent};
    return action::Tombstone{spent + "; tombstone left"};
  }

  // 5. Retry with what the tasks say.
  action::Retry r;
  r.attempt = wl.attempt + 1;
  r.feedback = extract_feedback(tasks);
  r.branch = branch_evidence(wl, tasks);
  r.reason = "attempt " + std::to_string(wl.attempt) + " failed; retry at attempt " + std::to_string(r.attempt) +
             (r.feedback.empty() ? " without feedback" : " with feedback") +
             (issue == IssueState::Unknown ? " (issue state unknown)" : "");
  return r;
}

RetryAction decide_retry(const json::object& workload, const json::array& tasks, IssueState issue,
                         const Config& config) {
  std::vector<const json::object*> ptrs;
  ptrs.reserve(tasks.size());
  for (const auto& t : tasks)
    if (t.is_object()) ptrs.push_back(&t.get_object());
  return decide_retry(workload, Tasks(ptrs.data(), ptrs.size()), issue, config);
}

}  // namespace fdb::op
