"""README.md's command examples, run as written so the README cannot drift.

Every code block fenced as ```sh is executed, in README order, by sh in one
scratch directory holding a copy of tests/demo/ (tables, policies, template),
with `overlap` (OVL_BIN) first on PATH. A logical command (backslash
continuations joined) naming --listen or `overlap serve` is started in the
background; the next --connect command talks to it. A `run --listen` is then
waited for; a `serve` is stopped with SIGTERM before the next command that is
not a --connect. Every command must exit 0. The only rewriting is the
address: 0.0.0.0:7700, retailer.example:7700, HOST:7700 and 127.0.0.1:7700
become 127.0.0.1 and a free port (a new one per listener).

Afterwards the results are checked against the plaintext computation of
tests/demo/gen_demo.py, which must also reproduce the committed tables."""
import csv
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from e2e import BIN, Checks, free_port

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEMO = os.path.join(ROOT, "tests", "demo")
ADDR = re.compile(r"\b(0\.0\.0\.0|retailer\.example|HOST|127\.0\.0\.1):7700\b")
TIMEOUT = 180

t = Checks("e2e/readme")


def sh_blocks(text):
    """The ```sh blocks of a Markdown text, as lists of logical commands."""
    blocks, cur = [], None
    for line in text.splitlines():
        if cur is None:
            if line.strip() == "```sh":
                cur = []
            continue
        if line.strip() == "```":
            blocks.append(cur)
            cur = None
            continue
        cur.append(line)
    out = []
    for lines in blocks:
        cmds, acc = [], ""
        for line in lines:
            if not acc and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if line.endswith("\\"):
                acc += line[:-1] + " "
                continue
            cmds.append(acc + line)
            acc = ""
        if acc:
            cmds.append(acc)
        out.append(cmds)
    return out


def kind(cmd):
    words = cmd.split()
    if words[:2] == ["overlap", "serve"]:
        return "serve"
    if words[:1] == ["overlap"] and "--listen" in words:
        return "listen"
    if words[:1] == ["overlap"] and "--connect" in words:
        return "connect"
    return "plain"


class Runner:
    def __init__(self, work, env):
        self.work, self.env = work, env
        self.bg = None  # (kind, command, Popen, log path)
        self.port = None
        self.n = 0
        self.members = []  # a --parties K listener's members started so far

    def _spawn(self, cmd, background=False):
        self.n += 1
        if background:  # so that SIGTERM reaches overlap itself
            cmd = "exec " + cmd
        log = os.path.join(self.work, ".readme-%d.log" % self.n)
        f = open(log, "w")
        p = subprocess.Popen(["sh", "-c", cmd], cwd=self.work, env=self.env, stdout=f,
                             stderr=subprocess.STDOUT, start_new_session=True)
        f.close()
        return p, log

    def _finish_bg(self, stop):
        if self.bg is None:
            return
        k, cmd, p, log = self.bg
        self.bg = None
        if stop:
            p.send_signal(signal.SIGTERM)
        self._reap(cmd, p, log)

    @staticmethod
    def _reap(cmd, p, log):
        """Waits for a command (killing it after TIMEOUT); it must exit 0."""
        try:
            code = p.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            code = p.wait()
        with open(log) as f:
            text = f.read()
        t.check(code == 0, "README: %s exits 0" % cmd[:90], "exit %s: %s" % (code, text[-600:]))

    def run(self, cmd):
        k = kind(cmd)
        if k in ("listen", "serve"):
            self._finish_bg(stop=True)
            self.port = free_port()
            cmd = ADDR.sub("127.0.0.1:%d" % self.port, cmd)
            p, log = self._spawn(cmd, background=True)
            self.bg = (k, cmd, p, log)
            return
        if k == "connect":
            t.check(self.port is not None, "README: %s has a listener before it" % cmd[:60])
            cmd = ADDR.sub("127.0.0.1:%d" % (self.port or 1), cmd)
            parties = re.search(r"--parties (\d+)", self.bg[1]) if self.bg else None
            if parties and int(parties.group(1)) > 2:
                # A run of K members starts once all K-1 have connected: they
                # run side by side, then the listener is waited for.
                self.members.append((cmd,) + self._spawn(cmd, background=True))
                if len(self.members) == int(parties.group(1)) - 1:
                    for c, p, log in self.members:
                        self._reap(c, p, log)
                    self.members = []
                    self._finish_bg(stop=False)
                return
        else:
            self._finish_bg(stop=True)
        p, log = self._spawn(cmd)
        self._reap(cmd, p, log)
        if k == "connect" and self.bg is not None and self.bg[0] == "listen":
            self._finish_bg(stop=False)

    def close(self):
        self._finish_bg(stop=True)


def read(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


if os.environ.get("OVL_VALGRIND") == "1":
    # The demo tables (thousands of rows, two-party computation) under memcheck's ~50x
    # slowdown would outlast overlap's own 60 s silence timeout.
    print("SKIP README commands: too slow under valgrind (make valgrind); make test runs them",
          flush=True)
    t.finish()

work = tempfile.mkdtemp(prefix="overlap-readme-")
try:
    for name in os.listdir(DEMO):
        if name.endswith((".csv", ".json", ".sql")):
            shutil.copy(os.path.join(DEMO, name), work)
    bindir = os.path.join(work, ".bin")
    os.mkdir(bindir)
    os.symlink(BIN, os.path.join(bindir, "overlap"))
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""))

    with open(os.path.join(ROOT, "README.md")) as f:
        blocks = sh_blocks(f.read())
    ncmds = sum(len(b) for b in blocks)
    t.check(len(blocks) >= 5 and ncmds >= 25, "README has its command examples",
            "%d blocks, %d commands" % (len(blocks), ncmds))
    r = Runner(work, env)
    for block in blocks:
        for cmd in block:
            r.run(cmd)
    r.close()

    # What the commands produced, against the plaintext computation.
    gen = [sys.executable, os.path.join(DEMO, "gen_demo.py")]
    chk = subprocess.run(gen + ["--check"], capture_output=True, text=True)
    t.check(chk.returncode == 0, "gen_demo.py reproduces the committed demo tables", chk.stderr)
    exp = subprocess.run(gen + ["--expect", "CAMP_2026_Q3", "2026-07-01", "2026-07-31", "25"],
                         capture_output=True, text=True)
    want = [row.split(",") for row in exp.stdout.splitlines() if not row.startswith("#")]
    suppressed = int(exp.stdout.rsplit("# suppressed ", 1)[-1])
    got_path = os.path.join(work, "attribution.csv")
    got = read(got_path) if os.path.exists(got_path) else None
    t.check(got == want, "the README's template run releases the plaintext result",
            "got %s want %s" % (got, want))
    t.check(len(want) >= 3 and suppressed >= 1,
            "the demo data releases two or more cells and suppresses some", exp.stdout)
    # Both owners' audit logs record the template run, with the same counts.
    import json
    fprs = {}
    for who in ("retailer", "advertiser"):
        r = subprocess.run([BIN, "fingerprint", os.path.join(work, who + ".pub")],
                           capture_output=True, text=True)
        fprs[who] = r.stdout.split()[0] if r.stdout else "?"
    for log, partner in (("retail.audit", "advertiser"), ("advertiser.audit", "retailer")):
        path = os.path.join(work, log)
        entries = [json.loads(l) for l in open(path)] if os.path.exists(path) else []
        # the run's "agreed" entry (charged before it ran) is followed by its end
        tpl = [e for e in entries if e.get("template") and e.get("mode") == "aggregate"
               and e.get("outcome") != "agreed"]
        ok = len(tpl) == 1 and tpl[0]["outcome"] == "ok" and tpl[0]["peer"] == fprs[partner]
        t.check(ok and tpl[0]["groups_released"] == len(want) - 1
                and tpl[0]["groups_suppressed"] == suppressed,
                f"{log}: the template run with its peer and released/suppressed counts",
                str(tpl))
    agg = os.path.join(work, "result.csv")
    rows = read(agg) if os.path.exists(agg) else []
    t.check(len(rows) >= 3 and rows[0][:5] == ["campaign_id", "ad_format", "product_category",
                                                "matched", "rows"],
            "the README's ad-hoc aggregate releases cells of both parties' groups",
            str(rows[:3]))
    for name in ("purchases-shared.csv", "impressions-shared.csv", "matches.csv", "adhoc.csv"):
        path = os.path.join(work, name)
        t.check(os.path.exists(path) and len(read(path)) >= 2, "README output %s has rows" % name)
    # The three-member run: each member's rows are those whose email all three hold.
    def emails(name, col=0):
        path = os.path.join(work, name)
        return [r[col].strip().lower() for r in read(path)[1:]] if os.path.exists(path) else []
    common = (set(emails("purchases.csv")) & set(emails("impressions.csv"))
              & set(emails("readers.csv")))
    for member, table in (("retailer", "purchases.csv"), ("advertiser", "impressions.csv"),
                          ("publisher", "readers.csv")):
        got = emails("shared.%s.csv" % member)
        want = [e for e in emails(table) if e in common]
        t.check(common and sorted(got) == sorted(want),
                "README --parties 3: %s's rows are its rows in all three tables" % member,
                "%d rows, %d expected" % (len(got), len(want)))
finally:
    shutil.rmtree(work, ignore_errors=True)
t.finish()
