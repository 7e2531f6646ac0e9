// The table of environment variables and the readers of their values (one function per
// kind of value; each throws ConfigError naming the variable). Pure apart from the
// environment lookup the caller passes in.
#include "operator/config_env.hpp"

#include "watch/json_access.hpp"
#include "watch/json_input.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <charconv>
#include <climits>

namespace fdb::op::config_env {

namespace json = boost::json;
namespace po = boost::program_options;
using kube::json_kind_name;


const Var kVars[] = {
    {"DISPATCH_URL", "http://dispatch.llm:3000", "base URL of the dispatch service (https recommended)"},
    {"DISPATCH_AGENT_TOKEN", "", "bearer token for dispatch (required; prefer the environment)"},
    {"DISPATCH_AGENT_NAME", "foreman-coder", "agent name sent as X-Agent-Name and in claims"},
    {"DISPATCH_LANES", "local,cloud,frontier", "comma-separated lanes to claim from"},
    {"FOREMAN_NAMESPACE", "llm", "namespace of the Workloads"},
    {"RETRY_MAX_ATTEMPTS", "3", "attempts of an issue before escalation, park or tombstone"},
    {"GATEPROFILE_MAP", "", "JSON object: repo (or \"*\") -> Workload gateProfile"},
    {"LANE_CODER_AGENTS", "", "JSON object: lane (or \"*\") -> coder Agent or list of Agents"},
    {"BASE_CODER_AGENTS", "", "JSON object: gateProfile language (or \"*\") -> coder Agent(s)"},
    {"REPO_CODER_AGENTS", "", "JSON object: repo -> coder Agent(s)"},
    {"REVISION_CODER_AGENTS", "", "JSON object: lane (or \"*\") -> revision coder Agent(s)"},
    {"CODER_AGENT_SLOTS", "", "JSON object: coder Agent (or \"*\") -> concurrent Workloads"},
    {"FIX_FIRST_AGENTS", "", "coder Agents kept for fix work while busy (JSON list or comma list)"},
    {"ESCALATION_LANE", "", "lane that exhausted issues move to (empty: off)"},
    {"VERIFY_ENABLED", "true", "emit the verify gate step", true},
    {"VERDICT_SELF_GO", "", "comma list of work classes a coder GO may self-certify"},
    {"MAX_IN_PROGRESS", "0", "cap of live bridge Workloads (0: no cap)"},
    {"DELETE_WORKLOAD_TIMEOUT_S", "60", "seconds to wait for a deleted Workload to be gone"},
    {"PARK_ON_GIVE_UP", "true", "park an exhausted issue for a human instead of a tombstone", true},
    {"PRUNE_COMPLETED_AFTER_HOURS", "6", "prune Completed Workloads after this many hours (decimals allowed; 0: never)"},
    {"PRUNE_FAILED_AFTER_HOURS", "48", "prune Failed tombstones after this many hours (decimals allowed; 0: never)"},
    {"PR_FIX_ENABLED", "false", "run the PR-fix queue", true},
    {"PR_FIX_MAX_ATTEMPTS", "3", "PR-fix attempts before BLOCKED"},
    {"PR_FIX_LANE_AGENTS", "{\"NORMAL\":\"coder\",\"ESCALATED\":\"coder-frontier\"}",
     "JSON object: PR-fix lane -> coder Agent(s)"},
    {"GITHUB_TOKEN", "", "GitHub token for branch evidence (empty: task results only)"},
    {"GITHUB_API_URL", "https://api.github.com", "GitHub API base URL"},
    {"LOG_FORMAT", "json", "json or text"},
    {"LOG_LEVEL", "INFO", "DEBUG, INFO, WARNING or ERROR"},
    {"CLAIM_INTERVAL_S", "30", "seconds between claim passes"},
    {"METRICS_ADDR", "0.0.0.0:8080", "host:port of /metrics"},
    {"HEALTH_ADDR", "0.0.0.0:8081", "host:port of /healthz and /readyz"},
    {"LEADER_ELECT", "true", "elect a leader through a Lease", true},
    {"LEASE_NAME", "foreman-dispatch-bridge", "name of the Lease"},
    {"LEASE_DURATION_S", "15", "lease duration in seconds"},
    {"RENEW_DEADLINE_S", "10", "seconds a leader may fail to renew before it steps down"},
    {"RETRY_PERIOD_S", "2", "seconds between lease attempts"},
    {"POD_NAME", "", "identity in the Lease (default: the host name)"},
    {"KUBECONFIG", "", "kubeconfig file(s) (default: in-cluster)"},
};

std::string_view trim(std::string_view s) noexcept {
  constexpr std::string_view ws = " \t\r\n";
  const auto b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
  return out;
}

// A value for an error message: quoted, escaped, at most 80 characters.
std::string quoted(std::string_view v) {
  std::string cut = dispatch::utf8_prefix(v, 80);
  std::string out = "\"";
  for (const char c : cut) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += c == '\n' ? "\\n" : c == '\t' ? "\\t" : "?";
    } else {
      out += c;
    }
  }
  if (cut.size() < v.size()) out += "...";
  return out + "\"";
}

// kube::json_kind_name, but "an empty string" for a string with nothing but blanks.
std::string kind_or_empty(const json::value& v) {
  if (v.is_string() && trim(v.get_string()).empty()) return "an empty string";
  return std::string(json_kind_name(v));
}

bool is_dns_label(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  for (const char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return s.front() != '-' && s.back() != '-';
}

bool is_dns_subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  std::size_t start = 0;
  while (true) {
    const auto dot = s.find('.', start);
    if (!is_dns_label(s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start)))
      return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool is_loopback_host(std::string_view host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

[[noreturn]] void fail(const Raw& r, std::string_view message) {
  std::string line(r.name);
  if (r.from_flag) line += " (" + flag_of(r.name) + ")";
  line += ": ";
  line += message;
  throw ConfigError(line);
}

[[noreturn]] void fail_got(const Raw& r, std::string_view expected) {
  fail(r, std::string(expected) + ", got " + quoted(r.value.value_or("")));
}

void read_int(const Raw& r, int& out, int min, int max) {
  if (!r.value) return;
  const std::string_view t = *r.value;
  long long n = 0;
  const auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
  const bool ok = ec == std::errc() && p == t.data() + t.size() && n >= min && n <= max;
  if (!ok) {
    if (max == INT_MAX) fail_got(r, "expected an integer >= " + std::to_string(min));
    fail_got(r, "expected an integer between " + std::to_string(min) + " and " + std::to_string(max));
  }
  out = static_cast<int>(n);
}

// Hours as a decimal number: "6", "0.5", "0.0005". Not negative, not an exponent, at most
// a million hours.
void read_hours(const Raw& r, double& out) {
  if (!r.value) return;
  const std::string_view t = *r.value;
  const bool plain = !t.empty() && t.find_first_not_of("0123456789.") == std::string_view::npos &&
                     std::count(t.begin(), t.end(), '.') <= 1 && t != ".";
  double v = -1;
  bool ok = plain;
  if (ok) {
    const auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    ok = ec == std::errc() && p == t.data() + t.size() && v >= 0 && v <= 1e6;
  }
  if (!ok) fail_got(r, "expected a number of hours >= 0 (decimals allowed, e.g. 0.5)");
  out = v;
}

void read_bool(const Raw& r, bool& out) {
  if (!r.value) return;
  const std::string v = lower(*r.value);
  if (v == "true" || v == "1" || v == "yes" || v == "on") {
    out = true;
  } else if (v == "false" || v == "0" || v == "no" || v == "off") {
    out = false;
  } else {
    fail_got(r, "expected true or false (also 1/0, yes/no)");
  }
}

void read_string(const Raw& r, std::string& out) {
  if (r.value) out = *r.value;
}

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

// A token goes into an HTTP header: a control character (a line break inside it) would
// break the request. The message never shows the value.
void read_secret(const Raw& r, std::string& out) {
  if (!r.value) return;
  if (has_control(*r.value)) fail(r, "expected a token on one line without control characters (the value is not shown)");
  out = *r.value;
}

// http(s)://host[:port][/path], without a trailing slash, the scheme in lower case. An
// error never shows the URL's user-info (it may hold a password).
void read_url(const Raw& r, std::string& out) {
  if (!r.value) return;
  std::string v = *r.value;
  const auto bad = [&](std::string_view expected) {
    // Without a scheme there is no telling where user-info ends: hide all before an '@'.
    const auto at = v.rfind('@');
    const std::string shown = v.find("://") != std::string::npos ? redact_url(v)
                              : at != std::string::npos           ? "***" + v.substr(at)
                                                                  : v;
    fail(r, std::string(expected) + ", got " + quoted(shown));
  };
  const std::string l = lower(v);
  std::size_t scheme_end = 0;
  if (l.rfind("https://", 0) == 0) {
    scheme_end = 8;
  } else if (l.rfind("http://", 0) == 0) {
    scheme_end = 7;
  } else {
    bad("expected an http:// or https:// URL");
  }
  v = l.substr(0, scheme_end) + v.substr(scheme_end);  // "HTTPS://" is https
  const auto authority = std::string_view(v).substr(scheme_end, v.find_first_of("/?#", scheme_end) - scheme_end);
  const auto at = authority.rfind('@');
  const auto hostport = at == std::string_view::npos ? authority : authority.substr(at + 1);
  if (v.find_first_of(" \t") != std::string::npos) bad("expected an http:// or https:// URL without blanks");
  if (hostport.empty() || hostport.front() == ':') bad("expected an http:// or https:// URL with a host");
  // What the HTTP client will parse (watch/client_io.cpp): refuse here what it would refuse.
  const auto parsed = boost::urls::parse_uri(v);
  if (!parsed) bad("expected a valid http:// or https:// URL");
  if (parsed->has_port()) {
    const std::string_view port = parsed->port();
    unsigned n = 0;
    const auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
    if (port.empty() || ec != std::errc() || p != port.data() + port.size() || n < 1 || n > 65535)
      bad("expected an http:// or https:// URL with a port between 1 and 65535");
  }
  while (v.size() > scheme_end && v.back() == '/') v.pop_back();
  out = v;
}

void read_endpoint(const Raw& r, Endpoint& out) {
  if (!r.value) return;
  const std::string_view v = *r.value;
  std::string_view host;
  std::string_view port;
  if (!v.empty() && v.front() == '[') {
    const auto close = v.find(']');
    if (close == std::string_view::npos || close + 1 >= v.size() || v[close + 1] != ':')
      fail_got(r, "expected host:port");
    host = v.substr(1, close - 1);
    port = v.substr(close + 2);
  } else {
    const auto colon = v.rfind(':');
    if (colon == std::string_view::npos || v.find(':') != colon) fail_got(r, "expected host:port");
    host = v.substr(0, colon);
    port = v.substr(colon + 1);
  }
  unsigned n = 0;
  const auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
  if (host.empty() || host.find_first_of(" \t/?#@[]") != std::string_view::npos) fail_got(r, "expected host:port");
  if (port.empty() || ec != std::errc() || p != port.data() + port.size() || n > 65535)
    fail_got(r, "expected host:port with a port between 0 and 65535");
  out = Endpoint{std::string(host), static_cast<std::uint16_t>(n)};
}

std::vector<std::string> split(std::string_view s, std::string_view seps) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i <= s.size()) {
    const auto j = s.find_first_of(seps, i);
    const auto part = trim(s.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i));
    if (!part.empty()) out.emplace_back(part);
    if (j == std::string_view::npos) break;
    i = j + 1;
  }
  return out;
}

void read_lanes(const Raw& r, std::vector<std::string>& out) {
  if (!r.value) return;
  std::vector<std::string> lanes;
  for (const auto& part : split(*r.value, ",")) {
    const std::string lane = dispatch::normalize_lane(part);
    if (lower(lane) == "backlog") fail_got(r, "backlog is never claimable; expected lanes such as local,cloud,frontier");
    if (lane.find_first_of(" \t/?&#") != std::string::npos) fail_got(r, "expected comma-separated lane names");
    if (std::find(lanes.begin(), lanes.end(), lane) == lanes.end()) lanes.push_back(lane);
  }
  if (lanes.empty()) fail_got(r, "expected at least one lane");
  out = std::move(lanes);
}

json::object parse_json_object(const Raw& r) {
  boost::system::error_code ec;
  json::value v = kube::parse_json(*r.value, ec);
  if (ec) fail(r, "invalid JSON (" + kube::json_error_text(ec) + ") in " + quoted(*r.value));
  if (!v.is_object()) fail(r, "expected a JSON object, got " + std::string(json_kind_name(v)));
  return std::move(v.get_object());
}

// key → "agent" or ["agent", …].
void read_agent_map(const Raw& r, dispatch::AgentMap& out) {
  if (!r.value) return;
  dispatch::AgentMap map;
  for (const auto& [key, value] : parse_json_object(r)) {
    const std::string k(key);
    dispatch::AgentChoices choices;
    if (value.is_string() && !trim(value.get_string()).empty()) {
      choices.emplace_back(trim(value.get_string()));
    } else if (value.is_array() && !value.get_array().empty()) {
      for (const auto& e : value.get_array()) {
        if (!e.is_string() || trim(e.get_string()).empty())
          fail(r, quoted(k) + ": expected a string or a non-empty list of strings, got a list with " + kind_or_empty(e));
        choices.emplace_back(trim(e.get_string()));
      }
    } else {
      fail(r, quoted(k) + ": expected a string or a non-empty list of strings, got " + kind_or_empty(value));
    }
    map[k] = std::move(choices);
  }
  out = std::move(map);
}

void read_slots(const Raw& r, dispatch::SlotMap& out, std::vector<std::string>& warnings) {
  if (!r.value) return;
  dispatch::SlotMap map;
  std::string lenient;
  for (const auto& [key, value] : parse_json_object(r)) {
    const SlotCount n = python_slot_count(value);
    if (!n.exact) lenient += (lenient.empty() ? "" : ", ") + quoted(std::string(key)) + ": " + json::serialize(value);
    map[std::string(key)] = n.slots;
  }
  if (!lenient.empty()) {
    warnings.push_back(std::string(r.name) + ": not a positive integer, counted as the Python bridge did (a number " +
                       "cut to an integer, a numeric string read, anything else or below 1 as 1): " + lenient);
  }
  out = std::move(map);
}

void read_gate_profiles(const Raw& r, json::object& out) {
  if (!r.value) return;
  json::object map = parse_json_object(r);
  for (const auto& [key, value] : map) {
    if (!value.is_object())
      fail(r, quoted(std::string(key)) + ": expected a gateProfile object, got " + std::string(json_kind_name(value)));
    if (const auto* lang = value.get_object().if_contains("language"); lang != nullptr && !lang->is_string())
      fail(r, quoted(std::string(key)) + ": language: expected a string, got " + std::string(json_kind_name(*lang)));
  }
  out = std::move(map);
}

void read_fix_first(const Raw& r, std::set<std::string, std::less<>>& out) {
  if (!r.value) return;
  std::set<std::string, std::less<>> agents;
  if (r.value->front() == '[') {
    boost::system::error_code ec;
    const json::value v = kube::parse_json(*r.value, ec);
    if (ec || !v.is_array()) fail_got(r, "expected a JSON list of Agent names or a comma-separated list");
    for (const auto& e : v.get_array()) {
      if (!e.is_string() || trim(e.get_string()).empty())
        fail(r, "expected a list of Agent names, got an entry that is " + kind_or_empty(e));
      agents.emplace(trim(e.get_string()));
    }
  } else {
    for (auto& a : split(*r.value, ", \t")) agents.insert(std::move(a));
  }
  out = std::move(agents);
}

void read_self_go(const Raw& r, std::vector<std::string>& out) {
  if (!r.value) return;
  static constexpr std::string_view kClasses[] = {"code-fix", "docs", "packaging", "config", "ci-policy", "release-policy"};
  std::vector<std::string> classes;
  for (const auto& c : split(*r.value, ",")) {
    if (std::find(std::begin(kClasses), std::end(kClasses), c) == std::end(kClasses))
      fail(r, "unknown work class " + quoted(c) +
                  "; expected a comma list of code-fix, docs, packaging, config, ci-policy, release-policy");
    if (std::find(classes.begin(), classes.end(), c) == classes.end()) classes.push_back(c);
  }
  out = std::move(classes);
}

std::span<const Var> vars() { return kVars; }

po::options_description make_options() {
  po::options_description desc("Options (each flag also reads the environment variable named beside it; a flag wins)");
  desc.add_options()("help,h", "print this help and exit")("version", "print the version and exit");
  for (const auto& v : kVars) {
    const std::string flag = flag_of(v.name).substr(2);
    std::string text = std::string(v.name) + ": " + v.help;
    if (*v.def != '\0') text += " [default: " + std::string(v.def) + "]";
    auto* sem = po::value<std::string>()->value_name(v.boolean ? "BOOL" : "VALUE");
    if (v.boolean) sem->implicit_value("true");
    desc.add_options()(flag.c_str(), sem, text.c_str());
  }
  return desc;
}

}  // namespace fdb::op::config_env
