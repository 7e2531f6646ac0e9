// The Workload builder's manifests, each checked against the real Workload CRD: the issue
// batch and the pipeline (with feedback), their variants, overwrite, the prompt cut, and
// the schema checker itself.
#include "workload_fixture.hpp"
#include "dispatch/workload.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

using namespace fdb::dispatch;
namespace json = boost::json;
using fdb::test::at;
using fdb::test::expect_valid;
using fdb::test::issue;

BOOST_AUTO_TEST_SUITE(bridge_workload)

BOOST_AUTO_TEST_CASE(issue_batch_manifest) {
  WorkloadSettings s;
  BuildRequest req{issue()};
  const auto m = build_workload(req, s);
  const auto expect = json::parse(R"({
    "apiVersion": "foreman.llmkube.dev/v1alpha1",
    "kind": "Workload",
    "metadata": {
      "name": "wl-misospace-dispatch-42",
      "namespace": "llm",
      "labels": {"created-by": "dispatch-bridge", "lane": "local"},
      "annotations": {"foreman.llmkube.dev/attempt": "1", "foreman.llmkube.dev/issue-id": "iss-42",
                      "foreman.llmkube.dev/agent-name": "foreman-coder"}
    },
    "spec": {
      "intent": "Fix the widget",
      "repo": "misospace/dispatch",
      "issues": [42],
      "coderAgentRef": {"name": "coder"},
      "reviewerAgentRefs": [{"name": "reviewer"}],
      "verifierAgentRef": {"name": "gate"}
    }
  })");
  BOOST_TEST(json::value(m) == expect, json::serialize(m));
  // Keys in a readable order.
  std::vector<std::string> keys;
  for (const auto& kv : m) keys.emplace_back(kv.key());
  BOOST_TEST(keys == (std::vector<std::string>{"apiVersion", "kind", "metadata", "spec"}), boost::test_tools::per_element());
  expect_valid(m);
}

BOOST_AUTO_TEST_CASE(issue_batch_variants) {
  struct Row {
    const char* given;
    std::function<void(WorkloadSettings&, BuildRequest&)> setup;
    std::function<void(const json::value&)> expect;
  };
  const Row rows[] = {
      {"verify off: no verifierAgentRef",
       [](WorkloadSettings& s, BuildRequest&) { s.verify_enabled = false; },
       [](const json::value& m) { BOOST_TEST(!at(m, {"spec"}).as_object().contains("verifierAgentRef")); }},
      {"revision coder for the lane",
       [](WorkloadSettings& s, BuildRequest&) { s.revision_coder_agents = {{"local", {"coder-revision"}}}; },
       [](const json::value& m) { BOOST_TEST(at(m, {"spec", "revisionCoderAgentRef", "name"}) == "coder-revision"); }},
      {"revision coder from *",
       [](WorkloadSettings& s, BuildRequest&) { s.revision_coder_agents = {{"*", {"rev"}}, {"cloud", {"x"}}}; },
       [](const json::value& m) { BOOST_TEST(at(m, {"spec", "revisionCoderAgentRef", "name"}) == "rev"); }},
      {"no revision coder configured",
       [](WorkloadSettings&, BuildRequest&) {},
       [](const json::value& m) { BOOST_TEST(!at(m, {"spec"}).as_object().contains("revisionCoderAgentRef")); }},
      {"self GO",
       [](WorkloadSettings& s, BuildRequest&) { s.verdict_self_go = {"code-fix", "ci-policy"}; },
       [](const json::value& m) {
         BOOST_TEST(at(m, {"spec", "verdictPolicy"}) == json::parse(R"({"selfGO":["code-fix","ci-policy"]})"));
       }},
      {"gate profile exact",
       [](WorkloadSettings& s, BuildRequest&) {
         s.gate_profiles = json::parse(R"({"misospace/dispatch":{"language":"node","commands":{"test":"pnpm test"}},
                                          "*":{"language":"generic"}})").as_object();
       },
       [](const json::value& m) {
         BOOST_TEST(at(m, {"spec", "gateProfile"}) == json::parse(R"({"language":"node","commands":{"test":"pnpm test"}})"));
       }},
      {"gate profile *",
       [](WorkloadSettings& s, BuildRequest&) {
         s.gate_profiles = json::parse(R"({"other/repo":{"language":"go"},"*":{"language":"generic"}})").as_object();
       },
       [](const json::value& m) { BOOST_TEST(at(m, {"spec", "gateProfile"}) == json::parse(R"({"language":"generic"})")); }},
      {"no gate profile",
       [](WorkloadSettings& s, BuildRequest&) { s.gate_profiles = json::parse(R"({"other/repo":{}})").as_object(); },
       [](const json::value& m) { BOOST_TEST(!at(m, {"spec"}).as_object().contains("gateProfile")); }},
      {"attempt, infra attempts, namespace, agent name",
       [](WorkloadSettings& s, BuildRequest& r) {
         s.namespace_name = "foreman";
         s.agent_name = "bot";
         r.attempt = 3;
         r.infra_attempts = 2;
       },
       [](const json::value& m) {
         BOOST_TEST(at(m, {"metadata", "namespace"}) == "foreman");
         BOOST_TEST(at(m, {"metadata", "annotations"}) ==
                    json::parse(R"({"foreman.llmkube.dev/attempt":"3","foreman.llmkube.dev/issue-id":"iss-42",
                                    "foreman.llmkube.dev/agent-name":"bot","foreman.llmkube.dev/infra-attempts":"2"})"));
       }},
      {"lane alias in the label",
       [](WorkloadSettings&, BuildRequest& r) { r.issue.lane = "escalated"; },
       [](const json::value& m) { BOOST_TEST(at(m, {"metadata", "labels", "lane"}) == "frontier"); }},
      {"empty title: intent from repo and number",
       [](WorkloadSettings&, BuildRequest& r) { r.issue.title = " "; },
       [](const json::value& m) { BOOST_TEST(at(m, {"spec", "intent"}) == "misospace/dispatch#42"); }},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) {
      WorkloadSettings s;
      BuildRequest req{issue()};
      r.setup(s, req);
      const auto m = build_workload(req, s);
      r.expect(json::value(m));
      expect_valid(m);
    }
  }
}

BOOST_AUTO_TEST_CASE(pipeline_manifest_with_feedback) {
  WorkloadSettings s;
  s.revision_coder_agents = {{"*", {"rev"}}};  // ignored in pipeline mode
  s.gate_profiles = json::parse(R"({"*":{"language":"generic"}})").as_object();
  BuildRequest req{issue()};
  req.attempt = 2;
  req.feedback = "- Reviewer rejected the previous attempt (NO-GO). findings: missing_tests";
  const auto m = build_workload(req, s);
  const std::string branch = "foreman/wl-misospace-dispatch-42/issue-42";
  const std::string prompt = std::string(kFeedbackPrefix) + "\n" + req.feedback;
  json::object expect_spec = json::parse(R"({
    "intent": "Fix the widget",
    "repo": "misospace/dispatch",
    "issues": [42],
    "pipeline": [
      {"name": "code-42", "kind": "issue-fix", "agentRef": {"name": "coder"},
       "payload": {"repo": "misospace/dispatch", "issue": 42, "branch": "BRANCH", "prompt": "PROMPT"}},
      {"name": "verify-42", "kind": "verify", "agentRef": {"name": "gate"}, "dependsOn": ["code-42"],
       "payload": {"repo": "misospace/dispatch", "issue": 42, "branch": "BRANCH"}},
      {"name": "review-42-0", "kind": "review", "agentRef": {"name": "reviewer"}, "dependsOn": ["verify-42"],
       "payload": {"repo": "misospace/dispatch", "issue": 42, "branch": "BRANCH", "openPullRequest": true}}
    ],
    "gateProfile": {"language": "generic"}
  })").as_object();
  for (auto& step : expect_spec["pipeline"].as_array()) {
    auto& p = step.as_object()["payload"].as_object();
    p["branch"] = branch;
    if (p.contains("prompt")) p["prompt"] = prompt;
  }
  BOOST_TEST(json::value(m.at("spec")) == json::value(expect_spec), json::serialize(m.at("spec")));
  BOOST_TEST(m.at("metadata").at("annotations").at(kAttemptAnnotation) == "2");
  expect_valid(m);
}

BOOST_AUTO_TEST_CASE(pipeline_variants) {
  struct Row {
    const char* given;
    bool verify;
    std::string revise;
    std::vector<std::string> step_names;
    std::string review_depends;
  };
  const Row rows[] = {
      {"verify on, no branch", true, "", {"code-42", "verify-42", "review-42-0"}, "verify-42"},
      {"verify off", false, "", {"code-42", "review-42-0"}, "code-42"},
      {"branch pushed", true, "foreman/wl-misospace-dispatch-42/issue-42", {"code-42", "verify-42", "review-42-0"}, "verify-42"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) {
      WorkloadSettings s;
      s.verify_enabled = r.verify;
      BuildRequest req{issue()};
      req.feedback = "- something";
      req.revise_from_branch = r.revise;
      const auto m = build_workload(req, s);
      const auto& steps = m.at("spec").at("pipeline").as_array();
      std::vector<std::string> names;
      for (const auto& st : steps) names.emplace_back(st.at("name").as_string());
      BOOST_TEST(names == r.step_names, boost::test_tools::per_element());
      BOOST_TEST(steps.back().at("dependsOn") == json::array{json::string(r.review_depends)});
      const auto& code = steps.front().at("payload").as_object();
      if (r.revise.empty()) {
        BOOST_TEST(!code.contains("reviseFromBranch"));
        BOOST_TEST(!code.contains("branchStrategy"));
        BOOST_TEST(!code.contains("allowOverwrite"));
      } else {
        BOOST_TEST(code.at("reviseFromBranch") == json::value(r.revise));
        BOOST_TEST(code.at("branchStrategy") == "rebase");
        BOOST_TEST(code.at("allowOverwrite") == true);
      }
      BOOST_TEST(!m.at("spec").as_object().contains("reviseFromBranch"));  // not a Workload spec field
      BOOST_TEST(!m.at("spec").as_object().contains("verifierAgentRef"));
      expect_valid(m);
    }
  }
}

// Issue 18 item 3 (SPEC §3): allowOverwrite only with branch evidence, always with
// reviseFromBranch and branchStrategy rebase, never bare; mode × evidence.
BOOST_AUTO_TEST_CASE(allow_overwrite_matrix) {
  const std::string branch = "foreman/wl-misospace-dispatch-42/issue-42";
  struct Row {
    const char* given;
    int attempt;
    std::string feedback;
    std::string revise;
    bool pipeline;
    bool prompt;
    bool overwrite;  // the three fields
  };
  const Row rows[] = {
      {"first attempt", 1, "", "", false, false, false},
      {"retry, no feedback, no evidence", 2, "", "", false, false, false},
      {"retry, no feedback, branch pushed", 2, "", branch, true, false, true},
      {"retry, feedback, no evidence", 2, "- fix it", "", true, true, false},
      {"retry, feedback, branch pushed", 2, "- fix it", branch, true, true, true},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) {
      WorkloadSettings s;
      BuildRequest req{issue()};
      req.attempt = r.attempt;
      req.feedback = r.feedback;
      req.revise_from_branch = r.revise;
      BOOST_TEST(pipeline_mode(req) == r.pipeline);
      const auto m = build_workload(req, s);
      const auto& spec = m.at("spec").as_object();
      // Never anywhere outside the code step's payload.
      for (const char* k : {"allowOverwrite", "reviseFromBranch", "branchStrategy"}) BOOST_TEST(!spec.contains(k));
      BOOST_TEST(spec.contains("pipeline") == r.pipeline);
      BOOST_TEST(spec.contains("coderAgentRef") == !r.pipeline);
      if (r.pipeline) {
        const auto& steps = spec.at("pipeline").as_array();
        const auto& code = steps.front().at("payload").as_object();
        BOOST_TEST(code.contains("prompt") == r.prompt);
        BOOST_TEST(code.contains("allowOverwrite") == r.overwrite);
        BOOST_TEST(code.contains("reviseFromBranch") == r.overwrite);
        BOOST_TEST(code.contains("branchStrategy") == r.overwrite);
        BOOST_TEST(code.at("branch") == json::value(branch));
        for (std::size_t i = 1; i < steps.size(); ++i) {
          for (const char* k : {"allowOverwrite", "reviseFromBranch", "branchStrategy", "prompt"})
            BOOST_TEST(!steps[i].at("payload").as_object().contains(k));
        }
      }
      BOOST_TEST((json::serialize(m).find("allowOverwrite") != std::string::npos) == r.overwrite);
      expect_valid(m);
    }
  }
  // An adopted Workload keeps its name, so its branch.
  BuildRequest req{issue("o/repo.js", 3)};
  req.name = "wl-o-repo.js-3";
  req.revise_from_branch = "foreman/wl-o-repo.js-3/issue-3";
  const auto m = build_workload(req, WorkloadSettings{});
  BOOST_TEST(m.at("metadata").at("name") == "wl-o-repo.js-3");
  BOOST_TEST(m.at("spec").at("pipeline").at(0).at("payload").at("branch") == "foreman/wl-o-repo.js-3/issue-3");
  expect_valid(m);
}

BOOST_AUTO_TEST_CASE(prompt_cut) {
  // ASCII: exactly 2000 characters.
  const auto p = retry_prompt(std::string(5000, 'x'));
  BOOST_TEST(p.size() == kMaxPromptChars);
  BOOST_TEST(p.rfind(std::string(kFeedbackPrefix) + "\nxxx", 0) == 0u);
  // Multi-byte: 2000 characters, never a split sequence.
  std::string euros;
  for (int i = 0; i < 3000; ++i) euros += "\xE2\x82\xAC";  // U+20AC, 3 bytes
  const auto q = retry_prompt(euros);
  const std::size_t prefix_chars = kFeedbackPrefix.size() + 1;
  BOOST_TEST(q.size() == prefix_chars + (kMaxPromptChars - prefix_chars) * 3);
  BOOST_TEST(q.substr(q.size() - 3) == "\xE2\x82\xAC");
  // Short feedback is kept whole.
  BOOST_TEST(retry_prompt("- a") == std::string(kFeedbackPrefix) + "\n- a");
  struct Row {
    std::string in;
    std::size_t max;
    std::string out;
  };
  const Row rows[] = {{"abc", 2, "ab"}, {"abc", 5, "abc"}, {"a\xC3\xA9z", 2, "a\xC3\xA9"}, {"\xF0\x9F\x98\x80!", 1, "\xF0\x9F\x98\x80"}, {"", 3, ""}};
  for (const auto& r : rows) BOOST_TEST(utf8_prefix(r.in, r.max) == r.out);
}

BOOST_AUTO_TEST_CASE(schema_checker_rejects_bad_manifests) {
  // The checker itself must be able to fail, or the manifest tests prove nothing.
  WorkloadSettings s;
  BuildRequest req{issue()};
  req.feedback = "- x";
  const auto good = build_workload(req, s);
  struct Row {
    const char* given;
    std::function<void(json::object&)> spoil;
    std::string expect_in_error;
  };
  const Row rows[] = {
      {"top-level reviseFromBranch", [](json::object& m) { m["spec"].as_object()["reviseFromBranch"] = "b"; },
       "spec.reviseFromBranch: unknown field"},
      {"step without payload", [](json::object& m) { m["spec"].as_object()["pipeline"].as_array()[0].as_object().erase("payload"); },
       "spec.pipeline[0]: missing required field payload"},
      {"bad step kind", [](json::object& m) { m["spec"].as_object()["pipeline"].as_array()[0].as_object()["kind"] = "code"; },
       "spec.pipeline[0].kind"},
      {"upper-case step name", [](json::object& m) { m["spec"].as_object()["pipeline"].as_array()[0].as_object()["name"] = "Code-1"; },
       "spec.pipeline[0].name"},
      {"issue as a string",
       [](json::object& m) { m["spec"].as_object()["issues"] = json::array{"42"}; }, "spec.issues[0]: expected an integer"},
      {"bad branch strategy",
       [](json::object& m) {
         m["spec"].as_object()["pipeline"].as_array()[0].as_object()["payload"].as_object()["branchStrategy"] = "merge";
       },
       "branchStrategy"},
      {"no intent", [](json::object& m) { m["spec"].as_object().erase("intent"); }, "spec: missing required field intent"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) {
      json::object bad = good;
      r.spoil(bad);
      const auto errors = fdb::test::validate_against_crd(json::value(bad), fdb::test::workload_crd_path());
      bool found = false;
      for (const auto& e : errors) found = found || e.find(r.expect_in_error) != std::string::npos;
      BOOST_TEST(found, "expected an error containing '" << r.expect_in_error << "'");
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
