// Test certificates made on the fly with OpenSSL: a CA, and leaf certificates it signs.
#pragma once

#include <string>
#include <vector>

namespace fdb::test {

struct Pem {
  std::string cert;
  std::string key;
};

// A self-signed CA certificate and its key.
Pem make_ca(const std::string& common_name);
// A leaf certificate signed by `ca`, for a server (subject alternative names such as
// "DNS:localhost", "IP:127.0.0.1") or a client (no names, clientAuth usage).
Pem make_leaf(const Pem& ca, const std::string& common_name, const std::vector<std::string>& alt_names,
              bool client);

}  // namespace fdb::test
