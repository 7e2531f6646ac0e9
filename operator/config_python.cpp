// The Python bridge's readings of the values it was lenient about (operator/config.hpp):
// pure functions, tested as tables.
#include "operator/config.hpp"

#include <boost/json/value.hpp>

#include <algorithm>
#include <climits>
#include <string>
#include <string_view>

namespace fdb::op {

namespace json = boost::json;

namespace {

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return out;
}

}  // namespace

SlotCount python_slot_count(const json::value& v) {
  static constexpr long long kMax = INT_MAX;
  auto positive = [](long long n, bool exact) {
    return n >= 1 ? SlotCount{static_cast<int>(std::min(n, kMax)), exact && n <= kMax} : SlotCount{1, false};
  };
  if (v.is_int64()) return positive(v.get_int64(), true);
  if (v.is_uint64()) return SlotCount{INT_MAX, false};
  if (v.is_double()) {
    const double d = v.get_double();  // int() cuts toward zero
    if (d >= 1e18) return SlotCount{INT_MAX, false};  // a huge count: as good as no limit
    if (!(d > -1e18)) return SlotCount{1, false};      // very negative, or not a number
    return positive(static_cast<long long>(d), false);
  }
  if (v.is_bool()) return SlotCount{1, false};  // int(True) == 1, int(False) == 0 → 1
  if (v.is_string()) {
    // int("…"): blanks around, a sign, digits with single underscores between them.
    std::string_view t = trim(v.get_string());
    bool negative = false;
    if (!t.empty() && (t.front() == '+' || t.front() == '-')) {
      negative = t.front() == '-';
      t.remove_prefix(1);
    }
    long long n = 0;
    bool ok = !t.empty() && t.front() != '_' && t.back() != '_';
    for (std::size_t i = 0; ok && i < t.size(); ++i) {
      if (t[i] == '_') {
        ok = t[i + 1] != '_';
        continue;
      }
      ok = t[i] >= '0' && t[i] <= '9';
      if (ok) n = std::min(n * 10 + (t[i] - '0'), kMax + 1);
    }
    if (!ok) return SlotCount{1, false};
    return positive(negative ? -n : n, false);
  }
  return SlotCount{1, false};  // null, a list, an object: int() raises TypeError → 1
}

LenientValue<log::Format> python_log_format(std::string_view v) {
  const std::string l = lower(trim(v));
  if (l == "json") return {log::Format::Json, true};
  if (l == "text" || l == "plain") return {log::Format::Text, true};
  return {log::Format::Text, false};
}

LenientValue<log::Level> python_log_level(std::string_view v) {
  const std::string l = lower(trim(v));
  log::Level out = log::Level::Info;
  if (log::parse_level(l, out)) return {out, true};
  if (l == "fatal") return {log::Level::Error, true};
  if (l == "notset") return {log::Level::Debug, true};
  return {log::Level::Info, false};
}

}  // namespace fdb::op
