"""Network simulation: two overlap processes on separate network namespaces
(tests/netsim/netns.sh), joined only through the fault-injecting proxy
(tests/netsim/faultproxy.py) and, for the bandwidth case, a `tc tbf` link.
Every scenario is checked against the loopback result; failing scenarios
must end both parties cleanly (one-line error, no output file, in time).
Each scenario's time and bytes on the wire are printed.

`make test` runs the quick set; `make netsim` (OVL_NETSIM_FULL=1) adds the
200 ms and jitter cases, the 30 s stalls, more offsets per phase and larger
tables. Without root or `ip netns` the namespaces are skipped (said so in the
output) and the proxy scenarios run over loopback instead."""
import json
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from e2e import (BIN, TOOLS, Checks, Workdir, expected_rows, no_temp_files, one_line_error,
                 read_csv, write_table)
from netsim_env import FULL, Net, read, read_stats, reap, start_proxy, stop_proxy, wait_line

HOSTILE = os.path.join(TOOLS, "hostile_peer")
SEED = int(os.environ.get("OVL_NETSIM_SEED", "20261124"))
ROWS = 5000 if FULL else 1500

t = Checks("e2e/netsim")
rng = random.Random(SEED)
wd = Workdir()


class Run:
    """One two-party run through the proxy (or directly when proxy is None)."""

    def __init__(self, name, proxy=(), timeout=10, lextra=(), cextra=(), via_proxy=True):
        self.name = name
        slug = re.sub(r"[^A-Za-z0-9]+", "-", name)
        self.files = {k: wd.p(f"{slug}.{k}") for k in ("lout", "cout", "lerr", "cerr", "perr",
                                                        "stats", "kpid")}
        for k in ("lerr", "cerr", "perr"):
            open(self.files[k], "w").close()
        self.timeout = timeout
        self.proxy_args = list(proxy)
        self.lextra, self.cextra = list(lextra), list(cextra)
        self.via_proxy = via_proxy
        # Without the proxy the parties cannot reach each other across the
        # namespaces: such a run is the loopback reference, in this namespace.
        self.local = not via_proxy or not net.netns
        self.a_host = "127.0.0.1" if self.local else net.a_host
        self.c_host = "127.0.0.1" if self.local else net.m_host
        self.lproc = self.cproc = self.pproc = None
        self.lport = None

    def party(self, ns, role, addr, identity, peer, table, out, err, extra):
        args = [BIN, "run", f"--{role}", addr, "--identity", wd.p(identity + ".key"),
                "--peer", wd.p(peer + ".pub"), "--table", table, "--join", "email",
                "--normalize", "email", "--out", out, "--summary", "json", "--quiet",
                "--timeout", str(self.timeout), "--wait", "10", "--threads", "2"] + extra
        return subprocess.Popen(args if self.local else net.cmd(ns, args), stdout=subprocess.PIPE,
                                stderr=open(err, "w"), text=True)

    def start_listener(self):
        f = self.files
        self.lproc = self.party("a", "listen", f"{self.a_host}:0", "alice", "bob", ltable,
                                f["lout"], f["lerr"], self.lextra)
        m = wait_line(f["lerr"], r"listening on \S+:(\d+)", self.lproc)
        self.lport = int(m.group(1)) if m else None
        return self.lport is not None

    def start_rest(self):
        f = self.files
        port = self.lport
        if self.via_proxy:
            self.pproc, port = start_proxy(net, self.lport, self.proxy_args,
                                           rng.randrange(1 << 30), f["stats"], f["perr"],
                                           f["kpid"])
            if port is None:
                return False
        self.cproc = self.party("b", "connect", f"{self.c_host}:{port}", "bob", "alice", ctable,
                                f["cout"], f["cerr"], self.cextra)
        with open(f["kpid"], "w") as kf:
            kf.write(str(self.kill_target()))
        return True

    def kill_target(self):
        who = getattr(self, "kill_who", "connector")
        return (self.cproc if who == "connector" else self.lproc).pid

    def finish(self, deadline_s):
        t0 = self.t0
        deadline = t0 + deadline_s
        self.lcode = reap(self.lproc, deadline)
        self.ccode = reap(self.cproc, deadline)
        self.seconds = time.time() - t0
        self.lsum = self.lproc.stdout.read()
        self.csum = self.cproc.stdout.read()
        if self.pproc:
            time.sleep(0.3)  # let the proxy write its statistics line
            stop_proxy(self.pproc)
        self.stats = read_stats(self.files["stats"]) or []
        return self

    def bytes(self):
        if self.stats:
            return sum(s["c2s"] for s in self.stats), sum(s["s2c"] for s in self.stats)
        for s in (self.lsum, self.csum):
            for line in s.splitlines():
                if line.startswith("{"):
                    j = json.loads(line)
                    if "bytes_sent" in j:
                        return j["bytes_received"], j["bytes_sent"]
        return 0, 0


def report(run, outcome):
    c2s, s2c = run.bytes()
    print(f"  {run.name:<30} {outcome:<5} {run.seconds:6.1f} s  wire c2s {c2s:>8} B  "
          f"s2c {s2c:>8} B", flush=True)


def same_as_loopback(run):
    ok = t.check(run.lcode == 0 and run.ccode == 0, f"{run.name}: both parties succeed",
                 f"listener {run.lcode}: {read(run.files['lerr']).strip()[-300:]} | connector "
                 f"{run.ccode}: {read(run.files['cerr']).strip()[-300:]}")
    if ok:
        t.check(read_csv(run.files["lout"]) == ref_l, f"{run.name}: listener output = loopback")
        t.check(read_csv(run.files["cout"]) == ref_c, f"{run.name}: connector output = loopback")
    return ok


def clean_failure(run, killed=None, codes=(4, 5)):
    """The killed party died by SIGKILL; every other party either finished with
    the loopback answer (possible when the fault came after everything it
    needed) or failed cleanly: expected exit, one error line, no output."""
    failures = 0
    for who, code, err, out, ref in (("listener", run.lcode, "lerr", "lout", ref_l),
                                     ("connector", run.ccode, "cerr", "cout", ref_c)):
        if who == killed:
            t.check(code == -9, f"{run.name}: {who} was killed", f"exit {code}")
            failures += 1
            continue
        text = read(run.files[err])
        if code == 0:
            t.check(read_csv(run.files[out]) == ref, f"{run.name}: {who} finished with the "
                    "loopback answer")
            continue
        failures += 1
        t.check(code in codes, f"{run.name}: {who} fails with exit in {codes}",
                f"exit {code}: {text.strip()[-300:]}")
        errs = [l for l in text.splitlines() if l.startswith("overlap: error:")]
        t.check(len(errs) == 1, f"{run.name}: {who} prints one error line", text[-400:])
        t.check(not os.path.exists(run.files[out]), f"{run.name}: {who} leaves no output file")
    t.check(failures > 0, f"{run.name}: the fault ended the run",
            f"listener {run.lcode}, connector {run.ccode}")
    # SIGKILL cannot be caught: a party killed while writing its result may
    # leave its hidden temporary file (never the output itself). Survivors may not.
    mine = tuple("." + os.path.basename(run.files[k]) + ".tmp." for k in ("lout", "cout"))
    left = [f for f in no_temp_files(wd.path) if f.startswith(mine)]
    if killed is not None:
        killed_out = os.path.basename(run.files["lout" if killed == "listener" else "cout"])
        left = [f for f in left if not f.startswith("." + killed_out + ".tmp.")]
    t.check(not left, f"{run.name}: no temporary files left", str(left))


def scenario(name, proxy=(), timeout=10, expect="ok", deadline=None, kill_who=None,
             codes=(4, 5), during=None, before=None, via_proxy=True, want_error=None):
    run = Run(name, proxy, timeout, via_proxy=via_proxy)
    run.kill_who = kill_who or "connector"
    run.t0 = time.time()
    if not t.check(run.start_listener(), f"{name}: listener starts", read(run.files["lerr"])):
        run.lproc.kill()
        return None
    if before:
        before(run)
    run.t0 = time.time()
    if not t.check(run.start_rest(), f"{name}: proxy and connector start", read(run.files["perr"])):
        for p in (run.lproc, run.pproc):
            if p:
                p.kill()
        return None
    helper = None
    if during:
        helper = threading.Thread(target=during, args=(run,))
        helper.start()
    run.finish(deadline or (timeout * 3 + 30))
    if helper:
        helper.join()
    t.check(run.lcode is not None and run.ccode is not None,
            f"{name}: both parties end within the deadline", f"{run.seconds:.1f} s")
    if expect == "ok":
        good = same_as_loopback(run)
    else:
        clean_failure(run, killed=kill_who, codes=codes)
        good = True
        if want_error:
            errs = one_line_error(read(run.files["lerr"])) + one_line_error(read(run.files["cerr"]))
            good = t.check(re.search(want_error, errs) is not None,
                           f"{name}: error says /{want_error}/", errs)
    report(run, "ok" if expect == "ok" else "fail")
    return run


# ---- scanners (run from the middle namespace against the listener) ----

def scan(run, hold=0.0, payload=None):
    cmd = net.cmd("m", ["python3", "-c", SCAN, net.a_host, str(run.lport), str(hold),
                        (payload or b"").hex()])
    subprocess.run(cmd, capture_output=True, timeout=30)


SCAN = """
import socket, sys, time
host, port, hold, payload = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
try:
    s = socket.create_connection((host, port), timeout=5)
    if payload:
        s.sendall(bytes.fromhex(payload))
    time.sleep(hold)
    s.close()
except OSError:
    pass
"""


def wrong_key_client(run, timeout=5):
    args = [HOSTILE, "--case", "honest", "--identity", wd.p("mallory.key"), "--peer",
            wd.p("alice.pub"), "--connect", f"{net.a_host}:{run.lport}", "--timeout", str(timeout)]
    r = subprocess.run(net.cmd("m", args), capture_output=True, text=True, timeout=60)
    return r.returncode


def scans_before(run):
    for _ in range(3):
        scan(run)
    scan(run, payload=b"GET / HTTP/1.1\r\n\r\n")
    scan(run, hold=1.0)
    run.wrong_key_rc = wrong_key_client(run)


def scans_during(run):
    time.sleep(0.3)
    for _ in range(3):
        scan(run)
    run.wrong_key_during_rc = wrong_key_client(run, timeout=3)


# ---- the scenarios ----

def phase_offsets(total):
    """One byte offset (connector to listener) per protocol phase."""
    return {
        "handshake": rng.randrange(10, 300),
        "setup": rng.randrange(2200, 3200),
        "elements": rng.randrange(int(total * 0.3), int(total * 0.6)),
        "tags": rng.randrange(int(total * 0.75), int(total * 0.85)),
    }


def main():
    global ltable, ctable, ref_l, ref_c
    if net.netns:
        print(f"namespaces: {net.prefix}a (listener {net.a_host}) <-> {net.prefix}m (proxy) "
              f"<-> {net.prefix}b (connector); seed {SEED}", flush=True)
    else:
        print(f"SKIP network namespaces: {net.why}; running the proxy scenarios over "
              f"loopback, and no bandwidth limit", flush=True)
    lrows = [[f"user{i}@example.com", str(i)] for i in range(ROWS)]
    crows = [[f"user{i}@example.com", str(i * 7)] for i in range(ROWS // 2, ROWS + ROWS // 2)]
    ltable, ctable = wd.p("l.csv"), wd.p("c.csv")
    write_table(ltable, lrows)
    write_table(ctable, crows)

    # The loopback reference, itself checked against the plaintext computation.
    print("scenario                         result   time     bytes on the wire", flush=True)
    ref_l = [["email", "amount"]] + expected_rows(lrows, crows)
    ref_c = [["email", "amount"]] + expected_rows(crows, lrows)
    base = scenario("loopback (reference)", via_proxy=False)
    if base is None or base.lcode != 0:
        return
    proxied = scenario("proxy, no faults")
    total = proxied.bytes()[0] if proxied and proxied.stats else 60000

    scenario("latency 50 ms", ["--latency", "50"])
    if FULL:
        scenario("latency 200 ms", ["--latency", "200"], timeout=30)
        scenario("latency 50 ms + 40 ms jitter", ["--latency", "50", "--jitter", "40"])
    if net.tbf("10mbit"):
        scenario("bandwidth 10 Mbit/s (tc tbf)")
        net.tbf(None)
    else:
        print("SKIP bandwidth 10 Mbit/s scenario: needs network namespaces and tc tbf "
              f"({net.why or 'tc tbf unavailable'})", flush=True)
    scenario("1-byte writes", ["--chunk", "1"], timeout=20)

    mid = total // 2
    if FULL:
        scenario("stall 30 s < timeout 45 s", ["--stall-at", str(mid), "--stall-secs", "30"],
                 timeout=45, deadline=200)
        scenario("stall 70 s > timeout 60 s", ["--stall-at", str(mid), "--stall-secs", "70"],
                 timeout=60, expect="fail", deadline=200, codes=(4,),
                 want_error=r"silent for more than 60 s")
    else:
        scenario("stall 3 s < timeout 8 s", ["--stall-at", str(mid), "--stall-secs", "3"],
                 timeout=8)
        scenario("stall 12 s > timeout 4 s", ["--stall-at", str(mid), "--stall-secs", "12"],
                 timeout=4, expect="fail", deadline=40, codes=(4,),
                 want_error=r"silent for more than 4 s")

    for rep in range(3 if FULL else 1):
        for phase, off in phase_offsets(total).items():
            scenario(f"reset in {phase} @{off}", ["--reset-at", str(off)], expect="fail")
    scenario("bit flip in elements", ["--flip-at", str(mid)], expect="fail",
             want_error=r"TLS|closed|reset")
    if FULL:
        scenario("bit flip in handshake", ["--flip-at", "100"], expect="fail")
        scenario("bit flip listener->connector", ["--dir", "s2c", "--flip-at", str(mid)],
                 expect="fail")
    for who in (("connector", "listener") if FULL else ("connector",)):
        for phase, off in phase_offsets(total).items():
            scenario(f"SIGKILL {who} in {phase} @{off}", ["--kill-at", str(off)],
                     expect="fail", kill_who=who)

    run = scenario("scans + wrong key, before and during", before=scans_before,
                   during=scans_during)
    if run:
        lerr = read(run.files["lerr"])
        rejected = lerr.count("rejected connection")
        t.check(rejected >= 6, "scans: the listener rejected every connection before the run",
                f"{rejected} rejections: {lerr[-600:]}")
        t.check(getattr(run, "wrong_key_rc", 0) != 0, "scans: the wrong-key TLS client fails")
        t.check(getattr(run, "wrong_key_during_rc", 0) != 0,
                "scans: the wrong-key TLS client during the run fails")


net = Net("ovl")
try:
    main()
finally:
    net.down()
    wd.cleanup()
t.finish()
