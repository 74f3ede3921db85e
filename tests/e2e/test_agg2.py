"""End-to-end aggregates version 2 (protocols/aggregate/SPEC.md): two real overlap
processes over loopback TLS, their released rows compared with what SQLite computes over the
same CSVs (tests/e2e/sqlref.py), for several templates: overlapping groups (a customer in two
campaigns), both parties' dimensions and sums, negatives, NULLs, AVG, COUNT(col), DATE_TRUNC,
arithmetic with NULLIF, cells under the threshold (absent; the helper learns only how many were
released), the runner and the receiver each either party, the same frame sizes for two
inputs of equal sizes, the ad-hoc command line, and the refusals before any data: a group
space over a policy's max_cells, a policy without a column."""
import datetime
import json
import os
import random
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from e2e import (BIN, Checks, Serve, Workdir, free_port, one_line_error, read_csv, run_pair,
                 no_temp_files)
from sqlref import Analysis, Reference

t = Checks("e2e/agg2")
wd = Workdir()
rng = random.Random(1414)
PROTOCOL = "agg2/2"

# ---- the two tables: an advertiser's impressions, a retailer's purchases ----
def make_tables(rng, ad_ids, shop_ids, name="cust{}@example.com"):
    """The advertiser's rows for identifiers ad_ids, the retailer's for shop_ids (the
    intersection is theirs), values drawn from rng."""
    ads = []
    for i in ad_ids:
        e = name.format(i)
        camps = ["SPRING", "SUMMER"] if i % 3 == 0 else ["SPRING"] if i % 3 == 1 else ["SUMMER"]
        for camp in camps:  # every third customer saw both campaigns: overlapping groups
            fmt = rng.choice(["video", "banner"])
            for k in range(1 + (i % 4 == 0)):
                spend = rng.randrange(-300, 9000)  # a few credits: negative spend
                impressions = str(rng.randrange(1, 40))
                if (i + k) % 7 == 3:  # not recorded: NULL, skipped by COUNT(a.impressions)
                    impressions = ""
                ads.append([e.upper() if k else e, camp, fmt, impressions,
                            f"{spend / 100:.2f}"])
    ads.append(["not-an-email", "SPRING", "video", "3", "1.00"])  # no identifier: joins nothing
    shop = []
    for i in shop_ids:
        for k in range(1 + i % 3):
            amount = "" if (i + k) % 13 == 0 else f"{rng.randrange(-2500, 30000) / 100:.2f}"
            shop.append([name.format(i), rng.choice(["toys", "garden"]),
                         f"2026-07-{rng.randrange(1, 31):02d}", amount,
                         "" if k == 2 else f"P{i}-{k}"])
    return ads, shop


ads, shop = make_tables(rng, range(90), range(40, 140))
ADS = wd.write_csv("ads.csv", ["email", "campaign", "ad_format", "impressions", "spend"], ads)
SHOP = wd.write_csv("shop.csv", ["email", "category", "day", "amount", "pid"], shop)
PATHS = {"a": ADS, "s": SHOP}
TABLES = {"a": ("ads", "email"), "s": ("shop", "email")}
DEC = {("a", "impressions"): 0, ("a", "spend"): 2, ("s", "amount"): 2}


def template_text(an):
    """The analysis as a template, with its summed columns' decimals declared."""
    used = set()

    def walk(e):
        if e[0] in ("sum", "avg"):
            used.add((e[1], e[2]))
        for x in e[1:]:
            if isinstance(x, tuple):
                walk(x)
    for _, e in an.outs:
        walk(e)
    head = "".join(f"-- decimals {a}.{c} {d}\n" for (a, c), d in sorted(an.decimals.items())
                   if (a, c) in used and d > 0)
    return head + an.template()


# ---- the analyses ----
attribution = Analysis(
    TABLES, "a",
    [("a", "campaign", None, "campaign"), ("a", "ad_format", None, "ad_format"),
     ("s", "category", None, "category"), ("s", "day", "week", "purchase_week")],
    [("buyers", ("cd",)), ("impressions", ("sum", "a", "impressions")),
     ("spend", ("sum", "a", "spend")), ("purchases", ("count", "s", "pid")),
     ("revenue", ("sum", "s", "amount")),
     ("roas", ("/", ("sum", "s", "amount"), ("nullif", ("sum", "a", "spend"))))],
    DEC, having=3)
monthly = Analysis(
    TABLES, "s",
    [("s", "category", None, "category"), ("s", "day", "month", "month")],
    [("buyers", ("cd",)), ("rows", ("star",)), ("amounts", ("count", "s", "amount")),
     ("avg_amount", ("avg", "s", "amount")), ("avg_spend", ("avg", "a", "spend")),
     ("impressions", ("sum", "a", "impressions"))],
    DEC, having=4)
where = Analysis(
    TABLES, "s",
    [("a", "campaign", None, "campaign"), ("a", "ad_format", None, "ad_format")],
    [("customers", ("cd",)), ("rows", ("star",)), ("revenue", ("sum", "s", "amount")),
     ("margin", ("-", ("sum", "s", "amount"), ("sum", "a", "spend"))),
     ("double_impressions", ("*", ("sum", "a", "impressions"), ("int", 2))),
     ("per_buyer", ("/", ("sum", "s", "amount"), ("cd",)))],
    DEC, having=5,
    where=[("a", "a.ad_format = 'video'", "a.ad_format = :fmt"),
           ("s", "s.day >= '2026-07-06'", "s.day >= DATE '2026-07-06'")],
    params=["fmt string in ('video', 'banner')"])
total = Analysis(TABLES, "a", [],
                 [("buyers", ("cd",)), ("revenue", ("sum", "s", "amount")),
                  ("spend", ("sum", "a", "spend"))], DEC, having=2)
daily = Analysis(
    TABLES, "s",
    [("s", "day", "day", "day"), ("a", "campaign", None, "campaign")],
    [("buyers", ("cd",)), ("rows", ("star",)), ("revenue", ("sum", "s", "amount")),
     ("spend", ("sum", "a", "spend"))],
    DEC, having=2)
impressions_counted = Analysis(
    TABLES, "a",
    [("a", "ad_format", None, "ad_format"), ("s", "category", None, "category")],
    [("buyers", ("cd",)), ("rows", ("star",)),
     ("impression_rows", ("count", "a", "impressions")),
     ("impressions", ("sum", "a", "impressions")),
     ("avg_impressions", ("avg", "a", "impressions"))],
    DEC, having=16)
adhoc = Analysis(
    TABLES, "a",
    [("a", "campaign", None, "campaign"), ("s", "category", None, "category")],
    [("matched", ("cd",)), ("rows", ("star",)), ("sum_spend", ("sum", "a", "spend")),
     ("avg_spend", ("avg", "a", "spend")), ("sum_amount", ("sum", "s", "amount")),
     ("avg_amount", ("avg", "s", "amount"))],
    DEC, having=0)

if sys.argv[1:] == ["--reference"]:  # what SQLite releases, without running overlap
    for name, an, mr in (("attribution", attribution, {}), ("monthly", monthly, {}),
                         ("where", where, {}), ("total", total, {}), ("daily", daily, {}),
                         ("impressions_counted", impressions_counted, {}),
                         ("minrows", attribution, {"s": 6, "a": 2}),
                         ("adhoc", adhoc, {"a": 3, "s": 3})):
        h, rows, sup = Reference(an, PATHS, mr).rows()
        print(f"== {name}: {len(rows)} released, {sup} suppressed\n{template_text(an)}{h}")
        for r in rows:
            print("  ", r)
    sys.exit(0)


def agg(extra):
    return ["--threads", "2", "--timeout", "60", "--wait", "20"] + list(extra)


def dump_sizes(path):
    """The frame sizes and types a --dump-frames file holds."""
    data = open(path, "rb").read() if os.path.exists(path) else b""
    out, i = [], 0
    while i + 5 <= len(data):
        n = struct.unpack(">I", data[i + 1:i + 5])[0]
        out.append((data[i], n))
        i += 5 + n
    return out


def run_template(label, an, receiver, connector="a", params=(), lpol=None, cpol=None,
                 min_rows=None, extra=(), paths=None):
    """Runs `an` as an approved template; `connector` ("a" or "s") connects, the other party
    listens; `receiver` asks with --out (and is the runner). Returns (listener, connector,
    lout, cout). paths: the two tables, PATHS unless given."""
    paths = paths or PATHS
    path, _, _ = wd.approve_template(label + ".sql", template_text(an))
    listener = "s" if connector == "a" else "a"
    lout = wd.p(label + ".listener.csv") if receiver == listener else None
    cout = wd.p(label + ".connector.csv") if receiver == connector else None
    pargs = []
    for p in params:
        pargs += ["--param", p]

    def side(alias, pol, dump):
        a = agg(["--template", path, "--dump-frames", wd.p(f"{label}.{dump}.frames")] + pargs)
        if pol:
            a += ["--policy", pol]
        if min_rows and alias in min_rows:
            a += ["--min-rows", str(min_rows[alias])]
        return a + list(extra)

    lst, con = run_pair(wd, paths[listener], paths[connector], lout, cout,
                        side(listener, lpol, "l"), side(connector, cpol, "c"))
    return lst, con, lout, cout


def both_ok(label, lst, con):
    return t.check(lst.code == 0 and con.code == 0, f"{label}: both parties succeed",
                   f"listener {lst.code}: {lst.stderr.strip()[-600:]} | connector {con.code}: "
                   f"{con.stderr.strip()[-600:]}")


def check_cost_summary(label, rs, hs, released):
    """Both summaries state the plan the sessions ran as SPEC §11's inputs and the
    formula's bytes, which predict both engines' frames (bench.py relies on it)."""
    if not (rs and hs):
        return
    shape = rs.get("plan_shape")
    t.check(shape is not None and shape == hs.get("plan_shape") and
            rs.get("cost_formula_bytes") == hs.get("cost_formula_bytes"),
            f"{label}: both summaries state one plan shape and formula", f"{rs} | {hs}")
    if shape is None:
        return
    runner, contrib = (rs, hs) if rs.get("aggregate_role") == "runner" else (hs, rs)
    t.check(shape["n"] == runner["distinct_local_identifiers"] and
            shape["m"] == contrib["distinct_local_identifiers"] and
            shape["groups_r"] * shape["groups_c"] ==
            rs["groups_released"] + rs["groups_suppressed"] and shape["released"] == released
            and shape["runner_receives"] == (rs is runner),
            f"{label}: the plan shape is the run's sizes, cells and receiver", str(shape))
    frames = rs["protocol_bytes_sent"] + hs["protocol_bytes_sent"]
    ratio = frames / rs["cost_formula_bytes"] if rs.get("cost_formula_bytes") else 0
    t.check(1 / 1.1 <= ratio <= 1.1 and frames <= rs["bytes_sent"] + rs["bytes_received"],
            f"{label}: both engines' frames are within 1.1x of the formula, under the wire's",
            f"frames {frames}, formula {rs.get('cost_formula_bytes')}, ratio {ratio:.3f}")


def check_case(label, an, receiver, connector="a", min_rows=None, want_suppressed=True, **kw):
    ref = Reference(an, kw.get("paths") or PATHS, min_rows or {})
    header, rows, suppressed = ref.rows()
    t.check(ref.sqlite_avg_agrees(), f"{label}: SQLite's own AVG agrees with the exact one")
    lst, con, lout, cout = run_template(label, an, receiver, connector, min_rows=min_rows, **kw)
    if not both_ok(label, lst, con):
        return None
    out = lout or cout
    got = read_csv(out)
    t.check(got[:1] == [header], f"{label}: header", f"{got[:1]} want {[header]}")
    t.check(got[1:] == rows, f"{label}: released rows equal SQLite's",
            "\n got  %s\n want %s" % (got[1:], rows))
    t.check(len(rows) >= 1, f"{label}: the scenario releases rows", str(rows))
    if want_suppressed:
        t.check(suppressed >= 1, f"{label}: the scenario has cells under the threshold",
                str(suppressed))
    recv, helper = (lst, con) if lout else (con, lst)
    rs, hs = recv.summary(), helper.summary()
    other = cout if lout else lout
    t.check(other is None or not os.path.exists(other), f"{label}: the helper writes nothing")
    t.check(rs and hs and rs.get("protocol") == hs.get("protocol") == PROTOCOL,
            f"{label}: both summaries name {PROTOCOL}", f"{rs} | {hs}")
    t.check(rs and rs.get("groups_released") == len(rows) and rs.get("inconsistent") == 0,
            f"{label}: the receiver's summary counts released rows, none inconsistent", str(rs))
    t.check(hs and hs.get("groups_released") == len(rows) and hs.get("inconsistent") is None
            and hs.get("groups_suppressed") is None,
            f"{label}: the helper's summary shows only the released count", str(hs))
    t.check(rs and rs.get("receiver") is True and hs and hs.get("receiver") is False,
            f"{label}: the summaries say who received", f"{rs} | {hs}")
    check_cost_summary(label, rs, hs, len(rows))
    t.check(no_temp_files(wd.path) == [], f"{label}: no temporary files left")
    return lst, con, rows


# ---- 1. the article's shape: both parties' dimensions and sums, the runner receives ----
res = check_case("attribution", attribution, receiver="a")
# Its frame dumps are compared in section 5 with a run on other data of the same sizes.

# ---- 2. the listener receives: months, AVG, COUNT(*), COUNT(col) over NULLs ----
check_case("monthly", monthly, receiver="s", want_suppressed=False)

# ---- 3. the retailer connects and receives; WHERE on both sides, with a parameter ----
check_case("where", where, receiver="s", connector="s", params=["fmt=video"],
           want_suppressed=False)

# ---- 4. no dimensions: one cell ----
check_case("total", total, receiver="a", want_suppressed=False)

# Two more templates against SQLite: DATE_TRUNC('day', ...) (date() there), and COUNT of a
# runner column with NULLs (COUNT(a.impressions) skips them, AVG divides by it).
check_case("daily", daily, receiver="s", connector="a")
check_case("impressions_counted", impressions_counted, receiver="a", connector="s")


# ---- 5. two inputs of equal sizes give the same frame sizes and counts (SPEC §10.1) ----
# The attribution template again, on other identifiers (another domain) with another
# intersection (20 customers instead of 50) and other values, but the same numbers of distinct
# identifiers (90 and 100), of groups (4 and 10) and of rows: every frame either party sends
# has the same type and length in both runs, except RELEASE, whose length is 4 + 8*W*r for the
# r released cells (revealed by design).
RELEASE = 0x33


def shape_of(ads_rows, shop_rows):
    """What the frames may depend on: distinct identifiers, groups and rows per party."""
    def monday(d):
        day = datetime.date.fromisoformat(d)
        return day - datetime.timedelta(days=day.weekday())
    ids_a = {r[0].lower() for r in ads_rows if "@" in r[0]}
    ids_s = {r[0].lower() for r in shop_rows if "@" in r[0]}
    return (len(ids_a), len(ids_s), {(r[1], r[2]) for r in ads_rows if "@" in r[0]},
            {(r[1], monday(r[2])) for r in shop_rows}, len(ads_rows), len(shop_rows)), \
        len(ids_a & ids_s)


ads2, shop2 = make_tables(random.Random(2828), range(90), range(70, 170), "user{}@example.org")
os.makedirs(wd.p("second"), exist_ok=True)  # the same table names (from the file names)
PATHS2 = {"a": wd.write_csv("second/ads.csv", ["email", "campaign", "ad_format", "impressions",
                                               "spend"], ads2),
          "s": wd.write_csv("second/shop.csv", ["email", "category", "day", "amount", "pid"],
                            shop2)}
(shape1, inter1), (shape2, inter2) = shape_of(ads, shop), shape_of(ads2, shop2)
t.check(shape1 == shape2 and inter1 != inter2 and len(shape1[2]) * len(shape1[3]) == 40,
        "frames: the second input has the first's sizes and groups, another intersection",
        f"{shape1[:2]} {inter1} | {shape2[:2]} {inter2}")
res2 = check_case("attribution2", attribution, receiver="a", paths=PATHS2)
if res and res2:
    r1, r2 = len(res[2]), len(res2[2])
    for side in ("l", "c"):
        d1 = dump_sizes(wd.p(f"attribution.{side}.frames"))
        d2 = dump_sizes(wd.p(f"attribution2.{side}.frames"))
        t.check(len(d1) > 5 and [f[0] for f in d1] == [f[0] for f in d2],
                f"frames ({side}): the same frame types in the same order",
                f"{len(d1)} and {len(d2)} frames")
        t.check([f for f in d1 if f[0] != RELEASE] == [f for f in d2 if f[0] != RELEASE],
                f"frames ({side}): every frame but RELEASE has the same length",
                str([(i, a, b) for i, (a, b) in enumerate(zip(d1, d2)) if a != b][:5]))
        rel1 = [n for ty, n in d1 if ty == RELEASE]
        rel2 = [n for ty, n in d2 if ty == RELEASE]
        if side == "l":  # the listener (the retailer) helps: it sends the one RELEASE
            w = (rel1[0] - 4) // (8 * r1) if len(rel1) == 1 and r1 else 0
            t.check(len(rel1) == len(rel2) == 1 and w > 0 and rel1[0] == 4 + 8 * w * r1 and
                    rel2[0] == 4 + 8 * w * r2,
                    f"frames: RELEASE is 4 + 8*W*r bytes (r = {r1} and {r2})",
                    f"{rel1} {rel2}")
        else:
            t.check(rel1 == rel2 == [], "frames: the receiver sends no RELEASE", f"{rel1} {rel2}")

# ---- 6. the ad-hoc command line: group columns of either party, no template ----
ref = Reference(adhoc, PATHS, {"a": 3, "s": 3})
header, rows, _ = ref.rows()
out = wd.p("adhoc.csv")
ADHOC = ["--mode", "aggregate", "--group-by", "campaign,contributor:category",
         "--values", "runner:spend:2,contributor:amount:2", "--min-rows", "3"]
lst, con = run_pair(wd, SHOP, ADS, None, out, agg(ADHOC), agg(ADHOC))
if both_ok("adhoc", lst, con):
    got = read_csv(out)
    t.check(got == [header] + rows, "adhoc: released rows equal SQLite's",
            "\n got  %s\n want %s" % (got, [header] + rows))


# ---- 7. refusals before any data-derived byte ----
def policy(alias, dims, aggs, max_cells=None, peer="bob", receivers=(), min_rows=2):
    table, join = TABLES[alias]
    cols = {"a": ["email", "campaign", "ad_format", "impressions", "spend"],
            "s": ["email", "category", "day", "amount", "pid"]}[alias]
    agg_rule = {"adhoc": True, "functions": ["COUNT", "COUNT_DISTINCT", "SUM", "AVG"],
                "dimensions": dims, "aggregates": aggs, "min_rows": min_rows,
                "receivers": [wd.fingerprint(r) for r in receivers], "allow_cardinality": False}
    if max_cells is not None:
        agg_rule["max_cells"] = max_cells
    return {"version": 1, "table": {"name": table, "columns": cols},
            "join": [{"column": join, "normalize": "email"}],
            "peers": [{"name": peer, "fingerprint": wd.fingerprint(peer)}],
            "list": {"allowed": False, "columns": [], "receivers": []},
            "aggregation": agg_rule, "custom": {"templates": []}}


def write_policy(name, pol, tpl_path=None):
    if tpl_path:
        h = subprocess.run([BIN, "template", "hash", tpl_path], capture_output=True,
                           text=True).stdout.split()[0]
        pol["custom"]["templates"] = [{"name": os.path.basename(tpl_path)[:-4], "sha256": h}]
    return wd.write(name, json.dumps(pol, indent=2))


def refused(label, lst, con, lout, cout, want):
    errs = one_line_error(lst.stderr) + " | " + one_line_error(con.stderr)
    t.check(lst.code == 6 and con.code == 6, f"{label}: both stop with a policy refusal (exit 6)",
            f"{lst.code} {con.code}: {errs}")
    t.check(want in errs, f"{label}: the reason names '{want}'", errs)
    # A failed run keeps no frame dump (written atomically, only at success), so which
    # frames left before the refusal is checked where frames are visible: test_agg2's
    # "refused at HELLO before any data-derived frame" cases.
    for d in (wd.p(label + ".l.frames"), wd.p(label + ".c.frames")):
        t.check(not os.path.exists(d), f"{label}: no frame dump kept for {os.path.basename(d)}")
    t.check(not (lout and os.path.exists(lout)) and not (cout and os.path.exists(cout)),
            f"{label}: no output written")


# The retailer allows 12 cells: its own 10 groups fit, the template's group space does not.
tpl_path = wd.p("attribution.sql")
spol = write_policy("shop.cells.json",
                    policy("s", ["category", "day"], ["amount", "pid"], max_cells=12,
                           receivers=["bob"]), tpl_path)
apol = write_policy("ads.json",
                    policy("a", ["campaign", "ad_format"], ["impressions", "spend"],
                           peer="alice"), tpl_path)
lst, con, lout, cout = run_template("cells", attribution, receiver="a", lpol=spol, cpol=apol)
refused("cells", lst, con, lout, cout, "the group space has 40 cells where the policy allows 12")

# The advertiser's policy does not list spend among its aggregates; it listens (the
# retailer connects), so its refusal reaches the retailer as ABORT.
spol = write_policy("shop.json", policy("s", ["category", "day"], ["amount", "pid"],
                                        peer="alice", receivers=["alice"]), tpl_path)
apol = write_policy("ads.nospend.json",
                    policy("a", ["campaign", "ad_format"], ["impressions"], peer="bob"),
                    tpl_path)
lst, con, lout, cout = run_template("nocol", attribution, receiver="a", connector="s",
                                    lpol=apol, cpol=spol)
refused("nocol", lst, con, lout, cout, "spend")
spol = write_policy("shop.json", policy("s", ["category", "day"], ["amount", "pid"],
                                        receivers=["bob"]), tpl_path)

# The same policies allow the template when every column is listed: it runs.
apol = write_policy("ads.ok.json", policy("a", ["campaign", "ad_format"],
                                          ["impressions", "spend"], peer="alice"), tpl_path)
ref = Reference(attribution, PATHS, {"a": 2, "s": 2})
header, rows, _ = ref.rows()
lst, con, lout, cout = run_template("policies", attribution, receiver="a", lpol=spol, cpol=apol)
if both_ok("policies", lst, con):
    t.check(read_csv(cout) == [header] + rows, "policies: released rows equal SQLite's")

# An owner's min_rows above HAVING raises the threshold for every cell (T = 6 here).
spol6 = write_policy("shop.min6.json", policy("s", ["category", "day"], ["amount", "pid"],
                                              receivers=["bob"], min_rows=6), tpl_path)
check_case("minrows", attribution, receiver="a", min_rows={"s": 6, "a": 2}, lpol=spol6,
           cpol=apol)
# An owner's explicit --min-rows above the agreement's threshold (policies at 2) raises it too:
# a negotiated template never runs below what an owner asked for (T = 6 here).
check_case("minrows-flag", attribution, receiver="a", min_rows={"s": 6, "a": 2}, lpol=spol,
           cpol=apol)


# ---- 8. local refusals, before the peer is contacted: one line, exit 3 ----
def alone(label, table, args):
    """A listener that must stop before listening: its table does not fit."""
    r = subprocess.run([BIN, "run", "--listen", "127.0.0.1:0", "--identity", wd.p("alice.key"),
                        "--peer", wd.p("bob.pub"), "--table", table, "--join", "email",
                        "--normalize", "email"] + agg(args),
                       capture_output=True, text=True, timeout=60)
    err = one_line_error(r.stderr)
    t.check(r.returncode == 3 and "listening" not in r.stderr,
            f"{label}: refused before listening (exit 3)", f"{r.returncode}: {r.stderr.strip()}")
    return err


COLS = ["--mode", "aggregate", "--group-by", "contributor:category",
        "--values", "contributor:amount:2"]
bad = wd.write_csv("bad.csv", ["email", "category", "amount"],
                   [["a@x.org", "toys", "1.50"], ["b@x.org", "toys", "12,5"]])
err = alone("not a number", bad, COLS)
t.check("bad.csv:3" in err and "amount" in err and "12,5" not in err,
        "not a number: names file:line and column, never the value", err)
many = wd.write_csv("many.csv", ["email", "category", "amount"], [["a@x.org", "toys", "1.234"]])
err = alone("decimals", many, COLS)
t.check("many.csv:2" in err, "more decimals than declared: names file:line", err)
rows = wd.write_csv("rows.csv", ["email", "category", "amount"],
                    [["a@x.org", "toys", str(k)] for k in range(8)])
err = alone("rows per identifier", rows, COLS)
t.check("max_rows_per_identifier = 7" in err and "a@x.org" not in err,
        "eight rows of one identifier in one group: refused, naming no identifier", err)
huge = wd.write_csv("huge.csv", ["email", "category", "amount"],
                    [["a@x.org", "toys", "6000000000.00"]])
err = alone("value bits", huge, COLS)
t.check("amount" in err and "6000000000" not in err,
        "a sum beyond value_bits (40): refused naming the column, not the value", err)
week = wd.write_csv("week.csv", ["email", "day", "amount"], [["a@x.org", "07/01/2026", "1"]])
err = alone("not a date", week, ["--mode", "aggregate", "--group-by", "week(contributor:day)"])
t.check("week.csv:2" in err and "day" in err and "07/01" not in err,
        "DATE_TRUNC of a value that is not a date: names file:line and column", err)

# SPEC §5.1: totals that a peer's widest count (2^16 - 1 rows per identifier) could carry past
# the signed 64-bit range are refused by the owner before it listens or connects, naming its
# table and the column (300 sums of 5 * 10^11 units each fit value_bits 40, their total does
# not): never reported as the peer's doing, never a value.
totals = wd.write_csv("totals.csv", ["email", "category", "amount"],
                      [[f"u{k}@x.org", "toys", "5000000000.00"] for k in range(300)])
err = alone("totals (contributor, listening)", totals, COLS)
t.check("totals.csv" in err and "'amount'" in err and "64-bit" in err and "error: peer" not in err
        and "5000000000" not in err,
        "totals (contributor): names the table and the column, not the peer or a value", err)


def connecting(table, args):
    """A connector to a port nobody listens on: any attempt to connect ends in a connection
    error (exit 4) within a second."""
    return subprocess.run([BIN, "run", "--connect", f"127.0.0.1:{free_port()}",
                           "--identity", wd.p("bob.key"), "--peer", wd.p("alice.pub"),
                           "--table", table, "--join", "email", "--normalize", "email",
                           "--threads", "2", "--timeout", "60", "--wait", "1"] + list(args),
                          capture_output=True, text=True, timeout=60)


def alone_connecting(label, table, args):
    """A connector that must stop before connecting."""
    r = connecting(table, args)
    err = one_line_error(r.stderr)
    t.check(r.returncode == 3 and "connect" not in r.stderr,
            f"{label}: refused before connecting (exit 3)", f"{r.returncode}: {r.stderr.strip()}")
    return err


out = wd.p("totals.out.csv")
err = alone_connecting("totals (runner, connecting)", totals,
                       ["--mode", "aggregate", "--group-by", "runner:category", "--values",
                        "runner:amount:2", "--out", out])
t.check("totals.csv" in err and "'amount'" in err and "error: peer" not in err
        and not os.path.exists(out),
        "totals (runner): names the table and the column, writes nothing", err)
# The same table without the sum is no refusal: the connector goes on to its connection.
r = connecting(totals, ["--mode", "aggregate", "--group-by", "runner:category", "--out", out])
t.check(r.returncode == 4, "totals: a table that fits goes on to connect (exit 4 here)",
        f"{r.returncode}: {r.stderr.strip()}")

# A served table is prepared once the peer's request names the analysis: its owner's log
# names the table and the column (never "peer ..."), and the asking party reads an ABORT
# saying the served table cannot provide it (neither the check nor the data), not a bare close.
tpol = policy("s", ["category"], ["amount"], receivers=["bob"])
tpol["table"] = {"name": "totals", "columns": ["email", "category", "amount"]}
srv = Serve(wd, ["--identity", wd.p("alice.key"), "--table", totals,
                 "--policy", write_policy("totals.json", tpol), "--audit", wd.p("totals.audit"),
                 "--new-audit-log", "--timeout", "20"])
if t.check(srv.port is not None, "totals (served): serve starts", srv.log()):
    r = subprocess.run([BIN, "run", "--connect", f"127.0.0.1:{srv.port}",
                        "--identity", wd.p("bob.key"), "--peer", wd.p("alice.pub"),
                        "--table", SHOP, "--join", "email", "--normalize", "email", "--negotiate",
                        "--out", out] + agg(COLS), capture_output=True, text=True, timeout=60)
    err = one_line_error(r.stderr)
    t.check(r.returncode != 0 and "peer aborted: the served table cannot provide this analysis"
            in err and "amount" not in err and not os.path.exists(out),
            "totals (served): the asking party reads the served table's ABORT, nothing else",
            f"{r.returncode}: {err}")
srv.stop()
log = srv.log()
t.check("totals.csv: aggregate: column 'amount'" in log and "peer 127" not in log,
        "totals (served): the owner's log names its table and the column", log[-600:])
r = subprocess.run([BIN, "audit", "verify", wd.p("totals.audit")], capture_output=True, text=True)
lines = open(wd.p("totals.audit")).read().splitlines() if os.path.exists(wd.p("totals.audit")) else []
t.check(r.returncode == 0 and lines and json.loads(lines[-1])["outcome"] == "failed"
        and "inconsistent" not in lines[-1],
        "totals (served): the audit log verifies; the failed session's entry has no "
        "inconsistent count", r.stdout + r.stderr + (lines[-1] if lines else ""))

wd.cleanup()
t.finish()
