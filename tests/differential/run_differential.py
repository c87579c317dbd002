#!/usr/bin/env python3
"""Differential test: the same rows and the same SQL on ClickHouse 18.16 and on shardlab.

Steps (see README.md):
  1. Start a private clickhouse-server under <workdir>/clickhouse (clickhouse_server.py).
  2. Create `user_behavior` and `all_types` on both sides and load the same rows:
     `shardlab gen | clickhouse-client INSERT` and `shardlab load` for user_behavior;
     types_table_rows.py's TSV through `clickhouse-client INSERT` and
     `shardlab load --ddl --tsv` for all_types. shardlab's data directories are
     <workdir>/shardlab/<table>, one per table.
  3. Run every query of the corpus (queries.sql) on both sides and compare the results:
     same row count, and field by field exact string equality, except that two fields
     which both look like floats (and are not both integers) compare with relative
     tolerance 1e-9 (inf equals inf of the same sign, nan equals nan).
  4. Check shardlab's error handling: invalid SQL exits 2 naming a position.
  5. Print PASS/FAIL per query and `N passed, M failed`; exit 0 only if all passed.

`--clickhouse-only` validates the corpus itself without shardlab: every query must run
on 18.16, give the same answer on a copy of the tables with another sort key, part
layout, block size and thread count (so ties are broken and LIMIT follows a total
order), and return a non-trivial result unless marked `-- expect: empty`.

Exit codes: 0 all passed, 1 some check failed, 2 bad arguments or corpus.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import clickhouse_server  # noqa: E402
import types_table_rows  # noqa: E402
from clickhouse_server import ClickHouseError, ClickHouseServer  # noqa: E402

DEFAULT_ROWS = 200_000
DEFAULT_SEED = 42
DEFAULT_QUERIES = HERE / "queries.sql"
TYPES_DDL_FILE = HERE / "types_table.sql"
FLOAT_REL_TOLERANCE = 1e-9
TOP_USER_PLACEHOLDER = "{top_user}"

USER_BEHAVIOR = "user_behavior"
TYPES_TABLE = types_table_rows.TABLE_NAME

USER_BEHAVIOR_DDL = (
    "CREATE TABLE user_behavior (user_id UInt64, item_id UInt64, "
    "action LowCardinality(String), event_time DateTime, "
    "province LowCardinality(String), gender LowCardinality(String)) "
    "ENGINE = MergeTree() PARTITION BY toYYYYMMDD(event_time) ORDER BY (event_time, user_id)"
)
# ClickHouse's layout when LowCardinality is unavailable; answers are identical.
USER_BEHAVIOR_DDL_STRING = USER_BEHAVIOR_DDL.replace("LowCardinality(String)", "String")

TOP_USER_SQL = (
    "SELECT user_id FROM user_behavior GROUP BY user_id ORDER BY count() DESC, user_id LIMIT 1"
)

# Invalid statements shardlab must reject with exit code 2. `needs_position`: the
# message must name a position in the SQL (syntax errors); the rest may name the
# unknown identifier instead.
ERROR_CASES = [
    ("err_misspelled_keyword", "SELEC count() FROM user_behavior", True),
    ("err_unclosed_paren", "SELECT count( FROM user_behavior", True),
    ("err_dangling_where", "SELECT count() FROM user_behavior WHERE", True),
    ("err_unterminated_string", "SELECT count() FROM user_behavior WHERE action = 'click", True),
    ("err_trailing_garbage", "SELECT count() FROM user_behavior LIMIT 10 garbage ,", True),
    ("err_unknown_column", "SELECT no_such_column FROM user_behavior", False),
    ("err_unknown_function", "SELECT no_such_function(user_id) FROM user_behavior", False),
]
POSITION_PATTERN = re.compile(
    r"(?i)(\b(position|pos|offset|col|column|char|character|at)\b\.?\s*[:=#]?\s*\d+)|(\b\d+:\d+\b)"
)

# Values a "trivial" result consists of: what aggregates return over no rows.
TRIVIAL_FIELDS = {"0", "nan", "", "0000-00-00", "0000-00-00 00:00:00"}


# ----- the corpus ------------------------------------------------------------------------

@dataclass
class Query:
    """One corpus entry. `name` is the first word of its first comment line."""

    name: str
    sql: str
    line: int
    description: str = ""
    expect_empty: bool = False

    @property
    def table(self) -> str:
        return table_of(self.sql)


class CorpusError(ValueError):
    pass


def _strip_line_comment(line: str) -> tuple[str, Optional[str]]:
    """Split a line into SQL and a trailing `--` comment, ignoring `--` inside quotes."""
    in_quote = False
    index = 0
    while index < len(line):
        char = line[index]
        if in_quote:
            if char == "\\":
                index += 1
            elif char == "'":
                in_quote = False
        elif char == "'":
            in_quote = True
        elif line.startswith("--", index):
            return line[:index], line[index + 2:].strip()
        index += 1
    return line, None


def parse_corpus(text: str) -> list[Query]:
    """Parse queries.sql.

    A statement ends with `;` at the end of a line (outside string literals) or with a
    line holding only `;`. The `--` comment lines just before a statement describe it:
    the first one's first word (up to `:`) is the query's name, `-- expect: empty` marks
    an intended empty or all-zero result. Comments are not sent to either side.
    Raises CorpusError on duplicate names or a statement without a terminating `;`.
    """
    queries: list[Query] = []
    comments: list[str] = []
    sql_lines: list[str] = []
    start_line = 0
    for line_no, raw in enumerate(text.splitlines(), start=1):
        code, comment = _strip_line_comment(raw)
        code = code.rstrip()
        if not sql_lines and not code.strip():
            if comment is not None:
                comments.append(comment)
            else:
                comments = []  # a blank line ends a comment block
            continue
        if not sql_lines:
            start_line = line_no
        if code.strip():
            sql_lines.append(code.strip())
        if code.endswith(";"):
            sql_lines[-1] = sql_lines[-1][:-1].rstrip()
            queries.append(_make_query(sql_lines, comments, start_line, len(queries)))
            sql_lines, comments = [], []
    if sql_lines:
        raise CorpusError(f"line {start_line}: statement not terminated by ';'")
    names = [q.name for q in queries]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise CorpusError(f"duplicate query names: {', '.join(duplicates)}")
    return queries


def _make_query(sql_lines: list[str], comments: list[str], line: int, index: int) -> Query:
    sql = " ".join(part for part in sql_lines if part)
    described = [c for c in comments if c and not c.startswith("=")]
    expect_empty = any(re.fullmatch(r"expect:\s*empty", c) for c in described)
    described = [c for c in described if not c.startswith("expect:")]
    description = described[0] if described else ""
    name = re.split(r"[:\s]", description, maxsplit=1)[0] if description else f"query_{index + 1}"
    return Query(name=name, sql=sql, line=line, description=description,
                 expect_empty=expect_empty)


def table_of(sql: str) -> str:
    """The table named after FROM (the SQL subset reads exactly one table)."""
    match = re.search(r"\bFROM\s+([A-Za-z_][A-Za-z0-9_]*)", sql, re.IGNORECASE)
    if not match:
        raise CorpusError(f"no FROM <table> in: {sql[:80]}")
    return match.group(1)


def load_corpus(path: Path) -> list[Query]:
    return parse_corpus(path.read_text(encoding="utf-8"))


def strip_sql_comments(text: str) -> str:
    """The SQL of a DDL file without `--` comments, as one statement without `;`."""
    lines = [_strip_line_comment(line)[0].rstrip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line.strip()).rstrip().rstrip(";")


# ----- comparing results -----------------------------------------------------------------

_FLOAT_TEXT = re.compile(
    r"^[+-]?((\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|inf|infinity|nan)$", re.IGNORECASE)
_INT_TEXT = re.compile(r"^[+-]?\d+$")


def parse_tsv(text: str) -> list[list[str]]:
    """TabSeparated output to rows of still-escaped fields (an escaped \\n stays inside)."""
    if not text:
        return []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line.split("\t") for line in lines]


def fields_equal(expected: str, actual: str) -> bool:
    """Exact equality, or float equality within FLOAT_REL_TOLERANCE.

    Two integers always compare exactly (UInt64 values beyond 2^53 must not blur);
    the tolerance applies when both fields look like floats and at least one is not an
    integer. inf equals inf of the same sign, nan equals nan.
    """
    if expected == actual:
        return True
    if not (_FLOAT_TEXT.match(expected) and _FLOAT_TEXT.match(actual)):
        return False
    if _INT_TEXT.match(expected) and _INT_TEXT.match(actual):
        return False
    a, b = float(expected), float(actual)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return math.isclose(a, b, rel_tol=FLOAT_REL_TOLERANCE, abs_tol=0.0)


def compare_results(expected: list[list[str]], actual: list[list[str]],
                    expected_label: str = "clickhouse", actual_label: str = "shardlab",
                    context_rows: int = 3) -> Optional[str]:
    """None if the results match; otherwise a compact, human-readable diff."""
    first_bad = None
    for row_idx, (exp_row, act_row) in enumerate(zip(expected, actual)):
        if len(exp_row) != len(act_row) or not all(
                fields_equal(e, a) for e, a in zip(exp_row, act_row)):
            first_bad = row_idx
            break
    if first_bad is None and len(expected) == len(actual):
        return None
    lines = []
    if len(expected) != len(actual):
        lines.append(f"row count: {expected_label} {len(expected)}, {actual_label} {len(actual)}")
    if first_bad is None:
        first_bad = min(len(expected), len(actual))
    else:
        exp_row, act_row = expected[first_bad], actual[first_bad]
        if len(exp_row) != len(act_row):
            lines.append(f"row {first_bad}: {expected_label} has {len(exp_row)} columns, "
                         f"{actual_label} {len(act_row)}")
        else:
            bad_cols = [c for c, (e, a) in enumerate(zip(exp_row, act_row))
                        if not fields_equal(e, a)]
            lines.append(f"first difference at row {first_bad}, column(s) "
                         + ", ".join(str(c) for c in bad_cols))
    window = range(first_bad, first_bad + context_rows)
    for label, rows in ((expected_label, expected), (actual_label, actual)):
        shown = [f"    [{i}] " + "\t".join(rows[i]) for i in window if i < len(rows)]
        lines.append(f"  {label}:" + ("\n" + "\n".join(shown) if shown else " (no rows)"))
    return "\n".join(lines)


def is_trivial(rows: list[list[str]]) -> bool:
    """True for no rows, or rows holding only zeros/nan/empty (aggregates over nothing)."""
    return all(f in TRIVIAL_FIELDS for row in rows for f in row)


# ----- shardlab --------------------------------------------------------------------------

class Shardlab:
    """Thin wrapper over the `shardlab` CLI contract (gen / load / optimize / sql)."""

    def __init__(self, path: str, timeout_s: float = 600.0):
        resolved = shutil.which(path) or path
        if not (os.path.isfile(resolved) and os.access(resolved, os.X_OK)):
            raise FileNotFoundError(f"shardlab binary not found or not executable: {path}")
        self.path = str(Path(resolved).resolve())
        self.timeout_s = timeout_s

    def gen_command(self, rows: int, seed: int) -> list[str]:
        return [self.path, "gen", "--rows", str(rows), "--seed", str(seed)]

    def run(self, args: Sequence[str], check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([self.path, *args], capture_output=True,
                                stdin=subprocess.DEVNULL, timeout=self.timeout_s)
        if check and result.returncode != 0:
            raise RuntimeError(
                f"shardlab {' '.join(args[:3])} ... exited {result.returncode}:\n"
                + result.stderr.decode(errors="replace").strip())
        return result

    def load_generated(self, data_dir: Path, rows: int, seed: int) -> None:
        self.run(["load", "--data", str(data_dir), "--rows", str(rows), "--seed", str(seed)])

    def load_tsv(self, data_dir: Path, ddl_file: Path, tsv_file: Path) -> None:
        self.run(["load", "--data", str(data_dir), "--ddl", str(ddl_file),
                  "--tsv", str(tsv_file)])

    def optimize_final(self, data_dir: Path) -> None:
        self.run(["optimize", "--data", str(data_dir), "--final"])

    def sql(self, data_dir: Path, query: str) -> subprocess.CompletedProcess:
        return self.run(["sql", "--data", str(data_dir), query], check=False)


# ----- loading both sides ----------------------------------------------------------------

def create_user_behavior(server: ClickHouseServer, database: Optional[str] = None,
                         ddl: str = USER_BEHAVIOR_DDL) -> str:
    """Create user_behavior with LowCardinality columns, or String if 18.16 refuses.

    Returns the layout used: "LowCardinality" or "String".
    """
    settings = clickhouse_server.LOW_CARDINALITY_SETTINGS
    try:
        server.query(ddl, settings=settings, database=database)
        return "LowCardinality" if "LowCardinality" in ddl else "String"
    except ClickHouseError as error:
        if "LowCardinality" not in ddl:
            raise
        print(f"LowCardinality(String) refused ({error.stderr.strip()[:200]}); "
              "falling back to String", file=sys.stderr)
        server.query(ddl.replace("LowCardinality(String)", "String"), database=database)
        return "String"


def pipe_into_clickhouse(producer: Sequence[str], server: ClickHouseServer, table: str,
                         database: Optional[str] = None) -> float:
    """Run `producer | clickhouse-client INSERT INTO table FORMAT TabSeparated`.

    Returns the wall time of the whole pipeline in seconds. Raises RuntimeError if
    either side fails.
    """
    insert = server.client_command(
        f"INSERT INTO {table} FORMAT TabSeparated",
        settings=clickhouse_server.LOW_CARDINALITY_SETTINGS, database=database)
    began = time.monotonic()
    with tempfile.TemporaryFile() as producer_err, tempfile.TemporaryFile() as client_err:
        gen = subprocess.Popen(producer, stdout=subprocess.PIPE, stderr=producer_err,
                               stdin=subprocess.DEVNULL)
        client = None
        try:
            client = subprocess.Popen(insert, stdin=gen.stdout, stderr=client_err,
                                      stdout=subprocess.DEVNULL)
            gen.stdout.close()  # the client owns the pipe now; gen sees SIGPIPE if it dies
            client_rc = client.wait()
            gen_rc = gen.wait()
        finally:
            for process in (gen, client):  # only on an exception are they still running
                if process is not None and process.poll() is None:
                    process.kill()
                    process.wait()
        elapsed = time.monotonic() - began
        if gen_rc != 0 or client_rc != 0:
            producer_err.seek(0)
            client_err.seek(0)
            raise RuntimeError(
                f"load pipeline failed: {' '.join(producer[:2])} exited {gen_rc} "
                f"({producer_err.read().decode(errors='replace').strip()[:500]}), "
                f"clickhouse-client exited {client_rc} "
                f"({client_err.read().decode(errors='replace').strip()[:500]})")
    return elapsed


def insert_tsv_file(server: ClickHouseServer, table: str, tsv_file: Path,
                    database: Optional[str] = None) -> None:
    with open(tsv_file, "rb") as stream:
        server.query(f"INSERT INTO {table} FORMAT TabSeparated",
                     settings=clickhouse_server.LOW_CARDINALITY_SETTINGS,
                     database=database, stdin=stream)


def write_types_inputs(workdir: Path) -> tuple[Path, Path]:
    """Write the all_types DDL (comments stripped) and TSV into workdir; return both."""
    ddl_file = workdir / "all_types.ddl.sql"
    tsv_file = workdir / "all_types.tsv"
    ddl_file.write_text(strip_sql_comments(TYPES_DDL_FILE.read_text(encoding="utf-8")) + "\n",
                        encoding="utf-8")
    tsv_file.write_text(types_table_rows.to_tsv(types_table_rows.generate_rows()),
                        encoding="utf-8")
    return ddl_file, tsv_file


def load_clickhouse(server: ClickHouseServer, shardlab: Optional[Shardlab], rows: int,
                    seed: int, ub_tsv: Optional[Path], types_ddl: Path,
                    types_tsv: Path) -> str:
    """Create and fill both tables in ClickHouse; return user_behavior's layout."""
    layout = create_user_behavior(server)
    if ub_tsv is not None:
        insert_tsv_file(server, USER_BEHAVIOR, ub_tsv)
    else:
        pipe_into_clickhouse(shardlab.gen_command(rows, seed), server, USER_BEHAVIOR)
    server.query(types_ddl.read_text(encoding="utf-8"),
                 settings=clickhouse_server.LOW_CARDINALITY_SETTINGS)
    insert_tsv_file(server, TYPES_TABLE, types_tsv)
    return layout


def load_shardlab(shardlab: Shardlab, data_root: Path, rows: int, seed: int,
                  ub_tsv: Optional[Path], types_ddl: Path, types_tsv: Path) -> dict[str, Path]:
    """Create fresh data directories, one per table, and load them; return table -> dir."""
    dirs = {USER_BEHAVIOR: data_root / USER_BEHAVIOR, TYPES_TABLE: data_root / TYPES_TABLE}
    for data_dir in dirs.values():
        shutil.rmtree(data_dir, ignore_errors=True)
        data_dir.parent.mkdir(parents=True, exist_ok=True)
    if ub_tsv is not None:
        ub_ddl = data_root / "user_behavior.ddl.sql"
        ub_ddl.write_text(USER_BEHAVIOR_DDL + "\n", encoding="utf-8")
        shardlab.load_tsv(dirs[USER_BEHAVIOR], ub_ddl, ub_tsv)
    else:
        shardlab.load_generated(dirs[USER_BEHAVIOR], rows, seed)
    shardlab.load_tsv(dirs[TYPES_TABLE], types_ddl, types_tsv)
    return dirs


def top_user(server: ClickHouseServer, database: Optional[str] = None) -> str:
    """The most active user_id (ties to the smallest id), from ClickHouse."""
    answer = server.query(TOP_USER_SQL, database=database).strip()
    if not answer:
        raise RuntimeError("user_behavior is empty: no most active user")
    return answer


def bind_query(query: Query, top_user_id: str) -> str:
    return query.sql.replace(TOP_USER_PLACEHOLDER, top_user_id)


# ----- the checks ------------------------------------------------------------------------

@dataclass
class Outcome:
    name: str
    passed: bool
    detail: str = ""
    seconds: float = 0.0


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        status = "PASS" if outcome.passed else "FAIL"
        timing = f" ({outcome.seconds:.2f} s)" if outcome.seconds >= 0.5 else ""
        print(f"{status} {outcome.name}{timing}", flush=True)
        if outcome.detail and not outcome.passed:
            print("\n".join("    " + line for line in outcome.detail.splitlines()), flush=True)

    def summary(self) -> str:
        passed = sum(o.passed for o in self.outcomes)
        return f"{passed} passed, {len(self.outcomes) - passed} failed"

    @property
    def all_passed(self) -> bool:
        return all(o.passed for o in self.outcomes)


def run_query_both(server: ClickHouseServer, shardlab: Shardlab, data_dirs: dict[str, Path],
                   query: Query, sql: str) -> Outcome:
    """Run one query on both sides and compare."""
    began = time.monotonic()
    try:
        expected = parse_tsv(server.query(sql))
    except ClickHouseError as error:
        return Outcome(query.name, False, f"ClickHouse rejected the query:\n{error}")
    data_dir = data_dirs.get(query.table)
    if data_dir is None:
        return Outcome(query.name, False, f"no shardlab data directory for table {query.table}")
    try:
        result = shardlab.sql(data_dir, sql)
    except subprocess.TimeoutExpired:
        return Outcome(query.name, False, f"shardlab sql timed out after {shardlab.timeout_s} s")
    elapsed = time.monotonic() - began
    if result.returncode != 0:
        return Outcome(query.name, False,
                       f"shardlab sql exited {result.returncode}: "
                       + result.stderr.decode(errors="replace").strip()[:1000]
                       + f"\n  sql: {sql}", elapsed)
    actual = parse_tsv(result.stdout.decode(errors="replace"))
    diff = compare_results(expected, actual)
    if diff is not None:
        diff += f"\n  sql: {sql}"
    return Outcome(query.name, diff is None, diff or "", elapsed)


def check_error_case(shardlab: Shardlab, data_dir: Path, name: str, sql: str,
                     needs_position: bool) -> Outcome:
    """Invalid SQL must exit 2, with a message (naming a position for syntax errors)."""
    try:
        result = shardlab.sql(data_dir, sql)
    except subprocess.TimeoutExpired:
        return Outcome(name, False, "timed out")
    message = (result.stderr + result.stdout).decode(errors="replace").strip()
    problems = []
    if result.returncode != 2:
        problems.append(f"exit code {result.returncode}, expected 2")
    if not message:
        problems.append("no error message")
    elif needs_position and not POSITION_PATTERN.search(message):
        problems.append("message names no position")
    detail = "; ".join(problems) + f"\n  sql: {sql}\n  message: {message[:300]}"
    return Outcome(name, not problems, detail if problems else "")


def run_differential(args: argparse.Namespace, queries: list[Query]) -> Report:
    """Steps 1-5 of the module docstring. The server is always stopped on return."""
    workdir = Path(args.workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    shardlab = Shardlab(args.shardlab, timeout_s=args.timeout)
    server = ClickHouseServer(workdir / "clickhouse")
    report = Report()
    try:
        server.wipe()
        server.start()
        types_ddl, types_tsv = write_types_inputs(workdir)
        began = time.monotonic()
        layout = load_clickhouse(server, shardlab, args.rows, args.seed, args.ub_tsv,
                                 types_ddl, types_tsv)
        data_dirs = load_shardlab(shardlab, workdir / "shardlab", args.rows, args.seed,
                                  args.ub_tsv, types_ddl, types_tsv)
        top = top_user(server)
        print(f"loaded {args.rows} rows (seed {args.seed}, ClickHouse layout {layout}) "
              f"and {len(types_table_rows.generate_rows())} all_types rows in "
              f"{time.monotonic() - began:.1f} s; most active user {top}", flush=True)
        for query in queries:
            report.add(run_query_both(server, shardlab, data_dirs, query, bind_query(query, top)))
        for name, sql, needs_position in ERROR_CASES:
            report.add(check_error_case(shardlab, data_dirs[USER_BEHAVIOR], name, sql,
                                        needs_position))
    finally:
        server.stop()
    return report


# ----- corpus validation against ClickHouse alone ----------------------------------------

_SHUFFLED_DB = "shuffled"
# Other sort keys for the copies, so rows are scanned in a different order.
_SHUFFLED_ORDER_BY = {USER_BEHAVIOR: "(gender, item_id, user_id)", TYPES_TABLE: "(lc, f64)"}
# Settings that change block boundaries and parallelism for the second run.
_SHUFFLED_SETTINGS = {"max_threads": "1", "max_block_size": "777"}


def _reordered_ddl(ddl: str, new_order_by: str) -> str:
    return re.sub(r"ORDER\s+BY\s+(\([^)]*\)|\S+)\s*$", f"ORDER BY {new_order_by}",
                  ddl.strip(), flags=re.IGNORECASE)


def build_shuffled_copies(server: ClickHouseServer, types_ddl: str) -> None:
    """Copy both tables into database `shuffled` with other sort keys and many parts."""
    server.query(f"CREATE DATABASE {_SHUFFLED_DB}")
    create_user_behavior(server, database=_SHUFFLED_DB,
                         ddl=_reordered_ddl(USER_BEHAVIOR_DDL, _SHUFFLED_ORDER_BY[USER_BEHAVIOR]))
    server.query(_reordered_ddl(types_ddl, _SHUFFLED_ORDER_BY[TYPES_TABLE]),
                 settings=clickhouse_server.LOW_CARDINALITY_SETTINGS, database=_SHUFFLED_DB)
    copy_settings = dict(clickhouse_server.LOW_CARDINALITY_SETTINGS,
                         max_block_size="5000", max_insert_block_size="5000", max_threads="1")
    scrambles = {USER_BEHAVIOR: "intHash64(user_id + item_id)", TYPES_TABLE: "intHash64(id)"}
    for table, scramble in scrambles.items():
        server.query(f"INSERT INTO {_SHUFFLED_DB}.{table} SELECT * FROM default.{table} "
                     f"ORDER BY {scramble}", settings=copy_settings)


def validate_query(server: ClickHouseServer, query: Query, sql: str) -> Outcome:
    """Runs on 18.16, is order-independent, and is (non-)trivial as annotated."""
    began = time.monotonic()
    try:
        first = parse_tsv(server.query(sql))
        second = parse_tsv(server.query(sql, settings=_SHUFFLED_SETTINGS, database=_SHUFFLED_DB))
    except ClickHouseError as error:
        return Outcome(query.name, False, f"ClickHouse 18.16 rejected the query:\n{error}")
    elapsed = time.monotonic() - began
    has_order_by = re.search(r"\bORDER\s+BY\b", sql, re.IGNORECASE) is not None
    if not has_order_by and (len(first) > 1 or re.search(r"\bLIMIT\b", sql, re.IGNORECASE)):
        return Outcome(query.name, False,
                       f"{len(first)} rows (or a LIMIT) without ORDER BY: order is unspecified",
                       elapsed)
    diff = compare_results(first, second, "default", "shuffled copy")
    if diff is not None:
        return Outcome(query.name, False, "nondeterministic result:\n" + diff, elapsed)
    trivial = is_trivial(first)
    if trivial != query.expect_empty:
        wanted = "an empty/zero result" if query.expect_empty else "a non-trivial result"
        return Outcome(query.name, False, f"expected {wanted}, got {len(first)} row(s): "
                       + " | ".join("\t".join(r) for r in first[:3]), elapsed)
    shape = f"{len(first)} row(s)"
    print(f"     {query.name}: {shape}, e.g. "
          + ("\t".join(first[0])[:100] if first else "(none)"), flush=True)
    return Outcome(query.name, True, "", elapsed)


def validate_corpus(args: argparse.Namespace, queries: list[Query]) -> Report:
    """--clickhouse-only: check the corpus on ClickHouse 18.16 alone."""
    workdir = Path(args.workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    shardlab = Shardlab(args.shardlab, timeout_s=args.timeout) if args.ub_tsv is None else None
    server = ClickHouseServer(workdir / "clickhouse")
    report = Report()
    try:
        server.wipe()
        server.start()
        types_ddl, types_tsv = write_types_inputs(workdir)
        layout = load_clickhouse(server, shardlab, args.rows, args.seed, args.ub_tsv,
                                 types_ddl, types_tsv)
        build_shuffled_copies(server, types_ddl.read_text(encoding="utf-8"))
        top = top_user(server)
        print(f"ClickHouse {server.query('SELECT version()').strip()}, layout {layout}, "
              f"{server.query('SELECT count() FROM user_behavior').strip()} rows, "
              f"most active user {top}", flush=True)
        for query in queries:
            report.add(validate_query(server, query, bind_query(query, top)))
    finally:
        server.stop()
    return report


# ----- command line ----------------------------------------------------------------------

def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Compare shardlab's query results with ClickHouse 18.16's.")
    parser.add_argument("--shardlab", help="path to the shardlab binary")
    parser.add_argument("--workdir", required=True,
                        help="scratch directory for the server and shardlab data")
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS,
                        help=f"user_behavior rows (default {DEFAULT_ROWS})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--queries", type=Path, default=DEFAULT_QUERIES,
                        help="query corpus (default: queries.sql next to this script)")
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help="run only the named queries (repeatable)")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="seconds allowed for each shardlab call")
    parser.add_argument("--ub-tsv", type=Path,
                        help="load user_behavior from this TSV instead of `shardlab gen`")
    parser.add_argument("--clickhouse-only", action="store_true",
                        help="validate the corpus on ClickHouse alone (no shardlab queries)")
    args = parser.parse_args(argv)
    if not args.clickhouse_only and not args.shardlab:
        parser.error("--shardlab is required (or use --clickhouse-only)")
    if args.clickhouse_only and not args.shardlab and not args.ub_tsv:
        parser.error("--clickhouse-only needs --shardlab (for gen) or --ub-tsv")
    if args.rows <= 0:
        parser.error("--rows must be positive")
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    try:
        queries = load_corpus(args.queries)
    except (OSError, CorpusError) as error:
        print(f"{args.queries}: {error}", file=sys.stderr)
        return 2
    if args.only:
        unknown = set(args.only) - {q.name for q in queries}
        if unknown:
            print(f"unknown query names: {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
        queries = [q for q in queries if q.name in args.only]
    began = time.monotonic()
    try:
        runner: Callable = validate_corpus if args.clickhouse_only else run_differential
        report = runner(args, queries)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 2
    except (RuntimeError, ClickHouseError, subprocess.TimeoutExpired) as error:
        print(f"setup failed: {error}", file=sys.stderr)
        return 1
    print(f"{report.summary()} ({time.monotonic() - began:.1f} s)")
    return 0 if report.all_passed else 1


if __name__ == "__main__":
    sys.exit(main())
