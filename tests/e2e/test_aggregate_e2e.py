"""End-to-end aggregates (protocols/aggregate/SPEC.md): a runner and a
contributor over loopback TLS, checked against COUNT/SUM/AVG by group computed
here from the plaintext tables."""
import os
import random
import struct
import sys
from decimal import ROUND_HALF_EVEN, Decimal

sys.path.insert(0, os.path.dirname(__file__))
from e2e import Checks, Workdir, norm_email, no_temp_files, one_line_error, read_csv, run_pair

t = Checks("e2e/aggregate")
wd = Workdir()
rng = random.Random(4242)
AVG_EXTRA = 4


def reference(rrows, gcols, crows, vcols, threshold):
    """{group tuple: (matched, rows, [sums], [avgs])} for released groups, and
    the suppressed groups' sums. vcols: [(index in crows, decimals)]."""
    contrib = {}
    for r in crows:
        e = norm_email(r[0])
        if e is None:
            continue
        contrib.setdefault(e, []).append([Decimal(r[i].strip()) for i, _ in vcols])
    groups = {}
    for r in rrows:
        e = norm_email(r[0])
        if e is None:
            continue
        groups.setdefault(tuple(r[i] for i in gcols), set()).add(e)
    released, suppressed = {}, {}
    for g, members in groups.items():
        hit = [e for e in members if e in contrib]
        rows = sum(len(contrib[e]) for e in hit)
        sums = [sum((v[k] for e in hit for v in contrib[e]), Decimal(0)) for k in range(len(vcols))]
        if len(hit) >= threshold:
            avgs = [(s / rows).quantize(Decimal(1).scaleb(-(d + AVG_EXTRA)), rounding=ROUND_HALF_EVEN)
                    for s, (_, d) in zip(sums, vcols)]
            released[g] = (len(hit), rows, sums, avgs)
        else:
            suppressed[g] = (len(hit), rows, sums)
    return released, suppressed


def fmt(v, d):
    return f"{v:.{d}f}"


def check_output(label, out, gnames, vnames, vcols, released):
    rows = read_csv(out)
    header = list(gnames) + ["matched", "rows"]
    for n in vnames:
        header += [f"sum_{n}", f"avg_{n}"]
    t.check(rows and rows[0] == header, f"{label}: header", str(rows[:1]))
    body = rows[1:]
    keys = [tuple(r[:len(gnames)]) for r in body]
    t.check(keys == sorted(released.keys(), key=lambda k: [x.encode() for x in k]),
            f"{label}: exactly the released groups, sorted", f"{keys} vs {sorted(released)}")
    for r in body:
        g = tuple(r[:len(gnames)])
        if g not in released:
            continue
        m, n, sums, avgs = released[g]
        want = [str(m), str(n)]
        for s, a, (_, d) in zip(sums, avgs, vcols):
            want += [fmt(s, d), fmt(a, d + AVG_EXTRA)]
        t.check(r[len(gnames):] == want, f"{label}: group {g}", f"{r} want {want}")


def both_ok(label, lst, con):
    return t.check(lst.code == 0 and con.code == 0, f"{label}: both parties succeed",
                   f"listener {lst.code}: {lst.stderr.strip()[-500:]} | connector {con.code}: "
                   f"{con.stderr.strip()[-500:]}")


def agg(extra):
    return ["--mode", "aggregate", "--threads", "2"] + list(extra)


# ---- tables ----
campaigns = ["c1", "c2", "c3", "c4"]
formats = ["video", "banner"]
rrows = []
for i in range(160):
    e = f"user{i}@example.com"
    c = campaigns[0] if i < 40 else campaigns[1] if i < 100 else campaigns[2] if i < 110 else campaigns[3]
    rrows.append([e if i % 3 else e.upper(), c, formats[i % 2]])
    if i % 7 == 0:  # a second impression, same group: counted once
        rrows.append([e, c, formats[i % 2]])
rrows.append(["", "c1", "video"])  # invalid join value: skipped
crows = []
for i in range(20, 150, 2):
    for k in range(1 + i % 3):  # several rows per identifier
        amount = Decimal(rng.randrange(-5000, 90000)) / 100
        crows.append([f"user{i}@example.com", f"{amount:.2f}" if k % 2 == 0 else f"{amount}",
                      str(rng.randrange(-3, 9))])
crows.append(["user777@example.com", "1.5", "2"])
rpath = wd.write_csv("impressions.csv", ["email", "campaign_id", "ad_format"], rrows)
cpath = wd.write_csv("purchases.csv", ["email", "purchase_amount", "item_count"], crows)
VCOLS = [(1, 2), (2, 0)]

# ---- several groups, some below the threshold, one exactly at it ----
released, suppressed = reference(rrows, [1, 2], crows, VCOLS, 5)
sizes = sorted(v[0] for v in released.values()) + sorted(v[0] for v in suppressed.values())
out = wd.p("groups.csv")
cdump = wd.p("contrib.frames")
lst, con = run_pair(wd, cpath, rpath, wd.p("never.csv"), out,
                    agg(["--values", "purchase_amount:2,item_count", "--min-rows", "3",
                         "--dump-frames", cdump]),
                    agg(["--group-by", "campaign_id,ad_format", "--min-rows", "5"]))
if both_ok("groups", lst, con):
    check_output("groups", out, ["campaign_id", "ad_format"], ["purchase_amount", "item_count"],
                 VCOLS, released)
    t.check(len(released) >= 2 and len(suppressed) >= 2, "groups: scenario has both kinds",
            f"{len(released)} released, {len(suppressed)} suppressed")
    t.check(any(v[0] == 5 for v in released.values()), "groups: a group exactly at the threshold",
            str(sizes))
    t.check(not os.path.exists(wd.p("never.csv")), "groups: the contributor writes nothing")
    t.check("receives no output" in lst.stderr, "groups: the contributor says it gets nothing")
    s_run, s_con = con.summary(), lst.summary()
    t.check(s_run and s_run["groups_released"] == len(released)
            and s_run["groups_suppressed"] == len(suppressed) and s_run["min_rows"] == 5,
            "groups: runner summary counts", str(s_run))
    t.check(s_con and s_con["groups_released"] is None and s_con["min_rows"] == 5,
            "groups: contributor summary has no group counts", str(s_con))
    t.check(s_run and s_con and s_run.get("protocol") == s_con.get("protocol") == "aggregate/1",
            "groups: both summaries name the protocol aggregate/1", f"{s_run} {s_con}")
    # A suppressed group's sums appear nowhere.
    frames = open(cdump, "rb").read()
    texts = open(out).read() + lst.stderr + con.stderr + lst.stdout + con.stdout
    leaks = []
    for g, (_, _, sums) in suppressed.items():
        for s, (_, d) in zip(sums, VCOLS):
            if s == 0:
                continue
            scaled = int(s.scaleb(d))
            for needle in {fmt(s, d), str(scaled)}:
                if needle in texts:
                    leaks.append(f"{g}: text {needle}")
                if needle.encode() in frames:
                    leaks.append(f"{g}: frames text {needle}")
            if struct.pack(">q", scaled) in frames:
                leaks.append(f"{g}: frames int64 {scaled}")
    t.check(len(frames) > 10000, "groups: contributor frames captured", str(len(frames)))
    t.check(not leaks, "groups: no suppressed sum in output, logs, summary or frames", str(leaks))
    t.check(no_temp_files(wd.path) == [], "groups: no temporary files left")

# ---- no groups, runner listens ----
released, _ = reference(rrows, [], crows, VCOLS[:1], 2)
out = wd.p("nogroups.csv")
lst, con = run_pair(wd, rpath, cpath, out, None,
                    agg(["--min-rows", "2"]), agg(["--values", "purchase_amount:2", "--min-rows", "2"]))
if both_ok("no groups", lst, con):
    check_output("no groups", out, [], ["purchase_amount"], VCOLS[:1], released)

# ---- negative values and decimals, threshold from the contributor ----
neg = [[f"user{i}@example.com", f"-{i}.{i % 10}{(i * 7) % 10}{(i * 3) % 10}", str(-i)]
       for i in range(0, 60)]
npath = wd.write_csv("neg.csv", ["email", "v", "w"], neg)
vc = [(1, 3), (2, 0)]
released, suppressed = reference(rrows, [1], neg, vc, 25)
out = wd.p("neg.csv.out")
lst, con = run_pair(wd, npath, rpath, None, out,
                    agg(["--values", "v:3,w", "--min-rows", "25"]),
                    agg(["--group-by", "campaign_id", "--min-rows", "2"]))
if both_ok("negative", lst, con):
    check_output("negative", out, ["campaign_id"], ["v", "w"], vc, released)
    t.check(len(suppressed) >= 1 and len(released) >= 1, "negative: max threshold applies",
            f"{released.keys()} {suppressed.keys()}")

# ---- empty intersection ----
other = wd.write_csv("other.csv", ["email", "amount"], [[f"x{i}@elsewhere.org", "1"] for i in range(30)])
out = wd.p("empty.out")
lst, con = run_pair(wd, rpath, other, out, None, agg(["--group-by", "campaign_id", "--min-rows", "2"]),
                    agg(["--values", "amount", "--min-rows", "2"]))
if both_ok("empty", lst, con):
    t.check(read_csv(out) == [["campaign_id", "matched", "rows", "sum_amount", "avg_amount"]],
            "empty: only the header", str(read_csv(out)))
    t.check(lst.summary()["groups_released"] == 0, "empty: nothing released", str(lst.summary()))


# ---- analyses that do not fit stop at setup ----
def setup_stop(label, lextra, cextra, ltable=cpath, ctable=rpath, want="", **kw):
    ldump, cdump = wd.p(label + ".l.frames"), wd.p(label + ".c.frames")
    lout, cout = wd.p(label + ".l.out"), wd.p(label + ".c.out")
    lst, con = run_pair(wd, ltable, ctable, lout, cout, agg(list(lextra) + ["--dump-frames", ldump]),
                        agg(list(cextra) + ["--dump-frames", cdump]), **kw)
    t.check(lst.code == 6 and con.code == 6, f"{label}: both stop with a policy refusal",
            f"{lst.code} {one_line_error(lst.stderr)} | {con.code} {one_line_error(con.stderr)}")
    t.check(want in one_line_error(lst.stderr) + one_line_error(con.stderr), f"{label}: reason",
            one_line_error(lst.stderr) + " | " + one_line_error(con.stderr))
    # --dump-frames is an output like --out: a run stopped at setup leaves none.
    t.check(not os.path.exists(ldump) and not os.path.exists(cdump),
            f"{label}: no frame dump left by the stopped run")
    t.check(not os.path.exists(lout) and not os.path.exists(cout), f"{label}: no output written")


setup_stop("both-values", ["--values", "purchase_amount:2"], ["--values", "purchase_amount:2"],
           ctable=cpath, want="--values")
setup_stop("no-values", ["--group-by", "campaign_id"], [], ltable=rpath, want="--values")
setup_stop("bits", ["--values", "purchase_amount:2", "--paillier-bits", "3072"],
           ["--group-by", "campaign_id"],
           want="--paillier-bits mismatch: the runner states 2048, the contributor 3072")
setup_stop("normalize", ["--values", "purchase_amount:2"], ["--group-by", "campaign_id"],
           want="normalize", ckw={"normalize": "none"})

# ---- local refusals ----
bad = wd.write_csv("bad.csv", ["email", "amount"], [["a@x.org", "1.50"], ["b@x.org", "12,5"]])
lst, con = run_pair(wd, bad, rpath, None, wd.p("bad.out"), agg(["--values", "amount:2"]),
                    agg(["--group-by", "campaign_id"]))
err = one_line_error(lst.stderr)
t.check(lst.code == 3 and "bad.csv:3" in err and "amount" in err and "12,5" not in err,
        "non-numeric value: one-line error naming file:line and column", err)
toomany = wd.write_csv("toomany.csv", ["email", "amount"], [["a@x.org", "1.234"]])
lst, _ = run_pair(wd, toomany, rpath, None, None, agg(["--values", "amount:2"]), agg([]))
t.check(lst.code == 3 and "toomany.csv:2" in one_line_error(lst.stderr), "more decimals than declared",
        one_line_error(lst.stderr))
huge = wd.write_csv("huge.csv", ["email", "amount"],
                    [["a@x.org", "3000000000000000000"], ["b@x.org", "-2000000000000000000"]])
lst, _ = run_pair(wd, huge, rpath, None, None, agg(["--values", "amount"]), agg([]))
t.check(lst.code == 5 and "refusing" in one_line_error(lst.stderr) and "amount" in one_line_error(lst.stderr),
        "sum bound exceeded: clear refusal", one_line_error(lst.stderr))
# An identifier in two groups would tell the runner which identifiers matched
# (SPEC.md §7): the runner refuses before connecting, naming no identifier.
overlap_rows = rrows + [[f"user{i}@example.com", "c2", formats[i % 2]] for i in range(0, 40, 5)]
opath = wd.write_csv("overlap.csv", ["email", "campaign_id", "ad_format"], overlap_rows)
lst, _ = run_pair(wd, opath, cpath, wd.p("overlap.out"), None, agg(["--group-by", "campaign_id"]),
                  agg(["--values", "purchase_amount:2"]))
err = one_line_error(lst.stderr)
t.check(lst.code == 3 and "more than one group" in err and "@" not in err,
        "overlapping groups: the runner refuses with a one-line error", f"{lst.code} {err}")
t.check(not os.path.exists(wd.p("overlap.out")), "overlapping groups: no output written")
lst, _ = run_pair(wd, cpath, rpath, None, None, agg(["--values", "purchase_amount", "--reveal", "both"]),
                  agg([]))
t.check(lst.code == 2, "--reveal is refused with --mode aggregate", one_line_error(lst.stderr))

wd.cleanup()
t.finish()
