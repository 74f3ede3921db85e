"""Audit continuity (protocols/setup/SPEC.md §3.7): each party records the
head of the peer's audit log the peer showed it, and the next session
refuses a partner whose log went back: deleted, an older log and .head put
back, or truncated with an older .head. Detected by the partner, from
either side (a `run` partner's log, or the served owner's log), exit 6."""
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from e2e import BIN, Checks, Serve, Workdir, audit_entries, owner_policy

t = Checks("e2e/audit_continuity")
wd = Workdir()  # alice serves with an audit log; bob runs with his own
BOB = wd.fingerprint("bob")
for name, lo, hi in (("owner", 20, 100), ("bob", 0, 50)):
    with open(wd.p(name + ".csv"), "w") as f:
        f.write("email,amount\n")
        for i in range(lo, hi):
            f.write(f"user{i}@example.com,{i}\n")
POL = wd.p("owner.policy.json")
with open(POL, "w") as f:
    json.dump(owner_policy(BOB), f)
A_LOG, B_LOG = wd.p("owner.audit"), wd.p("bob.audit")


class Server(Serve):
    def __init__(self, extra=()):
        super().__init__(wd, ["--identity", wd.p("alice.key"), "--table", wd.p("owner.csv"),
                              "--policy", POL, "--audit", A_LOG, "--timeout", "10"] + list(extra))


def run(port, out="out.csv"):
    if os.path.exists(wd.p(out)):
        os.unlink(wd.p(out))
    r = subprocess.run([BIN, "run", "--connect", f"127.0.0.1:{port}", "--identity",
                        wd.p("bob.key"), "--peer", wd.p("alice.pub"), "--table", wd.p("bob.csv"),
                        "--join", "email", "--normalize", "email", "--reveal", "connector",
                        "--negotiate", "--audit", B_LOG, "--out", wd.p(out), "--quiet",
                        "--timeout", "10"], capture_output=True, text=True, timeout=120)
    return r.returncode, r.stderr.strip(), os.path.exists(wd.p(out))


def save(path, tag):
    for suffix in ("", ".head"):
        shutil.copyfile(path + suffix, wd.p(f"{os.path.basename(path)}{suffix}.{tag}"))


def restore(path, tag, log=True):
    for suffix in ("", ".head") if log else (".head",):
        shutil.copyfile(wd.p(f"{os.path.basename(path)}{suffix}.{tag}"), path + suffix)


# serve refuses to start on no log at all unless told it is new.
r = subprocess.run([BIN, "serve", "--listen", "127.0.0.1:0", "--identity", wd.p("alice.key"),
                    "--table", wd.p("owner.csv"), "--policy", POL, "--audit", A_LOG],
                   capture_output=True, text=True, timeout=60)
t.check(r.returncode == 7 and "--new-audit-log" in r.stderr and len(r.stderr.splitlines()) == 1,
        "serve without a log and without --new-audit-log: refused, exit 7", r.stderr)

s = Server(["--new-audit-log"])
for i in range(3):
    rc, err, out = run(s.port)
    t.check(rc == 0 and out, f"run {i + 1}: completes, output written", err)
    if i == 0:
        save(B_LOG, "one")
        b_one = len(audit_entries(B_LOG))
ents = audit_entries(A_LOG)
t.check(ents[-1].get("peer_head") and ents[-1]["peer_head"][0] >= 1 and ents[-1].get("shown"),
        "the owner's entries record the peer's head and what it showed", str(ents[-1]))
ents_b = audit_entries(B_LOG)
t.check(ents_b[-1].get("peer_head") is not None, "the partner's entries record the owner's head",
        str(ents_b[-1]))
b_head = len(ents_b) - 1  # the head bob showed: before his last entry

# 1. The partner's log deleted (with its .head): the owner refuses.
save(B_LOG, "full")
os.unlink(B_LOG)
os.unlink(B_LOG + ".head")
n_owner = len(audit_entries(A_LOG))
rc, err, out = run(s.port)
t.check(rc == 6 and f"the peer's audit log went back from entry {b_head} to entry 0" in err
        and not out and len(err.splitlines()) == 1,
        "partner's log deleted: refused by the owner, one line, exit 6, no output", err)
time.sleep(0.3)
last = audit_entries(A_LOG)[-1]
t.check(len(audit_entries(A_LOG)) == n_owner + 1 and last["outcome"] != "ok" and
        "went back" in last["reason"], "the owner records the refusal", str(last))

# 2. An older log and .head put back: refused, and so is every retry.
for name in (B_LOG, B_LOG + ".head"):
    if os.path.exists(name):
        os.unlink(name)
restore(B_LOG, "one")
for attempt in range(3):
    rc, err, out = run(s.port)
    t.check(rc == 6 and re.search(r"the peer's audit log (went back from entry \d+ to entry \d+"
                                  r"|was replaced)", err) and not out,
            f"partner's older pair put back (attempt {attempt + 1}): refused", err)

# 3. Truncated: the log cut to its first entries with the .head of then.
restore(B_LOG, "full")
with open(B_LOG) as f:
    lines = f.readlines()
with open(B_LOG, "w") as f:
    f.writelines(lines[:b_one])
restore(B_LOG, "one", log=False)
r = subprocess.run([BIN, "audit", "verify", B_LOG], capture_output=True, text=True)
t.check(r.returncode == 0, "the truncated log verifies on its own", r.stdout + r.stderr)
rc, err, out = run(s.port)
t.check(rc == 6 and f"went back from entry {b_head} to entry {b_one}" in err and not out,
        "partner's log truncated: refused by the owner", err)

# The full log put back: the relationship resumes.
restore(B_LOG, "full")
rc, err, out = run(s.port)
t.check(rc == 0 and out, "the partner's own log back in place: runs again", err)
s.stop()

# 4. The owner's log rolled back: detected by the partner.
save(A_LOG, "now")
a_lines = open(A_LOG).readlines()
for name in (A_LOG, A_LOG + ".head"):
    os.unlink(name)
s = Server(["--new-audit-log"])
rc, err, out = run(s.port)
t.check(rc == 6 and re.search(r"the peer's audit log went back from entry \d+ to entry 1$", err)
        and not out, "owner's log deleted (serve --new-audit-log): the partner refuses", err)
s.stop()
restore(A_LOG, "now")
with open(A_LOG, "w") as f:
    f.writelines(a_lines[:-4])
r = subprocess.run([BIN, "serve", "--listen", "127.0.0.1:0", "--identity", wd.p("alice.key"),
                    "--table", wd.p("owner.csv"), "--policy", POL, "--audit", A_LOG],
                   capture_output=True, text=True, timeout=60)
t.check(r.returncode == 7 and "truncated" in r.stderr, "serve refuses its own log cut short of "
        "its .head, exit 7", r.stderr)
restore(A_LOG, "now")
s = Server()
rc, err, out = run(s.port)
t.check(rc == 0 and out, "the owner's own log back: the partner runs again", err)
s.stop()

wd.cleanup()
t.finish()
