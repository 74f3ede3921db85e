"""Tables from SQLite and PostgreSQL, results into them (README "Databases").

The same two tables as CSV files, as SQLite tables and as PostgreSQL tables
(in a private server started here: tests/e2e/pgserver.py) give identical
results in every mode: intersection, cardinality, aggregates and templates.
Then --query filtering, database outputs (and --replace), NULLs following
SQL, and every database error as one line with exit status 3, with no
password anywhere."""
import csv
import io
import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import time
from decimal import Decimal

sys.path.insert(0, os.path.dirname(__file__))
from e2e import (BIN, Checks, Workdir, attribution_template, label_key, norm_email, one_line_error,
                 read_csv, run_pair)

AGG_COLS = ["--group-by", "campaign_id,ad_format",
            "--values", "contributor:purchase_amount:2,contributor:item_count"]
from pgserver import PgServer

t = Checks("e2e/db")
wd = Workdir()
pg = PgServer()
if not t.check(pg.available, "a private PostgreSQL server starts", pg.why):
    wd.cleanup()
    t.finish()
rng = random.Random(16)
PW = "Hunter2-secret"


# ---- the tables ----
P_COLS = ["email", "purchase_date", "purchase_amount", "store", "item_count"]
purchases = []
for i in range(120):
    for k in range(1 + i % 2):
        cents = rng.randrange(100, 40000) * 10 + rng.randrange(1, 10)  # never a trailing zero
        purchases.append([f"User{i}@Example.com", f"2026-07-{1 + (i + k) % 28:02d}",
                          f"{Decimal(cents) / 100}", "A" if i % 3 else "B", str(1 + k)])
purchases.append(["", "2026-07-01", "1.25", "A", "1"])  # no join value: skipped
I_COLS = ["email", "campaign_id", "ad_format"]
impressions = [[f"user{i}@example.com", rng.choice(["CAMP_A", "CAMP_B"]),
                rng.choice(["video", "banner"])] for i in range(60, 200)]


def csv_text(header, rows):
    b = io.StringIO()
    w = csv.writer(b, lineterminator="\n")
    w.writerow(header)
    w.writerows([[c if c != "" else None for c in r] for r in rows])
    return b.getvalue()


P_CSV = wd.write_csv("purchases.csv", P_COLS, purchases)
I_CSV = wd.write_csv("impressions.csv", I_COLS, impressions)

DB = wd.p("crm.db")
con = sqlite3.connect(DB)
con.execute("CREATE TABLE purchases (email TEXT, purchase_date DATE, purchase_amount NUMERIC, "
            "store TEXT, item_count INTEGER)")
con.executemany("INSERT INTO purchases VALUES (?, ?, ?, ?, ?)",
                [[r[0] or None, r[1], r[2], r[3], int(r[4])] for r in purchases])
con.execute("CREATE TABLE impressions (email TEXT, campaign_id TEXT, ad_format TEXT)")
con.executemany("INSERT INTO impressions VALUES (?, ?, ?)", impressions)
con.commit()
con.close()

pg.load_csv("purchases", "email text, purchase_date date, purchase_amount numeric(10,2), "
            "store text, item_count integer", csv_text(P_COLS, purchases))
pg.load_csv("impressions", "email text, campaign_id text, ad_format text",
            csv_text(I_COLS, impressions))
pg.psql(f"CREATE ROLE pwuser LOGIN PASSWORD '{PW}'; GRANT SELECT ON purchases TO pwuser; "
        "GRANT CREATE ON SCHEMA public TO pwuser; CREATE ROLE noperm LOGIN")

SOURCES = {
    "csv": (P_CSV, I_CSV),
    "sqlite": (f"sqlite:{DB}?table=purchases", f"sqlite:{DB}?table=impressions"),
    "postgresql": (pg.uri(params="table=purchases"), pg.uri(params="table=impressions")),
}


def both_ok(label, lst, con):
    return t.check(lst.code == 0 and con.code == 0, f"{label}: both parties succeed",
                   f"listener {lst.code}: {lst.stderr.strip()[-400:]} | connector {con.code}: "
                   f"{con.stderr.strip()[-400:]}")


# ---- 1. identical results in every mode ----
results = {}
for name, (ptab, itab) in SOURCES.items():
    r = {}
    lo, co = wd.p(f"{name}.p.csv"), wd.p(f"{name}.i.csv")
    lst, con = run_pair(wd, ptab, itab, lo, co)
    if both_ok(f"{name} intersection", lst, con):
        r["intersection"] = (read_csv(lo), read_csv(co), lst.summary()["skipped_rows"])
    lo, co = wd.p(f"{name}.p.n"), wd.p(f"{name}.i.n")
    lst, con = run_pair(wd, ptab, itab, lo, co, ["--mode", "cardinality"], ["--mode", "cardinality"])
    if both_ok(f"{name} cardinality", lst, con):
        r["cardinality"] = (open(lo).read(), open(co).read())
    out = wd.p(f"{name}.agg.csv")
    agg = ["--mode", "aggregate", "--threads", "2", "--min-rows", "3"]
    # Both parties state the same analysis (aggregates v2: the plan bytes agree).
    lst, con = run_pair(wd, ptab, itab, None, out, agg + AGG_COLS, agg + AGG_COLS)
    if both_ok(f"{name} aggregate", lst, con):
        r["aggregate"] = read_csv(out)
    results[name] = r

want_matched = [P_COLS] + [r for r in purchases
                           if norm_email(r[0]) in {norm_email(i[0]) for i in impressions}]
csv_r = results.get("csv", {})
t.check(csv_r.get("intersection", [None])[0] == want_matched,
        "csv intersection: the purchases the peer also has", str(csv_r.get("intersection"))[:300])
t.check(csv_r.get("intersection", [0, 0, 0])[2] == 1, "csv intersection: one row skipped")
agg_rows = csv_r.get("aggregate") or []
t.check(len(agg_rows) >= 3, "csv aggregate: released groups", str(agg_rows))
for name in ("sqlite", "postgresql"):
    for mode in ("intersection", "cardinality", "aggregate"):
        t.check(name in results and results[name].get(mode) == csv_r.get(mode) is not None,
                f"{name} {mode}: identical to CSV",
                f"{str(results.get(name, {}).get(mode))[:300]} vs {str(csv_r.get(mode))[:300]}")

# ---- 2. templates through overlap serve, one server per source ----
TEMPLATE = attribution_template(3)
T, thash, _ = wd.approve_template("attr.sql", TEMPLATE)


def policy_file(name, **table_extra):
    bob = wd.fingerprint("bob")
    table = {"name": "purchases", "columns": P_COLS}
    table.update(table_extra)
    p = {"version": 1, "table": table,
         "join": [{"column": "email", "normalize": "email", "prehashed": False}],
         "peers": [{"name": "bob", "fingerprint": bob}],
         "list": {"allowed": True, "columns": [], "receivers": [bob]},
         "aggregation": {"adhoc": True, "functions": ["COUNT", "COUNT_DISTINCT", "SUM", "AVG"],
                         "dimensions": ["purchase_date"], "aggregates": ["purchase_amount"],
                         "min_rows": 2, "receivers": [bob], "allow_cardinality": True},
         "custom": {"templates": [{"name": "attr", "sha256": thash}]}}
    path = wd.p(name)
    with open(path, "w") as f:
        json.dump(p, f)
    return path


POL = policy_file("retail.policy.json", source=P_CSV)


def serve(table, extra=(), pol=POL):
    log = open(wd.p(f"serve.{time.monotonic_ns()}.log"), "w+")
    proc = subprocess.Popen([BIN, "serve", "--listen", "127.0.0.1:0", "--identity",
                             wd.p("alice.key"), "--table", table, "--policy", pol, "--audit",
                             wd.p("serve.audit"), "--timeout", "20", "--new-audit-log"] + list(extra),
                            stderr=log, stdout=subprocess.DEVNULL)
    port = None
    deadline = time.time() + 30
    while time.time() < deadline and port is None and proc.poll() is None:
        log.flush()
        m = re.search(r"on 127\.0\.0\.1:(\d+)", open(log.name).read())
        port = int(m.group(1)) if m else None
        time.sleep(0.05)
    return proc, port, log


def stop(proc):
    proc.terminate()
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def ask(port, out, args, table=I_CSV):
    cmd = [BIN, "run", "--connect", f"127.0.0.1:{port}", "--identity", wd.p("bob.key"), "--peer",
           wd.p("alice.pub"), "--table", table, "--join", "email", "--normalize", "email",
           "--out", out, "--quiet", "--timeout", "20", "--wait", "10"] + list(args)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    return r.returncode, r.stderr


def template_want(rows, campaign, start, k):
    buys = {}
    for r in rows:
        if r[0] and r[1] is not None and r[1] >= start and norm_email(r[0]):
            buys.setdefault(norm_email(r[0]), []).append(r[2])
    groups = {}
    for r in impressions:
        e = norm_email(r[0])
        if r[1] == campaign and e in buys:
            groups.setdefault(r[2], set()).add(e)
    out = [["ad_format", "buyers", "revenue"]]
    for g in sorted(groups, key=lambda g: label_key([g])):
        if len(groups[g]) >= k:
            rev = sum(Decimal(v) for e in groups[g] for v in buys[e] if v is not None)
            out.append([g, str(len(groups[g])), f"{rev:.2f}"])
    return out


TARGS = ["--template", T, "--param", "campaign_id=CAMP_A", "--param", "start_date=2026-07-10"]
want_tpl = template_want(purchases, "CAMP_A", "2026-07-10", 3)
t.check(len(want_tpl) > 2, "template: the scenario releases groups", str(want_tpl))
for name, (ptab, itab) in SOURCES.items():
    proc, port, log = serve(ptab)
    if not t.check(port is not None, f"{name} template: the server starts",
                   open(log.name).read()[-300:]):
        stop(proc)
        continue
    out = wd.p(f"{name}.tpl.csv")
    code, err = ask(port, out, TARGS, table=itab)
    t.check(code == 0 and read_csv(out) == want_tpl, f"{name} template: the plaintext result",
            f"{code} {err.strip()[-300:]} {read_csv(out) if code == 0 else ''}")
    stop(proc)

# ---- 3. NULLs follow SQL (PostgreSQL and SQLite tables with NULLs) ----
with_nulls = [list(r) for r in purchases]
for i in range(0, len(with_nulls), 5):
    with_nulls[i][1] = None  # no date: a WHERE comparison with NULL is not true
for i in range(2, len(with_nulls), 7):
    with_nulls[i][2] = None  # no amount: SUM ignores it
for i in range(3, len(with_nulls), 11):
    with_nulls[i][0] = None  # no join key: skipped like an empty one
nulls_text = csv_text(P_COLS, [[c if c is not None else "" for c in r] for r in with_nulls])
pg.load_csv("purchases_null", "email text, purchase_date date, purchase_amount numeric(10,2), "
            "store text, item_count integer", nulls_text)
con = sqlite3.connect(DB)
con.execute("CREATE TABLE purchases_null (email TEXT, purchase_date DATE, purchase_amount "
            "NUMERIC, store TEXT, item_count INTEGER)")
con.executemany("INSERT INTO purchases_null VALUES (?, ?, ?, ?, ?)",
                [[r[0] or None, r[1], r[2], r[3], int(r[4])] for r in with_nulls])
con.commit()
con.close()
want_null = template_want(with_nulls, "CAMP_A", "2026-07-10", 3)
t.check(want_null != want_tpl, "nulls: the NULLs change the result")
for name, ptab in (("postgresql", pg.uri(params="table=purchases_null")),
                   ("sqlite", f"sqlite:{DB}?table=purchases_null")):
    proc, port, log = serve(ptab)
    if port is not None:
        out = wd.p(f"{name}.null.csv")
        code, err = ask(port, out, TARGS)
        t.check(code == 0 and read_csv(out) == want_null,
                f"{name} nulls: NULL dates filtered out, NULL amounts ignored by SUM",
                f"{code} {err.strip()[-300:]} {read_csv(out) if code == 0 else ''} want {want_null}")
    else:
        t.check(False, f"{name} nulls: the server starts", open(log.name).read()[-300:])
    stop(proc)
lo = wd.p("null.p.csv")
lst, con = run_pair(wd, pg.uri(params="table=purchases_null"), I_CSV, lo, wd.p("null.i.csv"))
if both_ok("nulls intersection", lst, con):
    nnull = sum(1 for r in with_nulls if not r[0])
    t.check(lst.summary()["skipped_rows"] == nnull, "nulls: NULL join keys counted as skipped",
            f"{lst.summary()['skipped_rows']} vs {nnull}")

# ---- 4. --query filtering ----
store_a = [r for r in purchases if r[3] == "A"]
QA = wd.write_csv("store_a.csv", ["email", "purchase_amount"], [[r[0], r[2]] for r in store_a])
qres = {}
for name, src in (("csv", QA), ("sqlite", f"sqlite:{DB}"), ("postgresql", pg.uri())):
    extra = [] if name == "csv" else [
        "--query", "SELECT email, purchase_amount FROM purchases WHERE store = 'A'"]
    lo = wd.p(f"{name}.q.csv")
    lst, con = run_pair(wd, src, I_CSV, lo, wd.p(f"{name}.qi.csv"), extra)
    if both_ok(f"{name} --query", lst, con):
        qres[name] = read_csv(lo)
t.check(qres.get("csv") and len(qres["csv"]) > 5, "--query: the CSV reference matches rows")
for name in ("sqlite", "postgresql"):
    t.check(qres.get(name) == qres.get("csv"), f"{name} --query: only the query's rows",
            f"{str(qres.get(name))[:200]} vs {str(qres.get('csv'))[:200]}")

# ---- 5. results into databases ----
def sqlite_rows(path, table):
    c = sqlite3.connect(path)
    rows = c.execute(f'SELECT * FROM "{table}"').fetchall()
    names = [d[0] for d in c.execute(f'SELECT * FROM "{table}" LIMIT 0').description]
    c.close()
    return [names] + [["" if v is None else str(v) for v in r] for r in rows]


def pg_rows(table, order):
    r = pg.psql(f"COPY (SELECT * FROM {table} ORDER BY {order}) TO STDOUT WITH (FORMAT csv, "
                "HEADER true)")
    return list(csv.reader(io.StringIO(r.stdout))) if r.returncode == 0 else r.stderr


ref = csv_r.get("intersection", [None])[0] or []
OUTDB = wd.p("results.db")
lst, con = run_pair(wd, P_CSV, I_CSV, f"sqlite:{OUTDB}?table=matches", None,
                    ["--reveal", "listener"], ["--reveal", "listener"])
if both_ok("sqlite --out", lst, con):
    t.check(sqlite_rows(OUTDB, "matches") == ref, "sqlite --out: the matched rows in a new table",
            str(sqlite_rows(OUTDB, "matches"))[:300])
pg_out = pg.uri(params="table=matches")
lst, con = run_pair(wd, P_CSV, I_CSV, pg_out, None, ["--reveal", "listener"],
                    ["--reveal", "listener"])
if both_ok("postgresql --out", lst, con):
    got = pg_rows("matches", "email, purchase_date, purchase_amount")
    t.check(isinstance(got, list) and got[0] == ref[0] and sorted(got[1:]) == sorted(ref[1:]),
            "postgresql --out: the matched rows in a new table", str(got)[:300])
    types = pg.psql("SELECT string_agg(data_type, ',' ORDER BY ordinal_position) FROM "
                    "information_schema.columns WHERE table_name = 'matches'").stdout.strip()
    t.check(types == "text,date,numeric,text,bigint", "postgresql --out: typed columns", types)

# An existing table: refused before the peer is contacted, and kept as it was.
for label, target in (("sqlite", f"sqlite:{OUTDB}?table=matches"), ("postgresql", pg_out)):
    r = subprocess.run([BIN, "run", "--listen", "127.0.0.1:0", "--identity", wd.p("alice.key"),
                        "--peer", wd.p("bob.pub"), "--table", P_CSV, "--join", "email",
                        "--normalize", "email", "--out", target, "--wait", "1"],
                       capture_output=True, text=True, timeout=60)
    t.check(r.returncode == 3 and "already exists" in one_line_error(r.stderr)
            and "--replace" in one_line_error(r.stderr) and "listening" not in r.stderr,
            f"{label} --out: an existing table is an error before listening",
            f"{r.returncode} {r.stderr.strip()}")
# --replace: the table now holds the count.
lst, con = run_pair(wd, P_CSV, I_CSV, f"sqlite:{OUTDB}?table=matches", wd.p("n.txt"),
                    ["--mode", "cardinality", "--replace"], ["--mode", "cardinality"])
if both_ok("sqlite --replace", lst, con):
    n = open(wd.p("n.txt")).read().strip()
    t.check(sqlite_rows(OUTDB, "matches") == [["intersection_size"], [n]],
            "sqlite --replace: the old table replaced by the count", str(sqlite_rows(OUTDB, "matches")))
out = pg.uri(params="table=agg_result")
agg = ["--mode", "aggregate", "--threads", "2", "--min-rows", "3"]
lst, con = run_pair(wd, P_CSV, I_CSV, None, out, agg + AGG_COLS, agg + AGG_COLS)
if both_ok("postgresql aggregate --out", lst, con):
    got = pg_rows("agg_result", "campaign_id, ad_format")
    t.check(isinstance(got, list) and len(agg_rows) > 1 and got[:1] == agg_rows[:1]
            and sorted(got[1:]) == sorted(agg_rows[1:]),
            "postgresql aggregate --out: the released groups", str(got)[:300])

# ---- 6. errors: one line naming the source without its password, exit 3,
# before listening for the peer ----
def alone(table, extra=(), env=None, join="email"):
    r = subprocess.run([BIN, "run", "--listen", "127.0.0.1:0", "--identity", wd.p("alice.key"),
                        "--peer", wd.p("bob.pub"), "--table", table, "--join", join,
                        "--normalize", "email", "--out", wd.p("never.csv"), "--wait", "1"]
                       + list(extra), capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, **(env or {})))
    return r.returncode, r.stderr


sock = pg.sock.replace("/", "%2F")
ERRORS = [
    ("unreachable server", f"postgresql://pwuser:{PW}@%2Fnonexistent-dir:5432/postgres?table=x",
     (), "cannot connect"),
    ("failed authentication", f"postgresql://pwuser:wrong{PW}@{sock}:{pg.port}/postgres?table=purchases",
     (), "password authentication failed"),
    ("missing database", f"postgresql://postgres@{sock}:{pg.port}/nodb?table=purchases", (),
     "does not exist"),
    ("missing table", f"postgresql://pwuser:{PW}@{sock}:{pg.port}/postgres?table=nope", (),
     "does not exist"),
    ("denied permission", f"postgresql://noperm@{sock}:{pg.port}/postgres?table=purchases", (),
     "permission denied"),
    ("failing query", pg.uri(), ("--query", "SELECT email, 1 / (item_count - item_count) AS x "
                                           "FROM purchases"), "division by zero"),
    ("query syntax", pg.uri(), ("--query", "SELEC email FROM purchases"), "syntax error"),
    ("query that writes", pg.uri(), ("--query", "DELETE FROM purchases RETURNING email"),
     "read-only"),
    ("sqlite missing file", f"sqlite:{wd.p('none.db')}?table=purchases", (), "none.db"),
    ("sqlite missing table", f"sqlite:{DB}?table=nope", (), "no such table"),
    ("sqlite failing query", f"sqlite:{DB}", ("--query", "SELECT nope FROM purchases"),
     "no such column"),
]
for label, table, extra, want in ERRORS:
    code, err = alone(table, extra)
    line = one_line_error(err)
    shown = table.replace(f":{PW}", "").replace(f":wrong{PW}", "")
    t.check(code == 3 and want in line and shown in line and PW not in err
            and "listening" not in err and len(err.strip().splitlines()) == 1,
            f"error: {label}: one line naming the source, exit 3, before listening",
            f"{code} {err.strip()}")
code, err = alone(pg.uri(params="table=purchases"), join="nocol")
t.check(code == 3 and 'no column "nocol"' in one_line_error(err) and "listening" not in err,
        "error: missing column", f"{code} {err.strip()}")
t.check(not os.path.exists(wd.p("none.db")), "error: a missing SQLite file is not created")
t.check(pg.psql("SELECT count(*) FROM purchases").stdout.strip() == str(len(purchases)),
        "error: the query that writes changed nothing")

# ---- 7. passwords: from the URI, PGPASSWORD and a password file; never shown ----
uri_pw = f"postgresql://pwuser:{PW}@{sock}:{pg.port}/postgres?table=purchases"
frames, audit = wd.p("pw.frames"), wd.p("pw.audit")
lo = wd.p("pw.p.csv")
lst, con = run_pair(wd, uri_pw, I_CSV, lo, wd.p("pw.i.csv"), ["--dump-frames", frames])
if both_ok("password in the URI", lst, con):
    seen = lst.stdout + lst.stderr + con.stdout + con.stderr + open(lo).read()
    t.check(PW not in seen and PW.encode() not in open(frames, "rb").read(),
            "password in the URI: in no output, log, summary or frame")
    t.check(read_csv(lo) == csv_r.get("intersection", [None])[0], "password in the URI: same rows")
nopw = f"postgresql://pwuser@{sock}:{pg.port}/postgres?table=purchases"
code, err = alone(nopw)
t.check(code == 3 and "password" in one_line_error(err), "no password: authentication fails",
        err.strip())
code, err = alone(nopw, env={"PGPASSWORD": PW})
t.check(code != 3, "PGPASSWORD: libpq takes the password from the environment", err.strip())
pgpass = wd.write("pgpass", f"*:*:*:pwuser:{PW}\n")
os.chmod(pgpass, 0o600)
code, err = alone(nopw, env={"PGPASSFILE": pgpass})
t.check(code != 3, "password file: libpq takes the password from it", err.strip())
r = subprocess.run([BIN, "policy", "init", "--table", uri_pw], capture_output=True, text=True)
t.check(r.returncode == 0 and PW not in r.stdout and '"source": "postgresql://pwuser@' in r.stdout,
        "policy init: reads a database header and writes the source without its password",
        r.stdout[:300] + r.stderr)

# ---- 8. a policy can require a named table ----
NOQ = policy_file("noquery.policy.json", source=pg.uri(params="table=purchases"),
                  allow_query=False)
proc, port, log = serve(pg.uri(), ["--query", "SELECT * FROM purchases"], pol=NOQ)
code = proc.wait(30) if port is None else None
t.check(port is None and code == 6 and "allow_query" in open(log.name).read(),
        "policy allow_query false: serve refuses --query", f"{code} {open(log.name).read()[-300:]}")
if port is not None:
    stop(proc)

# ---- 9. serve checks its table before any partner can connect ----
proc, port, log = serve(f"postgresql://pwuser:{PW}@{sock}:{pg.port}/postgres?table=nope")
code = proc.wait(30) if port is None else None
text = open(log.name).read()
t.check(port is None and code == 3 and "does not exist" in text and PW not in text,
        "serve: a missing table stops it at startup, exit 3, no password", f"{code} {text[-300:]}")
if port is not None:
    stop(proc)
proc, port, log = serve(uri_pw)
text = open(log.name).read()
t.check(port is not None and "serving postgresql://pwuser@" in text and PW not in text,
        "serve: the startup line shows the source without its password", text[-300:])
stop(proc)

pg.stop()
wd.cleanup()
t.finish()
