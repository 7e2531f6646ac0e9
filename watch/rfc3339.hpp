// The one RFC 3339 codec of the program (pure). Kubernetes writes two forms: MicroTime
// (a Lease's acquire/renew times, an Event's eventTime) with exactly six fractional digits,
// and Time (metadata timestamps) to the second; the bridge's own annotations
// (terminal-since) are MicroTime, and the Python bridge wrote seconds or isoformat().
//
// Parsing, value-or-error (docs/errors.md):
//  - TimeForm::MicroTime accepts exactly "2026-01-02T03:04:05.000000Z" (a valid calendar
//    date, years 0000–9999, hour < 24, minute < 60, second < 60) — the Lease's rule;
//  - TimeForm::Any accepts RFC 3339 as this bridge or the Python one wrote it: a date,
//    "T" (or "t", or a space), a time (second up to 60), an optional fraction of any
//    length (cut at microseconds), then "Z" (or "z") or an offset ±hh:mm. It accepts
//    every MicroTime too (the union of the two parsers the program had).
// Formatting: microseconds "...ss.ffffffZ" (MicroTime) or seconds "...ssZ" (Time), UTC.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <variant>

namespace fdb::kube {

// A Kubernetes MicroTime: UTC with microsecond precision.
using MicroTime = std::chrono::sys_time<std::chrono::microseconds>;

enum class TimeForm { MicroTime, Any };

// Why a text is not a time: the text (cut at 64 characters) and the reason.
struct TimeError {
  std::string text;
  std::string reason;
  // "invalid time \"…\": <reason> (want 2026-01-02T03:04:05.000000Z)"
  std::string message() const;
};

using ParsedTime = std::variant<MicroTime, TimeError>;

ParsedTime parse_time(std::string_view text, TimeForm form);

// "2026-01-02T03:04:05.000000Z". Throws std::invalid_argument outside years 0000–9999.
std::string format_micro_time(MicroTime t);
// "2026-01-02T03:04:05Z" (the fraction dropped, never rounded up). Throws
// std::invalid_argument outside years 0000–9999.
std::string format_seconds(std::chrono::sys_time<std::chrono::seconds> t);

// parse_time(text, TimeForm::MicroTime), throwing std::invalid_argument with the error's
// message (the Lease reader's form).
MicroTime parse_micro_time(std::string_view text);

}  // namespace fdb::kube
