#!/usr/bin/env python3
"""Conditions across parties with two ./overlap processes (issue 19 item 4).

For each size n (distinct identifiers per party, half in common, 1-4 rows per
identifier) and each cap, the article's 30-day attribution window
(protocols/aggregate/CONDITIONS.md) as a template run by `overlap run`: the
retailer listens and contributes, the advertiser connects and receives, over
loopback TLS. The released row is checked against the same computation done
here from the generators (the cap keeps each identifier's earliest rows by
date, ties by input order; a joined pair counts when the purchase day lies in
[seen, seen + 30 days]). Then ECDH-PSI (`--mode intersection`) on the same two
tables: **ratio = conditions wall / ECDH-PSI wall**, the issue's target at
2^20 and caps <= 4 being at most 3. Reported per run: wall, each party's CPU
and peak RSS (wait4), bytes on the wire per runner identifier, the engine's
own frames (`protocol_bytes_sent`), and the machine's load before and after.
One JSON object per (size, cap) on stdout; with --md, the `bench-conditions`
block of BENCHMARKS.md is rewritten.

usage: cond_pair.py [--sizes 20] [--caps 1,2,4] [--threads T] [--md BENCHMARKS.md]
"""
import argparse
import datetime
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (launch, wait4 and table helpers)

ROOT = bench.ROOT
MIB = 1 << 20
DAY0 = (datetime.date(2026, 6, 1) - datetime.date(1970, 1, 1)).days
WINDOW = 30
HAVING = 2
DATA = "cond1"  # the generators' version, in the tables' file names


def runner_rows(i):
    for k in range(1 + i % 4):
        yield DAY0 + (i * 37 + k * 11) % 60, (i * 7919 + k * 104729) % 20000 - 1000


def contrib_rows(i):
    for k in range(1 + (i // 3) % 4):
        yield DAY0 + 10 + (i * 17 + k * 23) % 60, (i * 104723 + k * 7907) % 30000 - 2500


def day(d):
    return bench.agg_day(d)


def write_tables(work, n):
    rt = os.path.join(work, "%s-ads-%d.csv" % (DATA, n))
    ct = os.path.join(work, "%s-shop-%d.csv" % (DATA, n))
    step = 1 << 15
    for path, head, lo, hi, rows in ((rt, "email,seen,spend", 0, n, runner_rows),
                                     (ct, "email,day,amount", n // 2, n + n // 2, contrib_rows)):
        if os.path.exists(path):
            continue
        with open(path + ".part", "w") as f:
            f.write(head + "\n")
            for a in range(lo, hi, step):
                f.write("".join("%s,%s,%s\n" % (bench.email(i), day(d), bench.fmt_cents(v))
                                for i in range(a, min(hi, a + step)) for d, v in rows(i)))
        os.replace(path + ".part", path)
    return rt, ct


def template(cap):
    return ("-- cap rows %d by c.seen, p.day\n"
            "-- decimals c.spend 2, p.amount 2\n"
            "SELECT COUNT(DISTINCT c.email) AS buyers, COUNT(*) AS conversions,\n"
            "       SUM(c.spend) AS spend, SUM(p.amount) AS revenue\n"
            "FROM ads AS c INNER JOIN shop AS p ON c.email = p.email\n"
            " AND p.day BETWEEN c.seen AND c.seen + INTERVAL '%d days'\n"
            "HAVING COUNT(DISTINCT c.email) >= %d;\n" % (cap, WINDOW, HAVING))


def capped(rows, cap):
    """The cap's rule: the earliest rows by the ordering column, ties by input order."""
    return sorted(enumerate(rows), key=lambda kr: (kr[1][0], kr[0]))[:cap]


def expected(n, cap):
    buyers = pairs = spend = revenue = 0
    for i in range(n // 2, n):
        rs = [r for _, r in capped(list(runner_rows(i)), cap)]
        cs = [r for _, r in capped(list(contrib_rows(i)), cap)]
        hit = False
        for seen, sp in rs:
            for d, am in cs:
                if seen <= d <= seen + WINDOW:
                    hit = True
                    pairs += 1
                    spend += sp
                    revenue += am
        buyers += hit
    header = ["buyers", "conversions", "spend", "revenue"]
    if buyers < HAVING:
        return [header]
    return [header, [str(buyers), str(pairs), bench.fmt_cents(spend), bench.fmt_cents(revenue)]]


def approve(args, work, cap):
    path = os.path.join(work, "cond-window-cap%d.sql" % cap)
    with open(path, "w") as f:
        f.write(template(cap))
    for who in ("alice", "bob"):
        r = bench.sh([args.bin, "template", "approve", path,
                      "--identity", os.path.join(work, who + ".key")])
        if r.returncode != 0:
            sys.exit("cond_pair: template approve failed: " + r.stderr.strip())
    return path


def timed(args, work, tag, largs, cargs, roles):
    load0 = os.getloadavg()[0]
    run = bench.run_timed(args, work, tag, largs, cargs, roles)
    run["load_before"], run["load_after"] = load0, os.getloadavg()[0]
    return run


def party_args(work, port, table, extra):
    common = ["--join", "email", "--normalize", "email", "--summary", "json", "--quiet",
              "--timeout", "3600"]
    if extra.get("threads"):
        common += ["--threads", str(extra["threads"])]
    lst = ["--listen", "127.0.0.1:%d" % port, "--identity", os.path.join(work, "alice.key"),
           "--peer", os.path.join(work, "bob.pub"), "--table", table[1]] + common
    con = ["--wait", "300", "--connect", "127.0.0.1:%d" % port,
           "--identity", os.path.join(work, "bob.key"), "--peer", os.path.join(work, "alice.pub"),
           "--table", table[0]] + common
    return lst, con


def run_conditions(args, work, n, cap, tables):
    tpl = approve(args, work, cap)
    out = os.path.join(work, "cond-out-%d-%d.csv" % (n, cap))
    if os.path.exists(out):
        os.remove(out)
    lst, con = party_args(work, bench.free_port(), tables, {"threads": args.threads})
    lst += ["--template", tpl, "--table-name", "shop"]
    con += ["--template", tpl, "--table-name", "ads", "--out", out]
    run = timed(args, work, "cond-%d-%d" % (n, cap), lst, con, ("contributor", "runner"))
    if run["ok"]:
        with open(out) as f:
            got = [line.split(",") for line in f.read().splitlines()]
        want = expected(n, cap)
        if got != want:
            run["ok"] = False
            run["problems"].append("released %s, expected %s" % (got, want))
    return run


def run_psi(args, work, n, tables):
    out = os.path.join(work, "cond-psi-%d.csv" % n)
    lst, con = party_args(work, bench.free_port(), tables, {"threads": args.threads})
    lst += ["--reveal", "connector"]
    con += ["--reveal", "connector", "--out", out]
    run = timed(args, work, "cond-psi-%d" % n, lst, con, ("listener", "connector"))
    summ = next((p["summary"] for p in run["parties"]
                 if p["role"] == "connector" and "summary" in p), {})
    if run["ok"] and summ.get("intersection_size") != n - n // 2:
        run["ok"] = False
        run["problems"].append("PSI intersection %s, expected %d"
                               % (summ.get("intersection_size"), n - n // 2))
    return run


def summarise(n, cap, cond, psi):
    res = {"n": n, "cap": cap, "ok": cond["ok"] and psi["ok"],
           "problems": cond["problems"] + psi["problems"],
           "wall_s": round(cond["wall_s"], 2), "psi_wall_s": round(psi["wall_s"], 2),
           "load": [cond["load_before"], cond["load_after"]]}
    if res["ok"]:
        runner = next(p for p in cond["parties"] if p["role"] == "runner")
        res["ratio_to_psi"] = round(cond["wall_s"] / psi["wall_s"], 3)
        res["bytes_per_runner_id"] = round((runner["bytes_sent"] + runner["bytes_received"]) / n)
        res["protocol_bytes"] = sum(p["summary"]["protocol_bytes_sent"] for p in cond["parties"])
        res["parties"] = [{"role": p["role"], "cpu_s": round(p["cpu_s"], 1),
                           "peak_rss_mib": round(p["peak_rss_bytes"] / MIB, 1)}
                          for p in cond["parties"]]
    return res


def markdown(results, command):
    m = bench.machine()
    lines = ["Machine: %s, %d online cores, %.0f GiB RAM, Linux %s. Commit `%s`, %s." % (
        m["cpu"], m["cores"], m["memory_bytes"] / (1 << 30), m["kernel"], bench.commit(),
        datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
        "Command: `%s`." % command, "",
        "The 30-day window (`p.day BETWEEN c.seen AND c.seen + INTERVAL '30 days'`, `-- cap rows N`, "
        "COUNT(DISTINCT), COUNT(*), a SUM of each party's column, no dimensions) between two "
        "`overlap` processes over loopback TLS, then ECDH-PSI on the same tables; released row "
        "checked against the generators.", "",
        "| n per party | cap | wall s | ECDH-PSI wall s | ratio | target | bytes per runner id "
        "| CPU s (contributor / runner) | peak RSS MiB | load before / after |",
        "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        if not r["ok"]:
            lines.append("| 2^%d | %d | FAILED: %s |" % (r["n"].bit_length() - 1, r["cap"],
                                                         "; ".join(r["problems"])[:200]))
            continue
        ps = {p["role"]: p for p in r["parties"]}
        lines.append("| 2^%d | %d | %.1f | %.1f | **%.2f×** | ≤ 3×: %s | %d | %.1f / %.1f | "
                     "%.0f / %.0f | %.1f / %.1f |" % (
                         r["n"].bit_length() - 1, r["cap"], r["wall_s"], r["psi_wall_s"],
                         r["ratio_to_psi"], "met" if r["ratio_to_psi"] <= 3 else "**not met**",
                         r["bytes_per_runner_id"], ps["contributor"]["cpu_s"],
                         ps["runner"]["cpu_s"], ps["contributor"]["peak_rss_mib"],
                         ps["runner"]["peak_rss_mib"], r["load"][0], r["load"][1]))
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="20", help="log2 of identifiers per party, comma-separated")
    ap.add_argument("--caps", default="1,2,4")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "rel", "overlap"))
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "bench", "work"))
    ap.add_argument("--timeout", type=float, default=4 * 3600)
    ap.add_argument("--md", default="", help="rewrite the bench-conditions block of this file")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    bench.ensure_keys(args.bin, args.work)
    results = []
    for k in [int(s) for s in args.sizes.split(",") if s]:
        n = 1 << k
        tables = write_tables(args.work, n)
        psi = run_psi(args, args.work, n, tables)
        for cap in [int(c) for c in args.caps.split(",") if c]:
            res = summarise(n, cap, run_conditions(args, args.work, n, cap, tables), psi)
            print(json.dumps(res), flush=True)
            results.append(res)
    if args.md:
        bench.update_md(args.md, "bench-conditions",
                        markdown(results, "python3 tests/bench/cond_pair.py " +
                                 " ".join(sys.argv[1:])))
    sys.exit(0 if all(r["ok"] for r in results) else 1)


if __name__ == "__main__":
    main()
