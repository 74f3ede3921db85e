#!/usr/bin/env python3
"""Circuit-PSI cardinality with two ./overlap processes (issue 13 item 6).

For each size n (rows per party, 50 % overlap, the PSI scenario's tables of
tests/bench/bench.py) it runs `overlap run --mode cardinality` as listener and
connector over loopback TLS, checks the count each receiver writes, and
reports wall and CPU seconds and peak RSS of each party (wait4 rusage), bytes
each sent per runner identifier (--summary json), the machine's load, and the
ECDH-PSI bound calibrated in the same run (build/rel/bench/calibrate, just
before and just after the run): 2n hash-to-group + 4n scalar multiplications
on libsodium, over the cores. Prints one JSON object per size.

usage: cpsi_pair.py [--sizes 18,20] [--reveal both|listener|connector] [--threads T]
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (the PSI scenario's tables, launch and wait4 helpers)

ROOT = bench.ROOT
MIB = 1 << 20


def run_card(args, work, n):
    lt = os.path.join(work, "listener-%d.csv" % n)
    ct = os.path.join(work, "connector-%d.csv" % n)
    bench.write_table(lt, 0, n)
    bench.write_table(ct, n // 2, n + n // 2)
    outs = [os.path.join(work, "card-%s-%d.csv" % (r, n)) for r in ("listener", "connector")]
    for o in outs:
        if os.path.exists(o):
            os.remove(o)
    port = bench.free_port()
    common = ["--mode", "cardinality", "--reveal", args.reveal, "--join", "email",
              "--normalize", "email", "--summary", "json", "--quiet", "--timeout", "1200"]
    if args.threads:
        common += ["--threads", str(args.threads)]
    largs = ["--listen", "127.0.0.1:%d" % port, "--identity", os.path.join(work, "alice.key"),
             "--peer", os.path.join(work, "bob.pub"), "--table", lt, "--out", outs[0]] + common
    cargs = ["--wait", "300", "--connect", "127.0.0.1:%d" % port,
             "--identity", os.path.join(work, "bob.key"),
             "--peer", os.path.join(work, "alice.pub"), "--table", ct, "--out", outs[1]] + common
    files = [open(os.path.join(work, "card-%s-%d.%s" % (r, n, s)), "w+")
             for r in ("listener", "connector") for s in ("json", "err")]
    load0 = os.getloadavg()[0]
    busy0, _ = bench.busy_jiffies()
    t0 = time.monotonic()
    procs = [bench.launch(args.bin, largs, files[0], files[1]),
             bench.launch(args.bin, cargs, files[2], files[3])]
    res = bench.wait_both(procs, t0 + 4 * 3600)
    wall = time.monotonic() - t0
    busy1, _ = bench.busy_jiffies()
    parties, ok, problems = [], True, []
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
            continue
        receives = args.reveal in ("both", role)
        if receives:
            got = open(outs[k]).read().strip() if os.path.exists(outs[k]) else ""
            if got != str(n - n // 2):
                ok = False
                problems.append("%s wrote %r, not %d" % (role, got, n - n // 2))
        parties.append({"role": role, "cpu_s": round(ru.ru_utime + ru.ru_stime, 2),
                        "peak_rss_mib": round(ru.ru_maxrss / 1024, 1),
                        "rss_budget_mib": round((512 * n + 64 * MIB) / MIB, 1),
                        "bytes_per_runner_id": round(summary["bytes_sent"] / n, 1),
                        "protocol": summary.get("protocol")})
    for f in files:
        f.close()
    ours = sum(p["cpu_s"] for p in parties)
    return {"ok": ok, "problems": problems, "wall_s": round(wall, 2), "parties": parties,
            "cpu_s_both": round(ours, 2),
            "other_cpu_s": round(max(0.0, (busy1 - busy0) - ours), 1),
            "load_avg_1min_before": round(load0, 2),
            "load_avg_1min_after": round(os.getloadavg()[0], 2)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="18,20")
    ap.add_argument("--reveal", default="both", choices=("both", "listener", "connector"))
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--bin", default=os.path.join(ROOT, "overlap"))
    ap.add_argument("--calibrate", default=os.path.join(ROOT, "build", "rel", "bench", "calibrate"))
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "bench", "work"))
    ap.add_argument("--cal-seconds", type=float, default=1.0)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    bench.ensure_keys(args.bin, args.work)
    cores = os.cpu_count()
    for n in [1 << int(s) for s in args.sizes.split(",") if s]:
        before = bench.calibrate(args.calibrate, args.cal_seconds)
        run = run_card(args, args.work, n)
        after = bench.calibrate(args.calibrate, args.cal_seconds)
        h = (before["hash_to_group_us"] + after["hash_to_group_us"]) / 2
        m = (before["scalar_mult_us"] + after["scalar_mult_us"]) / 2
        bound1 = n * (2 * h + 4 * m) / 1e6
        run.update({"log2_n": n.bit_length() - 1, "reveal": args.reveal, "cores": cores,
                    "t_hash_us": round(h, 2), "t_mult_us": round(m, 2),
                    "arith": before.get("arith"),
                    "ecdh_bound_1core_s": round(bound1, 2),
                    "ecdh_bound_s": round(bound1 / cores, 2),
                    "ratio_wall_to_bound": round(run["wall_s"] / (bound1 / cores), 3),
                    "ratio_cpu_to_bound_cpu": round(run["cpu_s_both"] / bound1, 3)})
        print(json.dumps(run), flush=True)


if __name__ == "__main__":
    main()
