#include "sim/schema.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>

namespace json = boost::json;
using namespace fdb::sim;

namespace {
const char* kCrd = R"(apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {plural: widgets, kind: Widget}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        required: [spec]
        properties:
          spec:
            type: object
            required: [size]
            properties:
              size: {type: integer}
              color: {type: string, enum: ["red", "True"]}
              tags: {type: array, items: {type: string}}
              labels: {type: object, additionalProperties: {type: string}}
              opaque: {type: object, x-kubernetes-preserve-unknown-fields: true}
              port: {x-kubernetes-int-or-string: true}
              note: {type: string, nullable: true}
              flag: {type: boolean}
          status:
            type: object
            properties:
              phase: {type: string}
)";
}  // namespace

BOOST_AUTO_TEST_SUITE(sim_schema)

BOOST_AUTO_TEST_CASE(prune_and_validate_table) {
  Crd crd = parse_crd(kCrd);
  BOOST_TEST(crd.group == "example.com");
  BOOST_TEST(crd.plural == "widgets");
  const Schema& s = crd.versions.at("v1");
  struct Row {
    const char* in;
    const char* out;     // after pruning
    const char* causes;  // "field:reason;..."
  } rows[] = {
      {R"({"spec":{"size":1}})", R"({"spec":{"size":1}})", ""},
      {R"({"spec":{"size":1,"extra":2},"junk":1})", R"({"spec":{"size":1}})", ""},
      {R"({"metadata":{"x":1},"kind":"W","spec":{"size":1}})", R"({"metadata":{"x":1},"kind":"W","spec":{"size":1}})", ""},
      {R"({"spec":{"size":1,"opaque":{"a":{"b":1}}}})", R"({"spec":{"size":1,"opaque":{"a":{"b":1}}}})", ""},
      {R"({"spec":{"size":1,"labels":{"a":"b"}}})", R"({"spec":{"size":1,"labels":{"a":"b"}}})", ""},
      {R"({"spec":{"size":1,"labels":{"a":1}}})", R"({"spec":{"size":1,"labels":{"a":1}}})", "spec.labels.a:FieldValueInvalid"},
      {R"({"spec":{"size":1,"color":null,"note":null}})", R"({"spec":{"size":1,"note":null}})", ""},
      {R"({"spec":{"size":1,"port":"http"}})", R"({"spec":{"size":1,"port":"http"}})", ""},
      {R"({"spec":{"size":1,"port":true}})", R"({"spec":{"size":1,"port":true}})", "spec.port:FieldValueInvalid"},
      {R"({"spec":{"size":"1"}})", R"({"spec":{"size":"1"}})", "spec.size:FieldValueInvalid"},
      {R"({"spec":{"size":1,"color":"blue"}})", R"({"spec":{"size":1,"color":"blue"}})", "spec.color:FieldValueNotSupported"},
      {R"({"spec":{"size":1,"color":"True"}})", R"({"spec":{"size":1,"color":"True"}})", ""},
      {R"({"spec":{"size":1,"tags":["a",2]}})", R"({"spec":{"size":1,"tags":["a",2]}})", "spec.tags[1]:FieldValueInvalid"},
      {R"({"spec":{}})", R"({"spec":{}})", "spec.size:FieldValueRequired"},
      {R"({})", R"({})", "spec:FieldValueRequired"},
      {R"({"spec":{"size":1},"status":{"phase":"x","bogus":1}})", R"({"spec":{"size":1},"status":{"phase":"x"}})", ""},
      {R"({"spec":[1]})", R"({"spec":[1]})", "spec:FieldValueInvalid"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.in) {
      json::object o = json::parse(r.in).as_object();
      auto causes = s.apply(o);
      BOOST_TEST(json::value(o) == json::parse(r.out));
      std::string got;
      for (const auto& c : causes) got += (got.empty() ? "" : ";") + c.field + ":" + c.reason;
      BOOST_TEST(got == r.causes);
    }
  }
}

BOOST_AUTO_TEST_CASE(bad_crds) {
  BOOST_CHECK_THROW(parse_crd("kind: ConfigMap\n"), CrdError);
  BOOST_CHECK_THROW(parse_crd("a: [unclosed\n"), CrdError);
  BOOST_CHECK_THROW(parse_crd("kind: CustomResourceDefinition\nspec: {}\n"), CrdError);
  BOOST_CHECK_THROW(load_crds("/nonexistent/crds"), CrdError);
}

// The published Foreman CRDs, when the environment points at them (the repo does not hold them).
BOOST_AUTO_TEST_CASE(foreman_crds) {
  const char* dir = std::getenv("FDB_CRDS_DIR");
  if (dir == nullptr || !std::filesystem::is_directory(dir)) {
    BOOST_TEST_MESSAGE("FDB_CRDS_DIR not set: the Foreman CRD checks are skipped");
    return;
  }
  auto crds = load_crds(dir);
  BOOST_REQUIRE(crds.size() == 2U);
  const Crd* wl = crds[0].plural == "workloads" ? &crds[0] : &crds[1];
  json::object o = json::parse(R"({"spec":{"intent":"x","repo":"o/r","issues":[7],"reviseFromBranch":"b",
      "pipeline":[{"name":"code-1","kind":"issue-fix","agentRef":{"name":"coder"},
                   "payload":{"repo":"o/r","issue":7,"branch":"b","prompt":"p","allowOverwrite":true}}]},
      "status":{"phase":"Failed","conditions":[{"type":"Completed","status":"False","reason":"ChildrenFailed",
                "message":"m","lastTransitionTime":"2026-01-01T00:00:00Z"}]}})").as_object();
  auto causes = wl->versions.at("v1alpha1").apply(o);
  BOOST_TEST(causes.empty());
  BOOST_TEST(!o["spec"].as_object().contains("reviseFromBranch"));
  BOOST_TEST(o["spec"].as_object()["pipeline"].as_array()[0].as_object()["payload"].as_object().contains("prompt"));
}

BOOST_AUTO_TEST_SUITE_END()
