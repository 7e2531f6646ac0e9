package main

// The test agent (it plays foreman-agent: no LLM runs here): the finished status of one
// AgenticTask for the outcome its Workload was given, with the verdicts, findings,
// failureReason and branch evidence kube-sim's Foreman writes (tests/sim/foreman.cpp).

func finishTask(oc Outcome, kind string, prURL string, cur map[string]any, when string) map[string]any {
	st := map[string]any{}
	for k, v := range cur {
		st[k] = v
	}
	noPR := oc == SucceedNoPr
	if noPR {
		oc = Succeed
	}
	st["phase"], st["verdict"], st["finishedAt"] = "Succeeded", "GO", when
	extra := map[string]any{"outcome": "success", "error": "", "modelSummary": "Implemented the change and added tests.",
		"modelExtra": map[string]any{}}
	fail := func(verdict string) { st["phase"], st["verdict"] = "Failed", verdict }
	switch kind {
	case "issue-fix":
		if (oc == Succeed && !noPR) || oc == FailReview {
			extra["pullRequestURL"] = prURL
		}
		switch oc {
		case Resolved:
			extra["outcome"], extra["modelSummary"] = "already-resolved", "The issue is already fixed on the default branch."
		case FailCoder:
			fail("NO-GO")
			extra["outcome"], extra["error"] = "failed", "tests failed: 3 of 112 failing in test_parser.py"
		case Infra:
			fail("INCOMPLETE")
			st["failureReason"] = "InfrastructureError"
			extra["outcome"], extra["error"] = "error", "executor pod evicted: node out of memory"
		case EscalateDesign, Incomplete:
			fail("INCOMPLETE")
			extra["outcome"], extra["error"] = "incomplete", "could not finish: the fix needs a design decision"
			if oc == EscalateDesign {
				extra["modelExtra"] = map[string]any{"escalation": "DESIGN-DECISION"}
			}
		}
	case "review":
		if oc == FailReview {
			fail("NO-GO")
			extra["outcome"] = "rejected"
			extra["modelSummary"] = "The change does not handle the empty input case."
			extra["modelExtra"] = map[string]any{"findings": map[string]any{
				"handlesEmptyInput": false, "testsAdded": true, "style": "inconsistent naming in parser.cpp"}}
		} else if oc != Succeed && oc != Resolved {
			fail("Skipped")
		}
	default:
		if oc != Succeed && oc != Resolved && oc != FailReview {
			fail("Skipped")
		} else {
			st["verdict"] = "GATE-PASS"
		}
	}
	st["result"] = map[string]any{"extra": extra}
	return st
}
