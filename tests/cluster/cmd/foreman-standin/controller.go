package main

import (
	"context"
	"fmt"
	"log"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
)

// requestTimeout bounds every write (the informers' watches have their own timeouts).
const requestTimeout = 10 * time.Second

// controller: informers on Workloads and AgenticTasks, and a ticker that moves every due
// object one phase on (the shape of kube-sim's Foreman::tick). Each object waits one step
// in a phase before it moves; a write that fails (a conflict, a 404) is tried next tick.
type controller struct {
	client    dynamic.Interface
	ns        string
	rules     *Rules
	workloads cache.GenericLister
	tasks     cache.GenericLister
	factory   dynamicinformer.DynamicSharedInformerFactory
	due       map[string]time.Time // uid/phase -> when it may move
	outcome   map[string]Outcome   // workload uid -> outcome
}

func newController(client dynamic.Interface, ns string, rules *Rules) *controller {
	f := dynamicinformer.NewFilteredDynamicSharedInformerFactory(client, 10*time.Minute, ns, nil)
	return &controller{client: client, ns: ns, rules: rules, factory: f,
		workloads: f.ForResource(workloadsGVR).Lister(), tasks: f.ForResource(tasksGVR).Lister(),
		due: map[string]time.Time{}, outcome: map[string]Outcome{}}
}

func (c *controller) run(ctx context.Context) error {
	c.factory.Start(ctx.Done())
	for gvr, ok := range c.factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fmt.Errorf("cache of %s did not sync", gvr.Resource)
		}
	}
	t := time.NewTicker(25 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			c.tick(ctx, now)
		}
	}
}

// ready: true once the object has waited one step in this phase.
func (c *controller) ready(uid, phase string, now time.Time) bool {
	key := uid + "/" + phase
	d, ok := c.due[key]
	if !ok {
		c.due[key] = now.Add(time.Duration(c.rules.step()) * time.Millisecond)
		return false
	}
	return !now.Before(d)
}

func (c *controller) tick(ctx context.Context, now time.Time) {
	wls, _ := c.workloads.ByNamespace(c.ns).List(labels.Everything())
	live := map[string]bool{}
	for _, o := range wls {
		u := o.(*unstructured.Unstructured)
		live[string(u.GetUID())] = true
		if u.GetDeletionTimestamp() == nil {
			c.workload(ctx, u.DeepCopy(), now)
		}
	}
	ts, _ := c.tasks.ByNamespace(c.ns).List(labels.Everything())
	for _, o := range ts {
		u := o.(*unstructured.Unstructured)
		live[string(u.GetUID())] = true
		if u.GetDeletionTimestamp() == nil {
			c.task(ctx, u.DeepCopy(), now)
		}
	}
	for k := range c.due {
		if uid, _, _ := strings.Cut(k, "/"); !live[uid] {
			delete(c.due, k)
		}
	}
	for uid := range c.outcome {
		if !live[uid] {
			delete(c.outcome, uid)
		}
	}
}

func when(now time.Time) string { return now.UTC().Format(time.RFC3339) }

func (c *controller) writeStatus(ctx context.Context, gvr schema.GroupVersionResource, u *unstructured.Unstructured, status map[string]any) {
	u.Object["status"] = status
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	_, err := c.client.Resource(gvr).Namespace(c.ns).UpdateStatus(ctx, u, metav1.UpdateOptions{})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		log.Printf("foreman-standin: status of %s %s: %v", gvr.Resource, u.GetName(), err)
	}
}

func (c *controller) workload(ctx context.Context, u *unstructured.Unstructured, now time.Time) {
	uid := string(u.GetUID())
	phase := str(u.Object, "status", "phase")
	if phase == "Completed" || phase == "Failed" || !c.ready(uid, phase, now) {
		return
	}
	if _, ok := c.outcome[uid]; !ok {
		c.outcome[uid] = c.rules.decide(u.Object)
	}
	status, _ := u.Object["status"].(map[string]any)
	if status == nil {
		status = map[string]any{}
	}
	steps := stepsOf(u.Object)
	switch phase {
	case "":
		status["phase"], status["conditions"], status["plannerModel"] = "Planning", []any{}, "standin-planner"
		c.writeStatus(ctx, workloadsGVR, u, status)
	case "Planning", "Planned":
		for _, s := range steps {
			t := &unstructured.Unstructured{Object: taskObject(c.ns, u.GetName(), uid, s)}
			cctx, cancel := context.WithTimeout(ctx, requestTimeout)
			_, err := c.client.Resource(tasksGVR).Namespace(c.ns).Create(cctx, t, metav1.CreateOptions{})
			cancel()
			if err != nil && !apierrors.IsAlreadyExists(err) {
				log.Printf("foreman-standin: creating task %s: %v", t.GetName(), err)
				return
			}
		}
		status["phase"] = "Dispatched"
		c.writeStatus(ctx, workloadsGVR, u, status)
	case "Dispatched":
		var tasks []map[string]any
		for _, s := range steps {
			o, err := c.tasks.ByNamespace(c.ns).Get(taskName(u.GetName(), s))
			if err != nil {
				return
			}
			tasks = append(tasks, o.(*unstructured.Unstructured).Object)
		}
		if next, ok := rollup(status, c.ns, tasks, when(now)); ok {
			c.writeStatus(ctx, workloadsGVR, u, next)
		}
	}
}

// task: the test agent. A new task starts Running; one step later it finishes for its
// Workload's outcome (a hang leaves it Running).
func (c *controller) task(ctx context.Context, u *unstructured.Unstructured, now time.Time) {
	uid := string(u.GetUID())
	phase := str(u.Object, "status", "phase")
	if terminal(phase) || !c.ready(uid, phase, now) {
		return
	}
	status, _ := u.Object["status"].(map[string]any)
	if status == nil {
		status = map[string]any{}
	}
	if phase == "" {
		status["phase"], status["startedAt"] = "Running", when(now)
		c.writeStatus(ctx, tasksGVR, u, status)
		return
	}
	var owner string
	for _, r := range u.GetOwnerReferences() {
		if r.Kind == "Workload" {
			owner = string(r.UID)
		}
	}
	wlName := u.GetLabels()["foreman.llmkube.dev/workload"]
	o, err := c.workloads.ByNamespace(c.ns).Get(wlName)
	if err != nil || string(o.(*unstructured.Unstructured).GetUID()) != owner {
		return
	}
	wl := o.(*unstructured.Unstructured)
	oc, ok := c.outcome[owner]
	if !ok {
		oc = c.rules.decide(wl.Object)
		c.outcome[owner] = oc
	}
	if oc == Hang {
		return
	}
	pr := pullRequestURL(str(wl.Object, "spec", "repo"), owner, wlName)
	c.writeStatus(ctx, tasksGVR, u, finishTask(oc, str(u.Object, "spec", "kind"), pr, status, when(now)))
}
