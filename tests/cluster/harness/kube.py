"""A small Kubernetes API client for the scenarios (stdlib only): JSON requests, and a
watch recorder that keeps every event with the time it arrived. It talks to kube-sim over
plain HTTP and to the real API server over TLS with the admin's client certificate."""
import json
import ssl
import threading
import time
import urllib.error
import urllib.request

GROUP = "/apis/foreman.llmkube.dev/v1alpha1"


class ApiError(Exception):
    def __init__(self, code, body):
        super().__init__("HTTP %d: %s" % (code, body[:500]))
        self.code = code
        self.body = body


class Kube:
    def __init__(self, server, ca=None, cert=None, key=None, token=None):
        self.server = server.rstrip("/")
        self.token = token
        self.ctx = None
        if server.startswith("https"):
            self.ctx = ssl.create_default_context(cafile=ca)
            if cert:
                self.ctx.load_cert_chain(cert, key)

    def _open(self, method, path, body=None, ctype="application/json", timeout=30):
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = ctype
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        req = urllib.request.Request(self.server + path, data=data, method=method, headers=headers)
        return urllib.request.urlopen(req, timeout=timeout, context=self.ctx)

    def request(self, method, path, body=None, ctype="application/json", timeout=30):
        """One call; a 429 (the API server's "storage is (re)initializing" after a start,
        priority and fairness) is tried again after its Retry-After, as clients do, 20 times at most."""
        for attempt in range(20):
            try:
                with self._open(method, path, body, ctype, timeout) as r:
                    raw = r.read()
                    return json.loads(raw) if raw else None
            except urllib.error.HTTPError as e:
                text = e.read().decode(errors="replace")
                if e.code != 429 or attempt == 19:
                    raise ApiError(e.code, text) from None
                time.sleep(min(float(e.headers.get("Retry-After") or 1), 2.0))

    def get(self, path):
        """The object, or None on 404."""
        try:
            return self.request("GET", path)
        except ApiError as e:
            if e.code == 404:
                return None
            raise

    def workload(self, ns, name):
        return self.get("%s/namespaces/%s/workloads/%s" % (GROUP, ns, name))

    def workloads(self, ns):
        return self.request("GET", "%s/namespaces/%s/workloads" % (GROUP, ns))["items"]

    def tasks(self, ns, workload=None):
        q = "?labelSelector=foreman.llmkube.dev%%2Fworkload%%3D%s" % workload if workload else ""
        return self.request("GET", "%s/namespaces/%s/agentictasks%s" % (GROUP, ns, q))["items"]

    def watch_lines(self, path, seconds):
        """Every event of one raw watch until the server ends it or `seconds` pass."""
        out = []
        deadline = time.monotonic() + seconds
        sep = "&" if "?" in path else "?"
        with self._open("GET", "%s%swatch=1&timeoutSeconds=%d" % (path, sep, seconds), timeout=seconds + 10) as r:
            while time.monotonic() < deadline:
                line = r.readline()
                if not line:
                    break
                if line.strip():
                    out.append(json.loads(line))
                    if out[-1].get("type") == "BOOKMARK" and \
                            out[-1]["object"]["metadata"].get("annotations", {}).get("k8s.io/initial-events-end") == "true":
                        break
        return out


class Recorder:
    """Watches one collection from now on in a thread and records (time, type, object)."""

    def __init__(self, kube, path, seconds=600):
        self.kube, self.path, self.events = kube, path, []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        rv = kube.request("GET", path)["metadata"]["resourceVersion"]
        self.thread = threading.Thread(target=self._run, args=(rv, seconds), daemon=True)
        self.thread.start()

    def _run(self, rv, seconds):
        deadline = time.monotonic() + seconds
        while not self.stop.is_set() and time.monotonic() < deadline:
            try:
                with self.kube._open("GET", "%s?watch=1&allowWatchBookmarks=true&resourceVersion=%s&timeoutSeconds=60"
                                     % (self.path, rv), timeout=75) as r:
                    for line in r:
                        if self.stop.is_set():
                            return
                        if not line.strip():
                            continue
                        ev = json.loads(line)
                        meta = ev.get("object", {}).get("metadata", {})
                        if ev.get("type") == "ERROR":
                            rv = self.kube.request("GET", self.path)["metadata"]["resourceVersion"]
                            break
                        rv = meta.get("resourceVersion", rv)
                        if ev.get("type") != "BOOKMARK":
                            with self.lock:
                                self.events.append((time.monotonic(), ev["type"], ev["object"]))
            except Exception:  # a dropped stream (an API server restart): resume
                time.sleep(0.2)

    def snapshot(self):
        with self.lock:
            return list(self.events)

    def close(self):
        self.stop.set()


def attempt_of(obj):
    return obj.get("metadata", {}).get("annotations", {}).get("foreman.llmkube.dev/attempt", "")


def phase_of(obj):
    return (obj.get("status") or {}).get("phase", "")


def retry_timeline(events, name):
    """For each replaced object of `name`: Failed seen -> deletionTimestamp seen -> DELETED ->
    next ADDED. Returns a list of dicts with the times (seconds, monotonic)."""
    out, cur = [], None
    for t, typ, obj in events:
        if obj["metadata"]["name"] != name:
            continue
        uid = obj["metadata"]["uid"]
        if typ == "ADDED":
            if cur and cur.get("gone") and "created" not in cur:
                cur["created"] = t
                cur["next_attempt"] = attempt_of(obj)
                out.append(cur)
            cur = {"uid": uid, "attempt": attempt_of(obj)}
            continue
        if cur is None or cur["uid"] != uid:
            continue
        if phase_of(obj) == "Failed" and "failed" not in cur:
            cur["failed"] = t
        if obj["metadata"].get("deletionTimestamp") and "delete" not in cur:
            cur["delete"] = t
        if typ == "DELETED":
            cur["gone"] = t
    return out
