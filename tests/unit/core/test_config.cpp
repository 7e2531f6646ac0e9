#include "tests/support/temp_dir.hpp"
#include "watch/config.hpp"
#include "watch/token.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <thread>
#include <utility>
#include <vector>

using namespace fdb::kube;
namespace fs = std::filesystem;
using fdb::test::env_of;
using fdb::test::TempDir;

namespace {

std::string kubeconfig(const std::string& cluster, const std::string& user,
                       const std::string& extra_context = "") {
  return "apiVersion: v1\nkind: Config\ncurrent-context: main\n"
         "clusters:\n- name: c1\n  cluster:\n" + cluster +
         "contexts:\n- name: main\n  context:\n    cluster: c1\n    user: u1\n" + extra_context +
         "users:\n- name: u1\n  user:\n" + user;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(kubeconfig_parsing)

BOOST_AUTO_TEST_CASE(each_field) {
  TempDir dir;
  dir.write("certs/ca.pem", "CA-FROM-FILE");
  dir.write("certs/client.crt", "CERT-FROM-FILE");
  dir.write("certs/client.key", "KEY-FROM-FILE");
  dir.write("tok", "  file-token\n");

  // base64("CA-DATA") = Q0EtREFUQQ==, base64("CERT") = Q0VSVA==, base64("KEY") = S0VZ
  struct Row {
    std::string name;
    std::string cluster;
    std::string user;
    std::function<void(const ClusterConfig&)> check;
  };
  const Row rows[] = {
      {"https server and CA data", "    server: https://10.0.0.1:6443\n    certificate-authority-data: Q0EtREFUQQ==\n",
       "    token: abc\n",
       [](const ClusterConfig& c) {
         BOOST_TEST(c.server == "https://10.0.0.1:6443");
         BOOST_TEST(c.ca_pem == "CA-DATA");
         BOOST_TEST(c.token == "abc");
         BOOST_TEST(!c.insecure_skip_tls_verify);
       }},
      {"http server, CA file relative to the kubeconfig", "    server: http://127.0.0.1:8080/\n    certificate-authority: certs/ca.pem\n",
       "    tokenFile: tok\n",
       [&](const ClusterConfig& c) {
         BOOST_TEST(c.server == "http://127.0.0.1:8080");
         BOOST_TEST(c.ca_pem == "CA-FROM-FILE");
         BOOST_TEST(c.token_file == (dir.path / "tok").string());
       }},
      {"client certificate and key from files", "    server: https://k\n",
       "    client-certificate: certs/client.crt\n    client-key: " + (dir.path / "certs/client.key").string() + "\n",
       [](const ClusterConfig& c) {
         BOOST_TEST(c.client_cert_pem == "CERT-FROM-FILE");
         BOOST_TEST(c.client_key_pem == "KEY-FROM-FILE");
       }},
      {"client certificate and key data", "    server: https://k\n",
       "    client-certificate-data: Q0VSVA==\n    client-key-data: S0VZ\n",
       [](const ClusterConfig& c) {
         BOOST_TEST(c.client_cert_pem == "CERT");
         BOOST_TEST(c.client_key_pem == "KEY");
       }},
      {"insecure and tls-server-name", "    server: https://k\n    insecure-skip-tls-verify: true\n    tls-server-name: api.internal\n",
       "    username: admin\n    password: secret\n",
       [](const ClusterConfig& c) {
         BOOST_TEST(c.insecure_skip_tls_verify);
         BOOST_TEST(c.tls_server_name == "api.internal");
         BOOST_TEST(c.username == "admin");
         BOOST_TEST(c.password == "secret");
       }},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.name) {
      const auto cfg = parse_kubeconfig(kubeconfig(r.cluster, r.user), dir.path);
      r.check(cfg);
      BOOST_TEST(cfg.default_namespace == "default");
      BOOST_TEST(cfg.source.find("context main") != std::string::npos);
    }
  }
}

BOOST_AUTO_TEST_CASE(context_namespace_and_override) {
  TempDir dir;
  const std::string text =
      "current-context: a\n"
      "clusters:\n- name: ca\n  cluster: {server: 'https://a'}\n- name: cb\n  cluster: {server: 'https://b'}\n"
      "contexts:\n- name: a\n  context: {cluster: ca, user: ua, namespace: team-a}\n"
      "- name: b\n  context: {cluster: cb, user: ub}\n"
      "users:\n- name: ua\n  user: {token: ta}\n- name: ub\n  user: {token: tb}\n";
  auto cfg = parse_kubeconfig(text, dir.path);
  BOOST_TEST(cfg.server == "https://a");
  BOOST_TEST(cfg.token == "ta");
  BOOST_TEST(cfg.default_namespace == "team-a");
  cfg = parse_kubeconfig(text, dir.path, "b");
  BOOST_TEST(cfg.server == "https://b");
  BOOST_TEST(cfg.token == "tb");
}

BOOST_AUTO_TEST_CASE(named_files_go_through_the_reader) {
  // The folder does not exist: with a reader that does no I/O, parsing touches no file.
  const fs::path base = "/nonexistent/kube";
  std::vector<std::pair<std::string, std::string>> asked;  // path, what
  const ReadFile reader = [&](const fs::path& p, std::string_view what) -> std::string {
    asked.emplace_back(p.string(), std::string(what));
    if (p.filename() == "unreadable.pem") throw ConfigError(std::string(what) + ": cannot read " + p.string());
    return "BYTES OF " + p.filename().string();
  };
  const auto cfg = parse_kubeconfig(
      kubeconfig("    server: https://k\n    certificate-authority: certs/ca.pem\n",
                 "    client-certificate: /abs/client.crt\n    client-key: client.key\n"),
      base, {}, "kubeconfig test.yaml", reader);
  BOOST_TEST(cfg.ca_pem == "BYTES OF ca.pem");
  BOOST_TEST(cfg.client_cert_pem == "BYTES OF client.crt");
  BOOST_TEST(cfg.client_key_pem == "BYTES OF client.key");
  BOOST_TEST_REQUIRE(asked.size() == 3u);
  BOOST_TEST(asked[0].first == "/nonexistent/kube/certs/ca.pem");
  BOOST_TEST(asked[0].second == "kubeconfig test.yaml: cluster \"certificate-authority\"");
  BOOST_TEST(asked[1].first == "/abs/client.crt");
  BOOST_TEST(asked[2].first == "/nonexistent/kube/client.key");
  // -data fields win and are not read; the reader's error is the caller's error.
  asked.clear();
  parse_kubeconfig(kubeconfig("    server: https://k\n    certificate-authority-data: Q0E=\n    certificate-authority: x.pem\n",
                              "    token: t\n"),
                   base, {}, "kubeconfig test.yaml", reader);
  BOOST_TEST(asked.empty());
  try {
    parse_kubeconfig(kubeconfig("    server: https://k\n    certificate-authority: unreadable.pem\n", "    token: t\n"), base, {},
                     "kubeconfig test.yaml", reader);
    BOOST_ERROR("expected ConfigError");
  } catch (const ConfigError& e) {
    BOOST_TEST(std::string(e.what()) ==
               "kubeconfig test.yaml: cluster \"certificate-authority\": cannot read /nonexistent/kube/unreadable.pem");
  }
}

BOOST_AUTO_TEST_CASE(referenced_files_are_bounded) {
  TempDir dir;
  const auto small = dir.write("ca.pem", "PEM");
  BOOST_TEST(read_referenced_file(small, "CA") == "PEM");
  struct Row {
    fs::path path;
    std::string expect;
  };
  const Row rows[] = {
      {"/dev/zero", "CA: /dev/zero is larger than 8388608 bytes"},
      {dir.path, "CA: " + dir.path.string() + " is a folder, not a file"},
      {dir.path / "absent.pem", "CA: cannot read " + (dir.path / "absent.pem").string()},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.path) {
      try {
        read_referenced_file(r.path, "CA");
        BOOST_ERROR("expected ConfigError");
      } catch (const ConfigError& e) {
        BOOST_TEST(std::string(e.what()) == r.expect);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(merged_files_first_wins) {
  TempDir dir;
  const auto one = dir.write("one", "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n"
                                    "users:\n- name: u\n  user: {token: first}\n");
  const auto two = dir.write("two", "current-context: other\nclusters:\n- name: c\n  cluster: {server: 'https://c'}\n"
                                    "users:\n- name: u\n  user: {token: second}\n");
  const auto cfg = load_kubeconfig(one.string() + ":" + (dir.path / "missing").string() + ":" + two.string());
  BOOST_TEST(cfg.server == "https://c");
  BOOST_TEST(cfg.token == "first");
}

BOOST_AUTO_TEST_CASE(bad_kubeconfigs_name_the_problem) {
  TempDir dir;
  struct Row {
    std::string text;
    std::string expect;  // a fragment of the message
  };
  const Row rows[] = {
      {"{{{", "not valid YAML"},
      {"- a\n- b\n", "must be a YAML map"},
      {"clusters: []\n", "no current-context"},
      {"current-context: nope\n", "context \"nope\" is not defined"},
      {"current-context: a\ncontexts:\n- name: a\n  context: {cluster: zz}\n", "cluster \"zz\", which is not defined"},
      {"current-context: a\ncontexts:\n- name: a\n  context: {cluster: c}\nclusters:\n- name: c\n  cluster: {}\n", "has no server"},
      {"current-context: a\ncontexts:\n- name: a\n  context: {cluster: c}\nclusters:\n- name: c\n  cluster: {server: 'ftp://x'}\n",
       "must start with https:// or http://"},
      {kubeconfig("    server: https://k\n    certificate-authority-data: '!!!'\n", "    token: t\n"), "not valid base64"},
      {kubeconfig("    server: https://k\n    certificate-authority: nowhere.pem\n", "    token: t\n"), "cannot read"},
      {kubeconfig("    server: https://k\n    insecure-skip-tls-verify: maybe\n", "    token: t\n"), "must be true or false"},
      {kubeconfig("    server: https://k\n", "    client-certificate-data: Q0VSVA==\n"), "both a client certificate and a client key"},
      {kubeconfig("    server: https://k\n", "    exec:\n      command: aws\n"), "exec or auth-provider"},
      {"current-context: a\ncontexts:\n- name: a\n  context: {cluster: c, user: nobody}\nclusters:\n- name: c\n  cluster: {server: 'https://x'}\n",
       "user \"nobody\", which is not defined"},
      {"clusters: {a: b}\n", "must be a list"},
      // Found by fuzz_kubeconfig: yaml-cpp quotes the offending character raw, which broke
      // the one-line message; control characters are shown as \xNN.
      {"a: \"\\\x01\"\n", "unknown escape character: \\x01"},
      {"a: \"\\\r\"\n", "unknown escape character: \\x0d"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.expect) {
      try {
        parse_kubeconfig(r.text, dir.path, {}, "kubeconfig test.yaml");
        BOOST_ERROR("expected ConfigError");
      } catch (const ConfigError& e) {
        const std::string what = e.what();
        BOOST_TEST(what.find(r.expect) != std::string::npos, "got: " << what);
        BOOST_TEST(what.find('\n') == std::string::npos, "one line: " << what);
        BOOST_TEST(std::none_of(what.begin(), what.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }),
                   "no control characters: " << what);
      }
    }
  }
  BOOST_CHECK_THROW(load_kubeconfig((dir.path / "absent").string()), ConfigError);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(in_cluster)

BOOST_AUTO_TEST_CASE(from_a_service_account_folder) {
  TempDir dir;
  dir.write("token", "sa-token\n");
  dir.write("ca.crt", "PEM");
  dir.write("namespace", "llm\n");
  const auto cfg = load_in_cluster(env_of({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"},
                                           {"KUBERNETES_SERVICE_PORT", "443"}}),
                                   dir.path);
  BOOST_TEST(cfg.server == "https://10.96.0.1:443");
  BOOST_TEST(cfg.token_file == (dir.path / "token").string());
  BOOST_TEST(cfg.ca_pem == "PEM");
  BOOST_TEST(cfg.default_namespace == "llm");
  BOOST_TEST(cfg.source == "in-cluster");

  const auto v6 = load_in_cluster(env_of({{"KUBERNETES_SERVICE_HOST", "fd00::1"}, {"KUBERNETES_SERVICE_PORT", "6443"}}),
                                  dir.path);
  BOOST_TEST(v6.server == "https://[fd00::1]:6443");
}

BOOST_AUTO_TEST_CASE(missing_pieces) {
  TempDir dir;
  BOOST_CHECK_THROW(load_in_cluster(env_of({}), dir.path), ConfigError);
  BOOST_CHECK_THROW(load_in_cluster(env_of({{"KUBERNETES_SERVICE_HOST", "h"}, {"KUBERNETES_SERVICE_PORT", "x1"}}), dir.path),
                    ConfigError);
  // No token file.
  BOOST_CHECK_THROW(load_in_cluster(env_of({{"KUBERNETES_SERVICE_HOST", "h"}, {"KUBERNETES_SERVICE_PORT", "1"}}), dir.path),
                    ConfigError);
}

BOOST_AUTO_TEST_CASE(selection_order) {
  TempDir dir;
  const auto kc = dir.write("kc", kubeconfig("    server: https://from-file\n", "    token: t\n"));
  dir.write("sa/token", "t");
  dir.write("sa/ca.crt", "PEM");
  // The flag wins over $KUBECONFIG, which wins over in-cluster.
  auto cfg = load_cluster_config(kc.string(), env_of({{"KUBECONFIG", "/nonexistent"}}));
  BOOST_TEST(cfg.server == "https://from-file");
  cfg = load_cluster_config(std::nullopt, env_of({{"KUBECONFIG", kc.string()}, {"KUBERNETES_SERVICE_HOST", "h"}}));
  BOOST_TEST(cfg.server == "https://from-file");
  try {
    load_cluster_config(std::nullopt, env_of({{"HOME", dir.path.string()}}));
    BOOST_ERROR("expected ConfigError");
  } catch (const ConfigError& e) {
    BOOST_TEST(std::string(e.what()).find("KUBECONFIG") == 0u);
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(token_source)

BOOST_AUTO_TEST_CASE(fixed_and_empty) {
  auto t = TokenSource::fixed(" abc \n");
  BOOST_TEST(t.token() == "abc");
  BOOST_TEST(!t.empty());
  TokenSource none;
  BOOST_TEST(none.empty());
  BOOST_TEST(none.token().empty());
}

BOOST_AUTO_TEST_CASE(rotation_is_picked_up) {
  TempDir dir;
  const auto path = dir.write("token", "one\n");
  auto t = TokenSource::from_file(path);
  BOOST_TEST(t.token() == "one");
  BOOST_TEST(t.token() == "one");
  BOOST_TEST(t.reloads() == 1u);  // unchanged file: not re-read

  // The kubelet writes a new file and swaps it in atomically.
  dir.write("token.new", "two-longer\n");
  fs::rename(dir.path / "token.new", path);
  BOOST_TEST(t.token() == "two-longer");
  BOOST_TEST(t.reloads() == 2u);

  // Projected volumes: the path is a symlink into a folder that is swapped.
  dir.write("..2026_01/token", "three");
  dir.write("..2026_02/token", "four");
  fs::create_directory_symlink(dir.path / "..2026_01", dir.path / "..data");
  fs::create_symlink(dir.path / "..data" / "token", dir.path / "projected");
  auto p = TokenSource::from_file(dir.path / "projected");
  BOOST_TEST(p.token() == "three");
  fs::create_directory_symlink(dir.path / "..2026_02", dir.path / "..data_tmp");
  fs::rename(dir.path / "..data_tmp", dir.path / "..data");
  BOOST_TEST(p.token() == "four");

  // A file that disappears keeps the last good token; an empty one too.
  fs::remove(path);
  BOOST_TEST(t.token() == "two-longer");
  dir.write("token", "");
  BOOST_TEST(t.token() == "two-longer");
}

BOOST_AUTO_TEST_CASE(first_read_must_succeed) {
  TempDir dir;
  BOOST_CHECK_THROW(TokenSource::from_file(dir.path / "absent"), ConfigError);
  const auto empty = dir.write("empty", "\n");
  BOOST_CHECK_THROW(TokenSource::from_file(empty), ConfigError);
}

BOOST_AUTO_TEST_SUITE_END()
