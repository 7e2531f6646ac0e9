package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
)

var (
	agentsGVR     = schema.GroupVersionResource{Group: "foreman.llmkube.dev", Version: "v1alpha1", Resource: "agents"}
	fleetNodesGVR = schema.GroupVersionResource{Group: "foreman.llmkube.dev", Version: "v1alpha1", Resource: "fleetnodes"}
)

// fleetAgent plays foreman-agent beside LLMKube's real foreman-operator (--agent-only):
// it registers FleetNodes (cluster-scoped, Ready, a heartbeat every 20 s; the real
// scheduler reserves one node per task, so several let tasks run side by side), creates
// the Agents the Workloads name (the real scheduler fails a task whose Agent is missing),
// claims the tasks scheduled to its nodes (Scheduled -> Running) and, one step later,
// writes foreman-agent's terminal status for the outcome of the task's Workload.
type fleetAgent struct {
	client    dynamic.Interface
	ns        string
	rules     *Rules
	nodes     map[string]bool
	agents    map[string]string // name -> role
	tasks     cache.GenericLister
	workloads cache.GenericLister
	factory   dynamicinformer.DynamicSharedInformerFactory
	running   map[string]time.Time // task uid -> when it may finish
	outcome   map[string]Outcome   // workload uid -> outcome
}

func newFleetAgent(client dynamic.Interface, ns string, rules *Rules, nodes int, agents map[string]string) *fleetAgent {
	f := dynamicinformer.NewFilteredDynamicSharedInformerFactory(client, 10*time.Minute, ns, nil)
	a := &fleetAgent{client: client, ns: ns, rules: rules, factory: f, nodes: map[string]bool{}, agents: agents,
		tasks: f.ForResource(tasksGVR).Lister(), workloads: f.ForResource(workloadsGVR).Lister(),
		running: map[string]time.Time{}, outcome: map[string]Outcome{}}
	for i := 0; i < nodes; i++ {
		a.nodes[fmt.Sprintf("standin-%s-%d", ns, i)] = true
	}
	return a
}

func (a *fleetAgent) run(ctx context.Context) error {
	for name, role := range a.agents {
		if err := a.ensureAgent(ctx, name, role); err != nil {
			return err
		}
	}
	for n := range a.nodes {
		if err := a.ensureNode(ctx, n); err != nil {
			return err
		}
	}
	defer a.removeNodes()
	a.factory.Start(ctx.Done())
	for gvr, ok := range a.factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fmt.Errorf("cache of %s did not sync", gvr.Resource)
		}
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	beat := time.NewTicker(20 * time.Second)
	defer beat.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-beat.C:
			for n := range a.nodes {
				a.heartbeat(ctx, n)
			}
		case now := <-tick.C:
			a.tick(ctx, now)
		}
	}
}

func (a *fleetAgent) ensureAgent(ctx context.Context, name, role string) error {
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": apiVersion, "kind": "Agent",
		"metadata": map[string]any{"name": name, "namespace": a.ns},
		"spec":     map[string]any{"role": role, "tools": []any{"submit_result"}},
	}}
	cctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	_, err := a.client.Resource(agentsGVR).Namespace(a.ns).Create(cctx, obj, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create Agent %s: %w", name, err)
	}
	return nil
}

func (a *fleetAgent) ensureNode(ctx context.Context, name string) error {
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": apiVersion, "kind": "FleetNode",
		"metadata": map[string]any{"name": name},
		"spec":     map[string]any{"nodeName": name},
	}}
	cctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	_, err := a.client.Resource(fleetNodesGVR).Create(cctx, obj, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create FleetNode %s: %w", name, err)
	}
	a.heartbeat(ctx, name)
	return nil
}

func (a *fleetAgent) heartbeat(ctx context.Context, name string) {
	st := map[string]any{"status": map[string]any{"phase": "Ready", "lastHeartbeatTime": when(time.Now()),
		"agentKind": "foreman-agent", "agentVersion": "standin", "os": "linux", "arch": "amd64",
		"capability": map[string]any{"accelerator": "none", "totalRAMGB": 64, "availableRAMGB": 64,
			"maxContextTokens": 131072}}}
	a.patchStatus(ctx, a.client.Resource(fleetNodesGVR), name, st)
}

// removeNodes: a node left behind would stay Ready for 90 s and take the next run's tasks.
func (a *fleetAgent) removeNodes() {
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	for n := range a.nodes {
		if err := a.client.Resource(fleetNodesGVR).Delete(ctx, n, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			log.Printf("foreman-standin: delete FleetNode %s: %v", n, err)
		}
	}
}

func (a *fleetAgent) patchStatus(ctx context.Context, r dynamic.ResourceInterface, name string, body map[string]any) {
	data, err := json.Marshal(body)
	if err != nil {
		log.Printf("foreman-standin: status of %s: %v", name, err)
		return
	}
	cctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	if _, err := r.Patch(cctx, name, types.MergePatchType, data, metav1.PatchOptions{}, "status"); err != nil &&
		!apierrors.IsNotFound(err) {
		log.Printf("foreman-standin: status of %s: %v", name, err)
	}
}

func (a *fleetAgent) tick(ctx context.Context, now time.Time) {
	objs, _ := a.tasks.ByNamespace(a.ns).List(labels.Everything())
	live := map[string]bool{}
	for _, o := range objs {
		u := o.(*unstructured.Unstructured)
		uid := string(u.GetUID())
		live[uid] = true
		if u.GetDeletionTimestamp() != nil || !a.nodes[str(u.Object, "status", "assignedNode")] {
			continue
		}
		cur, _ := u.Object["status"].(map[string]any)
		tasks := a.client.Resource(tasksGVR).Namespace(a.ns)
		switch str(u.Object, "status", "phase") {
		case "Scheduled":
			node := str(u.Object, "status", "assignedNode")
			a.patchStatus(ctx, tasks, u.GetName(), map[string]any{"status": claimedStatus(cur, node, when(now))})
			a.running[uid] = now.Add(time.Duration(a.rules.step()) * time.Millisecond)
		case "Running":
			due, ok := a.running[uid]
			if !ok || now.Before(due) {
				continue
			}
			oc, ok := a.outcomeOf(u)
			if !ok {
				continue
			}
			branch := str(u.Object, "spec", "payload", "branch")
			wl := u.GetLabels()["foreman.llmkube.dev/workload"]
			res, finishes := resultFor(oc, str(u.Object, "spec", "kind"), branch,
				pullRequestURL(str(u.Object, "spec", "payload", "repo"), uid, wl))
			if !finishes {
				continue
			}
			a.patchStatus(ctx, tasks, u.GetName(), map[string]any{
				"status": terminalStatus(cur, str(u.Object, "spec", "kind"), res, when(now))})
			delete(a.running, uid)
		}
	}
	for uid := range a.running {
		if !live[uid] {
			delete(a.running, uid)
		}
	}
}

// outcomeOf: the outcome of the task's owning Workload (decided once per Workload uid).
func (a *fleetAgent) outcomeOf(u *unstructured.Unstructured) (Outcome, bool) {
	var owner string
	for _, r := range u.GetOwnerReferences() {
		if r.Kind == "Workload" {
			owner = string(r.UID)
		}
	}
	o, err := a.workloads.ByNamespace(a.ns).Get(u.GetLabels()["foreman.llmkube.dev/workload"])
	if err != nil || owner == "" || string(o.(*unstructured.Unstructured).GetUID()) != owner {
		return "", false
	}
	if oc, ok := a.outcome[owner]; ok {
		return oc, true
	}
	oc := a.rules.decide(o.(*unstructured.Unstructured).Object)
	a.outcome[owner] = oc
	return oc, true
}

// parseAgents: "coder=coder,reviewer=reviewer,gate=verifier" -> name -> role.
func parseAgents(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		if kv = strings.TrimSpace(kv); kv == "" {
			continue
		}
		name, role, ok := strings.Cut(kv, "=")
		if !ok || name == "" || role == "" {
			return nil, fmt.Errorf("agent %q: want name=role", kv)
		}
		out[name] = role
	}
	return out, nil
}
