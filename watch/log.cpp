#include "watch/log.hpp"

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <ctime>
#include <mutex>

namespace fdb::log {

namespace {

std::atomic<Level> g_level{Level::Info};
std::atomic<Format> g_format{Format::Json};
std::FILE* g_out = stderr;
std::mutex g_mu;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const char x = (a[i] >= 'a' && a[i] <= 'z') ? static_cast<char>(a[i] - 32) : a[i];
    if (x != b[i]) return false;
  }
  return true;
}

// The length of the valid UTF-8 sequence (RFC 3629: no overlong forms, no surrogates, at
// most U+10FFFF) that starts s[i] (a byte >= 0x80), or 0 when it is not one.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned c = b(i);
  std::size_t n = 0;
  unsigned lo = 0x80, hi = 0xbf;  // the range of the second byte
  if (c >= 0xc2 && c <= 0xdf) n = 2;
  else if (c == 0xe0) n = 3, lo = 0xa0;
  else if (c == 0xed) n = 3, hi = 0x9f;
  else if (c >= 0xe1 && c <= 0xef) n = 3;
  else if (c == 0xf0) n = 4, lo = 0x90;
  else if (c == 0xf4) n = 4, hi = 0x8f;
  else if (c >= 0xf1 && c <= 0xf3) n = 4;
  else return 0;
  if (i + n > s.size() || b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if ((b(i + k) & 0xc0) != 0x80) return 0;
  return n;
}

// JSON string content: quotes, backslashes and control characters escaped, and each byte
// that is not part of valid UTF-8 replaced by U+FFFD, so that a line stays valid JSON
// whatever bytes a field carries (answers of other services end up in messages).
void json_escape(std::string& out, std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else if (static_cast<unsigned char>(c) < 0x80) {
          out += c;
        } else if (const std::size_t n = utf8_sequence(s, i); n > 0) {
          out.append(s.substr(i, n));
          i += n - 1;
        } else {
          out += "\xEF\xBF\xBD";  // U+FFFD
        }
    }
  }
}

// Whether a text value must be quoted (and so escaped): empty, or holding a space, a quote,
// '=', a control character, or bytes that are not valid UTF-8.
bool needs_quotes(std::string_view s) {
  if (s.empty()) return true;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == ' ' || c == '"' || c == '=' || c < 0x20 || c == 0x7f) return true;
    if (c >= 0x80) {
      const std::size_t n = utf8_sequence(s, i);
      if (n == 0) return true;
      i += n - 1;
    }
  }
  return false;
}

// Text values that need it are quoted and escaped as JSON strings: control characters and
// invalid UTF-8 never reach a line raw (no terminal escapes from a hostile answer).
void text_value(std::string& out, std::string_view s) {
  const bool quote = needs_quotes(s);
  if (!quote) {
    out += s;
    return;
  }
  out += '"';
  json_escape(out, s);
  out += '"';
}

std::string timestamp(std::int64_t unix_millis) {
  const std::time_t secs = static_cast<std::time_t>(unix_millis / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(unix_millis % 1000));
}

}  // namespace

bool parse_level(std::string_view t, Level& out) noexcept {
  if (iequals(t, "DEBUG") || iequals(t, "TRACE")) out = Level::Debug;
  else if (iequals(t, "INFO")) out = Level::Info;
  else if (iequals(t, "WARN") || iequals(t, "WARNING")) out = Level::Warn;
  else if (iequals(t, "ERROR") || iequals(t, "CRITICAL")) out = Level::Error;
  else return false;
  return true;
}

bool parse_format(std::string_view t, Format& out) noexcept {
  if (iequals(t, "JSON")) out = Format::Json;
  else if (iequals(t, "TEXT")) out = Format::Text;
  else return false;
  return true;
}

std::string_view to_string(Level l) noexcept {
  switch (l) {
    case Level::Debug: return "DEBUG";
    case Level::Info: return "INFO";
    case Level::Warn: return "WARNING";
    case Level::Error: return "ERROR";
  }
  return "INFO";
}

void configure(Format format, Level level, std::FILE* out) {
  std::lock_guard lock(g_mu);
  g_format = format;
  g_level = level;
  g_out = out;
}

Level level() noexcept { return g_level.load(std::memory_order_relaxed); }

std::string format_line(Format format, Level l, std::string_view logger, std::string_view msg, Fields fields,
                        std::int64_t unix_millis) {
  std::string out;
  out.reserve(160);
  if (format == Format::Json) {
    out += R"({"ts":")";
    out += timestamp(unix_millis);
    out += R"(","level":")";
    out += to_string(l);
    out += R"(","logger":")";
    json_escape(out, logger);
    out += R"(","msg":")";
    json_escape(out, msg);
    out += '"';
    for (const auto& [key, value] : fields) {
      out += ",\"";
      json_escape(out, key);
      out += "\":";
      std::visit(
          [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::string_view>) {
              out += '"';
              json_escape(out, v);
              out += '"';
            } else if constexpr (std::is_same_v<T, bool>) {
              out += v ? "true" : "false";
            } else if constexpr (std::is_same_v<T, double>) {
              if (std::isfinite(v)) out += fmt::format("{}", v);
              else out += "null";  // JSON has no NaN or infinity
            } else {
              out += std::to_string(v);
            }
          },
          value.get());
    }
    out += "}\n";
  } else {
    out += timestamp(unix_millis);
    out += fmt::format(" {:<7} {}: ", to_string(l), logger);
    for (const char c : msg) out += (static_cast<unsigned char>(c) < 0x20) ? ' ' : c;
    for (const auto& [key, value] : fields) {
      out += ' ';
      out += key;
      out += '=';
      std::visit(
          [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::string_view>) text_value(out, v);
            else if constexpr (std::is_same_v<T, bool>) out += v ? "true" : "false";
            else out += fmt::format("{}", v);
          },
          value.get());
    }
    out += '\n';
  }
  return out;
}

void Logger::write(Level l, std::string_view msg, Fields fields) const {
  if (!enabled(l)) return;
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  const std::string line = format_line(g_format.load(), l, name_, msg, fields, now);
  std::lock_guard lock(g_mu);
  std::fwrite(line.data(), 1, line.size(), g_out);
  std::fflush(g_out);
}

}  // namespace fdb::log
