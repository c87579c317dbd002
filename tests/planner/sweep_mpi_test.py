#!/usr/bin/env python3
"""`shardlab sweep` and `shardlab plan` under `mpirun -np 2` on loopback: rank 0 hands the
points (the planner's simulations) to rank 1 and gathers their files, and the result equals the
single-process run's: the same comparison.csv and, point by point, the same summary.json; the
same plan.json (its wall time aside) and the same summary.json for every simulation. Open MPI keeps to the loopback interface (btl self
and tcp on lo, and its out-of-band channel on lo); as root it needs --allow-run-as-root.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

MPIRUN = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", "2",
          "--mca", "btl", "self,tcp", "--mca", "btl_tcp_if_include", "lo",
          "--mca", "oob_tcp_if_include", "lo"]


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
    sweep = ["sweep", quick, *small, "--grid", "cluster.insert_mode=sync,async",
             "--grid", "workload.batch_interval=5min,10min"]
    failures = []
    checks = 0

    def check(ok, what):
        nonlocal checks
        checks += 1
        print(("PASS " if ok else "FAIL ") + what)
        if not ok:
            failures.append(what)

    mpi_out = os.path.join(args.workdir, "mpi")
    local_out = os.path.join(args.workdir, "local")
    mpi = subprocess.run(MPIRUN + [args.shardlab] + sweep + ["--out", mpi_out],
                         capture_output=True, text=True)
    check(mpi.returncode == 0, f"mpirun -np 2 sweep: exit {mpi.returncode} "
                               f"{mpi.stderr.strip()[-600:]}")
    check("over 1 MPI rank(s)" in mpi.stdout, "rank 0 scheduled the points for one worker")
    local = subprocess.run([args.shardlab] + sweep + ["--jobs", "1", "--out", local_out],
                           capture_output=True, text=True)
    check(local.returncode == 0, f"the same sweep in one process: exit {local.returncode}")

    def read(path):
        with open(path, "rb") as f:
            return f.read()

    check(read(os.path.join(mpi_out, "comparison.csv")) ==
          read(os.path.join(local_out, "comparison.csv")),
          "comparison.csv is the same under MPI and in one process")
    points = sorted(d for d in os.listdir(local_out)
                    if os.path.isdir(os.path.join(local_out, d)))
    check(len(points) == 4, f"four points: {points}")
    for point in points:
        check(read(os.path.join(mpi_out, point, "summary.json")) ==
              read(os.path.join(local_out, point, "summary.json")),
              f"{point}: the same summary.json")

    # The smoke plan: its profile, candidates and scaling runs all go to rank 1.
    plan = ["plan", os.path.join(args.scenarios, "ecommerce-plan.yaml"), "--smoke"]
    mpi_plan = os.path.join(args.workdir, "mpi-plan")
    local_plan = os.path.join(args.workdir, "local-plan")
    mpi = subprocess.run(MPIRUN + [args.shardlab] + plan + ["--out", mpi_plan],
                         capture_output=True, text=True)
    check(mpi.returncode == 0 and "plan: recommended" in mpi.stdout,
          f"mpirun -np 2 plan: exit {mpi.returncode} {mpi.stderr.strip()[-600:]}")
    local = subprocess.run([args.shardlab] + plan + ["--jobs", "1", "--out", local_plan],
                           capture_output=True, text=True)
    check(local.returncode == 0, f"the same plan in one process: exit {local.returncode}")

    def plan_json(path):
        with open(os.path.join(path, "plan.json")) as f:
            doc = json.load(f)
        doc.pop("wall_s")
        return doc

    check(plan_json(mpi_plan) == plan_json(local_plan),
          "plan.json is the same under MPI and in one process")
    runs = sorted(os.path.relpath(os.path.join(d, f), local_plan)
                  for d, _, files in os.walk(local_plan) for f in files if f == "summary.json")
    check(len(runs) >= 3, f"the plan ran its profile, a candidate and scaling runs: {runs}")
    for run in runs:
        check(read(os.path.join(mpi_plan, run)) == read(os.path.join(local_plan, run)),
              f"plan {run}: the same summary.json")
    print(f"{checks - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
