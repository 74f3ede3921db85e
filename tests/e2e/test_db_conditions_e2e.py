"""End-to-end: conditions across parties over SQLite sources (protocols/aggregate/
CONDITIONS.md, README "Databases"): the 30-day window with a cap, run by two
overlap processes whose tables are SQLite, one of them a --query whose rows come
back in a different order at every read (ORDER BY random()); the released rows
equal what SQLite computes over the same tables. Each row's compared and
ordering cells are read with its identifier and values in the loader's one pass,
so no order of the rows can pair one row's date with another's identifier.
The matched rows of an intersection are the one second read of a table: a query
returning the same rows in another order is refused there (exit 3, one line
naming the table and the fix), and the same query with ORDER BY succeeds."""
import os
import random
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(__file__))
from e2e import Checks, Workdir, one_line_error, read_csv, run_pair

t = Checks("e2e/db-conditions")
wd = Workdir()
rng = random.Random(2424)

# Within one identifier the ordering dates are distinct, so the cap keeps the same rows
# whatever order the rows arrive in (ties would fall back on input order).
imps, buys = [], []
for i in range(60):
    e = f"cust{i}@example.com"
    for k, d in enumerate(sorted(rng.sample(range(1, 29), 1 + i % 4))):
        camp = "WINTER" if i % 29 == 0 else rng.choice(["SPRING", "SUMMER"])
        imps.append((e, camp, None if (i + k) % 13 == 0 else f"2026-06-{d:02d}"))
for i in range(15, 90):
    e = f"cust{i}@example.com"
    for d in sorted(rng.sample(range(1, 57), 1 + i % 3)):
        day = f"2026-06-{d:02d}" if d <= 28 else f"2026-07-{d - 28:02d}"
        buys.append((e, day, f"{rng.randrange(100, 20000) / 100:.2f}"))
DB = wd.p("shop.db")
db = sqlite3.connect(DB)
db.execute("CREATE TABLE impressions (email TEXT, campaign TEXT, seen TEXT)")
db.execute("CREATE TABLE purchases (email TEXT, day TEXT, amount TEXT)")
db.executemany("INSERT INTO impressions VALUES (?, ?, ?)", imps)
db.executemany("INSERT INTO purchases VALUES (?, ?, ?)", buys)
db.commit()
db.close()

CAP, T = 2, 3
WINDOW = (f"-- cap rows {CAP} by c.seen, p.day\n-- decimals p.amount 2\n"
          "SELECT c.campaign, COUNT(DISTINCT c.email) AS users, COUNT(*) AS conversions,\n"
          "       SUM(p.amount) AS revenue\n"
          "FROM impressions AS c INNER JOIN purchases AS p ON c.email = p.email\n"
          " AND p.day BETWEEN c.seen AND c.seen + INTERVAL '30 days'\n"
          f"GROUP BY c.campaign HAVING COUNT(DISTINCT c.email) >= {T}\n")


def reference():
    """SQLite over the same tables: the NULL rule, the cap by ROW_NUMBER() over the
    ordering column, the window, HAVING on COUNT(DISTINCT)."""
    c = sqlite3.connect(DB)
    rows = c.execute(f"""
      WITH cc AS (SELECT *, ROW_NUMBER() OVER (PARTITION BY email ORDER BY seen) AS rn
                  FROM impressions WHERE seen IS NOT NULL),
           pp AS (SELECT *, ROW_NUMBER() OVER (PARTITION BY email ORDER BY day) AS rn
                  FROM purchases WHERE day IS NOT NULL)
      SELECT cc.campaign, COUNT(DISTINCT cc.email), COUNT(*),
             SUM(CAST(ROUND(CAST(pp.amount AS REAL) * 100) AS INTEGER))
      FROM cc JOIN pp ON cc.email = pp.email
       AND pp.day BETWEEN cc.seen AND date(cc.seen, '+30 days')
      WHERE cc.rn <= {CAP} AND pp.rn <= {CAP}
      GROUP BY cc.campaign""").fetchall()
    c.close()
    over = [r for r in rows if r[1] >= T]
    return ([[r[0], str(r[1]), str(r[2]), f"{r[3] // 100}.{r[3] % 100:02d}"]
             for r in sorted(over)], len(rows) - len(over))


want, under = reference()
t.check(len(want) >= 1 and under >= 1, "the scenario releases cells and leaves some under T",
        f"{want} / {under} under")
tpl, _, _ = wd.approve_template("window.sql", WINDOW)
args = ["--threads", "2", "--timeout", "120", "--wait", "20", "--template", tpl]
SHUFFLED = "SELECT email, campaign, seen FROM impressions ORDER BY random()"
for label, ltable, lextra in (
        ("a named SQLite table", f"sqlite:{DB}?table=purchases", []),
        ("a query ORDER BY random()", f"sqlite:{DB}",
         ["--query", "SELECT email, day, amount FROM purchases ORDER BY random()"])):
    out = wd.p("window.out.csv")
    if os.path.exists(out):
        os.unlink(out)
    lst, con = run_pair(wd, ltable, f"sqlite:{DB}", None, out,
                        args + ["--table-name", "purchases"] + lextra,
                        args + ["--table-name", "impressions", "--query", SHUFFLED])
    t.check(lst.code == 0 and con.code == 0, f"{label}: both parties succeed",
            f"listener {lst.code}: {lst.stderr.strip()[-400:]} | connector {con.code}: "
            f"{con.stderr.strip()[-400:]}")
    got = read_csv(out) if os.path.exists(out) else []
    t.check(got[:1] == [["campaign", "users", "conversions", "revenue"]], f"{label}: header",
            str(got[:1]))
    t.check(got[1:] == want, f"{label}: released rows equal SQLite's",
            f"\n got  {got[1:]}\n want {want}")
    t.check("capped identifiers:" in con.stderr and "capped identifiers:" in lst.stderr,
            f"{label}: each party is told its own capped count", con.stderr[-200:])

# ---- the matched rows of an intersection: the table's second read ----
lst, con = run_pair(wd, f"sqlite:{DB}?table=purchases", f"sqlite:{DB}", wd.p("theirs.csv"),
                    wd.p("shared.csv"), ["--mode", "intersection"],
                    ["--mode", "intersection", "--query",
                     "SELECT email, campaign, seen FROM impressions ORDER BY random()"])
err = one_line_error(con.stderr)
t.check(con.code == 3, "a query reordering its rows between the two reads: exit 3",
        f"{con.code}: {con.stderr.strip()[-400:]}")
t.check("changed between its two reads (rows in another order or edited)" in err and
        "add ORDER BY" in err and "shop.db" in err and "cust" not in err,
        "the refusal names the table and the fix, never a value", err)
t.check(len([l for l in con.stderr.splitlines() if l.startswith("overlap: error")]) == 1,
        "the refusal is one line", con.stderr)
t.check(not os.path.exists(wd.p("shared.csv")), "no partial output")
lst, con = run_pair(wd, f"sqlite:{DB}?table=purchases", f"sqlite:{DB}", wd.p("theirs.csv"),
                    wd.p("shared.csv"), ["--mode", "intersection"],
                    ["--mode", "intersection", "--query",
                     "SELECT email, campaign, seen FROM impressions ORDER BY email, seen"])
got = read_csv(wd.p("shared.csv")) if os.path.exists(wd.p("shared.csv")) else []
matched = {b[0] for b in buys}
want_rows = sorted([[e, c, s or ""] for e, c, s in imps if e in matched],
                   key=lambda r: (r[0], r[2] == "", r[2]))
t.check(con.code == 0 and got[:1] == [["email", "campaign", "seen"]] and
        sorted(got[1:], key=lambda r: (r[0], r[2] == "", r[2])) == want_rows,
        "with ORDER BY the matched rows are written", f"{con.code}: {con.stderr.strip()[-300:]}")
wd.cleanup()
t.finish()
