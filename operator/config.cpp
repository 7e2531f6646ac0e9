#include "operator/config.hpp"

#include "watch/json_input.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/program_options.hpp>
#include <boost/url/parse.hpp>

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <sstream>

namespace fdb::op {

namespace json = boost::json;
namespace po = boost::program_options;

namespace {

// Every variable: its name, its default as text (for --help), what it is.
struct Var {
  const char* name;
  const char* def;
  const char* help;
  bool boolean = false;  // a bare flag (--leader-elect) means true
};

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

std::string_view json_kind(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return "a number";
    case json::kind::string: return "a string";
    case json::kind::array: return "an array";
    case json::kind::object: return "an object";
  }
  return "?";
}

// json_kind, but "an empty string" for a string with nothing but blanks.
std::string kind_or_empty(const json::value& v) {
  if (v.is_string() && trim(v.get_string()).empty()) return "an empty string";
  return std::string(json_kind(v));
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

// The raw text of one variable and where it came from.
struct Raw {
  std::string_view name;
  std::optional<std::string> value;  // trimmed; nullopt: unset (or blank)
  bool from_flag = false;
};

class Reader {
 public:
  Reader(const po::variables_map& vm, const GetEnv& env) : vm_(vm), env_(env) {}

  Raw get(std::string_view name) const {
    const std::string flag = flag_of(name).substr(2);
    if (vm_.count(flag) != 0) {
      const auto t = trim(vm_[flag].as<std::string>());
      if (!t.empty()) return Raw{name, std::string(t), true};
    }
    if (env_) {
      if (auto v = env_(name)) {
        const auto t = trim(*v);
        if (!t.empty()) return Raw{name, std::string(t), false};
      }
    }
    return Raw{name, std::nullopt, false};
  }

 private:
  const po::variables_map& vm_;
  const GetEnv& env_;
};

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

void read_int(const Raw& r, int& out, int min, int max = INT_MAX) {
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

std::string redact_userinfo(std::string_view url);

// http(s)://host[:port][/path], without a trailing slash, the scheme in lower case. An
// error never shows the URL's user-info (it may hold a password).
void read_url(const Raw& r, std::string& out) {
  if (!r.value) return;
  std::string v = *r.value;
  const auto bad = [&](std::string_view expected) {
    // Without a scheme there is no telling where user-info ends: hide all before an '@'.
    const auto at = v.rfind('@');
    const std::string shown = v.find("://") != std::string::npos ? redact_userinfo(v)
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
  // What the HTTP client will parse (watch/client.cpp): refuse here what it would refuse.
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

std::string url_host(std::string_view url) {
  const auto s = url.find("://");
  auto rest = url.substr(s == std::string_view::npos ? 0 : s + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  if (!rest.empty() && rest.front() == '[') return std::string(rest.substr(0, rest.find(']') + 1));
  return std::string(rest.substr(0, rest.find(':')));
}

std::string redact_userinfo(std::string_view url) {
  const auto s = url.find("://");
  if (s == std::string_view::npos) return std::string(url);
  const auto end = url.find_first_of("/?#", s + 3);
  const auto authority = url.substr(s + 3, end == std::string_view::npos ? std::string_view::npos : end - s - 3);
  const auto at = authority.rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  return std::string(url.substr(0, s + 3)) + "***@" + std::string(url.substr(s + 3 + at + 1));
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
  if (!v.is_object()) fail(r, "expected a JSON object, got " + std::string(json_kind(v)));
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
      fail(r, quoted(std::string(key)) + ": expected a gateProfile object, got " + std::string(json_kind(value)));
    if (const auto* lang = value.get_object().if_contains("language"); lang != nullptr && !lang->is_string())
      fail(r, quoted(std::string(key)) + ": language: expected a string, got " + std::string(json_kind(*lang)));
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

Config load(const std::vector<std::string>& args, const LoadOptions& opts) {
  const auto desc = make_options();
  po::variables_map vm;
  try {
    const po::positional_options_description none;  // no positional arguments
    po::store(po::command_line_parser(args).options(desc).positional(none).style(po::command_line_style::unix_style).run(),
              vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw ConfigError(std::string(e.what()) + " (see --help)");
  }

  Config c;
  if (vm.count("help") != 0) {
    c.show_help = true;
    return c;
  }
  if (vm.count("version") != 0) {
    c.show_version = true;
    return c;
  }

  const Reader rd(vm, opts.env);
  auto& w = c.workload;

  const Raw url = rd.get("DISPATCH_URL");
  read_url(url, c.dispatch_url);
  const Raw token = rd.get("DISPATCH_AGENT_TOKEN");
  read_secret(token, c.dispatch_agent_token);
  if (c.dispatch_agent_token.empty() && !opts.demo)
    fail(token, "required (the bearer token for the dispatch service), but not set");
  if (token.from_flag)
    c.warnings.emplace_back("DISPATCH_AGENT_TOKEN was given as a flag: it is visible in the process list; prefer the environment");

  if (const Raw r = rd.get("DISPATCH_AGENT_NAME"); r.value) {
    if (r.value->find_first_of("\r\n") != std::string::npos) fail_got(r, "expected an agent name on one line");
    if (has_control(*r.value)) fail_got(r, "expected an agent name without control characters");
    w.agent_name = *r.value;
  }
  read_lanes(rd.get("DISPATCH_LANES"), c.dispatch_lanes);
  if (const Raw r = rd.get("FOREMAN_NAMESPACE"); r.value) {
    if (!is_dns_label(*r.value)) fail_got(r, "expected a namespace name (lower-case DNS-1123 label)");
    w.namespace_name = *r.value;
  }
  if (const Raw r = rd.get("RETRY_MAX_ATTEMPTS"); r.value) {
    read_int(r, c.retry_max_attempts, 1);
    // Attempt annotations saturate at kMaxAttemptValue; a cap beyond it could never be reached.
    if (c.retry_max_attempts >= dispatch::kMaxAttemptValue)
      fail_got(r, "expected an integer between 1 and " + std::to_string(dispatch::kMaxAttemptValue - 1));
  }
  read_gate_profiles(rd.get("GATEPROFILE_MAP"), w.gate_profiles);
  read_agent_map(rd.get("LANE_CODER_AGENTS"), w.lane_coder_agents);
  read_agent_map(rd.get("BASE_CODER_AGENTS"), w.base_coder_agents);
  read_agent_map(rd.get("REPO_CODER_AGENTS"), w.repo_coder_agents);
  read_agent_map(rd.get("REVISION_CODER_AGENTS"), w.revision_coder_agents);
  read_slots(rd.get("CODER_AGENT_SLOTS"), w.coder_agent_slots, c.warnings);
  read_fix_first(rd.get("FIX_FIRST_AGENTS"), w.fix_first_agents);
  if (const Raw r = rd.get("ESCALATION_LANE"); r.value) {
    c.escalation_lane = dispatch::normalize_lane(*r.value);
    if (lower(c.escalation_lane) == "backlog") fail_got(r, "backlog is never claimable; expected a lane");
  }
  read_bool(rd.get("VERIFY_ENABLED"), w.verify_enabled);
  read_self_go(rd.get("VERDICT_SELF_GO"), w.verdict_self_go);
  read_int(rd.get("MAX_IN_PROGRESS"), c.max_in_progress, 0);
  read_int(rd.get("DELETE_WORKLOAD_TIMEOUT_S"), c.delete_workload_timeout_s, 1);
  read_bool(rd.get("PARK_ON_GIVE_UP"), c.park_on_give_up);
  read_hours(rd.get("PRUNE_COMPLETED_AFTER_HOURS"), c.prune_completed_after_hours);
  read_hours(rd.get("PRUNE_FAILED_AFTER_HOURS"), c.prune_failed_after_hours);
  read_bool(rd.get("PR_FIX_ENABLED"), c.pr_fix_enabled);
  read_int(rd.get("PR_FIX_MAX_ATTEMPTS"), c.pr_fix_max_attempts, 1);
  read_agent_map(rd.get("PR_FIX_LANE_AGENTS"), c.pr_fix_lane_agents);
  const Raw gh = rd.get("GITHUB_TOKEN");
  read_secret(gh, c.github_token);
  if (gh.from_flag)
    c.warnings.emplace_back("GITHUB_TOKEN was given as a flag: it is visible in the process list; prefer the environment");
  read_url(rd.get("GITHUB_API_URL"), c.github_api_url);
  if (const Raw r = rd.get("LOG_FORMAT"); r.value) {
    const LenientValue<log::Format> f = python_log_format(*r.value);
    c.log_format = f.value;
    if (!f.known) c.warnings.push_back("LOG_FORMAT: unknown value " + quoted(*r.value) +
                                       "; human-readable text, as the Python bridge did for anything but json");
  }
  if (const Raw r = rd.get("LOG_LEVEL"); r.value) {
    const LenientValue<log::Level> l = python_log_level(*r.value);
    c.log_level = l.value;
    if (!l.known) c.warnings.push_back("LOG_LEVEL: unknown value " + quoted(*r.value) +
                                       "; INFO, as the Python bridge did (expected DEBUG, INFO, WARNING or ERROR)");
  }
  read_int(rd.get("CLAIM_INTERVAL_S"), c.claim_interval_s, 1);
  read_endpoint(rd.get("METRICS_ADDR"), c.metrics_addr);
  read_endpoint(rd.get("HEALTH_ADDR"), c.health_addr);
  read_bool(rd.get("LEADER_ELECT"), c.leader_elect);
  if (const Raw r = rd.get("LEASE_NAME"); r.value) {
    if (!is_dns_subdomain(*r.value)) fail_got(r, "expected a Lease name (lower-case DNS-1123 subdomain)");
    c.lease_name = *r.value;
  }
  const Raw lease = rd.get("LEASE_DURATION_S");
  const Raw renew = rd.get("RENEW_DEADLINE_S");
  const Raw retry = rd.get("RETRY_PERIOD_S");
  read_int(lease, c.lease_duration_s, 1);
  read_int(renew, c.renew_deadline_s, 1);
  read_int(retry, c.retry_period_s, 1);
  if (c.renew_deadline_s >= c.lease_duration_s) {
    const Raw& at = renew.value ? renew : lease;
    fail(at, "RENEW_DEADLINE_S (" + std::to_string(c.renew_deadline_s) + ") must be less than LEASE_DURATION_S (" +
                 std::to_string(c.lease_duration_s) + ")");
  }
  if (c.retry_period_s >= c.renew_deadline_s) {
    const Raw& at = retry.value ? retry : renew;
    fail(at, "RETRY_PERIOD_S (" + std::to_string(c.retry_period_s) + ") must be less than RENEW_DEADLINE_S (" +
                 std::to_string(c.renew_deadline_s) + ")");
  }
  read_string(rd.get("POD_NAME"), c.identity);
  if (c.identity.empty()) {
    if (opts.hostname) {
      c.identity = opts.hostname();
    } else {
      char buf[256] = {};
      if (::gethostname(buf, sizeof buf - 1) == 0) c.identity = buf;
    }
    if (c.identity.empty()) c.identity = "foreman-dispatch-bridge";
  }
  if (const Raw r = rd.get("KUBECONFIG"); r.value) c.kubeconfig = *r.value;

  // Warnings.
  if (lower(c.dispatch_url).rfind("http://", 0) == 0 && !is_loopback_host(url_host(c.dispatch_url)))
    c.warnings.push_back("DISPATCH_URL uses cleartext HTTP (" + redact_userinfo(c.dispatch_url) +
                         "); the bearer token is sent unencrypted. Use https:// or restrict access with network policies.");
  if (!c.escalation_lane.empty() &&
      std::find(c.dispatch_lanes.begin(), c.dispatch_lanes.end(), c.escalation_lane) == c.dispatch_lanes.end())
    c.warnings.push_back("ESCALATION_LANE " + c.escalation_lane +
                         " is not in DISPATCH_LANES: escalated issues are left for another agent to claim");
  return c;
}

json::array to_json(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

json::object to_json(const dispatch::AgentMap& m) {
  json::object o;
  for (const auto& [k, v] : m) o[k] = v.size() == 1 ? json::value(v.front()) : json::value(to_json(v));
  return o;
}

}  // namespace

std::string Endpoint::text() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string flag_of(std::string_view variable) {
  std::string out = "--";
  for (const char c : variable) out += c == '_' ? '-' : static_cast<char>((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
  return out;
}

std::string help_text() {
  std::ostringstream os;
  os << "Usage: foreman-dispatch-bridge [options]\n\n"
        "Claims ready issues from the dispatch service, runs each as a Foreman Workload, and\n"
        "retries failed Workloads with feedback. Bad configuration stops the start with one\n"
        "line naming the variable.\n\n"
     << make_options();
  return os.str();
}

Config load_config(const std::vector<std::string>& args, const LoadOptions& opts) { return load(args, opts); }

Config load_config(int argc, const char* const* argv, const LoadOptions& opts) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  return load(args, opts);
}

std::string Config::describe() const {
  const auto secret = [](const std::string& s) { return s.empty() ? "<unset>" : "<set>"; };
  json::object slots;
  for (const auto& [k, v] : workload.coder_agent_slots) slots[k] = v;
  json::array fix_first;
  for (const auto& a : workload.fix_first_agents) fix_first.emplace_back(a);
  json::object o{
      {"dispatch_url", redact_userinfo(dispatch_url)},
      {"dispatch_agent_token", secret(dispatch_agent_token)},
      {"dispatch_agent_name", workload.agent_name},
      {"dispatch_lanes", to_json(dispatch_lanes)},
      {"foreman_namespace", workload.namespace_name},
      {"retry_max_attempts", retry_max_attempts},
      {"gateprofile_map", workload.gate_profiles},
      {"lane_coder_agents", to_json(workload.lane_coder_agents)},
      {"base_coder_agents", to_json(workload.base_coder_agents)},
      {"repo_coder_agents", to_json(workload.repo_coder_agents)},
      {"revision_coder_agents", to_json(workload.revision_coder_agents)},
      {"coder_agent_slots", std::move(slots)},
      {"fix_first_agents", std::move(fix_first)},
      {"escalation_lane", escalation_lane},
      {"verify_enabled", workload.verify_enabled},
      {"verdict_self_go", to_json(workload.verdict_self_go)},
      {"max_in_progress", max_in_progress},
      {"delete_workload_timeout_s", delete_workload_timeout_s},
      {"park_on_give_up", park_on_give_up},
      {"prune_completed_after_hours", prune_completed_after_hours},
      {"prune_failed_after_hours", prune_failed_after_hours},
      {"pr_fix_enabled", pr_fix_enabled},
      {"pr_fix_max_attempts", pr_fix_max_attempts},
      {"pr_fix_lane_agents", to_json(pr_fix_lane_agents)},
      {"github_token", secret(github_token)},
      {"github_api_url", redact_userinfo(github_api_url)},
      {"log_format", log_format == log::Format::Json ? "json" : "text"},
      {"log_level", log::to_string(log_level)},
      {"claim_interval_s", claim_interval_s},
      {"metrics_addr", metrics_addr.text()},
      {"health_addr", health_addr.text()},
      {"leader_elect", leader_elect},
      {"lease_name", lease_name},
      {"lease_duration_s", lease_duration_s},
      {"renew_deadline_s", renew_deadline_s},
      {"retry_period_s", retry_period_s},
      {"identity", identity},
      {"kubeconfig", kubeconfig ? json::value(*kubeconfig) : json::value("(in-cluster)")},
  };
  return json::serialize(o);
}

}  // namespace fdb::op
