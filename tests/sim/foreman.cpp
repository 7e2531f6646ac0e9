#include "sim/foreman.hpp"
#include "sim/json_path.hpp"

#include <boost/json.hpp>

#include <fmt/format.h>

#include <cctype>

namespace fdb::sim {
namespace json = boost::json;

const ResourceInfo& workloads() { return *find_resource("foreman.llmkube.dev", "v1alpha1", "workloads"); }
const ResourceInfo& agentictasks() { return *find_resource("foreman.llmkube.dev", "v1alpha1", "agentictasks"); }

namespace {
const std::pair<const char*, Outcome> kOutcomes[] = {
    {"succeed", Outcome::Succeed},       {"resolved", Outcome::Resolved},
    {"fail-review", Outcome::FailReview}, {"fail-coder", Outcome::FailCoder},
    {"infra", Outcome::Infra},           {"escalate-design", Outcome::EscalateDesign},
    {"incomplete", Outcome::Incomplete}, {"hang", Outcome::Hang},
    {"succeed-no-pr", Outcome::SucceedNoPr},
};

json::object condition(bool ok, const std::string& reason, const std::string& msg, const std::string& when) {
  return json::object{{"type", "Completed"},      {"status", ok ? "True" : "False"}, {"reason", reason},
                      {"message", msg},           {"lastTransitionTime", when}};
}

struct StepDef {
  std::string name, kind, agent;
  json::object payload;
};

bool is_label_value(const std::string& v) {
  if (v.empty()) return true;
  if (v.size() > 63) return false;
  auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  if (!alnum(v.front()) || !alnum(v.back())) return false;
  for (const char c : v)
    if (!alnum(c) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

std::vector<StepDef> steps_of(const json::object& wl) {
  std::vector<StepDef> out;
  const json::value* spec = wl.if_contains("spec");
  if (spec != nullptr && spec->is_object()) {
    const auto& s = spec->as_object();
    // Pipeline mode: the steps as given.
    if (auto* steps = s.if_contains("pipeline"); steps != nullptr && steps->is_array() && !steps->as_array().empty()) {
      for (const auto& st : steps->as_array()) {
        if (!st.is_object()) continue;
        const auto& o = st.as_object();
        auto* p = o.if_contains("payload");
        out.push_back({str_at(o, {"name"}), str_at(o, {"kind"}), str_at(o, {"agentRef", "name"}),
                       p != nullptr && p->is_object() ? p->as_object() : json::object()});
      }
      return out;
    }
    // Issue-batch mode: Foreman plans code, verify (when a verifier is named), review.
    json::object payload{{"repo", str_at(s, {"repo"})}};
    if (auto* is = s.if_contains("issues"); is != nullptr && is->is_array() && !is->as_array().empty() &&
                                            is->as_array().front().is_int64())
      payload["issue"] = is->as_array().front();
    std::string coder = str_at(s, {"coderAgentRef", "name"});
    out.push_back({"code-1", "issue-fix", coder.empty() ? "coder" : coder, payload});
    if (s.contains("verifierAgentRef"))
      out.push_back({"verify-1", "verify", str_at(s, {"verifierAgentRef", "name"}), json::object{{"repo", payload["repo"]}}});
    std::string reviewer = "reviewer";
    if (auto* rv = s.if_contains("reviewerAgentRefs"); rv != nullptr && rv->is_array() && !rv->as_array().empty() &&
                                                       rv->as_array().front().is_object())
      reviewer = str_at(rv->as_array().front().as_object(), {"name"});
    out.push_back({"review-1-0", "review", reviewer, json::object{{"openPullRequest", true}}});
    return out;
  }
  out.push_back({"code-1", "issue-fix", "coder", json::object{}});
  return out;
}
}  // namespace

std::optional<Outcome> parse_outcome(const std::string& s) {
  for (const auto& [n, o] : kOutcomes)
    if (s == n) return o;
  return std::nullopt;
}
std::string outcome_name(Outcome o) {
  for (const auto& [n, v] : kOutcomes)
    if (v == o) return n;
  return "unknown";
}

Foreman::Foreman(Store& store, ForemanRules rules) : store_(store), rules_(std::move(rules)), rng_(rules_.seed) {}

Outcome Foreman::decide(const json::object& wl) {
  if (auto a = parse_outcome(str_at(wl, {"metadata", "annotations", "sim.llmkube.dev/outcome"}))) return *a;
  std::string repo = str_at(wl, {"spec", "repo"});
  std::string number;
  if (auto* sp = wl.if_contains("spec"); sp != nullptr && sp->is_object())
    if (auto* is = sp->as_object().if_contains("issues"); is != nullptr && is->is_array() && !is->as_array().empty()) {
      const auto& n = is->as_array().front();
      number = n.is_int64() ? std::to_string(n.as_int64()) : n.is_string() ? std::string(n.as_string()) : "";
    }
  std::string att = str_at(wl, {"metadata", "annotations", "foreman.llmkube.dev/attempt"});
  int attempt = 1;
  try {
    attempt = att.empty() ? 1 : std::stoi(att);
  } catch (const std::exception&) {
    attempt = 1;
  }
  if (auto it = rules_.issues.find(repo + "#" + number); it != rules_.issues.end()) {
    if (auto a = it->second.find(attempt); a != it->second.end()) return a->second;
    if (auto a = it->second.find(0); a != it->second.end()) return a->second;
  }
  std::uniform_real_distribution<double> d(0.0, 1.0);
  return d(rng_) < rules_.fail_rate ? Outcome::FailReview : Outcome::Succeed;
}

void Foreman::observe(const Event& ev, Clock::time_point now) {
  if (ev.res != &workloads()) return;
  if (ev.type == "DELETED") {
    active_.erase(ev.meta.uid);
    return;
  }
  if (ev.type == "ADDED" && !active_.count(ev.meta.uid)) {
    json::object o = json::parse(*ev.object).as_object();
    std::string phase = str_at(o, {"status", "phase"});
    if (phase == "Completed" || phase == "Failed" || ev.meta.deleting) return;
    active_[ev.meta.uid] = Track{ev.meta.ns, ev.meta.name, ev.meta.uid, now + rules_.step, std::nullopt};
  }
}

void Foreman::tick(Clock::time_point now) {
  for (auto it = active_.begin(); it != active_.end();) {
    bool done = false;
    if (it->second.next <= now) advance(it->second, now, done);
    it = done ? active_.erase(it) : std::next(it);
  }
}

namespace {

json::object status_of(const json::object& wl) {
  const auto* s = wl.if_contains("status");
  return s != nullptr && s->is_object() ? s->as_object() : json::object();
}

// An AgenticTask for one step, owned by the Workload and labelled with its name.
json::object task_object(const std::string& wl_name, const std::string& wl_uid, const StepDef& s, const std::string& when) {
  return json::object{
      {"apiVersion", "foreman.llmkube.dev/v1alpha1"},
      {"kind", "AgenticTask"},
      {"metadata",
       json::object{{"name", wl_name + "-" + s.name},
                    {"labels", json::object{{"foreman.llmkube.dev/workload", wl_name}, {"foreman.llmkube.dev/step", s.name}}},
                    {"ownerReferences",
                     json::array{json::object{{"apiVersion", "foreman.llmkube.dev/v1alpha1"},
                                              {"kind", "Workload"},
                                              {"name", wl_name},
                                              {"uid", wl_uid},
                                              {"controller", true},
                                              {"blockOwnerDeletion", true}}}}}},
      {"spec", json::object{{"kind", s.kind}, {"agentRef", json::object{{"name", s.agent}}}, {"payload", s.payload}}},
      {"status", json::object{{"phase", "Running"}, {"startedAt", when}}}};
}

// What a finished issue-fix task says for the Workload's outcome.
void settle_issue_fix(Outcome oc, bool no_pr, const std::string& pr, json::object& st, json::object& extra, bool& failed,
                      bool& incomplete) {
  if ((oc == Outcome::Succeed && !no_pr) || oc == Outcome::FailReview) extra["pullRequestURL"] = pr;
  if (oc == Outcome::Resolved) extra["outcome"] = "already-resolved", extra["modelSummary"] = "The issue is already fixed on the default branch.";
  if (oc == Outcome::FailCoder) {
    st["phase"] = "Failed", st["verdict"] = "NO-GO";
    extra["outcome"] = "failed", extra["error"] = "tests failed: 3 of 112 failing in test_parser.py";
    failed = true;
  }
  if (oc == Outcome::Infra) {
    st["phase"] = "Failed", st["verdict"] = "INCOMPLETE", st["failureReason"] = "InfrastructureError";
    extra["outcome"] = "error", extra["error"] = "executor pod evicted: node out of memory";
    failed = true;
  }
  if (oc == Outcome::EscalateDesign || oc == Outcome::Incomplete) {
    st["phase"] = "Failed", st["verdict"] = "INCOMPLETE";
    extra["outcome"] = "incomplete", extra["error"] = "could not finish: the fix needs a design decision";
    if (oc == Outcome::EscalateDesign) extra["modelExtra"] = json::object{{"escalation", "DESIGN-DECISION"}};
    incomplete = true;
  }
}

// A finished task's status (phase, verdict, result) for the Workload's outcome; sets
// `failed` or `incomplete` when the task counts against the Workload.
void settle_task(const StepDef& s, Outcome oc, bool no_pr, const std::string& pr, const std::string& when, json::object& st,
                 bool& failed, bool& incomplete) {
  st["phase"] = "Succeeded";
  st["verdict"] = "GO";
  st["finishedAt"] = when;
  json::object extra{{"outcome", "success"}, {"error", ""}, {"modelSummary", "Implemented the change and added tests."},
                     {"modelExtra", json::object{}}};
  if (s.kind == "issue-fix") {
    settle_issue_fix(oc, no_pr, pr, st, extra, failed, incomplete);
  } else if (s.kind == "review") {
    if (oc == Outcome::FailReview) {
      st["phase"] = "Failed", st["verdict"] = "NO-GO";
      extra["outcome"] = "rejected";
      extra["modelSummary"] = "The change does not handle the empty input case.";
      extra["modelExtra"] = json::object{
          {"findings", json::object{{"handlesEmptyInput", false}, {"testsAdded", true}, {"style", "inconsistent naming in parser.cpp"}}}};
      failed = true;
    } else if (oc != Outcome::Succeed && oc != Outcome::Resolved) {
      st["phase"] = "Failed", st["verdict"] = "Skipped";
    }
  } else if (oc != Outcome::Succeed && oc != Outcome::Resolved && oc != Outcome::FailReview) {
    st["phase"] = "Failed", st["verdict"] = "Skipped";
  } else {
    st["verdict"] = "GATE-PASS";
  }
  st["result"] = json::object{{"extra", std::move(extra)}};
}

// The Workload's terminal phase and Completed condition.
void set_outcome(json::object& status, Outcome oc, bool any_failed, bool incomplete, const std::string& when) {
  json::array conds;
  if (oc == Outcome::Succeed) {
    status["phase"] = "Completed";
    conds.push_back(condition(true, "AllChildrenSucceeded", "all tasks succeeded", when));
  } else if (oc == Outcome::Resolved) {
    status["phase"] = "Completed";
    conds.push_back(condition(true, "AllAlreadyResolved", "every issue was already resolved", when));
  } else if (incomplete && !any_failed) {
    status["phase"] = "Failed";
    conds.push_back(condition(false, "ChildrenIncomplete", "a task did not complete", when));
  } else {
    status["phase"] = "Failed";
    conds.push_back(condition(false, "ChildrenFailed", "a task failed", when));
  }
  status["conditions"] = std::move(conds);
}

}  // namespace

// One phase move of a due Workload: new -> Planning -> Dispatched (tasks created) ->
// Completed or Failed (tasks finished), or Failed at once when its name cannot label tasks.
void Foreman::advance(Track& t, Clock::time_point now, bool& done) {
  auto cur = store_.get(workloads(), t.ns, t.name);
  if (!cur || cur.object.meta.uid != t.uid || cur.object.meta.deleting) {
    done = true;
    return;
  }
  json::object wl = cur.object.parse();
  const std::string phase = str_at(wl, {"status", "phase"});
  const std::string when = format_time(now);
  json::object status = status_of(wl);
  t.next = now + rules_.step;
  if (phase.empty()) {
    t.outcome = decide(wl);
    status["phase"] = "Planning";
    status["conditions"] = json::array();
    status["plannerModel"] = "sim-planner";
    write_status(t, wl, std::move(status), now, done);
    return;
  }
  if (!t.outcome) t.outcome = decide(wl);
  const bool planned = phase == "Planning" || phase == "Planned";
  if (planned && !is_label_value(t.name)) {
    // Foreman labels each task foreman.llmkube.dev/workload=<name>: a Workload whose name
    // cannot be a label value (over 63 characters, say) gets no task and fails.
    status["phase"] = "Failed";
    status["conditions"] = json::array{condition(false, "ChildrenFailed", "cannot create tasks: the Workload name is not a valid label value", when)};
    status["succeededTasks"] = 0;
    status["failedTasks"] = 0;
    status["incompleteTasks"] = 0;
    write_status(t, wl, std::move(status), now, done);
    done = true;
    return;
  }
  if (planned) {
    create_tasks(t, wl, now);
    status["phase"] = "Dispatched";
    write_status(t, wl, std::move(status), now, done);
    return;
  }
  if (phase != "Dispatched") {
    done = true;
    return;
  }
  if (*t.outcome == Outcome::Hang) return;
  finish_tasks(t, wl, status, now);
  write_status(t, wl, std::move(status), now, done);
  done = true;
}

void Foreman::write_status(const Track& t, json::object& wl, json::object status, Clock::time_point now, bool& done) {
  wl["status"] = std::move(status);
  auto r = store_.update(workloads(), t.ns, t.name, wl, true, now);
  if (!r) {
    done = true;
    if (r.error->code != 404) errors_.push_back("updating workload " + t.name + " status: " + r.error->message);
  }
}

void Foreman::create_tasks(const Track& t, const json::object& wl, Clock::time_point now) {
  const std::string when = format_time(now);
  for (const auto& s : steps_of(wl)) {
    auto r = store_.create(agentictasks(), t.ns, task_object(t.name, t.uid, s, when), now, true);
    // An AlreadyExists task (left by an earlier Workload of that name) is reused.
    if (!r && r.error->reason != "AlreadyExists") errors_.push_back("creating task " + t.name + "-" + s.name + ": " + r.error->message);
  }
}

// Finishes every task by the Workload's outcome and fills `status` with the end.
void Foreman::finish_tasks(const Track& t, const json::object& wl, json::object& status, Clock::time_point now) {
  const std::string when = format_time(now);
  Outcome oc = *t.outcome;
  const bool no_pr = oc == Outcome::SucceedNoPr;
  if (no_pr) oc = Outcome::Succeed;  // the same, but for the pull request
  std::string repo = str_at(wl, {"spec", "repo"});
  std::string pr = fmt::format("https://github.com/{}/pull/{}", repo.empty() ? "o/r" : repo, 1000 + (t.uid.size() * 7 + t.name.size()) % 9000);
  bool any_failed = false, incomplete = false;
  std::int64_t n_ok = 0, n_failed = 0, n_incomplete = 0;
  json::array refs;
  for (const auto& s : steps_of(wl)) {
    auto tr = store_.get(agentictasks(), t.ns, t.name + "-" + s.name);
    if (!tr) continue;
    json::object task = tr.object.parse();
    json::object st = status_of(task);
    settle_task(s, oc, no_pr, pr, when, st, any_failed, incomplete);
    if (st["phase"] == "Succeeded") ++n_ok;
    else if (st["verdict"] == "INCOMPLETE") ++n_incomplete;
    else ++n_failed;
    refs.push_back(json::object{{"apiVersion", "foreman.llmkube.dev/v1alpha1"}, {"kind", "AgenticTask"},
                                {"name", t.name + "-" + s.name}, {"namespace", t.ns}, {"uid", tr.object.meta.uid}});
    task["status"] = std::move(st);
    auto ur = store_.update(agentictasks(), t.ns, t.name + "-" + s.name, task, true, now);
    if (!ur && ur.error->code != 404) errors_.push_back("finishing task " + t.name + "-" + s.name + ": " + ur.error->message);
  }
  set_outcome(status, oc, any_failed, incomplete, when);
  status["succeededTasks"] = n_ok;
  status["failedTasks"] = n_failed;
  status["incompleteTasks"] = n_incomplete;
  status["tasks"] = std::move(refs);
}

}  // namespace fdb::sim
