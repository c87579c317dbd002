#!/usr/bin/env python3
"""Writes a k-ary fat-tree PLATFORM.yaml and a FLOWS.csv of random transfers, the same kind of
workload as BM_FlowsFatTree in bench_network.cpp, so that the CLI can be timed:

    python3 bench/make_fat_tree.py --k 8 --flows 1000 --out /tmp/ft
    time build/apps/shardlab flows /tmp/ft/platform.yaml /tmp/ft/flows.csv -o /tmp/ft/out.csv

A k-ary fat-tree (k even) has k pods of k/2 edge and k/2 aggregation switches, (k/2)^2 core
switches and k^3/4 hosts (k = 8: 128 hosts, 80 switches, 384 links). Every link is 10 Gbit/s
and 2 us. Each flow has a random source, a different random destination, a size log-uniform
between 10 kB and 100 MB and a start uniform in the first 10 ms. The numbers come from
Python's random module with the given seed: the same kind of flows as the benchmark, not the
same ones."""
import argparse
import os
import random


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--k", type=int, default=8, help="fat-tree arity, even (default 8)")
    ap.add_argument("--flows", type=int, default=1000, help="number of flows (default 1000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sharing", choices=["maxmin", "rtt"], default="maxmin")
    ap.add_argument("--out", required=True, help="directory for platform.yaml and flows.csv")
    args = ap.parse_args()
    if args.k < 2 or args.k % 2:
        ap.error("--k must be even and >= 2")
    half = args.k // 2
    link = "bandwidth: 10Gbit/s, latency: 2us"

    hosts, switches, links = [], [], []
    cores = [f"core{i}" for i in range(half * half)]
    switches += cores
    for pod in range(args.k):
        aggs = [f"agg{pod}_{j}" for j in range(half)]
        switches += aggs
        for j, agg in enumerate(aggs):
            for c in range(half):
                links.append((agg, cores[j * half + c]))
        for e in range(half):
            edge = f"edge{pod}_{e}"
            switches.append(edge)
            for agg in aggs:
                links.append((edge, agg))
            for _ in range(half):
                host = f"h{len(hosts)}"
                hosts.append(host)
                links.append((host, edge))

    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "platform.yaml"), "w") as f:
        f.write(f"# {args.k}-ary fat-tree: {len(hosts)} hosts, {len(switches)} switches, "
                f"{len(links)} links\n")
        f.write(f"sharing: {args.sharing}\n")
        f.write(f"hosts: [{', '.join(hosts)}]\n")
        f.write(f"switches: [{', '.join(switches)}]\n")
        f.write("links:\n")
        for a, b in links:
            f.write(f"  - {{a: {a}, b: {b}, {link}}}\n")

    rng = random.Random(args.seed)
    with open(os.path.join(args.out, "flows.csv"), "w") as f:
        f.write("id,src,dst,bytes,start_s\n")
        for i in range(args.flows):
            src = rng.randrange(len(hosts))
            dst = rng.randrange(len(hosts))
            while dst == src:
                dst = rng.randrange(len(hosts))
            size = round(1e4 * 1e4 ** rng.random())
            start_ns = rng.randrange(10_000_000)
            f.write(f"f{i},{hosts[src]},{hosts[dst]},{size},{start_ns / 1e9:.9f}\n")


if __name__ == "__main__":
    main()
