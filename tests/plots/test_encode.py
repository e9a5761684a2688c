"""How a plot's arrays go on the wire (`encode`, docs/protocol.md): short ones as lists rounded
to 7 significant digits, longer ones as base64 float32 holding as many, and values float32
cannot hold kept as a list so a diverging loss is still drawn."""

from __future__ import annotations

import base64

import numpy as np

from app.plots.base import LIST_MAX, LIST_OVERFLOW_MAX, encode


def decoded(sent: object) -> np.ndarray:
    assert isinstance(sent, dict) and sent["dtype"] == "f4"
    flat = np.frombuffer(base64.b64decode(sent["bdata"]), dtype="<f4")
    return flat.reshape(sent["shape"]).astype(np.float64)


def test_a_short_array_is_a_list_rounded_to_seven_significant_digits() -> None:
    sent = encode(np.array([np.pi, -1234567.891, 2.5e-12, 0.0]))
    assert sent == [3.141593, -1234568.0, 2.5e-12, 0.0]
    assert len(encode(np.arange(LIST_MAX, dtype=float))) == LIST_MAX


def test_a_longer_array_is_float32_with_as_many_digits_and_its_shape() -> None:
    xs = np.linspace(-10, 10, 101) * np.pi
    back = decoded(encode(xs))
    assert back.shape == (101,)
    assert np.allclose(back, xs, rtol=1e-7, atol=0)
    grid = np.outer(np.arange(1, 8), np.arange(1, 10)) / 3.0
    assert np.allclose(decoded(encode(grid)), grid, rtol=1e-7)
    assert decoded(encode(grid)).shape == (7, 9)


def test_values_beyond_float32_stay_a_list_so_they_are_drawn() -> None:
    losses = np.geomspace(1.0, 1e60, 40)  # a learning rate too big: the loss explodes
    sent = encode(losses)
    assert isinstance(sent, list)
    assert sent[-1] == 1e60
    gaps = np.linspace(0, 1, 40)
    gaps[5] = np.nan
    assert isinstance(encode(gaps), list)


def test_a_long_array_is_float32_whatever_it_holds() -> None:
    big = np.full(LIST_OVERFLOW_MAX + 1, 1e60)
    assert np.isinf(decoded(encode(big))).all()  # the page shows these as gaps
