#!/usr/bin/env python3
"""The cluster scenarios: one list, run against kube-sim (--world sim) or against the real
control plane with foreman-standin and the chart's RBAC (--world real --state DIR).

  scenarios.py --world sim|real --build BUILD [--state STATE] SCENARIO

Each scenario is bounded (every wait has a deadline, the whole run has --seconds) and
stops what it started. It prints one JSON line of figures (`figures: {...}`) and exits 0
when every check held, 1 otherwise. After every scenario the bridge's own
rest_client_requests_total must show no 403 (a verb the chart forgot) and no 422 (an
object the CRD refused)."""
import argparse
import json
import os
import re
import shutil
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kube import GROUP, Recorder, attempt_of, phase_of, retry_timeline  # noqa: E402
from world import RealWorld, SimWorld  # noqa: E402

FIGURES = {}


# With LLMKube's real foreman-operator (FOREMAN_OPERATOR_BIN) a Pending task whose dependency
# finished is woken by the FleetNode its dependency released; when nothing wakes it, it waits
# for its 10 s requeue (requeueWaitingForDeps), so the waits get room for that.
WAIT_SCALE = float(os.environ.get("CLUSTER_WAIT_SCALE") or (2 if os.environ.get("FOREMAN_OPERATOR_BIN") else 1))


def wait_until(what, fn, timeout=30.0, world=None):
    timeout *= WAIT_SCALE
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out (%ss) waiting for %s%s" % (timeout, what, logs_hint(world)))
        time.sleep(0.05)


def logs_hint(world):
    return "; logs in " + world.dir if world else ""


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def annotation(obj, key):
    return (obj or {}).get("metadata", {}).get("annotations", {}).get(key, "")


def metric(text, name, labels=None):
    """Sum of the samples of `name` whose labels include `labels`."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name) or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)', line)
        if not m or m.group(1) != name:
            continue
        got = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        if all(got.get(k) == v for k, v in (labels or {}).items()):
            total += float(m.group(3))
    return total


def try_scrape(b):
    try:
        return b.scrape()
    except OSError:
        return None


def ms(a, b):
    return round((b - a) * 1000.0, 1)


def workload_path(w, name=None):
    return "%s/namespaces/%s/workloads%s" % (GROUP, w.ns, "/" + name if name else "")


def created(w, name, attempt):
    wl = w.kube.workload(w.ns, name)
    return wl if wl and attempt_of(wl) == attempt and not wl["metadata"].get("deletionTimestamp") else None


# --- the scenarios, in the order of issue 16 --------------------------------------------

def claim_accepted(w):
    """A claim becomes a Workload the (real) CRD schema accepts as the bridge wrote it."""
    w.add_issue("acme/widgets", 1, title="Fix the parser")
    w.set_rule("acme/widgets", 1, {"*": "hang"})
    w.start_bridge()
    wl = wait_until("wl-acme-widgets-1", lambda: created(w, "wl-acme-widgets-1", "1"), world=w)
    spec = wl["spec"]
    check(spec.get("repo") == "acme/widgets" and spec.get("issues") == [1], "spec: %s" % spec)
    check(spec.get("intent", "").startswith("Fix the parser"), "intent: %s" % spec.get("intent"))
    check(wl["metadata"]["labels"].get("created-by") == "dispatch-bridge", "labels: %s" % wl["metadata"]["labels"])
    check(annotation(wl, "foreman.llmkube.dev/issue-id") == "I_acme/widgets_1", "issue-id annotation")
    wait_until("Foreman to dispatch it", lambda: phase_of(w.kube.workload(w.ns, "wl-acme-widgets-1")) == "Dispatched",
               world=w)
    check(w.dispatch_issue(1)["claimedBy"] == "foreman-coder", "dispatch claim")
    FIGURES["spec_keys"] = sorted(spec.keys())


def failed_retried(w):
    """Failed -> Foreground delete -> the GC removes the AgenticTasks -> gone -> attempt 2."""
    rec = Recorder(w.kube, workload_path(w))
    tasks = Recorder(w.kube, "%s/namespaces/%s/agentictasks" % (GROUP, w.ns))
    w.add_issue("o/r", 2)
    w.set_rule("o/r", 2, {"1": "fail-coder", "2": "hang"})
    w.start_bridge()
    wl2 = wait_until("attempt 2", lambda: created(w, "wl-o-r-2", "2"), world=w)
    # The coder failed before pushing: nothing to revise from (Foreman's cascade-failed or
    # skipped review is no evidence of a branch).
    check("reviseFromBranch" not in json.dumps(wl2["spec"]), "attempt 2 revises from a branch never pushed: %s"
          % json.dumps(wl2["spec"])[:400])
    time.sleep(0.5)
    rec.close()
    tasks.close()
    tl = retry_timeline(rec.snapshot(), "wl-o-r-2")
    check(len(tl) == 1, "one replacement expected, saw %s" % tl)
    r = tl[0]
    check(r["attempt"] == "1" and r["next_attempt"] == "2", "attempts: %s" % r)
    check(r["failed"] <= r["delete"] <= r["gone"] <= r["created"], "order: %s" % r)
    deleted = [t for t, typ, o in tasks.snapshot()
               if typ == "DELETED" and o["metadata"]["labels"].get("foreman.llmkube.dev/workload") == "wl-o-r-2"]
    check(len(deleted) >= 2, "the attempt-1 tasks were not deleted: %d" % len(deleted))
    check(max(deleted) <= r["gone"], "a task outlived its Workload (GC order)")
    adds = [o for _, typ, o in rec.snapshot() if typ == "ADDED" and o["metadata"]["name"] == "wl-o-r-2"]
    check(len(adds) == 2, "creates: %d" % len(adds))
    FIGURES.update(failed_to_delete_ms=ms(r["failed"], r["delete"]), delete_to_gone_ms=ms(r["delete"], r["gone"]),
                   gone_to_create_ms=ms(r["gone"], r["created"]), tasks_deleted=len(deleted))
    print("latency: Failed->DELETE %.1f ms, DELETE->gone %.1f ms (GC), gone->create %.1f ms"
          % (FIGURES["failed_to_delete_ms"], FIGURES["delete_to_gone_ms"], FIGURES["gone_to_create_ms"]))


def cap_tombstone(w):
    """At the cap with PARK_ON_GIVE_UP=false the last Failed Workload stays as a tombstone."""
    w.add_issue("o/r", 3)
    w.set_rule("o/r", 3, {"*": "fail-coder"})
    w.start_bridge({"PARK_ON_GIVE_UP": "false", "RETRY_MAX_ATTEMPTS": "2"})
    wait_until("tombstone at attempt 2", lambda: (lambda wl: wl and attempt_of(wl) == "2" and phase_of(wl) == "Failed"
                                                   and annotation(wl, "foreman.llmkube.dev/tombstone") == "true")(
        w.kube.workload(w.ns, "wl-o-r-3")), timeout=45, world=w)
    time.sleep(1.5)  # time for a wrong third attempt to show
    wl = w.kube.workload(w.ns, "wl-o-r-3")
    check(attempt_of(wl) == "2" and phase_of(wl) == "Failed", "tombstone moved: %s" % attempt_of(wl))


def cap_park(w):
    """At the cap by default the issue is parked for a human and the Workload removed."""
    w.add_issue("o/r", 9)
    w.set_rule("o/r", 9, {"*": "fail-coder"})
    w.start_bridge({"RETRY_MAX_ATTEMPTS": "2"})
    wait_until("attempt 2", lambda: created(w, "wl-o-r-9", "2"), timeout=45, world=w)
    issue = wait_until("parked", lambda: (lambda i: i if i["status"] == "backlog" and "needs-human" in i["labels"]
                                          and w.kube.workload(w.ns, "wl-o-r-9") is None else None)(w.dispatch_issue(9)),
                       timeout=45, world=w)
    check(len(issue["comments"]) == 1, "comments: %s" % issue["comments"])


def feedback_pipeline(w):
    """Attempt 2 carries the review's feedback in pipeline mode; the CRD accepts it and
    Foreman renders its steps as AgenticTasks."""
    w.add_issue("o/r", 4)
    w.set_rule("o/r", 4, {"1": "fail-review", "2": "hang"})
    w.start_bridge()
    wl = wait_until("attempt 2", lambda: created(w, "wl-o-r-4", "2"), timeout=45, world=w)
    pipeline = wl["spec"].get("pipeline") or []
    check(pipeline, "attempt 2 has no pipeline: %s" % json.dumps(wl["spec"])[:400])
    text = json.dumps(pipeline)
    check("empty input" in text or "handlesEmptyInput" in text, "the review feedback is missing: %s" % text[:400])
    names = sorted(s["name"] for s in pipeline)
    got = wait_until("the pipeline's tasks", lambda: (lambda ts: ts if len(ts) == len(pipeline) else None)(
        [t for t in w.kube.tasks(w.ns, "wl-o-r-4") if t["metadata"]["ownerReferences"][0]["uid"] == wl["metadata"]["uid"]]),
        world=w)
    check(sorted(t["metadata"]["labels"]["foreman.llmkube.dev/step"] for t in got) == names, "steps: %s" % names)
    kinds = {s["name"]: s["kind"] for s in pipeline}
    for t in got:
        check(t["spec"]["kind"] == kinds[t["metadata"]["labels"]["foreman.llmkube.dev/step"]], "kind of %s" % t["metadata"]["name"])
    FIGURES["pipeline_steps"] = names


def already_resolved(w):
    """The coder finds the issue already resolved: never a second attempt. kube-sim's and the
    stand-in's Foreman complete the Workload (AllAlreadyResolved: the issue goes done);
    LLMKube's real Foreman fails it when a verifier is configured (the review behind the
    Skipped verify is cascade-failed): the issue is parked for a human to confirm."""
    rec = Recorder(w.kube, workload_path(w))
    w.add_issue("o/r", 13)
    w.set_rule("o/r", 13, {"*": "resolved"})
    w.start_bridge()
    issue = wait_until("done or parked", lambda: (lambda i: i if i["status"] in ("done", "backlog") else None)(
        w.dispatch_issue(13)), timeout=45, world=w)
    time.sleep(1.0)  # time for a wrong second attempt to show
    rec.close()
    attempts = sorted({attempt_of(o) for _, typ, o in rec.snapshot() if o["metadata"]["name"] == "wl-o-r-13"})
    check(attempts == ["1"], "attempts seen: %s" % attempts)
    if issue["status"] == "backlog":
        check("needs-human" in issue["labels"] and len(issue["comments"]) == 1
              and "already resolved" in json.dumps(issue["comments"][0]),
              "parked without the reason: %s" % issue)
    FIGURES["issue_status"] = issue["status"]


def leader_sigkill(w):
    """Two replicas on a real Lease; the leader killed with SIGKILL; the other takes over and
    every issue gets exactly one Workload. With BRIDGE_IMAGE, replica 1 runs from the image."""
    rec = Recorder(w.kube, workload_path(w))
    env = {"LEADER_ELECT": "true", "LEASE_DURATION_S": "4", "RENEW_DEADLINE_S": "3", "RETRY_PERIOD_S": "1"}
    w.start_bridge(env)
    w.start_bridge(env, image=os.environ.get("BRIDGE_IMAGE") or None)
    lease_path = "/apis/coordination.k8s.io/v1/namespaces/%s/leases/foreman-dispatch-bridge" % w.ns
    lease = wait_until("a leader", lambda: (lambda l: l if l and l["spec"].get("holderIdentity") else None)(
        w.kube.get(lease_path)), world=w)
    holder = lease["spec"]["holderIdentity"]
    # Both replicas up (the image's too): exactly one says it leads.
    leading = wait_until("both replicas serving /metrics", lambda: (lambda v: v if None not in v else None)(
        [try_scrape(b) for b in w.bridges]), world=w)
    check(sum(metric(t, "leader_election_master_status") for t in leading) == 1, "leaders: not exactly one")
    leader = next(b for b in w.bridges if holder.startswith("bridge-%d" % b.index))
    w.add_issue("o/r", 5)
    w.set_rule("o/r", 5, {"*": "hang"})
    wait_until("wl-o-r-5", lambda: created(w, "wl-o-r-5", "1"), world=w)
    t_kill = time.monotonic()
    leader.kill(signal.SIGKILL)
    lease2 = wait_until("a new leader", lambda: (lambda l: l if l["spec"].get("holderIdentity") not in ("", holder)
                                                  else None)(w.kube.get(lease_path)), timeout=30, world=w)
    FIGURES["failover_ms"] = ms(t_kill, time.monotonic())
    w.add_issue("o/r", 6)
    w.set_rule("o/r", 6, {"*": "hang"})
    wait_until("wl-o-r-6 from the new leader", lambda: created(w, "wl-o-r-6", "1"), world=w)
    time.sleep(1.0)
    rec.close()
    adds = [o["metadata"]["name"] for _, typ, o in rec.snapshot() if typ == "ADDED"]
    check(sorted(adds) == ["wl-o-r-5", "wl-o-r-6"], "creates: %s" % adds)
    check(lease2["spec"].get("leaseTransitions", 0) >= 1, "leaseTransitions: %s" % lease2["spec"])
    FIGURES["image_replica"] = bool(os.environ.get("BRIDGE_IMAGE"))
    print("failover: lease taken %.0f ms after SIGKILL" % FIGURES["failover_ms"])


def relist_after_410(w):
    """etcd compacted and the API server restarted (kube-sim: history expired, watches
    dropped): the bridge's resumed watches get 410 and it relists, then goes on working."""
    w.add_issue("o/r", 7)
    w.set_rule("o/r", 7, {"*": "hang"})
    b = w.start_bridge()
    wait_until("wl-o-r-7", lambda: created(w, "wl-o-r-7", "1"), world=w)
    time.sleep(1.0)
    before = metric(b.scrape(), "foreman_bridge_watch_relists_total")
    FIGURES["compacted_at"] = w.compact_and_restart()
    # A change the bridge's watches must see after the 410.
    w.add_issue("o/r", 8)
    w.set_rule("o/r", 8, {"*": "hang"})
    wait_until("a relist", lambda: metric(b.scrape(), "foreman_bridge_watch_relists_total") > before, timeout=60, world=w)
    wait_until("wl-o-r-8 after the relist", lambda: created(w, "wl-o-r-8", "1"), timeout=30, world=w)
    # A kube-apiserver just restarted may answer 403 for a moment, before its RBAC
    # authorizer's caches are filled (docs/real-cluster.md): those are not the chart's.
    text = b.scrape()
    w.allowed[b.index] = {"403": metric(text, "rest_client_requests_total", {"code": "403"})}
    FIGURES["forbidden_after_restart"] = w.allowed[b.index]["403"]
    FIGURES["relists"] = metric(b.scrape(), "foreman_bridge_watch_relists_total") - before


def streaming_list(w):
    """The API server's WatchList: a watch with sendInitialEvents streams the state as
    ADDED events and ends it with a bookmark annotated k8s.io/initial-events-end; the
    bridge uses it (it never says "streaming list unavailable")."""
    w.add_issue("o/r", 10)
    w.set_rule("o/r", 10, {"*": "hang"})
    b = w.start_bridge()
    wait_until("wl-o-r-10", lambda: created(w, "wl-o-r-10", "1"), world=w)
    events = w.kube.watch_lines(workload_path(w) + "?sendInitialEvents=true&resourceVersionMatch=NotOlderThan"
                                "&allowWatchBookmarks=true", 20)
    types = [e["type"] for e in events]
    check(types and types[0] == "ADDED" and types[-1] == "BOOKMARK", "stream: %s" % types)
    check(events[-1]["object"]["metadata"]["annotations"].get("k8s.io/initial-events-end") == "true",
          "no initial-events-end bookmark: %s" % events[-1])
    time.sleep(1.0)
    check("streaming list unavailable" not in b.log(), "the bridge gave up streaming lists")
    FIGURES["initial_events"] = types.count("ADDED")


def events_visible(w):
    """The bridge's Events (events.k8s.io/v1) show in `kubectl get events`."""
    w.add_issue("o/r", 11)
    w.set_rule("o/r", 11, {"1": "fail-coder", "2": "hang"})
    w.start_bridge()
    wait_until("attempt 2", lambda: created(w, "wl-o-r-11", "2"), timeout=45, world=w)

    def retried():
        items = json.loads(w.kubectl("-n", w.ns, "get", "events", "-o", "json"))["items"]
        return [e for e in items if e.get("reason") == "Retried" and e["involvedObject"].get("name") == "wl-o-r-11"]
    ev = wait_until("a Retried event in kubectl get events", retried, timeout=20, world=w)
    check(ev[0]["involvedObject"].get("kind") == "Workload", "involvedObject: %s" % ev[0]["involvedObject"])
    # `kubectl describe` finds an object's Events by its uid: the event must name attempt 2's.
    uid = w.kube.workload(w.ns, "wl-o-r-11")["metadata"]["uid"]
    check(ev[0]["involvedObject"].get("uid") == uid, "involvedObject.uid %r, Workload's %r" %
          (ev[0]["involvedObject"].get("uid"), uid))
    described = w.kubectl("-n", w.ns, "describe", "workload", "wl-o-r-11")
    check("Retried" in described[described.find("Events:"):], "kubectl describe shows no Retried event")
    # kube-sim's Table for core Events has only NAME and AGE (docs/real-cluster.md), so the
    # columns are asked for by name.
    table = w.kubectl("-n", w.ns, "get", "events", "-o", "custom-columns=REASON:.reason,OBJECT:.involvedObject.name")
    check("Retried" in table and "wl-o-r-11" in table, "kubectl get events: %s" % table)


def metrics_scraped(w):
    """/metrics scraped after a claim and a retry."""
    w.add_issue("o/r", 12)
    w.set_rule("o/r", 12, {"1": "fail-review", "2": "hang"})
    b = w.start_bridge()
    wait_until("attempt 2", lambda: created(w, "wl-o-r-12", "2"), timeout=45, world=w)
    text = wait_until("the retry in /metrics", lambda: (lambda t: t if metric(t, "foreman_bridge_retries_total") >= 1
                                                         else None)(b.scrape()), world=w)
    check(metric(text, "foreman_bridge_workloads_created_total") >= 1, "workloads_created_total")
    check(metric(text, "foreman_bridge_build_info") == 1, "build_info")
    check(metric(text, "foreman_bridge_cache_objects", {"resource": "workloads"}) >= 1, "cache_objects")
    FIGURES["samples"] = sum(1 for l in text.splitlines() if l and not l.startswith("#"))


SCENARIOS = [claim_accepted, failed_retried, cap_tombstone, cap_park, feedback_pipeline, already_resolved, leader_sigkill,
             relist_after_410, streaming_list, events_visible, metrics_scraped]


def no_forbidden_calls(w):
    for b in w.bridges:
        if b.proc.poll() is not None:
            continue
        text = b.scrape()
        for code in ("403", "422"):
            n = metric(text, "rest_client_requests_total", {"code": code}) - w.allowed.get(b.index, {}).get(code, 0)
            check(n == 0, "bridge-%d made %d API requests answered %s (see %s)" % (b.index, n, code, b.log_path))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--world", choices=["sim", "real"], required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--state", help="the control plane's state folder (real)")
    ap.add_argument("--seconds", type=int, default=240, help="bound of the whole scenario")
    ap.add_argument("scenario", choices=[s.__name__ for s in SCENARIOS])
    a = ap.parse_args()
    fn = next(s for s in SCENARIOS if s.__name__ == a.scenario)
    ns = "llm-%s-%d" % (a.scenario.replace("_", "-"), os.getpid() % 100000)
    # The bound: whatever hangs, the scenario ends (SIGALRM raises in the main thread).
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(AssertionError("scenario over %d s" % a.seconds)))
    signal.alarm(a.seconds)
    t0 = time.monotonic()
    w = None
    ok = False
    try:
        w = SimWorld(a.build, a.scenario, ns) if a.world == "sim" else RealWorld(a.build, a.scenario, ns, a.state)
        fn(w)
        no_forbidden_calls(w)
        ok = True
    except Exception as e:  # reported with the logs' folder, and the run fails
        print("FAILED %s on %s: %s: %s" % (a.scenario, a.world, type(e).__name__, e))
        if w:
            for b in w.bridges:
                print("--- tail of %s" % b.log_path)
                print("\n".join(b.log().splitlines()[-15:]))
    finally:
        signal.alarm(0)
        if w:
            w.close()
            if ok:  # a failure keeps its logs (the folder is named above)
                shutil.rmtree(w.dir, ignore_errors=True)
    FIGURES.update(scenario=a.scenario, world=a.world, ok=ok, seconds=round(time.monotonic() - t0, 1))
    print("figures: " + json.dumps(FIGURES, sort_keys=True))
    return 0 if ok else 1


if __name__ == "__main__":
    threading.current_thread().name = "scenario"
    sys.exit(main())
