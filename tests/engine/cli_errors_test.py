#!/usr/bin/env python3
"""The CLI's contract for mistakes: input errors exit 2 and say where and what was expected;
corrupt data exits 1 and names the file; nothing crashes. Prints 'N passed, M failed'."""
import argparse
import os
import shutil
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shardlab", required=True)
    ap.add_argument("--workdir", required=True)
    args = ap.parse_args()
    sl = args.shardlab
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)
    data = os.path.join(args.workdir, "t")
    subprocess.run([sl, "load", "--data", data, "--rows", "50000", "--seed", "1"], check=True, capture_output=True)
    bad_ddl = os.path.join(args.workdir, "bad.sql")
    with open(bad_ddl, "w") as f:
        f.write("CREATE TABLE x (a UInt8, b Strin) ENGINE = MergeTree() ORDER BY a")
    bad_tsv = os.path.join(args.workdir, "bad.tsv")
    ddl = os.path.join(args.workdir, "small.sql")
    with open(ddl, "w") as f:
        f.write("CREATE TABLE s (a UInt8, d Date) ENGINE = MergeTree() ORDER BY a")
    with open(bad_tsv, "w") as f:
        f.write("1\t2024-05-01\n2\t2024-13-01\n")

    cases = [
        # (name, argv, expected exit code, substrings expected in stderr)
        ("syntax error", [sl, "sql", "--data", data, "SELECT count( FROM user_behavior"], 2,
         ["position 15", "expected an expression"]),
        ("unknown column", [sl, "sql", "--data", data, "SELECT nope FROM user_behavior"], 2, ["unknown column 'nope'"]),
        ("unknown function", [sl, "sql", "--data", data, "SELECT frob(1) FROM user_behavior"], 2,
         ["unknown function 'frob'"]),
        ("bad date literal", [sl, "sql", "--data", data,
                              "SELECT count() FROM user_behavior WHERE event_time > '2024-5-1'"], 2,
         ["cannot parse '2024-5-1' as DateTime"]),
        ("missing table", [sl, "sql", "--data", os.path.join(args.workdir, "none"), "SELECT 1 FROM t"], 2,
         ["metadata.sql is missing"]),
        ("bad DDL", [sl, "load", "--data", os.path.join(args.workdir, "x"), "--ddl", bad_ddl, "--rows", "1"], 2,
         ["unknown type 'Strin'", "line 1"]),
        ("bad flag value", [sl, "load", "--data", data, "--rows", "many"], 2, ["--rows"]),
        ("unknown sub-command", [sl, "frobnicate"], 2, []),
        ("bad TSV value", [sl, "load", "--data", os.path.join(args.workdir, "s"), "--ddl", ddl, "--tsv", bad_tsv], 2,
         ["bad.tsv:2", "expected a Date value"]),
    ]
    passed = failed = 0

    def check(name, argv, code, needles):
        nonlocal passed, failed
        proc = subprocess.run(argv, capture_output=True, text=True)
        problems = []
        if proc.returncode != code:
            problems.append(f"exit {proc.returncode}, expected {code}")
        for needle in needles:
            if needle not in proc.stderr + proc.stdout:
                problems.append(f"output lacks {needle!r}")
        if problems:
            failed += 1
            print(f"FAIL {name}: {'; '.join(problems)}\n  stderr: {proc.stderr.strip()[:400]}")
        else:
            passed += 1
            print(f"PASS {name}")
        return proc

    for case in cases:
        check(*case)

    # Corrupt one byte in the middle of a column file: queries fail naming it, verify too.
    parts = subprocess.run([sl, "parts", "--data", data], check=True, capture_output=True, text=True).stdout.split("\n")
    part = parts[0].split("\t")[0]
    victim = os.path.join(data, part, "item_id.bin")
    with open(victim, "r+b") as f:
        f.seek(os.path.getsize(victim) // 2)
        b = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([b[0] ^ 0xFF]))
    check("flipped byte: sql", [sl, "sql", "--data", data, "SELECT sum(item_id) FROM user_behavior"], 1,
          ["corruption", "item_id.bin", "checksum mismatch"])
    check("flipped byte: verify", [sl, "verify", "--data", data], 1, ["BROKEN", "item_id.bin"])
    # Truncate a file of another part: verify fails, and queries refuse to answer short unless
    # told to skip the damaged part.
    if len(parts) > 2:
        other = parts[1].split("\t")[0]
        victim = os.path.join(data, other, "user_id.bin")
        with open(victim, "r+b") as f:
            f.truncate(os.path.getsize(victim) // 2)
        check("truncated file: verify", [sl, "verify", "--data", data], 1, ["user_id.bin", "size mismatch"])
        check("truncated file: query refuses", [sl, "sql", "--data", data, "SELECT count() FROM user_behavior"], 1,
              ["damaged part", "user_id.bin", "--allow-broken-parts"])
        check("truncated file: query warns when allowed",
              [sl, "sql", "--data", data, "--allow-broken-parts", "SELECT count() FROM user_behavior"], 0,
              ["damaged part", "user_id.bin"])
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
