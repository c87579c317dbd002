#!/usr/bin/env python3
"""`shardlab cache replay` end to end: the JSON it prints, several nodes and node changes, round
robin with a directory or fan-out reads, the byte-LRU policy, and every input error with exit
code 2 and the place of the mistake. Prints 'N passed, M failed'.

    cache_replay_cli_test.py --shardlab BIN [--workdir DIR]
"""
import argparse
import csv
import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_trace  # noqa: E402

sys.path.insert(0, os.path.join(HERE, ".."))
from cli_tally import Tally  # noqa: E402

def replay(t, *args):
    proc = t.run(["cache", "replay", *args])
    if proc.returncode != 0:
        raise SystemExit(f"replay {args} failed with {proc.returncode}: {proc.stderr}")
    return json.loads(proc.stdout)


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
    t = Tally(a.shardlab)

    one = replay(t, trace, "--memory", "64MiB")
    t.check(one["requests"] == 200000 and one["gets"] == 200000, "every request counted")
    t.check(one["hits"] + one["misses"] == one["gets"], "hits and misses add up")
    t.check(0.3 < one["hit_ratio"] < 1 and one["writes"] == one["misses"],
          "a look-aside get sets the key after each miss")
    t.check(sum(c["items"] for c in one["slab_classes"]) > 0, "per-class figures")
    again = replay(t, trace, "--memory", "64MiB")
    t.check(again == one, "a replay is deterministic")

    lru = replay(t, trace, "--memory", "64MiB", "--policy", "byte_lru")
    t.check(lru["policy"] == "byte_lru" and lru["gets"] == one["gets"], "the byte-LRU policy runs")

    ketama = replay(t, trace, "--memory", "16MiB", "--nodes", "4", "--remove-node-at", "50")
    change = ketama["node_changes"][0]
    t.check(len(ketama["nodes"]) == 4, "four nodes reported, the removed one included")
    t.check(0.15 < change["moved_share"] < 0.35,
          f"ketama moves about a quarter of the keys when one of four leaves ({change['moved_share']:.3f})")
    modula = replay(t, trace, "--memory", "16MiB", "--nodes", "4", "--distribution", "modula",
                    "--remove-node-at", "50")
    t.check(modula["node_changes"][0]["moved_share"] > 0.6,
          f"modula moves most keys ({modula['node_changes'][0]['moved_share']:.3f})")
    t.check(modula["node_changes"][0]["hit_ratio_after"] < ketama["node_changes"][0]["hit_ratio_after"],
          "the miss storm after a change is worse under modula")
    gutter = replay(t, trace, "--memory", "16MiB", "--nodes", "4", "--remove-node-at", "50",
                    "--gutter-memory", "16MiB")
    t.check(gutter["node_changes"][0]["keys_to_gutter"] == change["keys_moved"] and
          gutter["gutter"]["gets"] > 0 and gutter["gutter"]["hits"] > 0,
          "with a gutter pool the leaving node's keys go to it, and the others stay put")
    added = replay(t, trace, "--memory", "16MiB", "--nodes", "3", "--add-node-at", "50")
    t.check(added["node_changes"][0]["kind"] == "add" and len(added["nodes"]) == 4, "a node joins")

    directory = replay(t, trace, "--memory", "16MiB", "--nodes", "4",
                       "--distribution", "round_robin")
    fanout = replay(t, trace, "--memory", "16MiB", "--nodes", "4",
                    "--distribution", "round_robin", "--round-robin-lookup", "fanout")
    t.check(directory["directory_entries"] > 0 and directory["node_gets_per_read"] <= 1.0,
          "round robin with a directory asks one node per read at most")
    t.check(fanout["node_gets_per_read"] == 4.0,
          f"fan-out reads ask every node ({fanout['node_gets_per_read']:.2f} gets per read)")

    # Thundering herds: hot keys expire (TTL 5 s); each miss queries for 50 ms.
    ttl = os.path.join(work, "ttl.csv")
    sys.argv = ["make_trace", ttl, "--requests", "200000", "--keys", "20000", "--rate", "20000",
                "--ttl", "5", "--alpha", "1.0"]
    make_trace.main()
    instant = replay(t, ttl, "--memory", "64MiB")
    series = os.path.join(work, "series.csv")
    herd = replay(t, ttl, "--memory", "64MiB", "--backend-latency", "0.05", "--series", series)
    with open(series) as f:
        rows = list(csv.DictReader(f))
    t.check(len(rows) == 10 and sum(int(r["gets"]) for r in rows) == herd["gets"] and
          sum(int(r["hits"]) for r in rows) == herd["hits"] and
          sum(int(r["backend_queries"]) for r in rows) == herd["backend"]["queries"] and
          max(int(r["backend_queries"]) for r in rows) == herd["backend"]["peak_queries_per_s"] and
          sum(int(r["evictions"]) for r in rows) == herd["evictions"],
          "--series: one line a second whose sums are the report's totals")
    leased = replay(t, ttl, "--memory", "64MiB", "--backend-latency", "0.05", "--leases")
    t.check(instant["backend"]["queries"] == instant["misses"], "without latency every miss is one query")
    t.check(herd["backend"]["queries"] > leased["backend"]["queries"] and
          herd["backend"]["peak_queries_per_s"] > leased["backend"]["peak_queries_per_s"],
          f"leases cut the herd: {herd['backend']['queries']} -> {leased['backend']['queries']} "
          f"queries, peak {herd['backend']['peak_queries_per_s']} -> "
          f"{leased['backend']['peak_queries_per_s']}/s")
    t.check(leased["backend"]["lease_waits"] > 0 and herd["backend"]["lease_waits"] == 0,
          "the gets held back by a lease are counted")

    # Input errors: exit code 2, and where.
    bad = os.path.join(work, "bad.csv")
    with open(bad, "w") as f:
        f.write("time_s,op,key,value_bytes,ttl_s\n0,get,a,10,0\n1,get,b,ten,0\n")
    t.expect("a bad trace line: exit 2, line 3", ["cache", "replay", bad], 2,
             ["bad.csv:3:", "value_bytes"])
    t.expect("a missing trace: exit 2", ["cache", "replay", os.path.join(work, "missing.csv")], 2,
             ["trace file"])
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
        t.expect(f"{' '.join(flags)}: exit 2 naming {needle}", ["cache", "replay", trace, *flags],
                 2, [needle])
    t.expect("a memory limit below one page per class runs, with memcached's warning",
             ["cache", "replay", trace, "--memory", "16MiB"], 0,
             ["below one page for each of the 39 slab classes"])

    return t.summary()


if __name__ == "__main__":
    sys.exit(main())
