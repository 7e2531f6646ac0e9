// Seeding kube-sim's store with Workloads shaped as a real API server keeps them.
#include "sim/seed.hpp"

#include "sim/foreman.hpp"

#include <boost/json.hpp>

#include <fmt/format.h>

#include <iterator>
#include <stdexcept>

namespace fdb::sim {

namespace json = boost::json;

// The managedFields a real API server keeps on a bridge Workload: one entry for the
// bridge's create, one for Foreman's writes of the status subresource.
json::array managed_fields(const std::string& time) {
  auto leaf = [] { return json::object{}; };
  auto set = [&](std::initializer_list<const char*> keys) {
    json::object o{{".", leaf()}};
    for (const char* k : keys) o[std::string("f:") + k] = leaf();
    return o;
  };
  json::object spec = set({"intent", "issues", "repo", "reviewerAgentRefs"});
  spec["f:coderAgentRef"] = set({"name"});
  spec["f:verifierAgentRef"] = set({"name"});
  json::object md{{"f:annotations", set({"foreman.llmkube.dev/agent-name", "foreman.llmkube.dev/attempt",
                                          "foreman.llmkube.dev/issue-id"})},
                  {"f:labels", set({"created-by", "lane"})}};
  json::object conds = set({});
  conds["k:{\"type\":\"Completed\"}"] = set({"lastTransitionTime", "message", "reason", "status", "type"});
  json::object status = set({"failedTasks", "phase", "succeededTasks"});
  status["f:conditions"] = std::move(conds);
  return json::array{
      json::object{{"manager", "foreman-dispatch-bridge"}, {"operation", "Update"},
                   {"apiVersion", "foreman.llmkube.dev/v1alpha1"}, {"time", time}, {"fieldsType", "FieldsV1"},
                   {"fieldsV1", json::object{{"f:metadata", std::move(md)}, {"f:spec", std::move(spec)}}}},
      json::object{{"manager", "foreman-controller"}, {"operation", "Update"},
                   {"apiVersion", "foreman.llmkube.dev/v1alpha1"}, {"time", time}, {"fieldsType", "FieldsV1"},
                   {"fieldsV1", json::object{{"f:status", std::move(status)}}}, {"subresource", "status"}}};
}

std::string issue_text(std::size_t n) {
  static const char* const kParts[] = {
      "The parser rejects a trailing comma in an array literal, e.g. `[1, 2,]`. ",
      "Steps to reproduce:\n1. run `tool check examples/trailing.json`\n2. see \"unexpected ]\"\n",
      "Expected: the comma is accepted when `--lenient` is given, as the docs say. ",
      "```\nerror: unexpected token ']' at line 3, column 7\n```\n",
      "This started after the tokenizer rewrite; the old one skipped it. ",
  };
  std::string out;
  for (std::size_t i = 0; out.size() < n; ++i) out += kParts[i % std::size(kParts)];
  out.resize(n);
  while (!out.empty() && (out.back() == '\\' || static_cast<unsigned char>(out.back()) >= 0x80)) out.pop_back();
  return out;
}

void seed_workloads(Store& store, const ServerOptions& cfg) {
  const ResourceInfo& wl = workloads();
  auto now = Clock::now();
  std::string filler;
  const bool realistic = cfg.workload_shape == "realistic";
  for (int i = 0; i < cfg.seed_workloads; ++i) {
    // The name the bridge gives the issue (SPEC §3, wl-{owner}-{repo}-{number}), as a
    // cluster the bridge made holds them: only Workloads named otherwise (the Python
    // bridge's, say) go into its issue index.
    std::string name = fmt::format("wl-misospace-seed-repo-{}", i);
    const bool failed = i % 5 == 0;
    const bool running = cfg.seed_phase == "running";
    json::object o{
        {"apiVersion", "foreman.llmkube.dev/v1alpha1"},
        {"kind", "Workload"},
        {"metadata",
         json::object{{"name", name},
                      {"labels", json::object{{"created-by", "dispatch-bridge"}, {"lane", i % 3 == 0 ? "cloud" : "local"}}},
                      {"annotations", json::object{{"foreman.llmkube.dev/attempt", "1"},
                                                   {"foreman.llmkube.dev/issue-id", fmt::format("I_seed{:06d}", i)},
                                                   {"foreman.llmkube.dev/agent-name", "foreman-coder"}}}}},
        {"spec", json::object{{"intent", "Fix the parser for trailing commas" + (filler.empty() ? "" : (realistic ? "\n" : " ") + filler)},
                              {"repo", "misospace/seed-repo"},
                              {"issues", json::array{i}},
                              {"coderAgentRef", json::object{{"name", "coder"}}},
                              {"reviewerAgentRefs", json::array{json::object{{"name", "reviewer"}}}},
                              {"verifierAgentRef", json::object{{"name", "gate"}}}}},
        {"status",
         running ? json::object{{"phase", "Running"}, {"succeededTasks", 0}, {"failedTasks", 0}}
                 : json::object{{"phase", failed ? "Failed" : "Completed"},
                      {"succeededTasks", failed ? 2 : 3},
                      {"failedTasks", failed ? 1 : 0},
                      {"conditions", json::array{json::object{{"type", "Completed"},
                                                              {"status", failed ? "False" : "True"},
                                                              {"reason", failed ? "ChildrenFailed" : "AllChildrenSucceeded"},
                                                              {"message", failed ? "a task failed" : "all tasks succeeded"},
                                                              {"lastTransitionTime", format_time(now)}}}}}}};
    if (realistic) o["metadata"].as_object()["managedFields"] = managed_fields(format_time(now));
    auto r = store.create(wl, cfg.seed_namespace, std::move(o), now, true);
    if (!r) throw std::runtime_error("seeding workloads: " + r.error->message);
    if (i == 0 && static_cast<int>(r.object.json->size()) < cfg.workload_bytes) {
      // Pad the intent so that each stored object is about --workload-bytes long.
      const std::size_t n = static_cast<std::size_t>(cfg.workload_bytes) - r.object.json->size();
      filler = realistic ? issue_text(n) : std::string(n, 'x');
      auto d = store.remove(wl, cfg.seed_namespace, name, DeleteOptions{"Background", {}, {}}, now);
      if (!d) throw std::runtime_error("seeding workloads: " + d.error->message);
      --i;
    }
  }
}

}  // namespace fdb::sim
