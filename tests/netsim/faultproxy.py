#!/usr/bin/env python3
"""A small fault-injecting TCP proxy for the network-simulation tests.

It forwards every accepted connection to --target and, in one direction
(--dir c2s: connector to listener, or s2c), can delay, split, stall, reset,
corrupt or kill at exact byte offsets of that direction's stream:

  --latency MS --jitter MS   one-way delay per direction (order is kept)
  --chunk N                  write at most N bytes per send (N=1: byte by byte)
  --stall-at OFF --stall-secs S   stop forwarding for S seconds at OFF
  --reset-at OFF             forward OFF bytes, then reset both connections
  --flip-at OFF              flip the lowest bit of the byte at OFF
  --kill-at OFF --kill-pid-file F SIGKILL the pid in F once OFF bytes went through

Latency and chunking apply to both directions; the other faults to --dir.
Prints "faultproxy: listening on PORT" once ready, and with --stats FILE
appends one JSON line per connection: bytes each way, seconds, faults fired.
netem is not available on the test machines' kernels; this replaces it."""
import argparse
import json
import os
import queue
import random
import signal
import socket
import struct
import sys
import threading
import time


def hostport(s):
    host, _, port = s.rpartition(":")
    return host.strip("[]"), int(port)


class Conn:
    """One proxied connection: two pumps, one per direction."""

    def __init__(self, args, down, up):
        self.args = args
        self.socks = {"c2s": (down, up), "s2c": (up, down)}
        self.count = {"c2s": 0, "s2c": 0}
        self.fired = []
        self.dead = threading.Event()
        self.lock = threading.Lock()
        self.t0 = time.time()
        self.rng = random.Random(args.seed)

    def reset(self):
        """Closes both sockets with RST (SO_LINGER 0)."""
        with self.lock:
            if self.dead.is_set():
                return
            self.dead.set()
        for s in self.socks["c2s"]:
            try:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                s.shutdown(socket.SHUT_RD)  # wakes our blocked reader without a FIN
            except OSError:
                pass
            try:
                s.close()
            except OSError:
                pass

    def reader(self, d, q):
        src = self.socks[d][0]
        last = 0.0
        while not self.dead.is_set():
            try:
                data = src.recv(65536)
            except OSError:
                data = None
            if not data:
                q.put((time.time(), None))
                return
            delay = self.args.latency / 1000.0
            if self.args.jitter:
                delay += self.rng.uniform(0, self.args.jitter / 1000.0)
            due = max(time.time() + delay, last)  # jitter never reorders bytes
            last = due
            q.put((due, data))

    def triggers(self, d):
        if d != self.args.dir:
            return []
        a = self.args
        t = []
        for off, kind in ((a.stall_at, "stall"), (a.reset_at, "reset"), (a.flip_at, "flip"),
                          (a.kill_at, "kill")):
            if off is not None:
                t.append((off, kind))
        return sorted(t)

    def send(self, dst, data):
        step = self.args.chunk or len(data)
        for i in range(0, len(data), step):
            dst.sendall(data[i:i + step])

    def fire(self, kind, d):
        self.fired.append({"fault": kind, "dir": d, "offset": self.count[d],
                           "at": round(time.time() - self.t0, 3)})
        if kind == "stall":
            time.sleep(self.args.stall_secs)
        elif kind == "reset":
            self.reset()
        elif kind == "kill":
            try:
                with open(self.args.kill_pid_file) as f:
                    os.kill(int(f.read().strip()), signal.SIGKILL)
            except (OSError, ValueError):
                pass

    def writer(self, d, q):
        dst = self.socks[d][1]
        pending = self.triggers(d)
        try:
            while not self.dead.is_set():
                due, data = q.get()
                wait = due - time.time()
                if wait > 0:
                    time.sleep(wait)
                if data is None:
                    dst.shutdown(socket.SHUT_WR)
                    return
                data = bytearray(data)
                while data and not self.dead.is_set():
                    if pending and pending[0][0] < self.count[d] + len(data):
                        off, kind = pending[0]
                        head = off - self.count[d]
                        if kind == "flip":
                            data[head] ^= 0x01
                            pending.pop(0)
                            self.fired.append({"fault": "flip", "dir": d, "offset": off,
                                               "at": round(time.time() - self.t0, 3)})
                            continue
                        self.send(dst, bytes(data[:head]))
                        self.count[d] += head
                        del data[:head]
                        pending.pop(0)
                        self.fire(kind, d)
                        continue
                    self.send(dst, bytes(data))
                    self.count[d] += len(data)
                    data = bytearray()
        except OSError:
            self.reset()

    def run(self):
        threads = []
        for d in ("c2s", "s2c"):
            q = queue.Queue()
            threads.append(threading.Thread(target=self.reader, args=(d, q), daemon=True))
            threads.append(threading.Thread(target=self.writer, args=(d, q), daemon=True))
        for th in threads:
            th.start()
        LIVE.add(self)
        for th in threads[1::2]:
            th.join()
        self.reset()
        self.write_stats()

    def write_stats(self):
        with STATS_LOCK:
            if self.args.stats and self in LIVE:
                with open(self.args.stats, "a") as f:
                    f.write(json.dumps({"c2s": self.count["c2s"], "s2c": self.count["s2c"],
                                        "seconds": round(time.time() - self.t0, 3),
                                        "faults": self.fired}) + "\n")
            LIVE.discard(self)


# Connections still open, so that SIGTERM can report what they moved.
LIVE = set()
STATS_LOCK = threading.Lock()


def on_term(signum, frame):
    for c in list(LIVE):
        c.write_stats()
    os._exit(0)


def serve(args):
    ls = socket.socket(socket.AF_INET6 if ":" in args.listen[0] else socket.AF_INET)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(args.listen)
    ls.listen(16)
    print(f"faultproxy: listening on {ls.getsockname()[1]}", flush=True)
    while True:
        down, _ = ls.accept()
        try:
            up = socket.create_connection(args.target, timeout=10)
            up.settimeout(None)
        except OSError:
            down.close()
            continue
        for s in (down, up):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=Conn(args, down, up).run, daemon=True).start()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--listen", type=hostport, required=True)
    p.add_argument("--target", type=hostport, required=True)
    p.add_argument("--dir", choices=("c2s", "s2c"), default="c2s")
    p.add_argument("--latency", type=float, default=0.0)
    p.add_argument("--jitter", type=float, default=0.0)
    p.add_argument("--chunk", type=int, default=0)
    p.add_argument("--stall-at", type=int)
    p.add_argument("--stall-secs", type=float, default=0.0)
    p.add_argument("--reset-at", type=int)
    p.add_argument("--flip-at", type=int)
    p.add_argument("--kill-at", type=int)
    p.add_argument("--kill-pid-file", help="file holding the pid to kill (written later)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--stats")
    args = p.parse_args()
    if args.kill_at is not None and not args.kill_pid_file:
        p.error("--kill-at needs --kill-pid-file")
    signal.signal(signal.SIGTERM, on_term)
    try:
        serve(args)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
