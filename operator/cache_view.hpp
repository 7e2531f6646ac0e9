// What the bridge reads from its watch caches. It lives on the operator's single
// io_context thread: no locking.
#pragma once

#include "dispatch/workload.hpp"
#include "operator/foreman_model.hpp"
#include "watch/field_mask.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fdb::op {

// Read-only view of the caches (backed by informers in the program, by maps in tests).
class CacheView {
 public:
  virtual ~CacheView() = default;
  // The cached Workload of that name in FOREMAN_NAMESPACE (the stored projection).
  virtual std::optional<boost::json::object> workload(std::string_view name) const = 0;
  // The intent ConfigMap recorded for that Workload name, if any.
  virtual std::optional<boost::json::object> intent(std::string_view workload) const = 0;
  // Every cached bridge Workload.
  virtual void for_each_workload(const std::function<void(const boost::json::object&)>& f) const = 0;
  // True once every informer has listed.
  virtual bool synced() const = 0;

  // The in-progress bridge Workloads (in_progress() below): how many (MAX_IN_PROGRESS),
  // and how many hold each coder Agent (the slots of CODER_AGENT_SLOTS): an in-progress
  // Workload whose tasks show its coder done (coder_still_busy() false, from tasks()) no
  // longer holds a slot. This default scans for_each_workload; the program's caches answer
  // from an index kept by the informer.
  struct Load {
    int in_progress = 0;
    dispatch::LoadMap by_coder;
  };
  virtual Load load() const;

  // The AgenticTasks of a Workload as the task informer holds them (label
  // foreman.llmkube.dev/workload=NAME), or nullopt when there is no task informer or it
  // is not synced. Whether they are complete enough to decide on is tasks_complete()'s call.
  virtual std::optional<boost::json::array> tasks(std::string_view /*workload*/) const { return std::nullopt; }

  // The names of the cached bridge Workloads of an issue, whatever they are called: filed
  // under its id (the issue-id annotation) or under its repo and number (operator/
  // adoption.hpp). This default scans for_each_workload; the program's caches answer from
  // an index kept by the informer.
  virtual std::vector<std::string> workloads_for_issue(std::string_view issue_id, std::string_view repo,
                                                       std::int64_t number) const;
};

// An issue "has a Workload" for the claim loop and the stranded sweep: a cached Workload of
// it (any name) that is not being deleted, or an intent (a retry or escalation in flight)
// under any of its names — the cached Workloads' and names_for_issue(). `names` receives
// every name looked at (for the API server's last word).
bool issue_has_workload(const CacheView& cache, std::string_view issue_id, std::string_view repo, std::int64_t number,
                        std::vector<std::string>* names = nullptr);

// coder_of(): operator/foreman_model.hpp.
// In progress: a bridge Workload that is neither Completed nor Failed nor being deleted.
bool in_progress(const boost::json::object& workload);
// The index behind CacheView::load(): an in-progress Workload is filed under its coder
// (the empty string when it has none); any other is not filed.
// Cached tasks can stand in for a fresh LIST when they cannot be behind: every one is in a
// terminal phase (Succeeded, Failed: a finished task is never written again), and there
// are exactly as many as the Workload's status counts (succeededTasks + failedTasks +
// incompleteTasks, read from the cached projection). Anything else — counts absent, a task
// still running in the cache, one missing — means the task watch may lag: ask the server.
bool tasks_complete(const boost::json::object& workload, const boost::json::array& tasks);
// Whether the status counts its tasks at all (valid succeededTasks/failedTasks/
// incompleteTasks): only then can the task cache ever be shown complete, and is waiting
// for it worth anything.
bool tasks_countable(const boost::json::object& workload);

// The Python bridge's #180, fail closed: a Workload keeps its coder busy unless it has at
// least one issue-fix task and every one of them is in a terminal phase (Succeeded,
// Failed, Cancelled, Timeout, Completed) — a review still running does not hold the coder.
// A task that is not an object or has no spec object, an issue-fix task with no status
// object: busy.
bool coder_still_busy(const boost::json::array& tasks);

inline constexpr std::string_view kInProgressIndex = "in-progress";
std::vector<std::string> in_progress_index(const boost::json::object& workload);
// The fields in_progress_index reads (in_progress, is_terminating, coder_of): the
// informer calls it only when one of them changed, on them alone.
kube::FieldMask in_progress_reads();
CacheView::Load load_from_index(const std::map<std::string, std::size_t, std::less<>>& counts);


}  // namespace fdb::op
