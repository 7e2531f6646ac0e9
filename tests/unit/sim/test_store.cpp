#include "sim/foreman.hpp"
#include "sim/store.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

namespace json = boost::json;
using namespace fdb::sim;
using namespace std::chrono_literals;

namespace {
const Clock::time_point T0 = Clock::time_point(std::chrono::seconds(1'800'000'000));

json::object wl(const std::string& name, json::object labels = {}) {
  return json::object{{"apiVersion", "foreman.llmkube.dev/v1alpha1"},
                      {"kind", "Workload"},
                      {"metadata", json::object{{"name", name}, {"labels", labels}}},
                      {"spec", json::object{{"repo", "o/r"}}},
                      {"status", json::object{{"phase", "Planning"}}}};
}
json::object task(const std::string& name, const std::string& owner_uid) {
  return json::object{{"apiVersion", "foreman.llmkube.dev/v1alpha1"},
                      {"kind", "AgenticTask"},
                      {"metadata", json::object{{"name", name},
                                                {"ownerReferences", json::array{json::object{{"uid", owner_uid},
                                                                                             {"kind", "Workload"},
                                                                                             {"name", "w"},
                                                                                             {"controller", true}}}}}}};
}
struct Recorder {
  std::vector<std::string> seen;  // "TYPE kind/name"
  void attach(Store& s) {
    s.on_event = [this](const std::shared_ptr<const Event>& e) { seen.push_back(e->type + " " + e->res->kind + "/" + e->meta.name); };
  }
};
}  // namespace

BOOST_AUTO_TEST_SUITE(sim_store)

BOOST_AUTO_TEST_CASE(create_sets_metadata_and_drops_status) {
  Store s;
  auto r = s.create(workloads(), "llm", wl("a"), T0);
  BOOST_REQUIRE(r);
  auto o = r.object.parse();
  const auto& md = o["metadata"].as_object();
  BOOST_TEST(md.at("resourceVersion").as_string() == "1");
  BOOST_TEST(md.at("namespace").as_string() == "llm");
  BOOST_TEST(md.at("generation").as_int64() == 1);
  BOOST_TEST(md.at("uid").as_string().size() == 36U);
  BOOST_TEST(md.at("creationTimestamp").as_string() == format_time(T0));
  BOOST_TEST(!o.contains("status"));  // status subresource: create ignores status
  BOOST_TEST(s.create(workloads(), "llm", wl("b"), T0, true).object.parse().contains("status"));
}

BOOST_AUTO_TEST_CASE(create_errors_table) {
  Store s;
  BOOST_REQUIRE(s.create(workloads(), "llm", wl("taken"), T0));
  struct Row {
    std::string name;
    std::string ns;
    int code;
    std::string reason;
  } rows[] = {
      {"taken", "llm", 409, "AlreadyExists"},
      {"Upper", "llm", 422, "Invalid"},
      {"under_score", "llm", 422, "Invalid"},
      {"-lead", "llm", 422, "Invalid"},
      {std::string(64, 'a'), "llm", 0, ""},  // subdomain rules: 253 allowed
      {std::string(254, 'a'), "llm", 422, "Invalid"},
      {"a.b.c", "llm", 0, ""},
      {"ok", "Bad_NS", 422, "Invalid"},
      {"", "llm", 422, "Invalid"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.name << " in " << r.ns) {
      auto res = s.create(workloads(), r.ns, wl(r.name), T0);
      if (r.code == 0) {
        BOOST_TEST(bool(res));
      } else {
        BOOST_REQUIRE(res.error);
        BOOST_TEST(res.error->code == r.code);
        BOOST_TEST(res.error->reason == r.reason);
      }
    }
  }
  auto dup = s.create(workloads(), "llm", wl("taken"), T0);
  BOOST_TEST(dup.error->message == "workloads.foreman.llmkube.dev \"taken\" already exists");
  BOOST_TEST(dup.error->details.at("name").as_string() == "taken");
  auto wrong_kind = wl("k");
  wrong_kind["kind"] = "AgenticTask";
  BOOST_TEST(s.create(workloads(), "llm", wrong_kind, T0).error->code == 400);
  auto gen = wl("");
  gen["metadata"].as_object().erase("name");
  gen["metadata"].as_object()["generateName"] = "wl-x-";
  auto g = s.create(workloads(), "llm", gen, T0);
  BOOST_REQUIRE(g);
  BOOST_TEST(g.object.meta.name.rfind("wl-x-", 0) == 0U);
  BOOST_TEST(g.object.meta.name.size() == 10U);
}

BOOST_AUTO_TEST_CASE(update_conflict_status_and_generation) {
  Store s;
  auto a = s.create(workloads(), "llm", wl("a"), T0);
  auto obj = a.object.parse();
  // Main endpoint ignores status; spec change bumps generation.
  obj["spec"].as_object()["repo"] = "o/other";
  obj["status"] = json::object{{"phase", "Completed"}};
  auto u = s.update(workloads(), "llm", "a", obj, false, T0);
  BOOST_REQUIRE(u);
  auto uo = u.object.parse();
  BOOST_TEST(!uo.contains("status"));
  BOOST_TEST(uo["metadata"].as_object()["generation"].as_int64() == 2);
  // The stale resourceVersion now conflicts.
  auto stale = s.update(workloads(), "llm", "a", obj, false, T0);
  BOOST_REQUIRE(stale.error);
  BOOST_TEST(stale.error->code == 409);
  BOOST_TEST(stale.error->reason == "Conflict");
  // /status changes only status and keeps generation.
  uo["status"] = json::object{{"phase", "Dispatched"}};
  uo["spec"].as_object()["repo"] = "ignored/by-status";
  auto st = s.update(workloads(), "llm", "a", uo, true, T0);
  BOOST_REQUIRE(st);
  auto so = st.object.parse();
  BOOST_TEST(so["status"].as_object()["phase"].as_string() == "Dispatched");
  BOOST_TEST(so["spec"].as_object()["repo"].as_string() == "o/other");
  BOOST_TEST(so["metadata"].as_object()["generation"].as_int64() == 2);
  // A no-op write does not bump the resourceVersion.
  auto rv = s.resource_version();
  BOOST_REQUIRE(s.update(workloads(), "llm", "a", so, true, T0));
  BOOST_TEST(s.resource_version() == rv);
  BOOST_TEST(s.update(workloads(), "llm", "nope", so, false, T0).error->code == 404);
}

BOOST_AUTO_TEST_CASE(patch_content_types) {
  Store s;
  BOOST_REQUIRE(s.create(workloads(), "llm", wl("a"), T0));
  BOOST_REQUIRE(s.create(*find_resource("", "v1", "configmaps"), "llm",
                         json::object{{"metadata", json::object{{"name", "cm"}}}, {"data", json::object{{"k", "v"}}}}, T0));
  struct Row {
    const ResourceInfo* res;
    std::string name, ct, body;
    int code;  // 0 = ok
  } rows[] = {
      {&workloads(), "a", "application/merge-patch+json", R"({"metadata":{"labels":{"x":"1"}}})", 0},
      {&workloads(), "a", "application/json-patch+json", R"([{"op":"add","path":"/spec/intent","value":"t"}])", 0},
      {&workloads(), "a", "application/strategic-merge-patch+json", R"({"spec":{}})", 415},
      {&workloads(), "a", "text/plain", "x", 415},
      {&workloads(), "a", "application/merge-patch+json", "{not json", 400},
      {&workloads(), "a", "application/json-patch+json", R"([{"op":"remove","path":"/nope"}])", 422},
      {&workloads(), "a", "application/merge-patch+json", R"({"metadata":{"resourceVersion":"1"}})", 409},
      {&workloads(), "missing", "application/merge-patch+json", "{}", 404},
      {find_resource("", "v1", "configmaps"), "cm", "application/strategic-merge-patch+json", R"({"data":{"k2":"v"}})", 0},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.ct << " " << r.body) {
      auto res = s.patch(*r.res, "llm", r.name, r.ct, r.body, false, T0);
      BOOST_TEST((res.error ? res.error->code : 0) == r.code);
    }
  }
  auto o = s.get(workloads(), "llm", "a").object.parse();
  BOOST_TEST(o["metadata"].as_object()["labels"].as_object()["x"].as_string() == "1");
  BOOST_TEST(o["spec"].as_object()["intent"].as_string() == "t");
}

BOOST_AUTO_TEST_CASE(no_op_patches_change_nothing) {
  // A patch that leaves the object as it was (as the real server stores it: ObjectMeta
  // drops empty labels, annotations, finalizers and ownerReferences) keeps its
  // resourceVersion and sends no event; one that changes it does both.
  struct Row {
    std::string ct, body;
    bool changes;
  } rows[] = {
      {"application/merge-patch+json", R"({})", false},
      {"application/merge-patch+json", R"({"metadata":{"annotations":{"k":"v"}}})", false},
      {"application/merge-patch+json", R"({"metadata":{"labels":{"x":"1"}}})", false},
      {"application/merge-patch+json", R"({"metadata":{"annotations":{"absent":null}}})", false},
      {"application/merge-patch+json", R"({"metadata":{"finalizers":[]}})", false},
      {"application/merge-patch+json", R"({"metadata":{"ownerReferences":[]}})", false},
      {"application/merge-patch+json", R"({"metadata":{"finalizers":null,"managedFields":[]}})", false},
      {"application/merge-patch+json", R"({"spec":{"repo":"o/r"}})", false},
      {"application/json-patch+json", R"([{"op":"add","path":"/metadata/finalizers","value":[]}])", false},
      {"application/json-patch+json", R"([{"op":"replace","path":"/metadata/labels/x","value":"1"}])", false},
      {"application/merge-patch+json", R"({"metadata":{"annotations":{"k":"w"}}})", true},
      {"application/merge-patch+json", R"({"metadata":{"finalizers":["f"]}})", true},
      {"application/merge-patch+json", R"({"metadata":{"finalizers":[]}})", true},
  };
  Store s;
  Recorder rec;
  rec.attach(s);
  auto body = wl("a", json::object{{"x", "1"}});
  body["metadata"].as_object()["annotations"] = json::object{{"k", "v"}};
  BOOST_REQUIRE(s.create(workloads(), "llm", body, T0));
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.ct << " " << r.body) {
      const auto rv = s.resource_version();
      const auto events = rec.seen.size();
      auto res = s.patch(workloads(), "llm", "a", r.ct, r.body, false, T0);
      BOOST_TEST_REQUIRE(!res.error);
      BOOST_TEST(s.resource_version() == (r.changes ? rv + 1 : rv));
      BOOST_TEST(res.object.meta.rv == s.resource_version());
      BOOST_TEST(rec.seen.size() == (r.changes ? events + 1 : events));
      const auto md = res.object.parse()["metadata"].as_object();
      for (const char* k : {"finalizers", "ownerReferences", "managedFields"}) {
        const auto* v = md.if_contains(k);
        BOOST_TEST((v == nullptr || (v->is_array() && !v->as_array().empty())), k << " is kept empty");
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(list_selectors_limit_continue) {
  Store s(Store::Options{5, 0ms});
  for (int i = 0; i < 6; ++i)
    BOOST_REQUIRE(s.create(workloads(), i < 4 ? "a" : "b", wl("w" + std::to_string(i), json::object{{"n", std::to_string(i % 2)}}), T0));
  auto count = [&](Filter f, ListOptions lo = {}) {
    auto l = s.list(f, lo);
    BOOST_REQUIRE(!l.error);
    return l.items;
  };
  Filter all{&workloads(), std::nullopt, {}, {}};
  BOOST_TEST(count(all) == 6U);
  Filter ns_a{&workloads(), std::string("a"), {}, {}};
  BOOST_TEST(count(ns_a) == 4U);
  Filter odd{&workloads(), std::nullopt, fdb::kube::LabelSelector::parse("n=1"), {}};
  BOOST_TEST(count(odd) == 3U);
  Filter by_name{&workloads(), std::nullopt, {}, FieldSelector::parse("metadata.name=w5")};
  BOOST_TEST(count(by_name) == 1U);
  Filter not_ns{&workloads(), std::nullopt, {}, FieldSelector::parse("metadata.namespace!=a")};
  BOOST_TEST(count(not_ns) == 2U);
  BOOST_CHECK_THROW(FieldSelector::parse("spec.repo=x"), ApiError);
  // Pages of 4 then 2, with a continue token.
  auto p1 = s.list(all, ListOptions{4, ""});
  BOOST_TEST(p1.items == 4U);
  auto body = json::parse(p1.body).as_object();
  BOOST_TEST(body["kind"].as_string() == "WorkloadList");
  std::string cont(body["metadata"].as_object()["continue"].as_string());
  BOOST_TEST(body["metadata"].as_object()["remainingItemCount"].as_int64() == 2);
  auto p2 = s.list(all, ListOptions{4, cont});
  BOOST_TEST(p2.items == 2U);
  BOOST_TEST(!json::parse(p2.body).as_object()["metadata"].as_object().contains("continue"));
  BOOST_TEST(s.list(all, ListOptions{4, "garbage!"}).error->code == 400);
  // History of 5: after more writes the snapshot is compacted: 410 Expired.
  for (int i = 0; i < 6; ++i) BOOST_REQUIRE(s.patch(workloads(), "a", "w0", "application/merge-patch+json",
                                                    R"({"metadata":{"labels":{"i":")" + std::to_string(i) + "\"}}}", false, T0));
  auto expired = s.list(all, ListOptions{4, cont});
  BOOST_REQUIRE(expired.error);
  BOOST_TEST(expired.error->code == 410);
  BOOST_TEST(expired.error->reason == "Expired");
}

BOOST_AUTO_TEST_CASE(history_and_expiry) {
  Store s(Store::Options{3, 0ms});
  for (int i = 0; i < 5; ++i) BOOST_REQUIRE(s.create(workloads(), "llm", wl("w" + std::to_string(i)), T0));
  struct Row {
    std::uint64_t from;
    int events;  // -1: expired
  } rows[] = {{0, -1}, {1, -1}, {2, 3}, {3, 2}, {4, 1}, {5, 0}, {9, 0}};
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT("from " << r.from) {
      auto h = s.since(r.from);
      BOOST_TEST((h ? static_cast<int>(h->size()) : -1) == r.events);
      if (h && !h->empty()) BOOST_TEST(h->front()->rv == r.from + 1);
    }
  }
  s.expire_history();
  BOOST_TEST(!s.since(4));
  BOOST_TEST(s.since(5)->empty());
}

BOOST_AUTO_TEST_CASE(watch_filter_classify) {
  Filter f{&workloads(), std::string("llm"), fdb::kube::LabelSelector::parse("lane=local"), {}};
  Meta in{"llm", "a", "u", 2, {{"lane", "local"}}, {}, {}, false};
  Meta out = in;
  out.labels["lane"] = "cloud";
  Meta other_ns = in;
  other_ns.ns = "x";
  struct Row {
    std::string type;
    Meta now;
    std::optional<Meta> old;
    std::optional<std::string> seen;
  } rows[] = {
      {"ADDED", in, std::nullopt, "ADDED"},
      {"ADDED", out, std::nullopt, std::nullopt},
      {"ADDED", other_ns, std::nullopt, std::nullopt},
      {"MODIFIED", in, in, "MODIFIED"},
      {"MODIFIED", out, in, "DELETED"},
      {"MODIFIED", in, out, "ADDED"},
      {"MODIFIED", out, out, std::nullopt},
      {"DELETED", in, std::nullopt, "DELETED"},
      {"DELETED", out, std::nullopt, std::nullopt},
  };
  for (const auto& r : rows) {
    Event ev;
    ev.type = r.type;
    ev.res = &workloads();
    ev.meta = r.now;
    ev.old = r.old;
    BOOST_TEST(f.classify(ev).value_or("-") == r.seen.value_or("-"));
  }
  Event task_ev;
  task_ev.type = "ADDED";
  task_ev.res = &agentictasks();
  task_ev.meta = in;
  BOOST_TEST(!f.classify(task_ev));
}

BOOST_AUTO_TEST_CASE(foreground_deletion_sequence) {
  Store s(Store::Options{100, 100ms});
  Recorder rec;
  auto owner = s.create(workloads(), "llm", wl("w"), T0);
  BOOST_REQUIRE(s.create(agentictasks(), "llm", task("w-code-1", owner.object.meta.uid), T0));
  BOOST_REQUIRE(s.create(agentictasks(), "llm", task("w-review-1-0", owner.object.meta.uid), T0));
  rec.attach(s);
  auto d = s.remove(workloads(), "llm", "w", DeleteOptions{"Foreground", {}, {}}, T0);
  BOOST_REQUIRE(d);
  auto o = d.object.parse()["metadata"].as_object();
  BOOST_TEST(o.contains("deletionTimestamp"));
  BOOST_TEST(o["finalizers"].as_array().front().as_string() == "foregroundDeletion");
  BOOST_TEST(rec.seen == std::vector<std::string>{"MODIFIED Workload/w"});
  // A second delete while terminating returns the object and changes nothing.
  BOOST_REQUIRE(s.remove(workloads(), "llm", "w", DeleteOptions{"Foreground", {}, {}}, T0));
  BOOST_TEST(rec.seen.size() == 1U);
  s.tick(T0 + 1ms);  // dependents go
  BOOST_TEST(s.count(agentictasks()) == 0U);
  BOOST_TEST(s.count(workloads()) == 1U);
  s.tick(T0 + 2ms);  // dependents gone now; the delay starts
  s.tick(T0 + 50ms);
  BOOST_TEST(s.count(workloads()) == 1U);
  s.tick(T0 + 103ms);
  BOOST_TEST(s.count(workloads()) == 0U);
  std::vector<std::string> want{"MODIFIED Workload/w", "DELETED AgenticTask/w-code-1", "DELETED AgenticTask/w-review-1-0",
                                "MODIFIED Workload/w", "DELETED Workload/w"};
  BOOST_TEST(rec.seen == want);
  // A new object of the same name is a new uid and may be created now.
  BOOST_TEST(bool(s.create(workloads(), "llm", wl("w"), T0)));
}

BOOST_AUTO_TEST_CASE(background_orphan_and_preconditions) {
  Store s;
  auto owner = s.create(workloads(), "llm", wl("w"), T0);
  BOOST_REQUIRE(s.create(agentictasks(), "llm", task("t", owner.object.meta.uid), T0));
  auto bad_uid = s.remove(workloads(), "llm", "w", DeleteOptions{"", std::string("other"), {}}, T0);
  BOOST_TEST(bad_uid.error->code == 409);
  BOOST_TEST(bad_uid.error->reason == "Conflict");
  auto bad_rv = s.remove(workloads(), "llm", "w", DeleteOptions{"", {}, std::string("999")}, T0);
  BOOST_TEST(bad_rv.error->code == 409);
  BOOST_TEST(s.remove(workloads(), "llm", "w", DeleteOptions{"Sideways", {}, {}}, T0).error->code == 422);
  BOOST_REQUIRE(s.remove(workloads(), "llm", "w", DeleteOptions{"Background", owner.object.meta.uid, {}}, T0));
  BOOST_TEST(s.count(workloads()) == 0U);
  BOOST_TEST(s.count(agentictasks()) == 0U);  // cascaded
  BOOST_TEST(s.remove(workloads(), "llm", "w", {}, T0).error->code == 404);
  // Orphan keeps the dependent and strips its ownerReference.
  auto o2 = s.create(workloads(), "llm", wl("w2"), T0);
  BOOST_REQUIRE(s.create(agentictasks(), "llm", task("t2", o2.object.meta.uid), T0));
  BOOST_REQUIRE(s.remove(workloads(), "llm", "w2", DeleteOptions{"Orphan", {}, {}}, T0));
  auto t2 = s.get(agentictasks(), "llm", "t2");
  BOOST_REQUIRE(t2);
  BOOST_TEST(t2.object.meta.owner_uids.empty());
}

BOOST_AUTO_TEST_CASE(finalizers_hold_deletion) {
  Store s;
  auto w = wl("f");
  w["metadata"].as_object()["finalizers"] = json::array{"example.com/hold"};
  BOOST_REQUIRE(s.create(workloads(), "llm", w, T0));
  auto d = s.remove(workloads(), "llm", "f", {}, T0);
  BOOST_REQUIRE(d);
  BOOST_TEST(d.object.meta.deleting);
  BOOST_TEST(s.count(workloads()) == 1U);
  BOOST_REQUIRE(s.patch(workloads(), "llm", "f", "application/merge-patch+json", R"({"metadata":{"finalizers":null}})", false, T0));
  BOOST_TEST(s.count(workloads()) == 0U);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(sim_store_leases)

BOOST_AUTO_TEST_CASE(micro_time_table) {
  const ResourceInfo& leases = *find_resource("coordination.k8s.io", "v1", "leases");
  struct Row {
    const char* spec;
    int code;  // 0 = accepted
  } rows[] = {
      {R"({"holderIdentity":"a","leaseDurationSeconds":15,"acquireTime":"2026-01-02T03:04:05.000000Z","renewTime":"2026-01-02T03:04:05.123456Z"})", 0},
      {R"({"renewTime":"2026-01-02T03:04:05.000000+02:00"})", 0},
      {R"({"renewTime":null,"holderIdentity":null})", 0},
      {R"({})", 0},
      {R"({"renewTime":"2026-01-02T03:04:05Z"})", 400},
      {R"({"renewTime":"2026-01-02T03:04:05.000Z"})", 400},
      {R"({"renewTime":"2026-01-02T03:04:05.0000000Z"})", 400},
      {R"({"renewTime":"2026-01-02 03:04:05.000000Z"})", 400},
      {R"({"acquireTime":12})", 400},
      {R"({"leaseDurationSeconds":"15"})", 400},
      {R"({"holderIdentity":5})", 400},
      {R"("x")", 400},
  };
  int i = 0;
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.spec) {
      Store s;
      json::object lease{{"metadata", json::object{{"name", "l" + std::to_string(i++)}}}, {"spec", json::parse(r.spec)}};
      auto c = s.create(leases, "llm", lease, T0);
      BOOST_TEST((c.error ? c.error->code : 0) == r.code);
      // The same check on update.
      Store s2;
      json::object ok{{"metadata", json::object{{"name", "l"}}}, {"spec", json::object{}}};
      BOOST_REQUIRE(s2.create(leases, "llm", ok, T0));
      ok["spec"] = json::parse(r.spec);
      auto u = s2.update(leases, "llm", "l", ok, false, T0);
      BOOST_TEST((u.error ? u.error->code : 0) == r.code);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
