// The one RFC 3339 codec (watch/rfc3339.hpp) as tables: every form each of the two old
// parsers accepted (the Lease's MicroTime, the sweeps' stamps) and every form refused, in
// each of the two modes; and both formats.
#include "watch/rfc3339.hpp"

#include <boost/test/unit_test.hpp>

#include <optional>

using namespace fdb::kube;
using namespace std::chrono;
using namespace std::chrono_literals;

namespace {
const MicroTime kBase = sys_days{2026y / 1 / 2} + 3h + 4min + 5s;

std::optional<MicroTime> parsed(std::string_view text, TimeForm form) {
  const auto r = parse_time(text, form);
  if (const auto* t = std::get_if<MicroTime>(&r)) return *t;
  return std::nullopt;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(rfc3339)

BOOST_AUTO_TEST_CASE(accepted_and_refused_forms_in_each_mode) {
  const std::optional<MicroTime> no;
  const struct {
    const char* text;
    std::optional<MicroTime> any;    // TimeForm::Any
    std::optional<MicroTime> micro;  // TimeForm::MicroTime
  } rows[] = {
      // Accepted by both: the MicroTime form.
      {"2026-01-02T03:04:05.000000Z", kBase, kBase},
      {"2026-01-02T03:04:05.000042Z", kBase + 42us, kBase + 42us},
      {"1970-01-01T00:00:00.000000Z", MicroTime{}, MicroTime{}},
      {"2024-02-29T23:59:59.999999Z", sys_days{2024y / 2 / 29} + 23h + 59min + 59s + 999999us,
       sys_days{2024y / 2 / 29} + 23h + 59min + 59s + 999999us},
      {"0000-01-01T00:00:00.000000Z", sys_days{year{0} / 1 / 1}, sys_days{year{0} / 1 / 1}},
      // Accepted as stamps only (the Python bridge, isoformat(), metadata times).
      {"2026-01-02T03:04:05Z", kBase, no},                 // seconds (strftime, metadata)
      {"2026-01-02T03:04:05.123Z", kBase + 123ms, no},     // a shorter fraction
      {"2026-01-02T03:04:05.1234567Z", kBase + 123456us, no},  // longer: cut at microseconds
      {"2026-01-02T03:04:05+00:00", kBase, no},            // isoformat()
      {"2026-01-02T04:04:05+01:00", kBase, no},            // an offset east
      {"2026-01-01T22:04:05-05:00", kBase, no},            // an offset west
      {"2026-01-02T03:04:05.000000+00:00", kBase, no},
      {"2026-01-02t03:04:05z", kBase, no},                 // lower case
      {"2026-01-02t03:04:05.000000z", kBase, no},
      {"2026-01-02 03:04:05Z", kBase, no},                 // a space for T
      {"2026-01-02 03:04:05.000000Z", kBase, no},
      {"2026-01-02T03:04:60Z", kBase + 55s, no},           // a leap second reads as the next minute
      {"2026-01-02T03:04:60.000000Z", kBase + 55s, no},
      // Refused by both.
      {"", no, no},
      {"yesterday", no, no},
      {"2026-01-02T03:04:05", no, no},                     // no zone
      {"2026-01-02T03:04:05.000000", no, no},
      {"2026-01-02T03:04:05.Z", no, no},                   // an empty fraction
      {"2026-01-02T03:04:05.00000aZ", no, no},
      {"2026-01-02T03:04:05.00000+Z", no, no},
      {"2026-02-30T03:04:05Z", no, no},                    // no such day
      {"2025-02-29T03:04:05.000000Z", no, no},             // not a leap year
      {"2026-04-31T03:04:05.000000Z", no, no},
      {"2026-13-02T03:04:05.000000Z", no, no},             // month 13
      {"2026-00-02T03:04:05.000000Z", no, no},
      {"2026-01-00T03:04:05.000000Z", no, no},
      {"2026-01-02T24:04:05Z", no, no},                    // no such hour
      {"2026-01-02T24:00:00.000000Z", no, no},
      {"2026-01-02T03:60:05.000000Z", no, no},
      {"2026-01-02T03:04:61Z", no, no},
      {"2026-01-02T03:04:05Zjunk", no, no},
      {"2026-01-02T03:04:05.000000Z ", no, no},
      {" 2026-01-02T03:04:05.000000Z", no, no},
      {"2026-01-02T03:04:05+0100", no, no},                // an offset without the colon
      {"2026-01-02T03:04:05+24:00", no, no},
      {"2026-01-02T03:04:05+01:60", no, no},
      {"2026-01-02T03:04:05+01", no, no},
      {"2026-1-02T03:04:05Z", no, no},
      {"2026-1-02T03:04:05.0000000Z", no, no},
      {"+026-01-02T03:04:05.000000Z", no, no},
      {"2026/01/02T03:04:05Z", no, no},
      {"2026-01-02X03:04:05Z", no, no},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT("\"" << r.text << "\"") {
      const auto any = parsed(r.text, TimeForm::Any);
      const auto micro = parsed(r.text, TimeForm::MicroTime);
      BOOST_TEST(any.has_value() == r.any.has_value());
      BOOST_TEST(micro.has_value() == r.micro.has_value());
      if (any && r.any) BOOST_TEST(any->time_since_epoch().count() == r.any->time_since_epoch().count());
      if (micro && r.micro) BOOST_TEST(micro->time_since_epoch().count() == r.micro->time_since_epoch().count());
      // Every MicroTime is also a stamp: the union.
      if (micro) BOOST_TEST(any.has_value());
    }
  }
}

BOOST_AUTO_TEST_CASE(an_error_names_the_text_and_the_reason) {
  const auto r = parse_time("2026-01-02T03:04:05Z", TimeForm::MicroTime);
  const auto* e = std::get_if<TimeError>(&r);
  BOOST_REQUIRE(e);
  BOOST_TEST(e->message() == "invalid time \"2026-01-02T03:04:05Z\": wrong length (want 2026-01-02T03:04:05.000000Z)");
  const auto r2 = parse_time("2026-02-30T03:04:05.000000Z", TimeForm::Any);
  BOOST_TEST(std::get<TimeError>(r2).reason == "no such date");
  const std::string long_text(500, '9');
  BOOST_TEST(std::get<TimeError>(parse_time(long_text, TimeForm::Any)).text.size() == 64u);
  BOOST_CHECK_THROW(parse_micro_time("2026-01-02T03:04:05Z"), std::invalid_argument);
  BOOST_TEST((parse_micro_time("2026-01-02T03:04:05.000001Z") == kBase + 1us));
}

BOOST_AUTO_TEST_CASE(formats_microseconds_and_seconds_in_utc) {
  const struct {
    MicroTime t;
    const char* micro;
    const char* secs;
  } rows[] = {
      {kBase, "2026-01-02T03:04:05.000000Z", "2026-01-02T03:04:05Z"},
      {kBase + 42us, "2026-01-02T03:04:05.000042Z", "2026-01-02T03:04:05Z"},
      {kBase + 999999us, "2026-01-02T03:04:05.999999Z", "2026-01-02T03:04:05Z"},  // never rounded up
      {MicroTime{}, "1970-01-01T00:00:00.000000Z", "1970-01-01T00:00:00Z"},
      {MicroTime{} - 500ms, "1969-12-31T23:59:59.500000Z", "1969-12-31T23:59:59Z"},
      {sys_days{2024y / 2 / 29} + 23h + 59min + 59s, "2024-02-29T23:59:59.000000Z", "2024-02-29T23:59:59Z"},
      {sys_days{year{9999} / 12 / 31} + 23h + 59min + 59s + 999999us, "9999-12-31T23:59:59.999999Z",
       "9999-12-31T23:59:59Z"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.micro) {
      BOOST_TEST(format_micro_time(r.t) == r.micro);
      BOOST_TEST(format_seconds(floor<seconds>(r.t)) == r.secs);
      BOOST_TEST((parse_micro_time(r.micro) == r.t));
      BOOST_TEST(parsed(r.secs, TimeForm::Any).value().time_since_epoch().count() ==
                 floor<seconds>(r.t).time_since_epoch().count() * 1'000'000);
    }
  }
  BOOST_CHECK_THROW(format_micro_time(sys_days{year{10000} / 1 / 1}), std::invalid_argument);
  BOOST_CHECK_THROW(format_seconds(sys_days{year{-1} / 12 / 31}), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
