"""overlap run --parties K: real overlap processes over loopback TLS, 3, 5 and
10 members, against a Python oracle (the identifiers in all K sets): both
modes, --reveal all and listener; an unknown key refused before any element;
a member killed mid-run (every other member stops naming it, nobody writes
output); a member's policy refusal; the audit entry with every member's
co-signature; and the usage errors of --parties."""
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from e2e import BIN, Checks, Workdir, no_temp_files, norm_email, one_line_error, read_csv

t = Checks("e2e/mpsi")
wd = Workdir()
NAMES = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"]
for n in NAMES[2:]:
    subprocess.run([BIN, "keygen", "--name", n, "--dir", wd.path], check=True,
                   capture_output=True)


def tables(k, n, shared, seed):
    """k tables of about n rows: `shared` identifiers in all, the rest in some
    (so every partial intersection is non-empty), with messy spelling."""
    import random
    rng = random.Random(seed)
    rows = []
    for i in range(k):
        r = [[f" User{j}@Example.com ", str(j)] for j in range(shared)]
        for j in range(shared, shared + n):
            if rng.random() < 0.7 or j % k == i:
                r.append([f"user{j}@example.com", str(i * 1000 + j)])
        r.append(["not-an-email", "0"])
        rng.shuffle(r)
        rows.append(r)
    return rows


def oracle(rows):
    sets = [{norm_email(r[0]) for r in t_} - {None} for t_ in rows]
    common = set.intersection(*sets)
    return common


def write(k, rows, tag):
    paths = []
    for i in range(k):
        p = wd.p(f"{tag}.{NAMES[i]}.csv")
        with open(p, "w") as f:
            f.write("email,amount\n")
            for r in rows[i]:
                f.write(f"{r[0]},{r[1]}\n")
        paths.append(p)
    return paths


class Member:
    def __init__(self, proc):
        self.proc, self.out, self.err, self.code = proc, "", "", None

    def wait(self, timeout=300):
        try:
            self.out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.out, err = self.proc.communicate()
            err += "\n[test: killed after timeout]"
        self.err += err
        self.code = self.proc.returncode
        return self


def start_hub(k, table, out, extra=(), names=None):
    names = names or NAMES[:k]
    args = [BIN, "run", "--parties", str(k), "--listen", "127.0.0.1:0", "--identity",
            wd.p(names[0] + ".key")]
    for n in names[1:]:
        args += ["--peer", wd.p(n + ".pub")]
    args += ["--table", table, "--join", "email", "--normalize", "email", "--summary", "json",
             "--timeout", "20"]
    if out:
        args += ["--out", out]
    args += list(extra)
    m = Member(subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    port = None
    while port is None:
        line = m.proc.stderr.readline()
        if not line:
            break
        m.err += line
        g = re.search(r"listening on \S+:(\d+)", line)
        port = int(g.group(1)) if g else None
    return m, port


def member(k, port, name, table, out, extra=(), hub="alice"):
    args = [BIN, "run", "--parties", str(k), "--connect", f"127.0.0.1:{port}", "--identity",
            wd.p(name + ".key"), "--peer", wd.p(hub + ".pub"), "--table", table, "--join",
            "email", "--normalize", "email", "--summary", "json", "--quiet", "--timeout", "20"]
    if out:
        args += ["--out", out]
    args += list(extra)
    return Member(subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True))


def run_k(k, paths, outs, hub_extra=(), extra=None):
    extra = extra or {}
    hub, port = start_hub(k, paths[0], outs[0], hub_extra)
    ms = [hub] + [member(k, port, NAMES[i], paths[i], outs[i], extra.get(i, ()))
                  for i in range(1, k)]
    for m in ms[1:]:
        m.wait()
    hub.wait()
    return ms


def summary(m):
    import json
    for line in m.out.splitlines():
        if line.startswith("{"):
            return json.loads(line)
    return {}


def check_intersection(k, reveal, seed):
    rows = tables(k, 40, 12, seed)
    paths = write(k, rows, f"i{k}{reveal}")
    outs = [wd.p(f"i{k}{reveal}.{NAMES[i]}.out.csv") for i in range(k)]
    extra = ("--reveal", reveal)
    ms = run_k(k, paths, [o if reveal == "all" or i == 0 else None for i, o in enumerate(outs)],
               extra, {i: extra for i in range(1, k)})
    common = oracle(rows)
    tag = f"{k} members, intersection, reveal {reveal}"
    t.check(all(m.code == 0 for m in ms), f"{tag}: every member succeeds",
            " | ".join(one_line_error(m.err) or str(m.code) for m in ms))
    for i, m in enumerate(ms):
        s = summary(m)
        receives = reveal == "all" or i == 0
        if receives:
            got = read_csv(outs[i]) if os.path.exists(outs[i]) else []
            want = [r for r in rows[i] if norm_email(r[0]) in common]
            t.check(got[:1] == [["email", "amount"]] and
                    sorted(map(tuple, got[1:])) == sorted(map(tuple, want)),
                    f"{tag}: member {i}'s rows are its rows in all {k} sets",
                    f"{len(got) - 1} rows, {len(want)} expected")
            t.check(s.get("intersection_size") == len(common), f"{tag}: member {i}'s count")
        else:
            t.check(not os.path.exists(outs[i]) and s.get("intersection_size") is None,
                    f"{tag}: member {i} receives nothing")
        t.check(s.get("protocol") == "mpsi/1" and s.get("parties") == k and
                s.get("member_index") == i and s.get("bytes_sent", 0) > 0,
                f"{tag}: member {i}'s summary", str(s)[:300])
        t.check([x["name"] for x in s.get("members", [])] == NAMES[:k] and
                all(x["fingerprint"].startswith("SHA256:") for x in s.get("members", [])),
                f"{tag}: member {i} knows every member's name and key")
    return ms


def check_cardinality(k, seed):
    rows = tables(k, 30, 7, seed)
    paths = write(k, rows, f"c{k}")
    outs = [wd.p(f"c{k}.{NAMES[i]}.count") for i in range(k)]
    extra = ("--mode", "cardinality")
    ms = run_k(k, paths, outs, extra, {i: extra for i in range(1, k)})
    n = len(oracle(rows))
    t.check(all(m.code == 0 for m in ms), f"{k} members, cardinality: every member succeeds",
            " | ".join(one_line_error(m.err) or str(m.code) for m in ms))
    for i in range(k):
        got = open(outs[i]).read() if os.path.exists(outs[i]) else ""
        t.check(got == f"{n}\n", f"{k} members, cardinality: member {i} writes the count",
                f"{got!r} vs {n}")


check_intersection(3, "all", 1)
check_intersection(3, "listener", 2)
check_cardinality(3, 3)
check_intersection(5, "all", 4)
check_intersection(5, "listener", 5)
check_cardinality(5, 6)
check_intersection(10, "all", 7)
check_cardinality(10, 8)

# An unknown key is refused at the TLS handshake, before any set element;
# the listener goes on waiting for its members.
rows = tables(3, 30, 5, 9)
paths = write(3, rows, "unk")
outs = [wd.p(f"unk.{n}.out") for n in NAMES[:3]]
hub, port = start_hub(3, paths[0], outs[0])
intruder = member(3, port, "mallory", paths[1], wd.p("unk.mallory.out")).wait()
t.check(intruder.code == 4 and not os.path.exists(wd.p("unk.mallory.out")),
        "an unlisted key is refused (exit 4)", one_line_error(intruder.err))
ms = [member(3, port, NAMES[i], paths[i], outs[i]) for i in (1, 2)]
for m in ms:
    m.wait()
hub.wait()
t.check(hub.code == 0 and all(m.code == 0 for m in ms),
        "after refusing an unlisted key the run goes on with its members",
        one_line_error(hub.err))
t.check("rejected connection" in hub.err, "the listener logs the refused key", hub.err[-300:])

# A member stating another analysis (carol runs cardinality, the others
# intersection): refused at the setup, every member's line names carol.
rows = tables(3, 20, 4, 13)
paths = write(3, rows, "mis")
outs = [wd.p(f"mis.{n}.out") for n in NAMES[:3]]
ms = run_k(3, paths, outs, (), {2: ("--mode", "cardinality")})
for i, m in enumerate(ms):
    err = one_line_error(m.err)
    t.check(m.code == 6 and "member 2 (carol)" in err and "--mode cardinality" in err,
            f"another mode: member {i} stops naming carol", f"{m.code}: {err}")
t.check(not any(os.path.exists(o) for o in outs), "another mode: nobody writes output")

# A member killed mid-run: every other member stops with one line naming it,
# and nobody writes output.
rows = tables(3, 12000, 100, 10)
paths = write(3, rows, "kill")
outs = [wd.p(f"kill.{n}.out") for n in NAMES[:3]]
hub, port = start_hub(3, paths[0], outs[0])
ms = [hub] + [member(3, port, NAMES[i], paths[i], outs[i]) for i in (1, 2)]
while "connected (2 of 2)" not in hub.err:
    line = hub.proc.stderr.readline()
    if not line:
        break
    hub.err += line
time.sleep(0.3)
ms[2].proc.send_signal(signal.SIGKILL)
for m in ms:
    m.wait()
t.check(ms[2].code == -signal.SIGKILL, "the killed member was still running when killed")
for i in (0, 1):
    err = one_line_error(ms[i].err)
    t.check(ms[i].code == 4 and "member 2 (carol)" in err,
            f"member {i} stops naming the killed member", f"{ms[i].code}: {err}")
t.check(not any(os.path.exists(o) for o in outs) and not no_temp_files(wd.path),
        "no member writes output after a member was killed")

# A member's own policy refuses (bob is not among carol's peers): the run
# stops for all with a line naming carol; her audit log records the refusal.
import json
fpr = {n: subprocess.run([BIN, "fingerprint", wd.p(n + ".pub")], capture_output=True,
                         text=True).stdout.split()[0] for n in NAMES[:3]}


def policy(name, peers):
    p = wd.p(f"{name}.policy.json")
    with open(p, "w") as f:
        json.dump({
            "version": 1,
            "table": {"name": name, "file": f"pol.{name}.csv", "columns": ["email", "amount"]},
            "join": [{"column": "email", "normalize": "email", "prehashed": False}],
            "peers": [{"name": q, "fingerprint": fpr[q]} for q in peers],
            "list": {"allowed": True, "columns": [], "receivers": [fpr[q] for q in peers]},
            "aggregation": {"adhoc": False, "functions": ["COUNT"], "dimensions": [],
                            "aggregates": [], "min_rows": 2, "receivers": [],
                            "allow_cardinality": False},
            "custom": {"templates": []},
        }, f)
    return p


rows = tables(3, 30, 6, 11)
paths = write(3, rows, "pol")
outs = [wd.p(f"pol.{n}.out") for n in NAMES[:3]]
logs = [wd.p(f"{n}.audit") for n in NAMES[:3]]
pols = [policy("alice", ["bob", "carol"]), policy("bob", ["alice", "carol"]),
        policy("carol", ["alice"])]
ms = run_k(3, paths, outs, ("--policy", pols[0], "--audit", logs[0]),
           {i: ("--policy", pols[i], "--audit", logs[i]) for i in (1, 2)})
for i in (0, 1, 2):
    err = one_line_error(ms[i].err)
    t.check(ms[i].code == 6 and "carol" in err, f"policy refusal: member {i} stops naming carol",
            f"{ms[i].code}: {err}")
t.check(not any(os.path.exists(o) for o in outs), "policy refusal: nobody writes output")
show = subprocess.run([BIN, "audit", "show", logs[2]], capture_output=True, text=True)
t.check("outcome=refused" in show.stdout, "carol's audit log records the refusal",
        show.stdout + show.stderr)

# Allowed by every policy: the audit entries name all members and carry
# every member's co-signature, which `overlap audit verify` checks.
pols[2] = policy("carol", ["alice", "bob"])
ms = run_k(3, paths, outs, ("--policy", pols[0], "--audit", logs[0]),
           {i: ("--policy", pols[i], "--audit", logs[i]) for i in (1, 2)})
t.check(all(m.code == 0 for m in ms), "with every policy allowing it, the run completes",
        " | ".join(one_line_error(m.err) for m in ms))
for i in (0, 1, 2):
    v = subprocess.run([BIN, "audit", "verify", logs[i], "--key", wd.p(NAMES[i] + ".pub")],
                       capture_output=True, text=True)
    t.check(v.returncode == 0, f"member {i}'s audit log verifies", v.stdout + v.stderr)
    with open(logs[i]) as f:
        last = json.loads(f.read().splitlines()[-1])
    mem = last.get("members", [])
    t.check(last["outcome"] == "ok" and len(mem) == 3 and all(m[1] for m in mem),
            f"member {i}'s entry names all 3 members with their co-signatures", str(last)[:200])
    if i == 0:
        sigs = {m[1] for m in mem}
    else:
        t.check({m[1] for m in mem} == sigs, f"member {i}'s entry holds the same co-signatures")
    show = subprocess.run([BIN, "audit", "show", logs[i]], capture_output=True, text=True)
    t.check("members=3" in show.stdout, f"audit show lists member {i}'s run's members",
            show.stdout[-300:])
# A member's co-signature altered in the log (and the entry re-signed would need
# the owner's key): verify fails, exit 7.
with open(logs[1]) as f:
    lines = f.read().splitlines()
last = json.loads(lines[-1])
s2 = last["members"][2][1]
last["members"][2][1] = ("0" if s2[0] != "0" else "1") + s2[1:]
with open(wd.p("tampered.audit"), "w") as f:
    f.write("\n".join(lines[:-1] + [json.dumps(last, separators=(",", ":"))]) + "\n")
v = subprocess.run([BIN, "audit", "verify", wd.p("tampered.audit")], capture_output=True,
                   text=True)
t.check(v.returncode == 7, "an altered co-signature fails verification", v.stderr)

# Budgets: dave's policy allows one run a day with each member; the second
# run is refused by dave (its log already charges the first), naming him.
rows = tables(3, 20, 5, 12)
trio = ["alice", "bob", "dave"]
fpr["dave"] = subprocess.run([BIN, "fingerprint", wd.p("dave.pub")], capture_output=True,
                             text=True).stdout.split()[0]
paths = []
for i, n in enumerate(trio):
    p = wd.p(f"bud.{n}.csv")
    with open(p, "w") as f:
        f.write("email,amount\n" + "".join(f"{r[0]},{r[1]}\n" for r in rows[i]))
    paths.append(p)
dpol = policy("dave", ["alice", "bob"])
with open(dpol) as f:
    d = json.load(f)
d["table"]["file"] = "bud.dave.csv"
d["budget"] = {"runs_per_day": 1, "runs_per_template_per_day": 1}
with open(dpol, "w") as f:
    json.dump(d, f)
dlog = wd.p("dave.audit")
for attempt in (1, 2):
    outs = [wd.p(f"bud{attempt}.{n}.out") for n in trio]
    hub, port = start_hub(3, paths[0], outs[0], names=trio)
    ms = [hub, member(3, port, "bob", paths[1], outs[1]),
          member(3, port, "dave", paths[2], outs[2], ("--policy", dpol, "--audit", dlog))]
    for m in ms:
        m.wait()
    if attempt == 1:
        t.check(all(m.code == 0 for m in ms), "budget: the first run is allowed",
                " | ".join(one_line_error(m.err) for m in ms))
    else:
        errs = [one_line_error(m.err) for m in ms]
        t.check(all(m.code == 6 for m in ms) and "member 2 (dave)" in errs[0] and
                "member 2 (dave)" in errs[1] and "runs_per_day" in errs[2],
                "budget: the second run is refused by dave for everyone", " | ".join(errs))
        t.check(not any(os.path.exists(o) for o in outs), "budget: nobody writes output")

# Usage errors: one line, exit 2, before anything runs.
base = ["--identity", wd.p("alice.key"), "--table", paths[0], "--join", "email", "--out",
        wd.p("u.out")]
for args, what in (
        (["--parties", "11", "--listen", "127.0.0.1:0", "--peer", wd.p("bob.pub")], "K over 10"),
        (["--parties", "1", "--listen", "127.0.0.1:0", "--peer", wd.p("bob.pub")], "K under 2"),
        (["--parties", "3", "--listen", "127.0.0.1:0", "--peer", wd.p("bob.pub")],
         "too few --peer"),
        (["--parties", "3", "--connect", "127.0.0.1:1", "--peer", wd.p("bob.pub"), "--peer",
          wd.p("carol.pub")], "a member with two --peer"),
        (["--parties", "3", "--listen", "127.0.0.1:0", "--peer", wd.p("bob.pub"), "--peer",
          wd.p("carol.pub"), "--mode", "aggregate", "--values", "amount"], "aggregate mode"),
        (["--parties", "3", "--listen", "127.0.0.1:0", "--peer", wd.p("bob.pub"), "--peer",
          wd.p("carol.pub"), "--reveal", "connector"], "--reveal connector"),
        (["--listen", "127.0.0.1:0", "--peer", wd.p("bob.pub"), "--peer", wd.p("carol.pub")],
         "two --peer without --parties"),
        (["--parties", "3", "--listen", "127.0.0.1:0", "--peer", wd.p("bob.pub"), "--peer",
          wd.p("bob.pub")], "one key twice")):
    r = subprocess.run([BIN, "run"] + args + base, capture_output=True, text=True, timeout=60)
    lines = r.stderr.strip().splitlines()
    t.check(r.returncode == 2 and len(lines) == 1 and lines[0].startswith("overlap: error:"),
            f"usage error: {what}", f"{r.returncode}: {r.stderr.strip()}")

wd.cleanup()
t.finish()
