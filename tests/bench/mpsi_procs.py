"""`make bench`, multi-party PSI over real processes: K overlap processes
(`run --parties K`, one listener and K-1 members) on this machine over
loopback TLS, 2^N identifiers each, member i holding values [i*s, i*s + n)
with s = n / (2(K-1)), so n - (K-1)*s are in all K sets. Calibrates the two
group operations the protocol needs (mpsi_bench calibrate: single-core
hash-to-group and scalar multiplication) before and after the run, and
reports one JSON line:
  bound = (hashes x t_hash + multiplications x t_mult) / min(cores, K)
          (SPEC.md §9: each member n hashes and (K+1) n multiplications)
  ratio = wall / bound          (wall from the listener's start to the last exit)
  ratio_other_load_excluded     (wall against the bound plus the CPU other
                                 processes took from the cores meanwhile)
  cpu_ratio = the busiest member's CPU / its share of the group operations
with each member's bytes sent (TLS records, its --summary), CPU and peak RSS,
the load average before and after, and a check of every member's output.
usage: mpsi_procs.py --bin OVERLAP --calib MPSI_BENCH [--log2 18] [--members 3]"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def busy():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (v[0] + v[1] + v[2] + v[5] + v[6]) / CLK_TCK


def calibrate(tool):
    r = subprocess.run([tool, "calibrate"], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("mpsi_procs: calibration failed: " + r.stderr.strip())
    return json.loads(r.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--calib", required=True)
    ap.add_argument("--log2", type=int, default=18)
    ap.add_argument("--members", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1,
                    help="--threads per member (2: a member waiting on a hop leaves its core to the others, "
                         "a member computing uses both)")
    a = ap.parse_args()
    k, n = a.members, 1 << a.log2
    shift = n // (2 * (k - 1))
    want = n - (k - 1) * shift
    cores = os.cpu_count()
    work = tempfile.mkdtemp(prefix="overlap-mpsi-bench-")
    try:
        names = ["m%d" % i for i in range(k)]
        tables = []
        for i, name in enumerate(names):
            subprocess.run([a.bin, "keygen", "--name", name, "--dir", work], check=True,
                           capture_output=True)
            path = os.path.join(work, name + ".csv")
            with open(path, "w") as f:
                f.write("id\n")
                f.writelines("u%x@example.com\n" % v for v in range(i * shift, i * shift + n))
            tables.append(path)
        load0 = os.getloadavg()
        cal0 = calibrate(a.calib)
        base = ["--join", "id", "--summary", "json", "--quiet", "--timeout", "600",
                "--threads", str(a.threads)]
        files, procs = [], []
        b0, w0 = busy(), time.monotonic()
        for i in range(k):
            args = [a.bin, "run", "--parties", str(k), "--identity",
                    os.path.join(work, names[i] + ".key"), "--table", tables[i], "--out",
                    os.path.join(work, names[i] + ".out")] + base
            if i == 0:
                args += ["--listen", "127.0.0.1:0"]
                for j in range(1, k):
                    args += ["--peer", os.path.join(work, names[j] + ".pub")]
            else:
                args += ["--connect", "127.0.0.1:%d" % port, "--peer",
                         os.path.join(work, names[0] + ".pub")]
            out = open(os.path.join(work, "%d.stdout" % i), "w+")
            err = open(os.path.join(work, "%d.stderr" % i), "w+")
            files.append((out, err))
            procs.append(subprocess.Popen(args, stdout=out, stderr=err))
            if i == 0:
                port = None
                while port is None and procs[0].poll() is None:
                    err.seek(0)
                    m = re.search(r"listening on \S+:(\d+)", err.read())
                    port = int(m.group(1)) if m else None
                    time.sleep(0.01)
                if port is None:
                    sys.exit("mpsi_procs: the listener did not start")
        res = {}
        while len(res) < k:
            pid, status, ru = os.wait4(-1, 0)
            res[pid] = (os.waitstatus_to_exitcode(status), ru)
        wall, b1 = time.monotonic() - w0, busy()
        cal1 = calibrate(a.calib)
        load1 = os.getloadavg()
        t_hash = (cal0["t_hash_us"] + cal1["t_hash_us"]) / 2
        t_mult = (cal0["t_mult_us"] + cal1["t_mult_us"]) / 2
        hashes, mults = k * n, k * n * (k + 1)
        par = min(cores, k)
        bound = (hashes * t_hash + mults * t_mult) / 1e6 / par
        members, ok, ours = [], True, 0.0
        for i, p in enumerate(procs):
            code, ru = res[p.pid]
            out, err = files[i]
            out.seek(0)
            err.seek(0)
            s = next((json.loads(l) for l in out.read().splitlines() if l.startswith("{")), {})
            rows = 0
            outp = os.path.join(work, names[i] + ".out")
            if os.path.exists(outp):
                with open(outp) as f:
                    rows = sum(1 for _ in f) - 1
            good = code == 0 and s.get("intersection_size") == want and rows == want
            ok &= good
            cpu = ru.ru_utime + ru.ru_stime
            ours += cpu
            members.append({"index": i, "exit": code, "cpu_s": round(cpu, 2),
                            "peak_rss_bytes": ru.ru_maxrss * 1024,
                            "bytes_sent": s.get("bytes_sent"),
                            "bytes_received": s.get("bytes_received"),
                            "bytes_sent_per_identifier": round((s.get("bytes_sent") or 0) / n, 1),
                            "correct": good,
                            "error": "" if code == 0 else err.read().strip()[-200:]})
        foreign = max(0.0, (b1 - b0) - ours)
        member_bound = bound * par / k
        print(json.dumps({
            "bench": "mpsi over processes", "members": k, "n": n, "cores": cores,
            "t_hash_us": round(t_hash, 2), "t_mult_us": round(t_mult, 2), "hashes": hashes,
            "mults": mults, "wall_s": round(wall, 2), "bound_s": round(bound, 2),
            "ratio": round(wall / bound, 3),
            "ratio_other_load_excluded": round(wall / (bound + foreign / cores), 3),
            "foreign_cpu_s": round(foreign, 1),
            "cpu_ratio": round(max(m["cpu_s"] for m in members) / member_bound, 3),
            "loadavg_before": [round(x, 2) for x in load0],
            "loadavg_after": [round(x, 2) for x in load1],
            "expected": want, "per_member": members, "correct": ok}))
        return 0 if ok else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
