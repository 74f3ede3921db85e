"""The garbled-circuit part of `make bench` (src/mpc/SPEC.md §GC), run by bench.py.

In one run on this machine:
1. calibrates (build/rel/bench/gc_calibrate, before and after, mean of the two)
   t_AES, the pipelined AES-128 block time of fixed-key pi on one core, and the
   in-process CPU cost of garbling and of evaluating one AND gate;
2. runs build/rel/tools/bristol2pc as two processes over loopback TLS on the
   Bristol AES-128 circuit with --repeat N (throughput, --gc-runs times) and
   N = 1 several times (latency of one AES evaluation, base OTs and COT
   included), checking both parties' output against FIPS-197 C.1;
3. reports AND gates per second (all instances over the evaluation's wall
   time, the best of the throughput runs) against the target 1/(40 t_AES),
   the same per CPU second of the busier party and each party's CPU time per
   AND gate (the least of the runs: what a machine without other load would
   approach; CPU time grows under load too, so these are upper bounds), TLS
   bytes per AND gate sent by the garbler (32 of tables plus framing, input
   labels, decoding records, TLS records), and, next to every run, the load
   average and the CPU time other processes used meanwhile (the benchmark
   shares the machine)."""
import json
import os
import re
import subprocess
import time

FIPS_KEY = "000102030405060708090a0b0c0d0e0f"
FIPS_PT = "00112233445566778899aabbccddeeff"
FIPS_CT = "69c4e0d86a7b0430d8cdb78070b4c55a"


def gc_calibrate(tool, circuit, seconds):
    r = subprocess.run([tool, circuit, "--seconds", str(seconds)], capture_output=True,
                       text=True)
    if r.returncode != 0:
        raise RuntimeError("gc_calibrate failed: " + r.stderr.strip())
    return json.loads(r.stdout)


def stats_line(err):
    m = re.search(r"instances=(\d+) and_gates=(\d+) seconds=([0-9.]+) tls_bytes_sent=(\d+) "
                  r"tls_bytes_received=(\d+)", err)
    if not m:
        return None
    return {"instances": int(m.group(1)), "and_gates": int(m.group(2)),
            "seconds": float(m.group(3)), "tls_bytes_sent": int(m.group(4)),
            "tls_bytes_received": int(m.group(5))}


def run_b2p(tool, work, circuit, repeat, port, busy_jiffies, timeout=1800):
    """One listener (garbler) and one connector (evaluator); wait4 rusage of each."""
    common = ["--circuit", circuit, "--repeat", str(repeat), "--timeout", "600"]
    largs = [tool, "--listen", "127.0.0.1:%d" % port, "--identity",
             os.path.join(work, "alice.key"), "--peer", os.path.join(work, "bob.pub"),
             "--input", FIPS_KEY] + common
    cargs = [tool, "--connect", "127.0.0.1:%d" % port, "--identity",
             os.path.join(work, "bob.key"), "--peer", os.path.join(work, "alice.pub"),
             "--input", FIPS_PT] + common
    files = [open(os.path.join(work, "gc-%s.%s" % (r, s)), "w+")
             for r in ("garbler", "evaluator") for s in ("out", "err")]
    busy0, _ = busy_jiffies()
    t0 = time.monotonic()
    procs = [subprocess.Popen(largs, stdout=files[0], stderr=files[1])]
    time.sleep(0.2)
    procs.append(subprocess.Popen(cargs, stdout=files[2], stderr=files[3]))
    res = {}
    while len(res) < 2 and time.monotonic() - t0 < timeout:
        pid, status, ru = os.wait4(-1, 0)
        for p in procs:
            if p.pid == pid:
                p.returncode = os.waitstatus_to_exitcode(status)
                res[pid] = (p.returncode, ru)
    wall = time.monotonic() - t0
    busy1, _ = busy_jiffies()
    load = os.getloadavg()[0]
    parties, problems = [], []
    for k, (p, role) in enumerate(zip(procs, ("garbler", "evaluator"))):
        files[2 * k].seek(0)
        files[2 * k + 1].seek(0)
        out, err = files[2 * k].read(), files[2 * k + 1].read()
        code, ru = res.get(p.pid, (None, None))
        lines = out.strip().split("\n")
        st = stats_line(err)
        good = code == 0 and lines and lines[0] == FIPS_CT and st is not None
        if repeat > 1:
            good = good and len(lines) == 2 and lines[1].startswith("and_gates_per_second=")
        if not good:
            problems.append("%s exited %s: %s %s" % (role, code, out.strip()[-200:],
                                                     err.strip()[-300:]))
        parties.append({"role": role, "exit": code, "correct": bool(good),
                        "cpu_s": (ru.ru_utime + ru.ru_stime) if ru else None,
                        "peak_rss_bytes": ru.ru_maxrss * 1024 if ru else None,
                        "stats": st})
    for f in files:
        f.close()
    ours = sum(p["cpu_s"] or 0 for p in parties)
    return {"ok": not problems, "problems": problems, "wall_s": wall, "parties": parties,
            "foreign_cpu_s": max(0.0, (busy1 - busy0) - ours), "load_average_1min": load}


def run(args, work, free_port, busy_jiffies):
    cal0 = gc_calibrate(args.gc_calibrate, args.gc_circuit, args.cal_seconds)
    runs = [run_b2p(args.gc_tool, work, args.gc_circuit, args.gc_repeat, free_port(),
                    busy_jiffies) for _ in range(max(1, getattr(args, "gc_runs", 3)))]
    lat = [run_b2p(args.gc_tool, work, args.gc_circuit, 1, free_port(), busy_jiffies)
           for _ in range(args.gc_latency_runs)]
    cal1 = gc_calibrate(args.gc_calibrate, args.gc_circuit, args.cal_seconds)
    cal = {k: (cal0[k] + cal1[k]) / 2 for k in ("ns_per_aes_block", "ns_per_and_garble",
                                                  "ns_per_and_eval")}
    cal["before"], cal["after"] = cal0, cal1
    good = [r for r in runs if r["ok"]]
    thr = min(good, key=lambda r: r["parties"][1]["stats"]["seconds"]) if good else runs[0]
    out = {"calibration": cal, "throughput": thr, "throughput_runs": runs, "latency": lat,
           "ok": len(good) == len(runs) and all(r["ok"] for r in lat)}
    if not out["ok"]:
        return out
    g, e = thr["parties"]
    ands = e["stats"]["and_gates"]
    secs = e["stats"]["seconds"]
    target = 1e9 / (40 * cal["ns_per_aes_block"])
    g_ns = min(r["parties"][0]["cpu_s"] for r in runs) * 1e9 / ands
    e_ns = min(r["parties"][1]["cpu_s"] for r in runs) * 1e9 / ands
    out.update({
        "and_gates": ands,
        "instances": args.gc_repeat,
        "and_gates_per_s": ands / secs,
        "target_and_gates_per_s": target,
        "ratio_to_target": (ands / secs) / target,
        "and_gates_per_cpu_s_busier_party": 1e9 / max(g_ns, e_ns),
        "garbler_cpu_ns_per_and": g_ns,
        "evaluator_cpu_ns_per_and": e_ns,
        "bytes_per_and": g["stats"]["tls_bytes_sent"] / ands,
        "evaluator_bytes_per_and": e["stats"]["tls_bytes_sent"] / ands,
        "aes_latency_s": sorted(r["parties"][1]["stats"]["seconds"] for r in lat),
        "aes_latency_process_wall_s": sorted(r["wall_s"] for r in lat),
        "runs": [{"and_gates_per_s": ands / r["parties"][1]["stats"]["seconds"],
                  "garbler_cpu_ns_per_and": r["parties"][0]["cpu_s"] * 1e9 / ands,
                  "evaluator_cpu_ns_per_and": r["parties"][1]["cpu_s"] * 1e9 / ands,
                  "load_average_1min": r["load_average_1min"],
                  "foreign_cpu_s": r["foreign_cpu_s"]} for r in runs],
    })
    return out


def markdown(r, machine, commit, date, command):
    lines = ["Machine: %s, %d online cores. Commit `%s`, %s. Command: `%s`." % (
        machine["cpu"], machine["cores"], commit, date, command), ""]
    if not r["ok"]:
        probs = [p for x in r.get("throughput_runs", [r["throughput"]]) + r["latency"]
                 for p in x["problems"]]
        return "\n".join(lines + ["FAILED: " + "; ".join(probs)]) + "\n"
    c = r["calibration"]
    lat = r["aes_latency_s"]
    lines += [
        "| measure | value |",
        "|---|---|",
        "| t_AES (pipelined AES-128 block, one core) | %.3f ns |" % c["ns_per_aes_block"],
        "| target AND gates/s, 1/(40·t_AES) | %.2f M |" % (r["target_and_gates_per_s"] / 1e6),
        "| AND gates/s over loopback TLS (%d AES-128 instances, %.1f M ANDs; best of %d runs) "
        "| %.2f M (ratio to target %.3f) |" % (r["instances"], r["and_gates"] / 1e6,
                                               len(r["runs"]), r["and_gates_per_s"] / 1e6,
                                               r["ratio_to_target"]),
        "| AND gates per CPU second of the busier party (least CPU of the runs) | %.2f M "
        "(ratio to target %.3f) |" % (r["and_gates_per_cpu_s_busier_party"] / 1e6,
                                      r["and_gates_per_cpu_s_busier_party"] /
                                      r["target_and_gates_per_s"]),
        "| CPU per AND gate, garbler / evaluator (whole process, TLS included; least of the "
        "runs) | %.1f / %.1f ns (%.1f / %.1f t_AES; target 40 t_AES) |"
        % (r["garbler_cpu_ns_per_and"], r["evaluator_cpu_ns_per_and"],
           r["garbler_cpu_ns_per_and"] / c["ns_per_aes_block"],
           r["evaluator_cpu_ns_per_and"] / c["ns_per_aes_block"]),
        "| each run: M AND/s, garbler / evaluator ns per AND, load average, other processes' "
        "CPU s | %s |" % "; ".join("%.2f, %.1f / %.1f, %.1f, %.1f" % (
            x["and_gates_per_s"] / 1e6, x["garbler_cpu_ns_per_and"],
            x["evaluator_cpu_ns_per_and"], x["load_average_1min"], x["foreign_cpu_s"])
            for x in r["runs"]),
        "| in-process garbling / evaluation per AND gate (calibration) | %.1f / %.1f ns |" % (
            c["ns_per_and_garble"], c["ns_per_and_eval"]),
        "| bytes per AND gate, garbler to evaluator (TLS records) | %.2f |" % r["bytes_per_and"],
        "| bytes per AND gate, evaluator to garbler | %.3f |" % r["evaluator_bytes_per_and"],
        "| AES-128 latency, one instance incl. base OTs and COT (median of %d) | %.1f ms |" % (
            len(lat), 1000 * lat[len(lat) // 2]),
        "| same, whole processes incl. start and TLS handshake (median) | %.1f ms |" % (
            1000 * r["aes_latency_process_wall_s"][len(lat) // 2]),
        "| CPU seconds other processes used during the best throughput run (load average) | "
        "%.1f (%.1f) |" % (r["throughput"]["foreign_cpu_s"],
                           r["throughput"]["load_average_1min"]),
    ]
    return "\n".join(lines) + "\n"
