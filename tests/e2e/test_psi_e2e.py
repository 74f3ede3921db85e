"""End-to-end PSI: two overlap processes over loopback TLS on generated tables,
checked against the intersection computed here from the plaintext tables."""
import hashlib
import os
import random
import sys

sys.path.insert(0, os.path.dirname(__file__))
from e2e import (Checks, Workdir, expected_count, expected_rows, no_temp_files, one_line_error,
                 read_csv, run_pair, write_table)

t = Checks("e2e/psi")
wd = Workdir()
rng = random.Random(20261124)


def email(i, variant=0):
    e = f"user{i}@example.com"
    if variant == 1:
        e = e.upper()
    elif variant == 2:
        e = "  " + e + " "
    return e


def table(name, ids, dup_every=0, invalid=0, variants=True):
    rows = []
    for k, i in enumerate(ids):
        rows.append([email(i, rng.randrange(3) if variants else 0), str(rng.randrange(1000))])
        if dup_every and k % dup_every == 0:
            rows.append([email(i), str(rng.randrange(1000))])
    for k in range(invalid):
        rows.append(["not-an-email" if k % 2 else "", "0"])
    rng.shuffle(rows)
    path = wd.p(name)
    write_table(path, rows)
    return path, rows


def check_run(label, lrows, crows, lst, con, mode="intersection", reveal="both"):
    ok = t.check(lst.code == 0 and con.code == 0, f"{label}: both parties succeed",
                 f"listener {lst.code}: {lst.stderr.strip()[-400:]} | connector {con.code}: "
                 f"{con.stderr.strip()[-400:]}")
    if not ok:
        return
    for who, party, own, other, gets in (("listener", lst, lrows, crows, reveal in ("both", "listener")),
                                         ("connector", con, crows, lrows, reveal in ("both", "connector"))):
        s = party.summary()
        t.check(s is not None and s["peer_set_size"] == len({r[0].strip().lower() for r in other if "@" in r[0]}),
                f"{label}: {who} summary peer_set_size", str(s))
        proto = "cpsi/2" if mode == "cardinality" else "psi/1"
        t.check(s is not None and s.get("protocol") == proto,
                f"{label}: {who} summary names the protocol {proto}", str(s))
        if not gets:
            t.check(not os.path.exists(party.out), f"{label}: {who} without output writes no file")
            t.check(s is not None and s["intersection_size"] is None,
                    f"{label}: {who} without output does not learn the intersection size", str(s))
            continue
        want = expected_count(own, other)
        t.check(s is not None and s["intersection_size"] == want,
                f"{label}: {who} summary intersection_size", f"{s} want {want}")
        if mode == "cardinality":
            with open(party.out) as f:
                txt = f.read()
            t.check(txt == f"{want}\n", f"{label}: {who} cardinality output", repr(txt))
        else:
            got = read_csv(party.out)
            exp = [["email", "amount"]] + expected_rows(own, other)
            t.check(got == exp, f"{label}: {who} rows (header, order, duplicates)",
                    f"got {len(got)} rows, want {len(exp)}")


def case(label, lids, cids, mode="intersection", reveal="both", ldup=0, cdup=0, inval=0):
    lpath, lrows = table(f"{label}-l.csv", lids, ldup, inval)
    cpath, crows = table(f"{label}-c.csv", cids, cdup, inval)
    lout, cout = wd.p(f"{label}-l.out"), wd.p(f"{label}-c.out")
    extra = ["--mode", mode, "--reveal", reveal]
    lst, con = run_pair(wd, lpath, cpath, lout, cout, extra, extra)
    check_run(label, lrows, crows, lst, con, mode, reveal)
    t.check(not no_temp_files(wd.path), f"{label}: no temporary files left")


# Sizes 0, 1, 1000 with 0 %, 50 %, 100 % overlap.
case("empty", [], [])
case("one-match", [7], [7])
case("one-miss", [7], [8])
case("empty-vs-some", [], list(range(10)))
for pct in (0, 50, 100):
    n = 1000
    shift = n - n * pct // 100
    case(f"k1-{pct}", list(range(n)), list(range(shift, shift + n)))
# Duplicates and invalid values, unequal sizes.
case("dups-unequal", list(range(300)), list(range(150, 1150)), ldup=5, cdup=3, inval=7)
# Each reveal setting, both modes.
for reveal in ("both", "listener", "connector"):
    case(f"reveal-{reveal}", list(range(200)), list(range(100, 400)), reveal=reveal)
    case(f"card-{reveal}", list(range(200)), list(range(100, 400)), mode="cardinality",
         reveal=reveal)

# The two arithmetic back ends meet on the wire (README "Arithmetic back end"): the
# listener on libsodium, the connector on AVX-512 IFMA where the machine has it. Valgrind
# cannot run AVX-512, so under `make valgrind` both stay portable.
arith_c = "portable" if os.environ.get("OVL_VALGRIND") else "auto"
lpath, lrows = table("arith-l.csv", list(range(700)))
cpath, crows = table("arith-c.csv", list(range(300, 1000)))
lout, cout = wd.p("arith-l.out"), wd.p("arith-c.out")
lst, con = run_pair(wd, lpath, cpath, lout, cout, ["--arith", "portable"], ["--arith", arith_c])
check_run("arith-mixed", lrows, crows, lst, con)
ls, cs = lst.summary() or {}, con.summary() or {}
t.check(ls.get("arith") == "portable", "arith-mixed: listener summary says portable", str(ls))
t.check(cs.get("arith") in ("ifma", "portable"), "arith-mixed: connector summary names its arithmetic",
        str(cs))

# 100 000 x 100 000 with 50 % overlap (the done-criterion).
# (`make valgrind` runs these tests under memcheck, ~50x slower: it uses 5000.)
BIG = 5000 if os.environ.get("OVL_VALGRIND") else 100000
case("big", list(range(BIG)), list(range(BIG // 2, BIG + BIG // 2)))

# What leaves the machine: the plaintext frames each party sends contain neither
# a join value nor its SHA-256 (hex or raw).
lpath, lrows = table("dump-l.csv", list(range(500)), variants=False)
cpath, crows = table("dump-c.csv", list(range(250, 750)), variants=False)
ldump, cdump = wd.p("l.frames"), wd.p("c.frames")
lst, con = run_pair(wd, lpath, cpath, wd.p("dump-l.out"), wd.p("dump-c.out"),
                    ["--dump-frames", ldump], ["--dump-frames", cdump])
t.check(lst.code == 0 and con.code == 0, "dump: run succeeds", lst.stderr[-300:] + con.stderr[-300:])
frames = open(ldump, "rb").read() + open(cdump, "rb").read()
t.check(len(frames) > 1000 * 32, "dump: frames captured", str(len(frames)))
leaks = 0
for r in lrows + crows:
    v = r[0].strip().lower().encode()
    h = hashlib.sha256(v).digest()
    if v in frames or h[:8] in frames or h.hex().encode() in frames:
        leaks += 1
t.check(leaks == 0, "dump: no join value or SHA-256 of one in the transcript", f"{leaks} leaks")

wd.cleanup()
t.finish()
