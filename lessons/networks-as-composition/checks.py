"""Checks for "Networks as composition": three layers, applied inside out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from app.kernel.checks import (
    Mistakes,
    Verdict,
    array,
    call_for_shapes,
    check,
    close,
    define_first,
    learner_function,
    sigmoid,
)

KNOWN = (
    "shapes_do_not_fit",
    "hidden_layer_shape",
    "transposed",
    "no_outer",
    "outer_twice",
    "no_middle",
    "no_inner",
    "no_sigmoid",
    "wrong_order",
)


@check("composition", mistakes=KNOWN)
def composition(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's network(x, W1, W2, W3) is σ(W3·σ(W2·σ(W1·x))), each column of x one input.

    Tried with 4 hidden neurons and 7 inputs, so reversed order or `*` for `@` fails on shapes.
    Message fields: error (torch's words), shape (the learner's), want (the right shape).
    """
    name = str(params.get("function", "network"))
    fn = learner_function(ns, name)
    if fn is None:
        return define_first(name, "x", "W1", "W2", "W3")
    mistakes = Mistakes(params)
    hidden, n = 4, 7
    gen = torch.Generator().manual_seed(int(params.get("seed", 5)))
    x = torch.linspace(-2, 2, n, dtype=torch.float64).reshape(1, n)
    w1 = torch.randn(hidden, 1, generator=gen, dtype=torch.float64) * 2
    w2 = torch.randn(hidden, hidden, generator=gen, dtype=torch.float64)
    w3 = torch.randn(1, hidden, generator=gen, dtype=torch.float64) * 2
    result, said = call_for_shapes(mistakes, fn, x, w1, w2, w3)
    if said:
        return False, said
    got = array(result)
    if got is None:
        return False, f"`{name}` should return a tensor (or array) of numbers."
    X, W1, W2, W3 = (t.numpy() for t in (x, w1, w2, w3))
    s = sigmoid
    want = s(W3 @ s(W2 @ s(W1 @ X)))
    if close(got, want):
        return True, (
            "Correct: three linear maps, each wrapped in a sigmoid, applied inside out. That "
            "composition is the whole network."
        )
    if got.shape != want.shape:
        slip = mistakes.first(
            {
                "hidden_layer_shape": lambda: got.shape == (hidden, n),
                "transposed": lambda: got.size == want.size,
            },
            shape=got.shape,
            want=want.shape,
        )
        return False, slip or f"The result should have shape {want.shape}; yours has {got.shape}."
    slip = mistakes.first(
        {
            "no_outer": lambda: close(got, W3 @ s(W2 @ s(W1 @ X))),
            "outer_twice": lambda: close(got, s(want)),
            "no_middle": lambda: close(got, s(W3 @ W2 @ s(W1 @ X))),
            "no_inner": lambda: close(got, s(W3 @ s(W2 @ W1 @ X))),
            "no_sigmoid": lambda: close(got, W3 @ W2 @ W1 @ X),
            "wrong_order": lambda: close(got, s(W1.T @ s(W2 @ s(W3.T @ X)))),
        }
    )
    return False, slip or "Not yet: the result is not σ(W3·σ(W2·σ(W1·x))) for the inputs we tried."
