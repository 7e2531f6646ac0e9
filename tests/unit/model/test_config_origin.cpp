// Where a Kubernetes configuration error came from (kube::ConfigError::origin, set where
// watch/config.cpp throws it) and the line the program stops with
// (op::cluster_config_error_line, operator/app.hpp: the prefix chosen by the origin, never by the text).
// The messages themselves are pinned by tests/unit/hostile/test_bad_kubeconfig.cpp; here,
// for each way of failing, the origin and the whole startup line.
#include "operator/app.hpp"
#include "tests/support/temp_dir.hpp"
#include "watch/config.hpp"

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <functional>
#include <map>
#include <string>

using namespace fdb;
using kube::ConfigOrigin;
namespace fs = std::filesystem;
using fdb::test::env_of;
using fdb::test::TempDir;

BOOST_AUTO_TEST_SUITE(config_origin)

namespace {

struct Caught {
  bool thrown = false;
  ConfigOrigin origin = ConfigOrigin::Other;
  std::string message;
};

Caught caught(const std::function<void()>& f) {
  try {
    f();
  } catch (const kube::ConfigError& e) {
    return {true, e.origin(), e.what()};
  }
  return {};
}

// A reader for the files a kubeconfig names that fails as the file system's would.
std::string unreadable(const fs::path& path, std::string_view what) {
  throw kube::ConfigError(std::string(what) + ": cannot read " + path.string());
}

const std::string kGood =
    "current-context: main\n"
    "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:6443', certificate-authority: ca.pem}}]\n"
    "contexts: [{name: main, context: {cluster: c, user: u}}]\n"
    "users: [{name: u, user: {token: t}}]\n";

}  // namespace

BOOST_AUTO_TEST_CASE(each_failure_names_its_origin_and_the_start_line_follows_it) {
  TempDir dir;
  const fs::path sa = dir.path / "sa";
  fs::create_directories(sa);
  const fs::path sa_with_token = dir.path / "sa2";
  dir.write("sa2/token", "t");
  const fs::path sa_ca_folder = dir.path / "sa3";
  dir.write("sa3/token", "t");
  fs::create_directories(sa_ca_folder / "ca.crt");
  const fs::path missing = dir.path / "nope.yaml";
  const fs::path bad_yaml = dir.write("bad.yaml", "clusters: [unclosed\n");
  const fs::path home = dir.path / "home";  // no .kube/config under it
  fs::create_directories(home);
  const auto in_cluster = env_of({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}});

  struct Row {
    std::string name;
    std::function<void()> call;
    ConfigOrigin origin;
    std::string line;  // what the program stops with
  };
  const std::vector<Row> rows = {
      {"no configuration anywhere",
       [&] { kube::load_cluster_config(std::nullopt, env_of({{"HOME", home.string()}})); }, ConfigOrigin::NotFound,
       "KUBECONFIG: no Kubernetes configuration found: set KUBECONFIG or --kubeconfig, or run in a pod with a "
       "service account"},
      {"--kubeconfig names no file", [&] { kube::load_cluster_config(missing.string(), env_of({})); },
       ConfigOrigin::Kubeconfig, "KUBECONFIG: kubeconfig " + missing.string() + ": no such file"},
      {"KUBECONFIG lists no existing file",
       [&] { kube::load_cluster_config(std::nullopt, env_of({{"KUBECONFIG", missing.string() + ":" + missing.string()}})); },
       ConfigOrigin::Kubeconfig,
       "KUBECONFIG: kubeconfig \"" + missing.string() + ":" + missing.string() + "\": no file found"},
      {"a kubeconfig that is not YAML", [&] { kube::load_kubeconfig(bad_yaml.string()); }, ConfigOrigin::Kubeconfig, ""},
      {"a file the kubeconfig names cannot be read",
       [&] { kube::parse_kubeconfig(kGood, dir.path, {}, "kubeconfig k", unreadable); }, ConfigOrigin::Kubeconfig, ""},
      {"a control character in the message is shown, the origin kept",
       [&] { kube::parse_kubeconfig("current-context: \"a\\x01b\"\n", dir.path, {}, "kubeconfig k", unreadable); },
       ConfigOrigin::Kubeconfig, "KUBECONFIG: kubeconfig k: context \"a\\x01b\" is not defined"},
      {"in-cluster, the port unset", [&] { kube::load_in_cluster(env_of({{"KUBERNETES_SERVICE_HOST", "h"}}), sa); },
       ConfigOrigin::InClusterUnset,
       "KUBECONFIG: in-cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set"},
      {"in-cluster, the port unset, through load_cluster_config",
       [&] { kube::load_cluster_config(std::nullopt, env_of({{"KUBERNETES_SERVICE_HOST", "h"}})); },
       ConfigOrigin::InClusterUnset,
       "KUBECONFIG: in-cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set"},
      {"in-cluster, not a port",
       [&] {
         kube::load_in_cluster(env_of({{"KUBERNETES_SERVICE_HOST", "h"}, {"KUBERNETES_SERVICE_PORT", "https"}}), sa);
       },
       ConfigOrigin::InClusterPort, "KUBERNETES_SERVICE_PORT: \"https\" is not a port"},
      {"in-cluster, no token", [&] { kube::load_in_cluster(in_cluster, sa); }, ConfigOrigin::ServiceAccount,
       "KUBECONFIG: in-cluster: service-account token " + (sa / "token").string() + " is missing"},
      {"in-cluster, no CA", [&] { kube::load_in_cluster(in_cluster, sa_with_token); }, ConfigOrigin::ServiceAccount,
       "KUBECONFIG: in-cluster: service-account CA: cannot read " + (sa_with_token / "ca.crt").string()},
      {"in-cluster, the CA a folder", [&] { kube::load_in_cluster(in_cluster, sa_ca_folder); },
       ConfigOrigin::ServiceAccount,
       "KUBECONFIG: in-cluster: service-account CA: " + (sa_ca_folder / "ca.crt").string() + " is a folder, not a file"},
      {"a file read on its own", [&] { kube::read_referenced_file(missing, "token file"); }, ConfigOrigin::Other,
       "KUBECONFIG: token file: cannot read " + missing.string()},
  };
  for (const Row& r : rows) {
    BOOST_TEST_CONTEXT(r.name) {
      const Caught c = caught(r.call);
      BOOST_TEST_REQUIRE(c.thrown);
      BOOST_TEST(kube::to_string(c.origin) == kube::to_string(r.origin));
      const std::string line = op::cluster_config_error_line(c.origin, c.message);
      if (r.line.empty()) {
        BOOST_TEST(line == "KUBECONFIG: " + c.message);  // the message is the parser's
      } else {
        BOOST_TEST(line == r.line);
      }
    }
  }
}

// The prefix is the origin's, whatever the message says.
BOOST_AUTO_TEST_CASE(the_prefix_comes_from_the_origin_not_the_text) {
  struct Row {
    ConfigOrigin origin;
    std::string message;
    std::string line;
  };
  const std::vector<Row> rows = {
      {ConfigOrigin::Kubeconfig, "KUBECONFIG-like text", "KUBECONFIG: KUBECONFIG-like text"},
      {ConfigOrigin::ServiceAccount, "KUBERNETES_x", "KUBECONFIG: KUBERNETES_x"},
      {ConfigOrigin::InClusterUnset, "m", "KUBECONFIG: m"},
      {ConfigOrigin::Other, "m", "KUBECONFIG: m"},
      {ConfigOrigin::InClusterPort, "m", "m"},
      {ConfigOrigin::NotFound, "m", "m"},
  };
  for (const Row& r : rows) {
    BOOST_TEST_CONTEXT(kube::to_string(r.origin)) { BOOST_TEST(op::cluster_config_error_line(r.origin, r.message) == r.line); }
  }
}

BOOST_AUTO_TEST_SUITE_END()
