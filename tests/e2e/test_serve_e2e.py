"""overlap serve: a data owner's standing endpoint answering allowed and
refusing disallowed queries from partners, several at once, with policy
reload, clean shutdown, and a verifiable audit log. Results are checked
against computations made here from the plaintext tables."""
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from decimal import Decimal

sys.path.insert(0, os.path.dirname(__file__))
from e2e import (BIN, Checks, Serve, Workdir, attribution_template, label_key, norm_email,
                 one_line_error, read_csv)

t = Checks("e2e/serve")
wd = Workdir()  # alice = the retailer (serves), bob = the advertiser, mallory = unlisted
rng = random.Random(6)


ALICE, BOB = wd.fingerprint("alice"), wd.fingerprint("bob")

# The retailer's purchases and the advertiser's impressions (one row per
# customer and campaign, so each customer is in one group per campaign).
purchases = [["email", "purchase_date", "purchase_amount", "item_count"]]
for i in range(400):
    for k in range(1 + i % 3):
        purchases.append([f"User{i}@Example.com", f"2026-07-{1 + (i + k) % 28:02d}",
                          f"{rng.randrange(100, 50000) / 100:.2f}", str(1 + k)])
impressions = [["email", "campaign_id", "ad_format"]]
for i in range(200, 700):
    impressions.append([f"user{i}@example.com", rng.choice(["CAMP_A", "CAMP_B"]),
                        rng.choice(["video", "banner", "native", "audio"])])


def write(name, rows):
    with open(wd.p(name), "w") as f:
        for r in rows:
            f.write(",".join(r) + "\n")
    return wd.p(name)


P = write("purchases.csv", purchases)
I = write("impressions.csv", impressions)

TEMPLATE = attribution_template(5)
T, thash, approvals = wd.approve_template("attr.sql", TEMPLATE)
for who, r in zip(("alice", "bob"), approvals):
    t.check(r.returncode == 0, f"{who} approves the template", r.stderr)


def policy(**over):
    p = {
        "version": 1,
        "table": {"name": "purchases", "file": "purchases.csv",
                  "columns": ["email", "purchase_date", "purchase_amount", "item_count"]},
        "join": [{"column": "email", "normalize": "email", "prehashed": False}],
        "peers": [{"name": "bob", "fingerprint": BOB}],
        "list": {"allowed": True, "columns": [], "receivers": [BOB]},
        "aggregation": {"adhoc": True, "functions": ["COUNT", "COUNT_DISTINCT", "SUM", "AVG"],
                        "dimensions": ["purchase_date"], "aggregates": ["purchase_amount"],
                        "min_rows": 2, "receivers": [BOB], "allow_cardinality": True},
        "custom": {"templates": [{"name": "attr", "sha256": thash}]},
    }
    for k, v in over.items():
        p[k] = v
    return p


POL = wd.p("retail.policy.json")
AUDIT = wd.p("retail.audit")
with open(POL, "w") as f:
    json.dump(policy(), f)


class Server(Serve):
    def __init__(self, pol, audit, extra=(), table=None):
        super().__init__(wd, ["--identity", wd.p("alice.key"), "--table", table or P, "--policy",
                              pol, "--audit", audit, "--timeout", "20", "--new-audit-log"] +
                         list(extra))


def query(port, out, args, who="bob", table=None):
    cmd = [BIN, "run", "--connect", f"127.0.0.1:{port}", "--identity", wd.p(who + ".key"),
           "--peer", wd.p("alice.pub"), "--table", table or I, "--join", "email",
           "--normalize", "email", "--out", out, "--quiet", "--timeout", "20", "--wait", "10"]
    return subprocess.Popen(cmd + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def finish(p):
    out, err = p.communicate(timeout=300)
    return p.returncode, err


def shared_rows():
    have = {norm_email(r[0]) for r in purchases[1:]}
    return [impressions[0]] + [r for r in impressions[1:] if norm_email(r[0]) in have]


def template_result(campaign, start, k):
    buys = {}
    for r in purchases[1:]:
        if r[1] >= start:
            buys.setdefault(norm_email(r[0]), []).append(Decimal(r[2]))
    groups = {}
    for r in impressions[1:]:
        e = norm_email(r[0])
        if r[1] == campaign and e in buys:
            groups.setdefault(r[2], set()).add(e)
    rows = [["ad_format", "buyers", "revenue"]]
    for g in sorted(groups, key=lambda g: label_key([g])):
        if len(groups[g]) >= k:
            rev = sum(sum(buys[e]) for e in groups[g])
            rows.append([g, str(len(groups[g])), f"{rev:.2f}"])
    return rows


# 0. serve checks its table against its policy before listening: the wrong
# table, or value cells that are not numbers, stop it with one line (exit 3).
for label, table, want in (("wrong table", I, "has no column 'purchase_date'"),
                           ("bad value", write("badvals.csv", purchases[:5] + [
                               ["user9@example.com", "2026-07-01", "12;50", "1"]]),
                            "badvals.csv:6: column 'purchase_amount' (aggregation.aggregates)")):
    r = subprocess.run([BIN, "serve", "--listen", "127.0.0.1:0", "--identity", wd.p("alice.key"),
                        "--table", table, "--policy", POL, "--audit", wd.p("unused.audit")],
                       capture_output=True, text=True, timeout=60)
    t.check(r.returncode == 3 and want in r.stderr and len(r.stderr.splitlines()) == 1
            and "serving" not in r.stderr, f"serve refuses to start: {label}", r.stderr)

# 0b. A table that stops fitting after start (edited under a running serve):
# the partner reads which column the served table lacks, never the owner's path.
P2 = write("purchases2.csv", purchases)
s0 = Server(POL, wd.p("p2.audit"), table=P2)
write("purchases2.csv", [[c for k, c in enumerate(r) if k != 2] for r in purchases])
out = wd.p("p2.csv")
code, err = finish(query(s0.port, out, ["--template", T, "--param", "campaign_id=CAMP_A",
                                        "--param", "start_date=2026-07-10"]))
line = one_line_error(err)
t.check(code != 0 and "the served table lacks column 'purchase_amount'" in line and "/" not in line,
        "the partner reads the missing column, not the owner's path", line)
t.check("purchases2.csv" in s0.log(), "the owner's log keeps the full detail", s0.log()[-400:])
s0.stop()

srv = Server(POL, AUDIT)
t.check(srv.port is not None, "serve starts", srv.log())

# 1. An allowed intersection: only the advertiser receives output.
out = wd.p("psi.csv")
code, err = finish(query(srv.port, out, ["--reveal", "connector", "--negotiate"]))
t.check(code == 0, "intersection with --reveal connector succeeds", err)
t.check(code == 0 and read_csv(out) == shared_rows(), "intersection rows are right")

# 2. The owner never receives output from a served session.
out = wd.p("psi-both.csv")
code, err = finish(query(srv.port, out, ["--reveal", "both", "--negotiate"]))
t.check(code == 6 and "never receives output" in one_line_error(err), "reveal both is refused", err)
t.check(not os.path.exists(out), "refused: no output")

# 3. A peer the policy does not list cannot connect.
out = wd.p("mallory.csv")
p = query(srv.port, out, ["--reveal", "connector", "--negotiate"], who="mallory")
code, err = finish(p)
t.check(code == 4 and not os.path.exists(out), "an unlisted peer is rejected", err)

# 4. A plain (un-negotiated) run is refused with a pointer to what to do.
code, err = finish(query(srv.port, wd.p("plain.csv"), ["--reveal", "connector", "--mode",
                                                       "cardinality"]))
t.check(code == 6 and "negotiated" in err, "a plain run is refused", err)

# 5. The approved template, with parameters, against computed results.
out = wd.p("attr.csv")
code, err = finish(query(srv.port, out, ["--template", T, "--param", "campaign_id=CAMP_A",
                                         "--param", "start_date=2026-07-10"]))
t.check(code == 0, "template run succeeds", err)
want = template_result("CAMP_A", "2026-07-10", 5)
got = read_csv(out) if code == 0 else []
t.check(got == want, "template result equals the plaintext computation", f"got {got} want {want}")
t.check(len(want) > 2, "template result has released groups")

# 6. A parameter outside its allowed list is refused before anything is sent.
out = wd.p("attr-bad.csv")
code, err = finish(query(srv.port, out, ["--template", T, "--param", "campaign_id=CAMP_Z",
                                         "--param", "start_date=2026-07-10"]))
t.check(code == 2 and "allowed list" in err and not os.path.exists(out),
        "bad parameter: a usage error, before connecting", err)
code, err = finish(query(srv.port, out, ["--template", T, "--param", "campaign_id=CAMP_A"]))
t.check(code == 2 and "start_date: no value given" in err and not os.path.exists(out),
        "missing --param: a usage error (exit 2)", err)

# 7. Without the owner's approval travelling with it, the template is refused.
os.makedirs(wd.p("noapp"), exist_ok=True)
T2 = os.path.join(wd.p("noapp"), "attr.sql")
with open(T2, "w") as f:
    f.write(TEMPLATE)
subprocess.run([BIN, "template", "approve", T2, "--identity", wd.p("bob.key")], capture_output=True)
out = wd.p("attr-noapp.csv")
code, err = finish(query(srv.port, out, ["--template", T2, "--param", "campaign_id=CAMP_A",
                                         "--param", "start_date=2026-07-10"]))
t.check(code == 6 and "approval" in err and not os.path.exists(out), "missing approval refused", err)

# 8. An ad-hoc aggregate over a listed column, and over an unlisted one.
out = wd.p("adhoc.csv")
code, err = finish(query(srv.port, out, ["--mode", "aggregate", "--group-by", "ad_format",
                                         "--values", "purchase_amount:2", "--negotiate",
                                         "--min-rows", "3"]))
t.check(code == 0 and read_csv(out)[0] == ["ad_format", "matched", "rows", "sum_purchase_amount",
                                           "avg_purchase_amount"], "ad-hoc aggregate succeeds", err)
out = wd.p("adhoc-bad.csv")
code, err = finish(query(srv.port, out, ["--mode", "aggregate", "--group-by", "ad_format",
                                         "--values", "item_count", "--negotiate"]))
t.check(code == 6 and "item_count" in err and not os.path.exists(out), "unlisted column refused", err)

# 9. Several sessions at once.
procs = [query(srv.port, wd.p(f"conc{i}.csv"), ["--reveal", "connector", "--negotiate"])
         for i in range(3)]
results = [finish(p) for p in procs]
t.check(all(c == 0 for c, _ in results), "three concurrent sessions succeed", str(results))
t.check(all(read_csv(wd.p(f"conc{i}.csv")) == shared_rows() for i in range(3)),
        "concurrent results are right")

# 10. SIGHUP reloads the policy: intersections become refused.
with open(POL, "w") as f:
    json.dump(policy(list={"allowed": False, "columns": [], "receivers": []}), f)
srv.proc.send_signal(signal.SIGHUP)
time.sleep(0.5)
code, err = finish(query(srv.port, wd.p("after-hup.csv"), ["--reveal", "connector", "--negotiate"]))
t.check(code == 6 and "list.allowed" in err, "after reload the intersection is refused", err)
with open(POL, "w") as f:
    f.write("{ broken")
srv.proc.send_signal(signal.SIGHUP)
time.sleep(0.5)
t.check("kept the previous policy" in srv.log(), "a broken policy on reload is refused")
with open(POL, "w") as f:
    json.dump(policy(), f)
srv.proc.send_signal(signal.SIGHUP)
time.sleep(0.5)

# 11. SIGTERM during a session: it finishes, then the server exits cleanly.
# Under valgrind (make valgrind) a smaller table still runs for many seconds,
# and a larger one would outlast the 20 s silence timeout between frames.
TERM_ROWS = 2000 if os.environ.get("OVL_VALGRIND") == "1" else 20000
big = [["email", "campaign_id", "ad_format"]] + [[f"user{i}@example.com", "CAMP_A", "video"]
                                                  for i in range(TERM_ROWS)]
BIG = write("big.csv", big)
opened = srv.log().count(") opened")
p = query(srv.port, wd.p("during-term.csv"), ["--reveal", "connector", "--negotiate",
                                              "--threads", "1"], table=BIG)
deadline = time.time() + 120  # valgrind (make valgrind) starts processes slowly
while time.time() < deadline and srv.log().count(") opened") == opened:
    time.sleep(0.05)
time.sleep(0.5)
code_srv = srv.stop()
code, err = finish(p)
t.check(code == 0, "a session running at SIGTERM completes", err)
t.check(code_srv == 0, "serve exits 0 after SIGTERM", srv.log()[-500:])

# 12. The audit log: every session (refused or not) is in it and verifies;
# tampering is detected at the first broken entry.
r = subprocess.run([BIN, "audit", "verify", AUDIT], capture_output=True, text=True)
t.check(r.returncode == 0, "audit log verifies", r.stdout + r.stderr)
m = re.search(r"(\d+) entries", r.stdout + r.stderr)
t.check(m is not None and int(m.group(1)) >= 12, "every session was recorded", r.stdout)
lines = open(AUDIT).read().splitlines()
t.check(any('"refused"' in l or "refused" in l for l in lines), "refusals are recorded")
t.check(not any("user1@" in l.lower() for l in lines), "no identifier in the audit log")
# Every role's entries are right: the refused plain run with its peer and the
# mode its HELLO stated; the template run with released and suppressed counts.
r = subprocess.run([BIN, "audit", "show", AUDIT, "--peer", wd.p("bob.pub")], capture_output=True,
                   text=True)
t.check(r.returncode == 0 and r.stdout.splitlines() and
        all(l.split()[2] == "peer=bob" for l in r.stdout.splitlines()),
        "audit show names the peer whose key is given", r.stdout[:300] + r.stderr)
ents = [json.loads(l) for l in lines]
plain = [e for e in ents if "negotiated analyses only" in e["reason"]]
t.check(len(plain) == 1 and plain[0]["peer"] == BOB and plain[0]["mode"] == "cardinality"
        and plain[0]["outcome"] == "refused", "the refused plain run: peer and real mode", str(plain))
attr = [e for e in ents if e["template"] and e["outcome"] == "ok" and
        dict(map(tuple, e["params"])).get("campaign_id") == "CAMP_A"]
want_a = template_result("CAMP_A", "2026-07-10", 5)
t.check(attr and attr[0]["groups_released"] == len(want_a) - 1 and
        attr[0]["groups_released"] + attr[0]["groups_suppressed"] >= len(want_a) - 1,
        "the served template run records released and suppressed groups", str(attr[:1]))
def edit_first(ls):
    # a charged run's first entry is "agreed": edit a number every entry has
    return [re.sub(r'"local_set":(\d+)', lambda m: '"local_set":%d' % (int(m.group(1)) + 1),
                   ls[0], count=1)] + ls[1:]


for label, mutate in (("edited", edit_first),
                      ("deleted", lambda ls: ls[:1] + ls[2:]),
                      ("reordered", lambda ls: [ls[1], ls[0]] + ls[2:])):
    bad = wd.p(f"audit-{label}")
    with open(bad, "w") as f:
        f.write("\n".join(mutate(list(lines))) + "\n")
    r = subprocess.run([BIN, "audit", "verify", bad], capture_output=True, text=True)
    t.check(r.returncode == 7 and "entry" in r.stderr, f"audit log {label} → detected, exit 7",
            r.stderr)


def verify_copy(label, log_lines, head):
    bad = wd.p(f"audit-{label}")
    if log_lines is not None:
        with open(bad, "w") as f:
            f.write("".join(l + "\n" for l in log_lines))
    if head:
        with open(AUDIT + ".head") as src, open(bad + ".head", "w") as dst:
            dst.write(src.read())
    return subprocess.run([BIN, "audit", "verify", bad], capture_output=True, text=True)


r = verify_copy("cut", lines[:-1], True)
t.check(r.returncode == 7 and "missing (the log was truncated" in r.stderr,
        "audit log cut off the end → exit 7", r.stderr)
r = verify_copy("nohead", lines, False)
t.check(r.returncode == 7 and ".head: missing" in r.stderr and len(r.stderr.splitlines()) == 1,
        "audit log without its .head → one line, exit 7", r.stderr)
r = verify_copy("gone", None, True)
t.check(r.returncode == 7 and "log was deleted" in r.stderr, "deleted log, head kept → exit 7",
        r.stderr)
r = verify_copy("never", None, False)
t.check(r.returncode == 3 and "no such audit log" in r.stderr and len(r.stderr.splitlines()) == 1,
        "a log that does not exist → one line, exit 3", r.stderr)

# 13. Budgets: one run per template per day, then refused.
POL2 = wd.p("budget.policy.json")
with open(POL2, "w") as f:
    json.dump(policy(budget={"runs_per_day": 100, "runs_per_template_per_day": 1}), f)
srv2 = Server(POL2, wd.p("budget.audit"))
args = ["--template", T, "--param", "campaign_id=CAMP_B", "--param", "start_date=2026-07-01"]
c1, e1 = finish(query(srv2.port, wd.p("b1.csv"), args))
c2, e2 = finish(query(srv2.port, wd.p("b2.csv"), args))
t.check(c1 == 0 and c2 == 6 and "budget" in e2, "the second run of the day is refused", e1 + e2)
srv2.stop()

# 14. The same template run symmetrically by two operators with `run`, the
# advertiser under its own, stricter policy: the strictest threshold wins.
ADV_POL = wd.p("adv.policy.json")
with open(ADV_POL, "w") as f:
    json.dump({
        "version": 1,
        "table": {"name": "impressions", "columns": ["email", "campaign_id", "ad_format"]},
        "join": [{"column": "email", "normalize": "email", "prehashed": False}],
        "peers": [{"name": "alice", "fingerprint": ALICE}],
        "list": {"allowed": False, "columns": [], "receivers": []},
        "aggregation": {"adhoc": False, "functions": ["COUNT", "COUNT_DISTINCT", "SUM", "AVG"],
                        "dimensions": ["campaign_id", "ad_format"], "aggregates": [],
                        "min_rows": 40, "receivers": [], "allow_cardinality": False},
        "custom": {"templates": [{"name": "attr", "sha256": thash}]},
    }, f)
# A connector's own policy refuses its own ad-hoc aggregate before connecting
# (nothing listens on the port): the error is its own, not labelled the peer's.
t0 = time.time()
r = subprocess.run([BIN, "run", "--connect", "127.0.0.1:1", "--identity", wd.p("bob.key"),
                    "--peer", wd.p("alice.pub"), "--table", I, "--join", "email", "--normalize",
                    "email", "--policy", ADV_POL, "--mode", "aggregate", "--group-by",
                    "campaign_id", "--values", "purchase_amount:2", "--out", wd.p("own.csv"),
                    "--wait", "30"], capture_output=True, text=True, timeout=60)
own = one_line_error(r.stderr).replace("overlap: error: ", "", 1)
t.check(r.returncode == 6 and own.startswith("adv.policy.json: aggregation.adhoc")
        and "peer" not in own and time.time() - t0 < 20,
        "own policy refusal: local, before connecting, not labelled as the peer's", r.stderr)
targs = ["--template", T, "--param", "campaign_id=CAMP_B", "--param", "start_date=2026-07-05"]
lst = subprocess.Popen([BIN, "run", "--listen", "127.0.0.1:0", "--identity", wd.p("alice.key"),
                        "--peer", wd.p("bob.pub"), "--table", P, "--join", "email", "--normalize",
                        "email", "--policy", POL, "--audit", wd.p("sym.audit"), "--timeout", "20"]
                       + targs, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
port = None
for _ in range(100):
    m = re.search(r"listening on \S+:(\d+)", lst.stderr.readline())
    if m:
        port = int(m.group(1))
        break
out = wd.p("sym.csv")
code, err = finish(query(port, out, targs + ["--policy", ADV_POL]))
lerr = lst.communicate(timeout=120)[1]
t.check(code == 0 and lst.returncode == 0, "symmetric template run succeeds", err + lerr)
want = template_result("CAMP_B", "2026-07-05", 40)
t.check(code == 0 and read_csv(out) == want, "the stricter policy's min_rows (40) applies",
        f"got {read_csv(out) if code == 0 else None} want {want}")
r = subprocess.run([BIN, "audit", "verify", wd.p("sym.audit"), "--peer", wd.p("bob.pub")],
                   capture_output=True, text=True)
t.check(r.returncode == 0, "the owner's audit log verifies with the peer's co-signature", r.stderr)

wd.cleanup()
t.finish()
