// Leader election on a coordination.k8s.io/v1 Lease with client-go's semantics.
//
// LeaseMachine is a pure state machine (no I/O, no clock of its own): it is stepped with
// the current time and the outcome of the last action, and answers with the next actions
// (get the lease, create or update it with a given record, become leader, stop leading,
// sleep). LeaderElector (watch/leader_io.hpp) is the thin coroutine driver that runs it
// against the API server.
//
// Rules (SPEC §9, client-go's leaderelection):
// - A lease held by someone else is live until its leaseDurationSeconds have passed on
//   OUR monotonic clock since we last saw the record change; the holder's renewTime is
//   never compared with our clock.
// - An empty (released), expired or missing lease is taken; a live one is respected.
// - The leader renews every retry period. Its leadership is good until `renew_deadline`
//   after the start of its last successful write; past that it stops leading at once,
//   before anyone else can consider the lease expired (renew_deadline < lease_duration).
// - leaseTransitions grows by one whenever the holder changes to us from someone else
//   (including from nobody after a release).
// - On shutdown the holder releases the lease: holderIdentity empty (ReleaseOnCancel).
#pragma once

#include "watch/rfc3339.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace fdb::kube {

// The leader election record of a Lease (its spec) and the object's resourceVersion.
struct LeaseRecord {
  std::string holder_identity;               // empty: nobody holds it
  std::int64_t lease_duration_seconds = 0;   // how long the holder's claim lasts
  std::optional<MicroTime> acquire_time;     // when the current holder acquired it
  std::optional<MicroTime> renew_time;       // when the holder last renewed (its clock)
  std::int64_t lease_transitions = 0;        // holder changes so far
  std::string resource_version;              // metadata.resourceVersion (not part of the record)

  // Equal records (everything but resource_version): "the record did not change".
  bool same_record(const LeaseRecord& other) const noexcept;
  friend bool operator==(const LeaseRecord&, const LeaseRecord&) = default;
};

// Reads the record from a Lease object (JSON). Throws std::invalid_argument when the body
// is not a JSON object or a time is not a valid MicroTime.
LeaseRecord parse_lease(std::string_view json);
// The Lease object to send: `previous` (the last JSON read from the server, empty for a
// create) with its spec fields and metadata.resourceVersion replaced by `record`'s, every
// other field kept; or a new Lease named `name` in `ns` when `previous` is empty.
// Absent times are written as null; an empty resource_version is left out.
std::string render_lease(std::string_view previous, const LeaseRecord& record, std::string_view name,
                         std::string_view ns);

struct LeaderConfig {
  std::string identity;                           // this replica (POD_NAME)
  std::chrono::milliseconds lease_duration{15'000};
  std::chrono::milliseconds renew_deadline{10'000};
  std::chrono::milliseconds retry_period{2'000};

  // Throws std::invalid_argument unless identity is set, every duration is positive,
  // lease_duration > renew_deadline and renew_deadline > retry_period.
  void validate() const;
};

// The machine's notion of "now": a monotonic instant for every duration it measures, and
// the wall time it stamps into records.
struct Instant {
  std::chrono::steady_clock::time_point mono;
  MicroTime wall;
};

namespace lease_action {
struct Get {
  friend bool operator==(const Get&, const Get&) = default;
};
// Create the Lease with this record.
struct Create {
  LeaseRecord record;
  friend bool operator==(const Create&, const Create&) = default;
};
// Replace the Lease with this record; record.resource_version is the version to replace
// (optimistic concurrency: a stale one answers Conflict).
struct Update {
  LeaseRecord record;
  friend bool operator==(const Update&, const Update&) = default;
};
struct BecomeLeader {
  friend bool operator==(const BecomeLeader&, const BecomeLeader&) = default;
};
struct StopLeading {
  friend bool operator==(const StopLeading&, const StopLeading&) = default;
};
// Wait, then call on_timer().
struct Sleep {
  std::chrono::milliseconds duration;
  friend bool operator==(const Sleep&, const Sleep&) = default;
};
// Shut down is complete: nothing more to do.
struct Done {
  friend bool operator==(const Done&, const Done&) = default;
};
}  // namespace lease_action

using LeaseAction = std::variant<lease_action::Get, lease_action::Create, lease_action::Update,
                                 lease_action::BecomeLeader, lease_action::StopLeading, lease_action::Sleep,
                                 lease_action::Done>;
using LeaseActions = std::vector<LeaseAction>;

// For logs and test messages: "get", "create(holder=a,transitions=0,rv=)", "sleep(2000ms)", …
std::string describe(const LeaseAction& action);

enum class WriteOutcome { Ok, Conflict, Error };

// The lease state machine. Every step returns zero or more actions to perform in order;
// at most one of them is a request (Get, Create, Update) or a Sleep, and it is the last.
// The driver answers a request with on_get / on_get_failed / on_write, a Sleep with
// on_timer. Calling a step that does not answer the pending action throws
// std::logic_error.
class LeaseMachine {
 public:
  // Throws std::invalid_argument when the configuration is invalid.
  explicit LeaseMachine(LeaderConfig config);

  // The first step: Get.
  LeaseActions start(Instant now);
  // A Sleep ended: the leader renews (Update of the record it wrote last), others Get.
  LeaseActions on_timer(Instant now);
  // The answer to Get: the lease's record, or nullopt when it does not exist (404).
  LeaseActions on_get(Instant now, const std::optional<LeaseRecord>& observed);
  // Get failed (transport, timeout, 5xx, a lease that cannot be parsed).
  LeaseActions on_get_failed(Instant now);
  // The answer to Create or Update. On Ok, `written` is the object the server returned
  // (with its new resource_version); for a create that got 409 AlreadyExists pass Conflict.
  LeaseActions on_write(Instant now, WriteOutcome outcome, const std::optional<LeaseRecord>& written);
  // May be called at any time (e.g. while a request is in flight): StopLeading once the
  // renew deadline has passed. Never issues a request.
  LeaseActions tick(Instant now);
  // Give up: stop leading and release the lease when we hold it (Update with an empty
  // holder), else Done. Call when no request is pending (after its answer came).
  LeaseActions shutdown(Instant now);

  bool is_leader() const noexcept { return leader_; }
  bool done() const noexcept { return pending_ == Pending::Finished; }
  // While leading: when leadership ends unless a renewal starting before then succeeds.
  std::optional<std::chrono::steady_clock::time_point> leader_deadline() const;
  // The last record seen or written, if any.
  const std::optional<LeaseRecord>& observed() const noexcept { return observed_; }
  const LeaderConfig& config() const noexcept { return config_; }

 private:
  enum class Pending { Idle, Timer, Get, Write, Finished };

  void check_deadline(Instant now, LeaseActions& out);
  void observe(Instant now, const LeaseRecord& rec);
  LeaseActions decide(Instant now);           // after a fresh observation (or none)
  LeaseActions renew(Instant now);            // leader fast path: update our last record
  LeaseActions write(Instant now, LeaseRecord record, bool create);
  LeaseActions release(Instant now);
  // Releases the lease when it is ours (appending the write), else finishes (Done).
  void release_or_finish(Instant now, bool ours, LeaseActions& out);
  std::chrono::milliseconds sleep_for(Instant now) const;  // retry period, capped by the deadline
  std::chrono::steady_clock::duration duration_of(const LeaseRecord& rec) const;

  LeaderConfig config_;
  Pending pending_ = Pending::Idle;
  bool leader_ = false;
  bool releasing_ = false;
  int release_retries_ = 0;
  std::optional<LeaseRecord> observed_;
  std::chrono::steady_clock::time_point observed_at_{};  // when observed_ last changed (our clock)
  std::chrono::steady_clock::time_point write_started_{};
  std::chrono::steady_clock::time_point renewed_at_{};   // start of the last successful write
};

}  // namespace fdb::kube
