#include "watch/config.hpp"

#include "watch/base64.hpp"

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <array>
#include <cstdlib>
#include <fstream>
#include <map>

namespace fdb::kube {

namespace fs = std::filesystem;

std::optional<std::string> process_env(std::string_view name) {
  const char* v = std::getenv(std::string(name).c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

std::string_view to_string(ConfigOrigin origin) noexcept {
  switch (origin) {
    case ConfigOrigin::Other: return "other";
    case ConfigOrigin::Kubeconfig: return "kubeconfig";
    case ConfigOrigin::InClusterUnset: return "in-cluster-unset";
    case ConfigOrigin::InClusterPort: return "in-cluster-port";
    case ConfigOrigin::ServiceAccount: return "service-account";
    case ConfigOrigin::NotFound: return "not-found";
  }
  return "?";
}

std::string read_referenced_file(const fs::path& path, std::string_view what) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw ConfigError(fmt::format("{}: {} is a folder, not a file", what, path.string()));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(fmt::format("{}: cannot read {}", what, path.string()));
  std::string out;
  std::array<char, 64 * 1024> buf{};
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    out.append(buf.data(), static_cast<std::size_t>(in.gcount()));
    if (out.size() > kMaxReferencedFileBytes) {
      throw ConfigError(fmt::format("{}: {} is larger than {} bytes", what, path.string(), kMaxReferencedFileBytes));
    }
  }
  if (in.bad()) throw ConfigError(fmt::format("{}: cannot read {}", what, path.string()));
  return out;
}

namespace {

// Messages quote YAML text and paths (yaml-cpp even quotes the offending character): a
// control character there would break the one-line error, so each is shown as \xNN.
std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) out += fmt::format("\\x{:02x}", u);
    else out += c;
  }
  return out;
}

// Runs `parse` (a kubeconfig's), making every ConfigError it throws printable on one line
// and marked as the kubeconfig's: the file itself or one it names.
template <class F>
ClusterConfig kubeconfig_errors(F&& parse) {
  try {
    return parse();
  } catch (const ConfigError& e) {
    throw ConfigError(printable(e.what()), ConfigOrigin::Kubeconfig);
  }
}

// A file of the service-account folder; its errors marked as the folder's.
std::string read_service_account_file(const fs::path& path, std::string_view what) {
  try {
    return read_referenced_file(path, what);
  } catch (const ConfigError& e) {
    throw ConfigError(e.what(), ConfigOrigin::ServiceAccount);
  }
}

// Base64 kubeconfig data (watch/base64.hpp: whitespace ignored, padding optional), or a
// ConfigError naming where it came from.
std::string decode_data(std::string_view in, std::string_view what) {
  auto decoded = base64_decode(in);
  if (auto* e = std::get_if<Base64Error>(&decoded)) throw ConfigError(fmt::format("{}: {}", what, e->reason));
  return std::move(std::get<std::string>(decoded));
}

struct Entry {
  YAML::Node node;  // the inner "cluster", "context" or "user" map
  fs::path base;    // folder of the file it came from, for relative paths
  std::string origin;
};

struct Merged {
  std::string current_context;
  std::string current_origin;
  std::map<std::string, Entry> clusters, contexts, users;
};

void merge_list(std::map<std::string, Entry>& into, const YAML::Node& list, std::string_view inner,
                const fs::path& base, const std::string& origin) {
  if (!list) return;
  if (!list.IsSequence()) throw ConfigError(fmt::format("{}: \"{}s\" must be a list", origin, inner));
  for (const auto& item : list) {
    if (!item.IsMap() || !item["name"] || !item["name"].IsScalar()) {
      throw ConfigError(fmt::format("{}: every entry of \"{}s\" needs a name", origin, inner));
    }
    const auto name = item["name"].as<std::string>();
    const YAML::Node body = item[std::string(inner)];
    if (body && !body.IsMap() && !body.IsNull()) {
      throw ConfigError(fmt::format("{}: {} {:?} must be a map", origin, inner, name));
    }
    into.try_emplace(name, Entry{body ? body : YAML::Node(YAML::NodeType::Map), base, origin});
  }
}

void merge(Merged& m, std::string_view yaml, const fs::path& base, const std::string& origin) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp says "bad file" for this.
    throw ConfigError(fmt::format("{}: not valid YAML: nested too deeply at line {}, column {}", origin, e.mark.line + 1,
                                  e.mark.column + 1));
  } catch (const YAML::Exception& e) {
    throw ConfigError(fmt::format("{}: not valid YAML: {}", origin, e.what()));
  }
  if (root.IsNull()) return;  // an empty file contributes nothing
  if (!root.IsMap()) throw ConfigError(fmt::format("{}: a kubeconfig must be a YAML map", origin));
  try {
    if (const auto cc = root["current-context"]; cc && cc.IsScalar() && m.current_context.empty()) {
      m.current_context = cc.as<std::string>();
      m.current_origin = origin;
    }
    merge_list(m.clusters, root["clusters"], "cluster", base, origin);
    merge_list(m.contexts, root["contexts"], "context", base, origin);
    merge_list(m.users, root["users"], "user", base, origin);
  } catch (const YAML::Exception& e) {
    throw ConfigError(fmt::format("{}: {}", origin, e.what()));
  }
}

std::string scalar(const Entry& e, const char* key, std::string_view what) {
  const YAML::Node n = e.node[key];
  if (!n || n.IsNull()) return {};
  if (!n.IsScalar()) throw ConfigError(fmt::format("{}: {} field \"{}\" must be a string", e.origin, what, key));
  return n.as<std::string>();
}

bool boolean(const Entry& e, const char* key, std::string_view what) {
  const YAML::Node n = e.node[key];
  if (!n || n.IsNull()) return false;
  bool b = false;
  if (!n.IsScalar() || !YAML::convert<bool>::decode(n, b)) {
    throw ConfigError(fmt::format("{}: {} field \"{}\" must be true or false", e.origin, what, key));
  }
  return b;
}

fs::path resolve_path(const Entry& e, const std::string& p) {
  fs::path path(p);
  if (path.is_relative()) path = e.base / path;
  return path;
}

// The PEM from "<key>-data" (base64) or from the file at "<key>".
std::string pem(const Entry& e, const char* file_key, const char* data_key, std::string_view what,
                const ReadFile& read_file) {
  if (auto data = scalar(e, data_key, what); !data.empty()) {
    return decode_data(data, fmt::format("{}: {} \"{}\"", e.origin, what, data_key));
  }
  if (auto file = scalar(e, file_key, what); !file.empty()) {
    return read_file(resolve_path(e, file), fmt::format("{}: {} \"{}\"", e.origin, what, file_key));
  }
  return {};
}

ClusterConfig resolve(const Merged& m, std::string_view context_override, const std::string& origin,
                      const ReadFile& read_file) {
  const std::string context_name =
      context_override.empty() ? m.current_context : std::string(context_override);
  if (context_name.empty()) throw ConfigError(fmt::format("{}: no current-context is set", origin));
  const auto ctx = m.contexts.find(context_name);
  if (ctx == m.contexts.end()) {
    throw ConfigError(fmt::format("{}: context {:?} is not defined", origin, context_name));
  }
  const std::string cluster_name = scalar(ctx->second, "cluster", "context");
  const auto cluster = m.clusters.find(cluster_name);
  if (cluster_name.empty() || cluster == m.clusters.end()) {
    throw ConfigError(fmt::format("{}: context {:?} names cluster {:?}, which is not defined", origin,
                                  context_name, cluster_name));
  }

  ClusterConfig cfg;
  cfg.source = fmt::format("{} (context {})", origin, context_name);
  if (auto ns = scalar(ctx->second, "namespace", "context"); !ns.empty()) cfg.default_namespace = ns;

  const Entry& c = cluster->second;
  cfg.server = scalar(c, "server", "cluster");
  if (cfg.server.empty()) {
    throw ConfigError(fmt::format("{}: cluster {:?} has no server", c.origin, cluster_name));
  }
  if (cfg.server.rfind("https://", 0) != 0 && cfg.server.rfind("http://", 0) != 0) {
    throw ConfigError(fmt::format("{}: cluster {:?} server {:?} must start with https:// or http://",
                                  c.origin, cluster_name, cfg.server));
  }
  while (cfg.server.size() > 8 && cfg.server.back() == '/') cfg.server.pop_back();
  cfg.insecure_skip_tls_verify = boolean(c, "insecure-skip-tls-verify", "cluster");
  cfg.tls_server_name = scalar(c, "tls-server-name", "cluster");
  cfg.ca_pem = pem(c, "certificate-authority", "certificate-authority-data", "cluster", read_file);

  const std::string user_name = scalar(ctx->second, "user", "context");
  if (!user_name.empty()) {
    const auto user = m.users.find(user_name);
    if (user == m.users.end()) {
      throw ConfigError(fmt::format("{}: context {:?} names user {:?}, which is not defined", origin,
                                    context_name, user_name));
    }
    const Entry& u = user->second;
    if (u.node["exec"] || u.node["auth-provider"]) {
      throw ConfigError(fmt::format(
          "{}: user {:?} uses an exec or auth-provider plugin, which is not supported; use a "
          "token, a token file or a client certificate",
          u.origin, user_name));
    }
    cfg.token = scalar(u, "token", "user");
    if (auto tf = scalar(u, "tokenFile", "user"); !tf.empty()) cfg.token_file = resolve_path(u, tf).string();
    cfg.client_cert_pem = pem(u, "client-certificate", "client-certificate-data", "user", read_file);
    cfg.client_key_pem = pem(u, "client-key", "client-key-data", "user", read_file);
    cfg.username = scalar(u, "username", "user");
    cfg.password = scalar(u, "password", "user");
    if (cfg.client_cert_pem.empty() != cfg.client_key_pem.empty()) {
      throw ConfigError(fmt::format("{}: user {:?} needs both a client certificate and a client key",
                                    u.origin, user_name));
    }
  }
  return cfg;
}

}  // namespace

ClusterConfig parse_kubeconfig(std::string_view yaml, const fs::path& base_dir, std::string_view context,
                               std::string_view origin, const ReadFile& read_file) {
  return kubeconfig_errors([&] {
    Merged m;
    const std::string o(origin);
    merge(m, yaml, base_dir, o);
    return resolve(m, context, o, read_file);
  });
}

ClusterConfig parse_kubeconfig(std::string_view yaml, const fs::path& base_dir, std::string_view context,
                               std::string_view origin) {
  return parse_kubeconfig(yaml, base_dir, context, origin, read_referenced_file);
}

namespace {

ClusterConfig load_kubeconfig_files(std::string_view paths, std::string_view context) {
  Merged m;
  std::string origin;
  std::size_t loaded = 0;
  std::size_t start = 0;
  while (start <= paths.size()) {
    auto end = paths.find(':', start);
    if (end == std::string_view::npos) end = paths.size();
    const std::string_view one = paths.substr(start, end - start);
    start = end + 1;
    if (one.empty()) continue;
    const fs::path path{std::string(one)};
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      // kubectl skips missing files in a list, but a single named file must exist.
      if (paths.find(':') == std::string_view::npos) {
        throw ConfigError(fmt::format("kubeconfig {}: no such file", path.string()));
      }
      continue;
    }
    const std::string text = read_referenced_file(path, "kubeconfig");
    const std::string this_origin = "kubeconfig " + path.string();
    merge(m, text, fs::absolute(path, ec).parent_path(), this_origin);
    if (origin.empty()) origin = this_origin;
    ++loaded;
  }
  if (loaded == 0) throw ConfigError(fmt::format("kubeconfig {:?}: no file found", paths));
  return resolve(m, context, origin, read_referenced_file);
}

}  // namespace

ClusterConfig load_kubeconfig(std::string_view paths, std::string_view context) {
  return kubeconfig_errors([&] { return load_kubeconfig_files(paths, context); });
}

ClusterConfig load_in_cluster(const GetEnv& env, const fs::path& sa_dir) {
  const auto host = env("KUBERNETES_SERVICE_HOST");
  const auto port = env("KUBERNETES_SERVICE_PORT");
  if (!host || host->empty() || !port || port->empty()) {
    throw ConfigError("in-cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set",
                      ConfigOrigin::InClusterUnset);
  }
  for (const char ch : *port) {
    if (ch < '0' || ch > '9') {
      throw ConfigError(fmt::format("KUBERNETES_SERVICE_PORT: {:?} is not a port", *port), ConfigOrigin::InClusterPort);
    }
  }
  ClusterConfig cfg;
  const bool ipv6 = host->find(':') != std::string::npos;
  cfg.server = fmt::format("https://{}{}{}:{}", ipv6 ? "[" : "", *host, ipv6 ? "]" : "", *port);
  const fs::path token = sa_dir / "token";
  std::error_code ec;
  if (!fs::exists(token, ec)) {
    throw ConfigError(fmt::format("in-cluster: service-account token {} is missing", token.string()),
                      ConfigOrigin::ServiceAccount);
  }
  cfg.token_file = token.string();
  cfg.ca_pem = read_service_account_file(sa_dir / "ca.crt", "in-cluster: service-account CA");
  if (fs::exists(sa_dir / "namespace", ec)) {
    std::string ns = read_service_account_file(sa_dir / "namespace", "in-cluster: namespace");
    while (!ns.empty() && (ns.back() == '\n' || ns.back() == ' ' || ns.back() == '\r')) ns.pop_back();
    if (!ns.empty()) cfg.default_namespace = ns;
  }
  cfg.source = "in-cluster";
  return cfg;
}

ClusterConfig load_cluster_config(std::optional<std::string> kubeconfig_flag, const GetEnv& env) {
  if (kubeconfig_flag && !kubeconfig_flag->empty()) return load_kubeconfig(*kubeconfig_flag);
  if (auto kc = env("KUBECONFIG"); kc && !kc->empty()) return load_kubeconfig(*kc);
  if (auto host = env("KUBERNETES_SERVICE_HOST"); host && !host->empty()) return load_in_cluster(env);
  if (auto home = env("HOME"); home && !home->empty()) {
    const fs::path def = fs::path(*home) / ".kube" / "config";
    std::error_code ec;
    if (fs::exists(def, ec)) return load_kubeconfig(def.string());
  }
  throw ConfigError(
      "KUBECONFIG: no Kubernetes configuration found: set KUBECONFIG or --kubeconfig, or run in a "
      "pod with a service account",
      ConfigOrigin::NotFound);
}

}  // namespace fdb::kube
