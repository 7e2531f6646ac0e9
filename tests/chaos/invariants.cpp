#include "chaos/invariants.hpp"

#include "watch/json_access.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace fdb::chaos {

namespace json = boost::json;

namespace {

const json::object* as_object(const json::value* v) { return v != nullptr && v->is_object() ? &v->get_object() : nullptr; }
constexpr auto& obj = kube::object_field;
constexpr auto& str = kube::string_field;
int attempt_of(const std::string& s) {
  try {
    return s.empty() ? 1 : std::max(1, std::stoi(s));
  } catch (const std::exception&) {
    return 1;
  }
}

}  // namespace

bool work_left(const Inputs& in) {
  if (!in.intents_left.empty()) return true;
  return std::any_of(in.live.begin(), in.live.end(), [&](const LiveWorkload& w) {
    return w.terminating || (w.phase != "Completed" && w.phase != "Failed") ||
           (w.phase == "Failed" && w.attempt < in.max_attempts);
  });
}

Verdict check(const Inputs& in) {
  Verdict v;
  for (const char* name : {"created-while-live", "attempt-over-cap", "two-live-workloads", "retry-lost", "claim-lost",
                           "claim-repeated", "unsettled", "intent-left", "memory-growth"}) {
    v.counts[name] = 0;
  }
  auto fail = [&](const std::string& invariant, std::string detail) {
    ++v.counts[invariant];
    v.violations.push_back({invariant, std::move(detail)});
  };

  for (const auto& r : in.records) {
    if (r.op != "create") continue;
    if (r.live_existed) fail("created-while-live", r.name);
    if (r.attempt > in.max_attempts) fail("attempt-over-cap", fmt::format("{} at attempt {}", r.name, r.attempt));
  }

  std::map<std::string, int> live_per_issue;
  for (const auto& w : in.live) {
    if (!w.issue.empty()) ++live_per_issue[w.issue];
    if (w.terminating) {
      fail("retry-lost", fmt::format("{} still terminating", w.name));
      continue;
    }
    if (w.phase == "Failed" && w.attempt < in.max_attempts) {
      fail("retry-lost", fmt::format("{} Failed at attempt {} of {}", w.name, w.attempt, in.max_attempts));
    } else if (w.phase != "Failed" && w.phase != "Completed") {
      fail("unsettled", fmt::format("{} in phase {}", w.name, w.phase.empty() ? "(new)" : w.phase));
    }
  }
  for (const auto& [issue, n] : live_per_issue) {
    if (n > 1) fail("two-live-workloads", fmt::format("{} has {}", issue, n));
  }

  for (const auto& i : in.issues) {
    if (i.claimed_again) fail("claim-repeated", i.key);
    if (!i.ever_claimed || i.claimed_by != in.agent || i.state != "open") continue;
    if (i.status == "in-progress" && live_per_issue.count(i.key) == 0) {
      fail("claim-lost", fmt::format("{} claimed in-progress with no Workload", i.key));
    }
  }
  for (const auto& name : in.intents_left) fail("intent-left", name);
  for (const auto& m : in.memory) {
    if (m.end_mb > m.mid_mb * 1.5 && m.end_mb - m.mid_mb > 16) {
      fail("memory-growth", fmt::format("{}: {:.0f} MB half-way, {:.0f} MB at the end", m.replica, m.mid_mb, m.end_mb));
    }
  }
  return v;
}

std::vector<Record> records_from(const json::value& records) {
  std::vector<Record> out;
  const auto* root = as_object(&records);
  const auto* wl = root ? root->if_contains("workloads") : nullptr;
  if (wl == nullptr || !wl->is_array()) return out;
  for (const auto& e : wl->get_array()) {
    const auto* o = as_object(&e);
    if (o == nullptr) continue;
    Record r;
    r.op = str(o, "op");
    r.name = str(o, "name");
    r.attempt = attempt_of(str(o, "attempt"));
    if (const auto* le = o->if_contains("liveExisted"); le != nullptr && le->is_bool()) r.live_existed = le->get_bool();
    if (!r.op.empty() && !r.name.empty()) out.push_back(std::move(r));
  }
  return out;
}

std::vector<LiveWorkload> live_from(const json::value& list) {
  std::vector<LiveWorkload> out;
  const auto* items = as_object(&list) ? as_object(&list)->if_contains("items") : nullptr;
  if (items == nullptr || !items->is_array()) return out;
  for (const auto& item : items->get_array()) {
    const auto* o = as_object(&item);
    const auto* md = obj(o, "metadata");
    if (md == nullptr) continue;
    LiveWorkload w;
    w.name = str(md, "name");
    w.attempt = attempt_of(str(obj(md, "annotations"), "foreman.llmkube.dev/attempt"));
    w.phase = str(obj(o, "status"), "phase");
    if (const auto* d = md->if_contains("deletionTimestamp"); d != nullptr && !d->is_null()) w.terminating = true;
    const auto* spec = obj(o, "spec");
    const auto* issues = spec ? spec->if_contains("issues") : nullptr;
    if (issues != nullptr && issues->is_array() && !issues->get_array().empty() && issues->get_array()[0].is_int64()) {
      w.issue = fmt::format("{}#{}", str(spec, "repo"), issues->get_array()[0].get_int64());
    }
    if (!w.name.empty()) out.push_back(std::move(w));
  }
  return out;
}

std::vector<IssueEnd> issues_from(const json::value& state) {
  std::vector<IssueEnd> out;
  const auto* issues = as_object(&state) ? as_object(&state)->if_contains("issues") : nullptr;
  if (issues == nullptr || !issues->is_array()) return out;
  for (const auto& item : issues->get_array()) {
    const auto* o = as_object(&item);
    if (o == nullptr) continue;
    IssueEnd i;
    const auto* number = o->if_contains("number");
    if (number == nullptr || !number->is_int64()) continue;
    i.key = fmt::format("{}#{}", str(o, "repoFullName"), number->get_int64());
    i.status = str(o, "status");
    i.state = str(o, "state");
    i.claimed_by = str(o, "claimedBy");
    if (const auto* h = o->if_contains("history"); h != nullptr && h->is_array()) {
      for (const auto& e : h->get_array()) {
        if (!e.is_string()) continue;
        if (e.get_string() == "claim") i.ever_claimed = true;
        if (e.get_string() == "claim-again") i.ever_claimed = i.claimed_again = true;
        if (e.get_string().starts_with("lane:")) i.relaned = true;
      }
    }
    if (const auto* l = o->if_contains("labels"); l != nullptr && l->is_array()) {
      for (const auto& e : l->get_array()) i.needs_human = i.needs_human || (e.is_string() && e.get_string() == "needs-human");
    }
    out.push_back(std::move(i));
  }
  return out;
}

}  // namespace fdb::chaos
