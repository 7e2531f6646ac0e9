// Log lines carry text from the network (answer excerpts, Status messages, issue titles):
// whatever bytes a field holds, a JSON log line must stay one valid JSON object (valid
// UTF-8, so log collectors accept it) and a text line must stay one line. Properties:
//  - JSON: exactly one '\n', at the end; the line parses as an object; every field is
//    there; strings that were valid UTF-8 come back unchanged, others are valid UTF-8;
//    non-finite doubles are still JSON;
//  - text: exactly one '\n', at the end (keys and the logger name are program literals
//    and contain no control characters).
#include "fuzz_check.hpp"
#include "watch/log.hpp"

#include <fuzzer/FuzzedDataProvider.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

using namespace fdb::log;

namespace {

// RFC 3629 UTF-8 (no overlong forms, no surrogates, at most U+10FFFF).
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    unsigned cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // truncated sequence
    for (std::size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += n + 1;
  }
  return true;
}

bool plain(std::string_view s) {
  for (const char c : s)
    if (static_cast<unsigned char>(c) < 0x20) return false;
  return true;
}

// One field of a line, as the input chose it.
struct Field {
  std::string key;
  int kind = 0;  // 0 string, 1 bool, 2 integer, 3 double
  std::string s;
  bool b = false;
  long long i = 0;
  double d = 0;
};

// The line the input describes: a logger name, a message, up to four fields.
struct Line {
  std::string logger;
  std::string msg;
  std::vector<Field> fields;
};

// A double, one in five times about NaN or an infinity (JSON has no spelling for them).
double consume_double(FuzzedDataProvider& in) {
  const int special = in.ConsumeIntegralInRange(0, 4);
  return special == 0   ? std::numeric_limits<double>::quiet_NaN()
         : special == 1 ? std::numeric_limits<double>::infinity()
         : special == 2 ? -std::numeric_limits<double>::infinity()
                        : in.ConsumeFloatingPoint<double>();
}

Field consume_field(FuzzedDataProvider& in, int k) {
  Field f;
  f.key = "k" + std::to_string(k) + "_" + in.ConsumeRandomLengthString(10);
  f.kind = in.ConsumeIntegralInRange(0, 3);
  switch (f.kind) {
    case 0: f.s = in.ConsumeRandomLengthString(200); break;
    case 1: f.b = in.ConsumeBool(); break;
    case 2: f.i = in.ConsumeIntegral<long long>(); break;
    default: f.d = consume_double(in);
  }
  return f;
}

Line consume_line(FuzzedDataProvider& in) {
  Line l;
  l.logger = in.ConsumeRandomLengthString(20);
  l.msg = in.ConsumeRandomLengthString(200);
  const int n = in.ConsumeIntegralInRange(0, 4);
  for (int k = 0; k < n; ++k) l.fields.push_back(consume_field(in, k));
  return l;
}

Value value_of(const Field& f) {
  switch (f.kind) {
    case 0: return Value(std::string_view(f.s));
    case 1: return Value(f.b);
    case 2: return Value(f.i);
    default: return Value(f.d);
  }
}

// The line as the logger writes it; fields as the logger takes them (an initializer_list,
// so a fixed number of entries: padded to four).
std::string format(const Line& l, Format format) {
  std::vector<std::pair<std::string_view, Value>> list;
  for (const auto& f : l.fields) list.emplace_back(f.key, value_of(f));
  while (list.size() < 4) list.emplace_back("pad", Value(false));
  return format_line(format, Level::Warn, l.logger, l.msg, {list[0], list[1], list[2], list[3]}, 1767323045123);
}

// A string field: there, a string, unchanged when it was valid UTF-8.
void check_string(const boost::json::value* got, const std::string& want) {
  FUZZ_CHECK(got != nullptr && got->is_string());
  if (valid_utf8(want)) FUZZ_CHECK(got->get_string() == want);
}

// Every field there with its value (a field whose name was not valid UTF-8 was repaired:
// it cannot be looked up); a non-finite double still JSON.
void check_fields(const boost::json::object& o, const std::vector<Field>& fields) {
  for (const auto& f : fields) {
    if (!valid_utf8(f.key)) continue;
    const auto* got = o.if_contains(f.key);
    FUZZ_CHECK(got != nullptr);
    switch (f.kind) {
      case 0: check_string(got, f.s); break;
      case 1: FUZZ_CHECK(got->is_bool() && got->get_bool() == f.b); break;
      case 2: FUZZ_CHECK(got->is_int64() && got->get_int64() == f.i); break;
      default: FUZZ_CHECK(got->is_number() || got->is_null()); break;
    }
  }
}

// JSON: exactly one '\n', at the end; one object, with the logger, the message and every field.
void check_json_line(const Line& l) {
  const std::string line = format(l, Format::Json);
  FUZZ_CHECK(!line.empty() && line.back() == '\n');
  FUZZ_CHECK(line.find('\n') == line.size() - 1);
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(line, ec);
  if (ec) std::fprintf(stderr, "not JSON (%s): %s", ec.message().c_str(), line.c_str());
  FUZZ_CHECK(!ec);
  FUZZ_CHECK(v.is_object());
  const auto& o = v.get_object();
  check_string(o.if_contains("logger"), l.logger);
  check_string(o.if_contains("msg"), l.msg);
  check_fields(o, l.fields);
}

// Text: ends with '\n', and has no other when the logger name and keys are plain (in the
// program they are literals).
void check_text_line(const Line& l) {
  if (!plain(l.logger)) return;
  const std::string line = format(l, Format::Text);
  FUZZ_CHECK(!line.empty() && line.back() == '\n');
  bool keys_plain = true;
  for (const auto& f : l.fields) keys_plain = keys_plain && plain(f.key);
  if (keys_plain) FUZZ_CHECK(line.find('\n') == line.size() - 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  FuzzedDataProvider in(bytes, size);
  const Line line = consume_line(in);
  check_json_line(line);
  check_text_line(line);
  return 0;
}
