// The Workload the bridge creates (SPEC §3), as pure functions: its name, branch, labels,
// annotations, the issue-batch spec (first attempt, or a retry without feedback) and the
// pipeline spec (a retry with feedback), and the choice of coder. No I/O.
//
// Decisions where the SPEC is silent (also in docs/):
//  - The hash a name ends with (when the character mapping changed it, or it was cut) is
//    FNV-1a 64 over `lower(repoFullName) + "#" + number`,
//    printed as 16 lower-case hex digits, of which the first 8 (the high 32 bits) are used.
//  - Attempt annotation: missing, empty, garbage, "0" or negative read as 1 (a fresh
//    Workload); a value above kMaxAttemptValue (or beyond the integer range) reads as
//    kMaxAttemptValue, which is past any cap, so an absurd annotation gives up rather than
//    retrying for ever.
//  - An empty issue title becomes the intent "owner/repo#N" (the CRD needs minLength 1).
//  - Pipeline mode carries gateProfile and verdictPolicy like issue-batch mode, but not
//    revisionCoderAgentRef (the CRD says explicit pipelines ignore it).
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace fdb::dispatch {

inline constexpr std::string_view kApiVersion = "foreman.llmkube.dev/v1alpha1";
inline constexpr std::string_view kWorkloadKind = "Workload";
inline constexpr std::string_view kCreatedByLabel = "created-by";
inline constexpr std::string_view kCreatedByValue = "dispatch-bridge";
inline constexpr std::string_view kLaneLabel = "lane";
inline constexpr std::string_view kAttemptAnnotation = "foreman.llmkube.dev/attempt";
inline constexpr std::string_view kIssueIdAnnotation = "foreman.llmkube.dev/issue-id";
inline constexpr std::string_view kAgentNameAnnotation = "foreman.llmkube.dev/agent-name";
inline constexpr std::string_view kInfraAttemptsAnnotation = "foreman.llmkube.dev/infra-attempts";

inline constexpr std::string_view kDefaultCoder = "coder";
inline constexpr std::string_view kVerifierAgent = "gate";
inline constexpr std::string_view kReviewerAgent = "reviewer";
inline constexpr std::string_view kWildcard = "*";

// The first line of a retry prompt, exactly; the feedback follows on the next line.
inline constexpr std::string_view kFeedbackPrefix =
    "A previous automated attempt at this issue was rejected. Address this feedback in your fix:";
inline constexpr std::size_t kMaxPromptChars = 2000;  // Unicode characters, prefix included

inline constexpr int kMaxAttemptValue = 1'000'000;
inline constexpr std::size_t kMaxNameLength = 63;

// A coder map value: one Agent name or a list of them (never empty once parsed).
using AgentChoices = std::vector<std::string>;
// LANE_CODER_AGENTS, REPO_CODER_AGENTS, BASE_CODER_AGENTS, REVISION_CODER_AGENTS: key → choices.
using AgentMap = std::map<std::string, AgentChoices, std::less<>>;
// CODER_AGENT_SLOTS: Agent → concurrent Workloads it can hold ("*": default for others).
using SlotMap = std::map<std::string, int, std::less<>>;
// Agent → live Workloads it holds now (from the cache plus creates not yet seen).
using LoadMap = std::map<std::string, int, std::less<>>;

// The part of the configuration the builder reads (owned by op::Config).
struct WorkloadSettings {
  std::string namespace_name = "llm";        // FOREMAN_NAMESPACE
  std::string agent_name = "foreman-coder";  // DISPATCH_AGENT_NAME (annotation)
  boost::json::object gate_profiles;         // GATEPROFILE_MAP: repo (or "*") → GateProfile object
  AgentMap lane_coder_agents;                // LANE_CODER_AGENTS
  AgentMap repo_coder_agents;                // REPO_CODER_AGENTS
  AgentMap base_coder_agents;                // BASE_CODER_AGENTS, keyed by gateProfile.language
  AgentMap revision_coder_agents;            // REVISION_CODER_AGENTS, keyed by lane
  SlotMap coder_agent_slots;                 // CODER_AGENT_SLOTS
  std::set<std::string, std::less<>> fix_first_agents;  // FIX_FIRST_AGENTS
  bool verify_enabled = true;                // VERIFY_ENABLED
  std::vector<std::string> verdict_self_go;  // VERDICT_SELF_GO (empty: no verdictPolicy)
};

// The issue a Workload is for.
struct IssueInfo {
  std::string repo;        // "owner/repo" as dispatch spells it
  std::int64_t number = 0; // >= 1
  std::string title;       // becomes spec.intent
  std::string lane;        // label `lane`
  std::string issue_id;    // dispatch's id (annotation)
};

struct BuildRequest {
  IssueInfo issue;
  int attempt = 1;              // annotation foreman.llmkube.dev/attempt
  int infra_attempts = 0;       // annotation foreman.llmkube.dev/infra-attempts, written when > 0
  std::string feedback;         // non-empty: pipeline mode with this feedback in the prompt
  // A branch that was pushed (empty: none): pipeline mode, and the code step's payload gets
  // reviseFromBranch = it, branchStrategy rebase and allowOverwrite, always the three.
  std::string revise_from_branch;
  // The Workload's name; empty: workload_name(repo, number). An adopted Workload (one the
  // Python bridge named) is retried under its own name, so its branch stays the same.
  std::string name;
};

// Pipeline mode (SPEC §3): a retry with feedback, or with branch evidence (only a
// pipeline step's payload can carry reviseFromBranch); otherwise issue-batch mode.
bool pipeline_mode(const BuildRequest& req) noexcept;

// `{prefix}{repo, / as -, lower-case}-{number}` made a DNS-1123 label: other characters
// become `-`, runs of `-` collapse; when that changed anything (two repos of one owner,
// `foo.bar`, `foo_bar` and `foo-bar`, would otherwise share a name) or the name is over 63
// characters, it is cut to 54 and ends with `-` and 8 hex digits of the hash of the full
// repo and number (see the header comment).
std::string dns_label_name(std::string_view prefix, std::string_view repo_full_name, std::int64_t number);
// dns_label_name("wl-", …): the name of an issue's Workload (SPEC §3).
std::string workload_name(std::string_view repo_full_name, std::int64_t number);
// The name the Python bridge (up to 0.7) gave the same issue's Workload:
// `wl-{repo lower-case, / as -}-{number}`, nothing else changed (so `.` and `_` kept, no
// length limit). Equal to workload_name() for most repos; adoption looks Workloads up by
// issue, this name is one more place to look.
std::string python_workload_name(std::string_view repo_full_name, std::int64_t number);
// A valid Kubernetes label value (at most 63 characters of [A-Za-z0-9-_.], alphanumeric at
// both ends, or empty). Foreman labels every task with its Workload's name: a Workload
// whose name is not one cannot run.
bool is_label_value(std::string_view value) noexcept;
// `foreman/{workload name}/issue-{number}`.
std::string branch_name(std::string_view repo_full_name, std::int64_t number);
// `foreman/{workload}/issue-{number}` for a Workload of any name (an adopted one keeps its
// branch).
std::string branch_of_workload(std::string_view workload, std::int64_t number);
std::uint64_t fnv1a64(std::string_view data) noexcept;

// Reads an attempt annotation value (see the header comment for the rules).
int parse_attempt(std::string_view text) noexcept;
// A non-negative counter annotation (infra-attempts): missing or garbage reads 0.
int parse_counter(std::string_view text) noexcept;

// "normal" → "local", "escalated" → "frontier" (any case); other lanes unchanged (trimmed).
std::string normalize_lane(std::string_view lane);

// GATEPROFILE_MAP[repo], else its "*" entry, else nullptr.
const boost::json::object* gate_profile_for(const WorkloadSettings& s, std::string_view repo);

// Capacity of an Agent: its CODER_AGENT_SLOTS entry, else "*", else 1.
int slots_for(const SlotMap& slots, std::string_view agent);
int free_slots(const SlotMap& slots, const LoadMap& load, std::string_view agent);

// Picks one Agent of a list: the most free slots (when CODER_AGENT_SLOTS is set), ties
// (or no slots configured) by `number % n` over the tied. Fix-first agents that hold work
// or have no free slot drop out first. Empty when nothing is left.
std::string pick_agent(const AgentChoices& choices, std::int64_t number, const LoadMap& load,
                       const WorkloadSettings& s);

// SPEC §3, first match: LANE_CODER_AGENTS[lane], REPO_CODER_AGENTS[repo],
// BASE_CODER_AGENTS[gateProfile.language or "*"], LANE_CODER_AGENTS["*"], "coder".
std::string choose_coder(const WorkloadSettings& s, std::string_view lane, std::string_view repo,
                         std::int64_t number, const LoadMap& load = {});
// Pre-claim check (§4, per-coder slots): true when CODER_AGENT_SLOTS is set and every coder
// the lane can route to before an issue is known (LANE_CODER_AGENTS[lane], else its "*";
// fix-first agents that hold work left out) has no free slot. False when slots are not
// configured, or the lane has no mapping (the repo and language tiers need the issue).
bool lane_coders_saturated(const WorkloadSettings& s, std::string_view lane, const LoadMap& load);

// REVISION_CODER_AGENTS[lane], else its "*"; empty when not configured.
std::string choose_revision_coder(const WorkloadSettings& s, std::string_view lane, std::int64_t number,
                                  const LoadMap& load = {});

// kFeedbackPrefix, a newline, the feedback; cut to kMaxPromptChars characters without
// splitting a UTF-8 sequence.
std::string retry_prompt(std::string_view feedback);
// Cuts UTF-8 text to at most `max_chars` code points (a continuation byte never starts a
// character, so a cut never splits a sequence).
std::string utf8_prefix(std::string_view text, std::size_t max_chars);

// The whole Workload manifest (apiVersion, kind, metadata, spec) for the Kubernetes API.
boost::json::object build_workload(const BuildRequest& req, const WorkloadSettings& s,
                                   const LoadMap& load = {});

}  // namespace fdb::dispatch
