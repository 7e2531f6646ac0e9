// A synchronous client for kube-sim's control API and its Kubernetes and dispatch sides,
// for end-to-end tests, benchmarks and the soak (each call runs a private io_context).
#pragma once

#include <boost/json/value.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace fdb::test {

class SimClient {
 public:
  explicit SimClient(std::string api_url, std::string token = {});

  // Raw calls on the API listener; a non-2xx answer throws std::runtime_error.
  boost::json::value get(const std::string& path) const;
  boost::json::value post(const std::string& path, const boost::json::value& body) const;
  boost::json::value del(const std::string& path) const;
  boost::json::value merge_patch(const std::string& path, const boost::json::value& body) const;
  // The raw body of a GET (e.g. /metrics); throws on non-2xx.
  std::string text(const std::string& path) const;
  // The status of a GET (404 included), body ignored.
  int status(const std::string& path) const;

  void add_issue(const std::string& repo, int number, const std::string& lane, const std::string& title = "Fix it") const;
  // outcomes: attempt ("1", "2", "*") → outcome (succeed, fail-review, fail-coder, infra, hang, …).
  void set_issue_rule(const std::string& repo, int number, const std::vector<std::pair<std::string, std::string>>& outcomes) const;
  boost::json::value records() const;        // /_sim/records
  boost::json::value dispatch_state() const; // /_sim/dispatch/state
  // Workload records ({op, name, attempt, liveExisted, …}) of one name.
  std::vector<boost::json::object> workload_records(const std::string& name) const;
  // The live Workload, or null.
  boost::json::value workload(const std::string& ns, const std::string& name) const;
  boost::json::value lease(const std::string& ns, const std::string& name) const;

  // Polls `done` every 20 ms for at most `timeout`; returns its last answer.
  static bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout);

 private:
  struct Answer {
    int status;
    std::string body;
  };
  Answer send(const std::string& method, const std::string& path, const std::string& body,
             const std::string& content_type = "application/json") const;

  std::string url_;
  std::string token_;
};

}  // namespace fdb::test
