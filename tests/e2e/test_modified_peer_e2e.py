"""A partner running modified code (tests/tools/modified_peer.c) against an
owner's `overlap serve`: the owner's policy holds. Forged receivers and a
false cardinality claim are refused and recorded; a withheld co-signature is
recorded as such and stays charged to the budget; concurrent runs, through
one serve or two sharing one audit log, cannot overspend a budget."""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from e2e import BIN, Checks, Serve, Workdir, audit_entries, owner_policy

TOOLS = os.environ.get("OVL_TOOLS", "build/rel/tools")
PEER = os.path.join(TOOLS, "modified_peer")
t = Checks("e2e/modified_peer")
wd = Workdir()  # alice serves, bob runs modified code
BOB = wd.fingerprint("bob")
N_OWNER, N_PEER = 80, 50  # the peer holds user0..49, the owner user20..99: 30 shared
with open(wd.p("owner.csv"), "w") as f:
    f.write("email,amount\n")
    for i in range(20, 20 + N_OWNER):
        f.write(f"user{i}@example.com,{i}\n")
SHARED = 30


def policy(name, **over):
    p = owner_policy(BOB, normalize="none")
    p.update(over)
    path = wd.p(name + ".policy.json")
    with open(path, "w") as f:
        json.dump(p, f)
    return path


class Server(Serve):
    def __init__(self, pol, audit, extra=()):
        super().__init__(wd, ["--identity", wd.p("alice.key"), "--table", wd.p("owner.csv"),
                              "--policy", pol, "--audit", audit, "--timeout", "5",
                              "--max-sessions", "8"] + list(extra))


def peer(port, case, *extra):
    return subprocess.Popen([PEER, "--case", case, "--connect", f"127.0.0.1:{port}",
                             "--identity", wd.p("bob.key"), "--peer", wd.p("alice.pub"),
                             "--n", str(N_PEER), "--timeout", "10"] + list(extra),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(p):
    out, err = p.communicate(timeout=120)
    return p.returncode, out.strip()


def entries(audit):
    return audit_entries(audit, missing_ok=True)


def verify(audit, what):
    r = subprocess.run([BIN, "audit", "verify", audit], capture_output=True, text=True)
    t.check(r.returncode == 0, f"{what}: the owner's audit log verifies", r.stdout + r.stderr)


# 1. Baseline: the unmodified behaviour receives the 30 shared rows, charged
# when agreed and completed.
A1 = wd.p("a1.audit")
s = Server(policy("p1"), A1, ["--new-audit-log"])
rc, out = finish(peer(s.port, "honest"))
t.check(rc == 0 and out.endswith(f"received {SHARED}"), "honest: the allowed run completes", out)
time.sleep(0.3)
ents = entries(A1)
t.check([e["outcome"] for e in ents] == ["agreed", "ok"] and ents[1].get("agreed") == 1,
        "honest: an 'agreed' entry, then 'ok' naming it", str(ents))

# 2. forged-receivers: REQUEST lists no receivers, yet reveal=connector gives
# the peer output. Against list.receivers: [] the policy refuses, as it does
# the unmodified client.
s.stop()
A2 = wd.p("a2.audit")
s = Server(policy("p2", list={"allowed": True, "columns": [], "receivers": []}), A2,
           ["--new-audit-log"])
rc, out = finish(peer(s.port, "forged-receivers"))
t.check(rc == 1 and "list.receivers" in out and "may not receive output" in out and
        "received" not in out, "forged-receivers: refused by list.receivers, nothing received",
        out)
time.sleep(0.3)
ents = entries(A2)
t.check(len(ents) == 1 and ents[0]["outcome"] == "refused" and
        "list.receivers" in ents[0]["reason"] and ents[0]["transcript"] is None,
        "forged-receivers: recorded as refused, no run", str(ents))
# Where the policy would allow the peer, the false list is still refused: an
# audit entry never records receivers that did not receive.
s.stop()
s = Server(policy("p1"), A2)
rc, out = finish(peer(s.port, "forged-receivers"))
t.check(rc == 1 and "output receiver" in out and "received" not in out,
        "forged-receivers: a list that is not the analysis's is refused", out)
# Several receivers claimed for one: reveal=both makes the owner a receiver.
rc, out = finish(peer(s.port, "forged-receivers", "--reveal", "both"))
t.check(rc == 1 and "received" not in out, "forged-receivers (reveal both): refused", out)

# 3. false-cardinality: a cardinality run whose REQUEST says the count is not
# revealed, against allow_cardinality: false.
s.stop()
A3 = wd.p("a3.audit")
agg = policy("p3")
with open(agg) as f:
    p3 = json.load(f)
p3["aggregation"]["allow_cardinality"] = False
with open(agg, "w") as f:
    json.dump(p3, f)
s = Server(agg, A3, ["--new-audit-log"])
rc, out = finish(peer(s.port, "false-cardinality", "--mode", "cardinality"))
t.check(rc == 1 and "allow_cardinality" in out and "received" not in out,
        "false-cardinality: refused by aggregation.allow_cardinality", out)
time.sleep(0.3)
ents = entries(A3)
t.check(len(ents) == 1 and ents[0]["outcome"] == "refused" and ents[0]["mode"] == "cardinality",
        "false-cardinality: recorded as refused", str(ents))

# 4. withheld-cosign: the peer takes its output and hangs up without
# co-signing. The entry says so; the run stays charged, so with one run a day
# the next is refused, and differencing still compares with it.
s.stop()
A4 = wd.p("a4.audit")
s = Server(policy("p4", budget={"runs_per_day": 1, "runs_per_template_per_day": 1}), A4,
           ["--new-audit-log"])
rc, out = finish(peer(s.port, "withheld-cosign"))
t.check(rc == 0 and out.endswith(f"received {SHARED}"), "withheld-cosign: the peer got its rows",
        out)
deadline = time.time() + 15
while time.time() < deadline and len(entries(A4)) < 2:
    time.sleep(0.2)
ents = entries(A4)
t.check([e["outcome"] for e in ents] == ["agreed", "cosign-withheld"] and
        ents[1]["peer_sig"] is None and ents[1]["transcript"] is not None and
        ents[1].get("agreed") == 1, "withheld-cosign: recorded as cosign-withheld", str(ents))
rc, out = finish(peer(s.port, "honest"))
t.check(rc == 1 and "budget.runs_per_day" in out and "received" not in out,
        "withheld-cosign: the run stays charged (the next is over budget)", out)
verify(A4, "withheld-cosign")

# 5. Concurrent runs against one run a day: through one serve, exactly one
# completes.
s.stop()
A5 = wd.p("a5.audit")
pol5 = policy("p5", budget={"runs_per_day": 1, "runs_per_template_per_day": 1})
s = Server(pol5, A5, ["--new-audit-log"])
ps = [peer(s.port, "honest") for _ in range(4)]
res = [finish(p) for p in ps]
ok = [o for rc, o in res if rc == 0]
over = [o for rc, o in res if rc == 1 and "budget.runs_per_day" in o]
t.check(len(ok) == 1 and len(over) == 3, "4 concurrent runs, budget 1: exactly one completes",
        str(res))
time.sleep(0.3)
t.check(sum(e["outcome"] == "agreed" for e in entries(A5)) == 1, "one run charged", "")
verify(A5, "concurrent")
s.stop()

# 6. Two serve processes sharing one audit log (the file lock): still one.
A6 = wd.p("a6.audit")
s1 = Server(pol5, A6, ["--new-audit-log"])
s2 = Server(pol5, A6)
ps = [peer(srv.port, "honest") for srv in (s1, s2, s1, s2)]
res = [finish(p) for p in ps]
ok = [o for rc, o in res if rc == 0]
t.check(len(ok) == 1, "two serves sharing a log, budget 1: exactly one run completes", str(res))
verify(A6, "two serves")
s1.stop()
s2.stop()

# 7. bad-template: the peer's REQUEST carries an aggregate template that does
# not parse. Its text is the peer's, not the owner's input: the owner refuses
# the request naming the peer, records a refusal, and keeps serving.
A7 = wd.p("a7.audit")
s = Server(policy("p3"), A7, ["--new-audit-log"])
rc, out = finish(peer(s.port, "bad-template"))
t.check(rc == 1 and "evil.sql" in out and "received" not in out,
        "bad-template: refused, the template named, nothing received", out)
time.sleep(0.3)
log = s.log()
ents = entries(A7)
t.check(len(ents) == 1 and ents[0]["outcome"] == "refused" and "evil.sql" in ents[0]["reason"],
        "bad-template: recorded as refused", str(ents))
t.check(any("session with bob (127.0.0.1:" in l and "ended: evil.sql:1:" in l
            for l in log.splitlines()),
        "bad-template: the owner's log puts the refusal in the peer's session", log[-600:])
rc, out = finish(peer(s.port, "honest"))
t.check(rc == 0 and out.endswith(f"received {SHARED}"), "bad-template: serve goes on serving", out)
verify(A7, "bad-template")
s.stop()

wd.cleanup()
sys.exit(t.finish())
