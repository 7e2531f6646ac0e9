package main

import "testing"

func issueBatch(verifier bool) map[string]any {
	spec := map[string]any{"repo": "o/r", "issues": []any{int64(7)}, "coderAgentRef": map[string]any{"name": "coder"}}
	if verifier {
		spec["verifierAgentRef"] = map[string]any{"name": "gate"}
	}
	return map[string]any{"metadata": map[string]any{"name": "wl-o-r-7", "annotations": map[string]any{}}, "spec": spec}
}

// Each outcome, through the test agent and the Workload roll-up, ends as kube-sim's
// Foreman ends it (tests/sim/foreman.cpp).
func TestOutcomeTable(t *testing.T) {
	rows := []struct {
		oc                   Outcome
		phase, reason        string
		ok, failed, incompl  int64
		coderVerdict, failRe string
	}{
		{Succeed, "Completed", "AllChildrenSucceeded", 3, 0, 0, "GO", ""},
		{SucceedNoPr, "Completed", "AllChildrenSucceeded", 3, 0, 0, "GO", ""},
		{Resolved, "Completed", "AllAlreadyResolved", 3, 0, 0, "GO", ""},
		{FailReview, "Failed", "ChildrenFailed", 2, 1, 0, "GO", ""},
		{FailCoder, "Failed", "ChildrenFailed", 0, 3, 0, "NO-GO", ""},
		{Infra, "Failed", "ChildrenFailed", 0, 2, 1, "INCOMPLETE", "InfrastructureError"},
		{EscalateDesign, "Failed", "ChildrenIncomplete", 0, 2, 1, "INCOMPLETE", ""},
		{Incomplete, "Failed", "ChildrenIncomplete", 0, 2, 1, "INCOMPLETE", ""},
	}
	for _, r := range rows {
		wl := issueBatch(true)
		var tasks []map[string]any
		for _, s := range stepsOf(wl) {
			task := taskObject("llm", "wl-o-r-7", "uid-1", s)
			task["status"] = finishTask(r.oc, s.Kind, "https://github.com/o/r/pull/1", map[string]any{"phase": "Running"}, "now")
			tasks = append(tasks, task)
		}
		st, done := rollup(map[string]any{"phase": "Dispatched"}, "llm", tasks, "now")
		if !done {
			t.Fatalf("%s: not rolled up", r.oc)
		}
		cond := st["conditions"].([]any)[0].(map[string]any)
		if st["phase"] != r.phase || cond["reason"] != r.reason {
			t.Errorf("%s: phase %v reason %v, want %s %s", r.oc, st["phase"], cond["reason"], r.phase, r.reason)
		}
		if st["succeededTasks"] != r.ok || st["failedTasks"] != r.failed || st["incompleteTasks"] != r.incompl {
			t.Errorf("%s: counts %v/%v/%v, want %d/%d/%d", r.oc, st["succeededTasks"], st["failedTasks"], st["incompleteTasks"], r.ok, r.failed, r.incompl)
		}
		coder := tasks[0]["status"].(map[string]any)
		if coder["verdict"] != r.coderVerdict || str(coder, "failureReason") != r.failRe {
			t.Errorf("%s: coder verdict %v reason %v", r.oc, coder["verdict"], coder["failureReason"])
		}
		_, hasPR := coder["result"].(map[string]any)["extra"].(map[string]any)["pullRequestURL"]
		if wantPR := r.oc == Succeed || r.oc == FailReview; hasPR != wantPR {
			t.Errorf("%s: pullRequestURL present %v", r.oc, hasPR)
		}
	}
}

func TestRollupWaitsForEveryTask(t *testing.T) {
	tasks := []map[string]any{{"status": map[string]any{"phase": "Succeeded"}}, {"status": map[string]any{"phase": "Running"}}}
	if _, done := rollup(map[string]any{}, "llm", tasks, "now"); done {
		t.Fatal("rolled up while a task runs")
	}
}

func TestStepsOfPipelineAndBatch(t *testing.T) {
	wl := issueBatch(false)
	if got := stepsOf(wl); len(got) != 2 || got[0].Name != "code-1" || got[1].Kind != "review" {
		t.Errorf("issue batch without verifier: %+v", got)
	}
	wl["spec"].(map[string]any)["pipeline"] = []any{
		map[string]any{"name": "code-2", "kind": "issue-fix", "agentRef": map[string]any{"name": "c"}, "payload": map[string]any{"feedback": "x"}},
		map[string]any{"name": "review-2", "kind": "review", "agentRef": map[string]any{"name": "r"}},
	}
	got := stepsOf(wl)
	if len(got) != 2 || got[0].Name != "code-2" || got[0].Payload["feedback"] != "x" || got[1].Agent != "r" {
		t.Errorf("pipeline: %+v", got)
	}
}

func TestDecideOrder(t *testing.T) {
	r := newRules(0, 200, 1)
	if err := r.apply(map[string]any{"issues": map[string]any{"o/r#7": map[string]any{"1": "fail-coder", "*": "hang"}}}); err != nil {
		t.Fatal(err)
	}
	wl := issueBatch(false)
	meta := wl["metadata"].(map[string]any)
	if got := r.decide(wl); got != FailCoder {
		t.Errorf("attempt 1: %s", got)
	}
	meta["annotations"] = map[string]any{"foreman.llmkube.dev/attempt": "2"}
	if got := r.decide(wl); got != Hang {
		t.Errorf("attempt 2 (any): %s", got)
	}
	meta["annotations"] = map[string]any{"sim.llmkube.dev/outcome": "resolved"}
	if got := r.decide(wl); got != Resolved {
		t.Errorf("annotation wins: %s", got)
	}
	if err := r.apply(map[string]any{"issues": map[string]any{"o/r#8": map[string]any{"0": "succeed"}}}); err == nil {
		t.Error("attempt 0 accepted")
	}
}
