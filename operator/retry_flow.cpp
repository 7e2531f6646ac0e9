#include "operator/retry_flow.hpp"

#include <boost/json/value.hpp>

#include <charconv>

namespace fdb::op {

namespace json = boost::json;

std::string_view to_string(StepKind k) noexcept {
  switch (k) {
    case StepKind::Nothing: return "nothing";
    case StepKind::Decide: return "decide";
    case StepKind::Delete: return "delete";
    case StepKind::AwaitGone: return "await-gone";
    case StepKind::Create: return "create";
    case StepKind::Unclaim: return "unclaim";
    case StepKind::ClearIntent: return "clear-intent";
  }
  return "?";
}

Step next_step(const std::optional<WorkloadView>& wl, const std::optional<Intent>& intent) {
  if (intent) {
    const bool old_present = wl && wl->uid == intent->old_uid;
    if (old_present) {
      if (wl->terminating) return {StepKind::AwaitGone, "the old object is being deleted"};
      return {StepKind::Delete, "the old object is still there"};
    }
    if (intent->kind == Intent::Kind::Escalate) {
      // The old object is gone. A new object of that name (another claim after the
      // escalation) does not change what is left to do: unclaim once, then clear.
      return {StepKind::Unclaim, "the old object is gone"};
    }
    if (!wl) return {StepKind::Create, "the old object is gone"};
    // A different object holds the name: our create already happened (or someone
    // else's did); either way the retry is over.
    return {StepKind::ClearIntent, "the new object exists"};
  }
  if (!wl || !wl->bridge_owned) return {StepKind::Nothing, "not a bridge Workload"};
  if (wl->terminating) return {StepKind::Nothing, "being deleted"};
  if (wl->phase == "Failed" && wl->tombstoned) return {StepKind::Nothing, "a tombstone, left alone"};
  if (wl->phase == "Failed") return {StepKind::Decide, "Failed"};
  return {StepKind::Nothing, "phase " + (wl->phase.empty() ? std::string("(new)") : wl->phase)};
}

Step next_step(const std::optional<WorkloadView>& wl, const std::optional<Intent>& intent,
               const std::optional<WorkloadView>& target) {
  if (!intent || intent->kind != Intent::Kind::Retry || intent->target_name() == intent->workload) {
    return next_step(wl, intent);
  }
  if (wl && wl->uid == intent->old_uid) return next_step(wl, intent);  // delete, or await gone
  if (!target) return {StepKind::Create, "the old object is gone; the target name is free"};
  if (target->terminating) return {StepKind::AwaitGone, "an object of the target name is being deleted"};
  return {StepKind::ClearIntent, "the new object exists under the target name"};
}

int parse_attempt(std::string_view text) noexcept {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (text.empty()) return 1;
  long long n = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec == std::errc::result_out_of_range) return text.front() == '-' ? 1 : 1'000'000;
  if (ec != std::errc() || ptr != text.data() + text.size() || n < 1) return 1;
  return static_cast<int>(std::min<long long>(n, 1'000'000));
}

namespace {

const json::object* object_at(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return (v != nullptr && v->is_object()) ? &v->get_object() : nullptr;
}

std::string string_at(const json::object* o, std::string_view key) {
  if (o == nullptr) return {};
  const auto* v = o->if_contains(key);
  return (v != nullptr && v->is_string()) ? std::string(v->get_string()) : std::string();
}

}  // namespace

WorkloadView view_of(const json::object& w) {
  WorkloadView v;
  const auto* md = object_at(w, "metadata");
  v.name = string_at(md, "name");
  v.uid = string_at(md, "uid");
  v.terminating = md != nullptr && md->if_contains("deletionTimestamp") != nullptr &&
                  !md->at("deletionTimestamp").is_null();
  const auto* labels = md ? object_at(*md, "labels") : nullptr;
  v.bridge_owned = string_at(labels, "created-by") == "dispatch-bridge";
  const auto* ann = md ? object_at(*md, "annotations") : nullptr;
  v.attempt = parse_attempt(string_at(ann, "foreman.llmkube.dev/attempt"));
  v.tombstoned = string_at(ann, "foreman.llmkube.dev/tombstone") == "true";
  v.phase = string_at(object_at(w, "status"), "phase");
  return v;
}

std::string intent_name(std::string_view workload) { return std::string(kIntentPrefix) + std::string(workload); }

json::object intent_to_configmap(const Intent& i, std::string_view ns) {
  json::object data;
  data["kind"] = i.kind == Intent::Kind::Retry ? "retry" : "escalate";
  data["workload"] = i.workload;
  data["oldUid"] = i.old_uid;
  data["nextAttempt"] = std::to_string(i.next_attempt);
  data["infraAttempts"] = std::to_string(i.infra_attempts);
  data["issueId"] = i.issue_id;
  data["repo"] = i.repo;
  data["number"] = std::to_string(i.number);
  data["title"] = i.title;
  data["lane"] = i.lane;
  data["feedback"] = i.feedback;
  data["branch"] = i.branch;
  data["reason"] = i.reason;
  if (!i.target.empty() && i.target != i.workload) data["target"] = i.target;
  return json::object{
      {"apiVersion", "v1"},
      {"kind", "ConfigMap"},
      {"metadata",
       json::object{{"name", intent_name(i.workload)},
                    {"namespace", ns},
                    {"labels", json::object{{kIntentLabel, "true"}, {"created-by", "dispatch-bridge"}}}}},
      {"data", std::move(data)},
  };
}

std::optional<Intent> intent_from_configmap(const json::object& cm, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<Intent> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  const auto* data = object_at(cm, "data");
  if (data == nullptr) return fail("no data");
  Intent i;
  const std::string kind = string_at(data, "kind");
  if (kind == "retry") i.kind = Intent::Kind::Retry;
  else if (kind == "escalate") i.kind = Intent::Kind::Escalate;
  else return fail("data.kind must be retry or escalate");
  i.workload = string_at(data, "workload");
  i.old_uid = string_at(data, "oldUid");
  if (i.workload.empty() || i.old_uid.empty()) return fail("data.workload and data.oldUid are required");
  const std::string infra = string_at(data, "infraAttempts");
  i.infra_attempts = infra.empty() ? 0 : parse_attempt(infra);
  if (infra == "0") i.infra_attempts = 0;
  const std::string next = string_at(data, "nextAttempt");
  i.next_attempt = parse_attempt(next);
  // A retry spends an attempt (>= 2); an infrastructure retry keeps it (>= 1).
  const int min_next = i.infra_attempts > 0 ? 1 : 2;
  if (i.kind == Intent::Kind::Retry &&
      (next.empty() || std::to_string(i.next_attempt) != next || i.next_attempt < min_next)) {
    return fail(min_next == 1 ? "data.nextAttempt must be an integer >= 1"
                              : "data.nextAttempt must be an integer >= 2 (or >= 1 with data.infraAttempts >= 1)");
  }
  i.issue_id = string_at(data, "issueId");
  i.repo = string_at(data, "repo");
  const std::string number = string_at(data, "number");
  std::int64_t n = 0;
  const auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), n);
  if (ec != std::errc() || ptr != number.data() + number.size() || n < 1 || i.repo.empty()) {
    return fail("data.repo and a positive data.number are required");
  }
  i.number = n;
  i.title = string_at(data, "title");
  i.lane = string_at(data, "lane");
  i.feedback = string_at(data, "feedback");
  i.branch = string_at(data, "branch");
  i.reason = string_at(data, "reason");
  i.target = string_at(data, "target");
  return i;
}

}  // namespace fdb::op
