// Runs one test coroutine to its end on an io_context, at most `limit`, and rethrows what
// it threw: the driver shared by the tests of coroutine code.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <exception>

namespace fdb::test {

// `body` is a callable returning an awaitable (a lambda declared by the test; passed by
// reference, as GCC 12 does not keep a lambda coroutine's captures in its frame).
template <class F>
void run(boost::asio::io_context& io, F& body, std::chrono::seconds limit = std::chrono::seconds(30)) {
  std::exception_ptr error;
  bool done = false;
  boost::asio::co_spawn(io, body(), [&](std::exception_ptr e) {
    error = e;
    done = true;
    io.stop();
  });
  io.restart();
  io.run_for(limit);
  BOOST_REQUIRE_MESSAGE(done, "the test coroutine did not finish within " << limit.count() << " s");
  if (error) std::rethrow_exception(error);
}

}  // namespace fdb::test
