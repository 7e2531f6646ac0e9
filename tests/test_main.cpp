// The shared main of every Boost.Test executable (linked against the shared runtime).
#define BOOST_TEST_MODULE foreman-dispatch-bridge
#include <boost/test/unit_test.hpp>
