"""Checks for "Activations and parameters": the forward pass of a two-layer sigmoid network."""

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
    "hidden_linear",
    "hidden_twice",
    "hidden_no_bias",
    "output_linear",
    "output_twice",
    "output_no_bias",
    "output_reads_z1",
)


@check("forward_pass", mistakes=KNOWN)
def forward_pass(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's forward(x, W1, b1, W2, b2) returns (hidden, output) of a two-layer sigmoid
    network, rows of x being examples: hidden = σ(x W1ᵀ + b1), output = σ(hidden W2ᵀ + b2).

    Tried with 5 examples of 2 inputs and 4 hidden neurons, so a missing transpose shows. Message
    field: error (torch's words, for shapes_do_not_fit).
    """
    name = str(params.get("function", "forward"))
    fn = learner_function(ns, name)
    if fn is None:
        return define_first(name, "x", "W1", "b1", "W2", "b2")
    mistakes = Mistakes(params)
    gen = torch.Generator().manual_seed(int(params.get("seed", 3)))
    x = torch.rand(5, 2, generator=gen, dtype=torch.float64)
    w1 = torch.randn(4, 2, generator=gen, dtype=torch.float64) * 2
    b1 = torch.randn(4, generator=gen, dtype=torch.float64)
    w2 = torch.randn(1, 4, generator=gen, dtype=torch.float64) * 2
    b2 = torch.randn(1, generator=gen, dtype=torch.float64)
    result, said = call_for_shapes(mistakes, fn, x, w1, b1, w2, b2)
    if said:
        return False, said
    two = isinstance(result, tuple | list) and len(result) == 2
    hidden, output = (array(result[0]), array(result[1])) if two else (None, None)
    if hidden is None or output is None:
        return False, f"`{name}` should return two things: `return hidden, output`."
    X, W1, B1, W2, B2 = (t.numpy() for t in (x, w1, b1, w2, b2))
    z1 = X @ W1.T + B1
    h = sigmoid(z1)
    out = sigmoid(h @ W2.T + B2)
    if hidden.shape != h.shape:
        return False, (
            f"The hidden activations should have one row per example and one column per "
            f"neuron, shape {h.shape}; yours have shape {hidden.shape}."
        )
    if not close(hidden, h):
        slip = mistakes.first(
            {
                "hidden_linear": lambda: close(hidden, z1),
                "hidden_twice": lambda: close(hidden, sigmoid(h)),
                "hidden_no_bias": lambda: close(hidden, sigmoid(X @ W1.T)),
            }
        )
        return False, slip or "The hidden activations are not σ(x W1ᵀ + b1) yet."
    if output.shape != out.shape:
        if output.size == out.size:
            return False, (
                f"The output has shape {output.shape}; keep it as {out.shape}, one row per "
                "example (`hidden @ W2.T + b2` gives that)."
            )
        return False, f"The output should have shape {out.shape}; yours has {output.shape}."
    if not close(output, out):
        slip = mistakes.first(
            {
                "output_linear": lambda: close(output, h @ W2.T + B2),
                "output_twice": lambda: close(output, sigmoid(out)),
                "output_no_bias": lambda: close(output, sigmoid(h @ W2.T)),
                "output_reads_z1": lambda: close(output, sigmoid(z1 @ W2.T + B2)),
            }
        )
        return (
            False,
            slip or "The hidden layer is right, but the output is not σ(hidden W2ᵀ + b2) yet.",
        )
    return True, (
        "Correct: the hidden activations and the output match the network's for every example. "
        "W1, b1, W2, b2 were the parameters; hidden and output are activations."
    )
