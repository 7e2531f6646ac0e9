// Shared by the fuzzers: a property check that survives NDEBUG, and a deterministic
// generator for choices derived from the input (so a saved crash input replays exactly).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

// A property an input violated: print it and abort, which libFuzzer reports as a crash and
// saves the input (crash-<sha1>) for replay: `build/fuzz/tests/fuzz/<fuzzer> crash-<sha1>`.
#define FUZZ_CHECK(cond)                                                                      \
  do {                                                                                        \
    if (!(cond)) {                                                                            \
      std::fprintf(stderr, "\nproperty violated: %s\n  at %s:%d\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                           \
    }                                                                                         \
  } while (0)

namespace fdb::fuzz {

// FNV-1a 64 of the input, then splitmix64 steps: choices (chunk sizes, limits) that depend
// on every byte, so mutations explore them, while seed files stay plain text.
class Choices {
 public:
  explicit Choices(std::string_view data) {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (const char c : data) {
      h ^= static_cast<unsigned char>(c);
      h *= 0x100000001b3ULL;
    }
    state_ = h;
  }
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // In [lo, hi].
  std::size_t between(std::size_t lo, std::size_t hi) { return lo + static_cast<std::size_t>(next() % (hi - lo + 1)); }

 private:
  std::uint64_t state_;
};

}  // namespace fdb::fuzz
