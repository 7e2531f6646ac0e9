// The program's configuration (SPEC §7): every variable from the environment, each also a
// command-line flag (DISPATCH_URL ↔ --dispatch-url); a flag wins over the environment, the
// environment over the default. Names and defaults are the Python bridge's.
//
// A bad value stops the start with ONE line naming the variable (ConfigError::what()):
//   RETRY_MAX_ATTEMPTS: expected an integer >= 1, got "abc"
//   RETRY_MAX_ATTEMPTS (--retry-max-attempts): expected an integer >= 1, got "abc"
//
// Decisions where the SPEC is silent:
//  - An empty (or all-blank) variable or flag means "unset": its default applies.
//  - Booleans accept true/false, 1/0, yes/no, on/off (any case); anything else is an error.
//  - LOG_FORMAT defaults to json (the operator runs in a cluster); LOG_LEVEL to INFO.
//  - Where the Python bridge was lenient, a value it accepted does not stop the start: a
//    warning names the variable and the Python's reading is used (SPEC §7). LOG_FORMAT:
//    json, else human-readable (`plain`, the Python's documented value, and `text`
//    silently; anything else with a warning). LOG_LEVEL: DEBUG, INFO, WARNING/WARN,
//    ERROR, CRITICAL/FATAL, NOTSET (any case); anything else INFO with a warning.
//    CODER_AGENT_SLOTS values: what Python's int() made of them, below 1 or unreadable
//    counted as 1, with a warning (python_slot_count). Invalid JSON, or JSON that is not
//    an object, still fails: the Python failed too.
//  - JSON maps must be objects; coder maps take a string or a non-empty list of strings;
//    GATEPROFILE_MAP values must be objects.
//  - VERDICT_SELF_GO is a comma list checked against the CRD's enum.
//  - DISPATCH_LANES may not contain `backlog` (never claimable); aliases are applied.
//  - The lease timings must satisfy LEASE_DURATION_S > RENEW_DEADLINE_S > RETRY_PERIOD_S
//    (as client-go requires).
//  - GITHUB_API_URL (new, default https://api.github.com) is where branch evidence asks.
//  - URLs must parse as the HTTP client parses them (a port within 1..65535); the scheme
//    is stored in lower case; an error never shows a URL's user-info.
//  - Tokens and DISPATCH_AGENT_NAME go into HTTP headers: control characters inside them
//    are an error (a token's value is never shown). Blanks around any value are trimmed.
//  - METRICS_ADDR/HEALTH_ADDR hosts may not contain blanks or any of / ? # @ [ ].
//  - JSON values nest at most 64 levels (watch/json_input.hpp).
#pragma once

#include "dispatch/workload.hpp"
#include "watch/log.hpp"

#include <boost/json/value.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace fdb::op {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// host:port as given ("0.0.0.0:8080", "[::]:8080", "localhost:0").
struct Endpoint {
  std::string host;
  std::uint16_t port = 0;
  std::string text() const;  // back to "host:port" ("[v6]:port" for IPv6)
};

struct Config {
  // Dispatch (§2).
  std::string dispatch_url = "http://dispatch.llm:3000";  // DISPATCH_URL, no trailing slash
  std::string dispatch_agent_token;                        // DISPATCH_AGENT_TOKEN (secret)
  std::vector<std::string> dispatch_lanes{"local", "cloud", "frontier"};  // DISPATCH_LANES

  // Workload building (§3): FOREMAN_NAMESPACE, DISPATCH_AGENT_NAME, GATEPROFILE_MAP,
  // LANE_/REPO_/BASE_/REVISION_CODER_AGENTS, CODER_AGENT_SLOTS, FIX_FIRST_AGENTS,
  // VERIFY_ENABLED, VERDICT_SELF_GO.
  dispatch::WorkloadSettings workload;

  // Claiming (§4) and retrying (§5).
  int claim_interval_s = 30;           // CLAIM_INTERVAL_S
  int max_in_progress = 0;             // MAX_IN_PROGRESS, 0 = no cap
  int retry_max_attempts = 3;          // RETRY_MAX_ATTEMPTS
  std::string escalation_lane;         // ESCALATION_LANE, empty = off
  bool park_on_give_up = true;         // PARK_ON_GIVE_UP
  int delete_workload_timeout_s = 60;  // DELETE_WORKLOAD_TIMEOUT_S

  // Sweeps (§6).
  // PRUNE_*_AFTER_HOURS, 0 = never. Decimals are accepted (0.5 = 30 minutes; tests use
  // 0.0005 = 1.8 s); the Python bridge read whole hours only.
  double prune_completed_after_hours = 6;  // PRUNE_COMPLETED_AFTER_HOURS
  double prune_failed_after_hours = 48;    // PRUNE_FAILED_AFTER_HOURS
  bool pr_fix_enabled = false;          // PR_FIX_ENABLED
  int pr_fix_max_attempts = 3;          // PR_FIX_MAX_ATTEMPTS
  dispatch::AgentMap pr_fix_lane_agents{{"NORMAL", {"coder"}}, {"ESCALATED", {"coder-frontier"}}};  // PR_FIX_LANE_AGENTS
  std::string github_token;             // GITHUB_TOKEN (secret), empty: no GitHub lookups
  std::string github_api_url = "https://api.github.com";  // GITHUB_API_URL

  // Operations (§9).
  log::Format log_format = log::Format::Json;  // LOG_FORMAT json|text
  log::Level log_level = log::Level::Info;     // LOG_LEVEL
  Endpoint metrics_addr{"0.0.0.0", 8080};      // METRICS_ADDR
  Endpoint health_addr{"0.0.0.0", 8081};       // HEALTH_ADDR
  bool leader_elect = true;                    // LEADER_ELECT
  std::string lease_name = "foreman-dispatch-bridge";  // LEASE_NAME
  int lease_duration_s = 15;                   // LEASE_DURATION_S
  int renew_deadline_s = 10;                   // RENEW_DEADLINE_S
  int retry_period_s = 2;                      // RETRY_PERIOD_S
  std::string identity;                        // POD_NAME, else the host name
  std::optional<std::string> kubeconfig;       // KUBECONFIG / --kubeconfig; nullopt: in-cluster

  // Outcome of the command line.
  bool show_help = false;     // --help: print help_text() and exit 0
  bool show_version = false;  // --version: print the version and exit 0
  std::vector<std::string> warnings;  // e.g. cleartext DISPATCH_URL; log them at start

  // One line of JSON describing the configuration for the start-up log: secrets appear
  // only as "<set>" or "<unset>", URL user-info as "***".
  std::string describe() const;
};

using GetEnv = std::function<std::optional<std::string>(std::string_view)>;

struct LoadOptions {
  GetEnv env;                             // required; tests pass a map, main the process env
  std::function<std::string()> hostname;  // for the identity when POD_NAME is unset; null: gethostname()
  bool demo = false;                      // the embedded demo: DISPATCH_AGENT_TOKEN not required
};

// Reads flags (argv[0] is the program name) and the environment. Throws ConfigError
// with one line naming the variable (or the unknown flag). With --help or --version the
// result has show_help / show_version set and the rest unchecked (no token needed).
Config load_config(int argc, const char* const* argv, const LoadOptions& opts);

// The Python bridge's readings of the values it was lenient about (pure, for tables).
struct SlotCount {
  int slots = 1;
  bool exact = true;  // false: not a JSON integer >= 1 (warn)
};
SlotCount python_slot_count(const boost::json::value& value);
template <class T>
struct LenientValue {
  T value;
  bool known = true;  // false: not a value the Python named (warn)
};
LenientValue<log::Format> python_log_format(std::string_view value);
LenientValue<log::Level> python_log_level(std::string_view value);
Config load_config(const std::vector<std::string>& args, const LoadOptions& opts);  // args without argv[0]

// The --help text: usage, then each flag with its variable and default.
std::string help_text();

// The flag of a variable: RETRY_MAX_ATTEMPTS → "--retry-max-attempts".
std::string flag_of(std::string_view variable);

}  // namespace fdb::op
