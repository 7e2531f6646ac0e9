// The line kinds of the test Prometheus reader, as tables: what each accepts and returns,
// and what each rejects and why. (The reader across lines is tested with the registry's
// expositions in tests/unit/ops/test_metrics.cpp.)
#include "support/prom_lines.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdio>
#include <tuple>

using namespace fdb::test::prom;

namespace {

// A reader's result as text: the value and what is left of the input, or the error.
template <class T, class Show>
std::string shown(const std::optional<T>& got, const std::string& why, std::string_view rest, Show show) {
  return got ? show(*got) + " | " + std::string(rest) : "error: " + why;
}

std::string fmt_value(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string labels_text(const std::map<std::string, std::string>& labels) {
  std::string out;
  for (const auto& [k, v] : labels) out += k + "=" + v + ";";
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(prom_lines)

BOOST_AUTO_TEST_CASE(names) {
  const std::vector<std::tuple<std::string, bool, std::string>> table = {
      {"http_requests_total{", false, "http_requests_total | {"},
      {"a:b_c9 1", false, "a:b_c9 |  1"},
      {"a:b=", true, "a | :b="},
      {"_x=", true, "_x | ="},
      {"9a", false, "error: "},
      {":a", true, "error: "},
      {"", false, "error: "},
  };
  for (const auto& [in, label, want] : table) {
    std::string_view s = in;
    const auto got = lines::read_name(s, label);
    BOOST_TEST_CONTEXT(in) { BOOST_TEST(shown(got, "", s, [](const std::string& n) { return n; }) == want); }
  }
}

BOOST_AUTO_TEST_CASE(values_as_go_reads_them) {
  const std::vector<std::pair<std::string, double>> ok = {
      {"1", 1}, {"-2.5", -2.5}, {"1.5e-3", 1.5e-3}, {"+3", 3}, {"1E2", 100},
      {"+Inf", HUGE_VAL}, {"Inf", HUGE_VAL}, {"-Inf", -HUGE_VAL}};
  for (const auto& [in, want] : ok) {
    const auto got = lines::read_value(in);
    BOOST_TEST_CONTEXT(in) { BOOST_TEST((got && *got == want)); }
  }
  BOOST_TEST(std::isnan(*lines::read_value("NaN")));
  for (const char* bad : {"", "one", "1.0.0", "0x10", "1 ", "nan", "inf", "--1", "1e"})
    BOOST_TEST_CONTEXT(bad) { BOOST_TEST(!lines::read_value(bad).has_value()); }
}

BOOST_AUTO_TEST_CASE(help_escapes) {
  const std::vector<std::tuple<std::string, std::string, bool>> table = {
      {"plain", "plain", true},          {R"(a\\b)", R"(a\b)", true}, {R"(two\nlines)", "two\nlines", true},
      {R"(quote \" dropped)", "quote  dropped", false}, {R"(tab\t)", "tab", false},  {R"(end\)", "end", false},
  };
  for (const auto& [in, want, ok_want] : table) {
    bool ok = true;
    BOOST_TEST_CONTEXT(in) {
      BOOST_TEST(lines::unescape_help(in, ok) == want);
      BOOST_TEST(ok == ok_want);
    }
  }
}

BOOST_AUTO_TEST_CASE(label_values) {
  const std::vector<std::pair<std::string, std::string>> table = {
      {R"(v"} 1)", "v | } 1"},
      {R"(a\\b\"c\nd",)", "a\\b\"c\nd | ,"},
      {R"("rest)", " | rest"},
      {"v", "error: unterminated label value"},
      {R"(v\)", "error: unterminated label value"},
      {R"(v\t")", "error: bad escape in a label value"},
      {"a\nb\"", "error: raw newline in a label value"},
  };
  for (const auto& [in, want] : table) {
    std::string_view s = in;
    std::string why;
    const auto got = lines::read_label_value(s, why);
    BOOST_TEST_CONTEXT(in) { BOOST_TEST(shown(got, why, s, [](const std::string& v) { return v; }) == want); }
  }
}

BOOST_AUTO_TEST_CASE(label_sets) {
  const std::vector<std::pair<std::string, std::string>> table = {
      {R"(} 1)", " |  1"},
      {R"(a="1",b="2"} 1)", "a=1;b=2; |  1"},
      {R"(a="1",} 1)", "a=1; |  1"},
      {R"(,} 1)", "error: bad label name"},
      {R"(a="1" b="2"} 1)", "error: ',' or '}' expected in labels"},
      {R"(a="1")", "error: ',' or '}' expected in labels"},
      {R"(a=1} 1)", "error: =\" expected after label name"},
      {R"(9="1"} 1)", "error: bad label name"},
      {R"(a="1",a="2"} 1)", "error: duplicate label a"},
      {R"(a="1\x"} 1)", "error: bad escape in a label value"},
  };
  for (const auto& [in, want] : table) {
    std::string_view s = in;
    std::string why;
    std::map<std::string, std::string> labels;
    const bool ok = lines::read_label_set(s, labels, why);
    const std::string got = ok ? labels_text(labels) + " | " + std::string(s) : "error: " + why;
    BOOST_TEST_CONTEXT(in) { BOOST_TEST(got == want); }
  }
}

BOOST_AUTO_TEST_CASE(samples) {
  const std::vector<std::pair<std::string, std::string>> table = {
      {"x 1", "x{} 1"},
      {R"(x_bucket{le="+Inf",path="/a"} 3)", "x_bucket{le=+Inf;path=/a;} 3"},
      {"x{} -Inf", "x{} -inf"},
      {"x  1", "error: unexpected text after the value"},
      {"x 1 1700000000000", "error: unexpected text after the value"},
      {"x", "error: a space and a value expected"},
      {"x{a=\"1\"}1", "error: a space and a value expected"},
      {"x one", "error: bad value"},
      {"x ", "error: bad value"},
      {"{a=\"1\"} 1", "error: bad metric name"},
      {"x{a=\"1\" 1", "error: ',' or '}' expected in labels"},
  };
  for (const auto& [in, want] : table) {
    std::string why;
    const auto got = lines::parse_sample(in, why);
    const std::string text = got ? got->name + "{" + labels_text(got->labels) + "} " + fmt_value(got->value) : "error: " + why;
    BOOST_TEST_CONTEXT(in) { BOOST_TEST(text == want); }
  }
}

BOOST_AUTO_TEST_CASE(help_and_type_lines) {
  const std::vector<std::pair<std::string, std::string>> table = {
      {"# HELP x Some text.", "HELP x [Some text.]"},
      {"# TYPE x_total counter", "TYPE x_total [counter]"},
      {"# HELP x ", "HELP x []"},
      {"# a plain comment", "comment"},
      {"#HELP x text", "comment"},
      {"# HELP x", "error: bad HELP/TYPE line"},
      {"# TYPE 9x gauge", "error: bad HELP/TYPE line"},
      {"# TYPE x-y gauge", "error: bad HELP/TYPE line"},
  };
  for (const auto& [in, want] : table) {
    std::string why;
    const auto got = lines::parse_meta(in, why);
    const std::string text = got ? std::string(got->help ? "HELP " : "TYPE ") + got->name + " [" + std::string(got->text) + "]"
                             : why.empty() ? "comment" : "error: " + why;
    BOOST_TEST_CONTEXT(in) { BOOST_TEST(text == want); }
  }
}

BOOST_AUTO_TEST_SUITE_END()
