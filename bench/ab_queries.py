#!/usr/bin/env python3
"""Alternating runs of two or more shardlab builds on the seed queries Q1-Q4.

On a machine whose speed drifts from minute to minute (a shared VM), timing one build and
then the other compares the moments as much as the builds. Here every round runs each
build once per query, in turn, and the report gives the best, the first quartile and the
median of the whole-process wall times, and whether the answers agree.

  python3 bench/ab_queries.py --data DIR --runs 25 \\
      new=build/apps/shardlab old=/path/to/older/shardlab [--queries Q3,Q4]

A build is LABEL=PATH, optionally followed by environment settings for its runs:
LABEL=PATH,NAME=VALUE,... DIR is a table directory loaded with `shardlab load` (the
default user_behavior rows); Q3's most active user is found with the first build.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "differential"))

import run_differential as diff  # noqa: E402

SEED_QUERY_NAMES = ("Q1", "Q2", "Q3", "Q4")
TOP_USER_SQL = ("SELECT user_id, count() AS c FROM user_behavior GROUP BY user_id "
                "ORDER BY c DESC, user_id LIMIT 1")


def parse_build(text: str) -> tuple[str, str, dict[str, str]]:
    label, sep, rest = text.partition("=")
    if not sep or not label or not rest:
        raise argparse.ArgumentTypeError(f"'{text}': expected LABEL=PATH[,NAME=VALUE...]")
    path, *settings = rest.split(",")
    env = dict(os.environ)
    for setting in settings:
        name, sep, value = setting.partition("=")
        if not sep or not name:
            raise argparse.ArgumentTypeError(f"'{setting}' in '{text}': expected NAME=VALUE")
        env[name] = value
    return label, path, env


def run_sql(binary: str, env: dict[str, str], data: str, sql: str) -> tuple[float, bytes]:
    start = time.perf_counter()
    done = subprocess.run([binary, "sql", "--data", data, sql], env=env, capture_output=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{binary} sql failed ({done.returncode}): "
                           f"{done.stderr.decode(errors='replace').strip()}")
    return seconds, done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="table directory (shardlab load --data)")
    parser.add_argument("--runs", type=int, default=15, help="rounds (default 15)")
    parser.add_argument("--queries", default=",".join(SEED_QUERY_NAMES),
                        help="comma-separated names of corpus queries (default Q1,Q2,Q3,Q4)")
    parser.add_argument("--corpus", type=Path, default=diff.DEFAULT_QUERIES,
                        help="file holding the seed queries (default: the differential corpus)")
    parser.add_argument("builds", nargs="+", type=parse_build, help="LABEL=PATH[,NAME=VALUE...]")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    by_name = {q.name: q for q in diff.load_corpus(args.corpus)}
    names = [name.strip() for name in args.queries.split(",") if name.strip()]
    unknown = [name for name in names if name not in by_name]
    if unknown:
        parser.error(f"unknown queries {', '.join(unknown)}; known: {', '.join(sorted(by_name))}")
    first_label, first_binary, first_env = args.builds[0]
    _, top = run_sql(first_binary, first_env, args.data, TOP_USER_SQL)
    top_user = top.decode().split("\t")[0].strip()
    agree = True
    for name in names:
        sql = diff.bind_query(by_name[name], top_user)
        times: dict[str, list[float]] = {label: [] for label, _, _ in args.builds}
        answers: dict[str, bytes] = {}
        for _ in range(args.runs):
            for label, binary, env in args.builds:
                seconds, answer = run_sql(binary, env, args.data, sql)
                times[label].append(seconds * 1000)
                answers[label] = answer
        print(f"{name} ({args.runs} alternating runs each, whole-process wall time)")
        for label, _, _ in args.builds:
            ms = sorted(times[label])
            same = answers[label] == answers[first_label]
            agree = agree and same
            print(f"  {label:12s} best {ms[0]:7.1f} ms   p25 {ms[len(ms) // 4]:7.1f} ms   "
                  f"median {statistics.median(ms):7.1f} ms"
                  f"{'' if same else '   ANSWER DIFFERS from ' + first_label}")
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
