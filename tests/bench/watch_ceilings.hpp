// watch-bench's in-process ceilings, on a sample of event lines of the objects it watched:
// what parsing the lines costs with nothing else (Boost.JSON's parse, into an arena, its
// tokenizer building nothing; simdjson's DOM parser building nothing), and the informer's
// own path without the network (decode, reflector, projection, store: each line an update of
// the stored object, at a new resourceVersion), with the fast decoder and with the
// Boost.JSON reference decoder. No I/O.
#pragma once

#include "watch/simd_parse.hpp"
#include "watch/watch_cache_io.hpp"

#include <string>
#include <vector>

namespace fdb::bench {

struct Ceilings {
  double parse = 0, arena = 0, tokenize = 0, simd = 0, pipeline = 0, pipeline_reference = 0, event_bytes = 0;
  // The fast decoder's outcomes over the sample's pipeline slices.
  kube::FastCounts fast;
};

// Each figure is the best of 8 slices of 100 ms, the kinds taken in turn, so that a load
// that comes and goes on a shared machine weighs on all of them alike.
Ceilings measure_ceilings(const std::vector<std::string>& sample, const kube::WatchCacheOptions& opts);

}  // namespace fdb::bench
