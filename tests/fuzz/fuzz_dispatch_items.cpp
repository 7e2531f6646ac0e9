// Dispatch answers: a body parsed as the client parses it (bounded depth), then every
// tolerant parser of dispatch/items.hpp and candidate selection over it. Properties:
//  - nothing throws; an answer that is not an array (or {items: [...]}) is one ParseError;
//  - each array element is either an item or a ParseError with its index, in order;
//  - an issue item has a number in [1, 2^31-1], an "owner/repo" without blanks and a
//    non-empty id; lanes are normalized (normalizing again changes nothing);
//  - candidates are items (in queue order) for which why_not_candidate says nothing, and
//    every item is either a candidate or skipped;
//  - ParseError::what() names the item index and the field.
#include "dispatch/candidates.hpp"
#include "dispatch/items.hpp"
#include "dispatch/workload.hpp"
#include "fuzz_check.hpp"
#include "watch/json_input.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <variant>

using namespace fdb::dispatch;
namespace json = boost::json;

namespace {

const json::array* array_of(const json::value& v) {
  if (v.is_array()) return &v.get_array();
  if (v.is_object()) {
    const auto* items = v.get_object().if_contains("items");
    if (items != nullptr && items->is_array()) return &items->get_array();
  }
  return nullptr;
}

bool valid_repo(std::string_view r) {
  const auto slash = r.find('/');
  return slash != std::string_view::npos && slash > 0 && slash + 1 < r.size() &&
         r.find('/', slash + 1) == std::string_view::npos && r.find_first_of(" \t\r\n") == std::string_view::npos;
}

void check_identity(std::int64_t number, const std::string& id, const std::string& repo) {
  FUZZ_CHECK(number >= 1 && number <= std::numeric_limits<std::int32_t>::max());
  FUZZ_CHECK(!id.empty());
  FUZZ_CHECK(valid_repo(repo));
}

void check_error(const ParseError& e, long index) {
  FUZZ_CHECK(e.index == index);
  FUZZ_CHECK(!e.message.empty());
  const std::string w = e.what();
  if (index >= 0) FUZZ_CHECK(w.rfind("item " + std::to_string(index) + ": " + e.field + ": ", 0) == 0);
  else FUZZ_CHECK(w.rfind((e.field.empty() ? std::string("answer") : e.field) + ": ", 0) == 0);
}

void check_lane(const std::string& lane) { FUZZ_CHECK(normalize_lane(lane) == lane); }

void check_queue(const json::value& answer) {
  const auto parsed = parse_queue(answer);
  const json::array* arr = array_of(answer);
  if (arr == nullptr) {
    FUZZ_CHECK(std::holds_alternative<ParseError>(parsed));
    check_error(std::get<ParseError>(parsed), -1);
    return;
  }
  const auto& q = std::get<QueueAnswer>(parsed);
  FUZZ_CHECK(q.items.size() + q.malformed.size() == arr->size());
  std::size_t next_item = 0, next_bad = 0;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    if (next_item < q.items.size() && q.items[next_item].position == i) {
      const auto& item = q.items[next_item++];
      if (item.type == "issue") check_identity(item.number, item.issue_id, item.repo_full_name);
      check_lane(item.lane);
      // parse_queue_item on the element alone agrees.
      const auto alone = parse_queue_item((*arr)[i], static_cast<long>(i));
      FUZZ_CHECK(std::holds_alternative<QueueItem>(alone));
      FUZZ_CHECK(std::get<QueueItem>(alone).issue_id == item.issue_id);
    } else {
      FUZZ_CHECK(next_bad < q.malformed.size());
      check_error(q.malformed[next_bad++], static_cast<long>(i));
    }
  }
  FUZZ_CHECK(next_item == q.items.size() && next_bad == q.malformed.size());

  for (const std::string_view lane : {"local", "normal", "cloud", "frontier", ""}) {
    const Selection sel = select_candidates(q, lane);
    FUZZ_CHECK(sel.candidates.size() + sel.skipped.size() == q.items.size());
    std::size_t prev = 0;
    bool first = true;
    for (const auto& c : sel.candidates) {
      FUZZ_CHECK(!why_not_candidate(c, lane).has_value());
      FUZZ_CHECK(c.type == "issue");
      FUZZ_CHECK(first || c.position > prev);
      prev = c.position;
      first = false;
    }
    for (const auto& s : sel.skipped) FUZZ_CHECK(s.index < arr->size());
  }
}

void check_claimed(const json::value& answer) {
  const auto parsed = parse_claimed(answer);
  const json::array* arr = array_of(answer);
  if (arr == nullptr) {
    FUZZ_CHECK(std::holds_alternative<ParseError>(parsed));
    check_error(std::get<ParseError>(parsed), -1);
    return;
  }
  const auto& c = std::get<ClaimedAnswer>(parsed);
  FUZZ_CHECK(c.items.size() + c.malformed.size() == arr->size());
  for (const auto& item : c.items) {
    check_identity(item.number, item.issue_id, item.repo_full_name);
    check_lane(item.lane);
  }
  long prev = -1;
  for (const auto& e : c.malformed) {
    FUZZ_CHECK(e.index > prev && e.index < static_cast<long>(arr->size()));
    check_error(e, e.index);
    prev = e.index;
  }
}

void check_objects(const json::value& answer) {
  const bool object = answer.is_object();
  const auto claim = parse_claim_answer(answer);
  FUZZ_CHECK(std::holds_alternative<ClaimAnswer>(claim) == object);
  if (object) {
    const auto* s = answer.get_object().if_contains("success");
    const bool explicit_false = s != nullptr && s->is_bool() && !s->get_bool();
    FUZZ_CHECK(std::get<ClaimAnswer>(claim).success == !explicit_false);
  }
  const auto status = parse_status_answer(answer);
  FUZZ_CHECK(std::holds_alternative<StatusAnswer>(status) == object);
  const auto state = parse_issue_state(answer);
  if (auto* st = std::get_if<IssueStateAnswer>(&state)) {
    FUZZ_CHECK(object);
    FUZZ_CHECK(st->number >= 0);
  } else {
    check_error(std::get<ParseError>(state), -1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(bytes), size);
  boost::system::error_code ec;
  const json::value answer = fdb::kube::parse_json(body, ec);
  if (ec) {
    FUZZ_CHECK(answer.is_null());
    FUZZ_CHECK(!fdb::kube::json_error_text(ec).empty());
    return 0;
  }
  check_queue(answer);
  check_claimed(answer);
  check_objects(answer);
  return 0;
}
