#!/usr/bin/env python3
"""`shardlab sweep`: the cross product of its grids in parallel processes, each point the same
run as `shardlab run` with the point's --set values (byte-identical summary.json), the comparison
with a column per swept key and a figure per key, a point that fails at run time reported while
the others still run, and every mistake in a grid refused with exit code 2 before anything runs.
"""
import argparse
import csv
import json
import os
import shutil
import subprocess
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--shardlab", required=True)
    parser.add_argument("--scenarios", required=True)
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)
    quick = os.path.join(args.scenarios, "quickstart.yaml")
    # The quickstart's smoke, shortened: these tests are about the sweep, not the scenario.
    small = ["--smoke", "--set", "run.duration=2h", "--set", "workload.rows=20000"]
    failures = []
    checks = 0

    def check(ok, what):
        nonlocal checks
        checks += 1
        print(("PASS " if ok else "FAIL ") + what)
        if not ok:
            failures.append(what)

    def shardlab(*argv):
        return subprocess.run([args.shardlab, *argv], capture_output=True, text=True)

    # A 2 x 2 grid on two processes, with figures.
    out = os.path.join(args.workdir, "grid")
    proc = shardlab("sweep", quick, *small, "--jobs", "2", "--out", out,
                    "--set", "run.outputs=[plots, report]",
                    "--grid", "cluster.insert_mode=sync,async",
                    "--grid", "workload.batch_interval=5min,10min")
    check(proc.returncode == 0, f"a 2x2 sweep runs: {proc.stderr.strip()[-400:]}")
    with open(os.path.join(out, "comparison.csv")) as f:
        rows = list(csv.DictReader(f))
    check(len(rows) == 4 and all(r["status"] == "ok" for r in rows),
          f"comparison.csv has the four points, all ok: {[r.get('status') for r in rows]}")
    check([(r["cluster.insert_mode"], r["workload.batch_interval"]) for r in rows] ==
          [("sync", "5min"), ("sync", "10min"), ("async", "5min"), ("async", "10min")],
          "a column per swept key, the first grid varying slowest")
    check(all(r["inserts.rows_acknowledged"] for r in rows), "every point has its metrics")
    for stem in ("sweep_cluster.insert_mode", "sweep_workload.batch_interval", "comparison"):
        check(os.path.getsize(os.path.join(out, stem + ".png")) > 0, f"{stem}.png is drawn")

    # A point is the run `shardlab run` makes with the same values.
    alone = os.path.join(args.workdir, "alone")
    proc = shardlab("run", quick, *small, "--out", alone, "--set", "run.outputs=[plots, report]",
                    "--set", "cluster.insert_mode=async", "--set", "workload.batch_interval=10min")
    check(proc.returncode == 0, "the same point with run")
    point = os.path.join(out, rows[3]["point"])
    with open(os.path.join(point, "summary.json"), "rb") as a, \
            open(os.path.join(alone, "summary.json"), "rb") as b:
        check(a.read() == b.read(), "the sweep's point has the summary.json of the same run")

    # A point that fails at run time (its directory is taken by a file) is reported as failed,
    # and the other still runs.
    broken = os.path.join(args.workdir, "broken")
    os.makedirs(broken)
    with open(os.path.join(broken, "002-insert_mode=async"), "w") as f:
        f.write("not a directory\n")
    proc = shardlab("sweep", quick, *small, "--jobs", "2", "--out", broken,
                    "--grid", "cluster.insert_mode=sync,async")
    check(proc.returncode == 1, f"a failed point fails the sweep (exit {proc.returncode})")
    check("1 of 2 sweep point(s) failed" in proc.stderr, f"it says so: {proc.stderr.strip()}")
    with open(os.path.join(broken, "comparison.csv")) as f:
        rows = list(csv.DictReader(f))
    check([r["status"] for r in rows] == ["ok", "failed: exit status 1"],
          f"the comparison lists the failure: {[r['status'] for r in rows]}")
    check(os.path.exists(os.path.join(broken, "001-insert_mode=sync", "summary.json")),
          "the other point ran")

    # A scaled sweep over a window around the peak: each point runs two hours at a tenth of the
    # data, the rest of the day loaded as history.
    scaled = os.path.join(args.workdir, "scaled")
    proc = shardlab("sweep", quick, "--smoke", "--scale", "0.1", "--window", "2h", "--jobs", "2",
                    "--out", scaled, "--grid", "cluster.shards=2,3")
    check(proc.returncode == 0, f"a scaled, windowed sweep runs: {proc.stderr.strip()[-300:]}")
    for point in ("001-shards=2", "002-shards=3"):
        path = os.path.join(scaled, point, "summary.json")
        if not os.path.exists(path):
            check(False, f"{point} has a summary")
            continue
        with open(path) as f:
            summary = json.load(f)
        check(summary["simulated_s"] >= 7200 and summary["simulated_s"] < 7200 + 3600,
              f"{point}: two simulated hours (and the settling): {summary['simulated_s']}")
        check(summary["inserts"].get("rows_preloaded", 0) > 0,
              f"{point}: the day before the window is history")
    for flag, value, expected in [("--window", "2 hours", "--window"), ("--scale", "0", "--scale")]:
        proc = shardlab("sweep", quick, "--smoke", flag, value, "--grid", "cluster.shards=2")
        check(proc.returncode == 2 and expected in proc.stderr,
              f"{flag} {value}: exit 2 naming the flag ({proc.returncode}): {proc.stderr.strip()[:200]}")

    # Mistakes, all refused with exit code 2 before any point runs.
    for grid, expected in [
        ("cluster.shards=2,0", "point 2 of 2 (shards=0) is not a valid scenario"),
        ("cluster.shardz=2", "cluster.shardz"),
        ("cluster.shards", "expected KEY=V1,V2"),
        ("cluster.shards=2,,4", "an empty value"),
        ("cluster.sharding={kind: hash", "an unclosed bracket"),
    ]:
        where = os.path.join(args.workdir, "bad")
        shutil.rmtree(where, ignore_errors=True)
        proc = shardlab("sweep", quick, *small, "--out", where, "--grid", grid)
        check(proc.returncode == 2 and expected in proc.stderr,
              f"--grid {grid}: exit {proc.returncode}, {proc.stderr.strip()[:300]}")
        check(not os.path.exists(os.path.join(where, "comparison.csv")), f"--grid {grid}: nothing ran")
    proc = shardlab("sweep", quick, "--grid", "run.seed=1", "--grid", "run.seed=2")
    check(proc.returncode == 2 and "swept twice" in proc.stderr, "a key swept twice")

    print(f"{checks - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
