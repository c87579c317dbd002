#!/usr/bin/env python3
"""Deep and long input through the real binary (issue 20): nesting past max_parser_depth and
statements past max_ast_elements exit 2 with the position, in `shardlab sql` and in a scenario's
query template and sharding key (`shardlab check`, positioned at file:line:col); never a signal.
Ordinary queries that used to be taken for alias cycles answer. Prints 'N passed, M failed'."""
import argparse
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from cli_tally import Tally  # noqa: E402

SCENARIO = """\
name: deep_input
hardware:
  node_types:
    small:
      cores: 4
      cpu_speed: 1.0
      memory: 16GiB
      memory_bandwidth: 10GB/s
      disk: {{read_bandwidth: 500MB/s, write_bandwidth: 400MB/s, latency: 100us, iops: 50000}}
topology:
  racks:
    host_link: {{bandwidth: 10Gbit/s, latency: 10us}}
cluster:
  nodes: [n0, n1]
  shards: 2
  sharding:
    kind: hash
    key: {key}
workload:
  rows: 1e5
  days: 1
  start: 2024-05-01 00:00:00
  queries:
    - name: q
      sql: {sql}
      rate_per_s: 0.01
run:
  duration: 1h
  seed: 1
  out_dir: out/deep_input
"""
KEY_PREFIX = "    key: "
SQL_PREFIX = "      sql: "
GOOD_KEY = "cityHash64(user_id)"
GOOD_SQL = "SELECT count() FROM user_behavior"


def nested(opening, inner, closing, times):
    return opening * times + inner + closing * times


def or_chain(prefix, term, count):
    return prefix + " OR ".join([term] * count)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shardlab", required=True)
    ap.add_argument("--workdir", required=True)
    args = ap.parse_args()
    sl = args.shardlab
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)
    data = os.path.join(args.workdir, "t")
    subprocess.run([sl, "load", "--data", data, "--rows", "20000", "--seed", "1"], check=True,
                   capture_output=True)
    t = Tally(sl)

    def expect_error(name, argv, needles):
        proc = t.run(argv)
        problems = t.problems_of(proc, 2, needles)
        if len(proc.stderr) > 2000:
            problems.append(f"message of {len(proc.stderr)} characters")
        t.report(name, problems, proc)

    def sql(query):
        return t.run(["sql", "--data", data, query])

    def expect_same_answer(name, query, reference):
        got, want = sql(query), sql(reference)
        problems = []
        if got.returncode != 0:
            problems.append(f"exit {got.returncode}")
        if want.returncode != 0:
            problems.append(f"reference exit {want.returncode}")
        if got.stdout != want.stdout or not got.stdout:
            problems.append(f"answer {got.stdout.strip()[:80]!r}, expected {want.stdout.strip()!r}")
        t.report(name, problems, got)

    # `shardlab sql`: the crashing inputs of the issue (each under the 128 KiB argument limit).
    select = lambda expr: f"SELECT {expr} FROM user_behavior LIMIT 1"
    expect_error("sql: 10,000 nested parentheses",
                 ["sql", "--data", data, select(nested("(", "1", ")", 10_000))],
                 ["position 1008 (line 1, column 1008)", "max_parser_depth"])
    expect_error("sql: 50,000 unary minuses",
                 ["sql", "--data", data, select("- " * 50_000 + "1")],
                 ["position 2006", "max_parser_depth"])
    expect_error("sql: 15,000 nested toDate(",
                 ["sql", "--data", data, select(nested("toDate(", "event_time", ")", 15_000))],
                 ["position 7008", "max_parser_depth"])
    # Ordinary queries that were taken for alias cycles.
    expect_same_answer("sql: 34 terms of 1 + 1", select(" + ".join(["1"] * 34)), select("34"))
    where = "SELECT count() FROM user_behavior WHERE "
    expect_same_answer("sql: 40 ORed conditions",
                       where + " OR ".join(f"user_id = {i}" for i in range(40)),
                       where + "user_id IN (" + ", ".join(str(i) for i in range(40)) + ")")
    expect_same_answer("sql: 100 NOTs", where + "NOT " * 100 + "user_id < 500",
                       where + "user_id < 500")
    expect_error("sql: a real alias cycle",
                 ["sql", "--data", data, "SELECT a + 1 AS b, b + 1 AS a FROM user_behavior"],
                 ["aliases refer to each other in a cycle"])

    # A scenario's sharding key and query template: file:line:col of the scalar's character.
    def scenario_case(name, key, query, sql_position, needle):
        path = os.path.join(args.workdir, name.replace(" ", "_").replace(",", "") + ".yaml")
        text = SCENARIO.format(key=key, sql=query)
        with open(path, "w") as f:
            f.write(text)
        lines = text.split("\n")
        prefix = KEY_PREFIX if key != GOOD_KEY else SQL_PREFIX
        line = next(i for i, l in enumerate(lines) if l.startswith(prefix)) + 1
        column = len(prefix) + sql_position  # the scalar starts right after the prefix
        expect_error(f"check: {name}", ["check", path],
                     [f"{path}:{line}:{column}:", f"position {sql_position}", needle])

    # The fixture itself is valid: only the deep part makes the error.
    good = os.path.join(args.workdir, "good.yaml")
    with open(good, "w") as f:
        f.write(SCENARIO.format(key=GOOD_KEY, sql=GOOD_SQL))
    proc = t.run(["check", good])
    t.report("check: the scenario without deep input passes",
           [] if proc.returncode == 0 else [f"exit {proc.returncode}"], proc)

    # Long chains under the limits are fine.
    long_ok = os.path.join(args.workdir, "long_chains.yaml")
    with open(long_ok, "w") as f:
        f.write(SCENARIO.format(
            key="cityHash64(" + " + ".join(["user_id"] * 200_000) + ")",
            sql=or_chain("SELECT count() FROM user_behavior WHERE ", "user_id = 123456", 100_000)))
    proc = t.run(["check", long_ok])
    t.report("check: a sharding key of 200,000 terms and a query of 100,000 pass",
           [] if proc.returncode == 0 else [f"exit {proc.returncode}"], proc)

    depth, size = "max_parser_depth", "max_ast_elements"
    scenario_case("query with 100,000 (", GOOD_KEY,
                  "SELECT " + nested("(", "1", ")", 100_000) + " FROM user_behavior", 1008, depth)
    scenario_case("query with 20,000 nested cityHash64(", GOOD_KEY,
                  "SELECT " + nested("cityHash64(", "user_id", ")", 20_000) +
                  " FROM user_behavior", 11008, depth)
    # 600,000 terms, 12 MB: element 500,001 is the user_id of term 166,667 (count() is element 1,
    # OR element 5, term t >= 2 elements 3t to 3t + 2).
    or_prefix = "SELECT count() FROM user_behavior WHERE "
    scenario_case("query with 600,000 OR terms", GOOD_KEY,
                  or_chain(or_prefix, "user_id = 123456", 600_000),
                  len(or_prefix) + 20 * 166_666 + 1, size)
    scenario_case("sharding key with 100,000 (", nested("(", "user_id", ")", 100_000), GOOD_SQL,
                  1001, depth)
    scenario_case("sharding key with 20,000 nested cityHash64(",
                  nested("cityHash64(", "user_id", ")", 20_000), GOOD_SQL, 11001, depth)
    # Term 1 is elements 1 to 3, OR 4, term t >= 2 elements 3t - 1 to 3t + 1: element 500,001
    # is the literal of term 166,667, 10 characters into it.
    scenario_case("sharding key with 600,000 OR terms", or_chain("", "user_id = 123456", 600_000),
                  GOOD_SQL, 20 * 166_666 + 10 + 1, size)

    return t.summary()


if __name__ == "__main__":
    sys.exit(main())
