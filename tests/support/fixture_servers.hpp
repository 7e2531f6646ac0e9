// What the tests of the bridge's I/O layers against scripted servers (support/
// test_server.hpp) share: the clients' options for a server's URL, a Config from a few
// environment variables, and the "METHOD path" log of what a server was asked.
#pragma once

#include "dispatch/client_io.hpp"
#include "operator/config.hpp"
#include "support/test_server.hpp"
#include "watch/config.hpp"

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace fdb::test {

// The API server at `url`, no credentials.
kube::ClusterConfig cluster_at(const std::string& url);

// Dispatch at `url` with token "t" and a 1 ms base backoff (its retries do not wait).
dispatch::ClientOptions dispatch_at(const std::string& url);

// The configuration loaded from no flags and only these environment variables.
op::Config config_from_env(const std::map<std::string, std::string, std::less<>>& env);

// "METHOD path" (the query cut off) of each request `s` got since the `from`th, the
// Events the bridge records left out.
std::vector<std::string> request_log(const TestServer& s, std::size_t from = 0);

}  // namespace fdb::test
