"""What the network-simulation suites (test_netsim_e2e.py, test_netsim_mpsi.py)
share: the network namespaces of tests/netsim/netns.sh (or loopback where
there are none), the fault-injecting proxy (tests/netsim/faultproxy.py)
started in front of a listener and stopped, its statistics, and waiting for a
party's log line. One copy, so that both suites build the same network."""
import json
import os
import re
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
NETSIM = os.path.join(os.path.dirname(HERE), "netsim")
PROXY = os.path.join(NETSIM, "faultproxy.py")
NETNS = os.path.join(NETSIM, "netns.sh")
FULL = os.environ.get("OVL_NETSIM_FULL") == "1"


class Net:
    """Where each party runs: namespaces <P>a (the listener), <P>m (the
    proxies), <P>b (the connecting parties), or loopback. `tag` starts the
    prefix P, so that the two suites' namespaces never collide."""

    def __init__(self, tag):
        self.prefix = "%s%05d" % (tag, os.getpid() % 100000)
        r = subprocess.run(["sh", NETNS, "check", self.prefix], capture_output=True, text=True)
        self.netns = r.returncode == 0
        self.why = (r.stdout + r.stderr).strip()
        if self.netns:
            r = subprocess.run(["sh", NETNS, "up", self.prefix], capture_output=True, text=True)
            if r.returncode != 0:
                self.netns, self.why = False, "netns.sh up failed: " + r.stderr.strip()
        self.a_host = "10.77.1.1" if self.netns else "127.0.0.1"
        self.m_host = "10.77.2.1" if self.netns else "127.0.0.1"

    def cmd(self, ns, args):
        return ["ip", "netns", "exec", self.prefix + ns] + args if self.netns else args

    def tbf(self, rate):
        """Adds (rate) or removes (None) a token-bucket limit on both links."""
        if not self.netns:
            return False
        for dev in ("ma", "mb"):
            base = ["ip", "netns", "exec", self.prefix + "m", "tc", "qdisc"]
            subprocess.run(base + ["del", "dev", self.prefix + dev, "root"], capture_output=True)
            if rate:
                r = subprocess.run(base + ["add", "dev", self.prefix + dev, "root", "tbf", "rate",
                                           rate, "burst", "32kbit", "latency", "400ms"],
                                   capture_output=True, text=True)
                if r.returncode != 0:
                    return False
        return True

    def down(self):
        if self.netns:
            subprocess.run(["sh", NETNS, "down", self.prefix], capture_output=True)


def read(path):
    with open(path) as f:
        return f.read()


def wait_line(path, pattern, proc, secs=30):
    """The first match of `pattern` in the log at `path`; None once `proc`
    exited or `secs` passed without one."""
    deadline = time.time() + secs
    while time.time() < deadline:
        with open(path) as f:
            m = re.search(pattern, f.read())
        if m:
            return m
        if proc.poll() is not None:
            return None
        time.sleep(0.02)
    return None


def reap(proc, deadline):
    """The exit status by `deadline` (time.time()), else None after SIGKILL."""
    try:
        proc.wait(timeout=max(0.1, deadline - time.time()))
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None
    return proc.returncode


def start_proxy(net, port, opts, seed, stats, perr, kpid):
    """faultproxy.py in <P>m in front of the listener's `port`, with the fault
    options `opts`; with --kill-at it kills the pid written to `kpid`.
    Returns the process and the port it listens on (None if it did not start)."""
    args = ["python3", PROXY, "--listen", f"{net.m_host}:0", "--target", f"{net.a_host}:{port}",
            "--stats", stats, "--seed", str(seed)] + list(opts)
    if "--kill-at" in opts:
        args += ["--kill-pid-file", kpid]
    p = subprocess.Popen(net.cmd("m", args), stdout=subprocess.PIPE, stderr=open(perr, "w"),
                         text=True)
    m = re.search(r"listening on (\d+)", p.stdout.readline())
    return p, int(m.group(1)) if m else None


def stop_proxy(p):
    # On SIGTERM the proxy writes the bytes of the connections still open.
    p.terminate()
    try:
        p.wait(timeout=5)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def read_stats(path):
    """The proxy's statistics lines (one JSON object a connection), or None
    when it wrote none."""
    if not os.path.exists(path):
        return None
    return [json.loads(l) for l in read(path).splitlines() if l]
