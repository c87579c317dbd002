#!/usr/bin/env python3
"""Damage every kind of file of a table in several ways and check what shardlab makes of it.

The table: `shardlab load --rows 200000` writes one insert of seven daily parts. For each case a
fresh copy gets one file of one part truncated, a byte flipped, emptied or deleted, or the whole
part deleted (and the table's metadata.sql damaged the same ways). Then, in order:

  1. `sql` (read-only) on two queries, one reading few columns and one reading all: each answer
     is either the right one (exit 0) or refused with exit 1 and a message naming the damaged
     file, its part or its blocks. Never exit 0 with a wrong answer.
  2. `verify`: exits 1 and names the damaged file (or the missing part's blocks).
  3. `optimize` (a writable open, which moves damaged parts to detached/): whatever it says,
     every healthy part is still there, byte for byte, and `sql --allow-broken-parts` counts
     exactly the healthy parts' rows.
  4. `sql` again: right, or exit 1 naming the detached part.
No case may end in a signal or an exit code other than 0, 1 (or 2 for metadata.sql, which is
the table's definition). Prints one line per case and 'N passed, M failed'.
"""
import argparse
import hashlib
import os
import shutil
import subprocess
import sys

QUERIES = [
    "SELECT count() FROM user_behavior",
    "SELECT action, province, gender, count(), sum(user_id), sum(item_id), max(event_time) "
    "FROM user_behavior GROUP BY action, province, gender ORDER BY action, province, gender",
    # Pruned by the partition minmax and the primary index: damage there must not skip rows.
    "SELECT count(), sum(user_id) FROM user_behavior WHERE event_time >= '2024-05-02 06:00:00' "
    "AND event_time < '2024-05-05 18:30:00'",
]
# (file in the victim part, what it is): one of each kind the format has.
PART_FILES = ["user_id.bin", "user_id.mrk", "action.bin", "action.dict.bin", "primary.idx",
              "minmax_event_time.idx", "part.txt", "count.txt", "columns.txt", "checksums.txt"]
DAMAGES = ["truncate", "flip", "empty", "delete"]


def damage(path, how):
    if how == "delete":
        os.remove(path)
        return
    size = os.path.getsize(path)
    if how == "truncate":
        os.truncate(path, size // 2)
    elif how == "empty":
        os.truncate(path, 0)
    elif how == "flip":
        with open(path, "r+b") as f:
            f.seek(size // 2)
            byte = f.read(1)
            f.seek(size // 2)
            f.write(bytes([byte[0] ^ 0x5A]))


def tree_digest(directory):
    h = hashlib.sha256()
    for name in sorted(os.listdir(directory)):
        h.update(name.encode())
        with open(os.path.join(directory, name), "rb") as f:
            h.update(f.read())
    return h.hexdigest()


class Matrix:
    def __init__(self, shardlab, workdir):
        self.shardlab = shardlab
        self.workdir = workdir
        self.passed = self.failed = 0

    def run(self, *args):
        return subprocess.run([self.shardlab, *args], capture_output=True, text=True)

    def prepare(self):
        self.pristine = os.path.join(self.workdir, "pristine")
        out = self.run("load", "--data", self.pristine, "--rows", "200000", "--seed", "1")
        assert out.returncode == 0, out.stderr
        self.answers = [self.run("sql", "--data", self.pristine, q).stdout for q in QUERIES]
        parts = self.run("parts", "--data", self.pristine).stdout.splitlines()
        self.rows = {line.split("\t")[0]: int(line.split("\t")[3]) for line in parts}
        assert len(self.rows) == 7, parts
        self.victim = sorted(self.rows)[3]
        self.digests = {p: tree_digest(os.path.join(self.pristine, p)) for p in self.rows}

    def check_case(self, label, mutate, names):
        """`names`: strings of which an error message must contain one."""
        table = os.path.join(self.workdir, "case")
        shutil.rmtree(table, ignore_errors=True)
        shutil.copytree(self.pristine, table)
        mutate(table)
        problems = []

        def expect(step, out, allowed, must_name=True, answer=None):
            if out.returncode < 0 or out.returncode not in allowed:
                problems.append(f"{step}: exit {out.returncode} ({out.stderr.strip()[-300:]})")
            elif out.returncode == 0 and answer is not None and out.stdout != answer:
                problems.append(f"{step}: exit 0 with a wrong answer")
            elif out.returncode != 0 and must_name and \
                    not any(n in out.stdout + out.stderr for n in names):
                problems.append(f"{step}: the message names none of {names}: "
                                f"{(out.stdout + out.stderr).strip()[-300:]}")

        metadata = "metadata.sql" in names
        errors = (0, 1, 2) if metadata else (0, 1)
        for i, q in enumerate(QUERIES):
            expect(f"sql {i}", self.run("sql", "--data", table, q), errors, answer=self.answers[i])
        verify = self.run("verify", "--data", table)
        expect("verify", verify, (1, 2) if metadata else (1,))
        expect("optimize", self.run("optimize", "--data", table), errors, must_name=False)
        if not metadata:
            healthy = [p for p in self.rows if p != self.victim]
            for p in healthy:
                d = os.path.join(table, p)
                if not os.path.isdir(d) or tree_digest(d) != self.digests[p]:
                    problems.append(f"optimize changed or removed the healthy part {p}")
            out = self.run("sql", "--data", table, "--allow-broken-parts", QUERIES[0])
            want = sum(self.rows[p] for p in healthy)
            got = out.stdout.strip()
            if out.returncode != 0 or int(got or -1) not in (want, want + self.rows[self.victim]):
                problems.append(f"--allow-broken-parts counted {got!r} (exit {out.returncode}), "
                                f"healthy parts hold {want}")
            detached = os.path.join(table, "detached", "broken_" + self.victim)
            names = names + [self.victim]
            for i, q in enumerate(QUERIES):
                expect(f"sql {i} after optimize", self.run("sql", "--data", table, q), errors,
                       answer=self.answers[i])
            if os.path.isdir(detached) and os.path.isdir(os.path.join(table, self.victim)):
                problems.append("the damaged part is both detached and active")
        status = "FAIL" if problems else "PASS"
        print(f"{status} {label}" + ("" if not problems else ": " + "; ".join(problems)),
              flush=True)
        if problems:
            self.failed += 1
        else:
            self.passed += 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shardlab", required=True)
    ap.add_argument("--workdir", required=True)
    args = ap.parse_args()
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)
    m = Matrix(args.shardlab, args.workdir)
    m.prepare()
    for name in PART_FILES:
        for how in DAMAGES:
            m.check_case(f"{how} {name}",
                         lambda t, name=name, how=how: damage(os.path.join(t, m.victim, name), how),
                         [name])
    m.check_case("delete the whole part",
                 lambda t: shutil.rmtree(os.path.join(t, m.victim)),
                 [m.victim, "block"])
    for how in DAMAGES:
        m.check_case(f"{how} metadata.sql",
                     lambda t, how=how: damage(os.path.join(t, "metadata.sql"), how),
                     ["metadata.sql"])
    print(f"{m.passed} passed, {m.failed} failed")
    return 0 if m.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
