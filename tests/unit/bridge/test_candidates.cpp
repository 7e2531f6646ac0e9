#include "dispatch/candidates.hpp"
#include "dispatch/items.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

using namespace fdb::dispatch;
namespace json = boost::json;

namespace {

// A well-formed candidate for lane "local"; each row changes one thing.
json::object ready_item(std::int64_t n = 42) {
  return json::parse(R"({"type":"issue","number":)" + std::to_string(n) +
                     R"(,"title":"Fix the widget","url":"https://github.com/o/r/issues/1",
      "labels":["status/ready","priority/p1"],"priority":"priority/p1","status":"status/ready",
      "agentMatch":false,"lane":"local","issueId":"iss-1","repoFullName":"o/r","claimable":true})")
      .as_object();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(bridge_candidates)

BOOST_AUTO_TEST_CASE(candidate_rules) {
  struct Row {
    const char* given;
    std::function<void(json::object&)> change;
    std::string lane;
    std::optional<SkipReason> expect;  // nullopt: a candidate
  };
  using R = SkipReason;
  const Row rows[] = {
      {"the reference item", [](json::object&) {}, "local", std::nullopt},
      // type
      {"type pr", [](json::object& o) { o["type"] = "pr"; }, "local", R::NotAnIssue},
      {"no type", [](json::object& o) { o.erase("type"); }, "local", R::NotAnIssue},
      {"type not a string", [](json::object& o) { o["type"] = 1; }, "local", R::NotAnIssue},
      // title
      {"renovate title", [](json::object& o) { o["title"] = "chore(deps): update renovate config"; }, "local", R::Renovate},
      {"Renovate any case", [](json::object& o) { o["title"] = "RENOVATE: Dependency Dashboard"; }, "local", R::Renovate},
      {"title mentions reno", [](json::object& o) { o["title"] = "reno vate"; }, "local", std::nullopt},
      {"title not a string", [](json::object& o) { o["title"] = 5; }, "local", std::nullopt},
      // lane
      {"other lane", [](json::object& o) { o["lane"] = "cloud"; }, "local", R::OtherLane},
      {"no lane", [](json::object& o) { o.erase("lane"); }, "local", std::nullopt},
      {"null lane", [](json::object& o) { o["lane"] = nullptr; }, "local", std::nullopt},
      {"currentLane alias", [](json::object& o) { o.erase("lane"); o["currentLane"] = "cloud"; }, "local", R::OtherLane},
      {"normal = local", [](json::object& o) { o["lane"] = "normal"; }, "local", std::nullopt},
      {"escalated = frontier", [](json::object& o) { o["lane"] = "escalated"; }, "frontier", std::nullopt},
      {"escalated is not local", [](json::object& o) { o["lane"] = "escalated"; }, "local", R::OtherLane},
      {"asked with an alias", [](json::object&) {}, "normal", std::nullopt},
      // status
      {"status label wins over field", [](json::object& o) { o["labels"] = json::array{"status/in-progress"}; },
       "local", R::NotReady},
      {"first status label counts", [](json::object& o) { o["labels"] = json::array{"bug", "status/ready", "status/blocked"}; },
       "local", std::nullopt},
      {"first status label not ready", [](json::object& o) { o["labels"] = json::array{"status/blocked", "status/ready"}; },
       "local", R::NotReady},
      {"no status label: field", [](json::object& o) { o["labels"] = json::array{"bug"}; }, "local", std::nullopt},
      {"no status label, field not ready", [](json::object& o) { o["labels"] = json::array{}; o["status"] = "status/backlog"; },
       "local", R::NotReady},
      {"no status at all", [](json::object& o) { o.erase("labels"); o.erase("status"); }, "local", R::NotReady},
      {"labels not an array: field", [](json::object& o) { o["labels"] = "status/blocked"; }, "local", std::nullopt},
      // claimable / agentMatch
      {"agentMatch only", [](json::object& o) { o["claimable"] = false; o["agentMatch"] = true; }, "local", std::nullopt},
      {"neither", [](json::object& o) { o["claimable"] = false; }, "local", R::NotClaimable},
      {"claimable missing", [](json::object& o) { o.erase("claimable"); }, "local", R::NotClaimable},
      {"claimable as string", [](json::object& o) { o["claimable"] = "true"; }, "local", R::NotClaimable},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) {
      json::object o = ready_item();
      r.change(o);
      const auto parsed = parse_queue_item(o, 0);
      BOOST_TEST_REQUIRE(std::holds_alternative<QueueItem>(parsed));
      const auto why = why_not_candidate(std::get<QueueItem>(parsed), r.lane);
      BOOST_TEST(why.has_value() == r.expect.has_value());
      if (why && r.expect) BOOST_TEST(to_string(*why) == to_string(*r.expect));
    }
  }
}

BOOST_AUTO_TEST_CASE(malformed_items) {
  struct Row {
    const char* given;
    json::value item;
    std::string field;  // empty: well-formed
  };
  auto with = [](std::function<void(json::object&)> f) {
    json::object o = ready_item();
    f(o);
    return json::value(std::move(o));
  };
  const Row rows[] = {
      {"not an object", json::value("issue 42"), "(item)"},
      {"null", json::value(nullptr), "(item)"},
      {"no number", with([](json::object& o) { o.erase("number"); }), "number"},
      {"issueNumber alias", with([](json::object& o) { o.erase("number"); o["issueNumber"] = 7; }), ""},
      {"number as a string", with([](json::object& o) { o["number"] = "42"; }), ""},
      {"number as 42.0", with([](json::object& o) { o["number"] = 42.0; }), ""},
      {"number 42.5", with([](json::object& o) { o["number"] = 42.5; }), "number"},
      {"number zero", with([](json::object& o) { o["number"] = 0; }), "number"},
      {"number negative", with([](json::object& o) { o["number"] = -3; }), "number"},
      {"number beyond int32", with([](json::object& o) { o["number"] = 4294967296LL; }), "number"},
      {"number garbage", with([](json::object& o) { o["number"] = "4x"; }), "number"},
      {"number an object", with([](json::object& o) { o["number"] = json::object{}; }), "number"},
      {"no id", with([](json::object& o) { o.erase("issueId"); }), "issueId"},
      {"id alias", with([](json::object& o) { o.erase("issueId"); o["id"] = "x"; }), ""},
      {"numeric id", with([](json::object& o) { o["issueId"] = 99; }), ""},
      {"empty id", with([](json::object& o) { o["issueId"] = ""; }), "issueId"},
      {"no repo", with([](json::object& o) { o.erase("repoFullName"); }), "repoFullName"},
      {"repo without owner", with([](json::object& o) { o["repoFullName"] = "repo"; }), "repoFullName"},
      {"repo with two slashes", with([](json::object& o) { o["repoFullName"] = "a/b/c"; }), "repoFullName"},
      {"repo not a string", with([](json::object& o) { o["repoFullName"] = 3; }), "repoFullName"},
      // Items that are not issues need no identity.
      {"a pr without number", with([](json::object& o) { o["type"] = "pr"; o.erase("number"); }), ""},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) {
      const auto parsed = parse_queue_item(r.item, 3);
      if (r.field.empty()) {
        BOOST_TEST(std::holds_alternative<QueueItem>(parsed));
      } else {
        BOOST_TEST_REQUIRE(std::holds_alternative<ParseError>(parsed));
        const auto& e = std::get<ParseError>(parsed);
        BOOST_TEST(e.field == r.field);
        BOOST_TEST(e.what().rfind("item 3: " + r.field + ": ", 0) == 0u, e.what());
      }
    }
  }
  // Aliases land in the right fields.
  json::object o = ready_item();
  o.erase("number");
  o.erase("issueId");
  o["issueNumber"] = "17";
  o["id"] = 5;
  const auto item = std::get<QueueItem>(parse_queue_item(o));
  BOOST_TEST(item.number == 17);
  BOOST_TEST(item.issue_id == "5");
  BOOST_TEST(item.repo_full_name == "o/r");
}

BOOST_AUTO_TEST_CASE(selection_keeps_queue_order_and_reports_malformed) {
  json::array queue;
  queue.push_back(ready_item(1));
  queue.push_back(json::value("garbage"));
  auto renovate = ready_item(2);
  renovate["title"] = "Renovate Dashboard";
  queue.push_back(renovate);
  queue.push_back(ready_item(3));
  auto broken = ready_item(4);
  broken.erase("repoFullName");
  queue.push_back(broken);
  queue.push_back(ready_item(5));
  auto other = ready_item(6);
  other["lane"] = "frontier";
  queue.push_back(other);

  const auto result = select_candidates(json::value(queue), "local");
  BOOST_TEST_REQUIRE(std::holds_alternative<Selection>(result));
  const auto& sel = std::get<Selection>(result);
  std::vector<std::int64_t> numbers;
  for (const auto& c : sel.candidates) numbers.push_back(c.number);
  BOOST_TEST(numbers == (std::vector<std::int64_t>{1, 3, 5}), boost::test_tools::per_element());
  BOOST_TEST_REQUIRE(sel.malformed.size() == 2u);
  BOOST_TEST(sel.malformed[0].index == 1);
  BOOST_TEST(sel.malformed[1].index == 4);
  BOOST_TEST(sel.malformed[1].field == "repoFullName");
  BOOST_TEST_REQUIRE(sel.skipped.size() == 2u);
  BOOST_TEST(sel.skipped[0].index == 2u);
  BOOST_TEST(to_string(sel.skipped[0].reason) == "renovate");
  BOOST_TEST(sel.skipped[1].index == 6u);
  BOOST_TEST(to_string(sel.skipped[1].reason) == "other-lane");
}

BOOST_AUTO_TEST_CASE(malformed_answers_fail_the_lane) {
  struct Row {
    const char* given;
    std::string body;
    bool ok;
    std::size_t candidates;
  };
  const Row rows[] = {
      {"empty array", "[]", true, 0},
      {"object with items", R"({"items":[{"type":"issue","number":1,"issueId":"a","repoFullName":"o/r","status":"status/ready","claimable":true}]})", true, 1},
      {"object without items", R"({"error":"boom"})", false, 0},
      {"a string", R"("oops")", false, 0},
      {"null", "null", false, 0},
      {"a number", "3", false, 0},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) {
      const auto result = select_candidates(json::parse(r.body), "local");
      BOOST_TEST(std::holds_alternative<Selection>(result) == r.ok);
      if (r.ok) BOOST_TEST(std::get<Selection>(result).candidates.size() == r.candidates);
      else BOOST_TEST(std::get<ParseError>(result).what().rfind("answer: expected an array", 0) == 0u);
    }
  }
}

BOOST_AUTO_TEST_CASE(other_answers) {
  // claim
  struct ClaimRow {
    std::string body;
    bool ok;
    bool success;
  };
  const ClaimRow claims[] = {{R"({"success":true,"labels":["status/in-progress"]})", true, true},
                             {R"({"success":false})", true, false},
                             {R"({})", true, true},
                             {R"({"success":"no"})", true, true},
                             {R"([])", false, false}};
  for (const auto& r : claims) {
    BOOST_TEST_CONTEXT(r.body) {
      const auto a = parse_claim_answer(json::parse(r.body));
      BOOST_TEST(std::holds_alternative<ClaimAnswer>(a) == r.ok);
      if (r.ok) BOOST_TEST(std::get<ClaimAnswer>(a).success == r.success);
    }
  }
  // issue state
  struct StateRow {
    std::string body;
    bool ok;
    IssueState state;
  };
  const StateRow states[] = {
      {R"({"issueId":"i","repoFullName":"o/r","number":4,"state":"open","closedAt":null,"labels":[]})", true, IssueState::Open},
      {R"({"state":"closed","closedAt":"2026-01-01T00:00:00Z"})", true, IssueState::Closed},
      {R"({"state":"CLOSED"})", true, IssueState::Closed},
      {R"({"state":"merged"})", true, IssueState::Unknown},
      {R"({"state":3})", false, IssueState::Unknown},
      {R"({})", false, IssueState::Unknown},
      {R"("closed")", false, IssueState::Unknown},
  };
  for (const auto& r : states) {
    BOOST_TEST_CONTEXT(r.body) {
      const auto a = parse_issue_state(json::parse(r.body));
      BOOST_TEST(std::holds_alternative<IssueStateAnswer>(a) == r.ok);
      if (r.ok) BOOST_TEST(to_string(std::get<IssueStateAnswer>(a).state) == to_string(r.state));
    }
  }
  const auto st = std::get<IssueStateAnswer>(parse_issue_state(json::parse(
      R"({"issueId":"i","repoFullName":"o/r","number":4,"state":"closed","closedAt":"t","labels":["x",1]})")));
  BOOST_TEST(st.issue_id == "i");
  BOOST_TEST(st.number == 4);
  BOOST_TEST(st.closed_at == "t");
  BOOST_TEST(st.labels == (std::vector<std::string>{"x"}), boost::test_tools::per_element());
  // claimed
  const auto claimed = parse_claimed(json::parse(R"([
      {"issueId":"a","number":1,"repoFullName":"o/r","currentLane":"normal","labels":["status/in-progress"],"hasOpenPr":true},
      {"issueId":"b","number":"x","repoFullName":"o/r"},
      7,
      {"id":"c","issueNumber":3,"repoFullName":"o/s","lane":"cloud"}])"));
  BOOST_TEST_REQUIRE(std::holds_alternative<ClaimedAnswer>(claimed));
  const auto& c = std::get<ClaimedAnswer>(claimed);
  BOOST_TEST_REQUIRE(c.items.size() == 2u);
  BOOST_TEST(c.items[0].lane == "local");
  BOOST_TEST(c.items[0].has_open_pr);
  BOOST_TEST(c.items[1].issue_id == "c");
  BOOST_TEST(c.items[1].number == 3);
  BOOST_TEST(c.items[1].lane == "cloud");
  BOOST_TEST(!c.items[1].has_open_pr);
  BOOST_TEST_REQUIRE(c.malformed.size() == 2u);
  BOOST_TEST(c.malformed[0].field == "number");
  BOOST_TEST(c.malformed[1].index == 2);
  BOOST_TEST(std::holds_alternative<ParseError>(parse_claimed(json::parse(R"({"x":1})"))));
  // status
  const auto s = parse_status_answer(json::parse(R"({"success":true,"status":"in-review","labels":["status/in-review"]})"));
  BOOST_TEST_REQUIRE(std::holds_alternative<StatusAnswer>(s));
  BOOST_TEST(std::get<StatusAnswer>(s).status == "in-review");
}

BOOST_AUTO_TEST_SUITE_END()
