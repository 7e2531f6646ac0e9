// Command foreman-standin runs kube-sim's Foreman rules as a controller against a real
// API server: LLMKube's own foreman-operator cannot be built here (its module is not served
// by the Go module proxy this machine reaches; see docs/real-cluster.md). Two roles in one
// process, as in LLMKube: the Workload controller (plan, render AgenticTasks owned by the
// Workload, roll their phases up into the Workload's status) and a test agent playing
// foreman-agent (moves each task to Succeeded or Failed for the outcome a scenario set).
//
// With --agent-only only the test agent runs, in foreman-agent's shapes (fleetagent.go),
// beside LLMKube's real foreman-operator (FOREMAN_OPERATOR_BIN in the harness).
//
// Scenarios set outcomes as they do on kube-sim: POST /_sim/foreman on --listen, or the
// Workload annotation sim.llmkube.dev/outcome.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"
)

var (
	workloadsGVR = schema.GroupVersionResource{Group: "foreman.llmkube.dev", Version: "v1alpha1", Resource: "workloads"}
	tasksGVR     = schema.GroupVersionResource{Group: "foreman.llmkube.dev", Version: "v1alpha1", Resource: "agentictasks"}
)

func main() {
	kubeconfig := flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "admin kubeconfig")
	namespace := flag.String("namespace", "llm", "namespace of the Workloads")
	listen := flag.String("listen", "127.0.0.1:0", "control API (POST /_sim/foreman), loopback")
	stepMs := flag.Int64("step-ms", 200, "time between phase moves")
	failRate := flag.Float64("fail-rate", 0, "chance of fail-review when nothing else decides")
	seed := flag.Int64("seed", 1, "seed of the fail-rate coin")
	maxSeconds := flag.Int("max-seconds", 1800, "exit after this long (bounded)")
	agentOnly := flag.Bool("agent-only", false, "only the test agent, beside LLMKube's real foreman-operator: "+
		"FleetNodes, the Agents below, foreman-agent's claim and terminal status")
	nodes := flag.Int("nodes", 6, "FleetNodes to register (--agent-only)")
	agentList := flag.String("agents", "coder=coder,reviewer=reviewer,gate=verifier",
		"Agents to create in the namespace, name=role (--agent-only)")
	flag.Parse()

	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		log.Fatalf("foreman-standin: kubeconfig %s: %v", *kubeconfig, err)
	}
	cfg.QPS, cfg.Burst = 200, 400
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		log.Fatalf("foreman-standin: client: %v", err)
	}
	rules := newRules(*failRate, *stepMs, *seed)

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatalf("foreman-standin: listen %s: %v", *listen, err)
	}
	go serveControl(ln, rules)
	fmt.Printf("foreman-standin listening on http://%s\n", ln.Addr())
	os.Stdout.Sync()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, time.Duration(*maxSeconds)*time.Second)
	defer cancel()
	run := newController(client, *namespace, rules).run
	if *agentOnly {
		agents, err := parseAgents(*agentList)
		if err != nil {
			log.Fatalf("foreman-standin: --agents: %v", err)
		}
		run = newFleetAgent(client, *namespace, rules, *nodes, agents).run
	}
	if err := run(ctx); err != nil && ctx.Err() == nil {
		log.Fatalf("foreman-standin: %v", err)
	}
}

func serveControl(ln net.Listener, rules *Rules) {
	mux := http.NewServeMux()
	answer := func(w http.ResponseWriter, code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("/_sim/foreman", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			answer(w, 405, map[string]any{"error": "POST only"})
			return
		}
		var body map[string]any
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
			answer(w, 400, map[string]any{"error": err.Error()})
			return
		}
		if err := rules.apply(body); err != nil {
			answer(w, 400, map[string]any{"error": err.Error()})
			return
		}
		answer(w, 200, rules.summary())
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { answer(w, 200, map[string]any{"ok": true}) })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	if err := srv.Serve(ln); err != nil {
		log.Printf("foreman-standin: control server: %v", err)
	}
}
