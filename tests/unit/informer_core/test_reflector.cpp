// The reflector as a table: given this input in this state, expect these actions.
#include "watch/reflector.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <functional>

using namespace fdb::kube;
using namespace fdb::kube::reflector;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;
const Clock::time_point T0{};

json::object obj(const std::string& name, const std::string& rv) {
  return json::parse(R"({"metadata":{"namespace":"llm","name":")" + name + R"(","resourceVersion":")" + rv + R"("}})")
      .as_object();
}
WatchEvent ev(EventType t, const std::string& name, const std::string& rv) { return {t, obj(name, rv)}; }
WatchEvent error_event(int code, const std::string& reason) {
  return {EventType::Error,
          json::parse(R"({"kind":"Status","status":"Failure","code":)" + std::to_string(code) + R"(,"reason":")" + reason + R"("})")
              .as_object()};
}

// A one-line description of actions, for table comparisons: a run of a list's Upserts is
// "listed(N@list)", a watch event's Upsert "upsert".
std::string show(const Actions& actions) {
  std::string out;
  auto add = [&](const std::string& s) { out += (out.empty() ? "" : " ") + s; };
  for (std::size_t i = 0; i < actions.size(); ++i) {
    const auto& a = actions[i];
    if (const auto* l = std::get_if<List>(&a)) {
      add("list(rv=" + (l->options.resource_version ? *l->options.resource_version : std::string("-")) +
          (l->options.continue_token.empty() ? "" : ",continue=" + l->options.continue_token) +
          (l->options.resource_version_match.empty() ? "" : "," + l->options.resource_version_match) + ")");
    } else if (const auto* w = std::get_if<Watch>(&a)) {
      add("watch(rv=" + w->options.resource_version.value_or("-") +
          (w->options.send_initial_events ? ",initial-events," + w->options.resource_version_match : "") + ")");
    } else if (std::holds_alternative<Sleep>(a)) {
      add("sleep");
    } else if (const auto* u = std::get_if<Upsert>(&a); u != nullptr && u->list != 0) {
      std::size_t n = 1;
      while (i + 1 < actions.size() && std::holds_alternative<Upsert>(actions[i + 1]) &&
             std::get<Upsert>(actions[i + 1]).list == u->list) {
        ++n;
        ++i;
      }
      add("listed(" + std::to_string(n) + "@" + std::to_string(u->list) + ")");
    } else if (std::holds_alternative<Upsert>(a)) {
      add("upsert");
    } else if (const auto* d = std::get_if<ListDone>(&a)) {
      add("list-done(@" + std::to_string(d->list) + ")");
    } else if (std::holds_alternative<Remove>(a)) {
      add("remove");
    }
  }
  return out;
}

// The Reports among actions, as "kind" or "kind(reason)" for lists, space separated.
std::string reports(const Actions& actions) {
  std::string out;
  for (const auto& a : actions) {
    const auto* r = std::get_if<Report>(&a);
    if (r == nullptr) continue;
    out += out.empty() ? "" : " ";
    out += to_string(r->event.kind);
    const auto k = r->event.kind;
    if (k == InformerEventKind::Listed || k == InformerEventKind::ListFailed || k == InformerEventKind::ListExpired) {
      out += "(" + std::string(to_string(r->event.reason)) + ")";
    }
  }
  return out;
}
// The first Sleep among actions (a Report may come before it).
Sleep sleep_of(const Actions& actions) {
  for (const auto& a : actions) {
    if (const auto* s = std::get_if<Sleep>(&a)) return *s;
  }
  BOOST_FAIL("no sleep in the actions");
  return {};
}

Reflector make() { return Reflector(ReflectorConfig{}, [] { return 0.5; }); }
Reflector make_streaming() {
  ReflectorConfig c;
  c.streaming_list = true;
  return Reflector(c, [] { return 0.5; });
}
WatchEvent end_bookmark(const std::string& rv) {
  return {EventType::Bookmark,
          json::parse(R"({"metadata":{"resourceVersion":")" + rv + R"(","annotations":{"k8s.io/initial-events-end":"true"}}})")
              .as_object()};
}

// Brings a reflector to Watching at list resourceVersion 10 with objects a, b.
Reflector watching() {
  auto r = make();
  r.start(T0);
  r.on_list_page(T0, {obj("a", "5"), obj("b", "9")}, "10", "");
  return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(reflector_table)

BOOST_AUTO_TEST_CASE(list_pages_then_watch) {
  auto r = make();
  BOOST_TEST(show(r.start(T0)) == "list(rv=0)");
  BOOST_TEST(to_string(r.phase()) == "listing");
  BOOST_TEST(!r.synced());
  // Each page is applied as it arrives, marked with the list's number.
  BOOST_TEST(show(r.on_list_page(T0, {obj("a", "1")}, "", "tok1")) == "listed(1@1) list(rv=-,continue=tok1)");
  BOOST_TEST(!r.synced());
  BOOST_TEST(show(r.on_list_page(T0, {obj("b", "2"), obj("c", "3")}, "7", "")) == "listed(2@1) list-done(@1) watch(rv=7)");
  BOOST_TEST(r.synced());
  BOOST_TEST(to_string(r.phase()) == "watching");
}

BOOST_AUTO_TEST_CASE(watch_timeout_is_random_in_range) {
  for (double x : {0.0, 0.5, 0.999999}) {
    Reflector r(ReflectorConfig{}, [x] { return x; });
    r.start(T0);
    const auto acts = r.on_list_page(T0, {}, "1", "");
    const auto& w = std::get<Watch>(acts.back());
    BOOST_TEST(*w.options.timeout_seconds >= 300);
    BOOST_TEST(*w.options.timeout_seconds <= 600);
    BOOST_TEST(w.options.allow_watch_bookmarks);
  }
}

BOOST_AUTO_TEST_CASE(events_advance_the_resource_version) {
  struct Row {
    const char* given;
    WatchEvent event;
    std::string actions;
    std::string rv_after;
  };
  const Row rows[] = {
      {"added", ev(EventType::Added, "c", "11"), "upsert", "11"},
      {"modified", ev(EventType::Modified, "a", "12"), "upsert", "12"},
      {"deleted", ev(EventType::Deleted, "b", "13"), "remove", "13"},
      {"bookmark", ev(EventType::Bookmark, "", "20"), "", "20"},
      {"event without a resourceVersion", {EventType::Added, json::parse(R"({"metadata":{"name":"x"}})").as_object()}, "upsert", "10"},
      {"410 Expired error event", error_event(410, "Expired"), "list(rv=10,NotOlderThan)", "10"},
      {"410 Gone (old servers)", error_event(410, "Gone"), "list(rv=10,NotOlderThan)", "10"},
      {"500 error event", error_event(500, "InternalError"), "sleep", "10"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) {
      auto ref = watching();
      BOOST_TEST(show(ref.on_event(T0, r.event)) == r.actions);
      BOOST_TEST(ref.last_resource_version() == r.rv_after);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_drop_mid_stream_resumes_from_the_last_version) {
  auto r = watching();
  r.on_event(T0, ev(EventType::Added, "c", "11"));
  r.on_event(T0, ev(EventType::Modified, "c", "12"));
  // The connection breaks: wait, then watch again from 12 (not from the list's 10).
  ApiError drop(ErrorKind::Transport, 0, {}, "connection reset");
  BOOST_TEST(show(r.on_watch_failed(T0, drop)) == "sleep");
  BOOST_TEST(show(r.on_timer(T0 + 1s)) == "watch(rv=12)");
  // The server's timeoutSeconds ends the stream cleanly: resume at once.
  r.on_event(T0 + 2s, ev(EventType::Modified, "c", "14"));
  BOOST_TEST(show(r.on_watch_ended(T0 + 3s)) == "watch(rv=14)");
  BOOST_TEST(r.watch_restarts() == 2u);
}

BOOST_AUTO_TEST_CASE(a_bookmark_only_stream_keeps_moving) {
  auto r = watching();
  for (int rv = 100; rv <= 300; rv += 100) r.on_event(T0, ev(EventType::Bookmark, "", std::to_string(rv)));
  BOOST_TEST(show(r.on_watch_ended(T0)) == "watch(rv=300)");
}

// Issue 20, item 3: a proxy or server that ends every watch at once. client-go's "very
// short watch": under a second with no event, the next watch waits as after a failure,
// the wait growing each time; a watch that carried an event, or lasted, resumes at once.
BOOST_AUTO_TEST_CASE(a_watch_ended_at_once_backs_off) {
  struct Row {
    const char* given;
    std::chrono::milliseconds lasted;
    int events;
    std::string actions;
  };
  const Row rows[] = {
      {"ended at once with no event", 0ms, 0, "sleep"},
      {"ended after 900 ms with no event", 900ms, 0, "sleep"},
      {"ended at once after an event", 0ms, 1, "watch(rv=11)"},
      {"ended after a second with no event", 1000ms, 0, "watch(rv=10)"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) {
      auto ref = watching();  // watching from rv 10 since T0
      if (r.events > 0) ref.on_event(T0, ev(EventType::Modified, "a", "11"));
      BOOST_TEST(show(ref.on_watch_ended(T0 + r.lasted)) == r.actions);
      BOOST_TEST(ref.short_watches() == (r.actions == "sleep" ? 1u : 0u));
    }
  }
  // Every watch ending at once: the waits grow (800 ms doubling), each then watches again
  // from the last version, and a watch that carries an event ends the run of them.
  auto ref = watching();
  auto t = T0;
  std::vector<long> backoffs;
  for (int i = 0; i < 5; ++i) {
    const auto acts = ref.on_watch_ended(t);
    BOOST_TEST_REQUIRE(show(acts) == "sleep");
    backoffs.push_back(ref.current_backoff().count());
    t += sleep_of(acts).duration;
    BOOST_TEST(show(ref.on_timer(t)) == "watch(rv=10)");
  }
  BOOST_TEST(backoffs == (std::vector<long>{800, 1600, 3200, 6400, 12800}), boost::test_tools::per_element());
  ref.on_event(t, ev(EventType::Bookmark, "", "12"));
  BOOST_TEST(show(ref.on_watch_ended(t)) == "watch(rv=12)");
  BOOST_TEST(ref.short_watches() == 5u);
}

BOOST_AUTO_TEST_CASE(expired_relists_then_falls_back_to_a_fresh_list) {
  auto r = watching();
  r.on_event(T0, ev(EventType::Added, "c", "11"));
  // HTTP 410 on the watch (or an ERROR event): relist at the last version...
  ApiError gone(ErrorKind::Expired, 410, "Expired", "too old resource version");
  BOOST_TEST(show(r.on_watch_failed(T0, gone)) == "list(rv=11,NotOlderThan)");
  // ...which is too old for the list as well: a fresh, consistent list.
  BOOST_TEST(show(r.on_list_failed(T0, gone)) == "list(rv=-)");
  BOOST_TEST(r.relists() == 2u);
  // The relist no longer has b (deleted while we were away): it names only a and c, and
  // its ListDone makes the cache turn the missing b into a delete (see object_cache
  // tests). The first list was 1, the two relists 2 and 3.
  const auto acts = r.on_list_page(T0, {obj("a", "5"), obj("c", "11")}, "50", "");
  BOOST_TEST(show(acts) == "listed(2@3) list-done(@3) watch(rv=50)");
}

BOOST_AUTO_TEST_CASE(backoff_grows_caps_honours_retry_after_and_resets) {
  auto r = make();
  r.start(T0);
  ApiError down(ErrorKind::ServiceUnavailable, 503, {}, "down");
  std::vector<long> backoffs;
  auto t = T0;
  for (int i = 0; i < 8; ++i) {
    const auto acts = r.on_list_failed(t, down);
    BOOST_TEST(show(acts) == "sleep");
    backoffs.push_back(r.current_backoff().count());
    BOOST_TEST(show(r.on_timer(t)) == "list(rv=0)");
  }
  const std::vector<long> expected = {800, 1600, 3200, 6400, 12800, 25600, 30000, 30000};
  BOOST_TEST(backoffs == expected, boost::test_tools::per_element());
  // Jitter: the sleep is between the backoff and 1.5 times it (random() = 0.5 → 1.25x).
  auto acts = r.on_list_failed(t, down);
  BOOST_TEST(sleep_of(acts).duration.count() == 37500);
  r.on_timer(t);
  // Retry-After longer than the backoff wins.
  ApiError slow(ErrorKind::TooManyRequests, 429, {}, "slow down", {}, std::chrono::seconds(90));
  acts = r.on_list_failed(t, slow);
  BOOST_TEST(sleep_of(acts).duration.count() == 90000);
  r.on_timer(t);
  // Two healthy minutes reset the backoff.
  r.on_list_page(t + 3min, {}, "5", "");
  BOOST_TEST(r.current_backoff().count() == 0);
}

BOOST_AUTO_TEST_CASE(inputs_out_of_phase_are_ignored) {
  auto r = make();
  r.start(T0);
  BOOST_TEST(show(r.on_event(T0, ev(EventType::Added, "a", "1"))) == "");
  BOOST_TEST(show(r.on_watch_ended(T0)) == "");
  BOOST_TEST(show(r.on_timer(T0)) == "");
  auto w = watching();
  BOOST_TEST(show(w.on_list_page(T0, {}, "1", "")) == "");
}

BOOST_AUTO_TEST_CASE(streaming_list_replaces_at_the_end_bookmark_and_watches_on) {
  auto r = make_streaming();
  const auto start = r.start(T0);
  BOOST_TEST(show(start) == "watch(rv=-,initial-events,NotOlderThan)");
  BOOST_TEST(std::get<Watch>(start[0]).options.allow_watch_bookmarks);
  BOOST_TEST(*std::get<Watch>(start[0]).options.timeout_seconds == 60);
  BOOST_TEST(r.collecting());
  BOOST_TEST(to_string(r.phase()) == "streaming");
  // Each initial event is applied as it arrives, as part of list 1.
  BOOST_TEST(show(r.on_event(T0, ev(EventType::Added, "a", "5"))) == "listed(1@1)");
  BOOST_TEST(show(r.on_event(T0, ev(EventType::Added, "b", "7"))) == "listed(1@1)");
  BOOST_TEST(show(r.on_event(T0, ev(EventType::Added, "c", "8"))) == "listed(1@1)");
  BOOST_TEST(show(r.on_event(T0, ev(EventType::Deleted, "c", "8"))) == "remove");  // never sent; handled
  BOOST_TEST(show(r.on_event(T0, ev(EventType::Bookmark, "", "9"))) == "");        // not the end
  BOOST_TEST(!r.synced());
  BOOST_TEST(show(r.on_event(T0, end_bookmark("10"))) == "list-done(@1)");
  BOOST_TEST(r.synced());
  BOOST_TEST(!r.collecting());
  BOOST_TEST(r.last_resource_version() == "10");
  // The same stream goes on as the watch.
  BOOST_TEST(show(r.on_event(T0, ev(EventType::Modified, "a", "11"))) == "upsert");
  BOOST_TEST(show(r.on_watch_ended(T0)) == "watch(rv=11)");
  // A later relist (410) streams again, at the last version.
  ApiError gone(ErrorKind::Expired, 410, "Expired", "too old resource version");
  BOOST_TEST(show(r.on_watch_failed(T0, gone)) == "watch(rv=11,initial-events,NotOlderThan)");
  // Too old for the streaming list as well: the most recent state.
  BOOST_TEST(show(r.on_event(T0, error_event(410, "Expired"))) == "watch(rv=-,initial-events,NotOlderThan)");
  BOOST_TEST(r.relists() == 2u);
}

BOOST_AUTO_TEST_CASE(packed_objects_reach_the_store_as_they_came) {
  // A packing decoder's event (watch/simd_pack.hpp): the Upsert carries its bytes and key,
  // in a streaming list (marked with the list) and in the watch; the version is the packed
  // object's (an ADDED or MODIFIED event's object is empty, a DELETED one's has metadata).
  const std::string bytes = "packed", key = "llm/a";
  auto packed_event = [&](EventType t, const char* rv) {
    WatchEvent e = t == EventType::Deleted ? ev(t, "a", rv) : WatchEvent{t, {}, {}};
    e.packed = PackedObject{key, bytes, rv};
    return e;
  };
  auto check = [&](const Actions& acts, std::uint64_t list) {
    BOOST_REQUIRE(acts.size() == 1u);
    const auto* u = std::get_if<Upsert>(&acts[0]);
    BOOST_REQUIRE(u != nullptr);
    BOOST_TEST(u->list == list);
    BOOST_REQUIRE(u->packed.has_value());
    BOOST_TEST(u->packed->key == key);
    BOOST_TEST(u->packed->bytes == bytes);
  };
  auto s = make_streaming();
  s.start(T0);
  check(s.on_event(T0, packed_event(EventType::Added, "5")), 1);
  s.on_event(T0, end_bookmark("6"));
  check(s.on_event(T0, packed_event(EventType::Modified, "7")), 0);
  BOOST_TEST(s.last_resource_version() == "7");
  auto w = watching();
  check(w.on_event(T0, packed_event(EventType::Added, "11")), 0);
  BOOST_TEST(w.last_resource_version() == "11");
  // Not an Upsert: nothing to carry.
  BOOST_TEST(show(w.on_event(T0, packed_event(EventType::Deleted, "12"))) == "remove");
}

BOOST_AUTO_TEST_CASE(streaming_list_falls_back_to_pages) {
  struct Row {
    const char* given;
    std::function<Actions(Reflector&)> input;
    std::string actions;
    bool streaming_after;
  };
  const Row rows[] = {
      {"refused (422 Invalid)",
       [](Reflector& r) { return r.on_watch_failed(T0, ApiError(ErrorKind::Invalid, 422, "Invalid", "sendInitialEvents")); },
       "list(rv=0)", false},
      {"refused (400)", [](Reflector& r) { return r.on_watch_failed(T0, ApiError(ErrorKind::BadRequest, 400, {}, "no")); },
       "list(rv=0)", false},
      {"refused in an ERROR event", [](Reflector& r) { return r.on_event(T0, error_event(422, "Invalid")); }, "list(rv=0)",
       false},
      {"the stream ended before its end bookmark (a server that ignores the parameter)",
       [](Reflector& r) {
         r.on_event(T0, ev(EventType::Added, "a", "5"));
         return r.on_watch_ended(T0);
       },
       "list(rv=0)", false},
      {"a transient failure: wait, then stream again",
       [](Reflector& r) {
         const auto acts = r.on_watch_failed(T0, ApiError(ErrorKind::ServiceUnavailable, 503, {}, "down"));
         if (show(acts) != "sleep") return acts;
         return r.on_timer(T0 + 1s);
       },
       "watch(rv=-,initial-events,NotOlderThan)", true},
      {"a dropped connection: the same",
       [](Reflector& r) {
         r.on_watch_failed(T0, ApiError(ErrorKind::Transport, 0, {}, "reset"));
         return r.on_timer(T0 + 1s);
       },
       "watch(rv=-,initial-events,NotOlderThan)", true},
      {"429: the same", [](Reflector& r) {
         r.on_watch_failed(T0, ApiError(ErrorKind::TooManyRequests, 429, {}, "slow"));
         return r.on_timer(T0 + 1s);
       },
       "watch(rv=-,initial-events,NotOlderThan)", true},
  };
  for (const auto& row : rows) {
    BOOST_TEST_CONTEXT(row.given) {
      auto r = make_streaming();
      r.start(T0);
      BOOST_TEST(show(row.input(r)) == row.actions);
      BOOST_TEST(r.streaming() == row.streaming_after);
      if (!row.streaming_after) {
        // Paged from now on: the list completes as usual, and the next relist is paged too.
        BOOST_TEST(show(r.on_list_page(T0, {obj("a", "5")}, "20", "")) == "listed(1@2) list-done(@2) watch(rv=20)");
        ApiError gone(ErrorKind::Expired, 410, "Expired", "too old");
        BOOST_TEST(show(r.on_watch_failed(T0, gone)) == "list(rv=20,NotOlderThan)");
      }
    }
  }
}

// Issue 19: what the reflector reports, step by step (each step's Reports, " | " between
// steps): every list applied, the first one included, says so with the reason it was
// made, and each failure, expiry and restart has its own kind.
BOOST_AUTO_TEST_CASE(reports_say_what_happened_typed) {
  using Steps = std::vector<std::function<Actions(Reflector&)>>;
  const ApiError gone(ErrorKind::Expired, 410, "Expired", "too old resource version");
  const ApiError down(ErrorKind::ServiceUnavailable, 503, {}, "down");
  const ApiError drop(ErrorKind::Transport, 0, {}, "connection reset");
  auto first_list = [](Reflector& r) { return r.on_list_page(T0, {obj("a", "5")}, "10", ""); };
  auto relist = [](Reflector& r) { return r.on_list_page(T0, {obj("a", "5")}, "50", ""); };
  struct Row {
    const char* given;
    bool streaming;
    Steps steps;
    std::string reports;
  };
  const Row rows[] = {
      {"the first list", false, {first_list}, "listed(initial)"},
      {"the first list fails, then succeeds", false,
       {[&](Reflector& r) { return r.on_list_failed(T0, down); }, [](Reflector& r) { return r.on_timer(T0 + 2s); },
        first_list},
       "list failed(initial) |  | listed(initial)"},
      {"the first list's continue token expires: still the first list", false,
       {[&](Reflector& r) { return r.on_list_failed(T0, gone); }, first_list}, "list expired(initial) | listed(initial)"},
      {"a watch ended by the server", false, {first_list, [](Reflector& r) { return r.on_watch_ended(T0 + 5s); }},
       "listed(initial) | watch ended"},
      {"a watch ended at once", false, {first_list, [](Reflector& r) { return r.on_watch_ended(T0); }},
       "listed(initial) | watch ended at once"},
      {"a dropped watch", false, {first_list, [&](Reflector& r) { return r.on_watch_failed(T0, drop); }},
       "listed(initial) | watch failed"},
      {"an ERROR event (500)", false, {first_list, [](Reflector& r) { return r.on_event(T0, error_event(500, "InternalError")); }},
       "listed(initial) | watch failed"},
      {"an ERROR event 410: a relist", false,
       {first_list, [](Reflector& r) { return r.on_event(T0, error_event(410, "Expired")); }, relist},
       "listed(initial) | watch expired | listed(expired)"},
      {"HTTP 410, then the relist at that version is too old", false,
       {first_list, [&](Reflector& r) { return r.on_watch_failed(T0, gone); },
        [&](Reflector& r) { return r.on_list_failed(T0, gone); }, relist},
       "listed(initial) | watch expired | list expired(expired) | listed(expired)"},
      {"the relist fails and is made again", false,
       {first_list, [&](Reflector& r) { return r.on_watch_failed(T0, gone); },
        [&](Reflector& r) { return r.on_list_failed(T0, down); }, [](Reflector& r) { return r.on_timer(T0 + 2s); }, relist},
       "listed(initial) | watch expired | list failed(expired) |  | listed(expired)"},
      {"a streaming list", true, {[](Reflector& r) { return r.on_event(T0, end_bookmark("10")); }}, "listed(initial)"},
      {"a streaming list refused", true,
       {[](Reflector& r) { return r.on_watch_failed(T0, ApiError(ErrorKind::Invalid, 422, "Invalid", "no")); }, first_list},
       "list failed(initial) streaming list unavailable | listed(initial)"},
      {"a streaming list that never ends", true, {[](Reflector& r) { return r.on_watch_ended(T0); }},
       "streaming list unavailable"},
      {"a streaming list failing for a while", true, {[&](Reflector& r) { return r.on_watch_failed(T0, down); }},
       "list failed(initial)"},
      {"a streaming relist after 410", true,
       {[](Reflector& r) { return r.on_event(T0, end_bookmark("10")); }, [&](Reflector& r) { return r.on_watch_failed(T0, gone); },
        [](Reflector& r) { return r.on_event(T0, end_bookmark("60")); }},
       "listed(initial) | watch expired | listed(expired)"},
  };
  for (const auto& row : rows) {
    BOOST_TEST_CONTEXT(row.given) {
      auto r = row.streaming ? make_streaming() : make();
      BOOST_TEST(reports(r.start(T0)) == "");
      std::string got;
      for (std::size_t i = 0; i < row.steps.size(); ++i) got += (i ? " | " : "") + reports(row.steps[i](r));
      BOOST_TEST(got == row.reports);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_report_carries_the_error_and_the_wait) {
  auto r = watching();
  const ApiError drop(ErrorKind::Transport, 0, {}, "connection reset");
  const auto acts = r.on_watch_failed(T0, drop);
  BOOST_TEST_REQUIRE(std::holds_alternative<Report>(acts.front()));  // before the request it leads to
  const auto& e = std::get<Report>(acts.front()).event;
  BOOST_TEST(e.detail == std::string(drop.what()));
  BOOST_TEST(e.wait.count() == sleep_of(acts).duration.count());
  BOOST_TEST(e.wait.count() > 0);
  // A list's Report comes between its ListDone and the watch.
  auto l = make();
  l.start(T0);
  const auto done = l.on_list_page(T0, {}, "3", "");
  BOOST_TEST_REQUIRE(done.size() == 3u);
  BOOST_TEST(std::holds_alternative<ListDone>(done[0]));
  BOOST_TEST(std::holds_alternative<Report>(done[1]));
  BOOST_TEST(std::holds_alternative<Watch>(done[2]));
}

BOOST_AUTO_TEST_SUITE_END()
