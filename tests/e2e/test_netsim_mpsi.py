"""Network simulation of a three-member run (overlap run --parties 3): the
listener in network namespace <P>a, the two members in <P>b, each member's
connection through its own fault-injecting proxy (tests/netsim/faultproxy.py)
in <P>m, as the two-party suite (test_netsim_e2e.py) does. Scenarios: the
loopback reference; 50 ms latency on both members' links (same outputs); a
member killed mid-run and a member's connection reset mid-run (every
surviving member stops with one line naming it, exit 4, and nobody writes
output). Without root or `ip netns` the proxies run over loopback.

`make test` runs this quick set; OVL_NETSIM_FULL=1 adds 200 ms latency with
jitter and more fault offsets."""
import os
import random
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from e2e import BIN, Checks, Workdir, no_temp_files, norm_email, one_line_error, read_csv
from netsim_env import FULL, Net, read, read_stats, reap, start_proxy, stop_proxy, wait_line

SEED = int(os.environ.get("OVL_NETSIM_SEED", "20261202"))
ROWS = 3000 if FULL else 1200
MEMBERS = ("alice", "bob", "carol")

t = Checks("e2e/netsim-mpsi")
rng = random.Random(SEED)
wd = Workdir()
subprocess.run([BIN, "keygen", "--name", "carol", "--dir", wd.path], check=True,
               capture_output=True)


class Run:
    """One three-member run; proxies[i] are the fault options of member i's link
    (None: no proxy, the loopback reference)."""

    def __init__(self, name, proxies, timeout=10):
        self.name = name
        slug = re.sub(r"[^A-Za-z0-9]+", "-", name)
        self.f = lambda k: wd.p(f"{slug}.{k}")
        self.proxies = proxies
        self.local = proxies is None or not net.netns
        self.timeout = timeout
        self.procs, self.pprocs, self.codes = [], [], []

    def member(self, i, addr):
        name = MEMBERS[i]
        args = [BIN, "run", "--parties", "3", "--identity", wd.p(name + ".key"),
                "--table", tables[i], "--join", "email", "--normalize", "email",
                "--out", self.f(f"out{i}"), "--summary", "json", "--timeout", str(self.timeout),
                "--wait", "10"]
        if i == 0:
            args += ["--listen", addr, "--peer", wd.p("bob.pub"), "--peer", wd.p("carol.pub")]
        else:
            args += ["--connect", addr, "--peer", wd.p("alice.pub"), "--quiet"]
        ns = "a" if i == 0 else "b"
        return subprocess.Popen(args if self.local else net.cmd(ns, args),
                                stdout=subprocess.PIPE, stderr=open(self.f(f"err{i}"), "w"),
                                text=True)

    def proxy(self, i, port, opts):
        p, pport = start_proxy(net, port, opts, rng.randrange(1 << 30), self.f(f"stats{i}"),
                               self.f(f"perr{i}"), self.f(f"kpid{i}"))
        self.pprocs.append(p)
        return pport

    def go(self):
        self.t0 = time.time()
        hub = self.member(0, f"{'127.0.0.1' if self.local else net.a_host}:0")
        self.procs.append(hub)
        m = wait_line(self.f("err0"), r"listening on \S+:(\d+)", hub)
        if not t.check(m is not None, f"{self.name}: the listener starts", read(self.f("err0"))):
            hub.kill()
            return self
        port = int(m.group(1))
        for i in (1, 2):
            if self.local:
                self.procs.append(self.member(i, f"127.0.0.1:{port}"))
                continue
            pport = self.proxy(i, port, self.proxies[i])
            self.procs.append(self.member(i, f"{net.m_host}:{pport}"))
            with open(self.f(f"kpid{i}"), "w") as kf:
                kf.write(str(self.procs[i].pid))
        deadline = time.time() + self.timeout * 3 + 30
        for p in self.procs:
            reap(p, deadline)
        self.seconds = time.time() - self.t0
        self.codes = [p.returncode for p in self.procs]
        self.sums = [p.stdout.read() for p in self.procs]
        time.sleep(0.2)
        for p in self.pprocs:
            stop_proxy(p)
        self.stats = {}
        for i in (1, 2):
            stats = read_stats(self.f(f"stats{i}"))
            if stats is not None:
                self.stats[i] = stats
        return self

    def wire(self, i):
        return sum(s["c2s"] for s in self.stats.get(i, [])), sum(
            s["s2c"] for s in self.stats.get(i, []))

    def report(self, outcome):
        b = " ".join(f"m{i} c2s {self.wire(i)[0]:>7} B s2c {self.wire(i)[1]:>7} B"
                     for i in (1, 2) if i in self.stats)
        print(f"  {self.name:<34} {outcome:<5} {self.seconds:6.1f} s  {b}", flush=True)


def succeeded(run):
    ok = t.check(run.codes == [0, 0, 0], f"{run.name}: every member succeeds",
                 " | ".join(f"{c}: {one_line_error(read(run.f(f'err{i}')))}"
                            for i, c in enumerate(run.codes)))
    for i in range(3):
        got = read_csv(run.f(f"out{i}")) if os.path.exists(run.f(f"out{i}")) else None
        t.check(got == refs[i], f"{run.name}: member {i}'s output = the oracle's")
    run.report("ok")


def stopped_naming(run, culprit, killed):
    """Every member but the culprit stops with one line naming it, exit 4; the
    culprit was killed (SIGKILL) or stops naming the listener; no output."""
    name = f"member {culprit} ({MEMBERS[culprit]})"
    for i in range(3):
        err = read(run.f(f"err{i}"))
        lines = [l for l in err.splitlines() if l.startswith("overlap: error:")]
        if i == culprit and killed:
            t.check(run.codes[i] == -9, f"{run.name}: {MEMBERS[i]} was killed", str(run.codes))
            continue
        want = "member 0 (alice)" if i == culprit else name
        t.check(run.codes[i] == 4 and len(lines) == 1 and want in lines[0],
                f"{run.name}: {MEMBERS[i]} stops with one line naming {want}",
                f"exit {run.codes[i]}: {err.strip()[-300:]}")
    t.check(not any(os.path.exists(run.f(f"out{i}")) for i in range(3)),
            f"{run.name}: no member writes output")
    slug = os.path.basename(run.f("out"))
    left = [f for f in no_temp_files(wd.path) if slug in f]
    if not killed:
        t.check(not left, f"{run.name}: no temporary files left", str(left))
    run.report("fail")


def main():
    global tables, refs
    if net.netns:
        print(f"namespaces: {net.prefix}a (listener {net.a_host}) <-> {net.prefix}m (a proxy per "
              f"member) <-> {net.prefix}b (bob, carol); seed {SEED}", flush=True)
    else:
        print(f"SKIP network namespaces: {net.why}; running the proxies over loopback",
              flush=True)
    rows = []
    for i in range(3):
        lo = i * ROWS // 4
        rows.append([[f"user{j}@example.com", str(j * (i + 1))] for j in range(lo, lo + ROWS)])
    tables = []
    for i, r in enumerate(rows):
        p = wd.p(f"t{i}.csv")
        with open(p, "w") as f:
            f.write("email,amount\n" + "".join(f"{a},{b}\n" for a, b in r))
        tables.append(p)
    common = set.intersection(*[{norm_email(r[0]) for r in rs} for rs in rows])
    refs = [[["email", "amount"]] + [r for r in rs if norm_email(r[0]) in common] for rs in rows]
    print("scenario                           result   time     bytes on each member's link",
          flush=True)
    succeeded(Run("loopback (reference)", None).go())
    lat = Run("latency 50 ms", {1: ["--latency", "50"], 2: ["--latency", "50"]}).go()
    succeeded(lat)
    if FULL:
        succeeded(Run("latency 200 ms + 40 ms jitter",
                      {1: ["--latency", "200", "--jitter", "40"],
                       2: ["--latency", "200", "--jitter", "40"]}, timeout=30).go())
    total = lat.wire(2)[0] or 200000
    offsets = [rng.randrange(int(total * 0.3), int(total * 0.7))]
    if FULL:
        offsets += [rng.randrange(int(total * 0.1), int(total * 0.9)) for _ in range(3)]
    for off in offsets:
        run = Run(f"SIGKILL carol @{off}", {1: [], 2: ["--kill-at", str(off)]}).go()
        stopped_naming(run, 2, killed=True)
        run = Run(f"reset carol's link @{off}", {1: [], 2: ["--reset-at", str(off)]}).go()
        stopped_naming(run, 2, killed=False)


net = Net("ovm")
try:
    main()
finally:
    net.down()
    wd.cleanup()
t.finish()
