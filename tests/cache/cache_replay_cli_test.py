#!/usr/bin/env python3
"""`shardlab cache replay` end to end: the JSON it prints, several nodes and node changes, round
robin with a directory or fan-out reads, the byte-LRU policy, and every input error with exit
code 2 and the place of the mistake.

    cache_replay_cli_test.py --shardlab BIN [--workdir DIR]
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_trace  # noqa: E402

failures = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        failures.append(what)


def run(shardlab, *args):
    p = subprocess.run([shardlab, "cache", "replay", *args], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def replay(shardlab, *args):
    rc, out, err = run(shardlab, *args)
    if rc != 0:
        raise SystemExit(f"replay {args} failed with {rc}: {err}")
    return json.loads(out)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--shardlab", required=True)
    p.add_argument("--workdir")
    a = p.parse_args()
    work = a.workdir or tempfile.mkdtemp(prefix="shardlab-cache-cli-")
    os.makedirs(work, exist_ok=True)
    trace = os.path.join(work, "zipf.csv")
    sys.argv = ["make_trace", trace, "--requests", "200000", "--keys", "50000", "--rate", "2000"]
    make_trace.main()
    sl = a.shardlab

    one = replay(sl, trace, "--memory", "64MiB")
    check(one["requests"] == 200000 and one["gets"] == 200000, "every request counted")
    check(one["hits"] + one["misses"] == one["gets"], "hits and misses add up")
    check(0.3 < one["hit_ratio"] < 1 and one["writes"] == one["misses"],
          "a look-aside get sets the key after each miss")
    check(sum(c["items"] for c in one["slab_classes"]) > 0, "per-class figures")
    again = replay(sl, trace, "--memory", "64MiB")
    check(again == one, "a replay is deterministic")

    lru = replay(sl, trace, "--memory", "64MiB", "--policy", "byte_lru")
    check(lru["policy"] == "byte_lru" and lru["gets"] == one["gets"], "the byte-LRU policy runs")

    ketama = replay(sl, trace, "--memory", "16MiB", "--nodes", "4", "--remove-node-at", "50")
    change = ketama["node_changes"][0]
    check(len(ketama["nodes"]) == 4, "four nodes reported, the removed one included")
    check(0.15 < change["moved_share"] < 0.35,
          f"ketama moves about a quarter of the keys when one of four leaves ({change['moved_share']:.3f})")
    modula = replay(sl, trace, "--memory", "16MiB", "--nodes", "4", "--distribution", "modula",
                    "--remove-node-at", "50")
    check(modula["node_changes"][0]["moved_share"] > 0.6,
          f"modula moves most keys ({modula['node_changes'][0]['moved_share']:.3f})")
    check(modula["node_changes"][0]["hit_ratio_after"] < ketama["node_changes"][0]["hit_ratio_after"],
          "the miss storm after a change is worse under modula")
    gutter = replay(sl, trace, "--memory", "16MiB", "--nodes", "4", "--remove-node-at", "50",
                    "--gutter-memory", "16MiB")
    check(gutter["node_changes"][0]["keys_to_gutter"] == change["keys_moved"] and
          gutter["gutter"]["gets"] > 0 and gutter["gutter"]["hits"] > 0,
          "with a gutter pool the leaving node's keys go to it, and the others stay put")
    added = replay(sl, trace, "--memory", "16MiB", "--nodes", "3", "--add-node-at", "50")
    check(added["node_changes"][0]["kind"] == "add" and len(added["nodes"]) == 4, "a node joins")

    directory = replay(sl, trace, "--memory", "16MiB", "--nodes", "4",
                       "--distribution", "round_robin")
    fanout = replay(sl, trace, "--memory", "16MiB", "--nodes", "4",
                    "--distribution", "round_robin", "--round-robin-lookup", "fanout")
    check(directory["directory_entries"] > 0 and directory["node_gets_per_read"] <= 1.0,
          "round robin with a directory asks one node per read at most")
    check(fanout["node_gets_per_read"] == 4.0,
          f"fan-out reads ask every node ({fanout['node_gets_per_read']:.2f} gets per read)")

    # Thundering herds: hot keys expire (TTL 5 s); each miss queries for 50 ms.
    ttl = os.path.join(work, "ttl.csv")
    sys.argv = ["make_trace", ttl, "--requests", "200000", "--keys", "20000", "--rate", "20000",
                "--ttl", "5", "--alpha", "1.0"]
    make_trace.main()
    instant = replay(sl, ttl, "--memory", "64MiB")
    series = os.path.join(work, "series.csv")
    herd = replay(sl, ttl, "--memory", "64MiB", "--backend-latency", "0.05", "--series", series)
    with open(series) as f:
        rows = list(csv.DictReader(f))
    check(len(rows) == 10 and sum(int(r["gets"]) for r in rows) == herd["gets"] and
          sum(int(r["hits"]) for r in rows) == herd["hits"] and
          sum(int(r["backend_queries"]) for r in rows) == herd["backend"]["queries"] and
          max(int(r["backend_queries"]) for r in rows) == herd["backend"]["peak_queries_per_s"] and
          sum(int(r["evictions"]) for r in rows) == herd["evictions"],
          "--series: one line a second whose sums are the report's totals")
    leased = replay(sl, ttl, "--memory", "64MiB", "--backend-latency", "0.05", "--leases")
    check(instant["backend"]["queries"] == instant["misses"], "without latency every miss is one query")
    check(herd["backend"]["queries"] > leased["backend"]["queries"] and
          herd["backend"]["peak_queries_per_s"] > leased["backend"]["peak_queries_per_s"],
          f"leases cut the herd: {herd['backend']['queries']} -> {leased['backend']['queries']} "
          f"queries, peak {herd['backend']['peak_queries_per_s']} -> "
          f"{leased['backend']['peak_queries_per_s']}/s")
    check(leased["backend"]["lease_waits"] > 0 and herd["backend"]["lease_waits"] == 0,
          "the gets held back by a lease are counted")

    # Input errors: exit code 2, and where.
    bad = os.path.join(work, "bad.csv")
    with open(bad, "w") as f:
        f.write("time_s,op,key,value_bytes,ttl_s\n0,get,a,10,0\n1,get,b,ten,0\n")
    rc, _, err = run(sl, bad)
    check(rc == 2 and "bad.csv:3:" in err and "value_bytes" in err, "a bad trace line: exit 2, line 3")
    rc, _, err = run(sl, os.path.join(work, "missing.csv"))
    check(rc == 2 and "trace file" in err, "a missing trace: exit 2")
    for flags, needle in [(["--growth-factor", "1"], "growth-factor"),
                          (["--memory", "lots"], "--memory"),
                          (["--memory", "100KiB"], "below one page"),
                          (["--item-max", "2MiB"], "cannot exceed the page"),
                          (["--nodes", "0"], "nodes"),
                          (["--distribution", "rendezvous"], "distribution"),
                          (["--remove-node-at", "5"], "at least 2 nodes"),
                          (["--nodes", "2", "--distribution", "round_robin", "--gutter-memory",
                            "8MiB"], "gutter-memory needs ketama or modula"),
                          (["--series", os.path.join(work, "no-such-dir", "s.csv")], "--series")]:
        rc, _, err = run(sl, trace, *flags)
        check(rc == 2 and needle in err, f"{' '.join(flags)}: exit 2 naming {needle} ({err.strip()[:90]})")
    rc, _, err = run(sl, trace, "--memory", "16MiB")
    check(rc == 0 and "below one page for each of the 39 slab classes" in err,
          "a memory limit below one page per class runs, with memcached's warning")

    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
