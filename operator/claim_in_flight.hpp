// What the claim loop has under way that the caches cannot show yet (pure: time is a
// parameter, nothing here awaits). Read by the claim headroom (pending creates count as in
// progress) and by the stranded-claims sweep (a name being claimed, created or deferred to
// an intent is not stranded).
//
// Until engineer D's in-flight registry (operator/in_flight.hpp) lands, this class keeps
// the claimer's part of it with the same interface: creating(name), pending_creates().
//
//   claiming ──▶ (claim answered, create settled) ──▶ created: pending until the cache
//   shows the Workload (or the API server says it is gone already)
//                                                 └──▶ deferred: an intent of kind Claim
//   recorded for a name whose old object is terminating; pending until the cache shows the
//   intent, or a Workload of that name that is not being deleted.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace fdb::op {

class ClaimsInFlight {
 public:
  using Clock = std::chrono::steady_clock;
  using TimePoint = Clock::time_point;

  // What the caches say of a name, for settle().
  struct Cached {
    bool workload = false;              // a Workload of that name is cached
    bool workload_terminating = false;  // … and it is being deleted
    bool intent = false;                // an intent ConfigMap of that name is cached
  };

  // From the claim call until the create (or the intent) is settled.
  void begin_claim(std::string name) { claiming_.insert(std::move(name)); }
  void end_claim(std::string_view name);
  // The create was answered: in progress until the cache shows it.
  void created(std::string name, TimePoint now) { pending_.insert_or_assign(std::move(name), Entry{now, false}); }
  // An intent of kind Claim was recorded: in progress until the cache shows it (or what it made).
  void deferred(std::string name, TimePoint now) { pending_.insert_or_assign(std::move(name), Entry{now, true}); }
  // The API server said the created Workload is gone already.
  void forget(std::string_view name);

  // Drops every pending name the cache now shows; returns the created names unseen for at
  // least `unseen_after` (the caller asks the API server for them). A deferred name that
  // nothing shows after `deferred_ttl` is dropped (its intent came and went unseen).
  std::vector<std::string> settle(const std::function<Cached(std::string_view)>& cached, TimePoint now,
                                  std::chrono::milliseconds unseen_after, std::chrono::milliseconds deferred_ttl);

  bool pending(std::string_view name) const { return pending_.find(name) != pending_.end(); }
  // Workloads created (or deferred) but not yet seen in the cache: counted as in progress.
  std::size_t pending_creates() const noexcept { return pending_.size(); }
  // True while a name is being claimed or created, and until the cache shows what came of it.
  bool creating(std::string_view name) const {
    return claiming_.find(name) != claiming_.end() || pending(name);
  }

 private:
  struct Entry {
    TimePoint since;
    bool deferred = false;
  };
  std::map<std::string, Entry, std::less<>> pending_;
  std::set<std::string, std::less<>> claiming_;
};

}  // namespace fdb::op
