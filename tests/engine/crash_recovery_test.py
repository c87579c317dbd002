#!/usr/bin/env python3
"""kill -9 shardlab at random moments of inserts, merges and TTL merges; check durability.

Three phases share the --rounds kills (half inserts, a quarter each merges and TTL merges):

  inserts  `shardlab load --ack-log` over many days, so that nearly every insert writes two or
           more daily parts (one rename each). In every other round the engine's test hook
           SHARDLAB_TEST_COMMIT_PAUSE_MS widens the gap between one insert's renames, so that
           many kills land inside it and open() must roll an insert back from its journal.
  merges   `shardlab optimize --final` on a table of many small parts; the hook widens the gap
           between a merged part's rename and the removal of its sources.
  ttl      `shardlab optimize --final --now T` on a table with a TTL: merges drop expired rows.

After each kill, a fresh process checks that:
  * `shardlab verify` passes: every part matches its checksums, none is damaged or missing;
  * no part is visible twice: the block ranges of active parts in a partition are disjoint;
  * inserts: the rows present are exactly the acknowledged rows, or those plus the one whole
    insert whose acknowledgement the kill cut off (it may have committed): never fewer, never a
    part of an insert;
  * merges: the row count is exactly what it was;
  * ttl: the rows that have not expired are all there, and nothing else was lost.
Prints one line per round, how many kills landed inside a commit, and 'N passed, M failed'.
"""
import argparse
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time

START = "2024-05-01 00:00:00"
BATCH = 50_000
INSERT_ROWS = 2_000_000
INSERT_DAYS = 97  # a 50k-row batch spans about 2.4 days: three or four parts per insert
PAUSE_MS = "400"
TTL_DDL = """CREATE TABLE user_behavior (
    user_id UInt64, item_id UInt64, action LowCardinality(String), event_time DateTime,
    province LowCardinality(String), gender LowCardinality(String)
) ENGINE = MergeTree() PARTITION BY toYYYYMMDD(event_time) ORDER BY (event_time, user_id)
TTL event_time + INTERVAL 2 DAY
"""
TTL_NOW = "2024-05-07 12:00:00"  # keeps rows after 2024-05-05 12:00:00
TTL_KEPT_AFTER = "2024-05-05 12:00:00"


class Checker:
    def __init__(self, shardlab):
        self.shardlab = shardlab
        self.passed = 0
        self.failed = 0

    def run(self, *args, env=None):
        return subprocess.run([self.shardlab, *args], capture_output=True, text=True, env=env)

    def count(self, data, where=""):
        out = self.run("sql", "--data", data, f"SELECT count() FROM user_behavior {where}")
        if out.returncode != 0:
            raise RuntimeError("count failed: " + out.stderr[-800:])
        return int(out.stdout.strip())

    def structural_problems(self, data):
        problems = []
        verify = self.run("verify", "--data", data)
        if verify.returncode != 0:
            problems.append("verify failed: " + (verify.stdout + verify.stderr)[-800:])
        parts = self.run("parts", "--data", data)
        ranges = {}
        for line in parts.stdout.splitlines():
            name, partition = line.split("\t")[:2]
            lo, hi = (int(x) for x in name.split("_")[1:3])
            ranges.setdefault(partition, []).append((lo, hi, name))
        for partition, spans in ranges.items():
            spans.sort()
            for (lo1, hi1, n1), (lo2, hi2, n2) in zip(spans, spans[1:]):
                if lo2 <= hi1:
                    problems.append(f"parts {n1} and {n2} overlap: rows visible twice")
        return problems

    def record(self, label, problems, detail):
        status = "FAIL" if problems else "PASS"
        print(f"{status} {label}: {detail}" + ("" if not problems else ": " + "; ".join(problems)),
              flush=True)
        if problems:
            self.failed += 1
        else:
            self.passed += 1


def kill_after(cmd, delay, env):
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=env)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    out, _ = proc.communicate()
    return proc.returncode, out


def hook_env(paused):
    env = dict(os.environ)
    env.pop("SHARDLAB_TEST_COMMIT_PAUSE_MS", None)
    if paused:
        env["SHARDLAB_TEST_COMMIT_PAUSE_MS"] = PAUSE_MS
    return env


def journals(data):
    return [f for f in os.listdir(data) if re.fullmatch(r"insert_\d+_\d+\.journal", f)]


def overlapping_dirs(data):
    """Part directories covered by another one: a merge's sources left by the kill."""
    spans = []
    for name in os.listdir(data):
        m = re.fullmatch(r"(\w+?)_(\d+)_(\d+)_(\d+)", name)
        if m:
            spans.append((m.group(1), int(m.group(2)), int(m.group(3)), name))
    return sum(1 for a in spans for b in spans
               if a is not b and a[0] == b[0] and b[1] <= a[1] and a[2] <= b[2] and a[3] != b[3])


def insert_phase(c, data, rounds, rng):
    before = 0
    in_commit = 0
    for r in range(rounds):
        paused = r % 2 == 1
        delay = rng.uniform(0.05, 2.5)
        _, out = kill_after([c.shardlab, "load", "--data", data, "--rows", str(INSERT_ROWS),
                             "--seed", "9", "--start", START, "--days", str(INSERT_DAYS),
                             "--batch-rows", str(BATCH), "--ack-log"], delay, hook_env(paused))
        acked = 0
        for line in out.splitlines():
            if line.startswith("acknowledged "):
                acked = int(line.split()[1])
        pending = journals(data)
        in_commit += bool(pending)
        after = c.count(data)
        added = after - before
        problems = c.structural_problems(data)
        if added < acked:
            problems.append(f"lost acknowledged rows: {acked} acknowledged, {added} present")
        if added not in (acked, acked + BATCH):
            problems.append(f"{added} rows present for {acked} acknowledged: part of an insert")
        c.record(f"insert round {r}", problems,
                 f"killed after {delay:.2f}s{' (paused commits)' if paused else ''}, "
                 f"acknowledged {acked}, present {added}"
                 + (f", inside a commit ({pending[0]})" if pending else ""))
        before = after
    # The next writable open rolls back what the last kill left, and a clean load adds exactly
    # its rows.
    final = c.run("load", "--data", data, "--rows", "100000", "--seed", "9", "--start", START,
                  "--days", str(INSERT_DAYS), "--batch-rows", str(BATCH))
    problems = [] if final.returncode == 0 else ["load failed: " + final.stderr[-500:]]
    if not problems and c.count(data) != before + 100000:
        problems.append(f"expected {before + 100000} rows, found {c.count(data)}")
    c.record("insert final clean load", problems + c.structural_problems(data), "")
    return in_commit


def add_parts(c, data, rows, days, ddl=None):
    args = ["load", "--data", data, "--rows", str(rows), "--seed", str(rows), "--start", START,
            "--days", str(days), "--batch-rows", str(rows // 12), "--no-merge"]
    if ddl:
        args += ["--ddl", ddl]
    out = c.run(*args)
    if out.returncode != 0:
        raise RuntimeError("load failed: " + out.stderr[-800:])


def merge_phase(c, data, rounds, rng):
    in_commit = 0
    for r in range(rounds):
        add_parts(c, data, 120_000, 6)  # something to merge in every round
        paused = r % 2 == 0
        expected = c.count(data)
        delay = rng.uniform(0.02, 0.8)
        rc, _ = kill_after([c.shardlab, "optimize", "--data", data, "--final"], delay,
                           hook_env(paused))
        leftovers = overlapping_dirs(data)
        in_commit += leftovers > 0
        problems = c.structural_problems(data)
        present = c.count(data)
        if present != expected:
            problems.append(f"{present} rows after the kill, {expected} before")
        c.record(f"merge round {r}", problems,
                 f"killed after {delay:.2f}s{' (paused commits)' if paused else ''}, "
                 f"{'finished first' if rc == 0 else 'killed'}, {present} rows"
                 + (f", {leftovers} merged-away sources left" if leftovers else ""))
    return in_commit


def ttl_phase(c, data, rounds, rng, workdir):
    ddl = os.path.join(workdir, "ttl.sql")
    with open(ddl, "w") as f:
        f.write(TTL_DDL)
    kept_where = f"WHERE event_time > '{TTL_KEPT_AFTER}'"
    for r in range(rounds):
        add_parts(c, data, 120_000, 8, ddl)  # expired rows to drop in every round
        paused = r % 2 == 0
        total, kept = c.count(data), c.count(data, kept_where)
        delay = rng.uniform(0.02, 0.6)
        rc, _ = kill_after([c.shardlab, "optimize", "--data", data, "--final", "--now", TTL_NOW],
                           delay, hook_env(paused))
        problems = c.structural_problems(data)
        total_after, kept_after = c.count(data), c.count(data, kept_where)
        if kept_after != kept:
            problems.append(f"{kept_after} unexpired rows after the kill, {kept} before")
        if total_after > total:
            problems.append(f"{total_after} rows after the kill, {total} before")
        if rc == 0 and total_after != kept:
            problems.append(f"a finished TTL merge left {total_after - kept} expired rows")
        c.record(f"ttl round {r}", problems,
                 f"killed after {delay:.2f}s, {'finished first' if rc == 0 else 'killed'}, "
                 f"{total} -> {total_after} rows, {kept_after} unexpired")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shardlab", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--rounds", type=int, default=20, help="kills in all (the CI default is short)")
    ap.add_argument("--seed", type=int, default=20240501)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)
    c = Checker(args.shardlab)
    inserts = args.rounds // 2
    merges = (args.rounds - inserts) // 2
    ttls = args.rounds - inserts - merges
    in_insert = insert_phase(c, os.path.join(args.workdir, "inserts"), inserts, rng)
    in_merge = merge_phase(c, os.path.join(args.workdir, "merges"), merges, rng)
    ttl_phase(c, os.path.join(args.workdir, "ttl"), ttls, rng, args.workdir)
    print(f"{inserts + merges + ttls} kills: {in_insert} between one insert's renames, "
          f"{in_merge} between a merge's rename and its clean-up")
    print(f"{c.passed} passed, {c.failed} failed")
    return 0 if c.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
