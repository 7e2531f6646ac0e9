package main

import "testing"

// foreman-agent's shapes (LLMKube 907ac8d8): a verdict from the executor ends phase
// Succeeded, only an executor error ends phase Failed; branch and commitSHA are lifted
// from result.extra; the Result envelope carries schemaVersion, summary and extra.
func TestAgentTerminalTable(t *testing.T) {
	rows := []struct {
		oc                              Outcome
		kind                            string
		phase, verdict, reason, outcome string
		branch, pr                      bool
	}{
		{Succeed, "issue-fix", "Succeeded", "GO", "", "", true, false},
		{Succeed, "verify", "Succeeded", "GATE-PASS", "", "", true, false},
		{Succeed, "review", "Succeeded", "GO", "", "MODEL-DECIDED", false, true},
		{SucceedNoPr, "review", "Succeeded", "GO", "", "MODEL-DECIDED", false, false},
		{FailCoder, "issue-fix", "Succeeded", "NO-GO", "", "COMMIT-REJECTED", true, false},
		{FailReview, "issue-fix", "Succeeded", "GO", "", "", true, false},
		{FailReview, "review", "Succeeded", "NO-GO", "", "MODEL-DECIDED", false, false},
		{Resolved, "issue-fix", "Succeeded", "NO-GO", "", "ALREADY-RESOLVED", false, false},
		{EscalateDesign, "issue-fix", "Succeeded", "NO-GO", "", "MODEL-DECIDED", false, false},
		{Incomplete, "issue-fix", "Succeeded", "INCOMPLETE", "MaxTurnsExhausted", "LOOP-INCOMPLETE", false, false},
		{Infra, "issue-fix", "Failed", "INCOMPLETE", "InfrastructureError", "", false, false},
	}
	for _, r := range rows {
		res, ok := resultFor(r.oc, r.kind, "foreman/wl-o-r-7/issue-7", "https://github.com/o/r/pull/1")
		if !ok {
			t.Fatalf("%s/%s: hangs", r.oc, r.kind)
		}
		running := claimedStatus(map[string]any{"phase": "Scheduled", "assignedNode": "n"}, "n", "t0")
		st := terminalStatus(running, r.kind, res, "t1")
		if st["phase"] != r.phase || st["verdict"] != r.verdict || str(st, "failureReason") != r.reason {
			t.Errorf("%s/%s: %v %v %v", r.oc, r.kind, st["phase"], st["verdict"], st["failureReason"])
		}
		if st["assignedNode"] != "n" || st["claimedAt"] != "t0" || st["finishedAt"] != "t1" {
			t.Errorf("%s/%s: claim fields lost: %v", r.oc, r.kind, st)
		}
		if got := str(st, "result", "extra", "outcome"); got != r.outcome {
			t.Errorf("%s/%s: outcome %q, want %q", r.oc, r.kind, got, r.outcome)
		}
		if (str(st, "branch") != "") != r.branch {
			t.Errorf("%s/%s: status.branch %q", r.oc, r.kind, str(st, "branch"))
		}
		if (str(st, "result", "extra", "pullRequestURL") != "") != r.pr {
			t.Errorf("%s/%s: pullRequestURL", r.oc, r.kind)
		}
		if r.phase == "Succeeded" && str(st, "result", "schemaVersion") != "foreman.v1" {
			t.Errorf("%s/%s: no Result envelope", r.oc, r.kind)
		}
		conds := st["conditions"].([]any)
		if len(conds) != 2 {
			t.Errorf("%s/%s: conditions %v", r.oc, r.kind, conds)
		}
	}
	if _, ok := resultFor(Hang, "issue-fix", "b", "p"); ok {
		t.Error("hang finished")
	}
}

func TestReviewFindingsAreAList(t *testing.T) {
	res, _ := resultFor(FailReview, "review", "b", "p")
	f, ok := res.extra["modelExtra"].(map[string]any)["findings"].([]any)
	// LLMKube's reviewer.ParseFindings drops a finding whose area is not one of its enum
	// (scope, style, tests, ...): the real operator would not render it into the prompt.
	if !ok || len(f) != 1 || f[0].(map[string]any)["severity"] != "major" || f[0].(map[string]any)["area"] != "tests" {
		t.Errorf("findings: %v", res.extra["modelExtra"])
	}
}

func TestParseAgents(t *testing.T) {
	got, err := parseAgents("coder=coder, gate=verifier")
	if err != nil || len(got) != 2 || got["gate"] != "verifier" {
		t.Errorf("%v %v", got, err)
	}
	if _, err := parseAgents("coder"); err == nil {
		t.Error("name without role accepted")
	}
}
