// Bad kubeconfigs and service-account folders: each gets one ConfigError line naming the
// file, the entry and the field. (tests/unit/core/test_config.cpp checks fragments of the
// first ones; this table pins the whole message and adds the cases beyond them.)
#include "tests/support/temp_dir.hpp"
#include "watch/config.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <fstream>
#include <map>
#include <random>
#include <string>

using namespace fdb::kube;
namespace fs = std::filesystem;
using fdb::test::env_of;
using fdb::test::TempDir;

namespace {

// One context "main" → cluster "c" → user "u", with the given cluster and user bodies
// (flow maps).
std::string config(const std::string& cluster, const std::string& user) {
  return "current-context: main\n"
         "clusters: [{name: c, cluster: " + cluster + "}]\n"
         "contexts: [{name: main, context: {cluster: c, user: u}}]\n"
         "users: [{name: u, user: " + user + "}]\n";
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(accepted)";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(hostile_kubeconfig)

BOOST_AUTO_TEST_CASE(bad_documents) {
  TempDir dir;
  dir.write("folder/x", "");
  const std::string k = "kubeconfig kc.yaml";
  struct Row {
    std::string name;
    std::string text;
    std::string expect;  // the whole message
  };
  const std::string deep = "x: " + std::string(2100, '[') + std::string(2100, ']') + "\n";
  const Row rows[] = {
      {"garbage", "{{{", k + ": not valid YAML: yaml-cpp: error at line 1, column 1: end of map flow not found"},
      {"a list", "- a\n", k + ": a kubeconfig must be a YAML map"},
      {"nested too deeply", deep, k + ": not valid YAML: nested too deeply at line 1, column 4204"},
      {"a control character in an escape", "a: \"\\\x01\"\n", k + ": not valid YAML: yaml-cpp: error at line 1, column 7: unknown escape character: \\x01"},
      {"no current-context", "clusters: []\n", k + ": no current-context is set"},
      {"current-context not a string", "current-context: [a]\n", k + ": no current-context is set"},
      {"unknown context", "current-context: prod\n", k + ": context \"prod\" is not defined"},
      {"a context without a name", "current-context: a\ncontexts: [{context: {cluster: c}}]\n",
       k + ": every entry of \"contexts\" needs a name"},
      {"a context that is a string", "current-context: a\ncontexts: [{name: a, context: c}]\n", k + ": context \"a\" must be a map"},
      {"unknown cluster", "current-context: a\ncontexts: [{name: a, context: {cluster: zz}}]\n",
       k + ": context \"a\" names cluster \"zz\", which is not defined"},
      {"a context without a cluster", "current-context: a\ncontexts: [{name: a, context: {user: u}}]\n",
       k + ": context \"a\" names cluster \"\", which is not defined"},
      {"unknown user",
       "current-context: main\nclusters: [{name: c, cluster: {server: 'https://k'}}]\n"
       "contexts: [{name: main, context: {cluster: c, user: nobody}}]\n",
       k + ": context \"main\" names user \"nobody\", which is not defined"},
      {"no server", config("{}", "{token: t}"), k + ": cluster \"c\" has no server"},
      {"server a list", config("{server: [a]}", "{token: t}"), k + ": cluster field \"server\" must be a string"},
      {"server without scheme", config("{server: 'k8s:6443'}", "{token: t}"),
       k + ": cluster \"c\" server \"k8s:6443\" must start with https:// or http://"},
      {"bad bool", config("{server: 'https://k', insecure-skip-tls-verify: maybe}", "{token: t}"),
       k + ": cluster field \"insecure-skip-tls-verify\" must be true or false"},
      {"bad base64 CA", config("{server: 'https://k', certificate-authority-data: 'Q0E*'}", "{token: t}"),
       k + ": cluster \"certificate-authority-data\": is not valid base64"},
      {"truncated base64 CA", config("{server: 'https://k', certificate-authority-data: 'Q'}", "{token: t}"),
       k + ": cluster \"certificate-authority-data\": is not valid base64 (truncated)"},
      {"data after padding", config("{server: 'https://k', certificate-authority-data: 'Q0E=Q0E='}", "{token: t}"),
       k + ": cluster \"certificate-authority-data\": is not valid base64"},
      {"bad base64 client certificate", config("{server: 'https://k'}", "{client-certificate-data: '%%', client-key-data: S0VZ}"),
       k + ": user \"client-certificate-data\": is not valid base64"},
      {"bad base64 client key", config("{server: 'https://k'}", "{client-certificate-data: Q0VSVA==, client-key-data: 'S0V-'}"),
       k + ": user \"client-key-data\": is not valid base64"},
      {"unreadable CA file", config("{server: 'https://k', certificate-authority: ca/missing.pem}", "{token: t}"),
       k + ": cluster \"certificate-authority\": cannot read " + (dir.path / "ca/missing.pem").string()},
      {"CA path is a folder", config("{server: 'https://k', certificate-authority: folder}", "{token: t}"),
       k + ": cluster \"certificate-authority\": " + (dir.path / "folder").string() + " is a folder, not a file"},
      {"CA is an endless file", config("{server: 'https://k', certificate-authority: /dev/zero}", "{token: t}"),
       k + ": cluster \"certificate-authority\": /dev/zero is larger than 8388608 bytes"},
      {"unreadable client key", config("{server: 'https://k'}", "{client-certificate-data: Q0VSVA==, client-key: nokey.pem}"),
       k + ": user \"client-key\": cannot read " + (dir.path / "nokey.pem").string()},
      {"certificate without key", config("{server: 'https://k'}", "{client-certificate-data: Q0VSVA==}"),
       k + ": user \"u\" needs both a client certificate and a client key"},
      {"key without certificate", config("{server: 'https://k'}", "{client-key-data: S0VZ}"),
       k + ": user \"u\" needs both a client certificate and a client key"},
      {"exec plugin", config("{server: 'https://k'}", "{exec: {command: aws}}"),
       k + ": user \"u\" uses an exec or auth-provider plugin, which is not supported; use a token, a token file or a client certificate"},
      {"auth-provider plugin", config("{server: 'https://k'}", "{auth-provider: {name: gcp}}"),
       k + ": user \"u\" uses an exec or auth-provider plugin, which is not supported; use a token, a token file or a client certificate"},
      {"a name with a line break", "current-context: \"a\\nb\"\n", k + ": context \"a\\nb\" is not defined"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.name) {
      const std::string e = error_of([&] { parse_kubeconfig(r.text, dir.path, {}, k); });
      BOOST_TEST(e == r.expect);
      BOOST_TEST(std::none_of(e.begin(), e.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }));
    }
  }
}

BOOST_AUTO_TEST_CASE(bad_files_and_lists) {
  TempDir dir;
  const auto good = dir.write("good", config("{server: 'https://k'}", "{token: t}"));
  const auto bad = dir.write("bad", "{{{");
  struct Row {
    std::string paths;
    std::string expect;
  };
  const Row rows[] = {
      {(dir.path / "absent").string(), "kubeconfig " + (dir.path / "absent").string() + ": no such file"},
      {(dir.path / "a").string() + ":" + (dir.path / "b").string(),
       "kubeconfig \"" + (dir.path / "a").string() + ":" + (dir.path / "b").string() + "\": no file found"},
      {dir.path.string(), "kubeconfig: " + dir.path.string() + " is a folder, not a file"},
      {good.string() + ":" + bad.string(), "kubeconfig " + bad.string() + ": not valid YAML: yaml-cpp: error at line 1, column 1: end of map flow not found"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.paths) { BOOST_TEST(error_of([&] { load_kubeconfig(r.paths); }) == r.expect); }
  }
  // An unknown --context on a good file.
  BOOST_TEST(error_of([&] { load_kubeconfig(good.string(), "staging"); }) ==
             "kubeconfig " + good.string() + ": context \"staging\" is not defined");
}

BOOST_AUTO_TEST_CASE(bad_service_account_folders) {
  TempDir dir;
  const auto sa = dir.path / "sa";
  fs::create_directories(sa);
  const auto env = env_of({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}});
  BOOST_TEST(error_of([&] { load_in_cluster(env, sa); }) ==
             "in-cluster: service-account token " + (sa / "token").string() + " is missing");
  dir.write("sa/token", "t");
  BOOST_TEST(error_of([&] { load_in_cluster(env, sa); }) ==
             "in-cluster: service-account CA: cannot read " + (sa / "ca.crt").string());
  fs::create_directories(sa / "ca.crt");
  BOOST_TEST(error_of([&] { load_in_cluster(env, sa); }) ==
             "in-cluster: service-account CA: " + (sa / "ca.crt").string() + " is a folder, not a file");
  BOOST_TEST(error_of([&] { load_in_cluster(env_of({{"KUBERNETES_SERVICE_HOST", "h"}, {"KUBERNETES_SERVICE_PORT", "https"}}), sa); }) ==
             "KUBERNETES_SERVICE_PORT: \"https\" is not a port");
  BOOST_TEST(error_of([&] { load_in_cluster(env_of({{"KUBERNETES_SERVICE_HOST", "h"}}), sa); }) ==
             "in-cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set");
}

BOOST_AUTO_TEST_SUITE_END()
