#!/usr/bin/env python3
"""Measures kube-sim: a list of N seeded Workloads, a watch replaying them (synthetic ADDED),
and live MODIFIED events streamed to one watcher. Usage: bench_sim.py KUBE_SIM [N]."""
import http.client
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration", "sim"))
from simproc import Sim  # noqa: E402

WL = "/apis/foreman.llmkube.dev/v1alpha1/namespaces/llm/workloads"


def main():
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 100000
    t0 = time.monotonic()
    sim = Sim(sys.argv[1], "--seed-workloads", str(n), "--workload-bytes", "2500", "--history", str(2 * n))
    print("startup with %d workloads: %.2f s" % (n, time.monotonic() - t0))
    host = sim.url.split("//")[1]

    def get(path):
        c = http.client.HTTPConnection(host, timeout=600)
        t = time.monotonic()
        c.request("GET", path)
        r = c.getresponse()
        data = r.read()
        return time.monotonic() - t, data

    dt, data = get(WL)
    items = json.loads(data)["items"]
    assert len(items) == n, len(items)
    print("list: %d items, %.1f MB in %.3f s = %.0f MB/s, %.0f objects/s" % (
        len(items), len(data) / 1e6, dt, len(data) / 1e6 / dt, len(items) / dt))
    dt, data = get(WL + "?limit=500")
    print("list page of 500: %.1f ms" % (dt * 1000))
    dt, data = get(WL + "?watch=true&resourceVersion=0&timeoutSeconds=1")
    lines = data.count(b'{"type":"ADDED"')
    assert lines == n, lines
    print("watch from 0 (synthetic ADDED): %d events, %.1f MB in %.3f s (incl. 1 s timeout)" % (lines, len(data) / 1e6, dt))

    # Live: one watcher, then a burst of MODIFIED events.
    c = http.client.HTTPConnection(host, timeout=600)
    rv = json.loads(get(WL + "?limit=1")[1])["metadata"]["resourceVersion"]
    c.request("GET", WL + "?watch=true&resourceVersion=%s" % rv)
    r = c.getresponse()
    count = [0, 0]
    done = threading.Event()

    def reader():
        while count[0] < n:
            line = r.fp.readline()  # chunk framing lines are short; count event lines
            if not line:
                break
            if line.startswith(b'{"type"'):
                count[0] += 1
                count[1] += len(line)
        done.set()
    th = threading.Thread(target=reader)
    th.start()
    t = time.monotonic()
    sim.control("POST", "/_sim/churn", {"count": n}, timeout=300)
    t_gen = time.monotonic() - t
    done.wait(600)
    dt = time.monotonic() - t
    print("live: %d MODIFIED events generated in %.2f s, all received by one watcher in %.2f s = %.0f events/s, %.0f MB/s" % (
        count[0], t_gen, dt, count[0] / dt, count[1] / 1e6 / dt))
    assert count[0] == n, "the watcher saw %d of %d events" % (count[0], n)
    sim.stop()


if __name__ == "__main__":
    main()
