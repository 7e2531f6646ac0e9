// The line kinds of the Prometheus text format 0.0.4, pure: a HELP or TYPE line, a sample
// line and its parts (metric name, label set, label value, value and timestamp). Each
// reader either succeeds or says why not; structure across lines is prom_parser's.
#pragma once

#include "support/prom_parser.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace fdb::test::prom::lines {

// A metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) or, when `label`, a label name (no ':'), read
// from the front of `s`.
std::optional<std::string> read_name(std::string_view& s, bool label);

// A sample value, as Go's strconv.ParseFloat reads it (+Inf, Inf, -Inf, NaN included).
std::optional<double> read_value(std::string_view s);

// A HELP text: only \\ and \n are escapes; `ok` is cleared on any other.
std::string unescape_help(std::string_view s, bool& ok);

// A label value after its opening quote, up to and past the closing one: \\, \" and \n are
// the escapes; a raw newline, another escape or no closing quote is an error.
std::optional<std::string> read_label_value(std::string_view& s, std::string& why);

// A label set after its '{', up to and past the '}' (a trailing comma allowed); a label
// named twice is an error.
bool read_label_set(std::string_view& s, std::map<std::string, std::string>& labels, std::string& why);

// What follows the name and labels: a space and the value, and no timestamp (the bridge
// never writes one).
std::optional<double> read_value_part(std::string_view s, std::string& why);

// `name{a="x",b="y"} value`.
std::optional<Sample> parse_sample(std::string_view s, std::string& why);

// A `# HELP name text` or `# TYPE name type` line.
struct Meta {
  bool help = false;  // else TYPE
  std::string name;
  std::string_view text;  // the help text (escaped) or the type
};
// nullopt with `why` empty for a plain comment, with `why` set for a malformed HELP/TYPE.
std::optional<Meta> parse_meta(std::string_view line, std::string& why);

}  // namespace fdb::test::prom::lines
