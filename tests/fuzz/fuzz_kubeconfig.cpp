// Kubeconfig parsing from YAML text, with a file reader that does no I/O (files named
// "*missing*" fail to read, others read as a marker naming the path). Properties:
//  - parse_kubeconfig throws nothing but ConfigError, whose message is one line;
//  - a result has an http(s) server without a trailing slash, a namespace, a source that
//    names the context, and a client certificate exactly when it has a client key;
//  - the same text parses to the same result twice (no hidden state), and an explicit
//    context equal to current-context gives the same result.
#include "fuzz_check.hpp"
#include "watch/config.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using namespace fdb::kube;
namespace fs = std::filesystem;

namespace {

std::string fake_read(const fs::path& path, std::string_view what) {
  FUZZ_CHECK(!path.empty());
  if (path.string().find("missing") != std::string::npos) {
    throw ConfigError(std::string(what) + ": cannot read " + path.string());
  }
  return "FILE " + path.string();
}

bool same(const ClusterConfig& a, const ClusterConfig& b) {
  return a.server == b.server && a.ca_pem == b.ca_pem && a.insecure_skip_tls_verify == b.insecure_skip_tls_verify &&
         a.tls_server_name == b.tls_server_name && a.client_cert_pem == b.client_cert_pem &&
         a.client_key_pem == b.client_key_pem && a.token == b.token && a.token_file == b.token_file &&
         a.username == b.username && a.password == b.password && a.default_namespace == b.default_namespace &&
         a.source == b.source;
}

// The context the text selects, from the result's source "kubeconfig (context NAME)".
std::string context_of(const ClusterConfig& c) {
  const std::string_view prefix = "fuzz.yaml (context ";
  FUZZ_CHECK(c.source.rfind(prefix, 0) == 0);
  FUZZ_CHECK(c.source.back() == ')');
  return c.source.substr(prefix.size(), c.source.size() - prefix.size() - 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(bytes), size);
  const fs::path base = "/fuzz/home/.kube";
  ClusterConfig cfg;
  try {
    cfg = parse_kubeconfig(text, base, {}, "fuzz.yaml", fake_read);
  } catch (const ConfigError& e) {
    const std::string_view what = e.what();
    FUZZ_CHECK(!what.empty());
    FUZZ_CHECK(what.find('\n') == std::string_view::npos);
    return 0;
  }
  FUZZ_CHECK(cfg.server.rfind("https://", 0) == 0 || cfg.server.rfind("http://", 0) == 0);
  FUZZ_CHECK(cfg.server.size() <= 8 || cfg.server.back() != '/');
  FUZZ_CHECK(!cfg.default_namespace.empty());
  FUZZ_CHECK(cfg.client_cert_pem.empty() == cfg.client_key_pem.empty());
  if (!cfg.token_file.empty()) FUZZ_CHECK(fs::path(cfg.token_file).is_absolute());

  const ClusterConfig again = parse_kubeconfig(text, base, {}, "fuzz.yaml", fake_read);
  FUZZ_CHECK(same(cfg, again));
  const ClusterConfig named = parse_kubeconfig(text, base, context_of(cfg), "fuzz.yaml", fake_read);
  FUZZ_CHECK(same(cfg, named));
  return 0;
}
