#!/usr/bin/env python3
"""kube-sim held to the real API server: the same requests to both, their answers reduced to
what the bridge depends on (status code, Status reason, what was kept or pruned, what was
defaulted, how a watch starts and ends), compared side by side.

  fidelity.py --build BUILD --state STATE

Prints one row per probe (same / DIFFERENT) and exits 1 when a probe differs and is not
in KNOWN (each of which docs/real-cluster.md's fidelity table explains)."""
import argparse
import json
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kube import GROUP, ApiError  # noqa: E402
from world import RealWorld, SimWorld, post_json  # noqa: E402

# Differences that stay, by probe name; docs/real-cluster.md says why.
KNOWN = {}


def code_of(fn):
    try:
        fn()
        return "ok"
    except ApiError as e:
        try:
            body = json.loads(e.body)
        except ValueError:
            body = {}
        return "%d %s" % (e.code, body.get("reason", ""))


def workload(name, **extra):
    wl = {"apiVersion": "foreman.llmkube.dev/v1alpha1", "kind": "Workload",
          "metadata": {"name": name, "labels": {"created-by": "dispatch-bridge"}},
          "spec": {"intent": "probe", "repo": "o/r", "issues": [1]}}
    for k, v in extra.items():
        wl["spec"][k] = v
    return wl


def probes(w):
    k, ns = w.kube, w.ns
    col = "%s/namespaces/%s/workloads" % (GROUP, ns)
    out = {}
    created = k.request("POST", col, workload("p-1", unknownField="dropped"))
    out["create: unknown spec field"] = "pruned" if "unknownField" not in created["spec"] else "kept"
    out["create: metadata.generation"] = created["metadata"].get("generation")
    out["create: status on create"] = "dropped" if "status" not in created else "kept"
    out["create: same name"] = code_of(lambda: k.request("POST", col, workload("p-1")))
    out["create: bad enum in status ignored, bad type in spec"] = code_of(
        lambda: k.request("POST", col, workload("p-2", issues="seven")))
    out["create: name over 253"] = code_of(lambda: k.request("POST", col, workload("p-" + "x" * 260)))
    out["get: missing"] = code_of(lambda: k.request("GET", col + "/nope"))
    try:
        k.request("GET", col + "/nope")
    except ApiError as e:
        st = json.loads(e.body)
        out["get: missing, Status body"] = {"kind": st.get("kind"), "status": st.get("status"),
                                            "details": st.get("details"), "code": st.get("code")}
    # One Event, both groups (what `kubectl get events` reads).
    k.request("POST", "/apis/events.k8s.io/v1/namespaces/%s/events" % ns, {
        "apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "p-1.1"},
        "eventTime": "2026-01-02T03:04:05.000000Z", "reportingController": "fdb", "reportingInstance": "fdb-0",
        "action": "Retry", "reason": "Retried", "type": "Normal", "note": "n",
        "regarding": {"apiVersion": "foreman.llmkube.dev/v1alpha1", "kind": "Workload", "name": "p-1", "namespace": ns}})
    core = k.request("GET", "/api/v1/namespaces/%s/events" % ns)["items"]
    out["events: events.k8s.io/v1 read as core/v1"] = [
        (e.get("reason"), e.get("message"), e.get("involvedObject", {}).get("name"), e.get("reportingComponent"))
        for e in core]
    out["delete: uid precondition mismatch"] = code_of(lambda: k.request(
        "DELETE", col + "/p-1", {"kind": "DeleteOptions", "apiVersion": "v1",
                                 "preconditions": {"uid": "00000000-0000-0000-0000-000000000000"}}))
    out["patch: merge annotations"] = code_of(lambda: k.request(
        "PATCH", col + "/p-1", {"metadata": {"annotations": {"a": "b"}}}, ctype="application/merge-patch+json"))
    out["update: stale resourceVersion"] = code_of(lambda: k.request(
        "PUT", col + "/p-1", dict(created, metadata=dict(created["metadata"]))))
    out["status: put unknown phase"] = code_of(lambda: k.request(
        "PUT", col + "/p-1/status", dict(k.request("GET", col + "/p-1"), status={"phase": "Exploded"})))
    # Lease conflict, as two electors race.
    leases = "/apis/coordination.k8s.io/v1/namespaces/%s/leases" % ns
    lease = k.request("POST", leases, {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                                       "metadata": {"name": "probe"}, "spec": {"holderIdentity": "a"}})
    k.request("PUT", leases + "/probe", dict(lease, spec={"holderIdentity": "b"}))
    out["lease: update at an old resourceVersion"] = code_of(
        lambda: k.request("PUT", leases + "/probe", dict(lease, spec={"holderIdentity": "c"})))
    # Watches: the streaming list's shape, and a resume from far too old.
    ev = k.watch_lines(col + "?sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true", 15)
    out["watchlist: events then bookmark"] = [e["type"] for e in ev][-2:]
    out["watchlist: without resourceVersionMatch"] = code_of(
        lambda: k.request("GET", col + "?watch=1&sendInitialEvents=true&timeoutSeconds=1"))
    # A watch from a resourceVersion older than what the server keeps (kube-sim's history
    # expired first; the real watch cache never held "1").
    if w.name == "sim":
        post_json(w.sim_url + "/_sim/faults", {"action": "expireHistory"})
    try:
        old = k.watch_lines(col + "?resourceVersion=1", 5)
        first = old[0] if old else {}
        out["watch: from a resourceVersion too old"] = [
            "200", first.get("type"), first.get("object", {}).get("code"), first.get("object", {}).get("reason")]
    except ApiError as e:
        out["watch: from a resourceVersion too old"] = [str(e.code), json.loads(e.body).get("reason")]
    # Foreground delete: the object stays, terminating, with the foregroundDeletion finalizer.
    task = {"apiVersion": "foreman.llmkube.dev/v1alpha1", "kind": "AgenticTask",
            "metadata": {"name": "p-1-task", "ownerReferences": [
                {"apiVersion": "foreman.llmkube.dev/v1alpha1", "kind": "Workload", "name": "p-1",
                 "uid": created["metadata"]["uid"], "blockOwnerDeletion": True}]},
            "spec": {"kind": "issue-fix", "agentRef": {"name": "x"}, "payload": {}}}
    k.request("POST", "%s/namespaces/%s/agentictasks" % (GROUP, ns), task)
    # The DELETE's own answer is the object as the deletion left it: a GET after it races the
    # garbage collector, which on an idle real control plane can finish within milliseconds.
    after = k.request("DELETE", col + "/p-1", {"kind": "DeleteOptions", "apiVersion": "v1",
                                               "propagationPolicy": "Foreground"})
    out["foreground: finalizers while terminating"] = (after or {}).get("metadata", {}).get("finalizers")
    deadline = time.monotonic() + 30
    while k.get(col + "/p-1") is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    out["foreground: owned task gone with it"] = k.get("%s/namespaces/%s/agentictasks/p-1-task" % (GROUP, ns)) is None
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--state", required=True)
    a = ap.parse_args()
    ns = "fidelity-%d" % (os.getpid() % 100000)
    sim = real = None
    try:
        sim = SimWorld(a.build, "fidelity", ns)
        real = RealWorld(a.build, "fidelity", ns, a.state)
        got_sim, got_real = probes(sim), probes(real)
    finally:
        for w in (sim, real):
            if w:
                w.close()
                shutil.rmtree(w.dir, ignore_errors=True)
    bad = 0
    width = max(len(p) for p in got_real)
    for p in got_real:
        same = got_sim.get(p) == got_real[p]
        mark = "same" if same else ("known" if p in KNOWN else "DIFFERENT")
        bad += 0 if same or p in KNOWN else 1
        print("%-*s  %-9s  real=%s  sim=%s" % (width, p, mark, json.dumps(got_real[p]), json.dumps(got_sim.get(p))))
    print("%d passed, %d failed" % (len(got_real) - bad, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
