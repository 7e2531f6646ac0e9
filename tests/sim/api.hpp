// The request router of kube-sim: Kubernetes API paths, discovery, the /_sim control API.
// No I/O: a parsed request in, an answer (or a watch to start) out. The server drives it.
#pragma once

#include "sim/dispatch.hpp"
#include "sim/foreman.hpp"
#include "sim/store.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace fdb::sim {

struct Request {
  std::string method;
  std::string path;  // without the query
  std::map<std::string, std::string> query;
  std::string content_type;
  std::string authorization;
  std::string body;
};

// A watch to serve as a stream.
struct WatchSpec {
  Filter filter;
  std::optional<std::uint64_t> from_rv;  // nullopt: synthetic ADDED of current state, then live
  bool bookmarks = false;
  bool initial_events_end = false;  // sendInitialEvents=true: end the initial ADDEDs with a bookmark
  int timeout_s = 0;                // 0: no timeout
  bool end_at_once = false;         // a fault: end the stream after its header, no event
};

// A fault on Kubernetes API requests whose path starts with `path`.
struct ApiFault {
  std::string path;
  std::string method;  // empty: any
  int code = 0;        // 0: no error answer (latency or stall only)
  int count = 1;       // -1: forever
  int retry_after = -1;
  int latency_ms = 0;  // added before answering
  int stall_ms = 0;    // for a watch: send the header, then nothing for this long
  bool watch_only = false;  // only watch requests (?watch=true), not gets and lists
  bool reset = false;       // act on the request, then reset the connection unanswered
  bool close_at_once = false;  // a watch: the header, then the end of the stream (no event)
};

struct Answer {
  HttpAnswer http;
  std::optional<WatchSpec> watch;
  int stall_ms = 0;
  bool drop_watches = false;  // control action for the server
  // Control action: new connections to a front ("api" or "dispatch") stall in connect for
  // this long, and its idle keep-alive connections are closed.
  int stall_connects_ms = 0;
  std::string stall_front;
};

struct WorkloadRecord {
  std::string op;  // create, delete
  std::string ns, name, uid, attempt;
  std::uint64_t rv = 0;
  std::string time;
  bool live_existed = false;  // a live object of that name existed when this one was created
  bool terminating = false;   // create-conflict only: the existing object had a deletionTimestamp
  std::string phase;          // status.phase of the object in the event (delete: the phase it died in)
};

class Api {
 public:
  struct Options {
    std::string token;
    std::string host;  // for /api serverAddressByClientCIDRs
  };
  Api(Store& store, Foreman& foreman, Dispatch* dispatch, Options opts);

  Answer handle(const Request& req, Clock::time_point now);
  // Watch and record every store event (call from Store::on_event).
  void observe(const Event& ev, Clock::time_point now);
  const std::vector<WorkloadRecord>& records() const { return records_; }

 private:
  // The control API (api_control.cpp): a route table, one handler per route.
  struct ControlRoute;
  Answer control(const Request& req, Clock::time_point now);
  Answer control_dispatch(const Request& req, const boost::json::object& body, Clock::time_point now);
  Answer control_records(const Request& req, const boost::json::object& body, Clock::time_point now);
  Answer control_clear_faults(const Request& req, const boost::json::object& body, Clock::time_point now);
  Answer control_faults(const Request& req, const boost::json::object& body, Clock::time_point now);
  Answer control_foreman(const Request& req, const boost::json::object& body, Clock::time_point now);
  Answer control_churn(const Request& req, const boost::json::object& body, Clock::time_point now);

  // The resource paths (api_resource.cpp): a route table, one handler per route.
  struct ResourceCall;
  struct ResourceRoute;
  Answer resource(const Request& req, const ResourceInfo& r, const std::optional<std::string>& ns,
                  const std::string& name, const std::string& sub, Clock::time_point now);
  Answer list_or_watch(const ResourceCall& c);
  Answer create_object(const ResourceCall& c);
  void record_create_conflict(const ResourceCall& c, const std::string& name, const std::string& attempt);
  Answer delete_collection(const ResourceCall& c);
  Answer get_object(const ResourceCall& c);
  Answer replace_object(const ResourceCall& c);
  Answer patch_object(const ResourceCall& c);
  Answer delete_object(const ResourceCall& c);

  Answer discovery(const std::string& path) const;

  Store& store_;
  Foreman& foreman_;
  Dispatch* dispatch_;
  Options opts_;
  std::vector<ApiFault> faults_;
  std::vector<WorkloadRecord> records_;
  std::map<std::string, std::uint64_t> counters_;  // "METHOD resource[/sub]" or "METHOD path"
  std::map<std::string, std::string> live_uid_;    // ns/name -> uid of live Workloads
};

Answer error_answer(const ApiError& e);
std::string url_decode(std::string_view s, bool plus_is_space);
std::map<std::string, std::string> parse_query(std::string_view q);

}  // namespace fdb::sim
