"""bristol2pc end to end: two processes over loopback TLS evaluate the Bristol
AES-128 and SHA-256 circuits with garbled circuits; both print the output, which
must equal FIPS-197 C.1 and Python's hashlib; bad inputs and peers fail with a
one-line error and their documented exit code."""
import hashlib
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e import TOOLS, Checks, Workdir  # noqa: E402

B2P = os.path.join(TOOLS, "bristol2pc")
SHARED = os.environ.get("OVL_SHARED", os.path.join(os.getcwd(), "..", "shared"))
AES = os.path.join(SHARED, "circuits", "aes_128.txt")
SHA = os.path.join(SHARED, "circuits", "sha256.txt")
IV = "6a09e667bb67ae853c6ef372a54ff53a510e527f9b05688c1f83d9ab5be0cd19"

t = Checks("test_bristol2pc")
wd = Workdir()


def listener(circuit, hexin, extra=(), key="alice", peer="bob"):
    err = open(wd.p("listener.err"), "w")
    p = subprocess.Popen([B2P, "--listen", "127.0.0.1:0", "--identity", wd.p(f"{key}.key"),
                          "--peer", wd.p(f"{peer}.pub"), "--circuit", circuit, "--input", hexin,
                          "--timeout", "20"] + list(extra),
                         stdout=subprocess.PIPE, stderr=err, text=True)
    deadline = time.time() + 20
    port = None
    while time.time() < deadline and p.poll() is None and port is None:
        with open(wd.p("listener.err")) as f:
            m = re.search(r"listening on port (\d+)", f.read())
        port = int(m.group(1)) if m else None
        time.sleep(0.02)
    return p, port, err


def connector(port, circuit, hexin, extra=(), key="bob", peer="alice"):
    return subprocess.run([B2P, "--connect", f"127.0.0.1:{port}", "--identity",
                           wd.p(f"{key}.key"), "--peer", wd.p(f"{peer}.pub"), "--circuit",
                           circuit, "--input", hexin, "--timeout", "20"] + list(extra),
                          capture_output=True, text=True, timeout=120)


def pair(circuit, in1, in2, extra=(), c_circuit=None, c_key="bob"):
    p, port, err = listener(circuit, in1, extra)
    if port is None:
        p.kill()
        out, _ = p.communicate()
        err.close()
        return None, None, None, None
    c = connector(port, c_circuit or circuit, in2, extra, key=c_key)
    try:
        out, _ = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
    err.close()
    with open(wd.p("listener.err")) as f:
        lerr = f.read()
    return (p.returncode, out, lerr), (c.returncode, c.stdout, c.stderr), port, None


def sha_block(msg):
    b = msg + b"\x80" + b"\x00" * (55 - len(msg)) + (8 * len(msg)).to_bytes(8, "big")
    assert len(b) == 64
    return b.hex()


try:
    # FIPS-197 appendix C.1 through the circuits README's bit order.
    want = "69c4e0d86a7b0430d8cdb78070b4c55a"
    lr, cr, _, _ = pair(AES, "000102030405060708090a0b0c0d0e0f",
                        "00112233445566778899aabbccddeeff")
    t.check(lr is not None and lr[0] == 0 and lr[1].strip() == want, "AES listener output",
            repr(lr))
    t.check(cr is not None and cr[0] == 0 and cr[1].strip() == want, "AES connector output",
            repr(cr))

    # SHA-256 of "abc" and of a random short message: input 1 the padded block, input 2 the IV.
    for msg in (b"abc", os.urandom(int.from_bytes(os.urandom(1), "big") % 56)):
        want = hashlib.sha256(msg).hexdigest()
        lr, cr, _, _ = pair(SHA, sha_block(msg), IV)
        t.check(lr is not None and lr[0] == 0 and lr[1].strip() == want,
                f"SHA-256 listener ({len(msg)} bytes)", repr(lr))
        t.check(cr is not None and cr[0] == 0 and cr[1].strip() == want,
                f"SHA-256 connector ({len(msg)} bytes)", repr(cr))

    # --repeat streams instances and reports the rate on a last line.
    lr, cr, _, _ = pair(AES, "000102030405060708090a0b0c0d0e0f",
                        "00112233445566778899aabbccddeeff", extra=("--repeat", "20"))
    for name, r in (("listener", lr), ("connector", cr)):
        lines = r[1].strip().split("\n") if r else []
        ok = r is not None and r[0] == 0 and len(lines) == 2 and \
            lines[0] == "69c4e0d86a7b0430d8cdb78070b4c55a" and \
            re.fullmatch(r"and_gates_per_second=\d+", lines[1]) is not None
        t.check(ok, f"--repeat 20 {name}", repr(r))

    # A wrong input length: usage error (2), one line naming the input and its width.
    r = subprocess.run([B2P, "--connect", "127.0.0.1:1", "--identity", wd.p("bob.key"),
                        "--peer", wd.p("alice.pub"), "--circuit", AES, "--input", "abcd"],
                       capture_output=True, text=True)
    t.check(r.returncode == 2 and "128 bits" in r.stderr and len(r.stderr.strip().split("\n")) == 1,
            "short --input", repr(r))
    r = subprocess.run([B2P, "--connect", "127.0.0.1:1", "--identity", wd.p("bob.key"),
                        "--peer", wd.p("alice.pub"), "--circuit", AES, "--input", "zz" * 16],
                       capture_output=True, text=True)
    t.check(r.returncode == 2 and "hexadecimal" in r.stderr, "non-hex --input", repr(r))
    # A missing or malformed circuit: input error (3) naming the file.
    r = subprocess.run([B2P, "--connect", "127.0.0.1:1", "--identity", wd.p("bob.key"),
                        "--peer", wd.p("alice.pub"), "--circuit", wd.p("none.txt"), "--input",
                        "00"], capture_output=True, text=True)
    t.check(r.returncode == 3 and "none.txt" in r.stderr, "missing circuit", repr(r))
    bad = wd.write("bad.txt", "2 4\n2 1 1\n1 1\n2 1 0 3 2 AND\n2 1 0 1 3 XOR\n")
    r = subprocess.run([B2P, "--connect", "127.0.0.1:1", "--identity", wd.p("bob.key"),
                        "--peer", wd.p("alice.pub"), "--circuit", bad, "--input", "01"],
                       capture_output=True, text=True)
    t.check(r.returncode == 3 and "bad.txt:4:" in r.stderr, "circuit out of order", repr(r))
    r = subprocess.run([B2P, "--listen", "127.0.0.1:0"], capture_output=True, text=True)
    t.check(r.returncode == 2 and "usage" in r.stderr, "missing options", repr(r))

    # Different circuits on the two sides: refused by both (policy, 6).
    lr, cr, _, _ = pair(AES, "00" * 16, IV, c_circuit=SHA)
    t.check(lr is not None and lr[0] == 6 and "different circuit" in lr[2], "circuit mismatch "
            "(listener)", repr(lr))
    t.check(cr is not None and cr[0] == 6, "circuit mismatch (connector)", repr(cr))

    # A peer with an unpinned key never gets a session (network/auth, 4).
    p, port, err = listener(AES, "00" * 16, extra=())
    r = connector(port, AES, "00" * 16, key="mallory")
    p.kill()
    p.communicate()
    err.close()
    t.check(r.returncode == 4, "unpinned peer", repr(r))
finally:
    wd.cleanup()
t.finish()
