// The program's command line: --version, --help, and a bad configuration value stops the
// start with exit code 2 and one line on stderr naming the variable.
#include "support/process.hpp"

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <sstream>

using namespace fdb::test;
using namespace std::chrono_literals;

namespace {

struct Outcome {
  int status = -1;
  std::string out;
  std::string err;
};

Outcome run_bridge(std::vector<std::string> args, std::map<std::string, std::string> env) {
  const std::string err_path = temp_dir("cli") + "/stderr";
  args.insert(args.begin(), built("operator/foreman-dispatch-bridge"));
  // A clean slate: none of the bridge's variables leak in from the test's environment.
  for (const char* v : {"DISPATCH_AGENT_TOKEN", "KUBECONFIG", "RETRY_MAX_ATTEMPTS", "LOG_FORMAT", "DISPATCH_URL"}) {
    env.try_emplace(v, "");
  }
  Process p(args, env, err_path);
  Outcome o;
  while (auto line = p.read_line(10s)) o.out += *line + "\n";
  o.status = p.wait(10s).value_or(-1);
  std::ifstream in(err_path);
  std::stringstream ss;
  ss << in.rdbuf();
  o.err = ss.str();
  return o;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cli)

BOOST_AUTO_TEST_CASE(version_and_help) {
  auto v = run_bridge({"--version"}, {});
  BOOST_TEST(v.status == 0);
  BOOST_TEST(v.out.rfind("foreman-dispatch-bridge ", 0) == 0u, v.out);
  BOOST_TEST(v.out.find('.') != std::string::npos);

  auto h = run_bridge({"--help"}, {});
  BOOST_TEST(h.status == 0);
  for (const char* expected : {"DISPATCH_URL", "--dispatch-url", "RETRY_MAX_ATTEMPTS", "--kubeconfig", "--print-config"}) {
    BOOST_TEST(h.out.find(expected) != std::string::npos, expected);
  }
}

BOOST_AUTO_TEST_CASE(bad_values_name_their_variable) {
  struct Row {
    std::vector<std::string> args;
    std::map<std::string, std::string> env;
    std::string variable;
  };
  const Row rows[] = {
      {{}, {{"RETRY_MAX_ATTEMPTS", "abc"}, {"DISPATCH_AGENT_TOKEN", "t"}}, "RETRY_MAX_ATTEMPTS"},
      {{"--retry-max-attempts", "0"}, {{"DISPATCH_AGENT_TOKEN", "t"}}, "RETRY_MAX_ATTEMPTS"},
      {{}, {{"VERIFY_ENABLED", "maybe"}, {"DISPATCH_AGENT_TOKEN", "t"}}, "VERIFY_ENABLED"},
      {{}, {{"LANE_CODER_AGENTS", "{not json"}, {"DISPATCH_AGENT_TOKEN", "t"}}, "LANE_CODER_AGENTS"},
      {{}, {}, "DISPATCH_AGENT_TOKEN"},
      {{"--no-such-flag"}, {{"DISPATCH_AGENT_TOKEN", "t"}}, "no-such-flag"},
      {{"--run-for", "soon"}, {{"DISPATCH_AGENT_TOKEN", "t"}}, "--run-for"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.variable) {
      const auto o = run_bridge(r.args, r.env);
      BOOST_TEST(o.status == 2);
      BOOST_TEST(o.err.find(r.variable) != std::string::npos, o.err);
      // One line.
      BOOST_TEST(o.err.find('\n') == o.err.size() - 1, o.err);
    }
  }
}

BOOST_AUTO_TEST_CASE(an_unusable_kubeconfig_stops_the_start) {
  const auto o = run_bridge({"--kubeconfig", "/nonexistent/kubeconfig"}, {{"DISPATCH_AGENT_TOKEN", "t"}, {"LOG_FORMAT", "text"}});
  BOOST_TEST(o.status == 1);
  BOOST_TEST(o.err.find("KUBECONFIG") != std::string::npos, o.err);
}

BOOST_AUTO_TEST_CASE(print_config_redacts_the_token) {
  const auto o = run_bridge({"--print-config"}, {{"DISPATCH_AGENT_TOKEN", "s3cret-value"}});
  BOOST_TEST(o.status == 0);
  BOOST_TEST(o.out.find("s3cret-value") == std::string::npos);
  BOOST_TEST(o.out.find("\"dispatch_agent_token\":\"<set>\"") != std::string::npos, o.out);
}

BOOST_AUTO_TEST_SUITE_END()
