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

// `n` decimal digits at `pos`, or -1.
int digits(std::string_view s, std::size_t pos, std::size_t n) noexcept {
  if (pos + n > s.size()) return -1;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

bool terminal(std::string_view phase) { return phase == "Completed" || phase == "Failed"; }

}  // namespace

std::string terminal_since_key(std::string_view phase) { return std::string(kTerminalSincePrefix) + std::string(phase); }

std::string format_stamp(WallTime t) { return kube::format_micro_time(t); }

std::optional<WallTime> parse_stamp(std::string_view s) noexcept {
  // 2026-01-02T03:04:05[.ffffff](Z|+hh:mm|-hh:mm)
  if (s.size() < 20) return std::nullopt;
  const int y = digits(s, 0, 4), mo = digits(s, 5, 2), d = digits(s, 8, 2);
  const int h = digits(s, 11, 2), mi = digits(s, 14, 2), sec = digits(s, 17, 2);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || sec < 0) return std::nullopt;
  if (s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':') return std::nullopt;
  if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') return std::nullopt;
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  std::size_t pos = 19;
  microseconds frac{0};
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    const std::size_t start = pos;
    long long us = 0;
    int scale = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (scale < 6) {
        us = us * 10 + (s[pos] - '0');
        ++scale;
      }
      ++pos;
    }
    if (pos == start) return std::nullopt;
    while (scale++ < 6) us *= 10;
    frac = microseconds{us};
  }
  if (pos >= s.size()) return std::nullopt;
  minutes offset{0};
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    const int oh = digits(s, pos + 1, 2), om = digits(s, pos + 4, 2);
    if (oh < 0 || om < 0 || pos + 3 >= s.size() || s[pos + 3] != ':' || oh > 23 || om > 59) return std::nullopt;
    offset = hours{oh} + minutes{om};
    if (s[pos] == '-') offset = -offset;
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  return WallTime(sys_days{ymd} + hours{h} + minutes{mi} + seconds{sec} + frac - offset);
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
