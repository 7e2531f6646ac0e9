// Kubernetes Events on the Workloads the bridge acts on (retry, tombstone, park,
// escalation), as controllers record them: events.k8s.io/v1, best effort — a failure to
// record is logged and counted, never fails the action it describes.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace fdb::kube {
class Client;
}

namespace fdb::op {

struct EventTarget {
  std::string name;
  std::string ns;
  std::string uid;
};

struct EventSpec {
  std::string type = "Normal";  // Normal or Warning
  std::string reason;           // CamelCase: Retried, Tombstoned, Parked, Escalated, …
  std::string action;           // what the controller did: Retry, Park, Escalate, …
  std::string note;             // human message, cut to 1 KB
};

// The Event object (pure): name `<target>.<16 hex>` from the time, reportingController
// foreman-dispatch-bridge, reportingInstance = identity.
boost::json::object make_event(const EventTarget& target, const EventSpec& spec, std::string_view identity,
                               std::chrono::system_clock::time_point now);

class EventRecorder {
 public:
  EventRecorder(kube::Client& client, std::string ns, std::string identity);
  // Posts the Event; returns false (after logging) when the API refused it.
  boost::asio::awaitable<bool> record(EventTarget target, EventSpec spec);
  unsigned long failures() const noexcept { return failures_; }

 private:
  kube::Client& client_;
  std::string ns_;
  std::string identity_;
  unsigned long failures_ = 0;
};

}  // namespace fdb::op
