package main

// Agent-only mode (--agent-only, beside LLMKube's real foreman-operator): the status
// foreman-agent's watcher writes, in the shapes of LLMKube commit 907ac8d8
// (pkg/foreman/agent/watcher.go claim and patchTerminal, result.go, executor_native.go),
// as pure functions over a task's current status. Not kube-sim's shapes: there a failed
// coder is phase Failed; here, as foreman-agent does it, an executor that returned a
// verdict ends phase Succeeded with that verdict, and only an executor error (the
// infrastructure outcome) ends phase Failed. The real Workload controller then cascades
// the dependents (Failed/INCOMPLETE, or Skipped after ALREADY-RESOLVED) — the agent never
// runs them.

const resultSchema = "foreman.v1"

func copyStatus(cur map[string]any) map[string]any {
	st := map[string]any{}
	for k, v := range cur {
		st[k] = v
	}
	return st
}

// upsertCondition replaces the condition of the same type, else appends (setCondition).
func upsertCondition(st map[string]any, c map[string]any) {
	conds, _ := st["conditions"].([]any)
	out := make([]any, 0, len(conds)+1)
	replaced := false
	for _, x := range conds {
		if m, ok := x.(map[string]any); ok && m["type"] == c["type"] {
			out = append(out, c)
			replaced = true
			continue
		}
		out = append(out, x)
	}
	if !replaced {
		out = append(out, c)
	}
	st["conditions"] = out
}

// claimedStatus: Scheduled -> Running, claimedAt and startedAt, condition Running/Claimed.
func claimedStatus(cur map[string]any, node, when string) map[string]any {
	st := copyStatus(cur)
	st["phase"], st["claimedAt"], st["startedAt"] = "Running", when, when
	upsertCondition(st, map[string]any{"type": "Running", "status": "True", "reason": "Claimed",
		"message": "claimed by " + node, "lastTransitionTime": when})
	return st
}

// agentResult is what the executor returns for one task of a Workload given an outcome:
// the Result envelope, or execErr for the infrastructure outcome. ok=false: the task hangs.
type agentResult struct {
	verdict, failureReason, summary string
	extra                           map[string]any
	execErr                         string
}

func resultFor(oc Outcome, kind, branch, prURL string) (agentResult, bool) {
	const sha = "0123456789abcdef0123456789abcdef01234567"
	switch oc {
	case Hang:
		return agentResult{}, false
	case Infra:
		return agentResult{execErr: "executor pod evicted: node out of memory"}, true
	}
	switch kind {
	case "issue-fix":
		switch oc {
		case FailCoder:
			return agentResult{verdict: "NO-GO", summary: "commit rejected", extra: map[string]any{
				"outcome": "COMMIT-REJECTED", "intendedBranch": branch,
				"error": "tests failed: 3 of 112 failing in test_parser.py"}}, true
		case Resolved:
			return agentResult{verdict: "NO-GO", summary: "The issue is already fixed on the default branch.",
				extra: map[string]any{"outcome": "ALREADY-RESOLVED", "resolvedBy": sha[:7],
					"modelExtra": map[string]any{"outcome": "ALREADY-RESOLVED", "resolvedBy": sha[:7]}}}, true
		case EscalateDesign:
			return agentResult{verdict: "NO-GO", summary: "could not finish: the fix needs a design decision",
				extra: map[string]any{"outcome": "MODEL-DECIDED",
					"modelExtra": map[string]any{"escalation": "DESIGN-DECISION"}}}, true
		case Incomplete:
			return agentResult{verdict: "INCOMPLETE", failureReason: "MaxTurnsExhausted",
				summary: "could not finish within the turn budget", extra: map[string]any{
					"reason": "MaxTurnsExhausted", "outcome": "LOOP-INCOMPLETE"}}, true
		}
		return agentResult{verdict: "GO", summary: "Implemented the change and added tests.", extra: map[string]any{
			"outcome": "", "branch": branch, "commitSHA": sha, "modelExtra": map[string]any{}}}, true
	case "review":
		if oc == FailReview {
			return agentResult{verdict: "NO-GO", summary: "The change does not handle the empty input case.",
				extra: map[string]any{"outcome": "MODEL-DECIDED", "modelExtra": map[string]any{"findings": []any{
					map[string]any{"severity": "major", "area": "tests", "file": "parser.cpp", "line": 42,
						"message": "handlesEmptyInput: the change does not handle the empty input case"}}}}}, true
		}
		extra := map[string]any{"outcome": "MODEL-DECIDED", "modelExtra": map[string]any{"findings": []any{}}}
		if oc != SucceedNoPr {
			extra["pullRequestURL"] = prURL
		}
		return agentResult{verdict: "GO", summary: "Looks good.", extra: extra}, true
	}
	return agentResult{verdict: "GATE-PASS", summary: "gate passed", extra: map[string]any{
		"outcome": "", "deterministic": true, "intendedBranch": branch}}, true
}

// terminalStatus is patchTerminal: the task's final status for r.
func terminalStatus(cur map[string]any, kind string, r agentResult, when string) map[string]any {
	st := copyStatus(cur)
	st["finishedAt"] = when
	if r.execErr != "" {
		st["phase"], st["verdict"], st["failureReason"] = "Failed", "INCOMPLETE", "InfrastructureError"
		upsertCondition(st, map[string]any{"type": "Completed", "status": "False", "reason": "ExecutorError",
			"message": r.execErr, "lastTransitionTime": when})
		return st
	}
	st["phase"], st["verdict"] = "Succeeded", r.verdict
	if r.failureReason != "" {
		st["failureReason"] = r.failureReason
	}
	if b := firstString(r.extra, "branch", "intendedBranch"); b != "" {
		st["branch"] = b
	}
	if s, _ := r.extra["commitSHA"].(string); s != "" {
		st["commitSHA"] = s
	}
	result := map[string]any{"schemaVersion": resultSchema, "kind": kind, "verdict": r.verdict,
		"summary": r.summary, "extra": r.extra, "elapsedSec": 0.2}
	if r.failureReason != "" {
		result["failureReason"] = r.failureReason
	}
	st["result"] = result
	upsertCondition(st, map[string]any{"type": "Completed", "status": "True", "reason": "ExecutorSucceeded",
		"message": r.summary, "lastTransitionTime": when})
	return st
}

func firstString(m map[string]any, keys ...string) string {
	for _, k := range keys {
		if s, _ := m[k].(string); s != "" {
			return s
		}
	}
	return ""
}
