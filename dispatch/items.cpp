#include "dispatch/items.hpp"

#include "dispatch/workload.hpp"
#include "watch/json_access.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <charconv>
#include <cmath>
#include <limits>

namespace fdb::dispatch {

namespace json = boost::json;

std::string ParseError::what() const {
  std::string out = index >= 0 ? "item " + std::to_string(index) + ": " : std::string();
  out += field.empty() ? std::string("answer") : field;
  out += ": ";
  out += message;
  return out;
}

namespace {

using kube::json_kind_name;

// A short, printable rendering of a bad value for an error message.
std::string shown(const json::value& v) {
  std::string s = json::serialize(v);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

ParseError err(long index, std::string field, std::string message) {
  return ParseError{std::move(field), std::move(message), index};
}

// The first present key of `keys`; nullptr when none (null counts as absent).
const json::value* first_of(const json::object& o, std::initializer_list<std::string_view> keys) {
  for (const auto k : keys) {
    const auto* v = o.if_contains(k);
    if (v != nullptr && !v->is_null()) return v;
  }
  return nullptr;
}

std::string string_or_empty(const json::object& o, std::initializer_list<std::string_view> keys) {
  const auto* v = first_of(o, keys);
  return (v != nullptr && v->is_string()) ? std::string(v->get_string()) : std::string();
}

bool true_bool(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_bool() && v->get_bool();
}

std::vector<std::string> string_list(const json::object& o, std::string_view key) {
  std::vector<std::string> out;
  const auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_array()) return out;
  for (const auto& e : v->get_array())
    if (e.is_string()) out.emplace_back(e.get_string());
  return out;
}

// An issue number: a positive integer within int32 (the CRD's `issues` items are int32).
std::optional<std::int64_t> as_issue_number(const json::value& v) {
  constexpr std::int64_t kMax = std::numeric_limits<std::int32_t>::max();
  std::int64_t n = 0;
  if (v.is_int64()) {
    n = v.get_int64();
  } else if (v.is_uint64()) {
    if (v.get_uint64() > static_cast<std::uint64_t>(kMax)) return std::nullopt;
    n = static_cast<std::int64_t>(v.get_uint64());
  } else if (v.is_double()) {
    const double d = v.get_double();
    if (!std::isfinite(d) || d != std::floor(d) || d < 1 || d > static_cast<double>(kMax)) return std::nullopt;
    n = static_cast<std::int64_t>(d);
  } else if (v.is_string()) {
    const auto s = v.get_string();
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  } else {
    return std::nullopt;
  }
  if (n < 1 || n > kMax) return std::nullopt;
  return n;
}

// An id: a non-empty string, or a number (some services send numeric ids).
std::optional<std::string> as_id(const json::value& v) {
  if (v.is_string() && !v.get_string().empty()) return std::string(v.get_string());
  if (v.is_int64()) return std::to_string(v.get_int64());
  if (v.is_uint64()) return std::to_string(v.get_uint64());
  return std::nullopt;
}

bool valid_repo(std::string_view r) {
  const auto slash = r.find('/');
  return slash != std::string_view::npos && slash > 0 && slash + 1 < r.size() &&
         r.find('/', slash + 1) == std::string_view::npos && r.find_first_of(" \t\r\n") == std::string_view::npos;
}

// The common identity of an issue entry (queue item or claimed entry).
std::optional<ParseError> read_identity(const json::object& o, long index, std::int64_t& number,
                                        std::string& id, std::string& repo) {
  const auto* nv = first_of(o, {"number", "issueNumber"});
  if (nv == nullptr) return err(index, "number", "missing (neither number nor issueNumber)");
  const auto n = as_issue_number(*nv);
  if (!n) return err(index, "number", "expected a positive integer, got " + shown(*nv));
  number = *n;

  const auto* rv = first_of(o, {"repoFullName"});
  if (rv == nullptr) return err(index, "repoFullName", "missing");
  if (!rv->is_string() || !valid_repo(rv->get_string()))
    return err(index, "repoFullName", "expected \"owner/repo\", got " + shown(*rv));
  repo = std::string(rv->get_string());

  const auto* iv = first_of(o, {"issueId", "id"});
  if (iv == nullptr) return err(index, "issueId", "missing (neither issueId nor id)");
  const auto i = as_id(*iv);
  if (!i) return err(index, "issueId", "expected a non-empty string, got " + shown(*iv));
  id = *i;
  return std::nullopt;
}

// An array answer, or the `items` array of an object answer.
const json::array* array_of(const json::value& answer) {
  if (answer.is_array()) return &answer.get_array();
  if (answer.is_object()) {
    const auto* items = answer.get_object().if_contains("items");
    if (items != nullptr && items->is_array()) return &items->get_array();
  }
  return nullptr;
}

}  // namespace

std::string QueueItem::effective_status() const {
  for (const auto& l : labels)
    if (l.rfind("status/", 0) == 0) return l;
  return status;
}

Parsed<QueueItem> parse_queue_item(const json::value& v, long index) {
  if (!v.is_object()) return err(index, "(item)", std::string("expected an object, got ") + std::string(json_kind_name(v)));
  const auto& o = v.get_object();
  QueueItem item;
  if (index >= 0) item.position = static_cast<std::size_t>(index);
  item.type = string_or_empty(o, {"type"});
  item.title = string_or_empty(o, {"title"});
  item.url = string_or_empty(o, {"url"});
  item.labels = string_list(o, "labels");
  item.priority = string_or_empty(o, {"priority"});
  item.status = string_or_empty(o, {"status"});
  item.lane = normalize_lane(string_or_empty(o, {"lane", "currentLane"}));
  item.agent_match = true_bool(o, "agentMatch");
  item.claimable = true_bool(o, "claimable");
  if (item.type != "issue") return item;  // not ours to claim; the caller skips it
  if (auto e = read_identity(o, index, item.number, item.issue_id, item.repo_full_name)) return *e;
  return item;
}

Parsed<QueueAnswer> parse_queue(const json::value& answer) {
  const auto* arr = array_of(answer);
  if (arr == nullptr)
    return err(-1, "", std::string("expected an array of items, got ") + std::string(json_kind_name(answer)));
  QueueAnswer out;
  out.items.reserve(arr->size());
  for (std::size_t i = 0; i < arr->size(); ++i) {
    auto r = parse_queue_item((*arr)[i], static_cast<long>(i));
    if (auto* item = std::get_if<QueueItem>(&r))
      out.items.push_back(std::move(*item));
    else
      out.malformed.push_back(std::move(std::get<ParseError>(r)));
  }
  return out;
}

Parsed<ClaimAnswer> parse_claim_answer(const json::value& answer) {
  if (!answer.is_object()) return err(-1, "", std::string("expected an object, got ") + std::string(json_kind_name(answer)));
  const auto& o = answer.get_object();
  ClaimAnswer out;
  if (const auto* s = o.if_contains("success"); s != nullptr && s->is_bool()) out.success = s->get_bool();
  out.labels = string_list(o, "labels");
  return out;
}

Parsed<StatusAnswer> parse_status_answer(const json::value& answer) {
  if (!answer.is_object()) return err(-1, "", std::string("expected an object, got ") + std::string(json_kind_name(answer)));
  const auto& o = answer.get_object();
  StatusAnswer out;
  if (const auto* s = o.if_contains("success"); s != nullptr && s->is_bool()) out.success = s->get_bool();
  out.status = string_or_empty(o, {"status"});
  out.labels = string_list(o, "labels");
  return out;
}

Parsed<ClaimedAnswer> parse_claimed(const json::value& answer) {
  const auto* arr = array_of(answer);
  if (arr == nullptr)
    return err(-1, "", std::string("expected an array of issues, got ") + std::string(json_kind_name(answer)));
  ClaimedAnswer out;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const auto& v = (*arr)[i];
    const long index = static_cast<long>(i);
    if (!v.is_object()) {
      out.malformed.push_back(err(index, "(item)", std::string("expected an object, got ") + std::string(json_kind_name(v))));
      continue;
    }
    const auto& o = v.get_object();
    ClaimedIssue c;
    if (auto e = read_identity(o, index, c.number, c.issue_id, c.repo_full_name)) {
      out.malformed.push_back(std::move(*e));
      continue;
    }
    c.lane = normalize_lane(string_or_empty(o, {"currentLane", "lane"}));
    c.labels = string_list(o, "labels");
    c.has_open_pr = true_bool(o, "hasOpenPr");
    out.items.push_back(std::move(c));
  }
  return out;
}

std::string_view to_string(IssueState s) noexcept {
  switch (s) {
    case IssueState::Open: return "open";
    case IssueState::Closed: return "closed";
    case IssueState::Unknown: return "unknown";
  }
  return "unknown";
}

Parsed<IssueStateAnswer> parse_issue_state(const json::value& answer) {
  if (!answer.is_object()) return err(-1, "", std::string("expected an object, got ") + std::string(json_kind_name(answer)));
  const auto& o = answer.get_object();
  IssueStateAnswer out;
  if (const auto* iv = first_of(o, {"issueId", "id"})) out.issue_id = as_id(*iv).value_or("");
  out.repo_full_name = string_or_empty(o, {"repoFullName"});
  if (const auto* nv = first_of(o, {"number", "issueNumber"})) out.number = as_issue_number(*nv).value_or(0);
  const auto* sv = o.if_contains("state");
  if (sv == nullptr || !sv->is_string()) return err(-1, "state", "expected \"open\" or \"closed\"");
  std::string st(sv->get_string());
  for (auto& c : st) c = static_cast<char>((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
  out.state = st == "open" ? IssueState::Open : st == "closed" ? IssueState::Closed : IssueState::Unknown;
  out.closed_at = string_or_empty(o, {"closedAt"});
  out.labels = string_list(o, "labels");
  return out;
}

}  // namespace fdb::dispatch
