"""Shared helpers for the end-to-end tests: keys, tables, running two real
overlap processes over loopback, and an independent reference computation.

Each test script prints "N passed, N failed" last (read by tests/run.sh)."""
import csv
import hashlib
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BIN = os.path.abspath(os.environ.get("OVL_BIN", "build/san/overlap"))
TOOLS = os.path.abspath(os.environ.get("OVL_TOOLS", "build/rel/tools"))


class Checks:
    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0

    def check(self, cond, what, detail=""):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL {what}" + (f": {detail}" if detail else ""), flush=True)
        return cond

    def finish(self):
        print(f"{self.name}: {self.passed} passed, {self.failed} failed", flush=True)
        sys.exit(0 if self.failed == 0 else 1)


def attribution_template(min_buyers):
    """The README's campaign attribution template: buyers and revenue by ad
    format for one campaign since a date, groups of at least `min_buyers`."""
    return f"""-- param campaign_id string in ('CAMP_A', 'CAMP_B')
-- param start_date date
-- decimals p.purchase_amount 2
SELECT c.ad_format,
       COUNT(DISTINCT c.email) AS buyers,
       SUM(p.purchase_amount) AS revenue
FROM impressions AS c
INNER JOIN purchases AS p ON c.email = p.email
WHERE c.campaign_id = :campaign_id AND p.purchase_date >= :start_date
GROUP BY c.ad_format
HAVING COUNT(DISTINCT c.email) >= {min_buyers};
"""


def label_key(values):
    """The order aggregates release rows in (protocols/aggregate/SPEC.md §5.2, §8.4): by the
    bytes of the group's label, u16 length then bytes per dimension value."""
    return b"".join(len(v.encode()).to_bytes(2, "big") + v.encode() for v in values)


class Workdir:
    """A temporary directory with two identities, 'alice' (listener) and 'bob'."""

    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="overlap-e2e-")
        for name in ("alice", "bob", "mallory"):
            r = subprocess.run([BIN, "keygen", "--name", name, "--dir", self.path],
                               capture_output=True, text=True)
            if r.returncode != 0:
                raise RuntimeError("keygen failed: " + r.stderr)

    def p(self, name):
        return os.path.join(self.path, name)

    def write(self, name, text, mode="w"):
        with open(self.p(name), mode, newline="") as f:
            f.write(text)
        return self.p(name)

    def write_csv(self, name, header, rows):
        """A CSV table (header, then rows) written with the csv module."""
        path = self.p(name)
        with open(path, "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(header)
            w.writerows(rows)
        return path

    def fingerprint(self, name):
        """The key fingerprint of identity `name`, as overlap prints it."""
        out = subprocess.run([BIN, "fingerprint", self.p(name + ".pub")],
                             capture_output=True, text=True)
        return out.stdout.split()[0]

    def approve_template(self, name, text, who=("alice", "bob")):
        """Writes a template, has each of `who` approve it; returns its path, its
        hash and the approvals' completed processes (for callers that check them)."""
        path = self.write(name, text)
        thash = subprocess.run([BIN, "template", "hash", path],
                               capture_output=True, text=True).stdout.split()[0]
        runs = [subprocess.run([BIN, "template", "approve", path, "--identity", self.p(w + ".key")],
                               capture_output=True, text=True) for w in who]
        return path, thash, runs

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)


def owner_policy(peer_fpr, normalize="email"):
    """The owner's policy of the negotiated-run tests (audit continuity, a
    modified peer): its table owner.csv (email, amount) joined on email, one
    peer, bob (fingerprint peer_fpr), who may receive the matches and COUNT
    with at least 2 rows."""
    return {
        "version": 1,
        "table": {"name": "owner", "file": "owner.csv", "columns": ["email", "amount"]},
        "join": [{"column": "email", "normalize": normalize, "prehashed": False}],
        "peers": [{"name": "bob", "fingerprint": peer_fpr}],
        "list": {"allowed": True, "columns": [], "receivers": [peer_fpr]},
        "aggregation": {"adhoc": False, "functions": ["COUNT"], "dimensions": [],
                        "aggregates": [], "min_rows": 2, "receivers": [peer_fpr],
                        "allow_cardinality": True},
        "custom": {"templates": []},
    }


def audit_entries(path, missing_ok=False):
    """The entries of an audit log, one JSON object a line ([] for a log that
    does not exist, when missing_ok)."""
    if missing_ok and not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def norm_email(v):
    v = v.strip(" \t\r\n\v\f").lower()
    if v.count("@") != 1:
        return None
    local, domain = v.split("@")
    if not local or not domain or any(c.isspace() for c in v):
        return None
    return v


def write_table(path, rows, header=("email", "amount")):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow(r)


def expected_rows(rows, other_rows, col=0):
    """Rows of `rows` whose normalised join value occurs in other_rows."""
    other = {norm_email(r[col]) for r in other_rows}
    other.discard(None)
    return [r for r in rows if norm_email(r[col]) is not None and norm_email(r[col]) in other]


def expected_count(rows, other_rows, col=0):
    a = {norm_email(r[col]) for r in rows}
    b = {norm_email(r[col]) for r in other_rows}
    a.discard(None)
    b.discard(None)
    return len(a & b)


def read_csv(path):
    with open(path, newline="") as f:
        return [row for row in csv.reader(f)]


class Party:
    def __init__(self, proc, out):
        self.proc = proc
        self.out = out
        self.stdout = ""
        self.stderr = ""
        self.code = None

    def wait(self, timeout=600):
        try:
            self.stdout, self.stderr = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.stdout, self.stderr = self.proc.communicate()
            self.stderr += "\n[test harness: killed after timeout]"
        self.code = self.proc.returncode
        return self

    def summary(self):
        for line in self.stdout.splitlines():
            if line.startswith("{"):
                return json.loads(line)
        return None


class Serve:
    """overlap serve in the background on a free loopback port (args: everything after
    --listen); its stderr goes to a log file, read for the port it printed."""

    def __init__(self, wd, args):
        self.err = open(wd.p("serve.%d.log" % time.monotonic_ns()), "w+")
        self.proc = subprocess.Popen([BIN, "serve", "--listen", "127.0.0.1:0"] + list(args),
                                     stderr=self.err, stdout=subprocess.DEVNULL)
        self.port = None
        deadline = time.time() + 30
        while time.time() < deadline and self.port is None and self.proc.poll() is None:
            m = re.search(r"on 127\.0\.0\.1:(\d+)", self.log())
            self.port = int(m.group(1)) if m else None
            time.sleep(0.05)

    def log(self):
        self.err.flush()
        with open(self.err.name) as f:
            return f.read()

    def stop(self):
        """SIGTERM, then the exit status (killed after 60 s)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


def _start_run(wd, where, identity, peer, table, join, normalize, out, extra):
    """`overlap run` listening or connecting (`where`), summary as JSON."""
    args = [BIN, "run"] + where + ["--identity", wd.p(identity + ".key"),
                                   "--peer", wd.p(peer + ".pub"), "--table", table, "--join", join,
                                   "--normalize", normalize, "--summary", "json"]
    if out:
        args += ["--out", out]
    args += list(extra)
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def start_listener(wd, table, out, extra=(), identity="alice", peer="bob", join="email",
                   normalize="email"):
    """Starts a listener on an ephemeral port; returns (Party, port)."""
    proc = _start_run(wd, ["--listen", "127.0.0.1:0"], identity, peer, table, join, normalize,
                      out, extra)
    port = None
    seen = []
    deadline = time.time() + 60
    while time.time() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line)
        m = re.search(r"listening on \S+:(\d+)", line)
        if m:
            port = int(m.group(1))
            break
    party = Party(proc, out)
    party.early_stderr = "".join(seen)
    return party, port


def start_connector(wd, port, table, out, extra=(), identity="bob", peer="alice", join="email",
                    normalize="email", host="127.0.0.1"):
    return Party(_start_run(wd, ["--connect", f"{host}:{port}"], identity, peer, table, join,
                            normalize, out, extra), out)


def run_pair(wd, ltable, ctable, lout, cout, lextra=(), cextra=(), **kw):
    lst, port = start_listener(wd, ltable, lout, lextra, **kw.get("lkw", {}))
    if port is None:
        lst.wait(10)
        lst.stderr = lst.early_stderr + lst.stderr
        return lst, Party(None, cout)
    con = start_connector(wd, port, ctable, cout, cextra, **kw.get("ckw", {}))
    con.wait()
    lst.wait()
    lst.stderr = lst.early_stderr + lst.stderr
    return lst, con


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def one_line_error(stderr):
    lines = [l for l in stderr.splitlines() if l.startswith("overlap: error:")]
    return lines[-1] if lines else ""


def no_temp_files(directory):
    return [f for f in os.listdir(directory) if ".tmp." in f]
