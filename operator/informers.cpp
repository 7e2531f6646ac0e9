#include "operator/informers.hpp"

#include "dispatch/prfix.hpp"
#include "dispatch/workload.hpp"
#include "operator/adoption.hpp"
#include "operator/retry_flow.hpp"
#include "watch/json_access.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace fdb::op {

namespace json = boost::json;

namespace {

// The object at `key`, or null; a value there that is not an object is erased.
json::object* object_at(json::object& o, std::string_view key) {
  const auto it = o.find(key);
  if (it == o.end()) return nullptr;
  if (!it->value().is_object()) {
    o.erase(it);
    return nullptr;
  }
  return &it->value().get_object();
}

}  // namespace

json::object project_task(json::object t) {
  object_at(t, "metadata");
  if (auto* spec = object_at(t, "spec")) {
    const auto* payload = spec->if_contains("payload");
    if (payload != nullptr && (!payload->is_object() || !payload->get_object().contains("branch"))) spec->erase("payload");
  }
  return t;
}

kube::FieldMask workload_fields() {
  kube::FieldMask m;
  // A cached Workload is one, whatever the server sent: apiVersion and kind are its own.
  m.constant("apiVersion", "foreman.llmkube.dev/v1alpha1");
  m.constant("kind", "Workload");
  m.require_object({"metadata"});
  for (const char* k : {"name", "namespace", "uid", "resourceVersion", "creationTimestamp", "deletionTimestamp", "labels"}) {
    m.keep({"metadata", k});
  }
  m.require_object({"metadata", "annotations"});
  m.keep_prefix({"metadata", "annotations"}, "foreman.llmkube.dev/");
  m.require_object({"spec"});
  for (const char* k : {"repo", "issues", "coderAgentRef"}) m.keep({"spec", k});
  m.where({"spec", "pipeline"}, "kind", "issue-fix");  // the coder steps only
  m.keep({"spec", "pipeline", "agentRef"});
  m.require_object({"status"});
  for (const char* k : {"phase", "succeededTasks", "failedTasks", "incompleteTasks"}) m.keep({"status", k});
  m.array_of_objects({"status", "conditions"});
  for (const char* k : {"type", "status", "reason"}) m.keep({"status", "conditions", k});
  return m;
}

kube::FieldMask task_fields() {
  kube::FieldMask m;
  for (const char* k : {"name", "namespace", "resourceVersion", "labels"}) m.keep({"metadata", k});
  m.keep({"spec", "kind"});
  m.keep({"spec", "payload", "branch"});
  m.keep({"status"});
  return m;
}

std::string name_of(const json::object& o) { return kube::string_field(kube::object_field(&o, "metadata"), "name"); }

std::string intent_workload(const json::object& cm) {
  const std::string name = name_of(cm);
  return name.starts_with(kIntentPrefix) ? name.substr(kIntentPrefix.size()) : std::string();
}

std::string task_workload(const json::object& task) {
  return kube::string_field(kube::object_field(kube::object_field(&task, "metadata"), "labels"), kTaskWorkloadLabel);
}

kube::WatchCacheOptions workload_informer_options(const std::string& ns) {
  kube::WatchCacheOptions o;
  o.type = kube::workloads();
  o.ns = ns;
  o.reflector.streaming_list = true;  // sendInitialEvents where the server has it; pages where not
  // PR-fix Workloads are cached too (their replacement goes through an intent); the retry
  // flow, the sweeps and the in-progress and issue indexes leave them out.
  o.reflector.label_selector = fmt::format("{} in ({},{})", dispatch::kCreatedByLabel, dispatch::kCreatedByValue,
                                           dispatch::kPrFixCreatedByValue);
  o.fields = workload_fields();  // the whole projection: no transform
  o.indexes.emplace(kInProgressIndex, kube::IndexSpec{in_progress_index, in_progress_reads()});
  o.indexes.emplace(kIssueIndex, kube::IndexSpec{issue_index_keys, issue_index_reads()});
  return o;
}

kube::WatchCacheOptions intent_informer_options(const std::string& ns) {
  kube::WatchCacheOptions o;
  o.type = kube::config_maps();
  o.ns = ns;
  o.reflector.streaming_list = true;  // sendInitialEvents where the server has it; pages where not
  o.reflector.label_selector = std::string(kIntentLabel) + "=true";
  return o;
}

kube::WatchCacheOptions task_informer_options(const std::string& ns) {
  kube::WatchCacheOptions o;
  o.type = kube::agentic_tasks();
  o.ns = ns;
  o.reflector.streaming_list = true;  // sendInitialEvents where the server has it; pages where not
  o.reflector.label_selector = std::string(kTaskWorkloadLabel);
  o.transform = project_task;
  o.fields = task_fields();
  o.indexes.emplace(kTaskWorkloadLabel, kube::label_index(std::string(kTaskWorkloadLabel)));
  return o;
}

InformerCaches::InformerCaches(const kube::WatchCache& workloads, const kube::WatchCache& intents,
                               const kube::WatchCache* tasks, std::string ns)
    : workloads_(workloads), intents_(intents), tasks_(tasks), ns_(std::move(ns)) {}

std::optional<json::array> InformerCaches::tasks(std::string_view workload) const {
  if (tasks_ == nullptr || !tasks_->synced()) return std::nullopt;
  json::array out;
  for (const auto& key : tasks_->cache().index_keys(kTaskWorkloadLabel, workload)) {
    if (auto t = tasks_->cache().get(key)) out.push_back(std::move(*t));
  }
  return out;
}

std::vector<std::string> InformerCaches::workloads_for_issue(std::string_view issue_id, std::string_view repo,
                                                            std::int64_t number) const {
  std::vector<std::string> out;
  auto add = [&](const std::string& key) {
    for (const auto& k : workloads_.cache().index_keys(kIssueIndex, key)) {
      std::string name = k.substr(k.find('/') + 1);  // "ns/name"
      if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(std::move(name));
    }
  };
  if (!issue_id.empty()) add(issue_id_key(issue_id));
  if (!repo.empty() && number > 0) add(issue_repo_key(repo, number));
  return out;
}

std::optional<json::object> InformerCaches::workload(std::string_view name) const {
  return workloads_.cache().get(ns_ + "/" + std::string(name));
}

std::optional<json::object> InformerCaches::intent(std::string_view workload) const {
  return intents_.cache().get(ns_ + "/" + intent_name(workload));
}

void InformerCaches::for_each_workload(const std::function<void(const json::object&)>& f) const {
  workloads_.cache().for_each([&](const std::string&, const json::object& o) { f(o); });
}

bool InformerCaches::synced() const {
  return workloads_.synced() && intents_.synced() && (tasks_ == nullptr || tasks_->synced());
}

CacheView::Load InformerCaches::load() const {
  Load load = load_from_index(workloads_.cache().index_counts(kInProgressIndex));
  if (tasks_ == nullptr || !tasks_->synced()) return load;  // fail closed: every one busy
  // #180: a coder whose issue-fix tasks are all done is free, though its Workload runs on
  // (a review). Only the in-progress Workloads are looked at, through the two indexes.
  for (auto& [coder, n] : load.by_coder) {
    for (const auto& key : workloads_.cache().index_keys(kInProgressIndex, coder)) {
      if (auto t = tasks(key.substr(key.find('/') + 1)); t && !coder_still_busy(*t) && n > 0) --n;
    }
  }
  return load;
}

}  // namespace fdb::op
