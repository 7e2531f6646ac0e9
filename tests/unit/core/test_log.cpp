#include "watch/log.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

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

BOOST_AUTO_TEST_CASE(text_lines_for_people) {
  const auto line = format_line(Format::Text, Level::Info, "claim", "claimed\tissue",
                                {{"issue", "o/r#4"}, {"title", "fix the thing"}, {"n", 3}}, 1767323045123);
  BOOST_TEST(line == "2026-01-02T03:04:05.123Z INFO    claim: claimed issue issue=o/r#4 title=\"fix the thing\" n=3\n");
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
