#!/usr/bin/env python3
"""overlap's benchmark (`make bench`, `make bench-compare`, `make bench-large`).

In one run on this machine:
1. calibrates the single-core cost of the group operations the PSI engine
   performs (build/rel/bench/calibrate: hash-to-group with the PSI DST, the
   engine's scalar multiplication, point validation);
2. runs real two-party PSI: two ./overlap processes over loopback TLS, from
   CSV files to output files, for each size n (rows per party, 50 % overlap),
   and checks each output against the known intersection;
3. reports wall and CPU seconds and peak RSS of each party (wait4 rusage),
   wire bytes per element (from --summary json), and
   ratio = wall / bound, bound = (every hash-to-group and scalar
   multiplication of both parties x its calibrated single-core cost) / cores;
4. prints a table, writes JSON (build/bench/results.json or --json) and
   updates this run's section of BENCHMARKS.md.

The aggregate scenario (protocols/aggregate/SPEC.md; also alone with
--aggregate-only) runs the attribution template (advertiser: campaign x ad
format, impressions and spend; retailer: category x purchase week, purchase
count, revenue and its average; about 32 cells, six aggregates, ROAS) at
--agg-sizes, 1-4 rows per identifier and 50 % overlap, checks the advertiser's
released rows against Python, and reports its wall time against ECDH-PSI on
the same identifier sets in the same run, bytes per runner identifier and peak
RSS; then, at 2^--agg-cost-size, the bytes of 8-, 64- and 512-cell runs against
the SPEC's cost formula for the plan each session ran (its --summary json gives
plan_shape and cost_formula_bytes; build/rel/bench/agg2_cost gives the parts).
With --aggregate-only and --agg-sizes '', only the formula comparison runs.

The OT scenario (src/mpc/SPEC.md §4; with --section bench) runs
build/rel/bench/ot_bench: random correlated OTs per second on one core with both
parties in one thread, as a ratio to the pipelined AES-128 block time it
calibrates in the same run (target: at least 20 M COT/s).

The garbled-circuit scenario (tests/bench/bench_gc.py; with --gc, also alone
with --gc-only) runs bristol2pc on the Bristol AES-128 circuit: AND gates per
second over loopback TLS against 1/(40 t_AES), bytes per AND gate and the
latency of one AES-128 evaluation, t_AES calibrated in the same run.

The table-source scenario (also alone with --sources-only) loads 2^20 rows
(--source-size) of (email, amount) the way a run does (build/rel/bench/
load_bench: every identifier, the amounts summed per identifier) from a CSV
file, from a SQLite file and from PostgreSQL over a local Unix socket (a
private server started for the run, tests/e2e/pgserver.py), three times each,
and reports the median load time and the peak RSS of each against the CSV's.

--compare adds OpenMined PSI (@openmined/psi.js from npm, installed into
build/bench-compare/node_modules) on the same sizes, as far as 20 minutes go.
"""
import argparse
import datetime
import json
import os
import platform
import re
import socket
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CLK_TCK = os.sysconf("SC_CLK_TCK")
MIB = 1 << 20


def sh(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def machine():
    cpu = "unknown"
    r = sh(["lscpu"])
    for line in r.stdout.splitlines():
        if line.startswith("Model name:"):
            cpu = line.split(":", 1)[1].strip()
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) * 1024
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_bytes": mem,
            "kernel": platform.release()}


def commit():
    r = sh(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT)
    c = r.stdout.strip() or "unknown"
    d = sh(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT)
    return c + ("+dirty" if d.stdout.strip() else "")


def busy_jiffies():
    """Busy and steal time of the whole machine, in seconds."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = v[:8]
    return (user + nice + system + irq + softirq) / CLK_TCK, steal / CLK_TCK


def calibrate(tool, seconds):
    r = sh([tool, "--seconds", str(seconds), "--threads", str(os.cpu_count())])
    if r.returncode != 0:
        sys.exit("bench: calibration failed: " + r.stderr.strip())
    return json.loads(r.stdout)


def mean_calibration(before, after):
    cal = {"suite": before["suite"], "threads": before["threads"], "before": before,
           "after": after}
    for k in ("hash_to_group_us", "scalar_mult_us", "validate_us", "tag_us",
              "parallel_mults_per_s", "single_mults_per_s") + BATCH_CAL:
        if k in before:
            cal[k] = (before[k] + after[k]) / 2
    if "element_us_batch" in cal:
        cal["arith"] = before.get("arith", "?")
        cal["element_speedup"] = cal["element_us_libsodium"] / cal["element_us_batch"]
    return cal


# The engine's batch calls on the arithmetic in use (AVX-512 IFMA where the CPU has
# it), and the per-element cost (hash to the group + 2 multiplications, each with
# validation and encoding) of libsodium and of the batch path, in the same run.
BATCH_CAL = ("batch_hash_to_group_us", "batch_scalar_mult_us", "element_us_libsodium",
             "element_us_batch")


def email(i):
    return "u%x@example.com" % i


def write_table(path, lo, hi):
    """Rows lo..hi-1; the second column makes each output row checkable."""
    if os.path.exists(path):
        return
    tmp = path + ".part"
    with open(tmp, "w") as f:
        f.write("email,segment\n")
        step = 1 << 16
        for a in range(lo, hi, step):
            f.write("".join("%s,s%d\n" % (email(i), i % 97) for i in range(a, min(hi, a + step))))
    os.replace(tmp, path)


def check_output(path, n):
    """The listener's rows are 0..n-1, the connector's n/2..3n/2-1: each party
    must output exactly rows n/2..n-1 of its own table, each once."""
    want = n - n // 2
    seen = bytearray(n)
    count = 0
    with open(path) as f:
        if f.readline().strip() != "email,segment":
            return False, "bad header"
        for line in f:
            m = re.fullmatch(r"u([0-9a-f]+)@example\.com,s(\d+)\n", line)
            if not m:
                return False, "unexpected row"
            i = int(m.group(1), 16)
            if not n // 2 <= i < n or seen[i] or int(m.group(2)) != i % 97:
                return False, "row %d not in the intersection or repeated" % i
            seen[i] = 1
            count += 1
    if count != want:
        return False, "%d rows instead of %d" % (count, want)
    return True, ""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def launch(binary, args, stdout, stderr, profile=None):
    wrap = ["perf", "record", "-q", "-F", "499", "-g", "-o", profile, "--"] if profile else []
    return subprocess.Popen(wrap + [binary, "run"] + args, stdout=stdout, stderr=stderr)


def wait_both(procs, deadline):
    """wait4 on each child: (exit status, rusage, exit time) by pid."""
    res = {}
    while len(res) < len(procs):
        pid, status, ru = os.wait4(-1, 0)
        if pid in [p.pid for p in procs]:
            res[pid] = (os.waitstatus_to_exitcode(status), ru, time.monotonic())
            for p in procs:
                if p.pid == pid:
                    p.returncode = res[pid][0]
        if time.monotonic() > deadline:
            break
    return res


def run_pair(args, work, n, threads):
    lt = os.path.join(work, "listener-%d.csv" % n)
    ct = os.path.join(work, "connector-%d.csv" % n)
    write_table(lt, 0, n)
    write_table(ct, n // 2, n + n // 2)
    outs = [os.path.join(work, "out-%s-%d.csv" % (r, n)) for r in ("listener", "connector")]
    for o in outs:
        if os.path.exists(o):
            os.remove(o)
    port = free_port()
    common = ["--join", "email", "--normalize", "email", "--summary", "json", "--quiet",
              "--timeout", "600"]
    if threads:
        common += ["--threads", str(threads)]
    largs = ["--listen", "127.0.0.1:%d" % port, "--identity", os.path.join(work, "alice.key"),
             "--peer", os.path.join(work, "bob.pub"), "--table", lt, "--out", outs[0]] + common
    cargs = ["--wait", "300", "--connect", "127.0.0.1:%d" % port,
             "--identity", os.path.join(work, "bob.key"),
             "--peer", os.path.join(work, "alice.pub"), "--table", ct, "--out", outs[1]] + common
    files = [open(os.path.join(work, "%s-%d.%s" % (r, n, s)), "w+")
             for r in ("listener", "connector") for s in ("json", "err")]
    busy0, steal0 = busy_jiffies()
    t0 = time.monotonic()
    prof = [os.path.join(args.profile, "perf-%s-%d.data" % (r, n)) if args.profile else None
            for r in ("listener", "connector")]
    procs = [launch(args.bin, largs, files[0], files[1], prof[0]),
             launch(args.bin, cargs, files[2], files[3], prof[1])]
    res = wait_both(procs, t0 + args.timeout)
    wall = time.monotonic() - t0
    busy1, steal1 = busy_jiffies()
    parties = []
    ok = True
    problems = []
    for k, (p, role) in enumerate(zip(procs, ("listener", "connector"))):
        code, ru, _ = res.get(p.pid, (None, None, None))
        files[2 * k].seek(0)
        files[2 * k + 1].seek(0)
        out, err = files[2 * k].read(), files[2 * k + 1].read()
        summary = None
        for line in out.splitlines():
            if line.startswith("{"):
                summary = json.loads(line)
        if code != 0 or summary is None:
            ok = False
            problems.append("%s exited %s: %s" % (role, code, err.strip()[-300:]))
            parties.append({"role": role, "exit": code})
            continue
        good, why = check_output(outs[k], n)
        if not good or summary.get("intersection_size") != n - n // 2:
            ok = False
            problems.append("%s output wrong: %s" % (role, why or "intersection_size"))
        parties.append({
            "role": role,
            "exit": code,
            "cpu_s": ru.ru_utime + ru.ru_stime,
            "user_s": ru.ru_utime,
            "sys_s": ru.ru_stime,
            "peak_rss_bytes": ru.ru_maxrss * 1024,
            "voluntary_switches": ru.ru_nvcsw,
            "involuntary_switches": ru.ru_nivcsw,
            "bytes_sent": summary["bytes_sent"],
            "tag_bytes": summary["tag_bytes"],
            "seconds_reported": summary["seconds"],
            "correct": good,
        })
    for f in files:
        f.close()
    ours = sum(p.get("cpu_s", 0) for p in parties)
    return {
        "ok": ok,
        "problems": problems,
        "wall_s": wall,
        "parties": parties,
        "machine_busy_s": busy1 - busy0,
        "foreign_cpu_s": max(0.0, (busy1 - busy0) - ours),
        "steal_s": steal1 - steal0,
    }


def evaluate(run, cal, n, cores):
    m = n
    h2g = 2 * n  # each party hashes its own set
    mults = 2 * (n + m)  # each blinds its own set and re-blinds the peer's
    bound = (h2g * cal["hash_to_group_us"] + mults * cal["scalar_mult_us"]) / 1e6 / cores
    run["n"] = n
    run["ops"] = {"hash_to_group": h2g, "scalar_mult": mults}
    run["bound_s"] = bound
    run["ratio"] = run["wall_s"] / bound
    # CPU time other processes took from the cores during the run, as if it
    # had been added to the bound: tells a busy machine from a slow engine.
    run["ratio_other_load_excluded"] = run["wall_s"] / (bound + run["foreign_cpu_s"] / cores)
    run["calibration"] = cal
    for p in run["parties"]:
        if "bytes_sent" not in p:
            continue
        ell = p["tag_bytes"]
        p["bytes_per_element"] = p["bytes_sent"] / n
        p["wire_budget_per_element"] = 32 + ell * m / n
        p["rss_budget_bytes"] = 256 * n + 64 * MIB
        p["rss_ok"] = p["peak_rss_bytes"] <= p["rss_budget_bytes"]
    return run


# ---- aggregate scenario, version 2 (protocols/aggregate/SPEC.md) ----
# The attribution template: the advertiser (runner, connector, receiver) groups by
# campaign and ad format and sums impressions and spend; the retailer groups by product
# category and purchase week and contributes COUNT(purchase id), SUM and AVG of the amount.
# 1-4 rows per identifier, 50 % overlap.

AGG_HAVING = 10
AGG_FORMATS = ("video", "banner")
AGG_CATEGORIES = ("toys", "garden", "books", "tools")
AGG_WEEK0 = 20276  # 2025-07-07, a Monday, in days since 1970-01-01
AGG_TEMPLATE = """-- decimals c.spend 2
-- decimals p.amount 2
SELECT c.campaign, c.ad_format, p.category,
       DATE_TRUNC('week', p.day) AS week,
       COUNT(DISTINCT c.email) AS buyers,
       SUM(c.impressions) AS impressions,
       SUM(c.spend) AS spend,
       COUNT(p.pid) AS purchases,
       SUM(p.amount) AS revenue,
       AVG(p.amount) AS avg_amount,
       SUM(p.amount) / NULLIF(SUM(c.spend), 0) AS roas
FROM ads AS c INNER JOIN shop AS p ON c.email = p.email
GROUP BY c.campaign, c.ad_format, p.category, DATE_TRUNC('week', p.day)
HAVING COUNT(DISTINCT c.email) >= %d;
""" % AGG_HAVING
# The plan's public shape (SPEC §2: groups, words, COUNT(*), widths, released cells) is
# not restated here: each run's --summary json reports the one its session built
# (plan_shape) and the SPEC §11 formula's bytes for it (cost_formula_bytes).
# The tables' file names carry the generators' version, so that a work directory
# kept from an older generator is not reused.
AGG_DATA = "agg2d2"


def agg_shape(cells):
    """(campaigns, categories, weeks) with 2 ad formats: G_R = 2 * campaigns,
    G_C = categories * weeks, G_R * G_C = cells."""
    return {8: (2, 2, 1), 32: (4, 2, 2), 64: (4, 4, 2), 512: (16, 4, 4)}[cells]


def agg_runner_rows(i, campaigns):
    # The format follows i // campaigns, not i: with (i + k) % 2 the campaign's
    # parity fixed the format, and only half the 2 x campaigns groups existed.
    for k in range(1 + i % 4):
        yield ("C%d" % ((i * 31 + k * 7) % campaigns), AGG_FORMATS[(i // campaigns + k) % 2],
               (i * 13 + k) % 50 + 1, (i * 7919 + k * 104729) % 20000 - 1000)


def agg_contrib_rows(i, categories, weeks):
    for k in range(1 + (i // 3) % 4):
        day = AGG_WEEK0 + (i * 17 + k * 5) % (7 * weeks)
        amount = None if (i + k) % 23 == 0 else (i * 104723 + k * 7907) % 30000 - 2500
        pid = None if (i + k) % 17 == 0 else "P%x-%d" % (i, k)
        yield AGG_CATEGORIES[(i + k) % categories], day, amount, pid


def agg_day(days):
    return datetime.date.fromordinal(datetime.date(1970, 1, 1).toordinal() + days).isoformat()


def write_agg_tables(work, n, cells):
    camps, cats, weeks = agg_shape(cells)
    rt = os.path.join(work, "%s-ads-%d-%d.csv" % (AGG_DATA, n, cells))
    ct = os.path.join(work, "%s-shop-%d-%d.csv" % (AGG_DATA, n, cells))
    step = 1 << 15
    if not os.path.exists(rt):
        with open(rt + ".part", "w") as f:
            f.write("email,campaign,ad_format,impressions,spend\n")
            for a in range(0, n, step):
                f.write("".join("%s,%s,%s,%d,%s\n" % (email(i), c, fm, im, fmt_cents(sp))
                                for i in range(a, min(n, a + step))
                                for c, fm, im, sp in agg_runner_rows(i, camps)))
        os.replace(rt + ".part", rt)
    if not os.path.exists(ct):
        with open(ct + ".part", "w") as f:
            f.write("email,category,day,amount,pid\n")
            for a in range(n // 2, n + n // 2, step):
                f.write("".join("%s,%s,%s,%s,%s\n" % (
                    email(i), cat, agg_day(d), "" if am is None else fmt_cents(am),
                    pid or "") for i in range(a, min(n + n // 2, a + step))
                    for cat, d, am, pid in agg_contrib_rows(i, cats, weeks)))
        os.replace(ct + ".part", ct)
    return rt, ct


def fmt_cents(c):
    return "%s%d.%02d" % ("-" if c < 0 else "", abs(c) // 100, abs(c) % 100)


def agg_expected(n, cells):
    """The released rows the template gives, computed here from the generators."""
    from fractions import Fraction
    camps, cats, weeks = agg_shape(cells)
    acc = {}
    for i in range(n // 2, n):
        rg = {}
        for c, fm, im, sp in agg_runner_rows(i, camps):
            v = rg.setdefault((c, fm), [0, 0, 0])
            v[0] += 1
            v[1] += im
            v[2] += sp
        cg = {}
        for cat, d, am, pid in agg_contrib_rows(i, cats, weeks):
            week = agg_day(d - (d - AGG_WEEK0) % 7)
            v = cg.setdefault((cat, week), [0, 0, 0, 0])
            v[0] += 1
            v[1] += pid is not None
            v[2] += am is not None
            v[3] += am or 0
        for g, (nr, im, sp) in rg.items():
            for c, (nc, npid, nam, am) in cg.items():
                a = acc.setdefault(g + c, [0] * 6)
                a[0] += 1
                a[1] += im * nc
                a[2] += sp * nc
                a[3] += nr * npid
                a[4] += nr * nam
                a[5] += nr * am
    def half_even(q, digits):
        x = round(q * 10 ** digits)
        s = str(abs(x)).rjust(digits + 1, "0")
        return ("-" if x < 0 else "") + s[:-digits] + "." + s[-digits:]
    def label(parts):
        return b"".join(len(p.encode()).to_bytes(2, "big") + p.encode() for p in parts)
    rows = []
    for key, (d, im, sp, npid, nam, am) in acc.items():
        if d < AGG_HAVING:
            continue
        rev = fmt_cents(am) if nam else ""
        avg = half_even(Fraction(am, 100 * nam), 6) if nam else ""
        roas = half_even(Fraction(am, sp), 6) if nam and sp else ""
        rows.append(((label(key[:2]), label(key[2:])),
                     list(key) + [str(d), str(im), fmt_cents(sp), str(npid), rev, avg, roas]))
    rows.sort()
    return [r for _, r in rows]


AGG_HEADER = ["campaign", "ad_format", "category", "week", "buyers", "impressions", "spend",
              "purchases", "revenue", "avg_amount", "roas"]


def check_agg_output(path, n, cells):
    with open(path) as f:
        got = [l.split(",") for l in f.read().splitlines()]
    if not got or got[0] != AGG_HEADER:
        return False, "bad header %s" % (got[:1],)
    want = agg_expected(n, cells)
    if got[1:] != want:
        bad = next((i for i, (a, b) in enumerate(zip(got[1:], want)) if a != b), None)
        return False, "%d rows instead of %d%s" % (
            len(got) - 1, len(want),
            "" if bad is None else "; row %d: %s instead of %s" % (bad, got[1 + bad], want[bad]))
    return True, ""


def agg_parties(procs, files, res, roles):
    parties, problems = [], []
    for k, (p, role) in enumerate(zip(procs, roles)):
        code, ru, _ = res.get(p.pid, (None, None, None))
        files[2 * k].seek(0)
        files[2 * k + 1].seek(0)
        text, err = files[2 * k].read(), files[2 * k + 1].read()
        summary = None
        for line in text.splitlines():
            if line.startswith("{"):
                summary = json.loads(line)
        if code != 0 or summary is None:
            problems.append("%s exited %s: %s" % (role, code, err.strip()[-300:]))
            parties.append({"role": role, "exit": code})
            continue
        parties.append({
            "role": role, "exit": code,
            "cpu_s": ru.ru_utime + ru.ru_stime, "user_s": ru.ru_utime, "sys_s": ru.ru_stime,
            "peak_rss_bytes": ru.ru_maxrss * 1024,
            "bytes_sent": summary["bytes_sent"], "bytes_received": summary["bytes_received"],
            "seconds_reported": summary["seconds"], "summary": summary,
        })
    for f in files:
        f.close()
    return parties, problems


def run_timed(args, work, tag, largs, cargs, roles):
    files = [open(os.path.join(work, "%s-%s.%s" % (tag, r, s)), "w+")
             for r in roles for s in ("json", "err")]
    busy0, steal0 = busy_jiffies()
    t0 = time.monotonic()
    procs = [launch(args.bin, largs, files[0], files[1]),
             launch(args.bin, cargs, files[2], files[3])]
    res = wait_both(procs, t0 + args.timeout)
    wall = time.monotonic() - t0
    busy1, steal1 = busy_jiffies()
    parties, problems = agg_parties(procs, files, res, roles)
    ours = sum(p.get("cpu_s", 0) for p in parties)
    return {"ok": not problems, "problems": problems, "wall_s": wall, "parties": parties,
            "machine_busy_s": busy1 - busy0,
            "foreign_cpu_s": max(0.0, (busy1 - busy0) - ours), "steal_s": steal1 - steal0}


def ensure_template(args, work):
    path = os.path.join(work, "agg2-attribution.sql")
    with open(path, "w") as f:
        f.write(AGG_TEMPLATE)
    for who in ("alice", "bob"):
        sh([args.bin, "template", "approve", path, "--identity", os.path.join(work, who + ".key")])
    return path


def run_agg_pair(args, work, n, cells, threads):
    """The template between two ./overlap processes: the retailer listens (contributor),
    the advertiser connects (runner) and receives."""
    rt, ct = write_agg_tables(work, n, cells)
    tpl = ensure_template(args, work)
    out = os.path.join(work, "agg2-out-%d-%d.csv" % (n, cells))
    if os.path.exists(out):
        os.remove(out)
    port = free_port()
    common = ["--template", tpl, "--join", "email", "--normalize", "email",
              "--summary", "json", "--quiet", "--timeout", "3600"]
    if threads:
        common += ["--threads", str(threads)]
    largs = ["--listen", "127.0.0.1:%d" % port, "--identity", os.path.join(work, "alice.key"),
             "--peer", os.path.join(work, "bob.pub"), "--table", ct, "--table-name", "shop"] + common
    cargs = ["--wait", "300", "--connect", "127.0.0.1:%d" % port,
             "--identity", os.path.join(work, "bob.key"), "--peer", os.path.join(work, "alice.pub"),
             "--table", rt, "--table-name", "ads", "--out", out] + common
    run = run_timed(args, work, "agg2-%d-%d" % (n, cells), largs, cargs, ("contributor", "runner"))
    if run["ok"]:
        good, why = check_agg_output(out, n, cells)
        if not good:
            run["ok"] = False
            run["problems"].append("runner output wrong: " + why)
    if run["ok"]:
        why = check_agg_shape(run, n, cells)
        if why:
            run["ok"] = False
            run["problems"].append(why)
    return run


def check_agg_shape(run, n, cells):
    """The plan both sessions ran, from their summaries: one shape at both, the
    group space the scenario is named after, the announced sizes."""
    shapes = [p["summary"].get("plan_shape") for p in run["parties"]]
    if shapes[0] is None or shapes[0] != shapes[1]:
        return "the parties report different plan shapes: %s" % (shapes,)
    shape = shapes[0]
    if shape["groups_r"] * shape["groups_c"] != cells:
        return "the session ran %d x %d = %d cells, not %d" % (
            shape["groups_r"], shape["groups_c"], shape["groups_r"] * shape["groups_c"], cells)
    if shape["n"] != n or shape["m"] != n:
        return "the session's set sizes are %d and %d, not %d" % (shape["n"], shape["m"], n)
    return ""


def run_psi_same_sets(args, work, n, threads):
    """ECDH-PSI (`--mode intersection`) on the aggregate run's own tables."""
    rt, ct = write_agg_tables(work, n, 32)
    out = os.path.join(work, "agg2-psi-%d.csv" % n)
    port = free_port()
    common = ["--join", "email", "--normalize", "email", "--summary", "json", "--quiet",
              "--timeout", "3600", "--reveal", "connector"]
    if threads:
        common += ["--threads", str(threads)]
    largs = ["--listen", "127.0.0.1:%d" % port, "--identity", os.path.join(work, "alice.key"),
             "--peer", os.path.join(work, "bob.pub"), "--table", ct] + common
    cargs = ["--wait", "300", "--connect", "127.0.0.1:%d" % port,
             "--identity", os.path.join(work, "bob.key"), "--peer", os.path.join(work, "alice.pub"),
             "--table", rt, "--out", out] + common
    run = run_timed(args, work, "agg2-psi-%d" % n, largs, cargs, ("listener", "connector"))
    summ = next((p["summary"] for p in run["parties"] if "summary" in p and
                 p["role"] == "connector"), {})
    if run["ok"] and summ.get("intersection_size") != n - n // 2:
        run["ok"] = False
        run["problems"].append("PSI intersection %s, expected %d" % (
            summ.get("intersection_size"), n - n // 2))
    return run


AGG_SHAPE_ARGS = ("n", "m", "groups_r", "groups_c", "words_r", "words_c", "star", "bits_r",
                  "bits_c", "released", "helper_groups", "runner_receives")


def agg_cost(args, run):
    """The SPEC §11 formula for the plan the session ran: its total from the runner's
    summary (cost_formula_bytes, ovl_agg2_cost_eval in the runner), its parts from
    agg2_cost given the same plan_shape; the two totals must agree."""
    summ = next(p for p in run["parties"] if p["role"] == "runner")["summary"]
    shape = summ["plan_shape"]
    r = sh([args.agg2_cost] + [str(shape[k]) for k in AGG_SHAPE_ARGS])
    if r.returncode != 0:
        sys.exit("bench: agg2_cost failed: " + r.stderr.strip())
    parts = json.loads(r.stdout)
    if parts["total"] != summ["cost_formula_bytes"]:
        sys.exit("bench: agg2_cost gives %d bytes for %s, the run's summary %d (a stale build?)"
                 % (parts["total"], shape, summ["cost_formula_bytes"]))
    return {"shape": shape, "parts": parts, "total": summ["cost_formula_bytes"]}


def wire_bytes(run):
    """TLS record bytes both ways on the connection (the runner's bytes_sent and
    bytes_received): the engine's frames, and the handshake, setup, negotiation
    and co-signature frames, and every record's header and tag."""
    r = next(p for p in run["parties"] if p["role"] == "runner")
    return r["bytes_sent"] + r["bytes_received"]


def protocol_bytes(run):
    """The aggregate engine's frames, both parties (what the SPEC §11 formula counts)."""
    return sum(p["summary"]["protocol_bytes_sent"] for p in run["parties"])


def run_aggregates(args, report, sizes, cores):
    """Per size: the 32-cell template and ECDH-PSI on the same sets (wall ratio, bytes per
    runner identifier, peak RSS); then, at --agg-cost-size, 8, 64 and 512 cells against
    the SPEC's cost formula."""
    del cores
    runs = report.setdefault("aggregate", [])
    for n in sizes:
        agg = run_agg_pair(args, args.work, n, 32, args.threads)
        psi = run_psi_same_sets(args, args.work, n, args.threads)
        run = {"n": n, "cells": 32, "ok": agg["ok"] and psi["ok"],
               "problems": agg["problems"] + psi["problems"], "aggregate": agg, "psi": psi}
        if run["ok"]:
            run["wall_ratio_to_psi"] = agg["wall_s"] / psi["wall_s"]
            run["bytes_per_runner_id"] = wire_bytes(agg) / n
            for p in agg["parties"]:
                p["rss_budget_bytes"] = 1024 * n * 2.5 + 64 * MIB
                p["rss_ok"] = p["peak_rss_bytes"] <= p["rss_budget_bytes"]
            print("bench: aggregate v2 n=%d (32 cells): wall %.1f s, ECDH-PSI %.1f s, ratio %.2f "
                  "(target <= 2); %.0f B per runner identifier (target <= 16384); RSS %s / %s" % (
                      n, agg["wall_s"], psi["wall_s"], run["wall_ratio_to_psi"],
                      run["bytes_per_runner_id"], fmt_bytes(agg["parties"][0]["peak_rss_bytes"]),
                      fmt_bytes(agg["parties"][1]["peak_rss_bytes"])), flush=True)
        else:
            print("bench: aggregate v2 n=%d FAILED: %s" % (n, "; ".join(run["problems"])),
                  flush=True)
        runs.append(run)
    n = 1 << args.agg_cost_size
    for cells in (8, 64, 512):
        agg = run_agg_pair(args, args.work, n, cells, args.threads)
        run = {"n": n, "cells": cells, "ok": agg["ok"], "problems": agg["problems"],
               "aggregate": agg}
        if agg["ok"]:
            run["formula"] = agg_cost(args, agg)
            run["bytes"] = wire_bytes(agg)
            run["protocol_bytes"] = protocol_bytes(agg)
            run["bytes_over_formula"] = run["bytes"] / run["formula"]["total"]
            run["protocol_bytes_over_formula"] = run["protocol_bytes"] / run["formula"]["total"]
            sp = run["formula"]["shape"]
            print("bench: aggregate v2 n=%d, %d cells (%d x %d groups, k %d+%d, w %d/%d, %d "
                  "released): %d bytes on the wire, formula %d, ratio %.4f (target <= 1.1); "
                  "engine frames %d, ratio %.4f; TLS records and setup frames %d" % (
                      n, cells, sp["groups_r"], sp["groups_c"], sp["words_r"], sp["words_c"],
                      sp["bits_r"], sp["bits_c"], sp["released"], run["bytes"],
                      run["formula"]["total"], run["bytes_over_formula"], run["protocol_bytes"],
                      run["protocol_bytes_over_formula"], run["bytes"] - run["protocol_bytes"]),
                  flush=True)
        else:
            print("bench: aggregate v2 n=%d, %d cells FAILED: %s" % (
                n, cells, "; ".join(run["problems"])), flush=True)
        runs.append(run)


def agg_markdown(report):
    runs = report.get("aggregate", [])
    if not runs:
        return []
    lines = []
    if any("psi" in r for r in runs):
        lines = ["",
                 "Aggregates version 2 (`--template`, protocols/aggregate/SPEC.md): the "
                 "attribution template (advertiser = runner = connector = receiver: campaign x ad "
                 "format, SUM of impressions and spend; retailer: category x DATE_TRUNC week, "
                 "COUNT(purchase id), SUM and AVG of the amount, ROAS with NULLIF; HAVING >= %d), "
                 "1-4 rows per identifier, 50 %% overlap, against ECDH-PSI (`--mode "
                 "intersection`) on the same identifier sets in the same run." % AGG_HAVING, "",
                 "| n per party | cells | wall s | ECDH-PSI wall s | ratio (<= 2) | bytes per "
                 "runner id (<= 16 KiB) | peak RSS C / R | correct |",
                 "|---|---|---|---|---|---|---|---|"]
        for r in runs:
            if "psi" not in r:
                continue
            if not r["ok"]:
                lines.append("| 2^%d | %d | failed | | | | | no |" % (r["n"].bit_length() - 1,
                                                                   r["cells"]))
                continue
            ps = r["aggregate"]["parties"]
            lines.append("| 2^%d | %d | %.1f | %.1f | **%.2f** | %.0f | %s / %s | yes |" % (
                r["n"].bit_length() - 1, r["cells"], r["aggregate"]["wall_s"],
                r["psi"]["wall_s"], r["wall_ratio_to_psi"], r["bytes_per_runner_id"],
                fmt_bytes(ps[0]["peak_rss_bytes"]), fmt_bytes(ps[1]["peak_rss_bytes"])))
    lines += ["", "The formula is evaluated for the plan each session ran (`--summary json`: "
              "`plan_shape`, `cost_formula_bytes`). It counts the engine's frames "
              "(`protocol_bytes_sent` of both parties); the wire adds TLS (a 5-byte header, a "
              "16-byte tag and the content-type byte per record of at most 16 KiB, and the "
              "handshake), the setup and negotiation frames and the co-signatures.", "",
              "| n per party | cells (G_R x G_C) | bytes on the wire (both directions) | engine "
              "frames | SPEC §11 formula | wire / formula (<= 1.1) | frames / formula |",
              "|---|---|---|---|---|---|---|"]
    for r in runs:
        if "psi" in r:
            continue
        if not r["ok"]:
            lines.append("| 2^%d | %d | failed | | | | |" % (r["n"].bit_length() - 1,
                                                           r["cells"]))
            continue
        sp = r["formula"]["shape"]
        lines.append("| 2^%d | %d (%d x %d) | %d | %d | %d | **%.4f** | %.4f |" % (
            r["n"].bit_length() - 1, r["cells"], sp["groups_r"], sp["groups_c"], r["bytes"],
            r["protocol_bytes"], r["formula"]["total"], r["bytes_over_formula"],
            r["protocol_bytes_over_formula"]))
    return lines


# ---- table sources: CSV against SQLite and PostgreSQL ----
SOURCE_REPEATS = 5


def source_rows(n):
    for i in range(n):
        yield "user%d@example.com" % (i // 2 * 2 + i % 2), "%d.%02d" % (i % 9973, i % 100)


def write_sources(work, n):
    """The same n rows as a CSV file, a SQLite table and a PostgreSQL table."""
    import sqlite3
    sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
    from pgserver import PgServer
    csv_path = os.path.join(work, "source.csv")
    with open(csv_path, "w") as f:
        f.write("email,amount\n")
        for e, a in source_rows(n):
            f.write("%s,%s\n" % (e, a))
    db = os.path.join(work, "source.db")
    if os.path.exists(db):
        os.unlink(db)
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE source (email TEXT, amount TEXT)")
    con.executemany("INSERT INTO source VALUES (?, ?)", source_rows(n))
    con.commit()
    con.close()
    pg = PgServer()
    if not pg.available:
        return csv_path, db, None, pg.why
    pg.load_csv("source", "email text, amount numeric(12,2)", open(csv_path).read())
    return csv_path, db, pg, ""


def load_once(tool, spec):
    t0 = time.time()
    p = subprocess.Popen([tool, spec, "--values", "amount:2"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    _, status, ru = os.wait4(p.pid, 0)
    out, err = p.stdout.read(), p.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        return None, err.strip()
    r = json.loads(out)
    r["wall_s"] = time.time() - t0
    r["peak_rss_bytes"] = ru.ru_maxrss * 1024
    return r, ""


def run_sources(args, report):
    n = 1 << args.source_size
    tool = os.path.join(os.path.dirname(args.calibrate), "load_bench")
    csv_path, db, pg, why = write_sources(args.work, n)
    specs = [("CSV", csv_path), ("SQLite", "sqlite:%s?table=source" % db)]
    if pg is not None:
        specs.append(("PostgreSQL", pg.uri(params="table=source")))
    result = {"rows": n, "sources": [], "problems": [] if pg else ["PostgreSQL: " + why]}
    # Interleaved rounds, so a burst of other load on this shared machine
    # falls on every source alike; the best round is the load's own cost.
    runs = {name: [] for name, _ in specs}
    for _ in range(SOURCE_REPEATS):
        for name, spec in specs:
            if runs[name] is None:
                continue
            r, err = load_once(tool, spec)
            if r is None:
                result["problems"].append("%s: %s" % (name, err))
                runs[name] = None
                continue
            runs[name].append(r)
    for name, _ in specs:
        rs = runs[name]
        if not rs:
            continue
        times = sorted(r["seconds"] for r in rs)
        result["sources"].append({"source": name, "load_s": times[0],
                                  "median_s": times[len(times) // 2], "loads_s": times,
                                  "peak_rss_bytes": max(r["peak_rss_bytes"] for r in rs),
                                  "rows": rs[0]["rows"], "distinct": rs[0]["distinct"],
                                  "sum": rs[0]["sum"]})
    if pg is not None:
        pg.stop()
    base = result["sources"][0] if result["sources"] and result["sources"][0]["source"] == "CSV" \
        else None
    for s in result["sources"]:
        if base is None:
            break
        s["time_vs_csv"] = s["load_s"] / base["load_s"]
        s["rss_vs_csv"] = s["peak_rss_bytes"] / base["peak_rss_bytes"]
        if (s["rows"], s["distinct"], s["sum"]) != (base["rows"], base["distinct"], base["sum"]):
            result["problems"].append("%s: loaded other values than CSV" % s["source"])
        if s["time_vs_csv"] > 2:
            result["problems"].append("%s: %.2fx the CSV load time (at most 2x)" % (
                s["source"], s["time_vs_csv"]))
        if s["peak_rss_bytes"] > base["peak_rss_bytes"]:
            result["problems"].append("%s: peak RSS %s above the CSV's %s" % (
                s["source"], fmt_bytes(s["peak_rss_bytes"]), fmt_bytes(base["peak_rss_bytes"])))
    result["ok"] = not result["problems"] and len(result["sources"]) == 3
    report["sources"] = result
    for s in result["sources"]:
        print("bench: load %s n=%d: best %.3f s (all: %s), peak RSS %s%s" % (
            s["source"], n, s["load_s"], ", ".join("%.3f" % x for x in s["loads_s"]),
            fmt_bytes(s["peak_rss_bytes"]),
            "" if s is base else ", %.2fx the CSV time, %.3fx its RSS" % (
                s["time_vs_csv"], s["rss_vs_csv"])), flush=True)
    for p in result["problems"]:
        print("bench: sources: " + p, flush=True)


def sources_markdown(report):
    r = report["sources"]
    lines = ["Loading 2^%d distinct rows of (email, amount) as a run does (every identifier, the "
             "amounts summed per identifier; `build/rel/bench/load_bench`), %d interleaved "
             "rounds, best round (median beside it); PostgreSQL 15 over a local Unix socket (a "
             "private server, COPY TO STDOUT); peak RSS is the largest of the rounds:" % (
                 r["rows"].bit_length() - 1, SOURCE_REPEATS), "",
             "| source | load (best) | median | vs CSV | peak RSS | vs CSV |",
             "|---|---|---|---|---|---|"]
    for s in r["sources"]:
        lines.append("| %s | %.3f s | %.3f s | %s | %s | %s |" % (
            s["source"], s["load_s"], s["median_s"],
            "%.2fx" % s["time_vs_csv"] if "time_vs_csv" in s else "-",
            fmt_bytes(s["peak_rss_bytes"]), "%.3fx" % s["rss_vs_csv"] if "rss_vs_csv" in s else "-"))
    lines.append("")
    lines.append("Bounds (at most 2x the CSV time, no more RSS than CSV): %s." % (
        "met" if r["ok"] else "NOT met: " + "; ".join(r["problems"])))
    return lines


def ensure_keys(binary, work):
    for name in ("alice", "bob"):
        if not os.path.exists(os.path.join(work, name + ".key")):
            r = sh([binary, "keygen", "--name", name, "--dir", work])
            if r.returncode != 0:
                sys.exit("bench: keygen failed: " + r.stderr.strip())


def compare_psi_js(args, sizes, budget_s):
    """OpenMined PSI on the same sizes, smallest first, while the budget lasts."""
    mod = os.path.join(args.compare_dir, "node_modules")
    if not os.path.isdir(os.path.join(mod, "@openmined", "psi.js")):
        os.makedirs(args.compare_dir, exist_ok=True)
        pkg = os.path.join(args.compare_dir, "package.json")
        if not os.path.exists(pkg):
            with open(pkg, "w") as f:
                f.write('{"name": "overlap-bench-compare", "private": true}\n')
        # --ignore-scripts: a dependency's install script fetches protoc from
        # GitHub, which psi.js's prebuilt WebAssembly does not need.
        r = sh(["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts",
                "@openmined/psi.js"], cwd=args.compare_dir, timeout=600)
        if r.returncode != 0:
            return {"available": False,
                    "reason": "npm install @openmined/psi.js failed: " +
                              (r.stderr.strip().splitlines() or ["?"])[-1]}
    ver = "?"
    try:
        with open(os.path.join(mod, "@openmined", "psi.js", "package.json")) as f:
            ver = json.load(f)["version"]
    except (OSError, ValueError, KeyError):
        pass
    out = {"available": True, "package": "@openmined/psi.js " + ver, "runs": [],
           "skipped": []}
    env = dict(os.environ, NODE_PATH=mod)
    start = time.monotonic()
    last = None  # (n, seconds) of the previous size, to predict the next
    for n in sizes:
        left = budget_s - (time.monotonic() - start)
        guess = last[1] * n / last[0] * 1.1 if last else 0
        if guess > left:
            out["skipped"].append({"n": n, "predicted_s": guess,
                                   "reason": "would not finish within the %d-minute budget"
                                             % (budget_s // 60)})
            continue
        try:
            r = sh(["node", os.path.join(ROOT, "tests", "bench", "psi_js_bench.js"), str(n)],
                   env=env, timeout=max(1, left))
        except subprocess.TimeoutExpired:
            out["skipped"].append({"n": n, "reason": "stopped at the time budget"})
            break
        if r.returncode != 0:
            out["runs"].append({"n": n, "error": r.stderr.strip()[-300:]})
            break
        res = json.loads(r.stdout.strip().splitlines()[-1])
        res["us_per_element"] = res["seconds"] * 1e6 / n
        out["runs"].append(res)
        last = (n, res["seconds"])
        print("psi.js n=%d: %.1f s (%.0f us/element), correct=%s"
              % (n, res["seconds"], res["us_per_element"], res["correct"]), flush=True)
    return out


def fmt_bytes(b):
    return "%.0f MiB" % (b / MIB)


def table_lines(report):
    rows = ["| n per party | wall s | bound s | ratio | CPU s (L / C) | peak RSS (L / C) "
            "| RSS budget | bytes/element sent (payload) | other load CPU s | ratio, other load "
            "excluded | CPU / bound CPU | correct |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in report["runs"]:
        ps = r["parties"]
        if not all("cpu_s" in p for p in ps):
            rows.append("| 2^%d | failed | | | | | | | | | | no |" % (r["n"].bit_length() - 1))
            continue
        # Both parties' CPU seconds over the bound's (bound x cores): what the
        # run costs relative to libsodium whatever else shares the machine.
        cpu_ratio = (ps[0]["cpu_s"] + ps[1]["cpu_s"]) / (r["bound_s"] * report["machine"]["cores"])
        rows.append("| 2^%d (%d) | %.1f | %.1f | **%.3f** | %.1f / %.1f | %s / %s | %s | %.2f (%.2f) "
                    "| %.1f | %.3f | %.3f | %s |" % (
                        r["n"].bit_length() - 1, r["n"], r["wall_s"], r["bound_s"], r["ratio"],
                        ps[0]["cpu_s"], ps[1]["cpu_s"], fmt_bytes(ps[0]["peak_rss_bytes"]),
                        fmt_bytes(ps[1]["peak_rss_bytes"]), fmt_bytes(ps[0]["rss_budget_bytes"]),
                        ps[0]["bytes_per_element"], ps[0]["wire_budget_per_element"],
                        r["foreign_cpu_s"], r["ratio_other_load_excluded"], cpu_ratio,
                        "yes" if r["ok"] else "NO"))
    return rows


def compare_lines(report):
    c = report.get("compare")
    if c is None:
        return []
    if not c["available"]:
        return ["", "OpenMined PSI: not run (%s)." % c["reason"]]
    lines = ["", "OpenMined PSI (%s, WebAssembly, both roles in one Node.js process, one thread, "
                 "raw-set setup message, intersection revealed) on the same sets:" % c["package"],
             "", "| n per party | psi.js s | psi.js us/element | overlap us/element (wall) "
                 "| psi.js / overlap (wall) | psi.js / overlap (CPU) | correct |",
             "|---|---|---|---|---|---|---|"]
    ours = {r["n"]: r for r in report["runs"]}
    for r in c["runs"]:
        if "error" in r:
            lines.append("| %d | error: %s | | | | | |" % (r["n"], r["error"]))
            continue
        o = ours.get(r["n"])
        if o is None or not o["ok"]:
            continue
        cpu = sum(p["cpu_s"] for p in o["parties"])
        lines.append("| 2^%d | %.1f | %.0f | %.1f | %.1fx | %.1fx | %s |" % (
            r["n"].bit_length() - 1, r["seconds"], r["us_per_element"],
            o["wall_s"] * 1e6 / r["n"], r["seconds"] / o["wall_s"], r["seconds"] / cpu,
            "yes" if r["correct"] else "NO"))
    for s in c["skipped"]:
        lines.append("| 2^%d | skipped: %s%s | | | | | |" % (
            s["n"].bit_length() - 1, s["reason"],
            " (predicted %.0f s)" % s["predicted_s"] if "predicted_s" in s else ""))
    return lines


def element_lines(cal):
    if "element_us_batch" not in cal:
        return []
    return ["Per element (hash to the group + 2 multiplications, each decoding, validating and "
            "encoding; same calibration runs): libsodium %.2f us, the engine's batch calls on "
            "`%s` %.2f us (hash %.2f us, multiplication %.2f us): %.2fx lower. The bound "
            "below stays libsodium's." % (
                cal["element_us_libsodium"], cal.get("arith", "?"), cal["element_us_batch"],
                cal["batch_hash_to_group_us"], cal["batch_scalar_mult_us"],
                cal["element_speedup"]), ""]


def markdown(report):
    m = report["machine"]
    cal = report["runs"][0]["calibration"] if report["runs"] else {}
    lines = [
        "Machine: %s, %d online cores, %.0f GiB RAM, Linux %s. Commit `%s`, %s." % (
            m["cpu"], m["cores"], m["memory_bytes"] / (1 << 30), m["kernel"], report["commit"],
            report["date"]),
        "Command: `%s`." % report["command"],
        "",
        "Calibration (CPU time of one thread, median of 5 rounds, mean of the calibrations just "
        "before and just after each size's run; the first size's shown): "
        "hash-to-group %.1f us, scalar multiplication %.1f us (includes decoding and validating "
        "the input), validation alone %.1f us, tag (SHA-512) %.2f us; %d threads together "
        "reached %.2fx the single-core multiplication rate (wall clock: other load lowers "
        "it)." % (
            cal.get("hash_to_group_us", 0), cal.get("scalar_mult_us", 0),
            cal.get("validate_us", 0), cal.get("tag_us", 0), cal.get("threads", 0),
            cal.get("parallel_mults_per_s", 0) / max(cal.get("single_mults_per_s", 1), 1)),
        "",
    ] + element_lines(cal) + table_lines(report) + compare_lines(report)
    return "\n".join(lines) + "\n"


OT_TARGET_PER_S = 20e6


def run_ot(tool, seconds):
    r = sh([tool, "--seconds", str(seconds)])
    if r.returncode != 0:
        return {"ok": False, "error": r.stderr.strip()[-300:]}
    res = json.loads(r.stdout.strip().splitlines()[-1])
    res["target_cot_per_s"] = OT_TARGET_PER_S
    res["target_ratio"] = 1e9 / OT_TARGET_PER_S / res["aes_block_ns"]
    res["ok"] = res["cot_per_s"] >= OT_TARGET_PER_S
    return res


def ot_markdown(report):
    o = report["ot"]
    m = report["machine"]
    head = ["Machine: %s, %d online cores. Commit `%s`, %s." % (
                m["cpu"], m["cores"], report["commit"], report["date"]),
            "Command: `%s`." % report["command"], ""]
    if "error" in o:
        return "\n".join(head + ["ot_bench failed: " + o["error"]]) + "\n"
    return "\n".join(head + [
        "OT extension (IKNP + KOS, src/mpc), both parties in one thread on one core, batches of "
        "%d, CPU time, median of 5 rounds. t_AES = %.3f ns (AES-128 ECB through EVP, 1024-block "
        "batches, same run)." % (o["batch"], o["aes_block_ns"]),
        "",
        "| output | ns per OT (both parties) | OTs per second | ratio to t_AES | target |",
        "|---|---|---|---|---|",
        "| random correlated OT (COT) | %.1f | **%.1f M** | %.1f | >= 20 M/s, i.e. ratio <= %.1f: %s |"
        % (o["cot_ns"], o["cot_per_s"] / 1e6, o["cot_ns_over_aes_block"], o["target_ratio"],
           "met" if o["ok"] else "NOT met"),
        "| random OT (COT + TCCR hash of both messages) | %.1f | %.1f M | %.1f | |"
        % (o["rot_ns"], o["rot_per_s"] / 1e6, o["rot_ns_over_aes_block"]),
        "",
        "Base OTs (Masny-Rindal, 128 per direction, both directions, both parties): %.0f ms."
        % o["base_ot_both_directions_ms"]]) + "\n"


def update_md(path, section, text):
    begin = "<!-- bench:%s:begin -->" % section
    end = "<!-- bench:%s:end -->" % section
    body = begin + "\n" + text + end
    old = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
    if begin in old and end in old:
        new = old[:old.index(begin)] + body + old[old.index(end) + len(end):]
    else:
        new = old.rstrip("\n") + "\n\n## Latest `make %s`\n\n%s\n" % (section, body)
    with open(path, "w") as f:
        f.write(new)


def run_gc(args, report):
    import bench_gc
    os.makedirs(args.work, exist_ok=True)
    ensure_keys(args.bin, args.work)
    for tool in (args.gc_tool, args.gc_calibrate):
        if not os.access(tool, os.X_OK):
            sys.exit("bench: %s is missing (run make bench)" % tool)
    r = bench_gc.run(args, args.work, free_port, busy_jiffies)
    report["gc"] = r
    if r["ok"]:
        print("bench: gc %.2f M AND/s over TLS (target %.2f M, ratio %.3f), %.2f B/AND, "
              "AES-128 latency %.1f ms" % (r["and_gates_per_s"] / 1e6,
                                           r["target_and_gates_per_s"] / 1e6,
                                           r["ratio_to_target"], r["bytes_per_and"],
                                           1000 * r["aes_latency_s"][len(r["aes_latency_s"]) // 2]),
              flush=True)
    else:
        print("bench: gc FAILED: %s" % "; ".join(
            p for x in r.get("throughput_runs", [r["throughput"]]) for p in x["problems"]),
            flush=True)
    text = bench_gc.markdown(r, report["machine"], report["commit"], report["date"],
                             report["command"])
    print()
    print(text)
    if args.md:
        update_md(args.md, args.section + "-gc", text)
    return r["ok"]


def run_gc_only(args):
    report = {
        "machine": machine(),
        "commit": commit(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": ("make " + args.section + "-gc") if os.environ.get("MAKELEVEL")
                   else "python3 " + " ".join(sys.argv),
    }
    ok = run_gc(args, report)
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    path = os.path.join(os.path.dirname(args.json), "results-gc.json")
    with open(path, "w") as f:
        json.dump(report, f, indent=2)
    print("bench: results in %s%s" % (path, " and " + args.md if args.md else ""))
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="16,18,20", help="log2 of rows per party, comma-separated")
    ap.add_argument("--bin", default=os.path.join(ROOT, "overlap"))
    ap.add_argument("--calibrate", default=os.path.join(ROOT, "build", "rel", "bench", "calibrate"))
    ap.add_argument("--ot-bench", default=os.path.join(ROOT, "build", "rel", "bench", "ot_bench"))
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "bench", "work"))
    ap.add_argument("--json", default=os.path.join(ROOT, "build", "bench", "results.json"))
    ap.add_argument("--md", default=os.path.join(ROOT, "BENCHMARKS.md"),
                    help="file whose section to update ('' for none)")
    ap.add_argument("--section", default="bench")
    ap.add_argument("--agg2-cost", default=os.path.join(ROOT, "build", "rel", "bench", "agg2_cost"))
    ap.add_argument("--agg-cost-size", type=int, default=16,
                    help="log2 size of the 8/64/512-cell runs against the cost formula")
    ap.add_argument("--agg-sizes", default=None,
                    help="log2 sizes of the aggregate scenario (default 16,20 with --section "
                         "bench, none otherwise; '' for none)")
    ap.add_argument("--source-size", type=int, default=20,
                    help="log2 rows of the table-source scenario (default 20)")
    ap.add_argument("--sources-only", action="store_true",
                    help="run only the table-source scenario (CSV, SQLite, PostgreSQL loads)")
    ap.add_argument("--aggregate-only", action="store_true",
                    help="run only the aggregate scenario (results merged into --json)")
    ap.add_argument("--threads", type=int, default=0, help="--threads per party (default: its own)")
    ap.add_argument("--cal-seconds", type=float, default=2.0)
    ap.add_argument("--timeout", type=float, default=4 * 3600)
    ap.add_argument("--compare", action="store_true", help="also run OpenMined psi.js")
    ap.add_argument("--profile", default="",
                    help="directory: run each party under perf record, data saved there")
    ap.add_argument("--compare-dir", default=os.path.join(ROOT, "build", "bench-compare"))
    ap.add_argument("--compare-budget", type=int, default=20 * 60)
    ap.add_argument("--gc", action="store_true", help="also run the garbled-circuit scenario")
    ap.add_argument("--gc-only", action="store_true", help="run only the garbled-circuit scenario")
    ap.add_argument("--gc-tool", default=os.path.join(ROOT, "build", "rel", "tools", "bristol2pc"))
    ap.add_argument("--gc-calibrate",
                    default=os.path.join(ROOT, "build", "rel", "bench", "gc_calibrate"))
    ap.add_argument("--gc-circuit", default=os.path.join(
        os.environ.get("OVL_SHARED", os.path.join(ROOT, "..", "shared")), "circuits",
        "aes_128.txt"))
    ap.add_argument("--gc-repeat", type=int, default=2000, help="AES-128 instances streamed")
    ap.add_argument("--gc-latency-runs", type=int, default=5)
    ap.add_argument("--gc-runs", type=int, default=3,
                    help="throughput runs of --gc-repeat instances (the best wall is reported)")
    args = ap.parse_args()
    if args.gc_only:
        return run_gc_only(args)
    if args.agg_sizes is None:
        args.agg_sizes = "20" if args.section == "bench" else ""
    only = args.aggregate_only or args.sources_only
    sizes = [] if only else [1 << int(s) for s in args.sizes.split(",")]
    agg_sizes = [] if args.sources_only else [1 << int(s) for s in args.agg_sizes.split(",") if s]
    # --aggregate-only with --agg-sizes '' runs the formula comparison alone
    agg_runs = bool(agg_sizes) or args.aggregate_only
    for tool in (args.bin, args.calibrate) + ((args.agg2_cost,) if agg_runs else ()):
        if not os.access(tool, os.X_OK):
            sys.exit("bench: %s is missing (run make bench)" % tool)
    os.makedirs(args.work, exist_ok=True)
    ensure_keys(args.bin, args.work)
    cores = os.cpu_count()
    report = {
        "machine": machine(),
        "commit": commit(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": ("make " + args.section) if os.environ.get("MAKELEVEL")
                   else "python3 " + " ".join(sys.argv),
        "runs": [],
    }
    print("bench: %s, %d cores, commit %s" % (report["machine"]["cpu"], cores, report["commit"]),
          flush=True)
    for n in sizes:
        # The machine's speed drifts (other tenants, clocks): calibrating right
        # before and right after each run and using the mean keeps the bound
        # about the same conditions the run met.
        before = calibrate(args.calibrate, args.cal_seconds)
        pair = run_pair(args, args.work, n, args.threads)
        after = calibrate(args.calibrate, args.cal_seconds)
        run = evaluate(pair, mean_calibration(before, after), n, cores)
        report["runs"].append(run)
        if not run["ok"]:
            print("bench: n=%d FAILED: %s" % (n, "; ".join(run["problems"])), flush=True)
            continue
        ps = run["parties"]
        print("bench: n=%d wall %.1f s, bound %.1f s, ratio %.3f, CPU %.1f/%.1f s, "
              "RSS %s/%s, %.2f B/element, other load %.1f CPU s (ratio without it %.3f)" % (
                  n, run["wall_s"], run["bound_s"], run["ratio"], ps[0]["cpu_s"], ps[1]["cpu_s"],
                  fmt_bytes(ps[0]["peak_rss_bytes"]), fmt_bytes(ps[1]["peak_rss_bytes"]),
                  ps[0]["bytes_per_element"], run["foreign_cpu_s"],
                  run["ratio_other_load_excluded"]), flush=True)
    if agg_runs:
        run_aggregates(args, report, agg_sizes, cores)
    if args.section == "bench" and not args.aggregate_only:
        report["ot"] = run_ot(args.ot_bench, args.cal_seconds)
        o = report["ot"]
        if "error" in o:
            print("bench: ot_bench FAILED: " + o["error"], flush=True)
        else:
            print("bench: COT %.1f ns (%.1f M/s, %.1f t_AES; target 20 M/s %s), random OT %.1f ns"
                  % (o["cot_ns"], o["cot_per_s"] / 1e6, o["cot_ns_over_aes_block"],
                     "met" if o["ok"] else "NOT met", o["rot_ns"]), flush=True)
    if args.sources_only or (args.section == "bench" and not args.aggregate_only):
        run_sources(args, report)
    if args.compare:
        report["compare"] = compare_psi_js(args, sizes, args.compare_budget)
    gc_ok = run_gc(args, report) if args.gc else True
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    saved = report
    if only and os.path.exists(args.json):
        # Keep the PSI runs of the last full bench next to the new aggregate runs.
        try:
            with open(args.json) as f:
                saved = json.load(f)
        except ValueError:
            saved = {}
        key = "aggregate" if args.aggregate_only else "sources"
        saved[key] = report.get(key, [])
        saved[key + "_meta"] = {k: report[k] for k in ("machine", "commit", "date", "command")}
    with open(args.json, "w") as f:
        json.dump(saved, f, indent=2)
    if not only:
        text = markdown(report)
        print()
        print(text)
        if args.md:
            update_md(args.md, args.section, text)
    if agg_runs:
        m = report["machine"]
        text = "\n".join([
            "Machine: %s, %d online cores, %.0f GiB RAM, Linux %s. Commit `%s`, %s." % (
                m["cpu"], m["cores"], m["memory_bytes"] / (1 << 30), m["kernel"],
                report["commit"], report["date"]),
            "Command: `%s`." % report["command"]] + agg_markdown(report)) + "\n"
        print()
        print(text)
        if args.md:
            update_md(args.md, args.section + "-aggregate", text)
    if "ot" in report:
        text = ot_markdown(report)
        print()
        print(text)
        if args.md:
            update_md(args.md, args.section + "-ot", text)
    if "sources" in report:
        m = report["machine"]
        text = "\n".join([
            "Machine: %s, %d online cores, %.0f GiB RAM, Linux %s. Commit `%s`, %s." % (
                m["cpu"], m["cores"], m["memory_bytes"] / (1 << 30), m["kernel"],
                report["commit"], report["date"]),
            "Command: `%s`." % report["command"], ""] + sources_markdown(report)) + "\n"
        print()
        print(text)
        if args.md:
            update_md(args.md, "bench-sources", text)
    if args.md:
        print("bench: results in %s and %s" % (args.json, args.md))
    runs = report["runs"] + report.get("aggregate", []) + (
        [report["ot"]] if "ot" in report else []) + (
        [report["sources"]] if "sources" in report else [])
    return 0 if all(r["ok"] for r in runs) and gc_ok else 1


if __name__ == "__main__":
    sys.exit(main())
