#!/usr/bin/env python3
"""The CLI's contract for mistakes: input errors exit 2 and say where and what was expected;
corrupt data exits 1 and names the file; nothing crashes. Prints 'N passed, M failed'."""
import argparse
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from cli_tally import Tally  # noqa: E402


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
    more_passed, more_failed = input_path_checks(sl, args.workdir)
    passed += more_passed
    failed += more_failed
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


# --- Input paths (issue 20): sql --file, numeric flag ranges, --out probes, missing and
# directory inputs, refused loads, --version. Kept apart from the cases above.

SOURCE_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
QUICKSTART = os.path.join(SOURCE_ROOT, "scenarios", "quickstart.yaml")


def input_path_checks(sl, workdir):
    t = Tally(sl)
    work = os.path.join(workdir, "paths")
    os.makedirs(work)
    sql_file_checks(t, work)
    numeric_flag_checks(t, work)
    output_checks(t, work)
    missing_input_checks(t, work)
    refused_load_checks(t, work)
    version_check(t)
    return t.passed, t.failed


def sql_file_checks(t, work):
    data = os.path.join(work, "t")
    subprocess.run([t.sl, "load", "--data", data, "--rows", "20000", "--seed", "3"], check=True,
                   capture_output=True)
    query = "SELECT action, count() FROM user_behavior GROUP BY action ORDER BY action"
    want = t.run(["sql", "--data", data, query]).stdout
    # Longer than one argument may be (128 KiB on Linux): only a file can carry it.
    query_file = os.path.join(work, "q.sql")
    with open(query_file, "w") as f:
        f.write(query + "\n" + " " * 200_000 + "\n")
    proc = t.run(["sql", "--data", data, "--file", query_file])
    t.report("sql --file", [] if proc.returncode == 0 and proc.stdout == want and want else
             [f"exit {proc.returncode}, stdout {proc.stdout[:80]!r}, want {want[:80]!r}"], proc)
    proc = t.run(["sql", "--data", data, "--file", "-"], stdin=query)
    t.report("sql --file - (stdin)", [] if proc.returncode == 0 and proc.stdout == want else
             [f"exit {proc.returncode}, stdout {proc.stdout[:80]!r}"], proc)
    missing = os.path.join(work, "nope.sql")
    t.expect("sql --file missing", ["sql", "--data", data, "--file", missing], 2,
             ["--file", missing, "no such file"])
    t.expect("sql --file and a query", ["sql", "--data", data, "--file", query_file, query], 2,
             ["--file"])
    t.expect("sql without a query", ["sql", "--data", data], 2, ["--file"])


def numeric_flags(sl):
    """Every numeric flag of every sub-command, from --help-all: (command, flag, type, min, max,
    values per use). A flag without a range shows min None."""
    text = subprocess.run([sl, "--help-all"], capture_output=True, text=True).stdout
    flags, command = [], None
    for line in text.splitlines():
        m = re.match(r"^(\w+)$", line)  # a sub-command's name starts its section
        if m:
            command = m.group(1)
            continue
        m = re.match(r"^\s+(?:-\w,\s*)?(--[\w-]+)\s+(UINT|INT|FLOAT)(?::\[([^,\]]+), ([^\]]+)\])?"
                     r"(?:\s+x\s+(\d+))?", line)
        if m and command:
            flags.append((command, m.group(1), m.group(2), m.group(3), m.group(4),
                          int(m.group(5) or 1)))
    return flags


def outside(kind, bound, step):
    if kind == "FLOAT":
        return repr(float(bound) + step)
    return str(int(bound) + step)


def numeric_flag_checks(t, work):
    bad_tsv = os.path.join(work, "one-bad-line.tsv")
    with open(bad_tsv, "w") as f:
        f.write("x\n")
    # Arguments that make each command stop quickly if a bad value were accepted.
    base = {
        "gen": [],
        "load": ["--data", os.path.join(work, "num"), "--tsv", bad_tsv],
        "sql": ["--data", os.path.join(work, "none"), "SELECT 1"],
        "run": [QUICKSTART, "--smoke", "--set", "run.duration=bogus"],
        "sweep": [QUICKSTART, "--smoke", "--grid", "run.duration=bogus"],
        "plan": [QUICKSTART, "--smoke", "--set", "run.duration=bogus"],
        "live": [QUICKSTART, "--smoke", "--set", "run.duration=bogus"],
        "calibrate": ["--out", os.path.join(work, "no-dir", "c.json")],
    }
    flags = numeric_flags(t.sl)
    t.report("numeric flags found", [] if len(flags) >= 20 else [f"only {len(flags)}: {flags}"])
    for command, flag, kind, low, high, arity in flags:
        name = f"{command} {flag}"
        if command not in base or low is None:
            t.report(name, ["no range in --help" if low is None else "no base arguments"])
            continue
        for value in (outside(kind, low, -1), outside(kind, high, 1)):
            proc = t.run([command] + base[command] + [flag, value] + ["1"] * (arity - 1))
            problems = [] if proc.returncode == 2 else [f"exit {proc.returncode}"]
            for needle in (flag, f"'{value}'", f"from {low} to {high}"):
                if needle not in proc.stderr:
                    problems.append(f"stderr lacks {needle!r}")
            t.report(f"{name} {value}", problems, proc)
    # What the issue saw: a negative seed must not run as 2^64-1.
    t.expect("gen --seed -1", ["gen", "--rows", "10", "--seed", "-1"], 2,
             ["--seed", "'-1'", "from 0 to 18446744073709551615"])
    proc = t.run(["gen", "--rows", "3", "--seed", "010"])
    ten = t.run(["gen", "--rows", "3", "--seed", "10"])
    t.report("--seed 010 is decimal ten", [] if proc.returncode == 0 and proc.stdout == ten.stdout
             else [f"exit {proc.returncode}"], proc)


def output_checks(t, work):
    a_file = os.path.join(work, "a-file")
    with open(a_file, "w") as f:
        f.write("x")
    for out in (a_file, os.path.join(a_file, "sub")):
        proc = t.expect(f"run --out {os.path.basename(os.path.dirname(out))}/"
                        f"{os.path.basename(out)}",
                        ["run", QUICKSTART, "--smoke", "--out", out], 2, ["--out", a_file])
        if proc.stdout:
            t.report("run --out fails before simulating", ["stdout shows a run"], proc)
    if os.geteuid() != 0:
        locked = os.path.join(work, "locked")
        os.makedirs(locked)
        os.chmod(locked, 0o555)
        t.expect("run --out read-only", ["run", QUICKSTART, "--smoke", "--out",
                                         os.path.join(locked, "o")], 2, ["--out", "locked"])
    t.expect("calibrate --out in a missing directory",
             ["calibrate", "--out", os.path.join(work, "no-dir", "c.json")], 2, ["--out"])
    # With an --out that cannot be written either, a build that missed the --csv check stops
    # before measuring instead of running a whole calibration.
    t.expect("calibrate --csv on a directory",
             ["calibrate", "--csv", work, "--out", os.path.join(work, "no-dir", "c.json")], 2,
             ["--csv", "is a directory"])
    t.expect("flows -o under a file", ["flows", QUICKSTART, QUICKSTART, "-o",
                                       os.path.join(a_file, "o.csv")], 2, ["--output"])
    # The probes leave nothing behind: a writable --profile, and a new --out tree.
    empty = os.path.join(work, "probe-here")
    os.makedirs(empty)
    t.expect("sql --profile probe", ["sql", "--data", os.path.join(work, "none"), "--profile",
                                     os.path.join(empty, "p.json"), "SELECT 1"], 2,
             ["metadata.sql is missing"])
    t.expect("run --out probe", ["run", QUICKSTART, "--out", os.path.join(empty, "a", "b"),
                                 "--set", "run.duration=bogus"], 2, ["bogus"])
    left = os.listdir(empty)
    t.report("the probes left nothing", [f"left {left}"] if left else [])


def missing_input_checks(t, work):
    missing = os.path.join(work, "missing")
    a_dir = os.path.join(work, "a-dir")
    os.makedirs(a_dir)
    data = os.path.join(work, "new-table")
    cases = [
        ("load --ddl", ["load", "--data", data, "--rows", "5", "--ddl", "{}"], "--ddl"),
        ("load --tsv", ["load", "--data", data, "--tsv", "{}"], "--tsv"),
        ("load --scenario", ["load", "--data", data, "--scenario", "{}"], "--scenario"),
        ("gen --scenario", ["gen", "--scenario", "{}"], "--scenario"),
        ("run SCENARIO", ["run", "{}"], "scenario"),
        ("check SCENARIO", ["check", "{}"], "scenario"),
        ("flows PLATFORM", ["flows", "{}", QUICKSTART], "platform"),
        ("flows FLOWS", ["flows", QUICKSTART, "{}"], "flows"),
        ("sql --file", ["sql", "--data", data, "--file", "{}"], "--file"),
    ]
    for name, argv, flag in cases:
        for path, what in ((missing, "no such file"), (a_dir, "is a directory, expected")):
            t.expect(f"{name} {os.path.basename(path)}", [a.format(path) for a in argv], 2,
                     [flag, path, what])
    t.expect("check DIR names the YAML", ["check", a_dir], 2,
             [f"'{a_dir}': it is a directory, expected a scenario YAML file"])
    t.report("no table left by missing inputs",
             [f"{data} exists"] if os.path.exists(data) else [])


def refused_load_checks(t, work):
    fresh = os.path.join(work, "fresh", "nested", "t")
    t.expect("load --rows 0", ["load", "--data", fresh, "--rows", "0"], 2, ["--rows"])
    t.report("load --rows 0 leaves nothing",
             [f"{fresh} exists"] if os.path.exists(os.path.join(work, "fresh")) else [])
    ddl = os.path.join(work, "small.sql")
    with open(ddl, "w") as f:
        f.write("CREATE TABLE s (a UInt8, d Date) ENGINE = MergeTree() ORDER BY a")
    bad_tsv = os.path.join(work, "bad.tsv")
    with open(bad_tsv, "w") as f:
        f.write("1\t2024-05-01\n2\t2024-13-01\n")
    t.expect("load of a bad TSV into a new table", ["load", "--data", fresh, "--ddl", ddl,
                                                    "--tsv", bad_tsv], 2, ["bad.tsv:2"])
    t.report("the bad TSV leaves no directory",
             [f"{work}/fresh exists"] if os.path.exists(os.path.join(work, "fresh")) else [])
    # A directory that was there before stays, with what it held; only the table files go.
    before = os.path.join(work, "before")
    os.makedirs(before)
    with open(os.path.join(before, "keep.txt"), "w") as f:
        f.write("mine")
    t.expect("load --start bad into an existing directory",
             ["load", "--data", before, "--rows", "10", "--start", "yesterday"], 2, ["--start"])
    left = sorted(os.listdir(before)) if os.path.isdir(before) else None
    t.report("the existing directory keeps only its own file",
             [] if left == ["keep.txt"] else [f"left {left}"])
    # An acknowledged load is never undone, and a refused load never touches an existing table.
    table = os.path.join(work, "t")
    parts = t.run(["parts", "--data", table]).stdout
    t.expect("load a bad TSV into an existing table", ["load", "--data", table, "--tsv", bad_tsv],
             2, ["bad.tsv:1"])
    t.report("the existing table is intact",
             [] if parts and t.run(["parts", "--data", table]).stdout == parts else ["changed"])


def version_check(t):
    with open(os.path.join(SOURCE_ROOT, "CMakeLists.txt")) as f:
        version = re.search(r"project\(shardlab VERSION ([\d.]+)", f.read()).group(1)
    proc = t.run(["--version"])
    t.report("--version", [] if proc.returncode == 0 and proc.stdout.strip() == f"shardlab {version}"
             else [f"exit {proc.returncode}, stdout {proc.stdout!r}, want 'shardlab {version}'"],
             proc)


if __name__ == "__main__":
    sys.exit(main())
