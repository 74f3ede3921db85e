"""Help texts, the manual page and `make install`:
- every long option a command's source accepts (getopt tables and literal
  "--x" comparisons in src/cli/cmd_<command>.c) appears in
  `overlap <command> --help`, and every help text exits 0 on stdout;
- the manual page (doc/gen_man.py) holds every command's help text;
- `make install` with PREFIX and DESTDIR puts bin/overlap and
  share/man/man1/overlap.1 there, and `make uninstall` removes them."""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from e2e import BIN, Checks

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("OVL_BUILD", "build")
t = Checks("e2e/help_install")

top = subprocess.run([BIN, "--help"], capture_output=True, text=True)
t.check(top.returncode == 0 and "commands:" in top.stdout, "overlap --help", top.stderr)
commands = [l.split()[0] for l in top.stdout.split("commands:", 1)[-1].split("\n\n")[0].split("\n")
            if l.startswith("  ")]
t.check("run" in commands and "serve" in commands, "the command list names run and serve",
        str(commands))
helps = {}
for cmd in commands:
    r = subprocess.run([BIN, cmd, "--help"], capture_output=True, text=True)
    t.check(r.returncode == 0 and r.stdout.startswith("usage: overlap " + cmd) and not r.stderr,
            f"overlap {cmd} --help prints its usage on stdout, exit 0", r.stderr)
    helps[cmd] = r.stdout

OPT = re.compile(r'\{"([a-z][a-z-]*)",\s*(?:required|no|optional)_argument|"(--[a-z][a-z-]*)"')
for cmd in commands:
    src = os.path.join(ROOT, "src", "cli", f"cmd_{cmd}.c")
    if not os.path.exists(src):
        continue
    with open(src) as f:
        text = f.read()
    opts = {("--" + a) if a else b for a, b in OPT.findall(text)} - {"--help"}
    missing = sorted(o for o in opts if not re.search(re.escape(o) + r"\b", helps[cmd]))
    t.check(not missing, f"overlap {cmd} --help documents every option", ", ".join(missing))
run_first = helps.get("run", "").split("\n\n")[1] if "\n\n" in helps.get("run", "") else ""
t.check("aggregate" in run_first or "analysis" in run_first,
        "run's description covers more than PSI", run_first)

# The exit-status table of overlap --help and README's table name the same
# codes, and each input README lists under exit 3 appears in the help's entry.
readme = open(os.path.join(ROOT, "README.md")).read()
readme_rows = dict(re.findall(r"^\| (\d) \| (.+) \|$", readme, re.M))
help_exit = top.stdout.split("exit status:", 1)[-1].split("\n\n")[0]
help_rows = {m[0]: " ".join(m[1].split()) for m in
             re.findall(r"^  (\d)  (.*(?:\n     .*)*)", help_exit, re.M)}
t.check(sorted(readme_rows) == sorted(help_rows), "README and --help list the same exit codes",
        f"{sorted(readme_rows)} vs {sorted(help_rows)}")
inner = re.search(r"\(([^;)]*)", readme_rows.get("3", ""))
inputs = [w.strip().split()[0] for w in inner.group(1).split(",")] if inner else []
absent = [w for w in inputs if w not in help_rows.get("3", "")]
t.check(inputs and not absent, "overlap --help's exit 3 names every input README's does",
        ", ".join(absent) or "README's row 3 lists no inputs")

# The manual page.
man = os.path.join(BUILD, "overlap.1")
gen = subprocess.run([sys.executable, os.path.join(ROOT, "doc", "gen_man.py"), BIN],
                     capture_output=True, text=True)
t.check(gen.returncode == 0 and gen.stdout.startswith(".TH OVERLAP 1"), "gen_man.py writes a page",
        gen.stderr)
page = gen.stdout.replace("\\e", "\\").replace("\\&", "")
for cmd in commands:
    body = [l for l in helps[cmd].split("\n") if l.strip()]
    t.check(all(l in page for l in body), f"the manual page holds overlap {cmd} --help")

# make install / uninstall into a scratch DESTDIR.
dest = tempfile.mkdtemp(prefix="overlap-install-")
try:
    mk = ["make", "-s", "-C", ROOT, f"BUILD={BUILD}", f"DESTDIR={dest}", "PREFIX=/opt/ovl"]
    r = subprocess.run(mk + ["install"], capture_output=True, text=True)
    t.check(r.returncode == 0, "make install succeeds", r.stderr[-800:])
    b = os.path.join(dest, "opt/ovl/bin/overlap")
    m = os.path.join(dest, "opt/ovl/share/man/man1/overlap.1")
    t.check(os.access(b, os.X_OK), "make install puts bin/overlap under DESTDIR/PREFIX")
    t.check(os.path.isfile(m), "make install puts share/man/man1/overlap.1 under DESTDIR/PREFIX")
    v = subprocess.run([b, "--version"], capture_output=True, text=True) if os.path.exists(b) else None
    t.check(v is not None and v.returncode == 0 and v.stdout.startswith("overlap "),
            "the installed overlap runs")
    if os.path.isfile(m):
        with open(m) as f:
            t.check(f.read().startswith(".TH OVERLAP 1"), "the installed page is the manual page")
    r = subprocess.run(mk + ["uninstall"], capture_output=True, text=True)
    t.check(r.returncode == 0 and not os.path.exists(b) and not os.path.exists(m),
            "make uninstall removes both files", r.stderr[-400:])
finally:
    shutil.rmtree(dest, ignore_errors=True)
t.finish()
