#include "operator/retry_flow.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
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
  if (wl->phase == "Failed" && wl->tombstoned()) return {StepKind::Nothing, "a tombstone, left alone"};
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

std::string intent_name(std::string_view workload) { return std::string(kIntentPrefix) + std::string(workload); }

std::string_view to_string(Intent::Kind k) noexcept {
  switch (k) {
    case Intent::Kind::Retry: return "retry";
    case Intent::Kind::Escalate: return "escalate";
    case Intent::Kind::Claim: return "claim";
    case Intent::Kind::PrFix: return "prfix";
  }
  return "?";
}

namespace {

// A PR-fix item in the queue's own wire format, so that dispatch::parse_prfix_item (the
// tolerant reader of queue items) reads it back.
json::object prfix_item_json(const dispatch::PrFixItem& it) {
  json::array feedback;
  for (const auto& f : it.feedback) feedback.emplace_back(f);
  json::object o{{"id", it.id},       {"repo", it.repo},     {"pr", it.pr},         {"branch", it.branch},
                 {"url", it.url},     {"title", it.title},   {"headSha", it.head_sha}, {"lane", it.lane},
                 {"type", it.type},   {"status", it.status}, {"reason", it.reason}, {"feedback", std::move(feedback)}};
  if (it.issue > 0) o["issue"] = it.issue;
  if (it.generation > 0) o["generation"] = it.generation;
  return o;
}

dispatch::ParseError bad(std::string field, std::string message) { return {std::move(field), std::move(message), -1}; }

std::optional<Intent::Kind> intent_kind_of(std::string_view text) {
  for (auto k : {Intent::Kind::Retry, Intent::Kind::Escalate, Intent::Kind::Claim, Intent::Kind::PrFix}) {
    if (text == to_string(k)) return k;
  }
  return std::nullopt;
}

// Retry: the attempt to create (>= 2; >= 1 for an infrastructure retry, which spends none).
std::optional<dispatch::ParseError> read_retry_attempts(const json::object& data, Intent& i) {
  const std::string infra = string_at(&data, "infraAttempts");
  i.infra_attempts = dispatch::parse_counter(infra);
  const std::string next = string_at(&data, "nextAttempt");
  i.next_attempt = dispatch::parse_attempt(next);
  const int min_next = i.infra_attempts > 0 ? 1 : 2;
  if (next.empty() || std::to_string(i.next_attempt) != next || i.next_attempt < min_next) {
    return bad("nextAttempt", min_next == 1 ? "must be an integer >= 1"
                                             : "must be an integer >= 2 (or >= 1 with infraAttempts >= 1)");
  }
  return std::nullopt;
}

std::optional<dispatch::ParseError> read_prfix(const json::object& data, Intent& i) {
  const std::string text = string_at(&data, "prfixItem");
  boost::system::error_code ec;
  const json::value v = json::parse(text, ec);
  if (ec) return bad("prfixItem", "not JSON: " + ec.message());
  auto item = dispatch::parse_prfix_item(v);
  if (const auto* e = std::get_if<dispatch::ParseError>(&item)) return bad("prfixItem", e->what());
  dispatch::PrFixRequest req;
  req.item = std::move(std::get<dispatch::PrFixItem>(item));
  req.lane = string_at(&data, "lane");
  if (req.lane != dispatch::kPrFixNormal && req.lane != dispatch::kPrFixEscalated) {
    return bad("lane", "must be NORMAL or ESCALATED, got \"" + req.lane + "\"");
  }
  const std::string next = string_at(&data, "nextAttempt");
  req.attempt = dispatch::parse_attempt(next);
  if (std::to_string(req.attempt) != next) return bad("nextAttempt", "must be an integer >= 1");
  i.next_attempt = req.attempt;
  i.lane = req.lane;
  i.prfix = std::move(req);
  return std::nullopt;
}

}  // namespace

json::object intent_to_configmap(const Intent& i, std::string_view ns) {
  json::object data;
  data["kind"] = to_string(i.kind);
  data["workload"] = i.workload;
  data["oldUid"] = i.old_uid;
  data["nextAttempt"] = std::to_string(i.kind == Intent::Kind::PrFix && i.prfix ? i.prfix->attempt : i.next_attempt);
  data["infraAttempts"] = std::to_string(i.infra_attempts);
  data["issueId"] = i.issue_id;
  data["repo"] = i.repo;
  data["number"] = std::to_string(i.number);
  data["title"] = i.title;
  data["lane"] = i.kind == Intent::Kind::PrFix && i.prfix ? i.prfix->lane : i.lane;
  data["feedback"] = i.feedback;
  data["branch"] = i.branch;
  data["reason"] = i.reason;
  if (!i.target.empty() && i.target != i.workload) data["target"] = i.target;
  if (i.kind == Intent::Kind::PrFix && i.prfix) data["prfixItem"] = json::serialize(prfix_item_json(i.prfix->item));
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

dispatch::Parsed<Intent> intent_from_configmap(const json::object& cm) {
  const auto* data = object_at(cm, "data");
  if (data == nullptr) return bad("data", "missing or not an object");
  Intent i;
  const auto kind = intent_kind_of(string_at(data, "kind"));
  if (!kind) return bad("kind", "must be retry, escalate, claim or prfix, got \"" + string_at(data, "kind") + "\"");
  i.kind = *kind;
  i.workload = string_at(data, "workload");
  i.old_uid = string_at(data, "oldUid");
  if (i.workload.empty()) return bad("workload", "required");
  if (i.old_uid.empty()) return bad("oldUid", "required");
  i.issue_id = string_at(data, "issueId");
  i.repo = string_at(data, "repo");
  const std::string number = string_at(data, "number");
  std::int64_t n = 0;
  const auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), n);
  if (i.repo.empty()) return bad("repo", "required");
  if (ec != std::errc() || ptr != number.data() + number.size() || n < 1) {
    return bad("number", "must be a positive integer, got \"" + number + "\"");
  }
  i.number = n;
  i.title = string_at(data, "title");
  i.lane = string_at(data, "lane");
  i.feedback = string_at(data, "feedback");
  i.branch = string_at(data, "branch");
  i.reason = string_at(data, "reason");
  i.target = string_at(data, "target");
  std::optional<dispatch::ParseError> error;
  switch (i.kind) {
    case Intent::Kind::Retry: error = read_retry_attempts(*data, i); break;
    case Intent::Kind::Escalate: i.infra_attempts = dispatch::parse_counter(string_at(data, "infraAttempts")); break;
    case Intent::Kind::Claim: i.next_attempt = 1; break;
    case Intent::Kind::PrFix: error = read_prfix(*data, i); break;
  }
  if (error) return *error;
  return i;
}

}  // namespace fdb::op
