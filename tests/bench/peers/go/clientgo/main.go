// The watch benchmark's client-go peer: a dynamic SharedIndexInformer over unstructured
// Workloads (the way a generic operator watches a CRD), counting the events its handler
// sees after the list. Prints one JSON line like watch-bench.
//
//	clientgo KUBECONFIG NAMESPACE EVENTS TIMEOUT_S
package main

import (
	"fmt"
	"os"

	"foreman-dispatch-bridge/bench/peers/benchline"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
)

func main() {
	a := benchline.ParseArgs("client-go")
	m := benchline.NewMeter("client-go", a)
	cfg, err := clientcmd.BuildConfigFromFlags("", a.Kubeconfig)
	if err != nil {
		fmt.Fprintln(os.Stderr, "client-go:", err)
		os.Exit(2)
	}
	// The list comes in pages: client-side rate limiting (5 requests/s by default) would
	// measure the limiter, not the informer.
	cfg.QPS, cfg.Burst = 1e6, 1e6
	dc, err := dynamic.NewForConfig(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "client-go:", err)
		os.Exit(2)
	}
	gvr := schema.GroupVersionResource{Group: "foreman.llmkube.dev", Version: "v1alpha1", Resource: "workloads"}
	factory := dynamicinformer.NewFilteredDynamicSharedInformerFactory(dc, 0, a.Namespace, nil)
	informer := factory.ForResource(gvr).Informer()
	count := func(any) { m.Event() }
	reg, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: count, UpdateFunc: func(_, o any) { m.Event() }, DeleteFunc: count,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "client-go:", err)
		os.Exit(2)
	}
	stop := make(chan struct{})
	factory.Start(stop)
	// The handler's own sync: every listed object delivered to it, not only stored.
	if !cache.WaitForCacheSync(stop, informer.HasSynced, reg.HasSynced) {
		fmt.Fprintln(os.Stderr, "client-go: cache did not sync")
		os.Exit(1)
	}
	m.Listed(len(informer.GetStore().ListKeys()))
	done := m.Wait(a.Timeout)
	m.Finish(len(informer.GetStore().ListKeys()), done)
}
