#include "operator/adoption.hpp"

#include "dispatch/workload.hpp"
#include "watch/json_access.hpp"

#include <charconv>

namespace fdb::op {

namespace json = boost::json;

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return out;
}

bool same_repo(std::string_view a, std::string_view b) { return lower(a) == lower(b); }

// A name the API server accepts for a Workload (a DNS-1123 subdomain): the Python bridge's
// names with `_` or upper case never existed (their create failed).
bool is_dns_subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (alnum(c)) continue;
    if (c != '-' && c != '.') return false;
    if (i == 0 || i + 1 == s.size()) return false;
    if (c == '.' && (!alnum(s[i - 1]) || !alnum(s[i + 1]))) return false;
  }
  return true;
}

}  // namespace

std::string issue_id_key(std::string_view issue_id) { return "id:" + std::string(issue_id); }

std::string issue_repo_key(std::string_view repo, std::int64_t number) {
  return "repo:" + lower(repo) + "#" + std::to_string(number);
}

std::vector<std::string> issue_index_keys(const json::object& workload) {
  // Called for every object the informer stores: only the three fields it needs.
  const auto* md = kube::object_field(&workload, "metadata");
  const auto* spec = kube::object_field(&workload, "spec");
  std::vector<std::string> keys;
  // The cache holds PR-fix Workloads too: they are not an issue's Workload.
  if (kube::string_field(kube::object_field(md, "labels"), dispatch::kCreatedByLabel) != dispatch::kCreatedByValue) return keys;
  if (auto id = kube::string_field(kube::object_field(md, "annotations"), dispatch::kIssueIdAnnotation); !id.empty()) {
    keys.push_back(issue_id_key(id));
  }
  const std::string repo = kube::string_field(spec, "repo");
  if (repo.empty()) return keys;
  std::int64_t n = 0;
  const auto* issues = spec->if_contains("issues");
  if (issues != nullptr && issues->is_array() && !issues->get_array().empty()) {
    const auto& first = issues->get_array().front();
    if (first.is_int64()) n = first.get_int64();
    if (first.is_uint64()) n = static_cast<std::int64_t>(first.get_uint64());
  } else {
    // An early Python retry lost spec.issues; its name still ends with the number.
    const std::string name = kube::string_field(md, "name");
    const auto dash = name.rfind('-');
    const std::string_view tail = dash == std::string::npos ? std::string_view() : std::string_view(name).substr(dash + 1);
    const auto [p, ec] = std::from_chars(tail.data(), tail.data() + tail.size(), n);
    if (ec != std::errc() || p != tail.data() + tail.size()) n = 0;
  }
  if (n <= 0) return keys;
  // A Workload under this program's name for its issue is found by that name: only the
  // others (the Python's names, say) need the index, which costs memory per object.
  if (kube::string_field(md, "name") == dispatch::workload_name(repo, n)) return {};
  keys.push_back(issue_repo_key(repo, n));
  return keys;
}

kube::FieldMask issue_index_reads() {
  kube::FieldMask m;
  m.keep({"metadata", "name"});
  m.keep({"metadata", "labels", dispatch::kCreatedByLabel});
  m.keep({"metadata", "annotations", dispatch::kIssueIdAnnotation});
  m.keep({"spec", "repo"});
  m.keep({"spec", "issues"});
  return m;
}

std::vector<std::string> names_for_issue(std::string_view repo, std::int64_t number) {
  std::vector<std::string> names{dispatch::workload_name(repo, number)};
  if (auto python = dispatch::python_workload_name(repo, number); python != names.front() && is_dns_subdomain(python)) {
    names.push_back(std::move(python));
  }
  return names;
}

std::string retry_name(std::string_view workload_name, std::string_view repo, std::int64_t number) {
  if (dispatch::is_label_value(workload_name) && is_dns_subdomain(workload_name)) return std::string(workload_name);
  return dispatch::workload_name(repo, number);
}

DispatchView view_from_claimed(const dispatch::ClaimedAnswer& claimed, std::string_view issue_id, std::string_view repo,
                               std::int64_t number) {
  const dispatch::ClaimedIssue* found = nullptr;
  for (const auto& c : claimed.items) {
    const bool by_id = !issue_id.empty() && c.issue_id == issue_id;
    const bool by_repo = issue_id.empty() && c.number == number && same_repo(c.repo_full_name, repo);
    if (by_id || by_repo) {
      found = &c;
      break;
    }
  }
  if (found == nullptr) return {};
  return DispatchView{found->lane, found->issue_id, "claimed"};
}

DispatchView view_from_queues(const std::vector<std::pair<std::string, dispatch::QueueAnswer>>& lanes,
                              std::string_view repo, std::int64_t number) {
  for (const auto& [lane, answer] : lanes) {
    for (const auto& item : answer.items) {
      if (item.type != "issue" || item.number != number || !same_repo(item.repo_full_name, repo)) continue;
      // The lane of the queue it was found in, as the Python's lane_index had it.
      return DispatchView{dispatch::normalize_lane(lane), item.issue_id, "queue"};
    }
  }
  return {};
}

json::object with_dispatch_view(json::object workload, const DispatchView& view) {
  auto& md = workload["metadata"];
  if (!md.is_object()) md = json::object();
  if (!view.lane.empty()) {
    auto& labels = md.get_object()["labels"];
    if (!labels.is_object()) labels = json::object();
    labels.get_object()[dispatch::kLaneLabel] = dispatch::normalize_lane(view.lane);
  }
  if (!view.issue_id.empty()) {
    auto& ann = md.get_object()["annotations"];
    if (!ann.is_object()) ann = json::object();
    auto& id = ann.get_object()[dispatch::kIssueIdAnnotation];
    if (!id.is_string() || id.get_string().empty()) id = view.issue_id;
  }
  return workload;
}

}  // namespace fdb::op
