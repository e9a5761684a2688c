"""A learner's own data, read from the bytes of a CSV file or pasted rows, inside their kernel.

Nothing here trusts the file: its size and row count are capped, its encoding is found from a
byte-order mark or tried (UTF-8, then UTF-16, then Latin-1), and every problem is reported as
words that name the row and what is wrong with it. The result is a float64 array with one column
per declared column; `as_shape` turns it into what the lesson's code expects.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

#: Shapes a lesson may declare for its data variable.
SHAPES = ("pairs", "arrays", "tensors")
#: Separators tried in this order when the file does not make its own obvious.
SEPARATORS = (",", ";", "\t", " ")


class DataError(ValueError):
    """The file cannot be used; the message is for the learner and names the row."""


def decode(raw: bytes) -> str:
    """The text of the file, or DataError for a file that is not text."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return _strict(raw[3:], "utf-8")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _strict(raw, "utf-16")
    if b"\0" in raw:
        raise DataError(
            "This file is not text (it holds NUL bytes): is it a spreadsheet or an image? "
            "Save it as CSV (comma-separated values) and load that."
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    if any(ord(ch) < 32 and ch not in "\r\n\t" for ch in text):
        raise DataError("This file is not text: save it as CSV and load that.")
    return text


def _strict(raw: bytes, encoding: str) -> str:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as err:
        raise DataError(
            f"This file says it is {encoding.upper()} but is not: {err.reason}."
        ) from None


def parse(
    raw: bytes,
    columns: Sequence[str],
    max_rows: int,
    max_bytes: int,
) -> tuple[np.ndarray, bool]:
    """The rows of the file as an array of shape (rows, len(columns)), and whether it had a
    header row. Raises DataError with words for the learner."""
    if len(raw) > max_bytes:
        raise DataError(
            f"This file is {_size(len(raw))}; at most {_size(max_bytes)} can be loaded. "
            "Use fewer rows."
        )
    text = decode(raw)
    lines = [
        line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        raise DataError(f"The file is empty: it needs rows of {_names(columns)}, one per line.")
    separator = _separator(lines)
    rows = list(_split(lines, separator))
    header = _is_header(rows[0])
    if header:
        _check_header(rows[0], columns)
        rows = rows[1:]
        if not rows:
            raise DataError(
                f"The file has a header row but no data: add rows of {_names(columns)}."
            )
    if len(rows) > max_rows:
        raise DataError(f"The file has {len(rows):,} rows; at most {max_rows:,} can be loaded.")
    data = np.empty((len(rows), len(columns)), dtype=np.float64)
    decimal_comma = separator == ";"
    first = 2 if header else 1
    for index, row in enumerate(rows):
        number = first + index
        if len(row) != len(columns):
            raise DataError(
                f"Row {number} has {len(row)} value{'s' * (len(row) != 1)} "
                f"({', '.join(row)[:60]}); every row needs {len(columns)}: {_names(columns)}."
            )
        for col, cell in enumerate(row):
            data[index, col] = _number(cell, number, columns[col], decimal_comma)
    return data, header


def _number(cell: str, row: int, column: str, decimal_comma: bool) -> float:
    text = cell.strip()
    if decimal_comma:
        text = text.replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        shown = text[:30] or "nothing"
        raise DataError(f"Row {row}, column {column}: '{shown}' is not a number.") from None
    if not math.isfinite(value):
        raise DataError(
            f"Row {row}, column {column}: {text} is not a finite number; "
            "remove the row or put a measured value there."
        )
    return value


def _separator(lines: list[str]) -> str:
    """The separator most of the first lines use: a comma, a semicolon, a tab, else spaces."""
    sample = lines[:50]
    used = {sep: sum(sep in line for line in sample) for sep in SEPARATORS[:3]}
    if used[";"] and used[";"] >= used[","]:  # a spreadsheet's export: commas are decimals
        return ";"
    best = max(used, key=lambda sep: used[sep])
    return best if used[best] else " "


def _split(lines: list[str], separator: str) -> Any:
    if separator == " ":
        for line in lines:
            yield line.split()
        return
    yield from csv.reader(io.StringIO("\n".join(lines)), delimiter=separator)


def _is_header(row: list[str]) -> bool:
    for cell in row:
        try:
            float(cell.strip().replace(",", "."))
        except ValueError:
            return True
    return False


def _check_header(row: list[str], columns: Sequence[str]) -> None:
    names = [cell.strip() for cell in row]
    if len(names) != len(columns):
        raise DataError(
            f"Row 1 looks like a header with {len(names)} name{'s' * (len(names) != 1)} "
            f"({', '.join(names)[:60]}); this lesson needs {len(columns)}: {_names(columns)}."
        )


def _names(columns: Sequence[str]) -> str:
    return ", ".join(columns)


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


def as_shape(data: np.ndarray, shape: str, device: str = "cpu") -> Any:
    """The array in the shape the lesson declared: a list of tuples (`pairs`), one numpy array
    per column (`arrays`), or one float32 tensor per column (`tensors`)."""
    if shape == "pairs":
        return [tuple(float(v) for v in row) for row in data]
    if shape == "arrays":
        return tuple(data[:, i].copy() for i in range(data.shape[1]))
    if shape == "tensors":
        import torch

        return tuple(
            torch.tensor(data[:, i], dtype=torch.float32, device=device)
            for i in range(data.shape[1])
        )
    raise DataError(f"unknown data shape {shape!r}; one of {', '.join(SHAPES)}")


def summary(data: np.ndarray, columns: Sequence[str]) -> dict[str, float]:
    """Rows and each column's range, for the page's readout and the plots' axes."""
    out: dict[str, float] = {"rows": float(len(data))}
    for i, name in enumerate(columns):
        out[f"{name}_min"] = float(data[:, i].min())
        out[f"{name}_max"] = float(data[:, i].max())
    return out
