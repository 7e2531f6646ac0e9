// How to reach the API server: from a kubeconfig file (KUBECONFIG or --kubeconfig, the
// current context) or from inside a pod (the service-account folder). The result is a
// plain struct; the client builds its TLS context and auth from it.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace fdb::kube {

// Where a configuration error came from: the program's start prefixes the message by it
// (operator/config.hpp startup_error_line), never by reading the message.
enum class ConfigOrigin {
  Other,           // anything else: the TLS material or server URL a client is built from, a token file
  Kubeconfig,      // a kubeconfig file (--kubeconfig, KUBECONFIG, ~/.kube/config) or a file it names
  InClusterUnset,  // in-cluster: KUBERNETES_SERVICE_HOST is set but KUBERNETES_SERVICE_PORT is not
  InClusterPort,   // in-cluster: KUBERNETES_SERVICE_PORT is not a port
  ServiceAccount,  // in-cluster: the service-account folder's token, ca.crt or namespace
  NotFound,        // no configuration at all: no kubeconfig, not in a pod
};

std::string_view to_string(ConfigOrigin origin) noexcept;

// A clear, single-line message naming the file and field at fault, and where it came from.
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(const std::string& message, ConfigOrigin origin = ConfigOrigin::Other)
      : std::runtime_error(message), origin_(origin) {}
  ConfigOrigin origin() const noexcept { return origin_; }

 private:
  ConfigOrigin origin_;
};

struct ClusterConfig {
  std::string server;                 // "https://host:port" or "http://host:port", maybe a path prefix
  std::string ca_pem;                 // PEM of the CA(s) that sign the server certificate; empty: system roots
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;        // SNI and verification name; empty: the server's host
  std::string client_cert_pem;        // client certificate (PEM), with client_key_pem
  std::string client_key_pem;
  std::string token;                  // a static bearer token
  std::string token_file;             // a bearer token read from this file and re-read on change
  std::string username;               // basic auth, rarely used
  std::string password;
  std::string default_namespace = "default";  // context namespace or the pod's namespace
  std::string source;                 // for logs: "kubeconfig /path (context x)" or "in-cluster"
};

using GetEnv = std::function<std::optional<std::string>(std::string_view)>;

// The process environment.
std::optional<std::string> process_env(std::string_view name);

// Reads a file that a kubeconfig names (certificate-authority, client-certificate,
// client-key) and returns its bytes; throws ConfigError with `what` and the path when it
// cannot. The default reads the file system (at most kMaxReferencedFileBytes).
using ReadFile = std::function<std::string(const std::filesystem::path& path, std::string_view what)>;

// Files a kubeconfig or the service-account folder names are refused beyond this size (a
// CA bundle is a few hundred KiB): a path such as /dev/zero cannot exhaust memory.
inline constexpr std::size_t kMaxReferencedFileBytes = 8u << 20;

// The file-system ReadFile.
std::string read_referenced_file(const std::filesystem::path& path, std::string_view what);

// Parses kubeconfig YAML text. Relative file paths are resolved against `base_dir`.
// `context` overrides current-context when not empty.
ClusterConfig parse_kubeconfig(std::string_view yaml, const std::filesystem::path& base_dir,
                               std::string_view context = {}, std::string_view origin = "kubeconfig");
// The same with the files it names read through `read_file`: with a reader that does no
// I/O this is a pure function of its arguments (tests and fuzzing use it).
ClusterConfig parse_kubeconfig(std::string_view yaml, const std::filesystem::path& base_dir,
                               std::string_view context, std::string_view origin, const ReadFile& read_file);

// Loads a kubeconfig file; `paths` may be a colon-separated list as in KUBECONFIG (the
// first file that sets a key wins, as kubectl merges them).
ClusterConfig load_kubeconfig(std::string_view paths, std::string_view context = {});

inline constexpr std::string_view kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

// In-cluster: KUBERNETES_SERVICE_HOST/PORT, and token, ca.crt, namespace in `sa_dir`.
ClusterConfig load_in_cluster(const GetEnv& env = process_env,
                              const std::filesystem::path& sa_dir = kServiceAccountDir);

// The explicit kubeconfig when given, else $KUBECONFIG, else in-cluster, else
// ~/.kube/config when it exists. Throws ConfigError naming what is missing.
ClusterConfig load_cluster_config(std::optional<std::string> kubeconfig_flag,
                                  const GetEnv& env = process_env);

}  // namespace fdb::kube
