#!/usr/bin/env python3
"""The memcached model against a real memcached 1.6 on the same traces.

    memcached_validation_test.py --shardlab BIN [--workdir DIR] [--requests N] [--tolerance PTS]
                                 [--only NAME] [--report FILE]

For each trace, a real `memcached` is started on 127.0.0.1 at a private port with the trace's
memory limit and otherwise default settings, and always stopped at the end. A look-aside client
plays the trace against it: gets in pipelined batches, then a set for every miss of the batch.
The client logs what it sent, when (the wall time since it started), as a trace of plain reads
and sets; `shardlab cache replay` plays that log through the model, so that both see the same
requests in the same order on the same clock. The test fails when a trace's hit ratios differ
by more than the tolerance (1 percentage point). It also replays each log through a plain
byte-LRU, to show how far an ideal cache would be from the real server.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_trace  # noqa: E402

BATCH = 64

# name, memory (MiB), make_trace arguments. A trace's times pace the client only when it asks
# for a rate below what the client reaches (about 80,000 gets/s here): the automove trace lasts
# 40 s of wall time, past the 31 s memcached's automover waits before its first move.
TRACES = [
    ("zipf-mixed-16MiB", 16, ["--sizes", "mixed", "--alpha", "0.9", "--seed", "1"]),
    ("zipf-mixed-64MiB", 64, ["--sizes", "mixed", "--alpha", "0.9", "--seed", "2"]),
    ("zipf-mixed-128MiB", 128, ["--sizes", "mixed", "--alpha", "0.9", "--seed", "3"]),
    ("zipf-small-16MiB", 16, ["--sizes", "small", "--alpha", "1.0", "--seed", "4"]),
    ("phase-change-32MiB", 32, ["--phase-change", "--alpha", "0.9", "--seed", "5"]),
    ("phase-change-automove-32MiB", 32,
     ["--phase-change", "--alpha", "0.9", "--seed", "6", "--rate", "25000"]),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Memcached:
    """A private memcached on 127.0.0.1; stop() ends it by PID and waits until it is gone."""

    def __init__(self, memory_mib, workdir):
        self.port = free_port()
        self.log = open(os.path.join(workdir, f"memcached-{self.port}.log"), "w")
        args = ["memcached", "-l", "127.0.0.1", "-p", str(self.port), "-U", "0",
                "-m", str(memory_mib)]
        if os.geteuid() == 0:
            args += ["-u", "root"]  # memcached refuses to run as root otherwise
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    if self.proc.poll() is None:
                        self.proc.kill()
                        self.proc.wait()
                    self.log.close()
                    raise RuntimeError(f"memcached did not start (see {self.log.name})")
                time.sleep(0.02)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def stop(self):
        try:
            self.sock.close()
        except Exception:
            pass
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def _read_line(self):
        while True:
            end = self.buffer.find(b"\r\n")
            if end >= 0:
                line, self.buffer = self.buffer[:end], self.buffer[end + 2:]
                return line
            self._fill()

    def _read_exact(self, n):
        while len(self.buffer) < n:
            self._fill()
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def _fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise RuntimeError("memcached closed the connection")
        self.buffer += chunk

    def gets(self, keys):
        """One pipelined get per key; returns which hit."""
        self.sock.sendall(b"".join(b"get " + k + b"\r\n" for k in keys))
        hits = []
        for _ in keys:
            hit = False
            while True:
                line = self._read_line()
                if line == b"END":
                    break
                if not line.startswith(b"VALUE "):
                    raise RuntimeError(f"unexpected reply {line[:80]!r}")
                self._read_exact(int(line.rsplit(b" ", 1)[1]) + 2)
                hit = True
            hits.append(hit)
        return hits

    def sets(self, items):
        """Pipelined sets with noreply, then a round trip so that all are applied."""
        payload = []
        for key, size, ttl in items:
            payload.append(b"set %s 0 %d %d noreply\r\n" % (key, ttl, size))
            payload.append(b"x" * size + b"\r\n")
        payload.append(b"mn\r\n")  # meta no-op: its "MN" reply comes after every set above
        self.sock.sendall(b"".join(payload))
        line = self._read_line()
        if line != b"MN":
            raise RuntimeError(f"a set failed: {line[:80]!r}")

    def stats(self, kind=b""):
        self.sock.sendall(b"stats" + (b" " + kind if kind else b"") + b"\r\n")
        out = {}
        while True:
            line = self._read_line()
            if line == b"END":
                return out
            _, name, value = line.decode().split(" ", 2)
            out[name] = value


def server_second_start(server):
    """The moment the server's clock (whole seconds, `stats` uptime) last ticked, found by
    polling: the log's times count from it, so that the model's seconds are the server's. Ages
    in memcached are whole seconds and its LRU maintainer demotes by age at each tick, so a
    model clock half a second off changes a small class's hit ratio by most of a point."""
    first = server.stats()["uptime"]
    while True:
        now = time.monotonic()
        if server.stats()["uptime"] != first:
            return now


def play(server, trace_path, log_path):
    """Plays a look-aside trace against the server; writes what was sent to log_path."""
    gets = hits = 0
    start = server_second_start(server)
    with open(trace_path) as trace, open(log_path, "w") as log:
        next(trace)
        log.write("time_s,op,key,value_bytes,ttl_s\n")
        batch = []

        def flush():
            nonlocal gets, hits
            keys = [key for key, _, _ in batch]
            sent_at = time.monotonic() - start
            results = server.gets(keys)
            misses = [item for item, hit in zip(batch, results) if not hit]
            log.write("".join(f"{sent_at:.6f},read,{k.decode()},{size},{ttl}\n"
                              for k, size, ttl in batch))
            if misses:
                set_at = time.monotonic() - start
                server.sets(misses)
                log.write("".join(f"{set_at:.6f},set,{k.decode()},{size},{ttl}\n"
                                  for k, size, ttl in misses))
            gets += len(batch)
            hits += len(batch) - len(misses)
            batch.clear()

        for line in trace:
            at, op, key, size, ttl = line.rstrip("\n").split(",")
            assert op == "get"
            if not batch:
                ahead = float(at) - (time.monotonic() - start)
                if ahead > 0:
                    time.sleep(ahead)
            batch.append((key.encode(), int(size), int(ttl)))
            if len(batch) == BATCH:
                flush()
        if batch:
            flush()
    return gets, hits, time.monotonic() - start


def replay(shardlab, log_path, memory_mib, policy):
    out = subprocess.run([shardlab, "cache", "replay", log_path, "--memory", f"{memory_mib}MiB",
                          "--policy", policy], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shardlab", required=True)
    p.add_argument("--workdir")
    p.add_argument("--requests", type=int, default=1_000_000)
    p.add_argument("--keys", type=int, default=200_000)
    p.add_argument("--tolerance", type=float, default=1.0, help="percentage points")
    p.add_argument("--only", action="append", help="run only these traces")
    p.add_argument("--report", help="write the figures here as JSON")
    a = p.parse_args()
    if shutil.which("memcached") is None:
        print("memcached is not installed (scripts/install-deps.sh installs it)")
        return 1
    workdir = a.workdir or tempfile.mkdtemp(prefix="shardlab-memcached-")
    os.makedirs(workdir, exist_ok=True)
    rows = []
    failed = False
    for name, memory, trace_args in TRACES:
        if a.only and name not in a.only:
            continue
        trace = os.path.join(workdir, f"{name}.csv")
        log = os.path.join(workdir, f"{name}.sent.csv")
        sys.argv = ["make_trace", trace, "--requests", str(a.requests), "--keys", str(a.keys)] + trace_args
        make_trace.main()
        server = Memcached(memory, workdir)
        try:
            gets, hits, seconds = play(server, trace, log)
            stats = server.stats()
            with open(os.path.join(workdir, f"{name}.real-stats.json"), "w") as f:
                json.dump({"stats": stats, "slabs": server.stats(b"slabs"),
                           "items": server.stats(b"items")}, f, indent=1)
        finally:
            server.stop()
        real = hits / gets
        model = replay(a.shardlab, log, memory, "memcached")
        with open(os.path.join(workdir, f"{name}.model.json"), "w") as f:
            json.dump(model, f, indent=1)
        lru = replay(a.shardlab, log, memory, "byte_lru")
        diff = (model["hit_ratio"] - real) * 100
        ok = abs(diff) <= a.tolerance
        failed |= not ok
        row = {"trace": name, "memory_mib": memory, "gets": gets, "wall_s": round(seconds, 2),
               "real_hit_ratio": round(real, 5), "model_hit_ratio": round(model["hit_ratio"], 5),
               "model_minus_real_pts": round(diff, 3),
               "byte_lru_hit_ratio": round(lru["hit_ratio"], 5),
               "byte_lru_minus_real_pts": round((lru["hit_ratio"] - real) * 100, 3),
               "real_evictions": int(stats.get("evictions", 0)),
               "model_evictions": model["evictions"],
               "real_reassign_evictions": int(stats.get("slab_reassign_evictions_nomem", 0)),
               "model_reassign_evictions": model["reassign_evictions"],
               "real_pages_moved": int(stats.get("slabs_moved", 0)),
               "model_pages_moved": model["pages_moved"], "ok": ok}
        rows.append(row)
        print(json.dumps(row), flush=True)
    if a.report:
        with open(a.report, "w") as f:
            json.dump(rows, f, indent=2)
    if not a.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"{sum(r['ok'] for r in rows)} of {len(rows)} traces within {a.tolerance} points")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
