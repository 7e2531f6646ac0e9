#!/usr/bin/env bash
# The bridge's cost when nothing changes: kube-sim with WORKLOADS Running Workloads (nothing
# for the bridge to do; Foreman's step is an hour) and its dispatch side, the real
# foreman-dispatch-bridge with its defaults (leader election on a Lease renewed every
# RETRY_PERIOD_S, the claim loop every CLAIM_INTERVAL_S, three watches with bookmarks every
# BOOKMARK_MS), and, once it is ready and has settled, the CPU seconds it uses over SECONDS
# (utime + stime from /proc/PID/stat). Prints one JSON line.
#   tests/bench/idle_cpu.sh BUILD_DIR [WORKLOADS (10000)] [SECONDS (60)]
# BOOKMARK_MS (5000: kube-sim's default; a real API server sends one about every minute),
# SETTLE_S (15: after ready, for the first reconcile of every cached Workload).
set -euo pipefail
build="$(cd "${1:?usage: idle_cpu.sh BUILD_DIR [WORKLOADS] [SECONDS]}" && pwd)"
workloads="${2:-10000}"
seconds="${3:-60}"
bookmark_ms="${BOOKMARK_MS:-5000}"
settle_s="${SETTLE_S:-15}"
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

"$build/tests/sim/kube-sim" --listen 127.0.0.1:0 --dispatch-listen 127.0.0.1:0 --kubeconfig-out "$work/kubeconfig" \
  --kubeconfig-namespace llm --seed-workloads "$workloads" --seed-phase running --foreman-step-ms 3600000 \
  --bookmark-ms "$bookmark_ms" >"$work/sim.out" 2>"$work/sim.log" &
pids+=($!)
for _ in $(seq 1 600); do grep -q '^dispatch listening on ' "$work/sim.out" 2>/dev/null && break; sleep 0.1; done
dispatch="$(sed -n 's/^dispatch listening on //p' "$work/sim.out")"
[ -n "$dispatch" ] || { echo "idle_cpu: kube-sim did not start" >&2; cat "$work/sim.log" >&2; exit 1; }

# Two free loopback ports for /metrics and /readyz.
read -r metrics_port health_port < <(/usr/bin/python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
KUBECONFIG="$work/kubeconfig" DISPATCH_URL="$dispatch" DISPATCH_AGENT_TOKEN=idle FOREMAN_NAMESPACE=llm \
  METRICS_ADDR="127.0.0.1:$metrics_port" HEALTH_ADDR="127.0.0.1:$health_port" LOG_LEVEL=warn \
  "$build/operator/foreman-dispatch-bridge" >"$work/bridge.log" 2>&1 &
bridge=$!
pids+=("$bridge")

ready=""
for _ in $(seq 1 1200); do
  if /usr/bin/python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$health_port/readyz', timeout=2)" 2>/dev/null; then
    ready=1; break
  fi
  kill -0 "$bridge" 2>/dev/null || break
  sleep 0.1
done
[ -n "$ready" ] || { echo "idle_cpu: the bridge did not become ready" >&2; tail -5 "$work/bridge.log" >&2; exit 1; }
sleep "$settle_s"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$bridge/stat"; }
t0=$(cpu_ticks)
sleep "$seconds"
t1=$(cpu_ticks)
hz=$(getconf CLK_TCK)
rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$bridge/status")
cached=$(/usr/bin/python3 -c "
import urllib.request
for l in urllib.request.urlopen('http://127.0.0.1:$metrics_port/metrics', timeout=5).read().decode().splitlines():
    if l.startswith('foreman_bridge_cache_objects') and 'workloads' in l: print(int(float(l.split()[-1]))); break
else: print(-1)")
/usr/bin/python3 - "$t0" "$t1" "$hz" "$seconds" "$workloads" "$rss" "$cached" "$bookmark_ms" <<'PY'
import json, sys
t0, t1, hz, secs, n, rss, cached, bm = (float(x) for x in sys.argv[1:])
cpu = (t1 - t0) / hz
print(json.dumps({"tool": "idle-cpu", "workloads": int(n), "cached_workloads": int(cached), "idle_seconds": secs,
                  "bookmark_ms": int(bm), "cpu_seconds": round(cpu, 3),
                  "percent_of_one_core": round(100 * cpu / secs, 3), "rss_kb": int(rss)}))
PY
