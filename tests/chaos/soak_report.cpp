#include "chaos/soak_report.hpp"

#include <boost/json/array.hpp>

namespace fdb::chaos {

namespace json = boost::json;

namespace {

struct RecordCounts {
  int created = 0;  // Workload creates
  int retried = 0;  // creates of an attempt above 1
  int deleted = 0;  // Workload deletes (each a failed attempt retried or given up)
};

RecordCounts count_records(const std::vector<Record>& records) {
  RecordCounts c;
  for (const auto& r : records) {
    if (r.op == "create") {
      ++c.created;
      c.retried += r.attempt > 1;
    }
    c.deleted += r.op == "delete";
  }
  return c;
}

}  // namespace

int violations(const Verdict& v) {
  int n = 0;
  for (const auto& [name, count] : v.counts) n += count;
  return n;
}

json::object summary(const SoakOptions& o, const SoakOutcome& out) {
  const RecordCounts records = count_records(out.end.records);
  int claimed = 0;
  for (const auto& i : out.end.issues) claimed += i.ever_claimed;
  json::object inv;
  for (const auto& [name, n] : out.verdict.counts) inv[name] = n;
  json::object by_kind;
  for (const auto& [k, n] : out.faults.by_kind) by_kind[k] = n;
  json::array mem;
  for (const auto& m : out.end.memory) {
    mem.push_back(json::object{{"replica", m.replica}, {"mid_mb", m.mid_mb}, {"end_mb", m.end_mb}});
  }
  return json::object{{"tool", "chaos-soak"},
                      {"seed", o.seed},
                      {"seconds", o.seconds},
                      {"issues", o.issues},
                      {"issues_claimed", claimed},
                      {"workloads_created", records.created},
                      {"retries", records.retried},
                      {"workloads_deleted", records.deleted},
                      {"faults", out.faults.total()},
                      {"faults_by_kind", by_kind},
                      {"leader_kills", out.faults.kills},
                      {"leader_deadline_stops", out.logs.leader_deadline_stops},
                      {"watch_short_backoffs", out.logs.watch_short_backoffs},
                      {"claims_settled_by_list", out.logs.claims_settled_by_list},
                      {"settled", out.settled},
                      {"settle_seconds", out.settle_seconds},
                      {"survivor_memory", mem},
                      {"invariants", inv},
                      {"violations", violations(out.verdict)}};
}

}  // namespace fdb::chaos
