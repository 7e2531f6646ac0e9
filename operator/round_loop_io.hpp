// The shape the leader's timer loops share — the claim loop (operator/claimer_io.hpp), the
// claim sweeps (operator/claim_sweeps_io.hpp) and the PR-fix loop (operator/prfix_loop_io.hpp):
// wait until the loop may start (the caches synced; looked at again every 50 ms), run a
// round, then wait for the rest of the interval, measured from the round's start, so that
// rounds begin `interval` apart however long each takes (and at once when one took longer).
// Ends only by cancellation or by an exception out of `round`.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>

namespace fdb::op {

// `ready`: whether a round may run now (unset: always). `round` is called for each round
// and awaited; it is kept alive by the loop for as long as the loop runs.
boost::asio::awaitable<void> run_rounds(std::chrono::steady_clock::duration interval, std::function<bool()> ready,
                                        std::function<boost::asio::awaitable<void>()> round);

}  // namespace fdb::op
