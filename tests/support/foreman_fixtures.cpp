#include "support/foreman_fixtures.hpp"

#include "watch/packed_json.hpp"
#include "watch/packed_reads.hpp"

namespace fdb::test {

namespace json = boost::json;

void MapCache::add(json::object w) {
  const std::string name(w.at("metadata").at("name").as_string());
  workloads[name] = std::move(w);
}

std::optional<json::object> MapCache::workload(std::string_view n) const {
  auto it = workloads.find(n);
  return it == workloads.end() ? std::nullopt : std::optional(it->second);
}

std::optional<json::object> MapCache::intent(std::string_view n) const {
  auto it = intents.find(n);
  return it == intents.end() ? std::nullopt : std::optional(it->second);
}

void MapCache::for_each_workload(const std::function<void(const json::object&)>& f) const {
  for (const auto& [k, v] : workloads) f(v);
}

namespace {

void set_if(json::object& o, const char* key, const std::string& value) {
  if (!value.empty()) o[key] = value;
}

json::object ref(const std::string& name) { return json::object{{"name", name}}; }

json::object metadata(const WorkloadFields& f) {
  json::object md{{"name", f.name}, {"namespace", "llm"}};
  set_if(md, "uid", f.uid);
  set_if(md, "resourceVersion", f.resource_version);
  json::object labels;
  set_if(labels, "created-by", f.created_by);
  set_if(labels, "lane", f.lane);
  md["labels"] = std::move(labels);
  json::object ann;
  set_if(ann, "foreman.llmkube.dev/attempt", f.attempt);
  set_if(ann, "foreman.llmkube.dev/issue-id", f.issue_id);
  set_if(ann, "foreman.llmkube.dev/agent-name", f.agent_name);
  md["annotations"] = std::move(ann);
  if (f.terminating) md["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  return md;
}

json::object spec(const WorkloadFields& f) {
  json::object s;
  set_if(s, "intent", f.intent);
  s["repo"] = f.repo;
  s["issues"] = json::array{f.number};
  if (!f.coder.empty()) s["coderAgentRef"] = ref(f.coder);
  if (!f.reviewers.empty()) {
    json::array refs;
    for (const auto& r : f.reviewers) refs.push_back(ref(r));
    s["reviewerAgentRefs"] = std::move(refs);
  }
  if (!f.verifier.empty()) s["verifierAgentRef"] = ref(f.verifier);
  return s;
}

}  // namespace

json::object workload_object(const WorkloadFields& f) {
  json::object w{{"apiVersion", "foreman.llmkube.dev/v1alpha1"}, {"kind", "Workload"}, {"metadata", metadata(f)}, {"spec", spec(f)}};
  if (!f.phase.empty()) {
    json::object status{{"phase", f.phase}};
    if (!f.completed_reason.empty()) {
      status["conditions"] = json::array{json::object{{"type", "Completed"}, {"status", "False"}, {"reason", f.completed_reason}}};
    }
    w["status"] = std::move(status);
  }
  return w;
}

json::object bridge_workload(const std::string& name, const std::string& repo, std::int64_t number, const std::string& coder,
                             bool terminating, const std::string& uid) {
  WorkloadFields f;
  f.name = name;
  f.repo = repo;
  f.number = number;
  f.uid = uid;
  f.issue_id = "I_" + std::to_string(number);
  f.coder = coder;
  f.phase = "Dispatched";
  f.terminating = terminating;
  return workload_object(f);
}

WorkloadFields python_workload_fields(const std::string& name, const std::string& repo, std::int64_t number,
                                      const std::string& issue_id, const std::string& agent, const std::string& lane) {
  WorkloadFields f;
  f.name = name;
  f.repo = repo;
  f.number = number;
  f.lane = lane;
  f.attempt = "1";
  f.issue_id = issue_id;
  f.agent_name = agent;
  f.intent = "Fix it";
  f.coder = "coder";
  return f;
}

boost::json::object through_reads(const boost::json::object& object, const kube::FieldMask& reads) {
  kube::KeyTable keys;
  return kube::unpack_masked(kube::pack(object, keys), keys, reads);
}

}  // namespace fdb::test
