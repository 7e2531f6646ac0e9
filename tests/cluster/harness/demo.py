#!/usr/bin/env python3
"""The demo on the real control plane (scripts/dev cluster): the control plane up (already,
from STATE), the chart applied into namespace llm, foreman-standin failing about half the
Workloads (one issue at every attempt), kube-sim as dispatch with seeded issues, and the
bridge with the chart ServiceAccount's token for --seconds; then what happened.

  demo.py --build BUILD --state STATE [--seconds 60] [--issues 8]"""
import argparse
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kube import Recorder, retry_timeline  # noqa: E402
from scenarios import metric, workload_path  # noqa: E402
from world import RealWorld, post_json  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--state", required=True)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--issues", type=int, default=8)
    a = ap.parse_args()
    w = RealWorld(a.build, "demo", "llm", a.state, sim_args=["--seed-issues", str(a.issues), "--seed", "7"])
    try:
        post_json(w.foreman_url + "/_sim/foreman",
                  {"failRate": 0.5, "stepMs": 1000, "issues": {"acme/widgets#102": {"*": "fail-coder"}}})
        print("==> real control plane: %s (kube-apiserver, etcd, controller-manager built from source)" % w.kube.server)
        print("==> chart applied to namespace llm; the bridge runs as ServiceAccount foreman-dispatch-bridge")
        print("==> foreman-standin fails about half the Workloads (acme/widgets#102 at every attempt)")
        print("==> the bridge runs for %d s\n" % a.seconds)
        rec = Recorder(w.kube, workload_path(w))
        b = w.start_bridge({"LOG_FORMAT": "text", "LOG_LEVEL": "INFO", "CLAIM_INTERVAL_S": "5",
                            "PARK_ON_GIVE_UP": "false", "LEADER_ELECT": "true"})
        deadline = time.monotonic() + a.seconds
        shown = 0
        while time.monotonic() < deadline and b.proc.poll() is None:
            time.sleep(1)
            lines = b.log().splitlines()
            for line in lines[shown:]:
                print("  " + line)
            shown = len(lines)
        metrics = b.scrape() if b.proc.poll() is None else ""
        rec.close()
        b.stop()
        print("\n==> Workloads left on the API server:")
        print(w.kubectl("-n", "llm", "get", "workloads", "-o",
                        "custom-columns=NAME:.metadata.name,PHASE:.status.phase,"
                        "ATTEMPT:.metadata.annotations.foreman\\.llmkube\\.dev/attempt,"
                        "TOMBSTONE:.metadata.annotations.foreman\\.llmkube\\.dev/tombstone"))
        print("==> Events (kubectl get events):")
        print(w.kubectl("-n", "llm", "get", "events", "-o",
                        "custom-columns=REASON:.reason,OBJECT:.involvedObject.name,MESSAGE:.message"))
        events = rec.snapshot()
        names = sorted({o["metadata"]["name"] for _, _, o in events})
        lat = [r for n in names for r in retry_timeline(events, n) if "failed" in r and "delete" in r]
        if lat:
            f2d = sorted((r["delete"] - r["failed"]) * 1000 for r in lat)
            g2c = sorted((r["created"] - r["gone"]) * 1000 for r in lat)
            print("==> %d retries: Failed->DELETE median %.1f ms (max %.1f), gone->create median %.1f ms (max %.1f)"
                  % (len(lat), f2d[len(f2d) // 2], f2d[-1], g2c[len(g2c) // 2], g2c[-1]))
        if metrics:
            print("==> /metrics: %d created, %d retries, %d tombstones, %d API requests answered 403"
                  % (metric(metrics, "foreman_bridge_workloads_created_total"),
                     metric(metrics, "foreman_bridge_retries_total"),
                     metric(metrics, "foreman_bridge_tombstones_total"),
                     metric(metrics, "rest_client_requests_total", {"code": "403"})))
    finally:
        w.close()
        shutil.rmtree(w.dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
