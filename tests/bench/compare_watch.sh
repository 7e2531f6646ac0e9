#!/usr/bin/env bash
# The watch benchmark against peers, in one go against one kube-sim loaded with the same
# data: our watch-bench (the real informer), @kubernetes/client-node's makeInformer, and
# Debian's python3-kubernetes watch into a dict. Each lists every Workload, then the
# simulator makes EVENTS changes (annotation patches) that each tool must see. The tool's
# watch request is held by the simulator (a latency fault) while the changes are made, so
# every tool drains the same backlog from the simulator's history, which it sends as fast
# as the socket takes it: what is measured is the tool's ingest, not the rate at which the
# simulator can generate changes.
# One more run gives the ceiling of the machine: our watch-bench in transport mode (the same
# API client reading the same watch: socket, HTTP chunking and lines, no JSON). Ingest
# cannot be faster than the events arrive.
# Prints each tool's JSON line, then a table with the ratios.
#   tests/bench/compare_watch.sh BUILD_DIR [OBJECTS (100000)] [EVENTS (100000)]
# SHAPE=realistic seeds Workloads shaped like a real API server's (managedFields, issue
# text; kube-sim --workload-shape) instead of the default intent padded with one long run
# of 'x': the same size, many more small values.
# PEERS=0 runs our two tools only (the CTest smoke run does that). Exits 1 when one of
# our runs does not complete.
set -euo pipefail
build="$(cd "${1:?usage: compare_watch.sh BUILD_DIR [OBJECTS] [EVENTS]}" && pwd)"
objects="${2:-100000}"
events="${3:-100000}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
sim_pid=""
cleanup() { [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# client-node, installed once into the build folder.
node_dir="$build/bench-node"
peers="${PEERS:-1}"
if [ "$peers" = 1 ] && [ ! -d "$node_dir/node_modules/@kubernetes/client-node" ]; then
  mkdir -p "$node_dir"
  (cd "$node_dir" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund @kubernetes/client-node@1 >/dev/null) \
    || echo "compare_watch: cannot install @kubernetes/client-node; skipping it" >&2
fi
[ -d "$node_dir" ] && cp "$here/peers/informer_node.mjs" "$node_dir/"

"$build/tests/sim/kube-sim" --listen 127.0.0.1:0 --kubeconfig-out "$work/kubeconfig" --kubeconfig-namespace llm \
  --seed-workloads "$objects" --workload-bytes 2500 --workload-shape "${SHAPE:-padded}" --history 400000 --watcher-buffer-mb 2048 \
  --foreman-step-ms 3600000 >"$work/sim.out" 2>"$work/sim.log" &
sim_pid=$!
for _ in $(seq 1 600); do grep -q '^kube-sim listening on ' "$work/sim.out" 2>/dev/null && break; sleep 0.1; done
api="$(sed -n 's/^kube-sim listening on //p' "$work/sim.out")"
[ -n "$api" ] || { echo "compare_watch: kube-sim did not start" >&2; cat "$work/sim.log" >&2; exit 1; }
echo "kube-sim on $api with $objects Workloads of ~2.5 KB (${SHAPE:-padded}); $events watch events per tool" >&2

sim_post() {
  /usr/bin/python3 - "$api$1" "$2" <<'PY'
import sys, urllib.request
req = urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(), headers={"Content-Type": "application/json"}, method="POST")
urllib.request.urlopen(req, timeout=600).read()
PY
}

# Long enough for the simulator to make all the changes (it makes ~40k a second).
hold_ms=$(( events / 15 + 3000 ))

# Runs one tool: holds its watch for hold_ms, waits for its "listed" line,
# then has the simulator make the changes while the watch is held.
run_tool() {
  local name="$1"; shift
  sim_post /_sim/faults "{\"path\":\"/apis/foreman.llmkube.dev/v1alpha1/namespaces/llm/workloads\",\"method\":\"GET\",\"latencyMs\":$hold_ms,\"count\":1,\"watchOnly\":true}"
  "$@" >"$work/$name.json" 2>"$work/$name.err" &
  local pid=$!
  for _ in $(seq 1 3000); do
    grep -q 'listed' "$work/$name.err" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  sim_post /_sim/churn "{\"count\":$events}"
  wait "$pid" || echo "compare_watch: $name did not finish: $(tail -2 "$work/$name.err")" >&2
  cat "$work/$name.json"
}

run_tool ours "$build/tests/bench/watch-bench" --kubeconfig "$work/kubeconfig" --namespace llm \
  --events "$events" --timeout 600
run_tool transport "$build/tests/bench/watch-bench" --kubeconfig "$work/kubeconfig" --namespace llm \
  --events "$events" --timeout 600 --mode transport
if [ "$peers" = 1 ] && [ -d "$node_dir/node_modules/@kubernetes/client-node" ]; then
  # client-node refuses plain http:// unless TLS verification is marked skipped.
  sed 's/^    server: /    insecure-skip-tls-verify: true\n    server: /' "$work/kubeconfig" >"$work/kubeconfig-node"
  run_tool client-node node "$node_dir/informer_node.mjs" "$work/kubeconfig-node" llm "$events" 600
fi
if [ "$peers" = 1 ] && /usr/bin/python3 -c 'import kubernetes' 2>/dev/null; then
  run_tool python /usr/bin/python3 "$here/peers/informer_python.py" "$work/kubeconfig" llm "$events" 600
fi

/usr/bin/python3 - "$work" <<'PY'
import json, os, sys
work = sys.argv[1]
rows = {}
for name in ("ours", "client-node", "python", "transport"):
    p = os.path.join(work, name + ".json")
    if os.path.exists(p) and os.path.getsize(p) > 0:
        rows[name] = json.loads(open(p).read().strip().splitlines()[-1])
ours = rows.get("ours", {})
print()
print(f"{'tool':<18}{'objects':>9}{'list+sync s':>13}{'events/s':>11}{'peak RSS MB':>13}{'bytes/object':>14}")
for name in ("ours", "client-node", "python"):
    r = rows.get(name)
    if not r:
        continue
    print(f"{name:<18}{r['objects_listed']:>9}{r['list_seconds']:>13.2f}{r['watch_events_per_second']:>11}"
          f"{r['peak_rss_kb']/1024:>13.0f}{r['rss_per_object_bytes']:>14}")
print()
print("ceilings (events/s):")
r = rows.get("transport")
if r:
    print(f"  {'ours, transport only, no JSON':<38}{r['watch_events_per_second']:>11}  ({r.get('watch_megabytes_per_second', 0)} MB/s)")
if ours:
    print(f"  {'raw Boost.JSON parse':<38}{ours['raw_parse_events_per_second']:>11.0f}")
    if ours.get("raw_parse_arena_events_per_second"):
        print(f"  {'  into an arena':<38}{ours['raw_parse_arena_events_per_second']:>11.0f}")
    if ours.get("tokenize_events_per_second"):
        print(f"  {'  its tokenizer alone, building nothing':<38}{ours['tokenize_events_per_second']:>11.0f}")
    if ours.get("informer_no_network_events_per_second"):
        print(f"  {'ours, informer without the network':<38}{ours['informer_no_network_events_per_second']:>11.0f}")
    print()
    for name in ("client-node", "python"):
        r = rows.get(name)
        if r and r["watch_events_per_second"]:
            line = f"watch ingest, ours / {name}: {ours['watch_events_per_second'] / r['watch_events_per_second']:.1f}x"
            c = rows.get("transport")
            if c and c["watch_events_per_second"]:
                line += f" (the transport ceiling / {name}: {c['watch_events_per_second'] / r['watch_events_per_second']:.1f}x)"
            print(line)
    if ours["raw_parse_events_per_second"]:
        print(f"watch ingest, raw parse / ours: {ours['raw_parse_events_per_second'] / max(1, ours['watch_events_per_second']):.2f}x")
    if ours.get("raw_parse_arena_events_per_second"):
        print(f"watch ingest, raw parse into an arena / ours: {ours['raw_parse_arena_events_per_second'] / max(1, ours['watch_events_per_second']):.2f}x")
incomplete = [n for n in ("ours", "transport") if not rows.get(n, {}).get("completed")]
if incomplete:
    print("compare_watch: did not complete: " + ", ".join(incomplete), file=sys.stderr)
    sys.exit(1)
PY
