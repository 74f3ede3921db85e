"""End-to-end: overlap policy init/check, template hash/approve/verify and
audit verify/show, with good and bad inputs (exit codes, one-line errors)."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from e2e import BIN, Checks, Workdir, one_line_error

t = Checks("e2e/policy_cli")
wd = Workdir()
DEMO = os.path.join(os.path.dirname(__file__), "..", "demo")


def run(*args):
    return subprocess.run([BIN] + list(args), capture_output=True, text=True, cwd=wd.path)


def check_fail(r, code, want, what):
    err = one_line_error(r.stderr)
    t.check(r.returncode == code, f"{what}: exit {code}", f"got {r.returncode}: {r.stderr.strip()}")
    t.check(want in err, f"{what}: error mentions '{want}'", err)
    t.check(len([l for l in r.stderr.splitlines() if l.strip()]) == 1, f"{what}: one line", r.stderr)


# ---- policy init / check
wd.write("purchases.csv", "email,purchase_date,purchase_amount\na@example.com,2026-07-01,10\n")
r = run("policy", "init", "--table", wd.p("purchases.csv"))
t.check(r.returncode == 0 and '"purchase_amount"' in r.stdout, "policy init lists the columns", r.stderr)
wd.write("p.json", r.stdout)
r = run("policy", "check", wd.p("p.json"))
t.check(r.returncode == 0 and "every session is refused" in r.stdout and
        "Intersection (row-level) runs: refused" in r.stdout, "init's policy allows nothing", r.stdout)
r = run("policy", "check", os.path.join(DEMO, "retail.policy.json"))
t.check(r.returncode == 0 and "fewer than 25 distinct identifiers" in r.stdout, "demo policy explained", r.stderr)
bad = open(wd.p("p.json")).read().replace('"min_rows": 100', '"min_rows": 1')
wd.write("bad.json", bad)
check_fail(run("policy", "check", wd.p("bad.json")), 3,
           "bad.json: aggregation.min_rows: must be an integer from 2 to 100000", "min_rows out of range")
wd.write("unknown.json", bad.replace('"min_rows": 1', '"min_rows": 100, "minrows": 5'))
check_fail(run("policy", "check", wd.p("unknown.json")), 3, "aggregation.minrows: unknown key", "unknown key")
wd.write("broken.json", "{\n  \"version\": 1,\n")
check_fail(run("policy", "check", wd.p("broken.json")), 3, "broken.json:3:", "malformed JSON")
check_fail(run("policy", "check", wd.p("missing.json")), 3, "cannot open", "missing policy")
check_fail(run("policy", "init"), 2, "--table CSV is required", "init without --table")
check_fail(run("policy", "frobnicate"), 2, "unknown subcommand", "unknown subcommand")

# ---- template hash / approve / verify
src = open(os.path.join(DEMO, "attribution.sql")).read()
wd.write("attribution.sql", src)
r = run("template", "hash", wd.p("attribution.sql"))
h = r.stdout.strip()
t.check(r.returncode == 0 and len(h) == 64, "template hash prints 64 hex", r.stderr)
wd.write("reformatted.sql", "-- reformatted\n" + src.replace("    ", " ").replace("SELECT", "select")
         .replace("FROM", "from"))
r = run("template", "hash", wd.p("reformatted.sql"))
t.check(r.stdout.strip() == h, "reformatting keeps the hash", r.stdout + r.stderr)
wd.write("changed.sql", src.replace(">= 20;", ">= 10;"))
r = run("template", "hash", wd.p("changed.sql"))
t.check(r.returncode == 0 and r.stdout.strip() != h, "a lower threshold changes the hash")
policy = open(os.path.join(DEMO, "retail.policy.json")).read()
t.check(h in policy, "demo policy approves the demo template's hash")
wd.write("bad.sql", "SELECT c.g,\n  SUM(c.x * p.y) FROM a AS c JOIN b AS p ON c.k = p.k GROUP BY c.g\n")
check_fail(run("template", "hash", wd.p("bad.sql")), 3,
           "bad.sql:2:3: SUM(c.x * p.y): expressions inside aggregates cannot be computed privately",
           "expression inside an aggregate")
wd.write("or.sql", "SELECT COUNT(*) FROM a AS c JOIN b AS p ON c.k = p.k WHERE c.x = 1 OR c.y = 2\n")
check_fail(run("template", "hash", wd.p("or.sql")), 3, "or.sql:1:68: OR: OR is not supported", "OR")

r = run("template", "approve", wd.p("attribution.sql"), "--identity", wd.p("alice.key"))
t.check(r.returncode == 0 and os.path.exists(wd.p("attribution.sql.alice.sig")), "approve writes the .sig",
        r.stderr)
r = run("template", "verify", wd.p("attribution.sql"), "--key", wd.p("alice.pub"))
t.check(r.returncode == 0 and "approved by alice" in r.stdout, "verify accepts the approval", r.stderr)
check_fail(run("template", "verify", wd.p("attribution.sql"), "--key", wd.p("alice.pub"), "--key",
               wd.p("bob.pub")), 6, "no approval by bob", "missing approval")
# approval of another template: alice's signature moved to the changed template
os.rename(wd.p("attribution.sql.alice.sig"), wd.p("changed.sql.alice.sig"))
check_fail(run("template", "verify", wd.p("changed.sql"), "--key", wd.p("alice.pub")), 6,
           "approves another template", "approval for another template")
os.rename(wd.p("changed.sql.alice.sig"), wd.p("attribution.sql.alice.sig"))
# forged: bob's key claims alice's approval
sig = open(wd.p("attribution.sql.alice.sig")).read()
fields = sig.split(" ")
fields[4] = ("0" if fields[4][0] != "0" else "1") + fields[4][1:]
wd.write("attribution.sql.alice.sig", " ".join(fields))
check_fail(run("template", "verify", wd.p("attribution.sql"), "--key", wd.p("alice.pub")), 4,
           "signature does not verify", "forged approval")
r = run("template", "approve", wd.p("attribution.sql"), "--identity", wd.p("alice.key"))
t.check(r.returncode == 0, "re-approve replaces a bad approval", r.stderr)
r = run("template", "verify", wd.p("attribution.sql"), "--key", wd.p("alice.pub"), "--param",
        "campaign_id=CAMP_2026_Q3", "--param", "start_date=2026-07-01", "--param", "end_date=2026-07-31")
t.check(r.returncode == 0 and "parameters fit" in r.stdout, "parameters within their declarations", r.stderr)
check_fail(run("template", "verify", wd.p("attribution.sql"), "--key", wd.p("alice.pub"), "--param",
               "campaign_id=CAMP_1999", "--param", "start_date=2026-07-01", "--param", "end_date=2026-07-31"),
           2, "campaign_id: value is not in its allowed list", "parameter outside its list")
check_fail(run("template", "verify", wd.p("attribution.sql"), "--key", wd.p("alice.pub"), "--param",
               "campaign_id=CAMP_2026_Q3", "--param", "start_date=2026-07-01"),
           2, "end_date: no value given", "missing parameter is a usage error")
check_fail(run("template", "approve", wd.p("attribution.sql")), 2, "--identity KEY is required",
           "approve without identity")

# ---- audit verify: logs are written by run/serve (tampering with real entries is
# covered by tests/unit/test_audit.c); here the command's handling of bad files.
check_fail(run("audit", "verify", wd.p("none.audit")), 3, "none.audit: no such audit log",
           "a missing log is an error, not an empty log")
check_fail(run("audit", "show", wd.p("none.audit")), 3, "none.audit: no such audit log",
           "audit show of a missing log")
wd.write("empty.audit", "")
check_fail(run("audit", "verify", wd.p("empty.audit")), 7, "holds no entries and",
           "an empty log without its head")
wd.write("garbage.audit", "{\"seq\": 1}\n")
r = run("audit", "verify", wd.p("garbage.audit"))
t.check(r.returncode == 7 and "garbage.audit:1: entry 1:" in one_line_error(r.stderr),
        "malformed entry reported with its line, exit 7", r.stderr)
wd.write("cut.audit", "{\"seq\": 1")
r = run("audit", "verify", wd.p("cut.audit"))
t.check(r.returncode == 7 and "truncated" in one_line_error(r.stderr), "truncated entry reported",
        r.stderr)
check_fail(run("audit", "verify", wd.p("none.audit"), "--key", wd.p("nobody.pub")), 3, "nobody.pub",
           "missing owner key")
check_fail(run("audit", "check", wd.p("none.audit")), 2, "unknown subcommand", "audit unknown subcommand")

wd.cleanup()
t.finish()
