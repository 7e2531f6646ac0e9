#include "operator/sweeps.hpp"

#include "dispatch/workload.hpp"
#include "watch/json_access.hpp"
#include "watch/leader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace fdb::op {

namespace json = boost::json;
using namespace std::chrono;

namespace {

constexpr auto& obj = kube::object_field;
constexpr auto& str = kube::string_field;

bool terminal(std::string_view phase) { return phase == "Completed" || phase == "Failed"; }

}  // namespace

std::string terminal_since_key(std::string_view phase) { return std::string(kTerminalSincePrefix) + std::string(phase); }

std::string format_stamp(WallTime t) { return kube::format_micro_time(t); }

std::optional<WallTime> parse_stamp(std::string_view s) noexcept {
  const auto parsed = kube::parse_time(s, kube::TimeForm::Any);
  if (const auto* t = std::get_if<kube::MicroTime>(&parsed)) return *t;
  return std::nullopt;
}

std::string_view to_string(SweepKind k) noexcept {
  switch (k) {
    case SweepKind::Nothing: return "nothing";
    case SweepKind::Stamp: return "stamp";
    case SweepKind::Report: return "report";
    case SweepKind::Wait: return "wait";
    case SweepKind::Prune: return "prune";
  }
  return "?";
}

SweepStep next_sweep(const WorkloadView& v, const PruneSettings& settings, WallTime now) {
  SweepStep s;
  if (!v.bridge_owned) {
    s.why = "not a bridge Workload";
    return s;
  }
  if (v.terminating) {
    s.why = "being deleted";
    return s;
  }
  if (!terminal(v.phase)) {
    s.why = "phase " + (v.phase.empty() ? std::string("(new)") : v.phase) + " is not terminal";
    return s;
  }
  if (v.phase == "Failed" && v.tombstone.empty()) {
    s.why = "Failed and not a tombstone: the retry flow decides";
    return s;
  }
  const auto stamp = parse_stamp(v.terminal_since);
  if (v.phase == "Completed" && v.reported.empty()) {
    s.kind = SweepKind::Report;
    s.write_stamp = !stamp;
    s.why = "Completed, not reported to dispatch yet";
    return s;
  }
  if (!stamp) {
    s.kind = SweepKind::Stamp;
    s.why = v.terminal_since.empty() ? "no terminal-since stamp" : "unreadable terminal-since stamp \"" + v.terminal_since + "\"";
    return s;
  }
  const double hours_after = v.phase == "Completed" ? settings.completed_after_hours : settings.failed_after_hours;
  if (!(hours_after > 0)) {
    s.why = "pruning " + v.phase + " Workloads is off";
    return s;
  }
  const auto ttl = duration_cast<microseconds>(duration<double, std::ratio<3600>>(hours_after));
  const WallTime deadline = *stamp + ttl;
  if (now >= deadline) {
    s.kind = SweepKind::Prune;
    s.reset_issue = v.phase == "Failed";
    s.why = fmt::format("{} for {:g} h or longer", v.phase, hours_after);
    return s;
  }
  s.kind = SweepKind::Wait;
  s.wait = ceil<milliseconds>(deadline - now);
  s.why = "prune deadline not reached";
  return s;
}

Report completed_report(const json::object& w, TaskList tasks) {
  std::vector<std::pair<std::string, std::string>> prs;  // (task name, URL)
  for (const auto* t : tasks) {
    if (t == nullptr) continue;
    const std::string url = str(obj(obj(obj(t, "status"), "result"), "extra"), "pullRequestURL");
    if (!url.empty()) prs.emplace_back(str(obj(t, "metadata"), "name"), url);
  }
  std::sort(prs.begin(), prs.end());
  if (!prs.empty()) return {"in-review", "a task opened " + prs.front().second, prs.front().second};

  if (const auto* conds = obj(&w, "status") ? obj(&w, "status")->if_contains("conditions") : nullptr;
      conds != nullptr && conds->is_array()) {
    for (const auto& c : conds->get_array()) {
      if (!c.is_object()) continue;
      const auto& o = c.get_object();
      if (str(&o, "type") == "Completed" && str(&o, "reason") == "AllAlreadyResolved" && str(&o, "status") != "False") {
        return {"done", "Foreman found every issue already resolved (AllAlreadyResolved)", {}};
      }
    }
  }
  return {"backlog", "the Workload completed without a pull request: nothing to review, and a re-run would do the same", {}};
}

Report completed_report(const json::object& w, const json::array& tasks) {
  std::vector<const json::object*> ptrs;
  for (const auto& t : tasks)
    if (t.is_object()) ptrs.push_back(&t.get_object());
  return completed_report(w, TaskList(ptrs.data(), ptrs.size()));
}

std::string_view to_string(ClaimSweep s) noexcept { return s == ClaimSweep::Stranded ? "stranded" : "stuck"; }

std::string claimed_status(const dispatch::ClaimedIssue& issue) {
  for (const auto& l : issue.labels) {
    if (l.starts_with("status/")) return l.substr(7);
  }
  return {};
}

ClaimAction classify_claim(ClaimSweep sweep, const dispatch::ClaimedIssue& issue, const ClaimFacts& facts) {
  ClaimAction a;
  const std::string status = claimed_status(issue);
  if (sweep == ClaimSweep::Stranded && !status.empty() && status != "in-progress") {
    a.why = "status is " + status + ", not in-progress";
    return a;
  }
  if (sweep == ClaimSweep::Stuck && status != "ready") {
    a.why = status.empty() ? "no status label: cannot confirm ready" : "status is " + status + ", not ready";
    return a;
  }
  if (issue.has_open_pr) {
    a.why = "an open pull request (human-side work)";
    return a;
  }
  if (facts.workload_live) {
    a.why = "its Workload exists";
    return a;
  }
  if (facts.retry_in_flight) {
    a.why = "a retry of its Workload is in flight";
    return a;
  }
  if (facts.create_in_flight) {
    a.why = "its Workload is being created";
    return a;
  }
  if (sweep == ClaimSweep::Stranded) {
    a.kind = ClaimActionKind::ResetToReady;
    a.unlabel_needs_human = std::find(issue.labels.begin(), issue.labels.end(), "needs-human") != issue.labels.end();
    a.why = "in-progress with no Workload and no open pull request";
  } else {
    a.kind = ClaimActionKind::Unclaim;
    a.why = "claimed at ready with no Workload and no open pull request";
  }
  return a;
}

}  // namespace fdb::op
