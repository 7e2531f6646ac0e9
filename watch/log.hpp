// Structured logs: one JSON object a line (`ts`, `level`, `logger`, `msg`, then fields) or
// a text line for people. Cheap when a level is off; thread-safe; one write per line.
#pragma once

#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace fdb::log {

enum class Level { Debug = 0, Info = 1, Warn = 2, Error = 3 };
enum class Format { Json, Text };

// Parses "DEBUG", "info", "WARNING", "warn", "ERROR" (case-insensitive).
bool parse_level(std::string_view text, Level& out) noexcept;
bool parse_format(std::string_view text, Format& out) noexcept;
std::string_view to_string(Level level) noexcept;

// A field value; strings are copied only when the line is written.
class Value {
 public:
  Value(std::string_view s) : v_(s) {}
  Value(const std::string& s) : v_(std::string_view(s)) {}
  Value(const char* s) : v_(std::string_view(s)) {}
  Value(bool b) : v_(b) {}
  Value(int i) : v_(static_cast<std::int64_t>(i)) {}
  Value(long i) : v_(static_cast<std::int64_t>(i)) {}
  Value(long long i) : v_(static_cast<std::int64_t>(i)) {}
  Value(unsigned i) : v_(static_cast<std::int64_t>(i)) {}
  Value(unsigned long i) : v_(static_cast<std::int64_t>(i)) {}
  Value(unsigned long long i) : v_(static_cast<std::int64_t>(i)) {}
  Value(double d) : v_(d) {}

  const std::variant<std::string_view, bool, std::int64_t, double>& get() const { return v_; }

 private:
  std::variant<std::string_view, bool, std::int64_t, double> v_;
};

using Fields = std::initializer_list<std::pair<std::string_view, Value>>;

// Process-wide settings; call once at start (before other threads log).
void configure(Format format, Level level, std::FILE* out = stderr);
Level level() noexcept;

// Formats a line (without writing it): exposed for tests.
std::string format_line(Format format, Level level, std::string_view logger, std::string_view msg,
                        Fields fields, std::int64_t unix_millis);

class Logger {
 public:
  explicit Logger(std::string name) : name_(std::move(name)) {}

  bool enabled(Level l) const noexcept { return l >= log::level(); }
  void debug(std::string_view msg, Fields fields = {}) const { write(Level::Debug, msg, fields); }
  void info(std::string_view msg, Fields fields = {}) const { write(Level::Info, msg, fields); }
  void warn(std::string_view msg, Fields fields = {}) const { write(Level::Warn, msg, fields); }
  void error(std::string_view msg, Fields fields = {}) const { write(Level::Error, msg, fields); }
  void write(Level l, std::string_view msg, Fields fields) const;
  const std::string& name() const noexcept { return name_; }

 private:
  std::string name_;
};

}  // namespace fdb::log
