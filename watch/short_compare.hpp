// Equality of short byte strings (object keys: "metadata", "resourceVersion", annotation
// names) without a call to memcmp: the hot loops of the decoder and of packing compare one
// key against a few candidates per key of every event, and most keys are under 17 bytes.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace fdb::kube {

// True when the n bytes at a and b are equal. Keys of 4 to 16 bytes cost two overlapping
// loads per side, of 17 to 32 bytes four (annotation and label names: "foreman.llmkube.dev/
// issue-id"); longer ones go to memcmp.
inline bool same_bytes(const char* a, const char* b, std::size_t n) noexcept {
  if (n >= 8) {
    if (n > 16) {
      if (n > 32) return std::memcmp(a, b, n) == 0;
      std::uint64_t x[4], y[4];
      std::memcpy(&x[0], a, 16);
      std::memcpy(&y[0], b, 16);
      std::memcpy(&x[2], a + n - 16, 16);
      std::memcpy(&y[2], b + n - 16, 16);
      return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3])) == 0;
    }
    std::uint64_t x0, y0, x1, y1;
    std::memcpy(&x0, a, 8);
    std::memcpy(&y0, b, 8);
    std::memcpy(&x1, a + n - 8, 8);
    std::memcpy(&y1, b + n - 8, 8);
    return ((x0 ^ y0) | (x1 ^ y1)) == 0;
  }
  if (n >= 4) {
    std::uint32_t x0, y0, x1, y1;
    std::memcpy(&x0, a, 4);
    std::memcpy(&y0, b, 4);
    std::memcpy(&x1, a + n - 4, 4);
    std::memcpy(&y1, b + n - 4, 4);
    return ((x0 ^ y0) | (x1 ^ y1)) == 0;
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

inline bool same_key(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && same_bytes(a.data(), b.data(), a.size());
}

}  // namespace fdb::kube
