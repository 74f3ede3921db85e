"""End-to-end: a condition across parties comparing two date columns without INTERVAL
(protocols/aggregate/CONDITIONS.md §2.1). `-- dates c.seen, p.day` types `p.day >= c.seen` as
dates in the template, so both parties state it in HELLO before any data: the run's released rows
equal SQLite's over the same CSVs (the cap with ROW_NUMBER(), the NULL rule, a WHERE literal read
as a date, a cell under the threshold). Without the line the condition compares numbers: the
owner is refused before listening in one line naming its file, line, column, the condition and
the declaration that fixes it. Type conflicts and reversed windows are refused by `overlap
template hash`, with file:line:col."""
import os
import random
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from e2e import BIN, Checks, Workdir, one_line_error, read_csv, run_pair

t = Checks("e2e/conditions_dates")
wd = Workdir()


def run(*args):
    return subprocess.run([BIN] + list(args), capture_output=True, text=True, cwd=wd.path)


def hash_of(path):
    r = run("template", "hash", path)
    return r.stdout.strip() if r.returncode == 0 else "error: " + r.stderr.strip()


def check_fail(r, code, want, what):
    err = one_line_error(r.stderr)
    t.check(r.returncode == code, f"{what}: exit {code}", f"got {r.returncode}: {r.stderr.strip()}")
    t.check(want in err, f"{what}: error mentions '{want}'", err)
    t.check(len([l for l in r.stderr.splitlines() if l.strip()]) == 1, f"{what}: one line", r.stderr)


CAP, T = 2, 3
BODY = ("SELECT c.campaign, COUNT(DISTINCT c.email) AS users, COUNT(*) AS conversions,\n"
        "       SUM(p.amount) AS revenue\n"
        "FROM impressions AS c INNER JOIN purchases AS p ON c.email = p.email\n"
        " AND p.day >= c.seen{off}\n"
        "WHERE p.day < '2026-07-20'\n"
        f"GROUP BY c.campaign HAVING COUNT(DISTINCT c.email) >= {T}\n")
HEAD = f"-- cap rows {CAP} by c.seen, p.day\n-- decimals p.amount 2\n"
DATES = HEAD + "-- dates c.seen, p.day\n" + BODY.format(off="")

# ---- the hash: the declaration is part of the meaning; a redundant '+ INTERVAL 0' is not ----
h = hash_of(wd.write("dates.sql", DATES))
t.check(len(h) == 64, "the declared template hashes", h)
t.check(hash_of(wd.write("zero.sql", HEAD + "-- DATES p.day\n-- dates c.seen\n" +
                         BODY.format(off=" + INTERVAL '0 days'"))) == h,
        "declared, with or without + INTERVAL '0 days', one hash")
nodecl = wd.write("nodecl.sql", HEAD + BODY.format(off=""))
h2 = hash_of(nodecl)
t.check(len(h2) == 64 and h2 != h, "without the declaration: another meaning (numbers), another "
        "hash", h2)
r = run("template", "hash", wd.p("dates.sql"), "--canonical")
t.check(r.returncode == 0 and "-- dates c.seen, p.day\n" in r.stdout and
        "AND c.seen <= p.day\n" in r.stdout and "WHERE p.day < DATE '2026-07-20'\n" in r.stdout,
        "canonical form: the declaration, the condition, the literal as a DATE", r.stdout)

# ---- refusals at compile time ----
check_fail(run("template", "hash", wd.write("empty.sql", HEAD.replace("-- decimals p.amount 2\n", "")
                                            + BODY.format(off="").replace(
    "p.day >= c.seen", "p.day BETWEEN c.seen + INTERVAL '5 days' AND c.seen")
    .replace("SUM(p.amount)", "COUNT(p.amount)"))), 3,
    "empty.sql:5:6: p.day BETWEEN c.seen + INTERVAL '5 days' AND c.seen: empty window: the lower "
    "bound is after the upper bound", "a reversed window")
check_fail(run("template", "hash", wd.write("scale.sql", "-- decimals c.seen 2\n" +
                                            BODY.format(off=" + INTERVAL '1 day'")
                                            .replace("SUM(p.amount)", "COUNT(p.amount)"))), 3,
           "scale.sql:5:6: p.day >= c.seen + INTERVAL '1 day': an INTERVAL compares dates, but "
           "c.seen has -- decimals 2", "decimals on a date condition")
check_fail(run("template", "hash", wd.write("mixed.sql", HEAD + "-- dates c.seen\n" +
                                            BODY.format(off="").replace("p.day >= c.seen",
                                                                        "p.amount >= c.seen"))), 3,
           "mixed.sql:7:6: p.amount >= c.seen: c.seen is declared a date (-- dates), but p.amount "
           "has -- decimals 2", "a date compared with decimals")

# ---- the run, against SQLite ----
rng = random.Random(2424)
imps, buys = [], []
for i in range(60):
    e = f"cust{i}@example.com"
    for k in range(1 + i % 4):
        seen = f"2026-07-{rng.randrange(1, 25):02d}" if (i + k) % 9 else ""  # a few NULL dates
        camp = "WINTER" if i % 29 == 0 else rng.choice(["SPRING", "SUMMER"])
        imps.append([e, camp, seen])
for i in range(15, 90):
    e = f"cust{i}@example.com"
    for k in range(1 + i % 3):
        buys.append([e, f"2026-07-{rng.randrange(1, 29):02d}", f"{rng.randrange(1, 9000) / 100:.2f}"])
IMPS = wd.write_csv("impressions.csv", ["email", "campaign", "seen"], imps)
BUYS = wd.write_csv("purchases.csv", ["email", "day", "amount"], buys)


def reference():
    """SQLite: WHERE, the NULL rule and the cap by ROW_NUMBER() on each side, then the join with
    the dates compared (YYYY-MM-DD text orders as the dates), HAVING on COUNT(DISTINCT)."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE c(pos INTEGER, email TEXT, campaign TEXT, seen TEXT)")
    db.execute("CREATE TABLE p(pos INTEGER, email TEXT, day TEXT, amount TEXT)")
    db.executemany("INSERT INTO c VALUES (?, ?, ?, NULLIF(?, ''))",
                   [(n,) + tuple(r) for n, r in enumerate(imps)])
    db.executemany("INSERT INTO p VALUES (?, ?, ?, ?)", [(n,) + tuple(r) for n, r in enumerate(buys)])
    q = f"""
      WITH cc AS (SELECT *, ROW_NUMBER() OVER (PARTITION BY email ORDER BY seen, pos) AS rn
                  FROM c WHERE seen IS NOT NULL),
           pp AS (SELECT *, ROW_NUMBER() OVER (PARTITION BY email ORDER BY day, pos) AS rn
                  FROM p WHERE day < '2026-07-20')
      SELECT cc.campaign, COUNT(DISTINCT cc.email), COUNT(*),
             SUM(CAST(ROUND(CAST(pp.amount AS REAL) * 100) AS INTEGER))
      FROM cc JOIN pp ON cc.email = pp.email AND julianday(pp.day) >= julianday(cc.seen)
      WHERE cc.rn <= {CAP} AND pp.rn <= {CAP}
      GROUP BY cc.campaign"""
    rows = db.execute(q).fetchall()
    over = [r for r in rows if r[1] >= T]
    return ([[r[0], str(r[1]), str(r[2]), f"{r[3] // 100}.{r[3] % 100:02d}"] for r in sorted(over)],
            len(rows) - len(over))


want, under = reference()
t.check(len(want) >= 1 and under >= 1, "the scenario releases cells and leaves one under T",
        f"{want} / {under} under")
path, _, _ = wd.approve_template("dates_run.sql", DATES)
out = wd.p("dates.out.csv")
args = ["--threads", "2", "--timeout", "120", "--wait", "20", "--template", path]
lst, con = run_pair(wd, BUYS, IMPS, None, out, args + ["--table-name", "purchases"],
                    args + ["--table-name", "impressions"])
t.check(lst.code == 0 and con.code == 0, "p.day >= c.seen with -- dates runs: both succeed",
        f"listener {lst.code}: {lst.stderr.strip()[-400:]} | connector {con.code}: "
        f"{con.stderr.strip()[-400:]}")
got = read_csv(out) if os.path.exists(out) else []
t.check(got[:1] == [["campaign", "users", "conversions", "revenue"]], "header", str(got[:1]))
t.check(got[1:] == want, "released rows equal SQLite's (dates compared, cap, NULL rule, WHERE, "
        "threshold)", f"\n got  {got[1:]}\n want {want}")

# ---- without the declaration: the owner is refused before listening, with the fix ----
bare, _, _ = wd.approve_template("bare.sql", open(nodecl).read())
r = subprocess.run([BIN, "run", "--listen", "127.0.0.1:0", "--identity", wd.p("alice.key"),
                    "--peer", wd.p("bob.pub"), "--table", BUYS, "--join", "email",
                    "--normalize", "email", "--template", bare, "--table-name", "purchases",
                    "--out", wd.p("bare.out.csv")],
                   capture_output=True, text=True, timeout=60, cwd=wd.path)
err = one_line_error(r.stderr)
t.check(r.returncode == 3 and "listening" not in r.stderr,
        "a date where numbers are compared: refused before listening (exit 3)",
        f"{r.returncode}: {r.stderr.strip()}")
t.check("purchases.csv:2: column day: a date, but the condition " in err and
        "compares numbers (declare the dates in the template: -- dates " in err and
        buys[0][1] not in err, "the error names the file, line, column, condition and fix, "
        "not the cell", err)
t.check(len([l for l in r.stderr.splitlines() if l.startswith("overlap: error")]) == 1,
        "the refusal is one line", r.stderr)
t.finish()
