"""kube-sim over raw HTTP: the CLI contract, token, watch details (bookmarks, initial-events
end, timeoutSeconds, 410 ERROR event, dropped watches), API faults, seeding, and the dispatch
side with its control API."""
import http.client
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from simproc import Sim, wait_until  # noqa: E402

WL = "/apis/foreman.llmkube.dev/v1alpha1/namespaces/llm/workloads"
N = 100  # seeded Workloads, about 250 KB listed: above the 128 KB gzip threshold


def call(url, method, path, body=None, token=None, ctype="application/json"):
    headers = {"Content-Type": ctype}
    if token:
        headers["Authorization"] = "Bearer " + token
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, json.loads(r.read() or b"null"), dict(r.headers)
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = raw
        return e.code, parsed, dict(e.headers)


def wl(name, outcome="hang"):
    return {"metadata": {"name": name, "annotations": {"sim.llmkube.dev/outcome": outcome}}, "spec": {"intent": "Fix it", "repo": "o/r", "issues": [1]}}


class ApiSim:
    """kube-sim with a token, N seeded Workloads, 100 ms bookmarks, fast Foreman steps and its
    dispatch side with 12 issues: the fixture the test_api checks share, in order."""

    def __init__(self, binary):
        self.sim = Sim(binary, "--token", "s3cret", "--seed-workloads", str(N), "--bookmark-ms", "100",
                       "--dispatch-listen", "127.0.0.1:0", "--seed-issues", "12", "--foreman-step-ms", "20")
        dline = self.sim._line(10)
        assert dline.startswith("dispatch listening on http://127.0.0.1:"), dline
        self.durl = dline.split(" on ")[1].strip()
        self.u, self.t = self.sim.url, "s3cret"
        self.rv0 = None

    def watch(self, q, timeout=10):
        conn = http.client.HTTPConnection(self.u.split("//")[1], timeout=timeout)
        conn.request("GET", WL + q, headers={"Authorization": "Bearer " + self.t})
        r = conn.getresponse()
        assert r.status == 200 and r.getheader("Transfer-Encoding") == "chunked", r.status
        return [json.loads(l) for l in r.read().decode().splitlines() if l.strip()]


def check_token_and_list(a):
    kc = open(a.sim.kubeconfig).read()
    assert a.sim.url in kc and "token: s3cret" in kc, kc
    code, st, _ = call(a.u, "GET", WL)
    assert code == 401 and st["kind"] == "Status" and st["code"] == 401, st
    code, lst, _ = call(a.u, "GET", WL, token=a.t)
    assert code == 200 and len(lst["items"]) == N, code
    assert lst["items"][0]["status"]["conditions"][0]["type"] == "Completed"
    a.rv0 = int(lst["metadata"]["resourceVersion"])


def check_watch_details(a):
    # Watch with bookmarks and a timeout: ends cleanly by itself.
    ev = a.watch("?watch=true&allowWatchBookmarks=true&timeoutSeconds=1&resourceVersion=%d" % a.rv0)
    bms = [e for e in ev if e["type"] == "BOOKMARK"]
    assert bms and set(bms[0]["object"]["metadata"]) == {"resourceVersion"}, ev
    ev = a.watch("?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1")
    assert [e["type"] for e in ev[:N]] == ["ADDED"] * N
    assert ev[N]["type"] == "BOOKMARK" and ev[N]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}, ev[N]


def check_gzip(a):
    # gzip only when asked for, as the real server does.
    import gzip
    for enc in ("gzip", None):
        conn = http.client.HTTPConnection(a.u.split("//")[1], timeout=10)
        hdrs = {"Authorization": "Bearer " + a.t}
        if enc:
            hdrs["Accept-Encoding"] = enc
        conn.request("GET", WL, headers=hdrs)
        r = conn.getresponse()
        raw = r.read()
        assert r.getheader("Content-Encoding") == enc, r.getheader("Content-Encoding")
        assert len(json.loads(gzip.decompress(raw) if enc else raw)["items"]) == N


def check_foreman_completes(a):
    code, created, _ = call(a.u, "POST", WL, wl("wl-fast", "succeed"), token=a.t)
    assert code == 201, created
    wait_until("Completed", lambda: call(a.u, "GET", WL + "/wl-fast", token=a.t)[1].get("status", {}).get("phase") == "Completed")


def check_dropped_and_expired(a):
    # A dropped watch ends its stream; a resume from an expired rv gets one ERROR 410 event.
    result = {}
    th = threading.Thread(target=lambda: result.setdefault("ev", a.watch("?watch=true&resourceVersion=%d" % a.rv0, 30)))
    th.start()
    wait_until("a live watcher", lambda: call(a.u, "GET", "/_sim/records")[1]["requests"].get("GET workloads", 0) >= 5)
    time.sleep(0.2)
    t0 = time.monotonic()
    call(a.u, "POST", "/_sim/faults", {"action": "dropWatches"})
    th.join(10)
    assert not th.is_alive() and time.monotonic() - t0 < 5
    call(a.u, "POST", "/_sim/faults", {"action": "expireHistory"})
    ev = a.watch("?watch=true&resourceVersion=%d" % a.rv0)
    assert len(ev) == 1 and ev[0]["type"] == "ERROR", ev
    assert ev[0]["object"]["code"] == 410 and ev[0]["object"]["reason"] == "Expired", ev


def check_api_faults(a):
    u, t = a.u, a.t
    code, _, _ = call(u, "POST", "/_sim/faults", {"path": "/apis/foreman.llmkube.dev", "method": "POST", "code": 429, "count": 1, "retryAfter": 3})
    assert code == 200
    code, st, hdr = call(u, "POST", WL, wl("wl-f"), token=t)
    assert code == 429 and hdr.get("Retry-After") == "3" and st["reason"] == "TooManyRequests", (code, st, hdr)
    code, _, _ = call(u, "POST", WL, wl("wl-f"), token=t)
    assert code == 201
    code, st, _ = call(u, "POST", WL, wl("wl-f"), token=t)
    assert code == 409 and st["reason"] == "AlreadyExists" and st["details"]["name"] == "wl-f", st
    recs = call(u, "GET", "/_sim/records")[1]["workloads"]
    assert [r["op"] for r in recs if r["name"] == "wl-f"] == ["create", "create-conflict"], recs
    assert all(not r["liveExisted"] for r in recs if r["op"] == "create"), recs
    call(u, "POST", "/_sim/faults", {"path": WL, "method": "GET", "latencyMs": 300, "count": 1})
    t0 = time.monotonic()
    call(u, "GET", WL, token=t)
    assert time.monotonic() - t0 >= 0.3


def check_dispatch_side(a):
    durl, t = a.durl, a.t
    code, q, _ = call(durl, "GET", "/api/agents/me/queue?lane=local&includeClaimed=true", token=t)
    assert code == 200 and len(q) == 4 and q[0]["type"] == "issue", q
    code, _, _ = call(durl, "GET", "/api/agents/me/queue?lane=local")
    assert code == 401
    item = q[0]
    claim = {"issueId": item["issueId"], "repoFullName": item["repoFullName"], "issueNumber": item["number"], "agentName": "me"}
    assert call(durl, "POST", "/api/issues/claim", claim, token=t)[0] == 200
    assert call(durl, "POST", "/api/issues/claim", dict(claim, agentName="other"), token=t)[0] == 409
    call(durl, "POST", "/_sim/dispatch/faults", {"path": "/api/agents/", "lane": "cloud", "code": 503, "count": 1})
    assert call(durl, "GET", "/api/agents/me/queue?lane=cloud", token=t)[0] == 503
    assert call(durl, "GET", "/api/agents/me/queue?lane=cloud", token=t)[0] == 200
    code, state, _ = call(durl, "GET", "/_sim/dispatch/state")
    assert code == 200 and [i for i in state["issues"] if i["issueId"] == item["issueId"]][0]["claimedBy"] == "me"
    # The control API is also reachable on the API port.
    assert call(a.u, "GET", "/_sim/dispatch/state")[0] == 200


def test_api(binary):
    a = ApiSim(binary)
    for check in (check_token_and_list, check_watch_details, check_gzip, check_foreman_completes,
                  check_dropped_and_expired, check_api_faults, check_dispatch_side):
        check(a)
    a.sim.stop()


def test_slow_watcher(binary):
    """A watcher that does not read is dropped once 5 MB behind; a reading one gets everything."""
    sim = Sim(binary, "--seed-workloads", "400", "--watcher-buffer-mb", "5", "--history", "100000")
    host = sim.url.split("//")[1]
    rv = call(sim.url, "GET", WL + "?limit=1")[1]["metadata"]["resourceVersion"]
    slow = http.client.HTTPConnection(host, timeout=30)
    slow.request("GET", WL + "?watch=true&resourceVersion=" + rv)
    slow_r = slow.getresponse()
    fast = http.client.HTTPConnection(host, timeout=30)
    fast.request("GET", WL + "?watch=true&timeoutSeconds=10&resourceVersion=" + rv)
    fast_r = fast.getresponse()
    got = [0]

    def reader():
        # Raw chunked stream: our chunks hold whole event lines, so count those.
        while True:
            line = fast_r.fp.readline()
            if not line or line == b"0\r\n":
                return
            if line.startswith(b'{"type"'):
                got[0] += 1
    th = threading.Thread(target=reader)
    th.start()
    wait_until("both watchers", lambda: call(sim.url, "GET", "/_sim/records")[1]["requests"].get("GET workloads", 0) >= 3)
    time.sleep(0.2)
    for i in range(40):  # 10000 events, about 25 MB, in bursts of 0.6 MB that the fast reader keeps up with
        call(sim.url, "POST", "/_sim/churn", {"count": 250})
        wait_until("the fast watcher to catch up", lambda: got[0] >= 250 * (i + 1), timeout=30)
    th.join(30)
    assert got[0] == 10000, got[0]
    try:
        data = slow_r.read()
        complete = True
    except http.client.IncompleteRead as e:
        data, complete = e.partial, False
    assert not complete and data.count(b"\n") < 10000, (complete, data.count(b"\n"))
    sim.stop()
    with open(os.path.join(sim.dir, "stderr.log")) as f:
        assert "dropping a watcher" in f.read()


def test_quiet_watcher_keeps_its_stream(binary):
    """A watcher that reads keeps a small backlog: bookmarks every 20 ms through a quiet
    second, then one event, and the stream goes on to its timeout with no drop logged."""
    sim = Sim(binary, "--bookmark-ms", "20", "--watcher-buffer-mb", "1")
    rv = call(sim.url, "GET", WL)[1]["metadata"]["resourceVersion"]
    result = {}

    def watch():
        conn = http.client.HTTPConnection(sim.url.split("//")[1], timeout=20)
        conn.request("GET", WL + "?watch=true&allowWatchBookmarks=true&timeoutSeconds=3&resourceVersion=" + rv)
        r = conn.getresponse()
        try:
            result["data"], result["complete"] = r.read(), True
        except http.client.IncompleteRead as e:
            result["data"], result["complete"] = e.partial, False
    th = threading.Thread(target=watch)
    th.start()
    wait_until("the watcher", lambda: call(sim.url, "GET", "/_sim/records")[1]["requests"].get("GET workloads", 0) >= 2)
    time.sleep(1.0)  # quiet: bookmarks only
    assert call(sim.url, "POST", WL, wl("wl-after-quiet"))[0] == 201
    th.join(20)
    assert not th.is_alive()
    events = [json.loads(l) for l in result["data"].decode().splitlines() if l.strip()]
    added = [e for e in events if e["type"] == "ADDED"]
    assert result["complete"] and [e["object"]["metadata"]["name"] for e in added] == ["wl-after-quiet"], result
    assert sum(e["type"] == "BOOKMARK" for e in events) >= 10, events
    sim.stop()
    with open(os.path.join(sim.dir, "stderr.log")) as f:
        log = f.read()
    assert "dropping a watcher" not in log, log


def test_no_op_patch(binary):
    """A patch that changes nothing (the same label, an empty finalizers list) keeps the
    resourceVersion and sends no watch event; a patch that changes the object sends one.
    Foreman is held still (its first step after 100 s) so that it writes nothing."""
    sim = Sim(binary, "--foreman-step-ms", "100000")
    code, created, _ = call(sim.url, "POST", WL, wl("wl-noop"))
    assert code == 201, created
    rv = created["metadata"]["resourceVersion"]
    for body in ({"metadata": {"annotations": {"sim.llmkube.dev/outcome": "hang"}}}, {"metadata": {"finalizers": []}},
                 {"metadata": {"labels": {}}}):
        code, patched, _ = call(sim.url, "PATCH", WL + "/wl-noop", body, ctype="application/merge-patch+json")
        assert code == 200 and patched["metadata"]["resourceVersion"] == rv, (body, patched)
        assert "finalizers" not in patched["metadata"] and "labels" not in patched["metadata"], patched
    code, patched, _ = call(sim.url, "PATCH", WL + "/wl-noop", {"metadata": {"labels": {"x": "1"}}}, ctype="application/merge-patch+json")
    assert code == 200 and int(patched["metadata"]["resourceVersion"]) == int(rv) + 1, patched
    ev = sim.watch_lines(WL + "?watch=true&timeoutSeconds=1&resourceVersion=" + rv, 1)
    assert [e["type"] for e in ev] == ["MODIFIED"] and ev[0]["object"]["metadata"]["labels"] == {"x": "1"}, ev
    sim.stop()


def test_crds(binary):
    """With the CRDs (FDB_CRDS_DIR), unknown fields are pruned and enums/required enforced."""
    crds = os.environ.get("FDB_CRDS_DIR")
    if not crds or not os.path.isdir(crds):
        print("FDB_CRDS_DIR not set: CRD checks skipped")
        return
    sim = Sim(binary, "--crds", crds, "--foreman-step-ms", "20")
    body = wl("wl-crd", "succeed")
    body["spec"]["reviseFromBranch"] = "foreman/x"  # not in the Workload spec: dropped
    code, created, _ = call(sim.url, "POST", WL, body)
    assert code == 201 and "reviseFromBranch" not in created["spec"], created
    bad = wl("wl-bad")
    bad["spec"]["pipeline"] = [{"name": "code-1", "kind": "fix-everything", "agentRef": {"name": "c"}, "payload": {}}]
    code, st, _ = call(sim.url, "POST", WL, bad)
    assert code == 422 and st["details"]["causes"][0]["field"] == "spec.pipeline[0].kind", st
    del bad["spec"]["intent"]
    code, st, _ = call(sim.url, "POST", WL, bad)
    assert code == 422 and len(st["details"]["causes"]) == 2, st
    code, st, _ = call(sim.url, "PATCH", WL + "/wl-crd/status", {"status": {"phase": "Exploded"}}, ctype="application/merge-patch+json")
    assert code == 422 and "Unsupported value" in st["message"], st
    # Foreman's own writes pass the schema: the Workload completes with its tasks.
    wait_until("Completed", lambda: call(sim.url, "GET", WL + "/wl-crd")[1].get("status", {}).get("phase") == "Completed")
    sim.stop()
    with open(os.path.join(sim.dir, "stderr.log")) as f:
        log = f.read()
    assert "foreman:" not in log, log


def test_cli(binary):
    import subprocess
    r = subprocess.run([binary, "--listen", "127.0.0.1:0", "--fail-rate", "2"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and "--fail-rate" in r.stderr, r
    r = subprocess.run([binary, "--bogus", "1"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and "unknown flag --bogus" in r.stderr, r
    r = subprocess.run([binary, "--listen", "nonsense"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and "--listen" in r.stderr, r


def main():
    test_cli(sys.argv[1])
    test_api(sys.argv[1])
    test_slow_watcher(sys.argv[1])
    test_quiet_watcher_keeps_its_stream(sys.argv[1])
    test_no_op_patch(sys.argv[1])
    test_crds(sys.argv[1])
    print("kube-sim over HTTP: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
