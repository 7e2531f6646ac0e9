#include "operator/informers.hpp"

#include "operator/retry_flow.hpp"

namespace fdb::op {

namespace json = boost::json;

json::object project_workload(json::object w) {
  // Built in the event's own memory (an arena, see decode_event): the values are moved,
  // not copied, and nothing is allocated one by one.
  const json::storage_ptr sp = w.storage();
  json::object out(sp);
  out["apiVersion"] = "foreman.llmkube.dev/v1alpha1";
  out["kind"] = "Workload";
  if (auto* md = w.if_contains("metadata"); md != nullptr && md->is_object()) {
    json::object m(sp);
    for (const char* k : {"name", "namespace", "uid", "resourceVersion", "creationTimestamp", "deletionTimestamp", "labels"}) {
      if (auto* v = md->get_object().if_contains(k)) m[k] = std::move(*v);
    }
    if (auto* ann = md->get_object().if_contains("annotations"); ann != nullptr && ann->is_object()) {
      json::object keep(sp);
      for (auto& [k, v] : ann->get_object()) {
        if (k.starts_with("foreman.llmkube.dev/")) keep[k] = std::move(v);
      }
      m["annotations"] = std::move(keep);
    }
    out["metadata"] = std::move(m);
  }
  if (auto* spec = w.if_contains("spec"); spec != nullptr && spec->is_object()) {
    json::object s(sp);
    for (const char* k : {"repo", "issues", "coderAgentRef"}) {
      if (auto* v = spec->get_object().if_contains(k)) s[k] = std::move(*v);
    }
    if (auto* p = spec->get_object().if_contains("pipeline"); p != nullptr && p->is_array()) {
      json::array steps(sp);
      for (auto& step : p->get_array()) {
        if (!step.is_object()) continue;
        const auto* kind = step.get_object().if_contains("kind");
        if (kind == nullptr || !kind->is_string() || kind->get_string() != "issue-fix") continue;
        json::object st(sp);
        st["kind"] = "issue-fix";
        if (auto* a = step.get_object().if_contains("agentRef")) st["agentRef"] = std::move(*a);
        steps.push_back(std::move(st));
      }
      s["pipeline"] = std::move(steps);
    }
    out["spec"] = std::move(s);
  }
  if (auto* st = w.if_contains("status"); st != nullptr && st->is_object()) {
    json::object s(sp);
    for (const char* k : {"phase", "succeededTasks", "failedTasks", "incompleteTasks"}) {
      if (auto* v = st->get_object().if_contains(k)) s[k] = std::move(*v);
    }
    if (auto* cs = st->get_object().if_contains("conditions"); cs != nullptr && cs->is_array()) {
      json::array conds(sp);
      for (auto& c : cs->get_array()) {
        if (!c.is_object()) continue;
        json::object keep(sp);
        for (const char* k : {"type", "status", "reason"}) {
          if (auto* v = c.get_object().if_contains(k)) keep[k] = std::move(*v);
        }
        conds.push_back(std::move(keep));
      }
      s["conditions"] = std::move(conds);
    }
    out["status"] = std::move(s);
  }
  return out;
}

json::object project_task(json::object t) {
  const json::storage_ptr sp = t.storage();
  json::object out(sp);
  if (auto* md = t.if_contains("metadata"); md != nullptr && md->is_object()) {
    json::object m(sp);
    for (const char* k : {"name", "namespace", "resourceVersion", "labels"}) {
      if (auto* v = md->get_object().if_contains(k)) m[k] = std::move(*v);
    }
    out["metadata"] = std::move(m);
  }
  if (auto* spec = t.if_contains("spec"); spec != nullptr && spec->is_object()) {
    json::object s(sp);
    if (auto* k = spec->get_object().if_contains("kind")) s["kind"] = std::move(*k);
    const auto* payload = spec->get_object().if_contains("payload");
    if (payload != nullptr && payload->is_object()) {
      if (const auto* b = payload->get_object().if_contains("branch")) s["payload"] = json::object({{"branch", *b}}, sp);
    }
    out["spec"] = std::move(s);
  }
  if (auto* st = t.if_contains("status")) out["status"] = std::move(*st);
  return out;
}

std::string name_of(const json::object& o) {
  const auto* md = o.if_contains("metadata");
  if (md == nullptr || !md->is_object()) return {};
  const auto* n = md->get_object().if_contains("name");
  return (n != nullptr && n->is_string()) ? std::string(n->get_string()) : std::string();
}

std::string intent_workload(const json::object& cm) {
  const std::string name = name_of(cm);
  return name.starts_with(kIntentPrefix) ? name.substr(kIntentPrefix.size()) : std::string();
}

std::string task_workload(const json::object& task) {
  const auto* md = task.if_contains("metadata");
  const auto* labels = (md != nullptr && md->is_object()) ? md->get_object().if_contains("labels") : nullptr;
  const auto* w = (labels != nullptr && labels->is_object()) ? labels->get_object().if_contains(kTaskWorkloadLabel) : nullptr;
  return (w != nullptr && w->is_string()) ? std::string(w->get_string()) : std::string();
}

kube::WatchCacheOptions workload_informer_options(const std::string& ns) {
  kube::WatchCacheOptions o;
  o.type = kube::workloads();
  o.ns = ns;
  o.reflector.label_selector = "created-by=dispatch-bridge";
  o.transform = project_workload;
  o.indexes.emplace(kInProgressIndex, in_progress_index);
  return o;
}

kube::WatchCacheOptions intent_informer_options(const std::string& ns) {
  kube::WatchCacheOptions o;
  o.type = kube::config_maps();
  o.ns = ns;
  o.reflector.label_selector = std::string(kIntentLabel) + "=true";
  return o;
}

kube::WatchCacheOptions task_informer_options(const std::string& ns) {
  kube::WatchCacheOptions o;
  o.type = kube::agentic_tasks();
  o.ns = ns;
  o.reflector.label_selector = std::string(kTaskWorkloadLabel);
  o.transform = project_task;
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
  return load_from_index(workloads_.cache().index_counts(kInProgressIndex));
}

}  // namespace fdb::op
