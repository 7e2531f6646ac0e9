#include "operator/config.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <map>

using namespace fdb::op;
namespace json = boost::json;

namespace {

using Env = std::map<std::string, std::string>;

LoadOptions options(Env env, bool demo = false) {
  LoadOptions o;
  o.env = [env = std::move(env)](std::string_view name) -> std::optional<std::string> {
    const auto it = env.find(std::string(name));
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  o.hostname = [] { return std::string("host-1"); };
  o.demo = demo;
  return o;
}

Env with_token(Env env) {
  env.emplace("DISPATCH_AGENT_TOKEN", "s3cr3t-token");
  return env;
}

Config load(Env env, std::vector<std::string> args = {}) { return load_config(args, options(with_token(std::move(env)))); }

std::string error_of(Env env, std::vector<std::string> args = {}, bool token = true) {
  try {
    load_config(args, options(token ? with_token(std::move(env)) : std::move(env)));
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(bridge_config)

BOOST_AUTO_TEST_CASE(defaults_equal_the_python_bridge) {
  const Config c = load({});
  BOOST_TEST(c.dispatch_url == "http://dispatch.llm:3000");
  BOOST_TEST(c.dispatch_agent_token == "s3cr3t-token");
  BOOST_TEST(c.workload.agent_name == "foreman-coder");
  BOOST_TEST(c.dispatch_lanes == (std::vector<std::string>{"local", "cloud", "frontier"}), boost::test_tools::per_element());
  BOOST_TEST(c.workload.namespace_name == "llm");
  BOOST_TEST(c.retry_max_attempts == 3);
  BOOST_TEST(c.workload.gate_profiles.empty());
  BOOST_TEST(c.workload.lane_coder_agents.empty());
  BOOST_TEST(c.workload.base_coder_agents.empty());
  BOOST_TEST(c.workload.repo_coder_agents.empty());
  BOOST_TEST(c.workload.revision_coder_agents.empty());
  BOOST_TEST(c.workload.coder_agent_slots.empty());
  BOOST_TEST(c.workload.fix_first_agents.empty());
  BOOST_TEST(c.escalation_lane.empty());
  BOOST_TEST(c.workload.verify_enabled);
  BOOST_TEST(c.workload.verdict_self_go.empty());
  BOOST_TEST(c.max_in_progress == 0);
  BOOST_TEST(c.delete_workload_timeout_s == 60);
  BOOST_TEST(c.park_on_give_up);
  BOOST_TEST(c.prune_completed_after_hours == 6);
  BOOST_TEST(c.prune_failed_after_hours == 48);
  BOOST_TEST(!c.pr_fix_enabled);
  BOOST_TEST(c.pr_fix_max_attempts == 3);
  BOOST_TEST((c.pr_fix_lane_agents == fdb::dispatch::AgentMap{{"NORMAL", {"coder"}}, {"ESCALATED", {"coder-frontier"}}}));
  BOOST_TEST(c.github_token.empty());
  BOOST_TEST(c.github_api_url == "https://api.github.com");
  BOOST_TEST((c.log_format == fdb::log::Format::Json));
  BOOST_TEST((c.log_level == fdb::log::Level::Info));
  BOOST_TEST(c.claim_interval_s == 30);
  BOOST_TEST(c.metrics_addr.text() == "0.0.0.0:8080");
  BOOST_TEST(c.health_addr.text() == "0.0.0.0:8081");
  BOOST_TEST(c.leader_elect);
  BOOST_TEST(c.lease_name == "foreman-dispatch-bridge");
  BOOST_TEST(c.lease_duration_s == 15);
  BOOST_TEST(c.renew_deadline_s == 10);
  BOOST_TEST(c.retry_period_s == 2);
  BOOST_TEST(c.identity == "host-1");
  BOOST_TEST(!c.kubeconfig.has_value());
  BOOST_TEST(!c.show_help);
  BOOST_TEST(!c.show_version);
  // The default URL is cleartext: one warning.
  BOOST_TEST_REQUIRE(c.warnings.size() == 1u);
  BOOST_TEST(c.warnings[0].find("DISPATCH_URL uses cleartext HTTP") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(values_from_the_environment) {
  const Config c = load({
      {"DISPATCH_URL", "https://dispatch.example/"},
      {"DISPATCH_AGENT_NAME", "bot"},
      {"DISPATCH_LANES", " local , normal, escalated ,,cloud"},
      {"FOREMAN_NAMESPACE", "foreman"},
      {"RETRY_MAX_ATTEMPTS", "5"},
      {"GATEPROFILE_MAP", R"({"o/r":{"language":"node"},"*":{"language":"generic"}})"},
      {"LANE_CODER_AGENTS", R"({"*":"coder","frontier":["c1","c2"]})"},
      {"BASE_CODER_AGENTS", R"({"python":"coder-py"})"},
      {"REPO_CODER_AGENTS", R"({"o/godot":["coder-godot"]})"},
      {"REVISION_CODER_AGENTS", R"({"*":"coder-revision"})"},
      {"CODER_AGENT_SLOTS", R"({"coder":1,"c1":8,"*":2})"},
      {"FIX_FIRST_AGENTS", "coder, fixer"},
      {"ESCALATION_LANE", "escalated"},
      {"VERIFY_ENABLED", "no"},
      {"VERDICT_SELF_GO", "code-fix, ci-policy"},
      {"MAX_IN_PROGRESS", "4"},
      {"DELETE_WORKLOAD_TIMEOUT_S", "90"},
      {"PARK_ON_GIVE_UP", "0"},
      {"PRUNE_COMPLETED_AFTER_HOURS", "0"},
      {"PRUNE_FAILED_AFTER_HOURS", "72"},
      {"PR_FIX_ENABLED", "YES"},
      {"PR_FIX_MAX_ATTEMPTS", "4"},
      {"PR_FIX_LANE_AGENTS", R"({"NORMAL":"coder-frontier","ESCALATED":"coder-frontier"})"},
      {"GITHUB_TOKEN", "ghp_secret"},
      {"LOG_FORMAT", "TEXT"},
      {"LOG_LEVEL", "debug"},
      {"CLAIM_INTERVAL_S", "5"},
      {"METRICS_ADDR", "[::]:9090"},
      {"HEALTH_ADDR", "127.0.0.1:0"},
      {"LEADER_ELECT", "false"},
      {"LEASE_NAME", "bridge.example"},
      {"LEASE_DURATION_S", "30"},
      {"RENEW_DEADLINE_S", "20"},
      {"RETRY_PERIOD_S", "5"},
      {"POD_NAME", "pod-7"},
      {"KUBECONFIG", "/tmp/kc"},
  });
  BOOST_TEST(c.dispatch_url == "https://dispatch.example");
  BOOST_TEST(c.workload.agent_name == "bot");
  BOOST_TEST(c.dispatch_lanes == (std::vector<std::string>{"local", "frontier", "cloud"}), boost::test_tools::per_element());
  BOOST_TEST(c.workload.namespace_name == "foreman");
  BOOST_TEST(c.retry_max_attempts == 5);
  BOOST_TEST(json::value(c.workload.gate_profiles) == json::parse(R"({"o/r":{"language":"node"},"*":{"language":"generic"}})"));
  BOOST_TEST((c.workload.lane_coder_agents == fdb::dispatch::AgentMap{{"*", {"coder"}}, {"frontier", {"c1", "c2"}}}));
  BOOST_TEST((c.workload.base_coder_agents == fdb::dispatch::AgentMap{{"python", {"coder-py"}}}));
  BOOST_TEST((c.workload.repo_coder_agents == fdb::dispatch::AgentMap{{"o/godot", {"coder-godot"}}}));
  BOOST_TEST((c.workload.revision_coder_agents == fdb::dispatch::AgentMap{{"*", {"coder-revision"}}}));
  BOOST_TEST((c.workload.coder_agent_slots == fdb::dispatch::SlotMap{{"coder", 1}, {"c1", 8}, {"*", 2}}));
  BOOST_TEST((c.workload.fix_first_agents == std::set<std::string, std::less<>>{"coder", "fixer"}));
  BOOST_TEST(c.escalation_lane == "frontier");
  BOOST_TEST(!c.workload.verify_enabled);
  BOOST_TEST(c.workload.verdict_self_go == (std::vector<std::string>{"code-fix", "ci-policy"}), boost::test_tools::per_element());
  BOOST_TEST(c.max_in_progress == 4);
  BOOST_TEST(c.delete_workload_timeout_s == 90);
  BOOST_TEST(!c.park_on_give_up);
  BOOST_TEST(c.prune_completed_after_hours == 0);
  BOOST_TEST(c.prune_failed_after_hours == 72);
  BOOST_TEST(c.pr_fix_enabled);
  BOOST_TEST(c.pr_fix_max_attempts == 4);
  BOOST_TEST((c.pr_fix_lane_agents == fdb::dispatch::AgentMap{{"NORMAL", {"coder-frontier"}}, {"ESCALATED", {"coder-frontier"}}}));
  BOOST_TEST(c.github_token == "ghp_secret");
  BOOST_TEST((c.log_format == fdb::log::Format::Text));
  BOOST_TEST((c.log_level == fdb::log::Level::Debug));
  BOOST_TEST(c.claim_interval_s == 5);
  BOOST_TEST(c.metrics_addr.host == "::");
  BOOST_TEST(c.metrics_addr.port == 9090);
  BOOST_TEST(c.metrics_addr.text() == "[::]:9090");
  BOOST_TEST(c.health_addr.text() == "127.0.0.1:0");
  BOOST_TEST(!c.leader_elect);
  BOOST_TEST(c.lease_name == "bridge.example");
  BOOST_TEST(c.lease_duration_s == 30);
  BOOST_TEST(c.renew_deadline_s == 20);
  BOOST_TEST(c.retry_period_s == 5);
  BOOST_TEST(c.identity == "pod-7");
  BOOST_TEST(c.kubeconfig.value_or("") == "/tmp/kc");
  BOOST_TEST(c.warnings.empty());  // https, escalation lane is claimed here
}

BOOST_AUTO_TEST_CASE(flags_override_env) {
  struct Row {
    const char* given;
    Env env;
    std::vector<std::string> args;
    std::function<void(const Config&)> expect;
  };
  const Row rows[] = {
      {"--dispatch-url", {{"DISPATCH_URL", "https://env"}}, {"--dispatch-url=https://flag"},
       [](const Config& c) { BOOST_TEST(c.dispatch_url == "https://flag"); }},
      {"separate value", {{"RETRY_MAX_ATTEMPTS", "7"}}, {"--retry-max-attempts", "2"},
       [](const Config& c) { BOOST_TEST(c.retry_max_attempts == 2); }},
      {"bool flag without value", {{"LEADER_ELECT", "false"}}, {"--leader-elect"},
       [](const Config& c) { BOOST_TEST(c.leader_elect); }},
      {"bool flag =false", {}, {"--verify-enabled=false"}, [](const Config& c) { BOOST_TEST(!c.workload.verify_enabled); }},
      {"json flag", {{"LANE_CODER_AGENTS", R"({"*":"a"})"}}, {R"(--lane-coder-agents={"*":"b"})"},
       [](const Config& c) { BOOST_TEST(c.workload.lane_coder_agents.at("*").front() == "b"); }},
      {"--kubeconfig", {{"KUBECONFIG", "/env"}}, {"--kubeconfig=/flag"},
       [](const Config& c) { BOOST_TEST(c.kubeconfig.value_or("") == "/flag"); }},
      {"empty flag falls back to env", {{"FOREMAN_NAMESPACE", "envns"}}, {"--foreman-namespace", ""},
       [](const Config& c) { BOOST_TEST(c.workload.namespace_name == "envns"); }},
      {"empty env is the default", {{"RETRY_MAX_ATTEMPTS", " "}, {"DISPATCH_LANES", ""}}, {},
       [](const Config& c) {
         BOOST_TEST(c.retry_max_attempts == 3);
         BOOST_TEST(c.dispatch_lanes.size() == 3u);
       }},
      {"token by flag warns", {}, {"--dispatch-agent-token=flagtoken"},
       [](const Config& c) {
         BOOST_TEST(c.dispatch_agent_token == "flagtoken");
         bool warned = false;
         for (const auto& w : c.warnings) warned = warned || w.find("process list") != std::string::npos;
         BOOST_TEST(warned);
       }},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) { r.expect(load(r.env, r.args)); }
  }
}

BOOST_AUTO_TEST_CASE(each_bad_value_names_its_variable) {
  struct Row {
    Env env;
    std::string expect;  // the whole message
  };
  const Row rows[] = {
      {{{"RETRY_MAX_ATTEMPTS", "abc"}}, R"(RETRY_MAX_ATTEMPTS: expected an integer >= 1, got "abc")"},
      {{{"RETRY_MAX_ATTEMPTS", "0"}}, R"(RETRY_MAX_ATTEMPTS: expected an integer >= 1, got "0")"},
      {{{"RETRY_MAX_ATTEMPTS", "1000000"}}, R"(RETRY_MAX_ATTEMPTS: expected an integer between 1 and 999999, got "1000000")"},
      {{{"MAX_IN_PROGRESS", "-1"}}, R"(MAX_IN_PROGRESS: expected an integer >= 0, got "-1")"},
      {{{"MAX_IN_PROGRESS", "99999999999"}}, R"(MAX_IN_PROGRESS: expected an integer >= 0, got "99999999999")"},
      {{{"DELETE_WORKLOAD_TIMEOUT_S", "1.5"}}, R"(DELETE_WORKLOAD_TIMEOUT_S: expected an integer >= 1, got "1.5")"},
      {{{"CLAIM_INTERVAL_S", "0"}}, R"(CLAIM_INTERVAL_S: expected an integer >= 1, got "0")"},
      {{{"PRUNE_COMPLETED_AFTER_HOURS", "x"}}, R"(PRUNE_COMPLETED_AFTER_HOURS: expected a number of hours >= 0 (decimals allowed, e.g. 0.5), got "x")"},
      {{{"PRUNE_FAILED_AFTER_HOURS", "-2"}}, R"(PRUNE_FAILED_AFTER_HOURS: expected a number of hours >= 0 (decimals allowed, e.g. 0.5), got "-2")"},
      {{{"PRUNE_FAILED_AFTER_HOURS", "1e3"}}, R"(PRUNE_FAILED_AFTER_HOURS: expected a number of hours >= 0 (decimals allowed, e.g. 0.5), got "1e3")"},
      {{{"PRUNE_FAILED_AFTER_HOURS", "1.2.3"}}, R"(PRUNE_FAILED_AFTER_HOURS: expected a number of hours >= 0 (decimals allowed, e.g. 0.5), got "1.2.3")"},
      {{{"PRUNE_FAILED_AFTER_HOURS", "."}}, R"(PRUNE_FAILED_AFTER_HOURS: expected a number of hours >= 0 (decimals allowed, e.g. 0.5), got ".")"},
      {{{"PRUNE_COMPLETED_AFTER_HOURS", "nan"}}, R"(PRUNE_COMPLETED_AFTER_HOURS: expected a number of hours >= 0 (decimals allowed, e.g. 0.5), got "nan")"},
      {{{"PRUNE_COMPLETED_AFTER_HOURS", "2000000"}}, R"(PRUNE_COMPLETED_AFTER_HOURS: expected a number of hours >= 0 (decimals allowed, e.g. 0.5), got "2000000")"},
      {{{"PR_FIX_MAX_ATTEMPTS", "zero"}}, R"(PR_FIX_MAX_ATTEMPTS: expected an integer >= 1, got "zero")"},
      {{{"VERIFY_ENABLED", "maybe"}}, R"(VERIFY_ENABLED: expected true or false (also 1/0, yes/no), got "maybe")"},
      {{{"PARK_ON_GIVE_UP", "2"}}, R"(PARK_ON_GIVE_UP: expected true or false (also 1/0, yes/no), got "2")"},
      {{{"PR_FIX_ENABLED", "enabled"}}, R"(PR_FIX_ENABLED: expected true or false (also 1/0, yes/no), got "enabled")"},
      {{{"LEADER_ELECT", "y"}}, R"(LEADER_ELECT: expected true or false (also 1/0, yes/no), got "y")"},
      {{{"DISPATCH_URL", "dispatch.llm:3000"}}, R"(DISPATCH_URL: expected an http:// or https:// URL, got "dispatch.llm:3000")"},
      {{{"DISPATCH_URL", "https://"}}, R"(DISPATCH_URL: expected an http:// or https:// URL with a host, got "https://")"},
      {{{"GITHUB_API_URL", "ftp://x"}}, R"(GITHUB_API_URL: expected an http:// or https:// URL, got "ftp://x")"},
      {{{"DISPATCH_LANES", "local,backlog"}},
       R"(DISPATCH_LANES: backlog is never claimable; expected lanes such as local,cloud,frontier, got "local,backlog")"},
      {{{"DISPATCH_LANES", " , ,"}}, R"(DISPATCH_LANES: expected at least one lane, got ", ,")"},
      {{{"ESCALATION_LANE", "backlog"}}, R"(ESCALATION_LANE: backlog is never claimable; expected a lane, got "backlog")"},
      {{{"FOREMAN_NAMESPACE", "Foreman"}},
       R"(FOREMAN_NAMESPACE: expected a namespace name (lower-case DNS-1123 label), got "Foreman")"},
      {{{"LEASE_NAME", "-x"}}, R"(LEASE_NAME: expected a Lease name (lower-case DNS-1123 subdomain), got "-x")"},
      {{{"GATEPROFILE_MAP", "{"}},
       "GATEPROFILE_MAP: invalid JSON (" + std::string("") /* message from Boost.JSON */},
      {{{"GATEPROFILE_MAP", "[1]"}}, "GATEPROFILE_MAP: expected a JSON object, got an array"},
      {{{"GATEPROFILE_MAP", R"({"o/r":"node"})"}}, R"(GATEPROFILE_MAP: "o/r": expected a gateProfile object, got a string)"},
      {{{"GATEPROFILE_MAP", R"({"o/r":{"language":1}})"}}, R"(GATEPROFILE_MAP: "o/r": language: expected a string, got a number)"},
      {{{"LANE_CODER_AGENTS", R"({"*":1})"}},
       R"(LANE_CODER_AGENTS: "*": expected a string or a non-empty list of strings, got a number)"},
      {{{"BASE_CODER_AGENTS", R"({"go":[]})"}},
       R"(BASE_CODER_AGENTS: "go": expected a string or a non-empty list of strings, got an array)"},
      {{{"REPO_CODER_AGENTS", R"({"o/r":["a",2]})"}},
       R"(REPO_CODER_AGENTS: "o/r": expected a string or a non-empty list of strings, got a list with a number)"},
      {{{"REVISION_CODER_AGENTS", R"("coder")"}}, "REVISION_CODER_AGENTS: expected a JSON object, got a string"},
      {{{"PR_FIX_LANE_AGENTS", R"({"NORMAL":""})"}},
       R"(PR_FIX_LANE_AGENTS: "NORMAL": expected a string or a non-empty list of strings, got an empty string)"},
      {{{"FIX_FIRST_AGENTS", R"(["a",1])"}}, "FIX_FIRST_AGENTS: expected a list of Agent names, got an entry that is a number"},
      {{{"FIX_FIRST_AGENTS", R"([oops)"}},
       R"(FIX_FIRST_AGENTS: expected a JSON list of Agent names or a comma-separated list, got "[oops")"},
      {{{"VERDICT_SELF_GO", "code-fix,everything"}},
       R"(VERDICT_SELF_GO: unknown work class "everything"; expected a comma list of code-fix, docs, packaging, config, ci-policy, release-policy)"},
      {{{"METRICS_ADDR", "8080"}}, R"(METRICS_ADDR: expected host:port, got "8080")"},
      {{{"HEALTH_ADDR", "0.0.0.0:70000"}}, R"(HEALTH_ADDR: expected host:port with a port between 0 and 65535, got "0.0.0.0:70000")"},
      {{{"RENEW_DEADLINE_S", "15"}}, "RENEW_DEADLINE_S: RENEW_DEADLINE_S (15) must be less than LEASE_DURATION_S (15)"},
      {{{"LEASE_DURATION_S", "5"}}, "LEASE_DURATION_S: RENEW_DEADLINE_S (10) must be less than LEASE_DURATION_S (5)"},
      {{{"RETRY_PERIOD_S", "10"}}, "RETRY_PERIOD_S: RETRY_PERIOD_S (10) must be less than RENEW_DEADLINE_S (10)"},
      {{{"DISPATCH_AGENT_NAME", "a\nb"}}, R"(DISPATCH_AGENT_NAME: expected an agent name on one line, got "a\nb")"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.env.begin()->first << "=" << r.env.begin()->second) {
      const std::string e = error_of(r.env);
      if (r.expect.back() == '(')
        BOOST_TEST(e.rfind(r.expect, 0) == 0u, e);  // prefix only: the JSON parser's message follows
      else
        BOOST_TEST(e == r.expect);
      BOOST_TEST(e.find('\n') == std::string::npos);  // one line
      BOOST_TEST(e.find("s3cr3t") == std::string::npos);
    }
  }
}

BOOST_AUTO_TEST_CASE(bad_flags) {
  struct Row {
    std::vector<std::string> args;
    std::string expect_prefix;
  };
  const Row rows[] = {
      {{"--retry-max-attempts=abc"}, R"(RETRY_MAX_ATTEMPTS (--retry-max-attempts): expected an integer >= 1, got "abc")"},
      {{"--verify-enabled=perhaps"}, "VERIFY_ENABLED (--verify-enabled): expected true or false"},
      {{"--no-such-flag"}, "unrecognised option '--no-such-flag'"},
      {{"stray"}, "too many positional options"},
      {{"--retry-max-attempts"}, "the required argument for option '--retry-max-attempts' is missing"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.args.front()) {
      const std::string e = error_of({}, r.args);
      BOOST_TEST(e.rfind(r.expect_prefix, 0) == 0u, e);
      BOOST_TEST(e.find('\n') == std::string::npos);
    }
  }
}

BOOST_AUTO_TEST_CASE(token_required_unless_demo) {
  BOOST_TEST(error_of({}, {}, false) ==
             "DISPATCH_AGENT_TOKEN: required (the bearer token for the dispatch service), but not set");
  BOOST_TEST(error_of({{"DISPATCH_AGENT_TOKEN", "   "}}, {}, false).rfind("DISPATCH_AGENT_TOKEN: required", 0) == 0u);
  const Config demo = load_config(std::vector<std::string>{}, options({}, true));
  BOOST_TEST(demo.dispatch_agent_token.empty());
  // --help and --version need no token and stop there.
  const Config help = load_config(std::vector<std::string>{"--help"}, options({}));
  BOOST_TEST(help.show_help);
  const char* argv[] = {"foreman-dispatch-bridge", "--version"};
  const Config version = load_config(2, argv, options({{"RETRY_MAX_ATTEMPTS", "garbage"}}));
  BOOST_TEST(version.show_version);
}

BOOST_AUTO_TEST_CASE(cleartext_warning) {
  struct Row {
    std::string url;
    bool warn;
  };
  const Row rows[] = {{"http://dispatch.llm:3000", true},     {"HTTP://dispatch.llm", true},
                      {"https://dispatch.llm:3000", false},   {"http://127.0.0.1:3000", false},
                      {"http://localhost:8080/api", false},   {"http://[::1]:3000", false},
                      {"http://user:pw@dispatch.llm", true}};
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.url) {
      const Config c = load({{"DISPATCH_URL", r.url}});
      BOOST_TEST(c.warnings.size() == (r.warn ? 1u : 0u));
      for (const auto& w : c.warnings) BOOST_TEST(w.find("pw") == std::string::npos);
    }
  }
}

namespace {
// The start-up warnings that name `var` (the cleartext default DISPATCH_URL has its own).
std::vector<std::string> warnings_about(const Config& c, const std::string& var) {
  std::vector<std::string> out;
  for (const auto& w : c.warnings)
    if (w.starts_with(var + ":")) out.push_back(w);
  return out;
}
}  // namespace

// Values the Python bridge accepted (issue 18 item 1): read as it read them, one warning
// naming the variable where it was lenient, never a failed start.
BOOST_AUTO_TEST_CASE(values_the_python_accepted) {
  struct Row {
    std::string var;
    std::string value;
    std::string expect;  // the setting as describe() (--print-config) shows it
    bool warn;
  };
  const Row rows[] = {
      {"LOG_FORMAT", "json", "json", false},      {"LOG_FORMAT", "JSON", "json", false},
      {"LOG_FORMAT", "plain", "text", false},     {"LOG_FORMAT", "Plain", "text", false},
      {"LOG_FORMAT", "text", "text", false},      {"LOG_FORMAT", "xml", "text", true},
      {"LOG_LEVEL", "debug", "DEBUG", false},     {"LOG_LEVEL", "WARN", "WARNING", false},
      {"LOG_LEVEL", "warning", "WARNING", false}, {"LOG_LEVEL", "CRITICAL", "ERROR", false},
      {"LOG_LEVEL", "fatal", "ERROR", false},     {"LOG_LEVEL", "NOTSET", "DEBUG", false},
      {"LOG_LEVEL", "loud", "INFO", true},        {"LOG_LEVEL", "verbose", "INFO", true},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.var << "=" << r.value) {
      const Config c = load({{r.var, r.value}});
      const json::object shown = json::parse(c.describe()).as_object();
      const std::string key = r.var == "LOG_FORMAT" ? "log_format" : "log_level";
      BOOST_TEST(std::string(shown.at(key).as_string()) == r.expect);
      const auto mine = warnings_about(c, r.var);
      BOOST_TEST_REQUIRE(mine.size() == (r.warn ? 1u : 0u));
      if (r.warn) BOOST_TEST(mine[0].find(r.value) != std::string::npos, mine[0]);
    }
  }
}

BOOST_AUTO_TEST_CASE(coder_agent_slots_as_the_python_counted_them) {
  struct Row {
    const char* json_value;
    int slots;
    bool exact;
  };
  // Python: int(raw), a TypeError or ValueError → 1, a result below 1 → 1.
  const Row rows[] = {
      {"1", 1, true},        {"8", 8, true},           {"0", 1, false},          {"-3", 1, false},
      {"\"2\"", 2, false},   {"\" 4 \"", 4, false},    {"\"+5\"", 5, false},     {"\"1_0\"", 10, false},
      {"\"1__0\"", 1, false}, {"\"2.0\"", 1, false},    {"\"\"", 1, false},       {"\"abc\"", 1, false},
      {"\"-2\"", 1, false},   {"1.5", 1, false},        {"2.7", 2, false},        {"0.5", 1, false},
      {"true", 1, false},     {"false", 1, false},      {"null", 1, false},       {"[2]", 1, false},
      {"{}", 1, false},       {"99999999999", 2147483647, false},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.json_value) {
      const SlotCount n = python_slot_count(json::parse(r.json_value));
      BOOST_TEST(n.slots == r.slots);
      BOOST_TEST(n.exact == r.exact);
    }
  }
  // Through the configuration: one warning naming the variable and the lenient keys.
  const Config c = load({{"CODER_AGENT_SLOTS", R"({"coder":0,"c1":"3","c2":4})"}});
  BOOST_TEST(c.workload.coder_agent_slots.at("coder") == 1);
  BOOST_TEST(c.workload.coder_agent_slots.at("c1") == 3);
  BOOST_TEST(c.workload.coder_agent_slots.at("c2") == 4);
  const auto mine = warnings_about(c, "CODER_AGENT_SLOTS");
  BOOST_TEST_REQUIRE(mine.size() == 1u);
  BOOST_TEST(mine[0].find("\"coder\"") != std::string::npos);
  BOOST_TEST(mine[0].find("\"c2\"") == std::string::npos);
  BOOST_TEST(warnings_about(load({{"CODER_AGENT_SLOTS", R"({"coder":2})"}}), "CODER_AGENT_SLOTS").empty());
  // Where the Python failed too, this fails at start.
  for (const char* bad : {"[1]", "{oops", "3"}) {
    BOOST_TEST_CONTEXT(bad) {
      BOOST_CHECK_THROW(load({{"CODER_AGENT_SLOTS", bad}}), ConfigError);
    }
  }
}

BOOST_AUTO_TEST_CASE(description_is_redacted) {
  const Config c = load({{"GITHUB_TOKEN", "ghp_topsecret"}, {"DISPATCH_URL", "https://user:hunter2@dispatch.llm"}});
  const std::string d = c.describe();
  BOOST_TEST(d.find("s3cr3t-token") == std::string::npos);
  BOOST_TEST(d.find("ghp_topsecret") == std::string::npos);
  BOOST_TEST(d.find("hunter2") == std::string::npos);
  const auto j = json::parse(d).as_object();
  BOOST_TEST(j.at("dispatch_agent_token") == "<set>");
  BOOST_TEST(j.at("github_token") == "<set>");
  BOOST_TEST(j.at("dispatch_url") == "https://***@dispatch.llm");
  BOOST_TEST(j.at("retry_max_attempts") == 3);
  BOOST_TEST(j.at("dispatch_lanes") == json::parse(R"(["local","cloud","frontier"])"));
  const Config demo = load_config(std::vector<std::string>{}, options({}, true));
  BOOST_TEST(json::parse(demo.describe()).at("dispatch_agent_token") == "<unset>");
}

// PRUNE_*_AFTER_HOURS take decimals (tests prune after seconds), 0 switches a phase off.
BOOST_AUTO_TEST_CASE(prune_hours_take_decimals) {
  const std::pair<const char*, double> rows[] = {
      {"6", 6.0}, {"0", 0.0}, {"0.5", 0.5}, {"0.0005", 0.0005}, {".25", 0.25}, {"12.", 12.0}, {"1000000", 1e6},
  };
  for (const auto& [text, hours] : rows) {
    BOOST_TEST_CONTEXT(text) {
      const Config c = load({{"PRUNE_COMPLETED_AFTER_HOURS", text}, {"PRUNE_FAILED_AFTER_HOURS", text}});
      BOOST_TEST(c.prune_completed_after_hours == hours);
      BOOST_TEST(c.prune_failed_after_hours == hours);
    }
  }
}

BOOST_AUTO_TEST_CASE(help_lists_every_variable) {
  const std::string h = help_text();
  for (const char* v : {"DISPATCH_URL", "DISPATCH_AGENT_TOKEN", "DISPATCH_AGENT_NAME", "DISPATCH_LANES", "FOREMAN_NAMESPACE",
                        "RETRY_MAX_ATTEMPTS", "GATEPROFILE_MAP", "LANE_CODER_AGENTS", "BASE_CODER_AGENTS",
                        "REPO_CODER_AGENTS", "REVISION_CODER_AGENTS", "CODER_AGENT_SLOTS", "FIX_FIRST_AGENTS",
                        "ESCALATION_LANE", "VERIFY_ENABLED", "VERDICT_SELF_GO", "MAX_IN_PROGRESS",
                        "DELETE_WORKLOAD_TIMEOUT_S", "PARK_ON_GIVE_UP", "PRUNE_COMPLETED_AFTER_HOURS",
                        "PRUNE_FAILED_AFTER_HOURS", "PR_FIX_ENABLED", "PR_FIX_MAX_ATTEMPTS", "PR_FIX_LANE_AGENTS",
                        "GITHUB_TOKEN", "LOG_FORMAT", "LOG_LEVEL", "CLAIM_INTERVAL_S", "METRICS_ADDR", "HEALTH_ADDR",
                        "LEADER_ELECT", "LEASE_NAME", "LEASE_DURATION_S", "RENEW_DEADLINE_S", "RETRY_PERIOD_S",
                        "POD_NAME", "KUBECONFIG"}) {
    BOOST_TEST_CONTEXT(v) {
      BOOST_TEST(h.find(v) != std::string::npos);
      BOOST_TEST(h.find(flag_of(v)) != std::string::npos);
    }
  }
  BOOST_TEST(h.find("--help") != std::string::npos);
  BOOST_TEST(h.find("--version") != std::string::npos);
  BOOST_TEST(flag_of("DISPATCH_URL") == "--dispatch-url");
}

BOOST_AUTO_TEST_SUITE_END()
