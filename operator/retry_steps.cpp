#include "operator/retry_steps.hpp"

#include "operator/cache_view.hpp"

#include <fmt/format.h>

namespace fdb::op::steps {

namespace json = boost::json;

Event event_about(const WorkloadView& w, std::string type, std::string reason, std::string action, std::string note) {
  return Event{w.name, w.ns, w.uid, std::move(type), std::move(reason), std::move(action), std::move(note)};
}

namespace {

void append(Actions& to, Actions more) {
  for (auto& a : more) to.push_back(std::move(a));
}

// Park once (the annotation says the dispatch side is done, so a crash before the delete
// does not comment twice), then delete.
Actions park_actions(const WorkloadView& w, const std::string& reason) {
  Actions a;
  if (w.parked.empty()) {
    a.push_back(ParkIssue{w, reason});
    a.push_back(PatchAnnotations{w.name, json::object{{kParkedAnnotation, reason.empty() ? "true" : reason}}});
    a.push_back(Count{Counter::Park, reason.substr(0, reason.find(':')), {}});
    a.push_back(event_about(w, "Warning", "Parked", "Park", "Needs a human decision: " + reason));
  }
  a.push_back(DeleteWorkload{w.name, w.uid, false});
  a.push_back(Log{"parked for a human", reason});
  a.push_back(Done{"park"});
  return a;
}

// Marks a Failed Workload the bridge leaves alone (value "true" at the cap, "issue-closed"
// for a closed issue) and stamps terminal-since-Failed in the same merge patch, then the
// sweeps of the object as it now is (the prune timer).
Actions tombstone_actions(const WorkloadView& w, const std::string& reason, std::string_view value, WallTime wall,
                          const Settings& s) {
  Actions a;
  WorkloadView marked = w;
  json::object ann;
  if (w.tombstone != value) {
    ann[kTombstoneKey] = value;
    marked.tombstone = std::string(value);
  }
  if (!parse_stamp(w.terminal_since)) {
    marked.terminal_since = format_stamp(wall);
    ann[terminal_since_key("Failed")] = marked.terminal_since;
  }
  if (!ann.empty()) a.push_back(PatchAnnotations{w.name, std::move(ann)});
  if (w.tombstone != value) {
    const bool closed = value == kTombstoneIssueClosed;
    a.push_back(Count{closed ? Counter::TombstoneIssueClosed : Counter::TombstoneGiveUp, {}, {}});
    if (closed) {
      a.push_back(event_about(w, "Normal", "Tombstoned", "LeaveAlone",
                              "the issue is closed in dispatch; left as a Failed tombstone"));
    } else {
      a.push_back(event_about(w, "Warning", "Tombstoned", "GiveUp",
                              fmt::format("attempt {} of {} failed; left as a Failed tombstone: {}", w.attempt,
                                          s.retry_max_attempts, reason)));
    }
    a.push_back(Log{"left as a tombstone", reason});
  }
  append(a, sweep_actions(marked, wall, s));
  return a;
}

Intent intent_of(const DecisionFacts& facts, const WorkloadView& w) {
  Intent i;
  i.workload = facts.name;
  i.target = facts.target;
  i.old_uid = w.uid;
  i.issue_id = w.issue_id;
  i.repo = w.repo;
  i.number = w.number;
  i.title = w.title;
  i.reason = action_reason(facts.action);
  return i;
}

}  // namespace

std::string_view action_name(const Action& a) noexcept {
  static constexpr std::string_view names[] = {
      "done",           "requeue", "decide",      "delete",        "warn-stuck-deletion", "create",
      "unclaim",        "clear-intent", "record-intent", "relane",  "park-issue",          "patch-annotations",
      "count",          "event",   "log",         "stamp",         "report",              "prune",
      "report-log",     "rethrow"};
  static_assert(std::size(names) == std::variant_size_v<Action>);
  return names[a.index()];
}

Observed observe(const CacheView& cache, const InFlight& in_flight, const std::string& name) {
  Observed o;
  o.name = name;
  if (auto cached = cache.workload(name)) o.workload = read_view(*cached);
  if (const Intent* mine = in_flight.intent(name)) {
    o.intent = *mine;
  } else if (auto cm = cache.intent(name)) {
    auto parsed = intent_from_configmap(*cm);
    if (auto* intent = std::get_if<Intent>(&parsed)) o.intent = std::move(*intent);
    else o.bad_intent = std::get<dispatch::ParseError>(parsed);
  }
  if (o.intent && o.intent->target_name() != name) {
    if (auto t = cache.workload(o.intent->target_name())) o.target = read_view(*t);
  }
  return o;
}

Actions plan(const Observed& o, const InFlight& f, SteadyTime now, WallTime wall, const Settings& s) {
  const bool other_target = o.intent && o.intent->target_name() != o.name;
  const Step step = other_target ? next_step(o.workload, o.intent, o.target) : next_step(o.workload, o.intent);
  const RetryTimings* t = f.find_timings(o.name);
  switch (step.kind) {
    case StepKind::Nothing:
      // Nothing left for the retry flow: the sweeps of a terminal Workload, if any.
      if (o.workload) return sweep_actions(*o.workload, wall, s);
      return {Done{"nothing"}};
    case StepKind::Decide:
      return {Decide{}};
    case StepKind::Delete:
      // Sent already, and the cache has not shown the deletion yet (the intent's own
      // watch event can run this before the Workload's MODIFIED arrives): wait for it.
      if (t != nullptr && t->delete_accepted != SteadyTime{} && now - t->delete_accepted < s.delete_timeout) {
        return {Requeue{s.delete_timeout, "await-gone"}};
      }
      return {DeleteWorkload{o.intent->workload, o.intent->old_uid, true}};
    case StepKind::AwaitGone: {
      // The watch's delete event requeues this name; the deadline only reports a deletion
      // that is stuck (a finalizer that never goes).
      Actions a;
      if (t != nullptr && t->delete_sent != SteadyTime{} && now - t->delete_sent >= s.delete_timeout) {
        a.push_back(WarnStuckDeletion{o.name});
      }
      a.push_back(Requeue{s.delete_timeout, "await-gone"});
      return a;
    }
    case StepKind::Create:
      return {CreateWorkload{*o.intent}, ClearIntent{o.intent->workload, "create"}};
    case StepKind::Unclaim:
      return {Unclaim{*o.intent}, ClearIntent{o.intent->workload, "unclaim"}};
    case StepKind::ClearIntent:
      return {ClearIntent{o.intent->workload, "clear-intent"}};
  }
  return {Done{"nothing"}};
}

Actions sweep_actions(const WorkloadView& w, WallTime wall, const Settings& s) {
  const SweepStep st = next_sweep(w, s.prune, wall);
  switch (st.kind) {
    case SweepKind::Nothing:
      return {Done{"nothing"}};
    case SweepKind::Wait:
      // The timer of this Workload: the queue runs the name again at the deadline.
      return {Requeue{st.wait, "prune-wait"}};
    case SweepKind::Stamp: {
      WorkloadView stamped = w;
      stamped.terminal_since = format_stamp(wall);
      Actions a{Stamp{w.phase, stamped.terminal_since}};
      // The stamp just written is readable: the next sweep is never Stamp again.
      if (next_sweep(stamped, s.prune, wall).kind == SweepKind::Stamp) a.push_back(Done{"stamp"});
      else append(a, sweep_actions(stamped, wall, s));
      return a;
    }
    case SweepKind::Report:
      return {Report{st.write_stamp}};
    case SweepKind::Prune:
      return {Prune{st.reset_issue, w}};
  }
  return {Done{"nothing"}};
}

Actions decide_actions(const DecisionFacts& facts, WallTime wall, const Settings& s) {
  if (!facts.workload) return {Done{"gone"}};
  const WorkloadView& w = *facts.workload;
  if (w.phase != "Failed" || w.terminating || !w.bridge_owned) return {Done{"not failed any more"}};
  const RetryAction& action = facts.action;
  if (const auto* p = std::get_if<action::Park>(&action)) return park_actions(w, p->reason);
  if (const auto* t = std::get_if<action::Tombstone>(&action)) return tombstone_actions(w, t->reason, kTombstoneCap, wall, s);
  if (std::holds_alternative<action::Nothing>(action)) {
    // §5.1: a closed issue keeps its tombstone. Marked, so that pruning may collect it;
    // still decided again on each resync, so a reopened issue is retried.
    if (facts.issue == IssueState::Closed) {
      return tombstone_actions(w, action_reason(action), kTombstoneIssueClosed, wall, s);
    }
    return {Done{"nothing: " + action_reason(action)}};
  }
  Intent intent = intent_of(facts, w);
  if (const auto* e = std::get_if<action::Escalate>(&action)) {
    // Re-lane first: when it fails nothing else has happened and the issue stays claimed
    // where it was (the queue tries again after a backoff). Re-laning twice (a crash
    // before the intent is recorded) is harmless.
    intent.kind = Intent::Kind::Escalate;
    intent.lane = e->lane;
    return {Relane{w.issue_id, e->lane, e->reason},
            RecordIntent{intent, facts.seen},
            Log{"re-laned; deleting, then unclaiming once it is gone", w.lane + " -> " + e->lane},
            Count{Counter::Escalation, w.lane, e->lane},
            event_about(w, "Normal", "Escalated", "Escalate",
                        fmt::format("attempt {} of {} failed; moved to lane {}: {}", w.attempt, s.retry_max_attempts,
                                    e->lane, e->reason)),
            DeleteWorkload{facts.name, w.uid, true}};
  }
  const auto build = rebuild_request(w, action);
  if (!build) return {Done{"no request to rebuild"}};
  intent.kind = Intent::Kind::Retry;
  intent.next_attempt = build->attempt;
  intent.infra_attempts = build->infra_attempts;
  intent.lane = build->issue.lane;
  intent.feedback = build->feedback;
  intent.branch = build->revise_from_branch;
  if (intent.next_attempt < 2 && intent.infra_attempts == 0) intent.next_attempt = 2;
  return {RecordIntent{intent, facts.seen}, DeleteWorkload{facts.name, w.uid, true}};
}

}  // namespace fdb::op::steps
