#include "watch/errors.hpp"

#include <boost/test/unit_test.hpp>

#include <fmt/format.h>

using namespace fdb::kube;

BOOST_AUTO_TEST_SUITE(status_decoding)

namespace {
std::string status(int code, std::string_view reason, std::string_view message) {
  return fmt::format(R"({{"kind":"Status","apiVersion":"v1","metadata":{{}},"status":"Failure",)"
                     R"("message":"{}","reason":"{}","code":{}}})",
                     message, reason, code);
}
}  // namespace

BOOST_AUTO_TEST_CASE(each_kind_from_a_status_object) {
  struct Row {
    int http;
    std::string_view reason;
    ErrorKind kind;
    bool retryable;
  };
  const Row rows[] = {
      {400, "BadRequest", ErrorKind::BadRequest, false},
      {401, "Unauthorized", ErrorKind::Unauthorized, false},
      {403, "Forbidden", ErrorKind::Forbidden, false},
      {404, "NotFound", ErrorKind::NotFound, false},
      {405, "MethodNotAllowed", ErrorKind::MethodNotAllowed, false},
      {409, "AlreadyExists", ErrorKind::AlreadyExists, false},
      {409, "Conflict", ErrorKind::Conflict, false},
      {410, "Expired", ErrorKind::Expired, false},
      {410, "Gone", ErrorKind::Gone, false},
      {415, "UnsupportedMediaType", ErrorKind::UnsupportedMediaType, false},
      {422, "Invalid", ErrorKind::Invalid, false},
      {429, "TooManyRequests", ErrorKind::TooManyRequests, true},
      {500, "InternalError", ErrorKind::InternalError, true},
      {502, "", ErrorKind::ServerError, true},
      {503, "ServiceUnavailable", ErrorKind::ServiceUnavailable, true},
      {504, "Timeout", ErrorKind::ServerTimeout, true},
      {500, "Timeout", ErrorKind::ServerTimeout, true},
      {501, "", ErrorKind::ServerError, false},
      {418, "", ErrorKind::Unknown, false},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.http << " " << r.reason) {
      const auto e = decode_status(r.http, status(r.http, r.reason, "boom"), "", "GET /x");
      BOOST_TEST(static_cast<int>(e.kind()) == static_cast<int>(r.kind));
      BOOST_TEST(e.http_status() == r.http);
      BOOST_TEST(e.reason() == std::string(r.reason));
      BOOST_TEST(e.message() == "boom");
      BOOST_TEST(e.context() == "GET /x");
      BOOST_TEST(e.retryable() == r.retryable);
      BOOST_TEST(std::string(e.what()).find("GET /x") == 0u);
    }
  }
}

BOOST_AUTO_TEST_CASE(retry_after_from_header_or_details) {
  auto e = decode_status(429, status(429, "TooManyRequests", "slow down"), "7", "c");
  BOOST_TEST(e.retry_after().has_value());
  BOOST_TEST(e.retry_after()->count() == 7);

  const std::string with_details =
      R"({"kind":"Status","status":"Failure","reason":"TooManyRequests","code":429,)"
      R"("details":{"retryAfterSeconds":3}})";
  e = decode_status(429, with_details, "", "c");
  BOOST_TEST(e.retry_after()->count() == 3);
  // The header wins over the details.
  e = decode_status(429, with_details, "5", "c");
  BOOST_TEST(e.retry_after()->count() == 5);
}

BOOST_AUTO_TEST_CASE(parse_retry_after_table) {
  struct Row {
    std::string_view in;
    std::optional<long> out;
  };
  const Row rows[] = {{"0", 0},    {"1", 1},          {" 12 ", 12},   {"3600", 3600}, {"99999", 3600},
                      {"", {}},    {"-1", {}},        {"1.5", {}},    {"abc", {}},
                      {"Wed, 21 Oct 2015 07:28:00 GMT", {}}, {"99999999999999999999999", 3600},
                      // Found by fuzz_status: an out-of-range number was 3600 whatever followed
                      // it or preceded it; a sign is not delay-seconds either.
                      {"99999999999999999999999x", {}}, {"-99999999999999999999999", {}},
                      {"9999999999999999999\x01""49", {}}, {"-0", {}}, {"+5", {}}, {"5 5", {}}};
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT("'" << r.in << "'") {
      const auto got = parse_retry_after(r.in);
      BOOST_TEST(got.has_value() == r.out.has_value());
      if (got && r.out) BOOST_TEST(got->count() == *r.out);
    }
  }
}

BOOST_AUTO_TEST_CASE(not_a_status_body) {
  // A proxy's HTML page, garbage, an empty body, JSON that is not a Status.
  auto e = decode_status(503, "<html><body>Service Unavailable</body></html>", "", "GET /a");
  BOOST_TEST(static_cast<int>(e.kind()) == static_cast<int>(ErrorKind::ServiceUnavailable));
  BOOST_TEST(e.message().find("Service Unavailable") != std::string::npos);

  e = decode_status(404, "", "", "GET /a");
  BOOST_TEST(static_cast<int>(e.kind()) == static_cast<int>(ErrorKind::NotFound));
  BOOST_TEST(e.message().empty());

  e = decode_status(409, R"({"kind":"Workload","reason":"AlreadyExists"})", "", "POST /a");
  // Not a Status: the reason is not trusted, a bare 409 is a conflict.
  BOOST_TEST(static_cast<int>(e.kind()) == static_cast<int>(ErrorKind::Conflict));

  const std::string huge(10000, 'x');
  e = decode_status(500, huge, "", "GET /a");
  BOOST_TEST(e.message().size() < 300u);

  e = decode_status(500, std::string("\x01\x02\xff{", 4), "", "GET /a");
  BOOST_TEST(e.message().find('\x01') == std::string::npos);
}

BOOST_AUTO_TEST_CASE(status_inside_a_watch_error_event) {
  // A watch ERROR event arrives in an HTTP 200 answer; its Status carries the real code.
  const auto e = decode_status(
      200, R"x({"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old resource version: 1 (5)","reason":"Expired","code":410})x",
      "", "watch workloads");
  BOOST_TEST(e.expired());
  BOOST_TEST(e.http_status() == 410);
  const auto old = decode_status(0, R"({"kind":"Status","status":"Failure","reason":"Gone","code":410})", "", "w");
  BOOST_TEST(old.expired());
  BOOST_TEST(static_cast<int>(old.kind()) == static_cast<int>(ErrorKind::Gone));
}

BOOST_AUTO_TEST_SUITE_END()
