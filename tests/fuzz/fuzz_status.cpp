// A non-2xx answer of the API server: decode_status over any status code, Retry-After
// header and body; and parse_retry_after on its own.
// Input: "<status>\n<Retry-After header>\n<body>" (missing parts are empty; a status that
// is not 1-3 digits reads as 0). Properties:
//  - parse_retry_after agrees with a reference: optional spaces/tabs around 1*DIGIT, the
//    value clamped to [0, 3600]; anything else is nullopt;
//  - decode_status never throws; its kind is classify(status, reason); a retry_after is
//    within [0, 3600] and the header's value wins when it parses; the message of a body
//    that is not a Status is a bounded, control-free excerpt; what() starts with the context.
#include "fuzz_check.hpp"
#include "watch/errors.hpp"
#include "watch/json_input.hpp"

#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

using namespace fdb::kube;

namespace {

std::optional<long long> reference_retry_after(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  if (v.empty()) return std::nullopt;
  long long n = 0;
  for (const char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    n = std::min<long long>(n * 10 + (c - '0'), 1'000'000);  // saturate long before overflow
  }
  return std::min<long long>(n, 3600);
}

std::string_view take_line(std::string_view& data) {
  const auto nl = data.find('\n');
  const std::string_view line = data.substr(0, nl);
  data.remove_prefix(nl == std::string_view::npos ? data.size() : nl + 1);
  return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  std::string_view data(reinterpret_cast<const char*>(bytes), size);
  const std::string_view status_text = take_line(data);
  const std::string_view retry_after = take_line(data);
  const std::string_view body = data;
  int status = 0;
  if (!status_text.empty() && status_text.size() <= 3 &&
      status_text.find_first_not_of("0123456789") == std::string_view::npos) {
    status = std::stoi(std::string(status_text));
  }

  const auto got = parse_retry_after(retry_after);
  const auto want = reference_retry_after(retry_after);
  FUZZ_CHECK(got.has_value() == want.has_value());
  if (got) FUZZ_CHECK(got->count() == *want);

  const ApiError e = decode_status(status, body, retry_after, "GET /fuzz");
  FUZZ_CHECK(e.kind() == classify(e.http_status(), e.reason()));
  FUZZ_CHECK(e.context() == "GET /fuzz");
  FUZZ_CHECK(std::string_view(e.what()).substr(0, 10) == "GET /fuzz:");
  if (status != 0 && status != 200) FUZZ_CHECK(e.http_status() == status);
  if (e.retry_after()) FUZZ_CHECK(e.retry_after()->count() >= 0 && e.retry_after()->count() <= 3600);
  if (got) FUZZ_CHECK(e.retry_after() == got);
  boost::system::error_code ec;
  const boost::json::value v = parse_json(body, ec);  // as decode_status parses
  const boost::json::object* st = (!ec && v.is_object()) ? &v.get_object() : nullptr;
  if (st != nullptr) {
    const auto* kind = st->if_contains("kind");
    if (kind == nullptr || !kind->is_string() || kind->get_string() != "Status") st = nullptr;
  }
  if (st != nullptr) {
    const auto* m = st->if_contains("message");
    FUZZ_CHECK(e.message() == ((m != nullptr && m->is_string()) ? std::string_view(m->get_string()) : std::string_view()));
  } else {
    // Not a Status object: the message is a bounded excerpt of the body, without controls.
    FUZZ_CHECK(e.reason().empty());
    FUZZ_CHECK(e.message().size() <= 200 + 3);
    for (const char c : e.message()) FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f);
  }
  (void)e.retryable();
  (void)e.expired();
  return 0;
}
