#include "dispatch/workload.hpp"

#include <boost/json/array.hpp>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <limits>

namespace fdb::dispatch {

namespace json = boost::json;

namespace {

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = lower(c);
  return out;
}

const AgentChoices* find(const AgentMap& m, std::string_view key) {
  const auto it = m.find(key);
  return it == m.end() || it->second.empty() ? nullptr : &it->second;
}

}  // namespace

std::uint64_t fnv1a64(std::string_view data) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const unsigned char c : data) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string dns_label_name(std::string_view prefix, std::string_view repo_full_name, std::int64_t number) {
  // What the Python bridge named it: the prefix, the repo lower-cased with / as -, the number.
  std::string plain(prefix);
  for (const char c : lower(repo_full_name)) plain.push_back(c == '/' ? '-' : c);
  plain += "-" + std::to_string(number);
  std::string name;
  name.reserve(plain.size());
  for (const char c : plain) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    const char out = ok ? c : '-';
    if (out == '-' && !name.empty() && name.back() == '-') continue;  // runs collapse
    name.push_back(out);
  }
  while (!name.empty() && name.back() == '-') name.pop_back();
  // Unchanged and short enough: the plain name. Otherwise the mapping may have merged two
  // repos (foo.bar, foo_bar and foo-bar of one owner), or the cut two names: the hash of
  // the full repo and number tells them apart.
  if (name == plain && name.size() <= kMaxNameLength) return name;

  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx",
                static_cast<unsigned long long>(fnv1a64(lower(repo_full_name) + "#" + std::to_string(number))));
  std::string cut = name.substr(0, std::min(name.size(), kMaxNameLength - 9));  // room for "-" and 8 hex digits
  while (!cut.empty() && cut.back() == '-') cut.pop_back();
  return cut + "-" + std::string(hex, 8);
}

std::string workload_name(std::string_view repo_full_name, std::int64_t number) {
  return dns_label_name("wl-", repo_full_name, number);
}

std::string python_workload_name(std::string_view repo_full_name, std::int64_t number) {
  std::string name = "wl-";
  for (const char c : lower(repo_full_name)) name.push_back(c == '/' ? '-' : c);
  return name + "-" + std::to_string(number);
}

bool is_label_value(std::string_view v) noexcept {
  if (v.empty()) return true;
  if (v.size() > kMaxNameLength) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
  if (!alnum(v.front()) || !alnum(v.back())) return false;
  for (const char c : v)
    if (!alnum(c) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

std::string branch_name(std::string_view repo_full_name, std::int64_t number) {
  return branch_of_workload(workload_name(repo_full_name, number), number);
}

std::string branch_of_workload(std::string_view workload, std::int64_t number) {
  return "foreman/" + std::string(workload) + "/issue-" + std::to_string(number);
}

int parse_attempt(std::string_view text) noexcept {
  text = trim(text);
  if (text.empty()) return 1;
  if (text.front() == '+') text.remove_prefix(1);
  long long n = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec == std::errc::result_out_of_range) {
    // Only all-digit text can be out of range; a huge negative is still garbage → 1.
    return (!text.empty() && text.front() == '-') ? 1 : kMaxAttemptValue;
  }
  if (ec != std::errc() || ptr != text.data() + text.size() || n < 1) return 1;
  return static_cast<int>(std::min<long long>(n, kMaxAttemptValue));
}

int parse_counter(std::string_view text) noexcept {
  text = trim(text);
  long long n = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec == std::errc::result_out_of_range && !text.empty() && text.front() != '-') return kMaxAttemptValue;
  if (ec != std::errc() || ptr != text.data() + text.size() || n < 0) return 0;
  return static_cast<int>(std::min<long long>(n, kMaxAttemptValue));
}

std::string normalize_lane(std::string_view lane) {
  lane = trim(lane);
  const std::string l = lower(lane);
  if (l == "normal") return "local";
  if (l == "escalated") return "frontier";
  return std::string(lane);
}

const json::object* gate_profile_for(const WorkloadSettings& s, std::string_view repo) {
  for (const std::string_view key : {repo, kWildcard}) {
    const auto* v = s.gate_profiles.if_contains(key);
    if (v != nullptr && v->is_object()) return &v->get_object();
  }
  return nullptr;
}

int slots_for(const SlotMap& slots, std::string_view agent) {
  auto it = slots.find(agent);
  if (it == slots.end()) it = slots.find(kWildcard);
  if (it == slots.end() || it->second < 1) return 1;
  return it->second;
}

int free_slots(const SlotMap& slots, const LoadMap& load, std::string_view agent) {
  const auto it = load.find(agent);
  return slots_for(slots, agent) - (it == load.end() ? 0 : it->second);
}

std::string pick_agent(const AgentChoices& choices, std::int64_t number, const LoadMap& load,
                       const WorkloadSettings& s) {
  std::vector<const std::string*> kept;
  for (const auto& a : choices) {
    if (s.fix_first_agents.count(a) != 0) {
      const auto it = load.find(a);
      if (it != load.end() && it->second > 0) continue;  // still busy with fix work
      if (!s.coder_agent_slots.empty() && free_slots(s.coder_agent_slots, load, a) <= 0) continue;
    }
    kept.push_back(&a);
  }
  if (kept.empty()) return {};
  if (!s.coder_agent_slots.empty()) {
    int best = std::numeric_limits<int>::min();
    for (const auto* a : kept) best = std::max(best, free_slots(s.coder_agent_slots, load, *a));
    std::erase_if(kept, [&](const std::string* a) { return free_slots(s.coder_agent_slots, load, *a) != best; });
  }
  const auto n = static_cast<std::int64_t>(kept.size());
  const auto index = ((number % n) + n) % n;
  return *kept[static_cast<std::size_t>(index)];
}

std::string choose_coder(const WorkloadSettings& s, std::string_view lane, std::string_view repo,
                         std::int64_t number, const LoadMap& load) {
  const std::string lane_key = normalize_lane(lane);
  auto try_pick = [&](const AgentChoices* c) -> std::string { return c ? pick_agent(*c, number, load, s) : std::string(); };

  if (auto a = try_pick(find(s.lane_coder_agents, lane_key)); !a.empty()) return a;
  if (auto a = try_pick(find(s.repo_coder_agents, repo)); !a.empty()) return a;
  if (!s.base_coder_agents.empty()) {
    std::string language;
    if (const auto* gp = gate_profile_for(s, repo)) {
      if (const auto* l = gp->if_contains("language"); l != nullptr && l->is_string()) language = l->get_string();
    }
    const AgentChoices* c = language.empty() ? nullptr : find(s.base_coder_agents, language);
    if (c == nullptr) c = find(s.base_coder_agents, kWildcard);
    if (auto a = try_pick(c); !a.empty()) return a;
  }
  if (auto a = try_pick(find(s.lane_coder_agents, kWildcard)); !a.empty()) return a;
  return std::string(kDefaultCoder);
}

bool lane_coders_saturated(const WorkloadSettings& s, std::string_view lane, const LoadMap& load) {
  if (s.coder_agent_slots.empty()) return false;
  const AgentChoices* c = find(s.lane_coder_agents, normalize_lane(lane));
  if (c == nullptr) c = find(s.lane_coder_agents, kWildcard);
  if (c == nullptr) return false;
  bool any = false;
  for (const auto& a : *c) {
    if (s.fix_first_agents.count(a) != 0) {
      const auto it = load.find(a);
      if (it != load.end() && it->second > 0) continue;
    }
    any = true;
    if (free_slots(s.coder_agent_slots, load, a) > 0) return false;
  }
  return any;
}

std::string choose_revision_coder(const WorkloadSettings& s, std::string_view lane, std::int64_t number,
                                  const LoadMap& load) {
  const AgentChoices* c = find(s.revision_coder_agents, normalize_lane(lane));
  if (c == nullptr) c = find(s.revision_coder_agents, kWildcard);
  if (c == nullptr) return {};
  // Slots count issue-fix capacity; a revision coder is chosen by number alone.
  WorkloadSettings by_number;
  return pick_agent(*c, number, load, by_number);
}

std::string utf8_prefix(std::string_view text, std::size_t max_chars) {
  std::size_t chars = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto b = static_cast<unsigned char>(text[i]);
    if ((b & 0xC0) != 0x80) {  // a byte that starts a character
      if (chars == max_chars) return std::string(text.substr(0, i));
      ++chars;
    }
  }
  return std::string(text);
}

std::string retry_prompt(std::string_view feedback) {
  std::string text(kFeedbackPrefix);
  text += '\n';
  text += feedback;
  return utf8_prefix(text, kMaxPromptChars);
}

bool pipeline_mode(const BuildRequest& req) noexcept { return !req.feedback.empty() || !req.revise_from_branch.empty(); }

namespace {

json::object agent_ref(std::string_view name) { return json::object{{"name", name}}; }

json::array steps(const BuildRequest& req, const WorkloadSettings& s, const std::string& coder,
                  const std::string& branch) {
  const auto n = req.issue.number;
  const std::string code = "code-" + std::to_string(n);
  const std::string verify = "verify-" + std::to_string(n);
  json::array out;

  json::object code_payload{{"repo", req.issue.repo}, {"issue", n}, {"branch", branch}};
  if (!req.feedback.empty()) code_payload["prompt"] = retry_prompt(req.feedback);
  // Only with branch evidence, and always the three together (SPEC §3): a bare
  // allowOverwrite cuts the branch fresh and force-pushes over earlier work.
  if (!req.revise_from_branch.empty()) {
    code_payload["reviseFromBranch"] = req.revise_from_branch;
    code_payload["branchStrategy"] = "rebase";
    code_payload["allowOverwrite"] = true;
  }
  out.push_back(json::object{{"name", code}, {"kind", "issue-fix"}, {"agentRef", agent_ref(coder)},
                             {"payload", std::move(code_payload)}});
  if (s.verify_enabled) {
    out.push_back(json::object{{"name", verify},
                               {"kind", "verify"},
                               {"agentRef", agent_ref(kVerifierAgent)},
                               {"dependsOn", json::array{json::string(code)}},
                               {"payload", json::object{{"repo", req.issue.repo}, {"issue", n}, {"branch", branch}}}});
  }
  out.push_back(json::object{
      {"name", "review-" + std::to_string(n) + "-0"},
      {"kind", "review"},
      {"agentRef", agent_ref(kReviewerAgent)},
      {"dependsOn", json::array{json::string(s.verify_enabled ? verify : code)}},
      {"payload",
       json::object{{"repo", req.issue.repo}, {"issue", n}, {"branch", branch}, {"openPullRequest", true}}}});
  return out;
}

}  // namespace

json::object build_workload(const BuildRequest& req, const WorkloadSettings& s, const LoadMap& load) {
  const auto& issue = req.issue;
  const std::string name = req.name.empty() ? workload_name(issue.repo, issue.number) : req.name;
  const std::string lane = normalize_lane(issue.lane);
  const std::string coder = choose_coder(s, lane, issue.repo, issue.number, load);

  json::object labels{{kCreatedByLabel, kCreatedByValue}, {kLaneLabel, lane}};
  json::object annotations{{kAttemptAnnotation, std::to_string(std::max(1, req.attempt))},
                           {kIssueIdAnnotation, issue.issue_id},
                           {kAgentNameAnnotation, s.agent_name}};
  if (req.infra_attempts > 0) annotations[kInfraAttemptsAnnotation] = std::to_string(req.infra_attempts);

  json::object spec;
  spec["intent"] = trim(issue.title).empty() ? issue.repo + "#" + std::to_string(issue.number) : issue.title;
  spec["repo"] = issue.repo;
  spec["issues"] = json::array{issue.number};
  if (pipeline_mode(req)) {
    spec["pipeline"] = steps(req, s, coder, branch_of_workload(name, issue.number));
  } else {
    spec["coderAgentRef"] = agent_ref(coder);
    spec["reviewerAgentRefs"] = json::array{agent_ref(kReviewerAgent)};
    if (s.verify_enabled) spec["verifierAgentRef"] = agent_ref(kVerifierAgent);
    if (auto rc = choose_revision_coder(s, lane, issue.number, load); !rc.empty())
      spec["revisionCoderAgentRef"] = agent_ref(rc);
  }
  if (!s.verdict_self_go.empty()) {
    json::array classes;
    for (const auto& c : s.verdict_self_go) classes.emplace_back(c);
    spec["verdictPolicy"] = json::object{{"selfGO", std::move(classes)}};
  }
  if (const auto* gp = gate_profile_for(s, issue.repo)) spec["gateProfile"] = *gp;

  return json::object{
      {"apiVersion", kApiVersion},
      {"kind", kWorkloadKind},
      {"metadata", json::object{{"name", name},
                                {"namespace", s.namespace_name},
                                {"labels", std::move(labels)},
                                {"annotations", std::move(annotations)}}},
      {"spec", std::move(spec)},
  };
}

}  // namespace fdb::dispatch
