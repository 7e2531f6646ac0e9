"""kubectl 1.32 against kube-sim: get, watch, create -f, patch --type=merge,
delete --cascade=foreground (owned AgenticTasks go first), get leases."""
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from simproc import SKIP, Sim, wait_until  # noqa: E402

WL = """apiVersion: foreman.llmkube.dev/v1alpha1
kind: Workload
metadata:
  name: wl-o-r-7
  labels:
    created-by: dispatch-bridge
  annotations:
    foreman.llmkube.dev/attempt: "1"
    sim.llmkube.dev/outcome: hang
spec:
  intent: Fix the parser
  repo: o/r
  issues: [7]
  coderAgentRef: {name: coder}
  verifierAgentRef: {name: gate}
"""
LEASE = """apiVersion: coordination.k8s.io/v1
kind: Lease
metadata:
  name: foreman-dispatch-bridge
spec:
  holderIdentity: pod-a
  leaseDurationSeconds: 15
  acquireTime: "2026-01-02T03:04:05.000000Z"
  renewTime: "2026-01-02T03:04:05.000000Z"
"""


class Kubectl:
    """kubectl with the simulator's kubeconfig; k() fails the test on a non-zero exit when `check`."""

    def __init__(self, kubectl, sim):
        self.kubectl, self.sim = kubectl, sim
        self.env = dict(os.environ, KUBECONFIG=sim.kubeconfig, HOME=sim.dir)

    def k(self, *args, check=True, stdin=None):
        r = subprocess.run([self.kubectl, *args], env=self.env, capture_output=True, text=True, input=stdin, timeout=60)
        if check and r.returncode != 0:
            raise AssertionError("kubectl %s failed: %s%s" % (" ".join(args), r.stdout, r.stderr))
        return r


def create_workload(kc):
    """create -f, then a second create refused with AlreadyExists."""
    path = os.path.join(kc.sim.dir, "wl.yaml")
    with open(path, "w") as f:
        f.write(WL)
    # The watch must be established before the create so it sees the ADDED.
    wait_until("the kubectl watch", lambda: kc.sim.control("GET", "/_sim/records")["requests"].get("GET workloads", 0) >= 2)
    time.sleep(0.2)
    r = kc.k("create", "-f", path)
    assert "workload.foreman.llmkube.dev/wl-o-r-7 created" in r.stdout, r.stdout
    r = kc.k("create", "-f", path, check=False)
    assert r.returncode != 0 and "AlreadyExists" in r.stderr, r.stderr


def check_tasks_and_patches(kc):
    """Foreman makes 3 AgenticTasks; a merge patch applies, a strategic one is refused (a CRD)."""
    k = kc.k
    tasks = wait_until("3 AgenticTasks", lambda: [l for l in k(
        "get", "agentictasks", "-l", "foreman.llmkube.dev/workload=wl-o-r-7", "-o", "name").stdout.split() if l] if len(
        k("get", "agentictasks", "-l", "foreman.llmkube.dev/workload=wl-o-r-7", "-o", "name").stdout.split()) == 3 else None)
    assert len(tasks) == 3, tasks
    k("patch", "wl", "wl-o-r-7", "--type=merge", "-p", '{"metadata":{"labels":{"lane":"cloud"}}}')
    assert k("get", "wl", "wl-o-r-7", "-o", "jsonpath={.metadata.labels.lane}").stdout == "cloud"
    phase = k("get", "wl", "wl-o-r-7", "-o", "jsonpath={.status.phase}").stdout
    assert phase == "Dispatched", phase
    r = k("patch", "wl", "wl-o-r-7", "--type=strategic", "-p", '{"spec":{}}', check=False)
    assert r.returncode != 0 and "the body of the request was in an unknown format" in r.stderr, r.stderr


def check_foreground_delete(kc):
    """delete --cascade=foreground: the tasks go first, then the Workload, in the history's order."""
    k, sim = kc.k, kc.sim
    rv_before = int(json.loads(k("get", "wl", "wl-o-r-7", "-o", "json").stdout)["metadata"]["resourceVersion"])
    r = k("delete", "wl", "wl-o-r-7", "--cascade=foreground", "--timeout=30s")
    assert 'workload.foreman.llmkube.dev "wl-o-r-7" deleted' in r.stdout, r.stdout
    assert k("get", "agentictasks", "-o", "name").stdout.strip() == ""
    r = k("get", "wl", "wl-o-r-7", check=False)
    assert r.returncode != 0 and "NotFound" in r.stderr, r.stderr

    # Order, from the history: MODIFIED (deletionTimestamp) first, then every task DELETED, then the Workload.
    base = "/apis/foreman.llmkube.dev/v1alpha1/namespaces/default/"
    q = "?watch=true&resourceVersion=%d&timeoutSeconds=1" % rv_before
    wl_ev = sim.watch_lines(base + "workloads" + q, 1)
    task_ev = sim.watch_lines(base + "agentictasks" + q, 1)
    rv = lambda e: int(e["object"]["metadata"]["resourceVersion"])  # noqa: E731
    marked = [rv(e) for e in wl_ev if e["type"] == "MODIFIED" and "deletionTimestamp" in e["object"]["metadata"]]
    wl_gone = [rv(e) for e in wl_ev if e["type"] == "DELETED"]
    tasks_gone = [rv(e) for e in task_ev if e["type"] == "DELETED"]
    assert marked and len(wl_gone) == 1 and len(tasks_gone) == 3, (wl_ev, task_ev)
    assert marked[0] < min(tasks_gone) and max(tasks_gone) < wl_gone[0], (marked, tasks_gone, wl_gone)
    finalizers = [e["object"]["metadata"].get("finalizers") for e in wl_ev if e["type"] == "MODIFIED"]
    assert ["foregroundDeletion"] in finalizers, finalizers


def check_leases(kc):
    lpath = os.path.join(kc.sim.dir, "lease.yaml")
    with open(lpath, "w") as f:
        f.write(LEASE)
    kc.k("create", "-f", lpath)
    r = kc.k("get", "leases")
    assert "foreman-dispatch-bridge" in r.stdout, r.stdout
    r = kc.k("get", "leases", "-A", "-o", "jsonpath={.items[0].spec.holderIdentity}")
    assert r.stdout == "pod-a", r.stdout


def main():
    binary = sys.argv[1]
    kubectl = sys.argv[2] if len(sys.argv) > 2 else shutil.which("kubectl")
    if not kubectl or not os.path.exists(kubectl):
        print("kubectl not found: skipped")
        return SKIP
    sim = Sim(binary, "--foreman-step-ms", "50", "--foreground-delay-ms", "200")
    kc = Kubectl(kubectl, sim)
    r = kc.k("get", "wl")
    assert "No resources found" in r.stdout + r.stderr, r

    watch_out = open(os.path.join(sim.dir, "watch.txt"), "w+")
    watcher = subprocess.Popen([kubectl, "get", "wl", "-w", "--output-watch-events"], env=kc.env,
                               stdout=watch_out, stderr=subprocess.STDOUT, text=True)
    try:
        create_workload(kc)
        check_tasks_and_patches(kc)
        check_foreground_delete(kc)

        def watched():
            watch_out.seek(0)
            text = watch_out.read()
            return text if ("ADDED" in text and "DELETED" in text and "wl-o-r-7" in text) else None
        wait_until("kubectl get wl -w to show ADDED and DELETED", watched)
    finally:
        watcher.terminate()
        watcher.wait(timeout=10)
    check_leases(kc)
    sim.stop()
    print("kubectl against kube-sim: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
