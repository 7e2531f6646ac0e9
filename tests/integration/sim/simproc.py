"""Starts kube-sim on port 0 for the integration scripts and reads its address lines."""
import json
import os
import select
import signal
import subprocess
import tempfile
import time
import urllib.request

SKIP = 77


class Sim:
    def __init__(self, binary, *extra):
        self.dir = tempfile.mkdtemp(prefix="kube-sim-test-")
        self.kubeconfig = os.path.join(self.dir, "kubeconfig")
        self.stderr = open(os.path.join(self.dir, "stderr.log"), "w")
        self.proc = subprocess.Popen(
            [binary, "--listen", "127.0.0.1:0", "--kubeconfig-out", self.kubeconfig, *extra],
            stdout=subprocess.PIPE, stderr=self.stderr)
        self._buf = b""
        line = self._line(30)
        prefix = "kube-sim listening on "
        if not line.startswith(prefix):
            raise RuntimeError("unexpected first line: %r" % line)
        self.url = line[len(prefix):].strip()

    def _line(self, timeout):
        """The next stdout line, read unbuffered so that select() sees what is left."""
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(0.0, left))
            if not ready:
                raise RuntimeError("kube-sim printed no line within %ss" % timeout)
            chunk = os.read(fd, 4096)
            if not chunk:
                raise RuntimeError("kube-sim closed stdout (exit %s)" % self.proc.poll())
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return line.decode() + "\n"

    def control(self, method, path, body=None, timeout=10):
        """A control call; `timeout` bounds it (a bulk call such as a 100k churn under a
        loaded machine needs more than the default)."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read())

    def watch_lines(self, path, timeout_s):
        """A raw watch: every event of the stream until the server ends it."""
        with urllib.request.urlopen(self.url + path, timeout=timeout_s + 10) as r:
            return [json.loads(l) for l in r.read().decode().splitlines() if l.strip()]

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=10)
        if code != 0:
            raise RuntimeError("kube-sim exited with %d on SIGTERM" % code)


def wait_until(what, fn, timeout=15.0):
    """Polls fn() until it returns a true value; fails after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.05)
