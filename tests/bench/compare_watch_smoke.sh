#!/usr/bin/env bash
# CTest's smoke runs of compare_watch.sh (small, fast: CI runs them).
#   compare_watch_smoke.sh BUILD_DIR no-toolchains   (two interleaved rounds)
#     every peer asked for, every peer's toolchain missing: each is skipped with one line
#     and our two runs complete.
#   compare_watch_smoke.sh BUILD_DIR kubeconfig
#     the mode for any API server (TARGET_KUBECONFIG), against an empty kube-sim reached
#     through its kubeconfig: seeding, live churn, our two runs complete.
set -euo pipefail
build="$(cd "${1:?usage: compare_watch_smoke.sh BUILD_DIR no-toolchains|kubeconfig}" && pwd)"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
sim_pid=""
cleanup() { [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

case "${2:-}" in
  no-toolchains)
    ROUNDS=2 PEERS=client-go,controller-runtime,kube-rs,client-node,python GO=/nonexistent/go CARGO=/nonexistent/cargo \
      NPM=/nonexistent/npm PYTHON=/nonexistent/python3 SHAPE=realistic \
      bash "$here/compare_watch.sh" "$build" 300 3000 2>"$work/err" | tee "$work/out"
    cat "$work/err" >&2
    for peer in "client-go and controller-runtime" kube-rs client-node python; do
      [ "$(grep -c "; skipping $peer\$" "$work/err")" = 1 ] || { echo "smoke: no single skip line for $peer" >&2; exit 1; }
    done
    grep -q '^ours ' "$work/out" || { echo "smoke: no table line for ours" >&2; exit 1; }
    grep -q "^  median " "$work/out" || { echo "smoke: no median of the interleaved rounds" >&2; exit 1; }
    ;;
  kubeconfig)
    "$build/tests/sim/kube-sim" --listen 127.0.0.1:0 --kubeconfig-out "$work/kubeconfig" --kubeconfig-namespace bench \
      --foreman-step-ms 3600000 >"$work/sim.out" 2>"$work/sim.log" &
    sim_pid=$!
    for _ in $(seq 1 300); do grep -q '^kube-sim listening on ' "$work/sim.out" 2>/dev/null && break; sleep 0.1; done
    TARGET_KUBECONFIG="$work/kubeconfig" NAMESPACE=bench APPLY_CRDS=0 PEERS=0 SHAPE=realistic \
      bash "$here/compare_watch.sh" "$build" 200 1000 | tee "$work/out"
    grep -q '^ours  *200 ' "$work/out" || { echo "smoke: ours did not list the 200 seeded Workloads" >&2; exit 1; }
    ;;
  *)
    echo "usage: compare_watch_smoke.sh BUILD_DIR no-toolchains|kubeconfig" >&2
    exit 2
    ;;
esac
