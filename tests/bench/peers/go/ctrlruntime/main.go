// The watch benchmark's controller-runtime peer: the manager's cache (the informers
// controllers read from) watching Workloads as unstructured objects, counting the events
// its handler sees after the list. Prints one JSON line like watch-bench.
//
//	ctrlruntime KUBECONFIG NAMESPACE EVENTS TIMEOUT_S
package main

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"

	"foreman-dispatch-bridge/bench/peers/benchline"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	crcache "sigs.k8s.io/controller-runtime/pkg/cache"
	crlog "sigs.k8s.io/controller-runtime/pkg/log"
)

func fail(err error) {
	fmt.Fprintln(os.Stderr, "controller-runtime:", err)
	os.Exit(2)
}

func main() {
	crlog.SetLogger(logr.Discard())
	a := benchline.ParseArgs("controller-runtime")
	m := benchline.NewMeter("controller-runtime", a)
	cfg, err := clientcmd.BuildConfigFromFlags("", a.Kubeconfig)
	if err != nil {
		fail(err)
	}
	cfg.QPS, cfg.Burst = 1e6, 1e6 // as the client-go peer: measure the cache, not the limiter
	gvk := schema.GroupVersionKind{Group: "foreman.llmkube.dev", Version: "v1alpha1", Kind: "Workload"}
	// A fixed mapping (what discovery would answer), so that nothing but the watch is timed.
	mapper := meta.NewDefaultRESTMapper(nil)
	mapper.Add(gvk, meta.RESTScopeNamespace)
	c, err := crcache.New(cfg, crcache.Options{Mapper: mapper, DefaultNamespaces: map[string]crcache.Config{a.Namespace: {}}})
	if err != nil {
		fail(err)
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	ctx := context.Background()
	informer, err := c.GetInformer(ctx, u)
	if err != nil {
		fail(err)
	}
	var live atomic.Int64 // objects in the cache, as the handler saw them (listing them would copy them all)
	reg, err := informer.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { live.Add(1); m.Event() },
		UpdateFunc: func(_, _ any) { m.Event() },
		DeleteFunc: func(any) { live.Add(-1); m.Event() },
	})
	if err != nil {
		fail(err)
	}
	go func() {
		if err := c.Start(ctx); err != nil {
			fail(err)
		}
	}()
	if !c.WaitForCacheSync(ctx) || !toolscache.WaitForCacheSync(ctx.Done(), reg.HasSynced) {
		fmt.Fprintln(os.Stderr, "controller-runtime: cache did not sync")
		os.Exit(1)
	}
	m.Listed(int(live.Load()))
	done := m.Wait(a.Timeout)
	m.Finish(int(live.Load()), done)
}
