#!/usr/bin/python3
"""The same list + watch into a dict with Debian's python3-kubernetes, for the watch
benchmark's comparison. Prints one JSON line like watch-bench.
    /usr/bin/python3 informer_python.py KUBECONFIG NAMESPACE EVENTS TIMEOUT_S
"""
import json
import resource
import sys
import time

from kubernetes import client, config, watch

kubeconfig, ns = sys.argv[1], sys.argv[2]
wanted = int(sys.argv[3]) if len(sys.argv) > 3 else 100000
timeout_s = float(sys.argv[4]) if len(sys.argv) > 4 else 120.0


def rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


config.load_kube_config(config_file=kubeconfig)
api = client.CustomObjectsApi()
group, version, plural = "foreman.llmkube.dev", "v1alpha1", "workloads"
rss_before = rss_kb()
t0 = time.monotonic()
answer = api.list_namespaced_custom_object(group, version, ns, plural)
cache = {o["metadata"]["name"]: o for o in answer.get("items", [])}
rv = answer["metadata"]["resourceVersion"]
list_s = time.monotonic() - t0
print(f"python-kubernetes: listed {len(cache)} objects in {list_s:.2f} s", file=sys.stderr)

events = 0
start = end = None
deadline = time.monotonic() + timeout_s
w = watch.Watch()
try:
    for ev in w.stream(api.list_namespaced_custom_object, group, version, ns, plural,
                       resource_version=rv, timeout_seconds=int(timeout_s)):
        if start is None:
            start = time.monotonic()
        obj = ev["object"]
        if ev["type"] == "DELETED":
            cache.pop(obj["metadata"]["name"], None)
        else:
            cache[obj["metadata"]["name"]] = obj
        events += 1
        if events >= wanted:
            end = time.monotonic()
            break
        if time.monotonic() > deadline:
            break
finally:
    w.stop()

done = end is not None
watch_s = (end - start) if done else -1
rss = rss_kb()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({
    "tool": "python-kubernetes", "objects_listed": len(cache), "list_seconds": round(list_s, 3),
    "watch_events": events, "watch_seconds": round(watch_s, 3),
    "watch_events_per_second": round(events / watch_s) if done and watch_s > 0 else 0,
    "peak_rss_kb": peak, "rss_kb": rss,
    "rss_per_object_bytes": round((rss - rss_before) * 1024 / len(cache)) if cache else 0,
    "completed": done,
}))
sys.exit(0 if done else 1)
