"""The two worlds a scenario runs in, behind one interface:

- SimWorld: kube-sim alone (Kubernetes API, Foreman, dispatch), as the rest of the suite.
- RealWorld: the control plane of tests/cluster/control-plane (etcd, kube-apiserver,
  kube-controller-manager, already up: STATE names it), the CRDs applied, the chart's
  `helm template` applied into a namespace of the scenario's own, foreman-standin
  (kube-sim's Foreman rules against the real API server) — or, with FOREMAN_OPERATOR_BIN,
  LLMKube's real foreman-operator and foreman-standin --agent-only playing foreman-agent —
  and kube-sim for dispatch only.
  The bridge runs with the chart ServiceAccount's token (TokenRequest), so RBAC is the
  chart's; with BRIDGE_IMAGE set, replica 0 runs from that image (host network, that
  kubeconfig mounted).

Every process started here is stopped by close(); each has a bound of its own as well."""
import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

from kube import Kube

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def read_line(proc, prefix, timeout):
    """The first stdout line of proc starting with prefix (the rest of it); what follows
    stays in proc's buffer for the next call."""
    deadline = time.monotonic() + timeout
    fd = proc.stdout.fileno()
    while True:
        buf = getattr(proc, "line_buffer", b"")
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            proc.line_buffer = buf
            text = line.decode()
            if text.startswith(prefix):
                return text[len(prefix):].strip()
        left = deadline - time.monotonic()
        if left <= 0:
            raise RuntimeError("no line %r within %ss" % (prefix, timeout))
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                raise RuntimeError("process exited (%s) before printing %r" % (proc.poll(), prefix))
            proc.line_buffer = buf + chunk


def post_json(url, body, timeout=10):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


def get_json(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read())


class Bridge:
    def __init__(self, world, index, env, log, image=None):
        self.index, self.log_path, self.image = index, log, image
        self.metrics = "127.0.0.1:%d" % free_port()
        env = dict(env, METRICS_ADDR=self.metrics, HEALTH_ADDR="127.0.0.1:%d" % free_port(),
                   POD_NAME="bridge-%d" % index)
        out = open(log, "w")
        if image:
            self.container = "fdb-cluster-%d-%d" % (os.getpid(), index)
            args = ["docker", "run", "--rm", "--name", self.container, "--network", "host",
                    "-v", "%s:/kubeconfig:ro" % env["KUBECONFIG"]]
            env["KUBECONFIG"] = "/kubeconfig"
            for k, v in env.items():
                args += ["-e", "%s=%s" % (k, v)]
            self.proc = subprocess.Popen(args + [image], stdout=out, stderr=subprocess.STDOUT)
        else:
            self.container = None
            self.proc = subprocess.Popen([world.bridge_bin], env=dict(os.environ, **env), stdout=out,
                                         stderr=subprocess.STDOUT)

    def kill(self, sig=signal.SIGKILL):
        if self.container:
            subprocess.run(["docker", "kill", "--signal", "KILL" if sig == signal.SIGKILL else "TERM",
                            self.container], capture_output=True, timeout=30)
        elif self.proc.poll() is None:
            self.proc.send_signal(sig)

    def stop(self):
        if self.proc.poll() is None:
            self.kill(signal.SIGTERM)
            try:
                return self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill(signal.SIGKILL)
                self.proc.wait(timeout=10)
        return self.proc.returncode

    def scrape(self):
        with urllib.request.urlopen("http://%s/metrics" % self.metrics, timeout=5) as r:
            return r.read().decode()

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()


class World:
    name = ""

    def __init__(self, build, scenario, ns):
        self.build = os.path.abspath(build)
        self.ns = ns
        self.dir = tempfile.mkdtemp(prefix="cluster-%s-%s-" % (self.name, scenario))
        self.bridge_bin = os.path.join(self.build, "operator", "foreman-dispatch-bridge")
        self.procs, self.bridges = [], []
        self.allowed = {}  # bridge index -> {status code: requests a scenario explains}
        self.kubectl_bin = tools_path(self.build, "kubectl")

    # Dispatch and Foreman rules go to kube-sim's control API in both worlds; Foreman's to
    # kube-sim or to foreman-standin.
    def add_issue(self, repo, number, lane="local", title=None):
        post_json(self.sim_url + "/_sim/dispatch/issues",
                  {"issueId": "I_%s_%d" % (repo, number), "repoFullName": repo, "number": number,
                   "title": title or "Fix issue %d" % number, "lane": lane})

    def set_rule(self, repo, number, rule):
        post_json(self.foreman_url + "/_sim/foreman", {"issues": {"%s#%d" % (repo, number): rule}})

    def dispatch_issue(self, number):
        for i in get_json(self.sim_url + "/_sim/dispatch/state")["issues"]:
            if i["number"] == number:
                return i
        return None

    def start_sim(self, *args):
        p = subprocess.Popen([os.path.join(self.build, "tests", "sim", "kube-sim"), "--listen", "127.0.0.1:0",
                              "--dispatch-listen", "127.0.0.1:0", "--kubeconfig-out",
                              os.path.join(self.dir, "sim.kubeconfig"), "--kubeconfig-namespace", self.ns,
                              "--foreman-step-ms", "200", "--foreground-delay-ms", "50", "--fail-rate", "0",
                              "--crds", crds_dir(), *args], stdout=subprocess.PIPE, stderr=open(os.path.join(self.dir, "sim.log"), "w"))
        self.procs.append(p)
        self.sim_url = read_line(p, "kube-sim listening on ", 30)
        self.dispatch_url = read_line(p, "dispatch listening on ", 30)

    def bridge_env(self, extra):
        env = {"KUBECONFIG": self.bridge_kubeconfig, "DISPATCH_URL": self.dispatch_url,
               "DISPATCH_AGENT_TOKEN": "cluster-token", "DISPATCH_AGENT_NAME": "foreman-coder",
               "FOREMAN_NAMESPACE": self.ns, "CLAIM_INTERVAL_S": "1", "LEADER_ELECT": "false",
               "LOG_FORMAT": "json", "LOG_LEVEL": "DEBUG", "DELETE_WORKLOAD_TIMEOUT_S": "30"}
        env.update(extra)
        return env

    def start_bridge(self, extra=None, image=None):
        b = Bridge(self, len(self.bridges), self.bridge_env(extra or {}),
                   os.path.join(self.dir, "bridge-%d.log" % len(self.bridges)), image)
        self.bridges.append(b)
        return b

    def kubectl(self, *args, check=True):
        r = subprocess.run([self.kubectl_bin, "--kubeconfig", self.admin_kubeconfig, *args],
                           capture_output=True, text=True, timeout=60)
        if check and r.returncode != 0:
            raise AssertionError("kubectl %s: %s%s" % (" ".join(args), r.stdout, r.stderr))
        return r.stdout

    @contextlib.contextmanager
    def cleanup_on_error(self):
        """What a failed start had started is stopped (the caller never gets the world)."""
        try:
            yield
        except BaseException:
            self.close()
            raise

    def close(self):
        for b in self.bridges:
            b.stop()
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(timeout=10)


class SimWorld(World):
    name = "sim"

    def __init__(self, build, scenario, ns):
        super().__init__(build, scenario, ns)
        with self.cleanup_on_error():
            self.start_sim()
        self.foreman_url = self.sim_url
        self.admin_kubeconfig = self.bridge_kubeconfig = os.path.join(self.dir, "sim.kubeconfig")
        self.kube = Kube(self.sim_url)

    def compact_and_restart(self):
        """The sim's way to a 410: its history expires, then every watch is dropped, so the
        bridge's resumed watches are older than what it keeps."""
        r = post_json(self.sim_url + "/_sim/faults", {"action": "expireHistory"})
        post_json(self.sim_url + "/_sim/faults", {"action": "dropWatches"})
        return r["compactedResourceVersion"]


class RealWorld(World):
    name = "real"

    def __init__(self, build, scenario, ns, state, sim_args=()):
        super().__init__(build, scenario, ns)
        with self.cleanup_on_error():
            self.setup(ns, state, sim_args)

    def setup(self, ns, state, sim_args):
        self.state = os.path.abspath(state)
        self.admin_kubeconfig = os.path.join(self.state, "admin.kubeconfig")
        env = dict(line.strip().split("=", 1) for line in open(os.path.join(self.state, "env")) if "=" in line)
        self.api_port, self.etcd_port = env["API_PORT"], env["ETCD_PORT"]
        pki = os.path.join(self.state, "pki")
        self.kube = Kube("https://127.0.0.1:%s" % self.api_port, os.path.join(pki, "ca.crt"),
                         os.path.join(pki, "admin.crt"), os.path.join(pki, "admin.key"))
        self.kubectl("create", "namespace", ns)
        self.apply_chart()
        self.bridge_kubeconfig = os.path.join(self.dir, "bridge.kubeconfig")
        subprocess.run([os.path.join(ROOT, "tests", "cluster", "control-plane"), "sa-kubeconfig", self.state, ns,
                        "foreman-dispatch-bridge", self.bridge_kubeconfig], check=True, timeout=60,
                       env=dict(os.environ, PATH=os.path.dirname(self.kubectl_bin) + ":" + os.environ["PATH"]))
        self.start_sim(*sim_args)  # dispatch only: its Kubernetes side stays empty
        bin_dir = os.path.join(cluster_dir(), "bin")
        operator = os.environ.get("FOREMAN_OPERATOR_BIN")
        if operator:
            self.start_operator(operator)
        p = subprocess.Popen([os.path.join(bin_dir, "foreman-standin"), "--kubeconfig", self.admin_kubeconfig,
                              "--namespace", ns, "--step-ms", "200", "--max-seconds", "600"]
                             + (["--agent-only"] if operator else []),
                             stdout=subprocess.PIPE, stderr=open(os.path.join(self.dir, "foreman.log"), "w"))
        self.procs.append(p)
        self.foreman_url = read_line(p, "foreman-standin listening on ", 30)

    def start_operator(self, path):
        """LLMKube's real foreman-operator (FOREMAN_OPERATOR_BIN, built by hand: see
        docs/real-cluster.md), webhooks and leader election off, metrics and probes on free
        loopback ports. It watches every namespace: run the scenarios one at a time."""
        probe = "127.0.0.1:%d" % free_port()
        p = subprocess.Popen([path, "--enable-webhooks=false", "--leader-elect=false", "--audit-retention=0",
                              "--metrics-bind-address", "127.0.0.1:%d" % free_port(),
                              "--health-probe-bind-address", probe],
                             env=dict(os.environ, KUBECONFIG=self.admin_kubeconfig), stdout=subprocess.DEVNULL,
                             stderr=open(os.path.join(self.dir, "foreman-operator.log"), "w"))
        self.procs.append(p)
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen("http://%s/readyz" % probe, timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if p.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("foreman-operator not ready (see %s/foreman-operator.log)" % self.dir)
            time.sleep(0.2)

    def apply_chart(self):
        helm = tools_path(self.build, "helm")
        r = subprocess.run([helm, "template", "foreman-dispatch-bridge", os.path.join(ROOT, "chart"),
                            "--namespace", self.ns, "--set", "dispatch.url=http://127.0.0.1:1",
                            "--set", "dispatch.token=unused"],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise AssertionError("helm template: " + r.stderr)
        path = os.path.join(self.dir, "chart.yaml")
        with open(path, "w") as f:
            f.write(r.stdout)
        self.kubectl("-n", self.ns, "apply", "-f", path)

    def compact_and_restart(self):
        """etcd compacted at its current revision, then kube-apiserver restarted: its watch
        cache starts over above every resourceVersion the bridge holds, so the bridge's
        resumed watches get 410 Expired."""
        rev = subprocess.run([os.path.join(cluster_dir(), "bin", "etcd-compact"), "--endpoint",
                              "http://127.0.0.1:%s" % self.etcd_port], capture_output=True, text=True,
                             check=True, timeout=60).stdout.strip()
        subprocess.run([os.path.join(ROOT, "tests", "cluster", "control-plane"), "restart-apiserver", self.state],
                       check=True, timeout=180)
        return rev

    def close(self):
        super().close()
        if hasattr(self, "kube"):
            self.kubectl("delete", "namespace", self.ns, "--wait=false", check=False)


def crds_dir():
    """LLMKube's published CRDs (the steering repo's shared/crds beside this checkout)."""
    return os.environ.get("FDB_CRDS_DIR") or os.path.join(ROOT, "..", "shared", "crds")


def cluster_dir():
    """Where tests/cluster/control-plane build puts its programs and tools."""
    return os.environ.get("FDB_CLUSTER_DIR") or os.path.join(ROOT, "build", "cluster")


def tools_path(build, tool):
    """kubectl and helm as control-plane build installs them (from ../shared/tools)."""
    p = os.path.join(cluster_dir(), "tools", tool)
    if not os.path.exists(p):
        subprocess.run([os.path.join(ROOT, "tests", "cluster", "control-plane"), "tools"], check=True, timeout=300)
    return p
