// What the API client tests share: a cluster config for a URL, a scripted JSON answer,
// the test CA and server certificate (made once per process), and the kind of an ApiError.
#pragma once

#include "support/pki.hpp"
#include "support/test_server.hpp"
#include "watch/client_io.hpp"
#include "watch/errors.hpp"

#include <boost/test/unit_test.hpp>

#include <functional>
#include <string>

namespace fdb::test {

inline kube::ClusterConfig config_for(const std::string& url) {
  kube::ClusterConfig c;
  c.server = url;
  c.source = "test";
  return c;
}

inline TestReply json(int status, std::string body) {
  TestReply r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

inline const Pem& ca() {
  static const Pem pem = make_ca("fdb test CA");
  return pem;
}
inline const Pem& server_cert() {
  static const Pem pem = make_leaf(ca(), "kube-apiserver", {"DNS:localhost", "IP:127.0.0.1"}, false);
  return pem;
}

inline kube::ErrorKind kind_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const kube::ApiError& e) {
    BOOST_TEST_MESSAGE("ApiError: " << e.what());
    return e.kind();
  }
  BOOST_FAIL("expected an ApiError");
  return kube::ErrorKind::Unknown;
}

}  // namespace fdb::test
