#!/usr/bin/env python3
"""`shardlab check`: the shipped scenarios pass with and without --smoke, the summary names what
matters, and mistakes exit 2 with `file:line:col: message` on stderr and nothing on stdout.
Prints 'N passed, M failed'."""
import argparse
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from cli_tally import Tally  # noqa: E402

SCENARIOS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scenarios")
SHIPPED = ["quickstart.yaml", "ecommerce-case-study.yaml", "sharding-strategies.yaml",
           "replica-failover.yaml"]

MINIMAL = """\
cluster:
  nodes: [n0, n1, n2]
  shards: 3
  sharding: {kind: hash, key: cityHash64(user_id)}
workload:
  rows: 1000
"""

LIST_WITH_UNUSED_VALUE = """\
cluster:
  nodes: [n0, n1]
  shards: 2
  sharding: {kind: list, key: gender, lists: [[F], [M, xx]]}
workload:
  rows: 1000
run: {outputs: []}
smoke:
  workload.rows: 100
"""

# (name, file text, extra arguments, text the message must start with after "PATH"/"--set")
MISTAKES = [
    ("yaml syntax", "cluster:\n  nodes: [n0, n1\n  shards: 3\n", [],
     "{f}:3:9: invalid YAML: end of sequence flow not found"),
    ("unknown top-level key", MINIMAL + "clustre: {}\n", [],
     "{f}:7:1: unknown top-level key 'clustre' (expected one of: name, hardware, topology, "
     "cluster, table, workload, faults, random_faults, run, reshard, cache, plan, smoke, variants); did you "
     "mean 'cluster'?"),
    ("unknown nested key", MINIMAL + "  batch_row: 10\n", [],
     "{f}:7:3: unknown key 'batch_row' under 'workload'"),
    ("wrong type", MINIMAL.replace("shards: 3", "shards: three"), [],
     "{f}:3:11: cluster.shards: expected a whole number from 1 to 1024, got 'three'"),
    ("out of range", MINIMAL + "  batch_rows: 0\n", [],
     "{f}:7:15: workload.batch_rows: expected a whole number from 1 to 100000000, got 0"),
    ("bad unit", MINIMAL + "run: {duration: 5m}\n", [],
     "{f}:7:17: run.duration: bad duration '5m': 'm' is ambiguous"),
    ("unknown node in a reshard", MINIMAL + "reshard: {at: 1h, add: [[n9]]}\n", [],
     "{f}:7:26: reshard.add.0.0: unknown node 'n9'"),
    ("unknown node in a fault", MINIMAL + "faults: [{at: 1h, kind: node_crash, targets: [n9]}]\n",
     [], "{f}:7:47: faults.0.targets.0: unknown cluster node 'n9'"),
    ("parts on a fault other than broken_part",
     MINIMAL + "faults: [{at: 1h, kind: node_crash, targets: [n1], parts: 2}]\n", [],
     "{f}:7:59: faults.0.parts: 'parts' applies to broken_part faults, not to node_crash"),
    ("a broken_part fault with a duration",
     MINIMAL + "faults: [{at: 1h, kind: broken_part, targets: [n1], duration: 1h}]\n", [],
     "{f}:7:63: faults.0.duration: a broken_part fault is an instant; it takes no 'duration'"),
    ("broken_part parts out of range",
     MINIMAL + "faults: [{at: 1h, kind: broken_part, targets: [n1], parts: 0}]\n", [],
     "{f}:7:60: faults.0.parts: expected a whole number from 1 to 1000000, got 0"),
    ("a calibration path that is a directory",
     "hardware: {calibration: .}\n" + MINIMAL, [],
     "{f}:1:25: hardware.calibration: '.' is a directory, expected a calibration file"),
    ("unknown column in a query",
     MINIMAL + "  queries:\n    - name: q\n      rate_per_s: 1\n      sql: |\n"
     "        SELECT count() FROM user_behavior WHERE provnce = 'x'\n", [],
     "{f}:11:49: workload.queries.0.sql: SQL error at position 41 (line 1, column 41)"),
    ("unknown column in the sharding key",
     MINIMAL.replace("cityHash64(user_id)", "cityHash64(usr_id)"), [],
     "{f}:4:42: cluster.sharding.key: SQL error at position 12"),
    ("set: unknown key", MINIMAL, ["--set", "cluster.insert_mod=sync"],
     "--set cluster.insert_mod=sync: unknown key 'insert_mod' under 'cluster' (expected one of: "
     "nodes, shards, replicas, placement, sharding, insert_mode, internal_replication, "
     "insert_quorum, load_balancing, coordinator, settings); did you mean 'insert_mode'?"),
    ("set: bad value", MINIMAL, ["--set", "cluster.replicas=0"],
     "--set cluster.replicas=0: cluster.replicas: expected a whole number from 1 to 16, got 0"),
    ("smoke without a smoke section", MINIMAL, ["--smoke"],
     "{f}: --smoke: the scenario has no smoke section"),
    ("a mistake in the smoke section", MINIMAL + "smoke:\n  workload.rows: 0\n", [],
     "{f}:8:18: workload.rows: expected a whole number from 1 to 1099511627776, got 0"),
    ("unknown variant", MINIMAL, ["--variant", "x"],
     "{f}: there is no variant 'x': the scenario has no variants section"),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shardlab", required=True)
    ap.add_argument("--workdir", required=True)
    args = ap.parse_args()
    sl = args.shardlab
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)
    passed = failed = 0

    def report(name, problems, proc):
        nonlocal passed, failed
        if problems:
            failed += 1
            print(f"FAIL {name}: {'; '.join(problems)}\n  stdout: {proc.stdout.strip()[:600]}"
                  f"\n  stderr: {proc.stderr.strip()[:600]}")
        else:
            passed += 1
            print(f"PASS {name}")

    def check(argv):
        return subprocess.run([sl, "check"] + argv, capture_output=True, text=True)

    # Every shipped scenario, as written and scaled down.
    for file in SHIPPED:
        path = os.path.join(SCENARIOS, file)
        for extra in ([], ["--smoke"]):
            proc = check([path] + extra)
            problems = []
            if proc.returncode != 0:
                problems.append(f"exit {proc.returncode}")
            if proc.stderr:
                problems.append("stderr is not empty")
            for word in ("question", "hardware", "cluster", "inserts", "rows", "queries", "run"):
                if f"  {word}" not in proc.stdout:
                    problems.append(f"no '{word}' line in the summary")
            report(f"{file} {' '.join(extra)}".strip(), problems, proc)

    # What the summary says about the case study.
    proc = check([os.path.join(SCENARIOS, "ecommerce-case-study.yaml")])
    problems = []
    for text in ("10 nodes", "8 shards x 2 replicas", "hash sharding on cityHash64(user_id)",
                 "async", "1000000000 over 1 day", "top_items_beijing_women", "target 10s",
                 "24h", "smoke section: ok"):
        if text not in proc.stdout:
            problems.append(f"the summary lacks '{text}'")
    report("case study summary", problems, proc)

    # Variants are checked one by one; --variant picks one.
    path = os.path.join(SCENARIOS, "sharding-strategies.yaml")
    proc = check([path])
    problems = [] if proc.returncode == 0 else [f"exit {proc.returncode}"]
    for variant in ("hash-user", "hash-gender", "range-day", "list-province"):
        if f"variant {variant}" not in proc.stdout:
            problems.append(f"variant {variant} is not in the summary")
    report("variants", problems, proc)
    proc = check([path, "--variant", "range-day", "--smoke"])
    problems = [] if proc.returncode == 0 else [f"exit {proc.returncode}"]
    if "variant range-day" not in proc.stdout or "variant hash-user" in proc.stdout:
        problems.append("--variant did not select range-day alone")
    if "range sharding on toYYYYMMDD(event_time)" not in proc.stdout:
        problems.append("range sharding is not in the summary")
    report("--variant", problems, proc)

    # Overrides change what is checked.
    proc = check([os.path.join(SCENARIOS, "quickstart.yaml"), "--set", "cluster.insert_mode=sync",
                  "--set", "workload.rows=5e5", "--set", "cluster.shards=1"])
    problems = [] if proc.returncode == 0 else [f"exit {proc.returncode}"]
    for text in ("(3 overrides)", "sync,", "500000 over", "1 shard x 1 replica"):
        if text not in proc.stdout:
            problems.append(f"the summary lacks '{text}'")
    report("--set", problems, proc)

    # Mistakes: exit 2, the message on stderr, nothing on stdout.
    for index, (name, text, extra, expected) in enumerate(MISTAKES):
        path = os.path.join(args.workdir, f"bad{index}.yaml")
        with open(path, "w") as f:
            f.write(text)
        proc = check([path] + extra)
        problems = []
        if proc.returncode != 2:
            problems.append(f"exit {proc.returncode}, expected 2")
        if proc.stdout:
            problems.append("stdout is not empty")
        want = "shardlab: " + expected.format(f=path)
        if not proc.stderr.startswith(want):
            problems.append(f"stderr does not start with {want!r}")
        report(name, problems, proc)

    # A list value the workload never generates: valid, but warned about once on stderr with its
    # place, by check (which loads the file several times) and by run.
    path = os.path.join(args.workdir, "unused_list_value.yaml")
    with open(path, "w") as f:
        f.write(LIST_WITH_UNUSED_VALUE)
    want = (f"warning: {path}:4:56: cluster.sharding.lists.1.1: list value 'xx' of shard 2 is "
            "never generated by the workload's column 'gender' (it generates: F, M)\n")
    for argv in (["check", path], ["check", path, "--smoke"],
                 ["run", path, "--smoke", "--out", os.path.join(args.workdir, "unused_out")]):
        proc = subprocess.run([sl] + argv, capture_output=True, text=True)
        problems = [] if proc.returncode == 0 else [f"exit {proc.returncode}"]
        if proc.stderr != want:
            problems.append(f"stderr is not exactly {want!r}")
        report(f"warning for an unused list value ({' '.join(argv[:1] + argv[2:3])})", problems,
               proc)

    proc = check([os.path.join(args.workdir, "missing.yaml")])
    problems = []
    if proc.returncode != 2 or "cannot read the scenario file" not in proc.stderr:
        problems.append(f"exit {proc.returncode}, stderr {proc.stderr!r}")
    report("missing file", problems, proc)

    more_passed, more_failed = input_path_cases(sl, args.workdir)
    passed += more_passed
    failed += more_failed
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


def input_path_cases(sl, workdir):
    """Issue 20: a repeated --set warns (naming the path and both values) and the last one wins;
    a directory given as the scenario is a clear exit-2 error."""
    t = Tally(sl)
    quickstart = os.path.join(SCENARIOS, "quickstart.yaml")
    proc = t.run(["check", quickstart, "--set", "cluster.shards=1", "--set", "workload.rows=5e5",
                  "--set", "cluster.shards = 2"])
    problems = [] if proc.returncode == 0 else [f"exit {proc.returncode}"]
    warning = "shardlab: warning: --set cluster.shards is given twice, '1' then '2'; the last one wins"
    if warning not in proc.stderr:
        problems.append(f"stderr lacks {warning!r}")
    if proc.stderr.count("warning") != 1:
        problems.append("expected exactly one warning")
    if "2 shards x 1 replica" not in proc.stdout:
        problems.append("the last --set did not win")
    t.report("repeated --set warns, the last wins", problems, proc)

    proc = t.run(["check", quickstart, "--set", "cluster.shards=1"])
    t.report("a single --set does not warn",
             [] if proc.returncode == 0 and not proc.stderr else [f"stderr {proc.stderr!r}"], proc)

    directory = os.path.join(workdir, "a-directory.yaml")
    os.makedirs(directory, exist_ok=True)
    want = f"'{directory}': it is a directory, expected a scenario YAML file"
    proc = t.run(["check", directory])
    problems = t.problems_of(proc, 2, [want])
    if "empty" in proc.stderr:
        problems.append("stderr calls it an empty scenario")
    t.report("a directory as the scenario", problems, proc)
    return t.passed, t.failed


if __name__ == "__main__":
    sys.exit(main())
