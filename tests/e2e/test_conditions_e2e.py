"""End-to-end: conditions across parties (protocols/aggregate/CONDITIONS.md) at
the command line: one hash for one meaning (mirror image, weeks, ON or WHERE),
the canonical form, one-line errors for refused forms, the policy key
aggregation.join_conditions explained, and `overlap run` refusing such a
template with a policy error before connecting rather than dropping the
condition."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from e2e import BIN, Checks, Workdir, one_line_error

t = Checks("e2e/conditions")
wd = Workdir()

HEAD = ("SELECT c.campaign, COUNT(DISTINCT c.email) AS users, SUM(p.amount) AS revenue\n"
        "FROM impressions AS c INNER JOIN purchases AS p ON c.email = p.email\n")
TAIL = "GROUP BY c.campaign HAVING COUNT(DISTINCT c.email) >= 2\n"


def run(*args):
    return subprocess.run([BIN] + list(args), capture_output=True, text=True, cwd=wd.path)


def tpl(name, cond, pre=""):
    return wd.write(name, pre + HEAD + cond + "\n" + TAIL)


def hash_of(path):
    r = run("template", "hash", path)
    return r.stdout.strip() if r.returncode == 0 else "error: " + r.stderr.strip()


window = tpl("window.sql", " AND p.day BETWEEN c.seen AND c.seen + INTERVAL '30 days'")
same = {
    "mirror": tpl("mirror.sql", " AND c.seen BETWEEN p.day - INTERVAL '30 days' AND p.day"),
    "where": tpl("where.sql", "WHERE p.day BETWEEN c.seen AND c.seen + INTERVAL '30 days'"),
    "cap default": tpl("cap4.sql", " AND p.day BETWEEN c.seen AND c.seen + INTERVAL '30 days'",
                       "-- cap rows 4\n"),
    "reformatted": wd.write("reformatted.sql", "select c.campaign, count(distinct c.email) as users,"
                            " sum(p.amount) as revenue from impressions c join purchases p on "
                            "c.email = p.email and p.day between c.seen and c.seen + interval "
                            "'30 days' group by c.campaign having count(distinct c.email) >= 2"),
}
h = hash_of(window)
t.check(len(h) == 64, "the window template hashes", h)
for label, path in same.items():
    t.check(hash_of(path) == h, f"{label}: same meaning, same hash", hash_of(path))
differ = {
    "31 days": tpl("w31.sql", " AND p.day BETWEEN c.seen AND c.seen + INTERVAL '31 days'"),
    "4 weeks": tpl("w4w.sql", " AND p.day BETWEEN c.seen AND c.seen + INTERVAL '4 weeks'"),
    "cap 2": tpl("cap2.sql", " AND p.day BETWEEN c.seen AND c.seen + INTERVAL '30 days'",
                 "-- cap rows 2 by c.seen\n"),
    "no window": tpl("none.sql", ""),
}
for label, path in differ.items():
    t.check(hash_of(path) not in (h, "") and len(hash_of(path)) == 64,
            f"{label}: another meaning, another hash", hash_of(path))
t.check(hash_of(tpl("w28.sql", " AND p.day BETWEEN c.seen AND c.seen + INTERVAL '28 days'")) ==
        hash_of(differ["4 weeks"]), "4 weeks hashes as 28 days")
r = run("template", "hash", window, "--canonical")
t.check(r.returncode == 0 and "-- cap rows 4\n" in r.stdout and
        "ON c.email = p.email AND c.seen BETWEEN p.day - INTERVAL '30 days' AND p.day\n" in r.stdout,
        "canonical form: cap filled in, FROM table left, offsets in days", r.stdout)


def check_fail(r, code, want, what):
    err = one_line_error(r.stderr)
    t.check(r.returncode == code, f"{what}: exit {code}", f"got {r.returncode}: {r.stderr.strip()}")
    t.check(want in err, f"{what}: error mentions '{want}'", err)
    t.check(len([l for l in r.stderr.splitlines() if l.strip()]) == 1, f"{what}: one line", r.stderr)


check_fail(run("template", "hash", tpl("month.sql", " AND p.day < c.seen + INTERVAL '1 month'")), 3,
           "month.sql:3:21: + INTERVAL '1 month': an interval is INTERVAL 'n days' or 'n weeks'",
           "months refused")
check_fail(run("template", "hash", tpl("own.sql", " AND p.day < p.ship")), 3,
           "comparing two columns of one table is not supported", "one table's columns refused")
check_fail(run("template", "hash", tpl("capnone.sql", "", "-- cap rows 2\n")), 3,
           "a cap applies only with conditions across parties", "cap without a pair refused")

# The policy key, explained.
wd.write("purchases.csv", "email,day,amount\na@example.com,2026-07-01,10\n")
r = run("policy", "init", "--table", wd.p("purchases.csv"))
pol = r.stdout.replace('"allow_cardinality": false', '"allow_cardinality": false, '
                       '"join_conditions": ["day"]')
t.check('"join_conditions"' in pol, "policy edited", pol)
wd.write("p.json", pol)
r = run("policy", "check", wd.p("p.json"))
t.check(r.returncode == 0 and "compared with the partner's columns on each joined row: day" in r.stdout,
        "policy check explains join_conditions", r.stdout + r.stderr)
wd.write("bad.json", pol.replace('"join_conditions": ["day"]', '"join_conditions": ["ssn"]'))
check_fail(run("policy", "check", wd.p("bad.json")), 3,
           "aggregation.join_conditions[0]: 'ssn' is not a column of table.columns", "unknown column")

# overlap run refuses the template before connecting (port 1: nothing listens).
r = run("run", "--connect", "127.0.0.1:1", "--identity", wd.p("bob.key"), "--peer", wd.p("alice.pub"),
        "--table", wd.p("purchases.csv"), "--table-name", "purchases", "--join", "email",
        "--template", window, "--out", wd.p("out.csv"))
err = one_line_error(r.stderr)
t.check(r.returncode != 0 and "compares columns of both tables on each joined row" in err and
        "refused rather than run without it" in err,
        "run refuses a template with a condition across parties", r.stderr)
t.check(not os.path.exists(wd.p("out.csv")), "no output written")
t.finish()
