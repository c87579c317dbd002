#!/usr/bin/env python3
"""Writes a look-aside request trace for `shardlab cache replay` (time_s,op,key,value_bytes,ttl_s).

    make_trace.py OUT.csv [--requests N] [--keys K] [--alpha A] [--rate R] [--seed S]
                          [--sizes small|mixed|large] [--phase-change] [--ttl SECONDS]

Keys are drawn by Zipf popularity (rank r with weight 1/r^alpha, the ranks shuffled so that
popularity does not follow the key's name). Each key has one value size, drawn once from the
size mix: `small` 50-400 bytes, `large` 2-16 KiB, `mixed` three quarters small and a quarter
large, `medium` 600-1200 bytes, each log-uniform. With --phase-change the first half of the
requests use keys with small values and the second half a different key set with medium ones:
the shift that leaves memcached's slab classes holding pages for sizes no longer asked for,
while the new sizes' classes get one page each.
"""
import argparse
import bisect
import itertools
import math
import random


def size_of(rng, mix):
    def log_uniform(lo, hi):
        return int(math.exp(rng.uniform(math.log(lo), math.log(hi))))
    if mix == "small":
        return log_uniform(50, 400)
    if mix == "large":
        return log_uniform(2048, 16384)
    if mix == "medium":
        return log_uniform(600, 1200)
    return log_uniform(50, 400) if rng.random() < 0.75 else log_uniform(2048, 16384)


class KeySet:
    def __init__(self, rng, prefix, keys, alpha, mix):
        weights = [1.0 / (rank ** alpha) for rank in range(1, keys + 1)]
        self.cdf = list(itertools.accumulate(weights))
        ids = list(range(keys))
        rng.shuffle(ids)
        self.names = [f"{prefix}:{i}" for i in ids]
        self.sizes = [size_of(rng, mix) for _ in range(keys)]

    def draw(self, rng):
        rank = bisect.bisect_left(self.cdf, rng.random() * self.cdf[-1])
        return self.names[rank], self.sizes[rank]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out")
    p.add_argument("--requests", type=int, default=1_000_000)
    p.add_argument("--keys", type=int, default=200_000)
    p.add_argument("--alpha", type=float, default=0.9)
    p.add_argument("--rate", type=float, default=100_000, help="requests per second of trace time")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--sizes", choices=["small", "mixed", "medium", "large"], default="mixed")
    p.add_argument("--phase-change", action="store_true")
    p.add_argument("--ttl", type=int, default=0)
    a = p.parse_args()
    rng = random.Random(a.seed)
    if a.phase_change:
        phases = [KeySet(rng, "a", a.keys, a.alpha, "small"), KeySet(rng, "b", a.keys, a.alpha, "medium")]
    else:
        phases = [KeySet(rng, "k", a.keys, a.alpha, a.sizes)]
    with open(a.out, "w") as out:
        out.write("time_s,op,key,value_bytes,ttl_s\n")
        for i in range(a.requests):
            keys = phases[min(len(phases) - 1, i * len(phases) // a.requests)]
            name, size = keys.draw(rng)
            out.write(f"{i / a.rate:.6f},get,{name},{size},{a.ttl}\n")


if __name__ == "__main__":
    main()
