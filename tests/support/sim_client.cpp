#include "support/sim_client.hpp"

#include "watch/client_io.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <stdexcept>
#include <thread>

namespace fdb::test {

namespace asio = boost::asio;
namespace json = boost::json;

SimClient::SimClient(std::string api_url, std::string token) : url_(std::move(api_url)), token_(std::move(token)) {}

SimClient::Answer SimClient::send(const std::string& method, const std::string& path, const std::string& body,
                                  const std::string& content_type) const {
  asio::io_context io;
  kube::ClusterConfig c;
  c.server = url_;
  c.token = token_;
  kube::Client client(io.get_executor(), c);
  const kube::HttpRequest req{method, path, body, body.empty() ? "" : content_type, false};
  auto call = [&]() -> asio::awaitable<kube::HttpResponse> { co_return co_await client.send(req); };
  auto fut = asio::co_spawn(io, call(), asio::use_future);
  io.run();
  const auto res = fut.get();
  return {res.status, res.body};
}

namespace {
json::value parse_or_throw(const std::string& what, int status, const std::string& body) {
  if (status < 200 || status >= 300) throw std::runtime_error(what + ": HTTP " + std::to_string(status) + ": " + body.substr(0, 300));
  if (body.empty()) return nullptr;
  return json::parse(body);
}
}  // namespace

json::value SimClient::get(const std::string& path) const {
  auto a = send("GET", path, {});
  return parse_or_throw("GET " + path, a.status, a.body);
}
json::value SimClient::post(const std::string& path, const json::value& body) const {
  auto a = send("POST", path, json::serialize(body));
  return parse_or_throw("POST " + path, a.status, a.body);
}
json::value SimClient::del(const std::string& path) const {
  auto a = send("DELETE", path, {});
  return parse_or_throw("DELETE " + path, a.status, a.body);
}
std::string SimClient::text(const std::string& path) const {
  auto a = send("GET", path, {});
  if (a.status < 200 || a.status >= 300) throw std::runtime_error("GET " + path + ": HTTP " + std::to_string(a.status));
  return a.body;
}

json::value SimClient::merge_patch(const std::string& path, const json::value& body) const {
  auto a = send("PATCH", path, json::serialize(body), "application/merge-patch+json");
  return parse_or_throw("PATCH " + path, a.status, a.body);
}

int SimClient::status(const std::string& path) const { return send("GET", path, {}).status; }

void SimClient::add_issue(const std::string& repo, int number, const std::string& lane, const std::string& title) const {
  post("/_sim/dispatch/issues", json::object{{"issueId", "I_" + repo + "_" + std::to_string(number)},
                                             {"repoFullName", repo},
                                             {"number", number},
                                             {"title", title},
                                             {"lane", lane},
                                             {"status", "ready"},
                                             {"claimable", true}});
}

void SimClient::set_issue_rule(const std::string& repo, int number,
                               const std::vector<std::pair<std::string, std::string>>& outcomes) const {
  json::object rule;
  for (const auto& [attempt, outcome] : outcomes) rule[attempt] = outcome;
  post("/_sim/foreman", json::object{{"issues", json::object{{repo + "#" + std::to_string(number), rule}}}});
}

json::value SimClient::records() const { return get("/_sim/records"); }
json::value SimClient::dispatch_state() const { return get("/_sim/dispatch/state"); }

std::vector<json::object> SimClient::workload_records(const std::string& name) const {
  std::vector<json::object> out;
  const json::value all = records();  // alive for the whole loop
  for (const auto& r : all.at("workloads").as_array()) {
    if (r.at("name").as_string() == name) out.push_back(r.as_object());
  }
  return out;
}

json::value SimClient::workload(const std::string& ns, const std::string& name) const {
  const std::string path = "/apis/foreman.llmkube.dev/v1alpha1/namespaces/" + ns + "/workloads/" + name;
  auto a = send("GET", path, {});
  if (a.status == 404) return nullptr;
  return parse_or_throw("GET " + path, a.status, a.body);
}

json::value SimClient::lease(const std::string& ns, const std::string& name) const {
  const std::string path = "/apis/coordination.k8s.io/v1/namespaces/" + ns + "/leases/" + name;
  auto a = send("GET", path, {});
  if (a.status == 404) return nullptr;
  return parse_or_throw("GET " + path, a.status, a.body);
}

bool SimClient::wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace fdb::test
