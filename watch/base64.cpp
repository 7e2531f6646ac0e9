#include "watch/base64.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <climits>

namespace fdb::kube {

namespace {

bool in_alphabet(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

bool whitespace(char c) noexcept { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

}  // namespace

std::string base64_encode(std::string_view bytes) {
  if (bytes.empty()) return {};
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');  // + the NUL EVP_EncodeBlock writes
  // EVP_EncodeBlock takes an int length: encode in slices of a multiple of 3 bytes.
  constexpr std::size_t kSlice = 3 * (1 << 28);
  std::size_t written = 0;
  for (std::size_t at = 0; at < bytes.size(); at += kSlice) {
    const std::size_t n = std::min(kSlice, bytes.size() - at);
    written += static_cast<std::size_t>(EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data() + written),
                                                        reinterpret_cast<const unsigned char*>(bytes.data() + at),
                                                        static_cast<int>(n)));
  }
  out.resize(written);
  return out;
}

std::variant<std::string, Base64Error> base64_decode(std::string_view text) {
  std::string data;
  data.reserve(text.size());
  bool padding = false;
  for (const char c : text) {
    if (whitespace(c)) continue;
    if (c == '=') {
      padding = true;
      continue;
    }
    if (padding || !in_alphabet(c)) return Base64Error{"is not valid base64"};
    data += c;
  }
  if (data.size() % 4 == 1) return Base64Error{"is not valid base64 (truncated)"};
  if (data.size() > static_cast<std::size_t>(INT_MAX) - 4) return Base64Error{"is not valid base64 (too long)"};
  const std::size_t pad = (4 - data.size() % 4) % 4;
  data.append(pad, '=');
  if (data.empty()) return std::string();
  std::string out(data.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
  if (n < 0) return Base64Error{"is not valid base64"};
  // EVP_DecodeBlock counts the padding's zero bytes: drop them.
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

}  // namespace fdb::kube
