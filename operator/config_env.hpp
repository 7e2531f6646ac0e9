// Internal to the configuration (operator/config.cpp): the table of variables and one
// reader per kind of value. Each reader throws ConfigError naming the variable (and its
// flag when the value came from one). Pure apart from the environment lookup passed in.
#pragma once

#include "operator/config.hpp"
#include "watch/url.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <boost/program_options.hpp>

#include <climits>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace fdb::op::config_env {

namespace po = boost::program_options;

// Every variable: its name, its default as text (for --help), what it is.
struct Var {
  const char* name;
  const char* def;
  const char* help;
  bool boolean = false;  // a bare flag (--leader-elect) means true
};

// Every variable the program reads, in the order of --help.
std::span<const Var> vars();

std::string_view trim(std::string_view s) noexcept;
std::string lower(std::string_view s);
// A value in quotes for a message, control characters escaped, cut when long.
std::string quoted(std::string_view v);
bool is_dns_label(std::string_view s);
bool is_dns_subdomain(std::string_view s);
bool is_loopback_host(std::string_view host);
bool has_control(std::string_view s);
using kube::redact_url;  // watch/url.hpp
using kube::url_host;

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

[[noreturn]] void fail(const Raw& r, std::string_view message);
[[noreturn]] void fail_got(const Raw& r, std::string_view expected);

void read_int(const Raw& r, int& out, int min, int max = INT_MAX);
void read_hours(const Raw& r, double& out);
void read_bool(const Raw& r, bool& out);
void read_string(const Raw& r, std::string& out);
void read_secret(const Raw& r, std::string& out);
void read_url(const Raw& r, std::string& out);
void read_endpoint(const Raw& r, Endpoint& out);
void read_lanes(const Raw& r, std::vector<std::string>& out);
void read_agent_map(const Raw& r, dispatch::AgentMap& out);
void read_slots(const Raw& r, dispatch::SlotMap& out, std::vector<std::string>& warnings);
void read_gate_profiles(const Raw& r, boost::json::object& out);
void read_fix_first(const Raw& r, std::set<std::string, std::less<>>& out);
void read_self_go(const Raw& r, std::vector<std::string>& out);

// The flags of --help, one per variable.
po::options_description make_options();

}  // namespace fdb::op::config_env
