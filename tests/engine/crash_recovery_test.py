#!/usr/bin/env python3
"""kill -9 a loading shardlab at random moments and check the durability contract.

Each round starts `shardlab load --ack-log` on the same table, kills it with SIGKILL after a
random delay (inserts, part writes, renames and background merges are all in flight), and
then checks with a fresh process that:
  * every acknowledged insert is present: rows added >= rows acknowledged;
  * no insert is half visible: rows added is a whole number of batches, at most one batch
    more than acknowledged (the insert whose acknowledgement was not yet printed);
  * every part passes `shardlab verify` (all files match their checksums).
Exits non-zero on the first violation. Prints 'N passed, M failed'.
"""
import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import time

BATCH = 50_000
ROWS = 2_000_000


def count_rows(shardlab, data):
    out = subprocess.run([shardlab, "sql", "--data", data, "SELECT count() FROM user_behavior"],
                         check=True, capture_output=True, text=True)
    return int(out.stdout.strip())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shardlab", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--seed", type=int, default=20240501)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)
    data = os.path.join(args.workdir, "table")
    passed = failed = 0
    before = 0
    for round_no in range(args.rounds):
        delay = rng.uniform(0.05, 1.5)
        proc = subprocess.Popen([args.shardlab, "load", "--data", data, "--rows", str(ROWS), "--seed", "9",
                                 "--batch-rows", str(BATCH), "--ack-log"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate()
        acked = 0
        for line in out.splitlines():
            if line.startswith("acknowledged "):
                acked = int(line.split()[1])
        after = count_rows(args.shardlab, data)
        added = after - before
        problems = []
        if added < acked:
            problems.append(f"lost acknowledged rows: {acked} acknowledged, {added} present")
        if added % BATCH != 0:
            problems.append(f"a half-visible insert: {added} rows is not a whole number of {BATCH}-row batches")
        if added > acked + BATCH:
            problems.append(f"{added} rows present but only {acked} acknowledged")
        verify = subprocess.run([args.shardlab, "verify", "--data", data], capture_output=True, text=True)
        if verify.returncode != 0:
            problems.append("verify failed: " + verify.stdout[-500:] + verify.stderr[-500:])
        status = "FAIL" if problems else "PASS"
        print(f"{status} round {round_no}: killed after {delay:.2f}s, acknowledged {acked}, present {added}"
              + ("" if not problems else ": " + "; ".join(problems)))
        if problems:
            failed += 1
        else:
            passed += 1
        before = after
    # A writable open after all the kills recovers, and a clean load adds exactly its rows.
    final = subprocess.run([args.shardlab, "load", "--data", data, "--rows", "100000", "--seed", "9",
                            "--batch-rows", str(BATCH)], capture_output=True, text=True)
    if final.returncode != 0 or count_rows(args.shardlab, data) != before + 100000:
        print("FAIL final clean load: " + final.stderr[-500:])
        failed += 1
    else:
        print("PASS final clean load")
        passed += 1
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
