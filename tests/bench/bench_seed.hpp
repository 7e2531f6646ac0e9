// Seeding and churning Workloads through the API, on any API server (compare_watch.sh's
// kubeconfig mode): what kube-sim does inside itself with --seed-workloads and
// /_sim/churn, done as a user would, with creates and merge patches.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace boost::asio {
class io_context;
}
namespace fdb::kube {
class Client;
}

namespace fdb::bench {

// The body of Workload `index` (named wl-bench-<index>): labelled as the bridge's, with an
// intent padded to about `bytes` bytes of stored object. Shape "padded": one run of 'x';
// "realistic": issue text with newlines, quotes and a code block (many small escapes).
std::string bench_workload(long index, std::string_view shape, std::size_t bytes);

// The merge patch that churn sends: one annotation set to `value`.
std::string churn_patch(long value);

struct SeedOptions {
  std::string ns;
  long objects = 0;
  std::size_t bytes = 2500;
  std::string shape = "padded";
  int parallel = 16;  // requests in flight
};

struct SeedResult {
  long created = 0;
  long existed = 0;  // 409: kept as they were
  long failed = 0;
  double seconds = 0;
};

// Creates the namespace when it is missing, then Workloads wl-bench-0 … objects-1. Runs
// `io` (the client's) until done; every request has the client's timeout.
SeedResult seed_workloads(boost::asio::io_context& io, kube::Client& client, const SeedOptions& options);

// Patches `events` Workloads (one annotation each, cycling through wl-bench-0 …
// objects-1), `parallel` at a time: each patch is one MODIFIED event for the watchers.
SeedResult churn_workloads(boost::asio::io_context& io, kube::Client& client, const SeedOptions& options, long events);

}  // namespace fdb::bench
