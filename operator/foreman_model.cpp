#include "operator/foreman_model.hpp"

#include "dispatch/prfix.hpp"
#include "dispatch/workload.hpp"
#include "operator/sweeps.hpp"
#include "watch/json_access.hpp"

#include <boost/json/value.hpp>

#include <charconv>

namespace fdb::op {

namespace json = boost::json;

namespace {

constexpr auto& obj = kube::object_field;
constexpr auto& str = kube::string_field;

std::int64_t first_issue(const json::object* spec) {
  if (spec == nullptr) return 0;
  const auto* issues = spec->if_contains("issues");
  if (issues == nullptr || !issues->is_array() || issues->get_array().empty()) return 0;
  const auto& first = issues->get_array().front();
  if (first.is_int64() && first.get_int64() > 0) return first.get_int64();
  if (first.is_uint64()) return static_cast<std::int64_t>(first.get_uint64());
  return 0;
}

StatusCounts counts_of(const json::object* status) {
  StatusCounts c;
  if (status == nullptr) return c;
  bool any = false;
  std::int64_t* fields[] = {&c.succeeded, &c.failed, &c.incomplete};
  const char* keys[] = {"succeededTasks", "failedTasks", "incompleteTasks"};
  for (int k = 0; k < 3; ++k) {
    const auto* v = status->if_contains(keys[k]);
    if (v == nullptr) continue;
    if (!v->is_int64() || v->get_int64() < 0) return StatusCounts{};
    *fields[k] = v->get_int64();
    any = true;
  }
  c.valid = any;
  return c;
}

}  // namespace

bool is_terminating(const json::object& o) noexcept {
  const auto* md = obj(&o, "metadata");
  if (md == nullptr) return false;
  const auto* ts = md->if_contains("deletionTimestamp");
  return ts != nullptr && !ts->is_null();
}

std::int64_t number_from_name(std::string_view name) noexcept {
  const auto dash = name.rfind('-');
  if (dash == std::string_view::npos) return 0;
  const auto tail = name.substr(dash + 1);
  std::int64_t n = 0;
  const auto [p, ec] = std::from_chars(tail.data(), tail.data() + tail.size(), n);
  return (ec == std::errc() && p == tail.data() + tail.size() && n > 0) ? n : 0;
}

std::string coder_of(const json::object& w) {
  const auto* spec = obj(&w, "spec");
  if (auto name = str(obj(spec, "coderAgentRef"), "name"); !name.empty()) return name;
  if (spec == nullptr) return {};
  const auto* steps = spec->if_contains("pipeline");
  if (steps == nullptr || !steps->is_array()) return {};
  for (const auto& step : steps->get_array()) {
    if (!step.is_object()) continue;
    if (str(&step.get_object(), "kind") == "issue-fix") return str(obj(&step.get_object(), "agentRef"), "name");
  }
  return {};
}

WorkloadView read_view(const json::object& w) {
  WorkloadView v;
  const auto* md = obj(&w, "metadata");
  const auto* spec = obj(&w, "spec");
  const auto* status = obj(&w, "status");
  const auto* labels = obj(md, "labels");
  const auto* ann = obj(md, "annotations");
  v.name = str(md, "name");
  v.ns = str(md, "namespace");
  v.uid = str(md, "uid");
  v.phase = str(status, "phase");
  v.attempt = dispatch::parse_attempt(str(ann, dispatch::kAttemptAnnotation));
  v.infra_attempts = dispatch::parse_counter(str(ann, dispatch::kInfraAttemptsAnnotation));
  v.issue_id = str(ann, dispatch::kIssueIdAnnotation);
  v.repo = str(spec, "repo");
  v.number = first_issue(spec);
  if (v.number == 0) v.number = number_from_name(v.name);
  v.title = str(spec, "intent");
  v.lane = dispatch::normalize_lane(str(labels, dispatch::kLaneLabel));
  v.coder = coder_of(w);
  v.counts = counts_of(status);
  v.terminating = is_terminating(w);
  const std::string created_by = str(labels, dispatch::kCreatedByLabel);
  v.bridge_owned = created_by == dispatch::kCreatedByValue;
  v.prfix_owned = created_by == dispatch::kPrFixCreatedByValue;
  v.tombstone = str(ann, kTombstoneKey);
  v.reported = str(ann, kReportedAnnotation);
  v.parked = str(ann, kParkedAnnotation);
  if (v.terminal()) {
    v.terminal_since = str(ann, terminal_since_key(v.phase));
    if (v.terminal_since.empty()) v.terminal_since = str(ann, kTerminalSinceLegacy);
  }
  v.prfix.repo = str(ann, dispatch::kPrFixRepoAnnotation);
  v.prfix.pr = str(ann, dispatch::kPrFixNumberAnnotation);
  v.prfix.lane = str(ann, dispatch::kPrFixLaneAnnotation);
  v.prfix.signature = str(ann, dispatch::kPrFixSignatureAnnotation);
  v.prfix.head_sha = str(ann, dispatch::kPrFixHeadAnnotation);
  return v;
}

}  // namespace fdb::op
