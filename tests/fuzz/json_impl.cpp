// Boost.JSON compiled from its headers into the fuzzers (instead of the prebuilt library),
// so its parser is instrumented for coverage and the sanitizers.
#include <boost/json/src.hpp>
