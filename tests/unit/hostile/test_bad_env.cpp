// Every configuration variable that can be bad, with a value of each kind of badness, and
// the exact one-line error that stops the start. (tests/unit/bridge/test_config.cpp has the
// first value of each; these are the ones beyond it, added with the hostile-input table.)
#include "operator/config.hpp"

#include <boost/test/unit_test.hpp>

#include <map>
#include <string>

using namespace fdb::op;

namespace {

using Env = std::map<std::string, std::string>;

std::string error_of(Env env) {
  env.emplace("DISPATCH_AGENT_TOKEN", "s3cr3t-token");
  LoadOptions o;
  o.env = [env = std::move(env)](std::string_view name) -> std::optional<std::string> {
    const auto it = env.find(std::string(name));
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  o.hostname = [] { return std::string("host-1"); };
  try {
    load_config(std::vector<std::string>{}, o);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(accepted)";
}

Config accepted(Env env) {
  env.emplace("DISPATCH_AGENT_TOKEN", "s3cr3t-token");
  LoadOptions o;
  o.env = [env = std::move(env)](std::string_view name) -> std::optional<std::string> {
    const auto it = env.find(std::string(name));
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  o.hostname = [] { return std::string("host-1"); };
  return load_config(std::vector<std::string>{}, o);
}

const std::string kDeep = std::string(100, '[') + std::string(100, ']');

}  // namespace

BOOST_AUTO_TEST_SUITE(hostile_environment)

BOOST_AUTO_TEST_CASE(bad_values_name_their_variable) {
  struct Row {
    std::string var;
    std::string value;
    std::string expect;  // the whole message
  };
  const Row rows[] = {
      // URLs: must parse as the HTTP client parses them; never echo user-info.
      {"DISPATCH_URL", "http://:3000", R"(DISPATCH_URL: expected an http:// or https:// URL with a host, got "http://:3000")"},
      {"DISPATCH_URL", "https://user:hunter2@", R"(DISPATCH_URL: expected an http:// or https:// URL with a host, got "https://***@")"},
      {"DISPATCH_URL", "https://dispatch.llm:99999",
       R"(DISPATCH_URL: expected an http:// or https:// URL with a port between 1 and 65535, got "https://dispatch.llm:99999")"},
      {"DISPATCH_URL", "https://dispatch.llm:0",
       R"(DISPATCH_URL: expected an http:// or https:// URL with a port between 1 and 65535, got "https://dispatch.llm:0")"},
      {"DISPATCH_URL", "https://dispatch.llm:http",
       R"(DISPATCH_URL: expected an http:// or https:// URL with a port between 1 and 65535, got "https://dispatch.llm:http")"},
      {"DISPATCH_URL", "https://user:hunter2@dispatch.llm:http",
       R"(DISPATCH_URL: expected an http:// or https:// URL with a port between 1 and 65535, got "https://***@dispatch.llm:http")"},
      {"DISPATCH_URL", "https://dispatch.llm:",
       R"(DISPATCH_URL: expected an http:// or https:// URL with a port between 1 and 65535, got "https://dispatch.llm:")"},
      {"DISPATCH_URL", "https://dispatch llm", R"(DISPATCH_URL: expected an http:// or https:// URL without blanks, got "https://dispatch llm")"},
      {"DISPATCH_URL", "https://dispatch.llm/a b", R"(DISPATCH_URL: expected an http:// or https:// URL without blanks, got "https://dispatch.llm/a b")"},
      {"DISPATCH_URL", "https://[::1", R"(DISPATCH_URL: expected a valid http:// or https:// URL, got "https://[::1")"},
      {"DISPATCH_URL", "dispatch", R"(DISPATCH_URL: expected an http:// or https:// URL, got "dispatch")"},
      {"DISPATCH_URL", "user:hunter2@dispatch", R"(DISPATCH_URL: expected an http:// or https:// URL, got "***@dispatch")"},
      {"DISPATCH_URL", "ftp://user:hunter2@dispatch", R"(DISPATCH_URL: expected an http:// or https:// URL, got "ftp://***@dispatch")"},
      {"GITHUB_API_URL", "https://api.github.com:65536",
       R"(GITHUB_API_URL: expected an http:// or https:// URL with a port between 1 and 65535, got "https://api.github.com:65536")"},
      {"GITHUB_API_URL", "api.github.com", R"(GITHUB_API_URL: expected an http:// or https:// URL, got "api.github.com")"},
      // Header values.
      {"DISPATCH_AGENT_NAME", "a\rb", R"(DISPATCH_AGENT_NAME: expected an agent name on one line, got "a?b")"},
      {"DISPATCH_AGENT_NAME", "a\x01z", R"(DISPATCH_AGENT_NAME: expected an agent name without control characters, got "a?z")"},
      {"DISPATCH_AGENT_TOKEN", "s3cr3t\nX-Injected: 1",
       "DISPATCH_AGENT_TOKEN: expected a token on one line without control characters (the value is not shown)"},
      {"GITHUB_TOKEN", "ghp_\x7f", "GITHUB_TOKEN: expected a token on one line without control characters (the value is not shown)"},
      // Lanes and names.
      {"DISPATCH_LANES", "local,cl oud", R"(DISPATCH_LANES: expected comma-separated lane names, got "local,cl oud")"},
      {"DISPATCH_LANES", "Backlog", R"(DISPATCH_LANES: backlog is never claimable; expected lanes such as local,cloud,frontier, got "Backlog")"},
      {"DISPATCH_LANES", "local?x=1", R"(DISPATCH_LANES: expected comma-separated lane names, got "local?x=1")"},
      {"FOREMAN_NAMESPACE", "a.b", R"(FOREMAN_NAMESPACE: expected a namespace name (lower-case DNS-1123 label), got "a.b")"},
      {"FOREMAN_NAMESPACE", std::string(64, 'a'),
       R"(FOREMAN_NAMESPACE: expected a namespace name (lower-case DNS-1123 label), got ")" + std::string(64, 'a') + "\""},
      {"LEASE_NAME", "a_b", R"(LEASE_NAME: expected a Lease name (lower-case DNS-1123 subdomain), got "a_b")"},
      {"LEASE_NAME", "a..b", R"(LEASE_NAME: expected a Lease name (lower-case DNS-1123 subdomain), got "a..b")"},
      {"ESCALATION_LANE", "BACKLOG", R"(ESCALATION_LANE: backlog is never claimable; expected a lane, got "BACKLOG")"},
      // Numbers: signs, bases, exponents, blanks inside, out of range.
      {"RETRY_MAX_ATTEMPTS", "+3", R"(RETRY_MAX_ATTEMPTS: expected an integer >= 1, got "+3")"},
      {"RETRY_MAX_ATTEMPTS", "0x10", R"(RETRY_MAX_ATTEMPTS: expected an integer >= 1, got "0x10")"},
      {"RETRY_MAX_ATTEMPTS", "1e3", R"(RETRY_MAX_ATTEMPTS: expected an integer >= 1, got "1e3")"},
      {"RETRY_MAX_ATTEMPTS", "3 4", R"(RETRY_MAX_ATTEMPTS: expected an integer >= 1, got "3 4")"},
      {"CLAIM_INTERVAL_S", "-5", R"(CLAIM_INTERVAL_S: expected an integer >= 1, got "-5")"},
      {"CLAIM_INTERVAL_S", "99999999999999999999", R"(CLAIM_INTERVAL_S: expected an integer >= 1, got "99999999999999999999")"},
      {"DELETE_WORKLOAD_TIMEOUT_S", "0", R"(DELETE_WORKLOAD_TIMEOUT_S: expected an integer >= 1, got "0")"},
      {"PR_FIX_MAX_ATTEMPTS", "-1", R"(PR_FIX_MAX_ATTEMPTS: expected an integer >= 1, got "-1")"},
      {"MAX_IN_PROGRESS", "ten", R"(MAX_IN_PROGRESS: expected an integer >= 0, got "ten")"},
      {"PRUNE_COMPLETED_AFTER_HOURS", "-1", R"(PRUNE_COMPLETED_AFTER_HOURS: expected a number of hours >= 0 (decimals allowed, e.g. 0.5), got "-1")"},
      {"PRUNE_FAILED_AFTER_HOURS", "two", R"(PRUNE_FAILED_AFTER_HOURS: expected a number of hours >= 0 (decimals allowed, e.g. 0.5), got "two")"},
      {"LEASE_DURATION_S", "0", R"(LEASE_DURATION_S: expected an integer >= 1, got "0")"},
      {"RENEW_DEADLINE_S", "x", R"(RENEW_DEADLINE_S: expected an integer >= 1, got "x")"},
      {"RETRY_PERIOD_S", "-2", R"(RETRY_PERIOD_S: expected an integer >= 1, got "-2")"},
      // Booleans.
      {"VERIFY_ENABLED", "yes please", R"(VERIFY_ENABLED: expected true or false (also 1/0, yes/no), got "yes please")"},
      {"LEADER_ELECT", "t", R"(LEADER_ELECT: expected true or false (also 1/0, yes/no), got "t")"},
      {"PARK_ON_GIVE_UP", "nope", R"(PARK_ON_GIVE_UP: expected true or false (also 1/0, yes/no), got "nope")"},
      {"PR_FIX_ENABLED", "2", R"(PR_FIX_ENABLED: expected true or false (also 1/0, yes/no), got "2")"},
      // JSON maps: nesting, encoding, kinds, empty strings.
      {"GATEPROFILE_MAP", kDeep,
       "GATEPROFILE_MAP: invalid JSON (nested deeper than 64 levels) in \"" + kDeep.substr(0, 80) + "...\""},
      {"GATEPROFILE_MAP", "{\"o/r\":{\"language\":\"\xff\"}}",
       "GATEPROFILE_MAP: invalid JSON (syntax error) in \"{\\\"o/r\\\":{\\\"language\\\":\\\"\xff\\\"}}\""},
      {"GATEPROFILE_MAP", "null", "GATEPROFILE_MAP: expected a JSON object, got null"},
      {"GATEPROFILE_MAP", R"({"o/r":null})", R"(GATEPROFILE_MAP: "o/r": expected a gateProfile object, got null)"},
      {"GATEPROFILE_MAP", R"({"o/r":{}} x)", R"(GATEPROFILE_MAP: invalid JSON (extra data) in "{\"o/r\":{}} x")"},
      {"LANE_CODER_AGENTS", R"({"*":["a",""]})",
       R"(LANE_CODER_AGENTS: "*": expected a string or a non-empty list of strings, got a list with an empty string)"},
      {"LANE_CODER_AGENTS", R"({"*":"  "})", R"(LANE_CODER_AGENTS: "*": expected a string or a non-empty list of strings, got an empty string)"},
      {"BASE_CODER_AGENTS", R"({"go":{"a":1}})", R"(BASE_CODER_AGENTS: "go": expected a string or a non-empty list of strings, got an object)"},
      {"REPO_CODER_AGENTS", "[]", "REPO_CODER_AGENTS: expected a JSON object, got an array"},
      {"REVISION_CODER_AGENTS", kDeep,
       "REVISION_CODER_AGENTS: invalid JSON (nested deeper than 64 levels) in \"" + kDeep.substr(0, 80) + "...\""},
      {"PR_FIX_LANE_AGENTS", R"({"NORMAL":null})", R"(PR_FIX_LANE_AGENTS: "NORMAL": expected a string or a non-empty list of strings, got null)"},
      {"CODER_AGENT_SLOTS", "[1]", "CODER_AGENT_SLOTS: expected a JSON object, got an array"},
      {"FIX_FIRST_AGENTS", R"(["a",""])", "FIX_FIRST_AGENTS: expected a list of Agent names, got an entry that is an empty string"},
      {"FIX_FIRST_AGENTS", R"(["a",["b"]])", "FIX_FIRST_AGENTS: expected a list of Agent names, got an entry that is an array"},
      {"FIX_FIRST_AGENTS", "[" + kDeep, R"(FIX_FIRST_AGENTS: expected a JSON list of Agent names or a comma-separated list, got ")" +
                                            ("[" + kDeep).substr(0, 80) + "...\""},
      {"VERDICT_SELF_GO", "docs,DOCS",
       R"(VERDICT_SELF_GO: unknown work class "DOCS"; expected a comma list of code-fix, docs, packaging, config, ci-policy, release-policy)"},
      // Addresses.
      {"METRICS_ADDR", ":8080", R"(METRICS_ADDR: expected host:port, got ":8080")"},
      {"METRICS_ADDR", "[::1]", R"(METRICS_ADDR: expected host:port, got "[::1]")"},
      {"METRICS_ADDR", "[::1]8080", R"(METRICS_ADDR: expected host:port, got "[::1]8080")"},
      {"METRICS_ADDR", "::1:8080", R"(METRICS_ADDR: expected host:port, got "::1:8080")"},
      {"METRICS_ADDR", "0.0.0.0:", R"(METRICS_ADDR: expected host:port with a port between 0 and 65535, got "0.0.0.0:")"},
      {"METRICS_ADDR", "0.0.0.0:-1", R"(METRICS_ADDR: expected host:port with a port between 0 and 65535, got "0.0.0.0:-1")"},
      {"HEALTH_ADDR", "local host:8081", R"(HEALTH_ADDR: expected host:port, got "local host:8081")"},
      {"HEALTH_ADDR", "http://0.0.0.0:8081", R"(HEALTH_ADDR: expected host:port, got "http://0.0.0.0:8081")"},
      {"HEALTH_ADDR", "user@host:8081", R"(HEALTH_ADDR: expected host:port, got "user@host:8081")"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.var << "=" << r.value.substr(0, 60)) {
      const std::string e = error_of({{r.var, r.value}});
      BOOST_TEST(e == r.expect);
      BOOST_TEST(e.find('\n') == std::string::npos);
      BOOST_TEST(e.find("s3cr3t") == std::string::npos);
      BOOST_TEST(e.find("hunter2") == std::string::npos);
      BOOST_TEST(e.find("X-Injected") == std::string::npos);
    }
  }
}

// Values the Python bridge accepted where it was lenient (issue 18 item 1): never a failed
// start; one warning naming the variable; the Python's reading.
BOOST_AUTO_TEST_CASE(values_the_python_was_lenient_about_start) {
  const std::pair<std::string, std::string> rows[] = {
      {"CODER_AGENT_SLOTS", R"({"c":-1})"},   {"CODER_AGENT_SLOTS", R"({"c":2147483648})"},
      {"CODER_AGENT_SLOTS", R"({"c":true})"}, {"CODER_AGENT_SLOTS", R"({"c":null})"},
      {"CODER_AGENT_SLOTS", R"({"c":1e300})"}, {"LOG_FORMAT", "logfmt"},
      {"LOG_LEVEL", "5"},
  };
  for (const auto& [var, value] : rows) {
    BOOST_TEST_CONTEXT(var << "=" << value) {
      const auto c = accepted({{var, value}});
      std::vector<std::string> mine;
      for (const auto& w : c.warnings)
        if (w.rfind(var + ":", 0) == 0) mine.push_back(w);
      BOOST_TEST_REQUIRE(mine.size() == 1u);
      BOOST_TEST(mine[0].find('\n') == std::string::npos);
    }
  }
  BOOST_TEST(accepted({{"CODER_AGENT_SLOTS", R"({"c":1e300})"}}).workload.coder_agent_slots.at("c") == 2147483647);
  BOOST_TEST(accepted({{"CODER_AGENT_SLOTS", R"({"c":-1e300})"}}).workload.coder_agent_slots.at("c") == 1);
  BOOST_TEST(accepted({{"CODER_AGENT_SLOTS", R"({"c":2147483648})"}}).workload.coder_agent_slots.at("c") == 2147483647);
}

BOOST_AUTO_TEST_CASE(odd_but_valid_values_are_normalized) {
  // An upper-case scheme was accepted here but refused by the HTTP client at start.
  BOOST_TEST(accepted({{"DISPATCH_URL", "HTTPS://Dispatch.LLM:3000/api/"}}).dispatch_url == "https://Dispatch.LLM:3000/api");
  BOOST_TEST(accepted({{"GITHUB_API_URL", "Http://127.0.0.1:8080"}}).github_api_url == "http://127.0.0.1:8080");
  // Blanks and the trailing newline of a Secret mounted from a file are not part of a value.
  BOOST_TEST(accepted({{"DISPATCH_AGENT_TOKEN", " tok\n"}}).dispatch_agent_token == "tok");
  const Config c = accepted({{"RETRY_MAX_ATTEMPTS", " 5\n"}, {"METRICS_ADDR", "[::1]:0"}, {"DISPATCH_AGENT_NAME", "agent\t"}});
  BOOST_TEST(c.retry_max_attempts == 5);
  BOOST_TEST(c.metrics_addr.text() == "[::1]:0");
  BOOST_TEST(c.workload.agent_name == "agent");
}

BOOST_AUTO_TEST_SUITE_END()
