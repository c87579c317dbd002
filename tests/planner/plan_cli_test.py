#!/usr/bin/env python3
"""`shardlab plan`: the smoke form of scenarios/ecommerce-plan.yaml recommends a cluster whose
every constraint held in simulation, reports it in plan.json/md/html with its margins, binding
constraint, the screen's prediction next to the simulated value, a scaling fit and a Pareto
plot; a recommended cluster is rerunnable from its directory; a plan whose constraints cannot be
met says so; and every mistake in a plan section is refused with file:line:col and exit code 2.
"""
import argparse
import json
import math
import os
import re
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
    scenario = os.path.join(args.scenarios, "ecommerce-plan.yaml")
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

    # The smoke plan, two simulations at once.
    out = os.path.join(args.workdir, "smoke")
    r = shardlab("plan", scenario, "--smoke", "--jobs", "2", "--out", out)
    check(r.returncode == 0, f"the smoke plan runs (exit {r.returncode}): {r.stderr[-600:]}")
    check(r.stdout.rstrip().endswith(os.path.join(out, "plan.html")),
          "its console output ends with the report's path")
    check("plan: binding constraint" in r.stdout and "margin" in r.stdout and
          "plan: screen error" in r.stdout,
          "the console names the binding constraint, the margins and the screen's error")
    for name in ["plan.json", "plan.md", "plan.html", "pareto.png", "pareto.svg",
                 os.path.join("profile", "summary.json")]:
        check(os.path.isfile(os.path.join(out, name)), f"it writes {name}")
    plan = json.load(open(os.path.join(out, "plan.json")))
    rec = plan.get("recommended") or {}
    for key in ["node_type", "nodes", "shards", "replicas", "cost_per_hour", "binding_constraint"]:
        check(key in rec, f"plan.json's recommendation has {key}")
    outcomes = {c["outcome"] for c in plan["candidates"]}
    check("confirmed" in outcomes, f"a candidate is confirmed: {outcomes}")
    confirmed = [c for c in plan["candidates"] if c["outcome"] == "confirmed"]
    winner = confirmed[0]
    check(all(c["holds"] for c in winner["checks"] if c["constraint_enforced"]),
          "every constraint of the confirmed candidate held")
    check(winner["cost_per_hour"] == rec.get("cost_per_hour"),
          "the recommendation is the confirmed candidate")
    # Cheapest first: no candidate cheaper than the winner was left unexamined.
    cheaper = [c for c in plan["candidates"] if c["cost_per_hour"] < winner["cost_per_hour"]]
    check(all(c["outcome"] in ("invalid", "screened out", "refuted") for c in cheaper),
          "every cheaper candidate was screened out or refuted")
    lead = [c for c in winner["checks"] if c["constraint"].startswith("p99 of ")]
    check(lead and math.isfinite(lead[0]["predicted"]) and lead[0]["simulated"] > 0,
          "the lead query's predicted p99 is reported next to its simulated one")
    check(len(plan["scale_fit"]) > 0 and all(len(f["points"]) == 3 for f in plan["scale_fit"]),
          "the winner's metrics are fitted over three scales")
    check([s["growth"] for s in plan["sensitivity"]] == [1.5, 2],
          "the sensitivity covers 1.5x and 2x growth")
    md = open(os.path.join(out, "plan.md")).read()
    check("smoke run" in md and "Binding constraint" in md and "screen error" in md,
          "plan.md says it is a smoke run, names the binding constraint and the screen's error")
    # The winner's own runs are real runs: their summary has the candidate's cluster.
    summary = json.load(open(os.path.join(out, winner["directory"], "runs", "summary.json")))
    check(summary["cluster"]["nodes"] == winner["nodes"] and
          summary["cluster"]["shards"] == winner["shards"],
          "the winner's runs simulated its cluster")
    crash = json.load(open(os.path.join(out, winner["directory"], "crash", "summary.json")))
    check(any(f["event"] == "failed" for f in crash["faults"]),
          "the survival run crashed a node")

    # Constraints no cluster can meet: the plan says so instead of recommending one.
    out = os.path.join(args.workdir, "impossible")
    r = shardlab("plan", scenario, "--smoke", "--out", out,
                 "--set", "plan.constraints.latency={top_items_beijing_women: 1us}",
                 "--set", "plan.screen_slack=100")
    check(r.returncode == 0 and "no candidate met every constraint" in r.stdout,
          f"an impossible target yields no recommendation: {r.stdout[-300:]} {r.stderr[-300:]}")
    if os.path.isfile(os.path.join(out, "plan.json")):
        plan = json.load(open(os.path.join(out, "plan.json")))
        check(plan["recommended"] is None and
              all(c["outcome"] in ("screened out", "refuted") and
                  "top_items_beijing_women" in c["reason"] for c in plan["candidates"]),
              "every candidate is screened out or refuted on the latency target")

    # Bad plan sections: file:line:col (or the --set), what was expected, exit code 2.
    text = open(scenario).read()
    bad_cases = [
        ("unknown key", text.replace("  max_simulated: 6", "  max_simulate: 6"),
         r"plan.*unknown key 'max_simulate'.*did you mean 'max_simulated'"),
        ("empty range", text.replace("  replicas: [2]", "  replicas: {min: 3, max: 2}"),
         r"plan\.replicas: is an empty range"),
        ("empty list", text.replace("  insert_mode: [sync, async]", "  insert_mode: []"),
         r"plan\.insert_mode: is empty"),
        ("price missing", text.replace("ch32: {price_per_hour: 2.30, disk_capacity: 8TB}",
                                       "ch32: {disk_capacity: 8TB}"),
         r"price_per_hour.*plan\.node_types\.ch32"),
        ("unknown node type", text.replace("    ch32: {price_per_hour", "    ch64: {price_per_hour"),
         r"node type.*'ch64'"),
        ("constraint on an unknown template",
         text.replace("latency: {top_items_beijing_women: 10s}", "latency: {top_itemz: 10s}"),
         r"plan\.constraints\.latency.*'top_itemz'.*top_items_beijing_women"),
        ("disk fill without capacities",
         text.replace("ch16: {price_per_hour: 1.20, disk_capacity: 4TB}", "ch16: {price_per_hour: 1.20}"),
         r"disk_fill: needs a disk_capacity for node type 'ch16'"),
    ]
    for name, body, pattern in bad_cases:
        path = os.path.join(args.workdir, "bad.yaml")
        with open(path, "w") as f:
            f.write(body)
        r = shardlab("plan", path, "--smoke", "--out", os.path.join(args.workdir, "bad"))
        located = re.search(r"bad\.yaml:\d+:\d+:", r.stderr) is not None
        check(r.returncode == 2 and located and re.search(pattern, r.stderr) is not None,
              f"{name}: exit 2 at file:line:col ({r.returncode}): {r.stderr.strip()[:300]}")
    r = shardlab("plan", os.path.join(args.scenarios, "quickstart.yaml"), "--smoke",
                 "--out", os.path.join(args.workdir, "noplan"))
    check(r.returncode == 2 and "has no plan section" in r.stderr,
          f"a scenario without a plan section: exit 2 ({r.returncode}): {r.stderr.strip()[:200]}")
    r = shardlab("plan", scenario, "--smoke", "--set", "plan.nodes=[1]",
                 "--out", os.path.join(args.workdir, "none"))
    check(r.returncode == 2 and "none of the" in r.stderr,
          f"a space with no placeable cluster: exit 2 ({r.returncode}): {r.stderr.strip()[:200]}")
    r = shardlab("plan", scenario, "--smoke", "--scale", "2")
    check(r.returncode == 2 and "--scale" in r.stderr,
          f"--scale outside (0, 1]: exit 2 ({r.returncode}): {r.stderr.strip()[:200]}")

    print(f"{checks - len(failures)}/{checks} checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
