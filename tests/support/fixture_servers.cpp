#include "support/fixture_servers.hpp"

namespace fdb::test {

kube::ClusterConfig cluster_at(const std::string& url) {
  kube::ClusterConfig c;
  c.server = url;
  return c;
}

dispatch::ClientOptions dispatch_at(const std::string& url) {
  dispatch::ClientOptions o;
  o.url = url;
  o.token = "t";
  o.base_backoff = std::chrono::milliseconds(1);
  return o;
}

op::Config config_from_env(const std::map<std::string, std::string, std::less<>>& env) {
  op::LoadOptions lo;
  lo.env = [env](std::string_view n) -> std::optional<std::string> {
    const auto it = env.find(n);
    return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  return op::load_config(std::vector<std::string>{}, lo);
}

std::vector<std::string> request_log(const TestServer& s, std::size_t from) {
  std::vector<std::string> out;
  for (std::size_t i = from; i < s.requests().size(); ++i) {
    const auto& r = s.requests()[i];
    if (r.target.find("/events") != std::string::npos) continue;
    out.push_back(r.method + " " + r.target.substr(0, r.target.find('?')));
  }
  return out;
}

}  // namespace fdb::test
