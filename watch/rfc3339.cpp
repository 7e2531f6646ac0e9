#include "watch/rfc3339.hpp"

#include <fmt/format.h>

#include <optional>
#include <stdexcept>

namespace fdb::kube {

using namespace std::chrono;

namespace {

// What the text says, before the form's rules are applied.
struct Fields {
  year_month_day date{year{1970}, month{1}, day{1}};
  int hour = 0, minute = 0, second = 0;
  microseconds fraction{0};
  int fraction_digits = -1;  // -1: no fraction
  char separator = 'T';      // 'T', 't' or ' '
  char zone = 'Z';           // 'Z', 'z', '+' or '-'
  minutes offset{0};
};

// `n` decimal digits at `pos`, or -1.
int digits(std::string_view s, std::size_t pos, std::size_t n) noexcept {
  if (pos + n > s.size()) return -1;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

// The fraction after the '.' at s[pos - 1]; returns the position after it, or npos.
std::size_t read_fraction(std::string_view s, std::size_t pos, Fields& f) noexcept {
  const std::size_t start = pos;
  long long us = 0;
  int scale = 0;
  while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
    if (scale < 6) {
      us = us * 10 + (s[pos] - '0');
      ++scale;
    }
    ++pos;
  }
  if (pos == start) return std::string_view::npos;
  while (scale++ < 6) us *= 10;
  f.fraction = microseconds{us};
  f.fraction_digits = static_cast<int>(pos - start);
  return pos;
}

// The zone at `pos`; returns the position after it, or npos.
std::size_t read_zone(std::string_view s, std::size_t pos, Fields& f) noexcept {
  if (pos >= s.size()) return std::string_view::npos;
  f.zone = s[pos];
  if (f.zone == 'Z' || f.zone == 'z') return pos + 1;
  if (f.zone != '+' && f.zone != '-') return std::string_view::npos;
  const int oh = digits(s, pos + 1, 2), om = digits(s, pos + 4, 2);
  if (oh < 0 || om < 0 || s[pos + 3] != ':' || oh > 23 || om > 59) return std::string_view::npos;
  f.offset = hours{oh} + minutes{om};
  if (f.zone == '-') f.offset = -f.offset;
  return pos + 6;
}

// The lenient reading (TimeForm::Any); an empty reason on success.
std::string read(std::string_view s, Fields& f) {
  if (s.size() < 20) return "too short";
  const int y = digits(s, 0, 4), mo = digits(s, 5, 2), d = digits(s, 8, 2);
  f.hour = digits(s, 11, 2);
  f.minute = digits(s, 14, 2);
  f.second = digits(s, 17, 2);
  if (y < 0 || mo < 0 || d < 0 || f.hour < 0 || f.minute < 0 || f.second < 0) return "a digit was expected";
  if (s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':') return "a separator is missing";
  f.separator = s[10];
  if (f.separator != 'T' && f.separator != 't' && f.separator != ' ') return "'T' expected at offset 10";
  f.date = year_month_day{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!f.date.ok()) return "no such date";
  if (f.hour > 23 || f.minute > 59 || f.second > 60) return "no such time of day";
  std::size_t pos = 19;
  if (s[pos] == '.') {
    pos = read_fraction(s, pos + 1, f);
    if (pos == std::string_view::npos) return "an empty fraction";
  }
  pos = read_zone(s, pos, f);
  if (pos == std::string_view::npos) return "no zone (Z or ±hh:mm)";
  if (pos != s.size()) return "text after the zone";
  return {};
}

// The MicroTime rule on top of the lenient reading; an empty reason when it holds.
std::string micro_time_rule(std::string_view s, const Fields& f) {
  if (s.size() != 27) return "wrong length";
  if (f.separator != 'T') return "'T' expected at offset 10";
  if (f.fraction_digits != 6) return "six fractional digits expected";
  if (f.zone != 'Z') return "'Z' expected at offset 26";
  if (f.second > 59) return "no such time of day";
  return {};
}

std::string format_date_time(sys_days day, seconds in_day, std::string_view fraction) {
  const year_month_day ymd{day};
  const int y = static_cast<int>(ymd.year());
  if (y < 0 || y > 9999) throw std::invalid_argument("time out of range (years 0000-9999)");
  const hh_mm_ss hms{in_day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}Z", y, static_cast<unsigned>(ymd.month()),
                     static_cast<unsigned>(ymd.day()), hms.hours().count(), hms.minutes().count(),
                     hms.seconds().count(), fraction);
}

}  // namespace

std::string TimeError::message() const {
  return fmt::format("invalid time {:?}: {} (want 2026-01-02T03:04:05.000000Z)", text, reason);
}

ParsedTime parse_time(std::string_view text, TimeForm form) {
  Fields f;
  std::string why = read(text, f);
  if (why.empty() && form == TimeForm::MicroTime) why = micro_time_rule(text, f);
  if (!why.empty()) return TimeError{std::string(text.substr(0, 64)), std::move(why)};
  return MicroTime(sys_days{f.date} + hours{f.hour} + minutes{f.minute} + seconds{f.second} + f.fraction - f.offset);
}

std::string format_micro_time(MicroTime t) {
  const auto day = floor<days>(t);
  const auto in_day = t - day;
  const auto secs = floor<seconds>(in_day);
  return format_date_time(day, secs, fmt::format(".{:06}", (in_day - secs).count()));
}

std::string format_seconds(sys_time<seconds> t) {
  const auto day = floor<days>(t);
  return format_date_time(day, t - day, "");
}

MicroTime parse_micro_time(std::string_view text) {
  auto parsed = parse_time(text, TimeForm::MicroTime);
  if (auto* e = std::get_if<TimeError>(&parsed)) throw std::invalid_argument(e->message());
  return std::get<MicroTime>(parsed);
}

}  // namespace fdb::kube
