// Base64 through OpenSSL (watch/base64.hpp) as tables: RFC 4648's vectors, padding present
// or left out, whitespace inside kubeconfig data, and invalid input (an error, not garbage).
#include "watch/base64.hpp"

#include <boost/test/unit_test.hpp>

#include <random>

using namespace fdb::kube;

namespace {
// The decoded bytes, or "ERR:" and the reason.
std::string decoded(std::string_view text) {
  auto r = base64_decode(text);
  if (auto* e = std::get_if<Base64Error>(&r)) return "ERR:" + e->reason;
  return std::get<std::string>(r);
}
}  // namespace

BOOST_AUTO_TEST_SUITE(base64)

BOOST_AUTO_TEST_CASE(encodes_rfc4648_vectors_and_binary) {
  const struct {
    std::string bytes;
    const char* text;
  } rows[] = {
      {"", ""},           {"f", "Zg=="},          {"fo", "Zm8="},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
      {"user:pa ss", "dXNlcjpwYSBzcw=="},                                  // basic auth
      {std::string("\0\xff\xfe", 3), "AP/+"},                             // + and /
      {std::string(1, '\0'), "AA=="},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.text) {
      BOOST_TEST(base64_encode(r.bytes) == r.text);
      BOOST_TEST(decoded(r.text) == r.bytes);
    }
  }
}

BOOST_AUTO_TEST_CASE(decodes_padding_whitespace_and_refuses_invalid_input) {
  const struct {
    const char* text;
    std::string expect;  // the bytes, or "ERR:" + reason
  } rows[] = {
      {"Q0EtREFUQQ==", "CA-DATA"},
      {"Q0EtREFUQQ", "CA-DATA"},                  // padding left out
      {"Q0EtREFUQQ=", "CA-DATA"},                 // half the padding
      {"Q0VSVA==", "CERT"},
      {"S0VZ", "KEY"},
      {"Q0Et\nREFU\nQQ==\n", "CA-DATA"},          // wrapped lines (base64 -w 64)
      {"  Q0Et REFU\tQQ==\r\n", "CA-DATA"},       // spaces, tabs, CRLF anywhere
      {"Q0Et\r\nREFUQQ\r\n==", "CA-DATA"},        // whitespace inside the padding
      {"", ""},
      {" \n\t", ""},
      {"Zg", "f"},
      {"Zm8", "fo"},
      {"Q", "ERR:is not valid base64 (truncated)"},   // 4n+1 characters
      {"Q0EtR", "ERR:is not valid base64 (truncated)"},
      {"Q0E*", "ERR:is not valid base64"},            // not in the alphabet
      {"%%", "ERR:is not valid base64"},
      {"S0V-", "ERR:is not valid base64"},            // base64url is not accepted
      {"S0V_", "ERR:is not valid base64"},
      {"Q0E=Q0E=", "ERR:is not valid base64"},        // data after padding
      {"=Q0E", "ERR:is not valid base64"},
      {"Q0E\x80", "ERR:is not valid base64"},         // a byte above ASCII
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT("\"" << r.text << "\"") { BOOST_TEST(decoded(r.text) == r.expect); }
  }
  // A NUL inside the text is not whitespace.
  BOOST_TEST(decoded(std::string_view("Q0\0E", 4)) == "ERR:is not valid base64");
}

BOOST_AUTO_TEST_CASE(round_trips_random_bytes_of_every_length_up_to_300) {
  std::mt19937 rng(7);
  for (std::size_t n = 0; n <= 300; ++n) {
    std::string bytes(n, '\0');
    for (auto& c : bytes) c = static_cast<char>(rng() & 0xff);
    const std::string text = base64_encode(bytes);
    BOOST_TEST(text.size() == 4 * ((n + 2) / 3));
    BOOST_TEST(decoded(text) == bytes);
    std::string unpadded = text;
    while (!unpadded.empty() && unpadded.back() == '=') unpadded.pop_back();
    BOOST_TEST(decoded(unpadded) == bytes);
  }
}

BOOST_AUTO_TEST_SUITE_END()
