#include "crd_schema.hpp"
#include "dispatch/prfix.hpp"
#include "dispatch/workload.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <set>

using namespace fdb::dispatch;
namespace json = boost::json;

namespace {

bool is_dns_label(const std::string& s) {
  if (s.empty() || s.size() > 63 || s.front() == '-' || s.back() == '-') return false;
  for (const char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

std::string hash8(const std::string& key) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a64(key)));
  return std::string(hex, 8);
}

std::string prfix_name_of(const std::string& repo, std::int64_t pr) { return prfix_workload_name(repo, pr); }

IssueInfo issue(std::string repo = "misospace/dispatch", std::int64_t n = 42, std::string lane = "local") {
  return IssueInfo{std::move(repo), n, "Fix the widget", std::move(lane), "iss-42"};
}

const json::value& at(const json::value& v, std::initializer_list<std::string_view> path) {
  const json::value* cur = &v;
  for (const auto k : path) cur = &cur->as_object().at(k);
  return *cur;
}

void expect_valid(const json::object& manifest) {
  const auto errors = fdb::test::validate_against_crd(json::value(manifest), fdb::test::workload_crd_path());
  for (const auto& e : errors) BOOST_TEST_MESSAGE("CRD: " << e);
  BOOST_TEST(errors.empty(), "manifest rejected by the CRD: " << (errors.empty() ? "" : errors.front()));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(bridge_workload)

BOOST_AUTO_TEST_CASE(names) {
  const std::string r60 = "o/" + std::string(60, 'r');  // "wl-o-" + 60 + "-7" = 67 characters
  struct Row {
    const char* given;
    std::string repo;
    std::int64_t number;
    std::string expect;
  };
  const Row rows[] = {
      {"plain", "misospace/dispatch", 42, "wl-misospace-dispatch-42"},
      {"upper case", "MisoSpace/Dispatch", 42, "wl-misospace-dispatch-42"},
      {"dash kept", "o/repo-js", 3, "wl-o-repo-js-3"},
      // The mapping changed something: the hash of the full repo and number follows.
      {"underscore", "my_org/my_repo", 1, "wl-my-org-my-repo-1-" + hash8("my_org/my_repo#1")},
      {"dot", "o/repo.js", 3, "wl-o-repo-js-3-" + hash8("o/repo.js#3")},
      {"runs collapse", "o--x/a_.-b", 5, "wl-o-x-a-b-5-" + hash8("o--x/a_.-b#5")},
      {"a plain double dash collapses", "o/a--b", 5, "wl-o-a-b-5-" + hash8("o/a--b#5")},
      {"other characters", "o/r+é", 9, "wl-o-r-9-" + hash8("o/r+é#9")},
      {"upper case and a dot", "O/Repo.JS", 3, "wl-o-repo-js-3-" + hash8("o/repo.js#3")},
      // "wl-" + 53 + "-" + 6 = 63: exactly the limit, kept whole.
      {"exactly 63", "o/" + std::string(51, 'a'), 123456, "wl-o-" + std::string(51, 'a') + "-123456"},
      // One more character: 64, cut to 54 and the hash.
      {"64", "o/" + std::string(52, 'a'), 123456,
       ("wl-o-" + std::string(52, 'a') + "-123456").substr(0, 54) + "-" + hash8("o/" + std::string(52, 'a') + "#123456")},
      {"long", r60, 7, ("wl-o-" + std::string(60, 'r')).substr(0, 54) + "-" + hash8(r60 + "#7")},
      // The cut lands on a '-': no "--" before the hash.
      {"cut on a dash", "o/" + std::string(48, 'a') + "-bbbbbbbbbbbb", 1,
       "wl-o-" + std::string(48, 'a') + "-" + hash8("o/" + std::string(48, 'a') + "-bbbbbbbbbbbb#1")},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) {
      const auto name = workload_name(r.repo, r.number);
      BOOST_TEST(name == r.expect);
      BOOST_TEST(is_dns_label(name), name);
      BOOST_TEST(workload_name(r.repo, r.number) == name);  // deterministic
      BOOST_TEST(branch_name(r.repo, r.number) == "foreman/" + name + "/issue-" + std::to_string(r.number));
    }
  }
  // The expectation "wl-o-<51 a>-123456" is indeed 63 characters, and the next one 64.
  BOOST_TEST(rows[9].expect.size() == 63u);
  BOOST_TEST(("wl-o-" + std::string(52, 'a') + "-123456").size() == 64u);
  BOOST_TEST(workload_name(rows[10].repo, rows[10].number).size() == 63u);
  // Two long names that share the first 54 characters differ by the hash.
  BOOST_TEST(workload_name(r60, 7) != workload_name(r60, 8));
  // FNV-1a 64 test vectors: the hash is the documented one.
  BOOST_TEST(fnv1a64("") == 0xcbf29ce484222325ULL);
  BOOST_TEST(fnv1a64("a") == 0xaf63dc4c8601ec8cULL);
  BOOST_TEST(fnv1a64("foobar") == 0x85944171f73967e8ULL);
}

// Issue 20 item 5: repos of one owner that the character mapping alone would merge.
BOOST_AUTO_TEST_CASE(names_of_repos_the_mapping_would_merge) {
  const std::string repos[] = {"foo/foo.bar", "foo/foo-bar", "foo/foo_bar", "foo/foo..bar", "foo/foo--bar", "foo/foo.-_bar"};
  std::set<std::string> names;
  for (const auto& r : repos) {
    BOOST_TEST_CONTEXT(r) {
      const auto name = workload_name(r, 12);
      BOOST_TEST(is_dns_label(name), name);
      BOOST_TEST(name.starts_with("wl-foo-foo-bar-12"), name);
      names.insert(name);
      // The PR-fix Workload of the same repo and number follows the same rule.
      BOOST_TEST(is_dns_label(prfix_name_of(r, 12)));
    }
  }
  BOOST_TEST(names.size() == std::size(repos));
  BOOST_TEST(workload_name("foo/foo-bar", 12) == "wl-foo-foo-bar-12");  // the plain one keeps its name
  // Long and mapped: still 63 characters, still distinct.
  const std::string long_dot = "o/" + std::string(70, 'a') + ".x";
  const std::string long_dash = "o/" + std::string(70, 'a') + "-x";
  BOOST_TEST(workload_name(long_dot, 1).size() == 63u);
  BOOST_TEST(workload_name(long_dot, 1) != workload_name(long_dash, 1));
}

// What the Python bridge named a Workload, and which names can label a task.
BOOST_AUTO_TEST_CASE(python_names_and_label_values) {
  struct Row {
    std::string repo;
    std::int64_t number;
    std::string python;
    bool label_value;
  };
  const Row rows[] = {
      {"misospace/dispatch", 42, "wl-misospace-dispatch-42", true},
      {"MisoSpace/Repo.JS", 3, "wl-misospace-repo.js-3", true},
      {"o/" + std::string(60, 'r'), 7, "wl-o-" + std::string(60, 'r') + "-7", false},  // 67 characters
      {"o/" + std::string(55, 'r'), 7, "wl-o-" + std::string(55, 'r') + "-7", true},  // 62
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.repo) {
      BOOST_TEST(python_workload_name(r.repo, r.number) == r.python);
      BOOST_TEST(is_label_value(r.python) == r.label_value);
    }
  }
  BOOST_TEST(python_workload_name("o/r", 1) == workload_name("o/r", 1));
  BOOST_TEST(!is_label_value("-a"));
  BOOST_TEST(!is_label_value("a."));
  BOOST_TEST(!is_label_value("a/b"));
  BOOST_TEST(is_label_value("A_b.c-d"));
  BOOST_TEST(branch_of_workload("wl-o-r.js-3", 3) == "foreman/wl-o-r.js-3/issue-3");
}

BOOST_AUTO_TEST_CASE(attempt_parsing) {
  struct Row {
    std::string_view in;
    int out;
  };
  const Row rows[] = {
      {"1", 1},      {"2", 2},          {" 3 ", 3},      {"+4", 4},  {"", 1},     {"abc", 1},
      {"0", 1},      {"-1", 1},         {"-99999999999999999999", 1}, {"2.5", 1}, {"3x", 1},
      {"1000000", 1000000}, {"1000001", 1000000}, {"99999999999999999999", kMaxAttemptValue},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT("attempt '" << r.in << "'") { BOOST_TEST(parse_attempt(r.in) == r.out); }
  }
  const Row counters[] = {{"", 0}, {"0", 0}, {"2", 2}, {"x", 0}, {"-3", 0}, {"99999999999999999999", kMaxAttemptValue}};
  for (const auto& r : counters) {
    BOOST_TEST_CONTEXT("counter '" << r.in << "'") { BOOST_TEST(parse_counter(r.in) == r.out); }
  }
}

BOOST_AUTO_TEST_CASE(lane_aliases) {
  BOOST_TEST(normalize_lane("normal") == "local");
  BOOST_TEST(normalize_lane("NORMAL") == "local");
  BOOST_TEST(normalize_lane("escalated") == "frontier");
  BOOST_TEST(normalize_lane(" cloud ") == "cloud");
  BOOST_TEST(normalize_lane("frontier") == "frontier");
  BOOST_TEST(normalize_lane("") == "");
}

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

BOOST_AUTO_TEST_CASE(coder_routing) {
  const auto gp = json::parse(R"({"py/repo":{"language":"python"},"*":{"language":"go"}})").as_object();
  struct Row {
    const char* given;
    AgentMap lane, repo, base;
    SlotMap slots;
    LoadMap load;
    std::string lane_name, repo_name;
    std::int64_t number;
    std::string expect;
  };
  const Row rows[] = {
      {"nothing configured", {}, {}, {}, {}, {}, "local", "o/r", 1, "coder"},
      {"lane wins", {{"frontier", {"c-front"}}, {"*", {"c-star"}}}, {{"o/r", {"c-repo"}}}, {{"go", {"c-go"}}}, {}, {},
       "frontier", "o/r", 1, "c-front"},
      {"lane alias", {{"frontier", {"c-front"}}}, {}, {}, {}, {}, "escalated", "o/r", 1, "c-front"},
      {"repo next", {{"*", {"c-star"}}}, {{"o/r", {"c-repo"}}}, {{"go", {"c-go"}}}, {}, {}, "local", "o/r", 1, "c-repo"},
      {"language next", {{"*", {"c-star"}}}, {}, {{"python", {"c-py"}}, {"go", {"c-go"}}}, {}, {}, "local", "py/repo", 1,
       "c-py"},
      {"language from the * gate profile", {}, {}, {{"python", {"c-py"}}, {"go", {"c-go"}}}, {}, {}, "local", "o/r", 1,
       "c-go"},
      {"base *", {{"*", {"c-star"}}}, {}, {{"rust", {"c-rs"}}, {"*", {"c-base"}}}, {}, {}, "local", "o/r", 1, "c-base"},
      {"lane * before default", {{"*", {"c-star"}}}, {}, {{"rust", {"c-rs"}}}, {}, {}, "local", "o/r", 1, "c-star"},
      {"list, no slots: number % n", {{"local", {"a", "b", "c"}}}, {}, {}, {}, {}, "local", "o/r", 7, "b"},
      {"list, slots: most free", {{"local", {"a", "b", "c"}}}, {}, {}, {{"a", 1}, {"b", 4}, {"c", 2}}, {{"b", 1}}, "local",
       "o/r", 7, "b"},
      {"list, slots: busy one loses", {{"local", {"a", "b"}}}, {}, {}, {{"*", 2}}, {{"a", 2}}, "local", "o/r", 0, "b"},
      {"list, slots: ties by number % tied", {{"local", {"a", "b", "c"}}}, {}, {}, {{"*", 2}}, {{"b", 1}}, "local", "o/r",
       5, "c"},
      {"list, slots: tie, even number", {{"local", {"a", "b", "c"}}}, {}, {}, {{"*", 2}}, {{"b", 1}}, "local", "o/r", 4,
       "a"},
      {"list, all full: still the most free", {{"local", {"a", "b"}}}, {}, {}, {{"a", 1}, {"b", 1}}, {{"a", 3}, {"b", 1}},
       "local", "o/r", 0, "b"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) {
      WorkloadSettings s;
      s.gate_profiles = gp;
      s.lane_coder_agents = r.lane;
      s.repo_coder_agents = r.repo;
      s.base_coder_agents = r.base;
      s.coder_agent_slots = r.slots;
      BOOST_TEST(choose_coder(s, r.lane_name, r.repo_name, r.number, r.load) == r.expect);
    }
  }
  // The chosen coder lands in the manifest.
  WorkloadSettings s;
  s.lane_coder_agents = {{"local", {"a", "b"}}};
  BuildRequest req{issue("o/r", 3)};
  BOOST_TEST(build_workload(req, s).at("spec").at("coderAgentRef").at("name") == "b");
  req.feedback = "- x";
  BOOST_TEST(build_workload(req, s).at("spec").at("pipeline").at(0).at("agentRef").at("name") == "b");
}

BOOST_AUTO_TEST_CASE(fix_first_agents) {
  WorkloadSettings s;
  s.lane_coder_agents = {{"local", {"fixer", "coder"}}};
  s.fix_first_agents = {"fixer"};
  struct Row {
    const char* given;
    LoadMap load;
    std::int64_t number;
    std::string expect;
  };
  const Row rows[] = {
      {"idle fixer takes its turn", {}, 0, "fixer"},
      {"busy fixer drops out", {{"fixer", 1}}, 0, "coder"},
      {"other coder busy does not matter", {{"coder", 5}}, 0, "fixer"},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) { BOOST_TEST(choose_coder(s, "local", "o/r", r.number, r.load) == r.expect); }
  }
  // All fix-first and busy: the tier yields nothing and routing falls through to "coder".
  s.lane_coder_agents = {{"local", {"fixer"}}};
  BOOST_TEST(choose_coder(s, "local", "o/r", 0, {{"fixer", 1}}) == "coder");
}

BOOST_AUTO_TEST_CASE(lane_saturation) {
  struct Row {
    const char* given;
    AgentMap lane;
    SlotMap slots;
    LoadMap load;
    std::set<std::string, std::less<>> fix_first;
    std::string lane_name;
    bool expect;
  };
  const Row rows[] = {
      {"no slots configured", {{"local", {"a"}}}, {}, {{"a", 99}}, {}, "local", false},
      {"no lane mapping", {}, {{"*", 1}}, {{"coder", 5}}, {}, "local", false},
      {"one free slot left", {{"local", {"a", "b"}}}, {{"*", 2}}, {{"a", 2}, {"b", 1}}, {}, "local", false},
      {"all full", {{"local", {"a", "b"}}}, {{"*", 2}}, {{"a", 2}, {"b", 3}}, {}, "local", true},
      {"lane * used", {{"*", {"a"}}}, {{"a", 1}}, {{"a", 1}}, {}, "cloud", true},
      {"alias", {{"frontier", {"a"}}}, {{"a", 1}}, {{"a", 1}}, {}, "escalated", true},
      {"busy fix-first agent left out", {{"local", {"f", "b"}}}, {{"*", 1}}, {{"f", 1}, {"b", 1}}, {"f"}, "local", true},
      {"only busy fix-first agents", {{"local", {"f"}}}, {{"*", 1}}, {{"f", 1}}, {"f"}, "local", false},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT(r.given) {
      WorkloadSettings s;
      s.lane_coder_agents = r.lane;
      s.coder_agent_slots = r.slots;
      s.fix_first_agents = r.fix_first;
      BOOST_TEST(lane_coders_saturated(s, r.lane_name, r.load) == r.expect);
    }
  }
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
