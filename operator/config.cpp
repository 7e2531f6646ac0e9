#include "operator/config.hpp"

#include "operator/config_env.hpp"

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

using namespace config_env;

// The dispatch side, the Workload shape, retries and the PR-fix queue.
void read_dispatch(const Reader& rd, const LoadOptions& opts, Config& c) {
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
}

// Logging, the claim timer, the HTTP endpoints, leader election, identity and the cluster.
void read_runtime(const Reader& rd, const LoadOptions& opts, Config& c) {
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

}

// Values that work but are probably not what was meant.
void add_warnings(Config& c) {
  if (lower(c.dispatch_url).rfind("http://", 0) == 0 && !is_loopback_host(url_host(c.dispatch_url)))
    c.warnings.push_back("DISPATCH_URL uses cleartext HTTP (" + redact_url(c.dispatch_url) +
                         "); the bearer token is sent unencrypted. Use https:// or restrict access with network policies.");
  if (!c.escalation_lane.empty() &&
      std::find(c.dispatch_lanes.begin(), c.dispatch_lanes.end(), c.escalation_lane) == c.dispatch_lanes.end())
    c.warnings.push_back("ESCALATION_LANE " + c.escalation_lane +
                         " is not in DISPATCH_LANES: escalated issues are left for another agent to claim");
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
  read_dispatch(rd, opts, c);
  read_runtime(rd, opts, c);
  add_warnings(c);
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
      {"dispatch_url", redact_url(dispatch_url)},
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
      {"github_api_url", redact_url(github_api_url)},
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
