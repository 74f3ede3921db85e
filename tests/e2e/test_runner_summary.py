"""tests/run.sh's closing summary: skipped checks are counted and listed with
their reasons, and a failing program is named. Runs tests/run.sh over a
scratch build directory holding stand-in test programs."""
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from e2e import Checks

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
t = Checks("e2e/runner_summary")


def program(d, name, body):
    path = os.path.join(d, "san", "tests", name)
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body)
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)


def run(build):
    env = dict(os.environ, OVL_BUILD=build, OVL_ONLY="unit")
    return subprocess.run(["sh", os.path.join(ROOT, "tests", "run.sh")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def extra(out):
    """Checks run.sh adds on its own to the unit family (the include rule over
    the repository), so the expected totals below can add them."""
    m = re.search(r"ok   checks/includes: (\d+) checks", out)
    return int(m.group(1)) if m else 0


d = tempfile.mkdtemp(prefix="overlap-runner-")
try:
    os.makedirs(os.path.join(d, "san", "tests"))
    program(d, "test_a", 'echo "SKIP network namespaces: needs root"\n'
                         'echo "  SKIP IPv6 loopback test: no ::1 here"\n'
                         'echo "a: 3 passed, 0 failed"\n')
    program(d, "test_b", 'echo "b: 2 passed, 0 failed"\n')
    r = run(d)
    out = r.stdout
    t.check(r.returncode == 0, "all passing: exit 0", out + r.stderr)
    t.check("ok   unit/test_a: 3 checks" in out and "ok   unit/test_b: 2 checks" in out,
            "a progress line per program", out)
    t.check("skipped 2 checks:" in out and "unit/test_a: network namespaces: needs root" in out
            and "unit/test_a: IPv6 loopback test: no ::1 here" in out,
            "the summary lists each skipped check with its reason", out)
    t.check(out.rstrip().endswith("%d passed, 0 failed, 2 skipped" % (5 + extra(out))),
            "closing line counts skips",
            out[-200:])
    program(d, "test_c", 'echo "c: 1 passed, 1 failed"\nexit 1\n')
    r = run(d)
    t.check(r.returncode != 0 and "failed: unit/test_c" in r.stdout and
            r.stdout.rstrip().endswith("%d passed, 1 failed, 2 skipped" % (6 + extra(r.stdout))),
            "a failing program is named and counted", r.stdout[-300:])
    os.remove(os.path.join(d, "san", "tests", "test_a"))
    os.remove(os.path.join(d, "san", "tests", "test_c"))
    r = run(d)
    t.check("skipped no checks" in r.stdout and r.stdout.rstrip().endswith("%d passed, 0 failed, 0 skipped" % (2 + extra(r.stdout))),
            "nothing skipped: said so", r.stdout[-200:])
finally:
    shutil.rmtree(d, ignore_errors=True)
t.finish()
