"""A learner's own data file: every kind of bad file gets words that name the row and the
problem; good files in the common spellings load."""

from __future__ import annotations

import numpy as np
import pytest

from app.kernel.dataset import DataError, as_shape, parse, summary

COLUMNS = ("x", "y")
ROWS = 10_000
BYTES = 2 * 1024 * 1024


def load(raw: bytes) -> np.ndarray:
    data, _ = parse(raw, COLUMNS, ROWS, BYTES)
    return data


@pytest.mark.parametrize(
    "raw",
    [
        b"1,2\n3,4\n",
        b"x,y\n1,2\n3,4\n",
        b"  1 , 2 \r\n3,4",
        b"# my measurements\n1\t2\n3\t4\n",
        b"1 2\n3   4\n\n",
        b"x;y\n1,0;2\n3;4,0\n",  # a spreadsheet with decimal commas
        b"1,0;2,0\n3,0;4,0\n",
        "x,y\n1,2\n3,4\n".encode("utf-16"),
        b"\xef\xbb\xbfx,y\n1,2\n3,4\n",
        "temp °C,y\n1,2\n3,4\n".encode("latin-1"),
    ],
    ids=[
        "plain",
        "header",
        "spaces-crlf",
        "comment-tabs",
        "whitespace",
        "semicolons",
        "semicolons-only",
        "utf16",
        "utf8-bom",
        "latin1",
    ],
)
def test_common_spellings_load(raw: bytes) -> None:
    assert load(raw).tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_the_header_is_noticed() -> None:
    assert parse(b"x,y\n1,2\n", COLUMNS, ROWS, BYTES)[1] is True
    assert parse(b"1,2\n", COLUMNS, ROWS, BYTES)[1] is False


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"", "The file is empty"),
        (b"\n  \n# nothing\n", "The file is empty"),
        (b"x,y\n", "a header row but no data"),
        (b"1,2\n3\n", "Row 2 has 1 value (3); every row needs 2: x, y."),
        (b"1,2\n3,4,5\n", "Row 2 has 3 values (3, 4, 5); every row needs 2: x, y."),
        (b"x,y,z\n1,2,3\n", "Row 1 looks like a header with 3 names (x, y, z)"),
        (b"x,y\n1,2\n3,four\n", "Row 3, column y: 'four' is not a number."),
        (b"1,2\n,4\n", "Row 2, column x: 'nothing' is not a number."),
        (b"1,2\nnan,4\n", "Row 2, column x: nan is not a finite number"),
        (b"1,2\n3,inf\n", "Row 2, column y: inf is not a finite number"),
        (b"1,2\n3,1e999\n", "Row 2, column y: 1e999 is not a finite number"),
        (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "This file is not text (it holds NUL bytes)"),
        (b"\xff\xfe" + b"\x00\xd8", "This file says it is UTF-16 but is not"),
        (b"\x01\x02\x03\x04,5\n", "This file is not text"),
    ],
    ids=[
        "empty",
        "blank",
        "header-only",
        "missing-column",
        "extra-column",
        "wide-header",
        "word",
        "blank-cell",
        "nan",
        "inf",
        "overflow",
        "binary",
        "bad-utf16",
        "control",
    ],
)
def test_bad_files_get_words(raw: bytes, words: str) -> None:
    with pytest.raises(DataError) as err:
        load(raw)
    assert words in str(err.value)


def test_too_many_rows_is_refused_with_the_count() -> None:
    raw = b"1,2\n" * 3_000_000
    with pytest.raises(DataError, match="The file has 3,000,000 rows; at most 10,000"):
        parse(raw, COLUMNS, ROWS, 64 * 1024 * 1024)


def test_a_huge_file_is_refused_before_it_is_read() -> None:
    raw = b"1,2\n" * (50 * 1024 * 1024 // 4)
    with pytest.raises(DataError, match=r"This file is 50.0 MB; at most 2.0 MB"):
        load(raw)


def test_shapes_the_lessons_use() -> None:
    data = load(b"1,2\n3,4\n")
    assert as_shape(data, "pairs") == [(1.0, 2.0), (3.0, 4.0)]
    xs, ys = as_shape(data, "arrays")
    assert xs.tolist() == [1.0, 3.0] and ys.tolist() == [2.0, 4.0]
    tx, ty = as_shape(data, "tensors")
    assert tx.dtype.is_floating_point and ty.tolist() == [2.0, 4.0]
    assert summary(data, COLUMNS) == {"rows": 2, "x_min": 1, "x_max": 3, "y_min": 2, "y_max": 4}
