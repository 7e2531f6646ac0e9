#!/usr/bin/env bash
# The watch benchmark against peers, in one go against one API server loaded with the same
# data: our watch-bench (the real informer) and, built or installed once into the build
# folder, the informers operator authors choose:
#   client-go           a dynamic SharedIndexInformer over unstructured Workloads (Go)
#   controller-runtime  the manager's cache, Workloads as unstructured objects (Go)
#   kube-rs             kube::runtime::reflector over DynamicObject, release build (Rust)
#   client-node         @kubernetes/client-node's makeInformer (Node)
#   python              Debian's python3-kubernetes watch into a dict
# Each lists every Workload, then sees EVENTS changes (annotation patches) and prints one
# JSON line: list+sync seconds, watch events per second, peak RSS, bytes per object.
#
# Against kube-sim (the default: a fresh one, N Workloads seeded inside it): each tool's
# watch request is held by the simulator (a latency fault) while the changes are made, so
# every tool drains the same backlog from the simulator's history, which it sends as fast
# as the socket takes it: what is measured is the tool's ingest, not the rate at which
# changes are made. One more run gives the ceiling of the machine: watch-bench in transport
# mode (the same API client reading the same watch: socket, HTTP chunking and lines, no
# JSON); and watch-bench measures, on a sample of the same objects, Boost.JSON's parse and
# tokenizer rates. Ingest cannot be faster than the transport and the tokenizer in series.
#
# Against any API server (TARGET_KUBECONFIG=path): the CRD from CRDS is applied with
# kubectl (APPLY_CRDS=0: the server serves Workloads already), N Workloads wl-bench-* are
# created in NAMESPACE (kept between runs), and each tool's watch is live while watch-bench
# --mode churn patches EVENTS of them: the figures are bound by how fast the API server
# takes patches and sends events — what a user sees end to end, not the tools' ceilings.
#
#   tests/bench/compare_watch.sh BUILD_DIR [OBJECTS (100000)] [EVENTS (100000)]
# ROUNDS: how many interleaved rounds of ours and the transport ceiling (default 3 against
# kube-sim, 1 against an API server); the summary gives the best and the median of each.
# SHAPE=realistic seeds Workloads shaped like a real API server's (managedFields, issue
# text) instead of the default intent padded with one long run of 'x': the same size,
# many more small values.
# PEERS: which peers to run, comma-separated (default all of them: client-go,
# controller-runtime,kube-rs,client-node,python); PEERS=0 runs our two tools only (the
# CTest smoke run does that). A peer whose toolchain is missing (GO, CARGO, NPM, PYTHON:
# the commands used, default go, cargo, npm, /usr/bin/python3) or does not build is
# skipped with one line. Exits 1 when one of our runs does not complete.
set -euo pipefail
build="$(cd "${1:?usage: compare_watch.sh BUILD_DIR [OBJECTS] [EVENTS]}" && pwd)"
objects="${2:-100000}"
events="${3:-100000}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
sim_pid=""
cleanup() { [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

all_peers="client-go,controller-runtime,kube-rs,client-node,python"
peers="${PEERS:-$all_peers}"
[ "$peers" = 0 ] && peers=""
[ "$peers" = 1 ] && peers="$all_peers"
wants() { [[ ",$peers," == *",$1,"* ]]; }
GO="${GO:-go}" CARGO="${CARGO:-cargo}" NPM="${NPM:-npm}" PYTHON="${PYTHON:-/usr/bin/python3}"
peer_dir="$build/tests/bench/peers"
# shellcheck source=tests/bench/peers/build_peers.sh
source "$here/peers/build_peers.sh"
build_peers  # sets have_<peer>=1 for each peer ready to run; says one line for each skipped

bench="$build/tests/bench/watch-bench"
shape="${SHAPE:-padded}"
if [ -n "${TARGET_KUBECONFIG:-}" ]; then
  mode=live
  kubeconfig="$TARGET_KUBECONFIG"
  ns="${NAMESPACE:-bench-watch}"
  if [ "${APPLY_CRDS:-1}" = 1 ]; then
    crds="${CRDS:-$here/../../../shared/crds}"
    kubectl="${KUBECTL:-kubectl}"
    command -v "$kubectl" >/dev/null || { echo "compare_watch: no kubectl ($kubectl) to apply $crds (KUBECTL=path, or APPLY_CRDS=0)" >&2; exit 1; }
    "$kubectl" --kubeconfig "$kubeconfig" apply --server-side -f "$crds" >&2
    "$kubectl" --kubeconfig "$kubeconfig" wait --for condition=established --timeout=60s crd/workloads.foreman.llmkube.dev >&2
  fi
  echo "compare_watch: seeding $objects Workloads of ~2.5 KB ($shape) in namespace $ns" >&2
  "$bench" --kubeconfig "$kubeconfig" --namespace "$ns" --mode seed --objects "$objects" --shape "$shape" --bytes 2500 \
    --timeout 600 >"$work/seed.json"
  echo "compare_watch: $(cat "$work/seed.json")" >&2
else
  mode=sim
  ns=llm
  "$build/tests/sim/kube-sim" --listen 127.0.0.1:0 --kubeconfig-out "$work/kubeconfig" --kubeconfig-namespace llm \
    --seed-workloads "$objects" --workload-bytes 2500 --workload-shape "$shape" --history 400000 --watcher-buffer-mb 2048 \
    --foreman-step-ms 3600000 >"$work/sim.out" 2>"$work/sim.log" &
  sim_pid=$!
  for _ in $(seq 1 600); do grep -q '^kube-sim listening on ' "$work/sim.out" 2>/dev/null && break; sleep 0.1; done
  api="$(sed -n 's/^kube-sim listening on //p' "$work/sim.out")"
  [ -n "$api" ] || { echo "compare_watch: kube-sim did not start" >&2; cat "$work/sim.log" >&2; exit 1; }
  kubeconfig="$work/kubeconfig"
  echo "kube-sim on $api with $objects Workloads of ~2.5 KB ($shape); $events watch events per tool" >&2
fi

sim_post() {
  /usr/bin/python3 - "$api$1" "$2" <<'PY'
import sys, urllib.request
req = urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(), headers={"Content-Type": "application/json"}, method="POST")
urllib.request.urlopen(req, timeout=600).read()
PY
}

# Long enough for the simulator to make all the changes (it makes ~40k a second).
hold_ms=$(( events / 15 + 3000 ))

# Runs one tool: (kube-sim) holds its watch for hold_ms, waits for its "listed" line, then
# has the changes made (by kube-sim while the watch is held, or through the API server).
run_tool() {
  local name="$1"; shift
  [ "$mode" = sim ] && sim_post /_sim/faults "{\"path\":\"/apis/foreman.llmkube.dev/v1alpha1/namespaces/llm/workloads\",\"method\":\"GET\",\"latencyMs\":$hold_ms,\"count\":1,\"watchOnly\":true}"
  "$@" >"$work/$name.json" 2>"$work/$name.err" &
  local pid=$!
  for _ in $(seq 1 6000); do
    grep -q 'listed' "$work/$name.err" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ "$mode" = sim ]; then
    sim_post /_sim/churn "{\"count\":$events}"
  else
    "$bench" --kubeconfig "$kubeconfig" --namespace "$ns" --mode churn --objects "$objects" --events "$events" \
      --timeout 600 >"$work/$name.churn.json" || echo "compare_watch: churn for $name: $(cat "$work/$name.churn.json")" >&2
  fi
  wait "$pid" || echo "compare_watch: $name did not finish: $(tail -2 "$work/$name.err")" >&2
  cat "$work/$name.json"
}

# Ours and the transport ceiling, interleaved for ROUNDS rounds (ours, transport, ours,
# transport, …) so that a load that comes and goes on a shared machine weighs on both
# sides alike; the summary reports the best and the median of each side. Each run's load
# average is recorded beside it. The first round of ours also forces (kube-sim) a relist
# with the cache full, for its peak memory.
rounds="${ROUNDS:-$([ "$mode" = sim ] && echo 3 || echo 1)}"
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "compare_watch: ROUNDS must be a positive number" >&2; exit 2; }
echo "compare_watch: $rounds interleaved rounds of ours and the transport ceiling; $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" >&2
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
echo "$(loadavg)" >"$work/load.start"
for r in $(seq 1 "$rounds"); do
  sim_relist=false
  [ "$mode" = sim ] && [ "$r" = 1 ] && sim_relist=true
  loadavg >"$work/ours.r$r.load"
  run_tool "ours.r$r" "$bench" --kubeconfig "$kubeconfig" --namespace "$ns" --events "$events" --timeout 600 --sim-relist "$sim_relist"
  loadavg >"$work/transport.r$r.load"
  run_tool "transport.r$r" "$bench" --kubeconfig "$kubeconfig" --namespace "$ns" --events "$events" --timeout 600 --mode transport
done
peer_args=("$kubeconfig" "$ns" "$events" 600)
[ "${have_client_go:-0}" = 1 ] && run_tool client-go env KUBE_FEATURE_WatchListClient=false "$peer_dir/go/clientgo" "${peer_args[@]}"
[ "${have_controller_runtime:-0}" = 1 ] && run_tool controller-runtime env KUBE_FEATURE_WatchListClient=false "$peer_dir/go/ctrlruntime" "${peer_args[@]}"
[ "${have_kube_rs:-0}" = 1 ] && run_tool kube-rs "$peer_dir/kube-rs/release/informer-kube-rs" "${peer_args[@]}"
if [ "${have_client_node:-0}" = 1 ]; then
  # client-node refuses plain http:// unless TLS verification is marked skipped.
  sed 's/^    server: http:/    insecure-skip-tls-verify: true\n    server: http:/' "$kubeconfig" >"$work/kubeconfig-node"
  run_tool client-node node "$peer_dir/node/informer_node.mjs" "$work/kubeconfig-node" "$ns" "$events" 600
fi
[ "${have_python:-0}" = 1 ] && run_tool python "$PYTHON" "$here/peers/informer_python.py" "${peer_args[@]}"

echo "$(loadavg)" >"$work/load.end"
MODE="$mode" /usr/bin/python3 "$here/compare_watch_table.py" "$work"
