#include "operator/cache_view.hpp"

#include "operator/adoption.hpp"
#include "watch/json_access.hpp"


#include <algorithm>
#include <set>

namespace fdb::op {


namespace {
constexpr auto& obj = kube::object_field;
constexpr auto& str = kube::string_field;
}  // namespace

bool in_progress(const boost::json::object& w) {
  const auto* md = obj(&w, "metadata");
  if (str(obj(md, "labels"), "created-by") != "dispatch-bridge") return false;
  if (is_terminating(w)) return false;
  const std::string phase = str(obj(&w, "status"), "phase");
  return phase != "Completed" && phase != "Failed";
}

bool tasks_countable(const boost::json::object& w) {
  const auto* status = obj(&w, "status");
  if (status == nullptr) return false;
  bool any = false;
  for (const char* k : {"succeededTasks", "failedTasks", "incompleteTasks"}) {
    const auto* v = status->if_contains(k);
    if (v == nullptr) continue;
    if (!v->is_int64() || v->get_int64() < 0) return false;
    any = true;
  }
  return any;
}

bool tasks_complete(const boost::json::object& w, const boost::json::array& tasks) {
  const auto* status = obj(&w, "status");
  if (status == nullptr) return false;
  bool any = false;
  std::int64_t expected = 0;
  for (const char* k : {"succeededTasks", "failedTasks", "incompleteTasks"}) {
    const auto* v = status->if_contains(k);
    if (v == nullptr) continue;
    if (!v->is_int64() || v->get_int64() < 0) return false;
    any = true;
    expected += v->get_int64();
  }
  if (!any || expected != static_cast<std::int64_t>(tasks.size())) return false;
  for (const auto& t : tasks) {
    if (!t.is_object()) return false;
    const std::string phase = str(obj(&t.get_object(), "status"), "phase");
    if (phase != "Succeeded" && phase != "Failed") return false;
  }
  return true;
}

std::vector<std::string> in_progress_index(const boost::json::object& w) {
  if (!in_progress(w)) return {};
  return {coder_of(w)};
}

kube::FieldMask in_progress_reads() {
  kube::FieldMask m;
  m.keep({"metadata", "labels", "created-by"});  // in_progress
  m.keep({"metadata", "deletionTimestamp"});     // is_terminating
  m.keep({"status", "phase"});
  m.keep({"spec", "coderAgentRef", "name"});  // coder_of
  m.keep({"spec", "pipeline", "kind"});
  m.keep({"spec", "pipeline", "agentRef", "name"});
  return m;
}

CacheView::Load load_from_index(const std::map<std::string, std::size_t, std::less<>>& counts) {
  CacheView::Load load;
  for (const auto& [coder, n] : counts) {
    load.in_progress += static_cast<int>(n);
    if (!coder.empty()) load.by_coder[coder] = static_cast<int>(n);
  }
  return load;
}

bool coder_still_busy(const boost::json::array& tasks) {
  bool any = false;
  for (const auto& t : tasks) {
    if (!t.is_object()) return true;
    const auto* spec = t.get_object().if_contains("spec");
    if (spec == nullptr || !spec->is_object()) return true;
    if (str(&spec->get_object(), "kind") != "issue-fix") continue;
    const auto* status = t.get_object().if_contains("status");
    if (status == nullptr || !status->is_object()) return true;
    const std::string phase = str(&status->get_object(), "phase");
    if (phase != "Succeeded" && phase != "Failed" && phase != "Cancelled" && phase != "Timeout" && phase != "Completed") {
      return true;
    }
    any = true;
  }
  return !any;
}

CacheView::Load CacheView::load() const {
  std::map<std::string, std::size_t, std::less<>> counts;
  std::vector<std::pair<std::string, std::string>> held;  // coder, Workload
  for_each_workload([&](const boost::json::object& w) {
    for (auto& coder : in_progress_index(w)) {
      ++counts[coder];
      if (!coder.empty()) held.emplace_back(coder, str(obj(&w, "metadata"), "name"));
    }
  });
  Load load = load_from_index(counts);
  for (const auto& [coder, name] : held) {
    if (auto t = tasks(name); t && !coder_still_busy(*t) && load.by_coder[coder] > 0) --load.by_coder[coder];
  }
  return load;
}

std::vector<std::string> CacheView::workloads_for_issue(std::string_view issue_id, std::string_view repo,
                                                       std::int64_t number) const {
  std::set<std::string> wanted;
  if (!issue_id.empty()) wanted.insert(issue_id_key(issue_id));
  if (!repo.empty() && number > 0) wanted.insert(issue_repo_key(repo, number));
  std::vector<std::string> out;
  for_each_workload([&](const boost::json::object& w) {
    for (const auto& k : issue_index_keys(w)) {
      if (wanted.count(k) == 0) continue;
      out.push_back(str(obj(&w, "metadata"), "name"));
      break;
    }
  });
  return out;
}

bool issue_has_workload(const CacheView& cache, std::string_view issue_id, std::string_view repo, std::int64_t number,
                        std::vector<std::string>* names) {
  std::vector<std::string> all = names_for_issue(repo, number);
  for (auto& n : cache.workloads_for_issue(issue_id, repo, number)) {
    if (std::find(all.begin(), all.end(), n) == all.end()) all.push_back(std::move(n));
  }
  bool has = false;
  for (const auto& n : all) {
    if (cache.intent(n)) has = true;
    if (auto w = cache.workload(n); w && !is_terminating(*w)) has = true;
  }
  if (names != nullptr) *names = std::move(all);
  return has;
}

}  // namespace fdb::op
