package main

import "fmt"

// The Workload side of kube-sim's Foreman rules (tests/sim/foreman.cpp), as pure functions
// over unstructured objects: which steps a Workload renders, the AgenticTask of a step,
// and the roll-up of finished tasks into the Workload's status.

const apiVersion = "foreman.llmkube.dev/v1alpha1"

// StepDef is one AgenticTask a Workload renders.
type StepDef struct {
	Name, Kind, Agent string
	Payload           map[string]any
}

// stepsOf: pipeline mode renders spec.pipeline as given; issue-batch mode renders code,
// verify (when a verifier is named) and review.
func stepsOf(wl map[string]any) []StepDef {
	spec, _ := wl["spec"].(map[string]any)
	if steps, ok := spec["pipeline"].([]any); ok && len(steps) > 0 {
		out := []StepDef{}
		for _, st := range steps {
			o, ok := st.(map[string]any)
			if !ok {
				continue
			}
			p, _ := o["payload"].(map[string]any)
			if p == nil {
				p = map[string]any{}
			}
			out = append(out, StepDef{str(o, "name"), str(o, "kind"), str(o, "agentRef", "name"), p})
		}
		return out
	}
	payload := map[string]any{"repo": str(wl, "spec", "repo")}
	if is, ok := spec["issues"].([]any); ok && len(is) > 0 {
		switch is[0].(type) {
		case int64, float64:
			payload["issue"] = is[0]
		}
	}
	coder := str(wl, "spec", "coderAgentRef", "name")
	if coder == "" {
		coder = "coder"
	}
	out := []StepDef{{"code-1", "issue-fix", coder, payload}}
	if _, ok := spec["verifierAgentRef"]; ok {
		out = append(out, StepDef{"verify-1", "verify", str(wl, "spec", "verifierAgentRef", "name"), map[string]any{"repo": payload["repo"]}})
	}
	reviewer := "reviewer"
	if rv, ok := spec["reviewerAgentRefs"].([]any); ok && len(rv) > 0 {
		if o, ok := rv[0].(map[string]any); ok {
			reviewer = str(o, "name")
		}
	}
	return append(out, StepDef{"review-1-0", "review", reviewer, map[string]any{"openPullRequest": true}})
}

func taskName(wlName string, s StepDef) string { return wlName + "-" + s.Name }

// taskObject is the AgenticTask Foreman creates for a step, owned by the Workload (so the
// garbage collector deletes it, and a Foreground delete waits for it).
func taskObject(ns, wlName, wlUID string, s StepDef) map[string]any {
	return map[string]any{
		"apiVersion": apiVersion,
		"kind":       "AgenticTask",
		"metadata": map[string]any{
			"name":      taskName(wlName, s),
			"namespace": ns,
			"labels":    map[string]any{"foreman.llmkube.dev/workload": wlName, "foreman.llmkube.dev/step": s.Name},
			"ownerReferences": []any{map[string]any{
				"apiVersion": apiVersion, "kind": "Workload", "name": wlName, "uid": wlUID,
				"controller": true, "blockOwnerDeletion": true,
			}},
		},
		"spec": map[string]any{"kind": s.Kind, "agentRef": map[string]any{"name": s.Agent}, "payload": s.Payload},
	}
}

func condition(ok bool, reason, msg, when string) map[string]any {
	status := "False"
	if ok {
		status = "True"
	}
	return map[string]any{"type": "Completed", "status": status, "reason": reason, "message": msg, "lastTransitionTime": when}
}

func terminal(phase string) bool { return phase == "Succeeded" || phase == "Failed" }

// rollup merges the finished tasks into the Workload's status. ok is false while a task is
// missing or not terminal. A task that failed for real (NO-GO, an infrastructure failure)
// fails the Workload with ChildrenFailed; only INCOMPLETE ones, ChildrenIncomplete.
func rollup(status map[string]any, ns string, tasks []map[string]any, when string) (map[string]any, bool) {
	var ok, failed, incomplete int64
	realFailure, allResolved := false, true
	refs := []any{}
	for _, t := range tasks {
		phase := str(t, "status", "phase")
		if !terminal(phase) {
			return nil, false
		}
		verdict, reason := str(t, "status", "verdict"), str(t, "status", "failureReason")
		switch {
		case phase == "Succeeded":
			ok++
		case verdict == "INCOMPLETE":
			incomplete++
		default:
			failed++
		}
		if phase == "Failed" && verdict != "Skipped" && !(verdict == "INCOMPLETE" && reason == "") {
			realFailure = true
		}
		if str(t, "spec", "kind") == "issue-fix" && str(t, "status", "result", "extra", "outcome") != "already-resolved" {
			allResolved = false
		}
		refs = append(refs, map[string]any{"apiVersion": apiVersion, "kind": "AgenticTask", "name": str(t, "metadata", "name"),
			"namespace": ns, "uid": str(t, "metadata", "uid")})
	}
	out := map[string]any{}
	for k, v := range status {
		out[k] = v
	}
	var cond map[string]any
	switch {
	case failed == 0 && incomplete == 0 && allResolved:
		out["phase"], cond = "Completed", condition(true, "AllAlreadyResolved", "every issue was already resolved", when)
	case failed == 0 && incomplete == 0:
		out["phase"], cond = "Completed", condition(true, "AllChildrenSucceeded", "all tasks succeeded", when)
	case incomplete > 0 && !realFailure:
		out["phase"], cond = "Failed", condition(false, "ChildrenIncomplete", "a task did not complete", when)
	default:
		out["phase"], cond = "Failed", condition(false, "ChildrenFailed", "a task failed", when)
	}
	out["conditions"] = []any{cond}
	out["succeededTasks"], out["failedTasks"], out["incompleteTasks"] = ok, failed, incomplete
	out["tasks"] = refs
	return out, true
}

func pullRequestURL(repo, uid, name string) string {
	if repo == "" {
		repo = "o/r"
	}
	return fmt.Sprintf("https://github.com/%s/pull/%d", repo, 1000+(len(uid)*7+len(name))%9000)
}
