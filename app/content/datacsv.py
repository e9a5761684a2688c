"""The normalised CSV of a learner's data: what a kernel returns after it parsed a file, and
the only form of it the server stores, shares and exports. A header of the declared columns,
then one row of finite numbers per line. Anything else is refused here, with words: the server
never trusts what a kernel or a form sends."""

from __future__ import annotations

import math
from collections.abc import Sequence

Rows = list[tuple[float, ...]]


class BadCsv(ValueError):
    """Not a normalised CSV within the limits; the message says why."""


def read_normalised(text: str, columns: Sequence[str], max_rows: int, max_bytes: int) -> Rows:
    """The rows of a normalised CSV, checked: the declared header, then between 1 and
    `max_rows` rows of len(columns) finite plain numbers, at most `max_bytes` in all."""
    if len(text.encode("utf-8", "replace")) > max_bytes:
        raise BadCsv(f"The data is larger than {max_bytes // 1024} KB.")
    lines = text.splitlines()
    if not lines or lines[0].split(",") != list(columns):
        raise BadCsv(f"The data must start with the header {','.join(columns)}.")
    body = lines[1:]
    if not body:
        raise BadCsv("The data has no rows.")
    if len(body) > max_rows:
        raise BadCsv(f"The data has {len(body):,} rows; at most {max_rows:,} are kept.")
    rows: Rows = []
    for number, line in enumerate(body, start=2):
        cells = line.split(",")
        if len(cells) != len(columns):
            raise BadCsv(f"Row {number} of the data does not have {len(columns)} numbers.")
        try:
            values = tuple(float(cell) for cell in cells)
        except ValueError:
            words = f"Row {number} of the data holds something that is not a number."
            raise BadCsv(words) from None
        if not all(math.isfinite(v) for v in values) or any(_odd(cell) for cell in cells):
            raise BadCsv(f"Row {number} of the data holds something that is not a plain number.")
        rows.append(values)
    return rows


def _odd(cell: str) -> bool:
    """Text that float() takes but a plain number never is: spaces, underscores, words."""
    letters = any(ch.isalpha() and ch not in "eE" for ch in cell)
    return cell != cell.strip() or "_" in cell or letters


def write_normalised(rows: Rows, columns: Sequence[str]) -> str:
    lines = [",".join(columns)]
    lines.extend(",".join(repr(float(v)) for v in row) for row in rows)
    return "\n".join(lines) + "\n"


def column_ranges(rows: Rows, columns: Sequence[str]) -> dict[str, list[float]]:
    return {
        name: [min(r[i] for r in rows), max(r[i] for r in rows)] for i, name in enumerate(columns)
    }
