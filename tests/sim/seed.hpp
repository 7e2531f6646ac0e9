// Seeding kube-sim's store (pure: no sockets): Workloads shaped as a real API server keeps
// them, and the issue text both the simulator and watch-bench's seeding pad them with.
#pragma once

#include "sim/options.hpp"
#include "sim/store.hpp"

#include <boost/json/array.hpp>

#include <cstddef>
#include <string>

namespace fdb::sim {

// `n` bytes of issue text: prose with newlines, quotes, backticks and a code block; never
// ends in a backslash or inside a multi-byte character (it is cut, then trimmed).
std::string issue_text(std::size_t n);

// The managedFields a real API server keeps on a bridge Workload, stamped `time`.
boost::json::array managed_fields(const std::string& time);

// Creates options.seed_workloads Workloads in options.seed_namespace (shape, phase and size
// as the options say). Throws std::runtime_error when the store refuses one.
void seed_workloads(Store& store, const ServerOptions& options);

}  // namespace fdb::sim
