package main

import (
	"fmt"
	"math/rand"
	"strconv"
	"sync"
)

// Outcome is how a Workload ends: the names kube-sim's Foreman takes (tests/sim/foreman.cpp),
// from the annotation sim.llmkube.dev/outcome or from an issue rule.
type Outcome string

const (
	Succeed        Outcome = "succeed"
	Resolved       Outcome = "resolved"
	FailReview     Outcome = "fail-review"
	FailCoder      Outcome = "fail-coder"
	Infra          Outcome = "infra"
	EscalateDesign Outcome = "escalate-design"
	Incomplete     Outcome = "incomplete"
	Hang           Outcome = "hang"
	SucceedNoPr    Outcome = "succeed-no-pr"
)

var outcomes = []Outcome{Succeed, Resolved, FailReview, FailCoder, Infra, EscalateDesign, Incomplete, Hang, SucceedNoPr}

func parseOutcome(s string) (Outcome, bool) {
	for _, o := range outcomes {
		if string(o) == s {
			return o, true
		}
	}
	return "", false
}

// Rules are what a scenario sets through POST /_sim/foreman, in kube-sim's JSON:
// {"failRate": 0.5, "stepMs": 200, "issues": {"owner/repo#7": {"1": "fail-coder", "*": "succeed"}}}.
type Rules struct {
	mu       sync.Mutex
	failRate float64
	stepMs   int64
	issues   map[string]map[int]Outcome // attempt 0 = any
	rng      *rand.Rand
}

func newRules(failRate float64, stepMs int64, seed int64) *Rules {
	return &Rules{failRate: failRate, stepMs: stepMs, issues: map[string]map[int]Outcome{}, rng: rand.New(rand.NewSource(seed))}
}

func (r *Rules) step() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stepMs
}

// apply merges a control request; it refuses a bad rule whole.
func (r *Rules) apply(body map[string]any) error {
	parsed := map[string]map[int]Outcome{}
	if is, ok := body["issues"].(map[string]any); ok {
		for issue, rule := range is {
			m, ok := rule.(map[string]any)
			if !ok {
				return fmt.Errorf("issue rule must map attempt to outcome")
			}
			parsed[issue] = map[int]Outcome{}
			for att, out := range m {
				s, _ := out.(string)
				o, ok := parseOutcome(s)
				a := 0
				if att != "*" {
					a, _ = strconv.Atoi(att)
				}
				if !ok || (a <= 0 && att != "*") {
					return fmt.Errorf("bad rule for %s: attempt %s", issue, att)
				}
				parsed[issue][a] = o
			}
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if f, ok := body["failRate"].(float64); ok {
		r.failRate = f
	}
	if s, ok := body["stepMs"].(float64); ok {
		r.stepMs = int64(s)
	}
	for k, v := range parsed {
		r.issues[k] = v
	}
	return nil
}

func (r *Rules) summary() map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return map[string]any{"failRate": r.failRate, "stepMs": r.stepMs, "issues": len(r.issues)}
}

// decide picks a Workload's outcome: its annotation, then the issue rule for its attempt
// (or any attempt), then the seeded coin.
func (r *Rules) decide(wl map[string]any) Outcome {
	if o, ok := parseOutcome(str(wl, "metadata", "annotations", "sim.llmkube.dev/outcome")); ok {
		return o
	}
	attempt := 1
	if a, err := strconv.Atoi(str(wl, "metadata", "annotations", "foreman.llmkube.dev/attempt")); err == nil {
		attempt = a
	}
	key := str(wl, "spec", "repo") + "#" + firstIssue(wl)
	r.mu.Lock()
	defer r.mu.Unlock()
	if m, ok := r.issues[key]; ok {
		if o, ok := m[attempt]; ok {
			return o
		}
		if o, ok := m[0]; ok {
			return o
		}
	}
	if r.rng.Float64() < r.failRate {
		return FailReview
	}
	return Succeed
}

func firstIssue(wl map[string]any) string {
	spec, _ := wl["spec"].(map[string]any)
	is, _ := spec["issues"].([]any)
	if len(is) == 0 {
		return ""
	}
	switch n := is[0].(type) {
	case int64:
		return strconv.FormatInt(n, 10)
	case float64:
		return strconv.FormatInt(int64(n), 10)
	case string:
		return n
	}
	return ""
}

// str reads a string at a path of object keys; "" when any step is missing or not a string.
func str(o map[string]any, path ...string) string {
	var cur any = o
	for _, k := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = m[k]
	}
	s, _ := cur.(string)
	return s
}
