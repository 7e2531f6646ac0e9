#include "watch/log.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <string>

using namespace fdb::log;

BOOST_AUTO_TEST_SUITE(logging)

BOOST_AUTO_TEST_CASE(json_lines_are_objects_with_fields) {
  const auto line = format_line(Format::Json, Level::Warn, "retry", "retrying \"wl\"\nnow",
                                {{"workload", "wl-a-1"}, {"attempt", 2}, {"ok", false}, {"ms", 1.5}},
                                1767323045123);  // 2026-01-02T03:04:05.123Z
  BOOST_TEST(line.back() == '\n');
  BOOST_TEST(line.find('\n') == line.size() - 1);
  const auto v = boost::json::parse(line).as_object();
  BOOST_TEST(v.at("ts").as_string() == "2026-01-02T03:04:05.123Z");
  BOOST_TEST(v.at("level").as_string() == "WARNING");
  BOOST_TEST(v.at("logger").as_string() == "retry");
  BOOST_TEST(v.at("msg").as_string() == "retrying \"wl\"\nnow");
  BOOST_TEST(v.at("workload").as_string() == "wl-a-1");
  BOOST_TEST(v.at("attempt").as_int64() == 2);
  BOOST_TEST(v.at("ok").as_bool() == false);
  BOOST_TEST(v.at("ms").as_double() == 1.5);
}

BOOST_AUTO_TEST_CASE(json_lines_stay_valid_json_whatever_the_bytes) {
  // Found by fuzz_log: invalid UTF-8 (a proxy's Latin-1 page, an excerpt cut inside a
  // character) went into the line as it was, and NaN as `nan`: neither is JSON.
  struct Row {
    std::string in;
    std::string out;  // the string as parsed back
  };
  const Row rows[] = {
      {"caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x9a\x80", "caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x9a\x80"},  // valid: unchanged
      {"caf\xe9", "caf\xef\xbf\xbd"},                        // Latin-1
      {"cut \xe6\x97", "cut \xef\xbf\xbd\xef\xbf\xbd"},     // a sequence cut short
      {"\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd"},             // overlong '/'
      {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},  // a surrogate
      {"\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},  // beyond U+10FFFF
      {"\xff\x01\x7f", "\xef\xbf\xbd\x01\x7f"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.in) {
      const auto line = format_line(Format::Json, Level::Info, "t", r.in, {{"f", r.in}}, 0);
      boost::system::error_code ec;
      const auto v = boost::json::parse(line, ec);
      BOOST_TEST_REQUIRE(!ec, ec.message() << ": " << line);
      BOOST_TEST(v.at("msg").as_string() == r.out);
      BOOST_TEST(v.at("f").as_string() == r.out);
    }
  }
  const auto line = format_line(Format::Json, Level::Info, "t", "m",
                                {{"nan", std::nan("")}, {"inf", HUGE_VAL}, {"x", 0.25}}, 0);
  const auto v = boost::json::parse(line).as_object();
  BOOST_TEST(v.at("nan").is_null());
  BOOST_TEST(v.at("inf").is_null());
  BOOST_TEST(v.at("x").as_double() == 0.25);
}

BOOST_AUTO_TEST_CASE(text_lines_for_people) {
  const auto line = format_line(Format::Text, Level::Info, "claim", "claimed\tissue",
                                {{"issue", "o/r#4"}, {"title", "fix the thing"}, {"n", 3}}, 1767323045123);
  BOOST_TEST(line == "2026-01-02T03:04:05.123Z INFO    claim: claimed issue issue=o/r#4 title=\"fix the thing\" n=3\n");
}

BOOST_AUTO_TEST_CASE(text_values_from_hostile_answers_are_escaped) {
  // A terminal escape, invalid UTF-8 and a DEL are quoted and escaped; valid UTF-8 is not.
  const auto line = format_line(Format::Text, Level::Warn, "dispatch", "odd answer",
                                {{"esc", "\x1b[31mred"}, {"bad", "a\xff\xfe"}, {"del", "x\x7f"}, {"ok", "caf\xc3\xa9"}},
                                1767323045123);
  BOOST_TEST(line == "2026-01-02T03:04:05.123Z WARNING dispatch: odd answer esc=\"\\u001b[31mred\" "
                     "bad=\"a\xEF\xBF\xBD\xEF\xBF\xBD\" del=\"x\x7f\" ok=caf\xc3\xa9\n");
  BOOST_TEST(line.find('\x1b') == std::string::npos);
}

BOOST_AUTO_TEST_CASE(levels_and_formats_parse) {
  struct Row {
    std::string_view in;
    bool ok;
    Level level;
  };
  const Row rows[] = {{"INFO", true, Level::Info},   {"debug", true, Level::Debug}, {"WARNING", true, Level::Warn},
                      {"warn", true, Level::Warn},   {"Error", true, Level::Error}, {"verbose", false, Level::Info},
                      {"", false, Level::Info}};
  for (const auto& r : rows) {
    Level l = Level::Info;
    BOOST_TEST_CONTEXT(r.in) {
      BOOST_TEST(parse_level(r.in, l) == r.ok);
      if (r.ok) BOOST_TEST(static_cast<int>(l) == static_cast<int>(r.level));
    }
  }
  Format f = Format::Text;
  BOOST_TEST(parse_format("json", f));
  BOOST_TEST(static_cast<int>(f) == static_cast<int>(Format::Json));
  BOOST_TEST(parse_format("TEXT", f));
  BOOST_TEST(!parse_format("yaml", f));
}

BOOST_AUTO_TEST_SUITE_END()
