"""The Debian python3-kubernetes client against kube-sim: list (with limit/continue),
watch resumed from a resourceVersion, and a 410 on an expired one."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from simproc import SKIP, Sim  # noqa: E402

try:
    from kubernetes import client, config, watch
    from kubernetes.client.rest import ApiException
except ImportError:
    print("python kubernetes client not installed: skipped")
    sys.exit(SKIP)

G, V, P, NS = "foreman.llmkube.dev", "v1alpha1", "workloads", "llm"


def body(name, lane):
    return {"apiVersion": G + "/" + V, "kind": "Workload",
            "metadata": {"name": name, "labels": {"lane": lane},
                         "annotations": {"sim.llmkube.dev/outcome": "hang"}},
            "spec": {"repo": "o/r", "issues": [1], "intent": "x"}}


def main():
    sim = Sim(sys.argv[1], "--history", "50", "--foreman-step-ms", "100000")
    config.load_kube_config(config_file=sim.kubeconfig)
    api = client.CustomObjectsApi()
    for i in range(5):
        api.create_namespaced_custom_object(G, V, NS, P, body("wl-%d" % i, "local" if i % 2 == 0 else "cloud"))
    try:
        api.create_namespaced_custom_object(G, V, NS, P, body("wl-0", "local"))
        raise AssertionError("a duplicate create succeeded")
    except ApiException as e:
        assert e.status == 409 and '"reason":"AlreadyExists"' in e.body, e.body

    lst = api.list_namespaced_custom_object(G, V, NS, P)
    names = [o["metadata"]["name"] for o in lst["items"]]
    assert names == ["wl-%d" % i for i in range(5)], names
    rv = lst["metadata"]["resourceVersion"]
    local = api.list_namespaced_custom_object(G, V, NS, P, label_selector="lane in (local)")
    assert len(local["items"]) == 3, local
    page = api.list_namespaced_custom_object(G, V, NS, P, limit=2)
    seen = [o["metadata"]["name"] for o in page["items"]]
    while page["metadata"].get("continue"):
        page = api.list_namespaced_custom_object(G, V, NS, P, limit=2, _continue=page["metadata"]["continue"])
        seen += [o["metadata"]["name"] for o in page["items"]]
    assert seen == names, seen

    # Changes after rv, then a watch resumed from rv sees exactly them, in order.
    api.patch_namespaced_custom_object(G, V, NS, P, "wl-1", {"metadata": {"labels": {"lane": "frontier"}}})
    api.create_namespaced_custom_object(G, V, NS, P, body("wl-5", "local"))
    api.delete_namespaced_custom_object(G, V, NS, P, "wl-2")
    w = watch.Watch()
    events = [(e["type"], e["object"]["metadata"]["name"]) for e in
              w.stream(api.list_namespaced_custom_object, G, V, NS, P, resource_version=rv, timeout_seconds=1)]
    assert events == [("MODIFIED", "wl-1"), ("ADDED", "wl-5"), ("DELETED", "wl-2")], events

    # A label-selected watch sees an object leave its selection as DELETED.
    w = watch.Watch()
    events = [(e["type"], e["object"]["metadata"]["name"]) for e in
              w.stream(api.list_namespaced_custom_object, G, V, NS, P, resource_version=rv,
                       label_selector="lane=cloud", timeout_seconds=1)]
    assert events == [("DELETED", "wl-1")], events

    # Expired history: the watch gets an ERROR event with 410, which the client raises.
    sim.control("POST", "/_sim/faults", {"action": "expireHistory"})
    try:
        for _ in watch.Watch().stream(api.list_namespaced_custom_object, G, V, NS, P, resource_version=rv,
                                      timeout_seconds=2):
            pass
        raise AssertionError("watch from an expired resourceVersion did not fail")
    except ApiException as e:
        assert e.status == 410, (e.status, e.reason)
    # ... and a continue token from before is 410 on a list.
    try:
        api.list_namespaced_custom_object(G, V, NS, P, limit=2, _continue=api.list_namespaced_custom_object(
            G, V, NS, P, limit=2)["metadata"]["continue"])
    except ApiException as e:
        raise AssertionError("a fresh continue failed: %s" % e.body)

    leases = client.CoordinationV1Api()
    leases.create_namespaced_lease(NS, {"metadata": {"name": "l"}, "spec": {"holderIdentity": "me"}})
    assert [l.metadata.name for l in leases.list_namespaced_lease(NS).items] == ["l"]
    sim.stop()
    print("python kubernetes client against kube-sim: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
