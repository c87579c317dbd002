#!/usr/bin/env python3
"""`run.outputs: [trace]` writes a Chrome/Perfetto trace-event file whose structure holds, which
changes no simulated result, and which a cap on slices keeps bounded."""
import argparse
import json
import os
import shutil
import subprocess
import sys

failures = []


def check(cond, message):
    if not cond:
        failures.append(message)
        print("FAIL:", message)


def run(sl, scenario, out, *extra):
    proc = subprocess.run([sl, "run", scenario, "--smoke", "--out", out, *extra],
                          capture_output=True, text=True)
    check(proc.returncode == 0, f"run {os.path.basename(scenario)} {extra}: {proc.stderr[-400:]}")
    return proc


def load(path):
    with open(path) as f:
        return json.load(f)


def check_structure(trace, label):
    """Perfetto's trace-event JSON: named processes and threads, complete slices, counters and
    instants, every id named."""
    check(isinstance(trace, dict) and isinstance(trace.get("traceEvents"), list),
          f"{label}: no traceEvents list")
    events = trace.get("traceEvents", [])
    processes = {}
    threads = set()
    for e in events:
        check(e.get("ph") in ("M", "X", "C", "i"), f"{label}: unexpected phase {e.get('ph')}")
        check(isinstance(e.get("pid"), int), f"{label}: event without an integer pid: {e}")
        if e["ph"] == "M" and e["name"] == "process_name":
            processes[e["pid"]] = e["args"]["name"]
        elif e["ph"] == "M" and e["name"] == "thread_name":
            threads.add((e["pid"], e["tid"]))
    for e in events:
        if e["ph"] in ("X", "i"):
            check(e["pid"] in processes, f"{label}: pid {e['pid']} has no process_name")
            check((e["pid"], e["tid"]) in threads, f"{label}: thread {e['tid']} has no name")
            check(isinstance(e.get("ts"), (int, float)) and e["ts"] >= 0, f"{label}: bad ts {e}")
        if e["ph"] == "X":
            check(isinstance(e.get("dur"), (int, float)) and e["dur"] >= 0, f"{label}: bad dur {e}")
        if e["ph"] == "C":
            check(isinstance(e.get("args"), dict) and e["args"], f"{label}: counter without args")
    return events, processes


def thread_names(events):
    names = {}
    for e in events:
        if e["ph"] == "M" and e["name"] == "thread_name":
            names[(e["pid"], e["tid"])] = e["args"]["name"]
    return names


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--shardlab", required=True)
    parser.add_argument("--scenarios", required=True)
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)
    sl = args.shardlab

    # The trace changes no simulated result.
    quick = os.path.join(args.scenarios, "quickstart.yaml")
    plain = os.path.join(args.workdir, "plain")
    traced = os.path.join(args.workdir, "traced")
    run(sl, quick, plain)
    run(sl, quick, traced, "--set", "run.outputs=[answers,trace]")
    with open(os.path.join(plain, "summary.json"), "rb") as a, \
            open(os.path.join(traced, "summary.json"), "rb") as b:
        check(a.read() == b.read(), "tracing changed summary.json")
    trace = load(os.path.join(traced, "trace.json"))
    events, processes = check_structure(trace, "quickstart")
    names = set(processes.values())
    check("workload" in names, f"no workload process in {sorted(names)}")
    slice_names = {e["name"] for e in events if e["ph"] == "X"}
    for what in ("query", "insert"):
        check(what in slice_names, f"quickstart: no '{what}' slice of a node's cluster track")
    tracks = thread_names(events)
    resources = {tracks[k].split(" #")[0] for k in tracks}
    for resource in ("cpu", "disk", "cluster", "inserts"):
        check(resource in resources, f"quickstart: no '{resource}' track in {sorted(resources)}")
    info = load(os.path.join(traced, "run_info.json"))
    check(info.get("trace_dropped_slices") == 0, "quickstart: slices dropped under the default cap")

    # Faults are instants; a cap keeps the file bounded and says how much it dropped.
    failover = os.path.join(args.scenarios, "replica-failover.yaml")
    capped = os.path.join(args.workdir, "capped")
    cap = 5000
    run(sl, failover, capped, "--variant", "async", "--set", "run.outputs=[trace]",
        "--set", f"run.trace_max_slices={cap}")
    trace = load(os.path.join(capped, "trace.json"))
    events, processes = check_structure(trace, "replica-failover")
    summary = load(os.path.join(capped, "summary.json"))
    info = load(os.path.join(capped, "run_info.json"))
    instants = [e for e in events if e["ph"] == "i"]
    check(len(instants) == len(summary["faults"]),
          f"{len(instants)} fault instants for {len(summary['faults'])} faults")
    failed = [f for f in summary["faults"] if f["event"] == "failed"]
    check(any(e["name"] == failed[0]["target"] + " failed" for e in instants) if failed else False,
          "the first fault has no instant")
    kept = sum(1 for e in events if e["ph"] == "X")
    check(kept == cap, f"{kept} slices kept under a cap of {cap}")
    dropped = trace.get("otherData", {}).get("dropped_slices", 0)
    check(dropped > 0 and dropped == info["trace_dropped_slices"],
          f"dropped slices: file says {dropped}, run_info {info.get('trace_dropped_slices')}")
    check(info["trace_slices"] == kept + dropped, "trace_slices is not kept + dropped")

    print("trace test: " + ("ok" if not failures else f"{len(failures)} check(s) failed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
