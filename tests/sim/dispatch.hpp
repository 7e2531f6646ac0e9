// The dispatch service of SPEC §2, in memory: issues in lanes, claims by agent, status,
// labels, comments, re-lane, the PR-fix queue, and fault injection. Pure: requests in,
// answers out.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace fdb::sim {

struct HttpAnswer {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::map<std::string, std::string> headers;
  int delay_ms = 0;  // latency to add before answering
  // The request was acted on, but the connection is reset instead of answered (a proxy
  // or a crash between the write and the answer).
  bool reset = false;
};

struct Issue {
  std::string id;    // issueId
  std::string repo;  // owner/name
  int number = 0;
  std::string title;
  std::string lane;              // local, cloud, frontier, backlog
  std::string status = "ready";  // backlog, ready, in-progress, in-review, blocked, done
  std::string state = "open";    // open, closed
  std::string closed_at;
  std::string priority = "priority/p2";
  std::vector<std::string> labels;  // besides status/*
  std::vector<std::string> comments;
  std::vector<std::string> lane_history;
  // Every change made through the API, in order: "claim" ("claim-again" when the agent
  // already held it in progress), "unclaim", "status:<s>",
  // "lane:<l>", "label:<l>", "unlabel:<l>", "comment".
  std::vector<std::string> history;
  std::string claimed_by;
  bool claimable = true;
  bool has_open_pr = false;
};

struct PrFix {
  std::string repo;
  int pr = 0;
  int issue = 0;
  std::string branch, title, head_sha;
  std::string lane = "NORMAL";
  std::string status = "QUEUED";
  std::string reason;
  std::vector<std::string> feedback;
  int generation = 1;
  std::string note;
};

// A fault on requests whose path starts with `path` (and whose lane query is `lane`, if set).
struct DispatchFault {
  std::string path;
  std::string method;    // empty: any
  std::string lane;      // empty: any
  // status (answer `code`), garbage (200 with invalid JSON), latency, reset (act on the
  // request, then reset the connection without answering)
  std::string mode = "status";
  int code = 503;
  int count = 1;  // how many requests; -1 forever
  int latency_ms = 0;
  int retry_after = -1;
};

class Dispatch {
 public:
  Dispatch(std::vector<std::string> lanes, std::string token);

  HttpAnswer handle(const std::string& method, const std::string& path, const std::map<std::string, std::string>& query,
                    const std::string& body, const std::string& authorization);
  // GET /api/issues/claimed without `status` answers in-progress issues only, as dispatch
  // does; `status=S` answers status S.
  // The control API under /_sim/dispatch/...: POST issues, POST issues/{id}/close,
  // POST faults, DELETE faults, POST prfix, GET state.
  HttpAnswer control(const std::string& method, const std::string& path, const std::string& body);

  // Fills the lanes with n ready issues, deterministically.
  void seed(int n);
  Issue& add(Issue i);
  boost::json::object state() const;
  std::vector<Issue>& issues() { return issues_; }
  std::size_t request_count() const { return requests_; }

 private:
  // The dispatch API's routes (dispatch_routes.cpp): one handler per method + path pattern.
  struct Call;
  struct Route;
  struct FaultEffect {
    int delay_ms = 0;
    bool reset = false;
  };
  static const std::vector<Route>& routes();
  std::optional<HttpAnswer> apply_faults(const std::string& method, const std::string& path, const std::string& lane,
                                         FaultEffect& effect);
  HttpAnswer route(const std::string& method, const std::string& path, const std::map<std::string, std::string>& query,
                   const std::string& body);
  HttpAnswer get_queue(const Call& c);
  HttpAnswer get_claimed(const Call& c);
  HttpAnswer get_state(const Call& c);
  HttpAnswer get_prfix_queued(const Call& c);
  HttpAnswer post_prfix_mark(const Call& c);
  HttpAnswer post_lane(const Call& c);
  HttpAnswer post_claim(const Call& c);
  HttpAnswer post_unclaim(const Call& c);
  HttpAnswer post_status(const Call& c);
  HttpAnswer post_label(const Call& c);
  HttpAnswer post_comment(const Call& c);

  Issue* find(const boost::json::object& body);
  Issue* find_id(const std::string& id);
  boost::json::object item_json(const Issue& i, const std::string& agent) const;
  boost::json::array labels_json(const Issue& i) const;

  std::vector<std::string> lanes_;
  std::string token_;
  std::vector<Issue> issues_;
  std::vector<PrFix> prfix_;
  std::vector<DispatchFault> faults_;
  std::size_t requests_ = 0;
  int next_id_ = 1;
};

}  // namespace fdb::sim
