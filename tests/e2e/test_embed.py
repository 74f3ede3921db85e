"""The public API (include/overlap/overlap.h) from another program: the
example examples/embed.c, built by make, runs both parties of an
intersection and of a cardinality over loopback, against the reference
computation and against an `overlap run` peer; misuse and a wrong key fail
with the documented outcome codes and a one-line error."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from e2e import (BIN, TOOLS, Checks, Workdir, expected_count, expected_rows, free_port,  # noqa: E402
                 read_csv, start_connector, write_table)

EMBED = os.path.abspath(os.environ.get("OVL_EXAMPLES",
                                       os.path.join(os.path.dirname(TOOLS), "examples")))
EMBED = os.path.join(EMBED, "embed")

t = Checks("e2e/embed")
wd = Workdir()
left = [(f"user{i}@example.com", str(i)) for i in range(0, 300)]
right = [(f"USER{i}@example.com ", str(i)) for i in range(200, 450)]
lt, rt = wd.p("left.csv"), wd.p("right.csv")
write_table(lt, left)
write_table(rt, right)


def embed(role, port, key, peer, table, out, *extra):
    return subprocess.Popen([EMBED, role, f"127.0.0.1:{port}", wd.p(key), wd.p(peer), table,
                             "email", out, *extra], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def pair(mode=()):
    port = free_port()
    lst = embed("listen", port, "alice.key", "bob.pub", lt, wd.p("l.out"), *mode)
    time.sleep(0.3)
    con = embed("connect", port, "bob.key", "alice.pub", rt, wd.p("c.out"), *mode)
    lo, le = lst.communicate(timeout=300)
    co, ce = con.communicate(timeout=300)
    return (lst.returncode, lo, le), (con.returncode, co, ce)


t.check(os.access(EMBED, os.X_OK), "make builds the embedding example", EMBED)

# Intersection: both receive their own matching rows and the count.
want = expected_count(left, right)
(lc, lo, le), (cc, co, ce) = pair()
t.check(lc == 0 and cc == 0, "intersection: both parties succeed", le + ce)
t.check(f"{want} shared identifiers, peer set 250" in lo, "intersection: listener's count", lo)
t.check(f"{want} shared identifiers, peer set 300" in co, "intersection: connector's count", co)
t.check(read_csv(wd.p("l.out"))[1:] == [list(r) for r in expected_rows(left, right)],
        "intersection: the listener's rows")
t.check(read_csv(wd.p("c.out"))[1:] == [list(r) for r in expected_rows(right, left)],
        "intersection: the connector's rows")

# Cardinality: the count only.
(lc, lo, le), (cc, co, ce) = pair(("cardinality",))
t.check(lc == 0 and cc == 0, "cardinality: both succeed", le + ce)
t.check(open(wd.p("l.out")).read() == f"{want}\n", "cardinality: the count is written")

# The API and the command line interoperate: embed listens, overlap run connects.
port = free_port()
lst = embed("listen", port, "alice.key", "bob.pub", lt, wd.p("l2.out"))
time.sleep(0.3)
con = subprocess.run([BIN, "run", "--connect", f"127.0.0.1:{port}", "--identity", wd.p("bob.key"),
                      "--peer", wd.p("alice.pub"), "--table", rt, "--join", "email",
                      "--normalize", "email", "--out", wd.p("c2.out"), "--quiet"],
                     capture_output=True, text=True, timeout=300)
lo, le = lst.communicate(timeout=300)
t.check(lst.returncode == 0 and con.returncode == 0, "embed and overlap run agree",
        le + con.stderr)
t.check(f"{want} shared identifiers" in lo, "embed against overlap run: the count", lo)

# A wrong pinned key: the connector's TLS handshake fails (network outcome
# 4), one line naming the problem; the listener keeps waiting for its peer.
port = free_port()
lst = embed("listen", port, "alice.key", "mallory.pub", lt, wd.p("l3.out"))
time.sleep(0.3)
con = embed("connect", port, "bob.key", "alice.pub", rt, wd.p("c3.out"))
co, ce = con.communicate(timeout=120)
lst.kill()
lst.communicate()
t.check(con.returncode == 4, "wrong key: the connector fails with 4", f"{con.returncode} {ce}")
t.check(len(ce.strip().splitlines()) == 1 and "embed: error 4:" in ce, "wrong key: one line", ce)
t.check(not os.path.exists(wd.p("c3.out")), "wrong key: no output written")

# Misuse: a missing table is an input error (3) before any connection.
r = subprocess.run([EMBED, "connect", "127.0.0.1:9", wd.p("bob.key"), wd.p("alice.pub"),
                    wd.p("missing.csv"), "email", wd.p("x.out")], capture_output=True, text=True,
                   timeout=60)
t.check(r.returncode == 3 and "missing.csv" in r.stderr, "missing table: input error 3", r.stderr)
r = subprocess.run([EMBED, "sideways"], capture_output=True, text=True, timeout=60)
t.check(r.returncode == 2, "example usage error: 2")

wd.cleanup()
t.finish()
