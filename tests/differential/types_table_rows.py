"""Deterministic rows for the `all_types` table (types_table.sql).

`generate_rows()` returns the rows as Python values; `to_tsv()` encodes them as
ClickHouse TabSeparated text, columns in DDL order. The output depends only on the
`seed` argument, never on the machine or the Python hash seed.

The first rows are hand-written edge cases: 0 and the min/max of every integer type,
negative numbers, floats (0.1, 1e-7, 1e21, 123456.789, -0.5), empty strings, strings
holding tab, newline, backslash and quote (so the TSV escapes \\t \\n \\\\ \\' are
exercised), Unicode, and Date/DateTime edges (1970-01-02, 2100-01-01). The rest are
pseudo-random rows over small value sets, so GROUP BY and HAVING have real groups.

Deliberately absent: NaN (ClickHouse's NaN ordering and min/max rules are a topic of
their own), Date/DateTime zero (18.16 prints it as 0000-00-00), and dates after
2105 (18.16's date tables end there).

Run as a script it prints the TSV to stdout (`python3 types_table_rows.py > t.tsv`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
from typing import Iterable, NamedTuple

TABLE_NAME = "all_types"
DEFAULT_SEED = 20240501
DEFAULT_RANDOM_ROWS = 400


class TypesRow(NamedTuple):
    id: int
    u8: int
    u16: int
    u32: int
    u64: int
    i8: int
    i16: int
    i32: int
    i64: int
    f64: float
    s: str
    lc: str
    d: dt.date
    dt: dt.datetime


U8_MAX, U16_MAX, U32_MAX, U64_MAX = 2**8 - 1, 2**16 - 1, 2**32 - 1, 2**64 - 1
I8 = (-(2**7), 2**7 - 1)
I16 = (-(2**15), 2**15 - 1)
I32 = (-(2**31), 2**31 - 1)
I64 = (-(2**63), 2**63 - 1)

# Strings that must survive TSV escaping and comparison byte for byte.
TRICKY_STRINGS = [
    "",
    "plain",
    "tab\there",
    "line\nbreak",
    "back\\slash",
    "it's quoted",
    'double "quotes"',
    "北京",
    "上海市 浦东",
    "naïve café",
    "emoji \U0001F600",
    " leading and trailing ",
]
# The LowCardinality column's dictionary: few values, Chinese and empty included.
LC_VALUES = ["", "alpha", "beta", "gamma", "北京", "广东", "tab\tin lc"]

_DATE_2024 = dt.date(2024, 1, 1)


def _edge_rows() -> list[TypesRow]:
    d0 = dt.date(1970, 1, 2)
    t0 = dt.datetime(1970, 1, 2, 0, 0, 0)
    d_max = dt.date(2100, 1, 1)
    t_max = dt.datetime(2100, 1, 1, 0, 0, 0)
    mid_d = dt.date(2024, 5, 3)
    mid_t = dt.datetime(2024, 5, 3, 12, 34, 56)
    return [
        TypesRow(1, 0, 0, 0, 0, 0, 0, 0, 0, 0.0, "", "", d0, t0),
        TypesRow(2, U8_MAX, U16_MAX, U32_MAX, U64_MAX, I8[1], I16[1], I32[1], I64[1],
                 1e21, "tab\there", "alpha", d_max, t_max),
        TypesRow(3, 1, 1, 1, 1, I8[0], I16[0], I32[0], I64[0],
                 -0.5, "line\nbreak", "beta", d0, dt.datetime(1970, 1, 2, 0, 0, 1)),
        TypesRow(4, 128, 32768, 2**31, 2**63, -1, -1, -1, -1,
                 0.1, "back\\slash", "北京", mid_d, mid_t),
        TypesRow(5, 127, 32767, 2**31 - 1, 2**63 - 1, 1, 1, 1, 1,
                 1e-7, "it's quoted", "广东", mid_d, mid_t),
        TypesRow(6, 200, 60000, 4000000000, 10**19, -100, -30000, -2000000000, -(10**18),
                 123456.789, "北京", "gamma", dt.date(2099, 12, 31),
                 dt.datetime(2099, 12, 31, 23, 59, 59)),
        TypesRow(7, 255, 0, 0, 12345678901234567890, 100, 30000, 2000000000, 10**18,
                 -123456.789, "emoji \U0001F600", "", dt.date(2000, 2, 29),
                 dt.datetime(2000, 2, 29, 23, 59, 59)),
        TypesRow(8, 7, 7, 7, 7, -7, -7, -7, -7,
                 3.0, 'double "quotes"', "tab\tin lc", dt.date(1999, 12, 31),
                 dt.datetime(1999, 12, 31, 23, 59, 59)),
        TypesRow(9, 0, 1, 2, 3, -8, -9, -10, -11,
                 0.30000000000000004, " leading and trailing ", "alpha", d_max, t_max),
        TypesRow(10, 1, 2, 3, 4, 5, 6, 7, 8,
                 1e-300, "naïve café", "beta", dt.date(2024, 2, 29),
                 dt.datetime(2024, 2, 29, 0, 0, 0)),
    ]


def _random_row(rng: random.Random, row_id: int) -> TypesRow:
    day = _DATE_2024 + dt.timedelta(days=rng.randrange(366))
    moment = dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=rng.randrange(86400))
    return TypesRow(
        id=row_id,
        u8=rng.randrange(U8_MAX + 1),
        u16=rng.choice([0, 1, 1000, 65535, rng.randrange(U16_MAX + 1)]),
        u32=rng.randrange(1000),
        u64=rng.choice([rng.randrange(10**6), rng.randrange(2**63)]),
        i8=rng.randint(*I8),
        i16=rng.randint(-500, 500),
        i32=rng.randint(-10**6, 10**6),
        i64=rng.randint(-10**15, 10**15),
        f64=round(rng.uniform(-1000.0, 1000.0), rng.choice([0, 1, 3, 6])),
        s=rng.choice(TRICKY_STRINGS),
        lc=rng.choice(LC_VALUES),
        d=day,
        dt=moment,
    )


def generate_rows(seed: int = DEFAULT_SEED, random_rows: int = DEFAULT_RANDOM_ROWS
                  ) -> list[TypesRow]:
    """The edge rows followed by `random_rows` pseudo-random rows; ids are 1, 2, ..."""
    rows = _edge_rows()
    rng = random.Random(seed)
    for _ in range(random_rows):
        rows.append(_random_row(rng, len(rows) + 1))
    return rows


def escape_tsv(value: str, escape_quote: bool = True) -> str:
    """ClickHouse TabSeparated escaping of a string field.

    ClickHouse writes a single quote as \\' but also reads it unescaped; `escape_quote`
    picks which of the two the input uses.
    """
    text = value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
    return text.replace("'", "\\'") if escape_quote else text


def format_float(value: float) -> str:
    """repr() is the shortest round-tripping text, which ClickHouse parses exactly."""
    return repr(float(value))


def format_field(value, escape_quote: bool = True) -> str:
    if isinstance(value, bool):
        raise TypeError("bool is not a column type")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_float(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    return escape_tsv(value, escape_quote)


def to_tsv(rows: Iterable[TypesRow]) -> str:
    """TabSeparated text, one line per row, columns in DDL order.

    Rows with an even id escape single quotes, rows with an odd id leave them raw, so a
    loader must accept both spellings.
    """
    return "".join(
        "\t".join(format_field(v, escape_quote=row.id % 2 == 0) for v in row) + "\n"
        for row in rows)


def main() -> int:
    parser = argparse.ArgumentParser(description="Print the all_types rows as TSV.")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--random-rows", type=int, default=DEFAULT_RANDOM_ROWS)
    args = parser.parse_args()
    sys.stdout.write(to_tsv(generate_rows(args.seed, args.random_rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
