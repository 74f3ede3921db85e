"""Hostile peer: a real `overlap run` (the sanitizer build) against
tests/tools/hostile_peer, which speaks real TLS and the real protocol but
deviates on purpose, one way per case. Each case must end the honest run
with its specific one-line error and exit status, within the timeout, with
no output file and no temporary file left, and with the honest process's
peak memory (ru_maxrss from wait4) bounded."""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from e2e import BIN, TOOLS, Checks, Workdir, no_temp_files, one_line_error, write_table

HOSTILE = os.path.join(TOOLS, "hostile_peer")
TIMEOUT = 5           # the honest party's --timeout
DEADLINE = 60         # wall-clock bound for any single case (ASan build, 2 cores)
RSS_CAP_KB = 300 * 1024

t = Checks("e2e/hostile")
wd = Workdir()
# The honest table shares user0..user49 with the hostile peer's identifiers.
table = wd.p("honest.csv")
write_table(table, [[f"user{i}@example.com", str(i)] for i in range(100)])


class Honest:
    """One honest overlap run; reaped with wait4 for its peak RSS."""

    def __init__(self, label, role, port=None, extra=(), table_path=None):
        self.out = wd.p(f"{label}.out")
        self.err_path = wd.p(f"{label}.err")
        args = [BIN, "run", "--identity", wd.p("alice.key"), "--peer", wd.p("bob.pub"),
                "--table", table_path or table, "--join", "email", "--normalize", "email", "--out", self.out,
                "--timeout", str(TIMEOUT), "--wait", "30", "--quiet", "--threads", "2"]
        args += ["--listen", "127.0.0.1:0"] if role == "listener" else \
            ["--connect", f"127.0.0.1:{port}"]
        args += list(extra)
        self.errf = open(self.err_path, "w")
        self.t0 = time.time()
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=self.errf)
        self.code = None
        self.rss_kb = 0
        self.seconds = None

    def port(self):
        deadline = time.time() + 30
        while time.time() < deadline and self.proc.poll() is None:
            m = re.search(r"listening on \S+:(\d+)", self.stderr())
            if m:
                return int(m.group(1))
            time.sleep(0.05)
        return None

    def stderr(self):
        with open(self.err_path) as f:
            return f.read()

    def wait(self):
        deadline = self.t0 + DEADLINE
        while True:
            pid, status, ru = os.wait4(self.proc.pid, os.WNOHANG)
            if pid == self.proc.pid:
                break
            if time.time() > deadline:
                self.proc.kill()
                pid, status, ru = os.wait4(self.proc.pid, 0)
                break
            time.sleep(0.05)
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        self.code = self.proc.returncode
        self.rss_kb = ru.ru_maxrss
        self.seconds = time.time() - self.t0
        self.errf.close()
        return self


def hostile(case, extra=(), listen=None, port=None, binary=HOSTILE):
    args = [binary, "--case", case, "--identity", wd.p("bob.key"), "--peer", wd.p("alice.pub"),
            "--timeout", "30"]
    args += ["--listen", listen] if listen else ["--connect", f"127.0.0.1:{port}"]
    return subprocess.Popen(args + list(extra), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)


def run_case(case, want, code, extra=(), honest_role="listener", honest_extra=(),
             table_path=None, binary=HOSTILE):
    """Runs the honest party against hostile `case`; checks error, exit, time, output, memory."""
    if honest_role == "listener":
        h = Honest(case, "listener", extra=honest_extra, table_path=table_path)
        port = h.port()
        if not t.check(port is not None, f"{case}: honest listener starts", h.stderr()):
            h.proc.kill()
            h.wait()
            return None
        hp = hostile(case, extra, port=port, binary=binary)
    else:
        hp = hostile(case, extra, listen="127.0.0.1:0")
        line = hp.stderr.readline()
        m = re.search(r"listening on port (\d+)", line)
        if not t.check(m is not None, f"{case}: hostile listener starts", line):
            hp.kill()
            hp.wait()
            return None
        h = Honest(case, "connector", port=int(m.group(1)))
    h.wait()
    try:
        hout = hp.communicate(timeout=40)[1]
    except subprocess.TimeoutExpired:
        hp.kill()
        hout = hp.communicate()[1]
    err = one_line_error(h.stderr())
    detail = f"exit {h.code}, error: {err!r}; hostile said: {hout.strip()[-300:]}"
    if want is None:  # baseline: must succeed
        t.check(h.code == 0, f"{case}: honest run succeeds", detail)
    else:
        t.check(h.code == code, f"{case}: exit status {code}", detail)
        t.check(re.search(want, err) is not None, f"{case}: error says /{want}/", detail)
        t.check(len([l for l in h.stderr().splitlines() if "error" in l]) == 1,
                f"{case}: exactly one error line", h.stderr())
        t.check(not os.path.exists(h.out), f"{case}: no output file")
    t.check(h.seconds < DEADLINE - 1, f"{case}: ends within {DEADLINE} s", f"{h.seconds:.1f} s")
    t.check(h.rss_kb < RSS_CAP_KB, f"{case}: peak RSS under {RSS_CAP_KB // 1024} MiB",
            f"{h.rss_kb // 1024} MiB")
    t.check(not no_temp_files(wd.path), f"{case}: no temporary files left")
    print(f"  {case:<13} {honest_role:<9} "
          f"exit {h.code}  {h.seconds:5.1f} s  maxrss {h.rss_kb // 1024} MiB  {err[:90]}",
          flush=True)
    return h


INVALID = r"the peer sent an invalid group element \(element 1 of its set\)"
CASES = [
    # case, expected error (regex), exit status
    ("identity", INVALID, 5),
    ("invalid", INVALID, 5),
    ("noncanonical", INVALID, 5),
    ("duplicate", r"the peer sent the same element twice", 5),
    ("more", r"the peer sent more elements than the 49 it announced", 5),
    ("fewer", r"the peer finished after sending 50 of the 51 elements it announced", 5),
    ("silent", r"was silent for more than %d s" % TIMEOUT, 4),
    ("oversize", r"the peer announced 1099511627776 identifiers, over this party's cap", 5),
    ("truncated", r"ELEMENTS frame from the peer has \d+ bytes for 50 elements", 5),
    ("out_of_order", r"the peer sent frame type 0x04 before HELLO", 5),
    ("second_hello", r"the peer sent a second HELLO", 5),
    ("version", r"the peer speaks overlap protocol version 2, this build speaks version 1", 5),
    ("suite", r"suite mismatch: the listener uses .*\(id \d+\), the connector .*\(id \d+\)", 6),
    ("big_frame", r"peer announced a 2147483647-byte frame \(type 0x02\), cap is 1048576", 5),
    ("garbage", r"announced a 1163141167-byte (first )?frame", 5),
]

print("hostile peer cases (honest side):", flush=True)
base = run_case("honest", None, 0)
baseline_rss = base.rss_kb if base else 0
for case, want, code in CASES:
    run_case(case, want, code)

# The honest party as connector, against a hostile listener.
run_case("identity", INVALID, 5, honest_role="connector")
run_case("version", r"protocol version 2", 5, honest_role="connector")

# Replay: record one complete session, then send its frames verbatim into a
# new one. The new session's HELLO nonce differs, so the replayed result tags
# arrive for elements the honest party has not sent yet in this session.
rec = wd.p("session.frames")
run_case("honest", None, 0, extra=["--record", rec])
t.check(os.path.getsize(rec) > 0, "replay: earlier session recorded")
run_case("replay", r"the peer sent tags for elements it has not been sent", 5,
         extra=["--replay", rec])

# Aggregates: a modified peer's frames of every aggregate phase (HELLO, LABELS, circuit PSI,
# AGG_OT batches, MASKED, RELEASE, DONE) are the hostile cases of tests/unit/test_agg2.c and
# test_agg2_core.c (two engines in one process, frames tampered with between them) and of the
# fuzz targets fuzz_agg2*, where each can be injected exactly.

wd.cleanup()
t.finish()
