// A strict reader of the Prometheus text format 0.0.4 for tests: it parses every line
// (HELP, TYPE, comments, samples), unescapes label values, and checks the structure rules
// a scraper relies on. Any violation is reported as an error string naming the line.
// The line kinds are read by prom_lines.hpp; the structure is checked in prom_parser.cpp.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

// Not needed here since the split into prom_lines/prom_parser.cpp, but tests that include
// this header have used them through it (std::set, std::optional, std::isnan, std::strtod).
#include <cmath>
#include <cstdlib>
#include <optional>
#include <set>

namespace fdb::test::prom {

struct Sample {
  std::string name;                           // full name, e.g. x_bucket
  std::map<std::string, std::string> labels;  // unescaped values
  double value = 0;
};

struct Family {
  std::string name;
  std::string type;  // counter, gauge, histogram, summary, untyped
  std::string help;  // unescaped
  std::vector<Sample> samples;
};

struct Exposition {
  std::vector<Family> families;  // in order of appearance
  std::vector<std::string> errors;

  const Family* find(std::string_view name) const {
    for (const auto& f : families)
      if (f.name == name) return &f;
    return nullptr;
  }
};

Exposition parse(std::string_view text);

}  // namespace fdb::test::prom
