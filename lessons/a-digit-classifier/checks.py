"""Checks for "A digit classifier": accuracy on the held-out test images."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from app.kernel.checks import (
    Mistakes,
    Verdict,
    array,
    check,
    close,
    define_first,
    learner_function,
    shown,
)


class _Probe:
    """A stand-in model with known answers: right on `right[i]` of the rows of each data set it
    recognises, so its accuracy differs between the test and the training images."""

    def __init__(self, sets: Sequence[tuple[Any, np.ndarray, float]]) -> None:
        self.sets = sets

    def __call__(self, images: Any) -> Any:
        x = torch.as_tensor(images)
        n = int(x.shape[0])
        labels = np.random.default_rng(n).integers(0, 2, n).astype(np.float64)
        share = 0.5
        for inputs, targets, right in self.sets:
            if tuple(inputs.shape) == tuple(x.shape) and torch.equal(inputs.to(x.dtype), x):
                labels, share = targets, right
                break
        correct = np.arange(n) < round(share * n)
        np.random.default_rng(1).shuffle(correct)
        predicted = np.where(correct, labels, 1 - labels)
        margin = np.random.default_rng(2).uniform(0.05, 0.45, n)
        probs = np.where(predicted == 1, 0.5 + margin, 0.5 - margin)
        return torch.tensor(probs, dtype=x.dtype if x.is_floating_point() else None).unsqueeze(1)


def _probs(probe: _Probe, images: Any) -> np.ndarray:
    probs = array(probe(images))
    assert probs is not None
    return probs[:, 0]


def _fraction_right(probs: np.ndarray, targets: np.ndarray) -> float:
    return float(np.mean((probs > 0.5) == (targets > 0.5)))


@check(
    "test_accuracy",
    mistakes=("training_set", "all_sevens", "broadcast", "inverted", "count", "percent"),
)
def test_accuracy(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's `function(model)` returns the fraction of the test images that `model`
    classifies right (a probability above 0.5 means a 7).

    It is tried on a stand-in model whose accuracy is 85 % on the test set and 60 % on the
    training set, so that the usual mistakes give distinct numbers, then on the lesson's models.
    params: function, test ([inputs, targets] names), train (the same for the training set),
    models (names of trained models to report on).
    """
    name = str(params.get("function", "test_accuracy"))
    fn = learner_function(ns, name)
    if fn is None:
        return define_first(name, "model")
    (xt, yt), (xr, yr) = (
        params.get("test", ["X_test", "y_test"]),
        params.get("train", ["X_train", "y_train"]),
    )
    missing = [v for v in (xt, yt, xr, yr) if not isinstance(ns.get(v), torch.Tensor)]
    if missing:
        return False, f"Run the data cell first: `{missing[0]}` should be a tensor."
    test_x, train_x = ns[xt], ns[xr]
    test_y, train_y = array(ns[yt]), array(ns[yr])
    assert test_y is not None and train_y is not None
    test_y, train_y = test_y.reshape(-1), train_y.reshape(-1)
    probe = _Probe([(test_x, test_y, 0.85), (train_x, train_y, 0.6)])
    value = fn(probe)
    got_arr = array(value)
    if got_arr is None or got_arr.size != 1:
        return False, (
            f"`{name}` should return one number, the fraction of test images it gets right; "
            f"it returned {shown(value)}."
        )
    got = float(got_arr.reshape(-1)[0])
    p = _probs(probe, test_x)
    right = _fraction_right(p, test_y)
    if close(got, right, 1e-6):
        reports = []
        for model in params.get("models", []):
            if callable(ns.get(model)):
                with torch.no_grad():
                    score = array(fn(ns[model]))
                if score is not None and score.size == 1:
                    reports.append(f"`{model}` {100 * float(score.reshape(-1)[0]):.1f} %")
        scores = f" On the real models: {', '.join(reports)}." if reports else ""
        return True, (
            "Correct: on a stand-in model that is right on 85 % of the test images your "
            f"function says {got:.3f}.{scores}"
        )
    values = {
        "training_set": lambda: _fraction_right(_probs(probe, train_x), train_y),
        "all_sevens": lambda: float(np.mean(test_y > 0.5)),
        "broadcast": lambda: float(np.mean((p[:, None] > 0.5) == (test_y[None, :] > 0.5))),
        "inverted": lambda: 1 - right,
        "count": lambda: right * test_y.size,
        "percent": lambda: 100 * right,
    }

    def gives(value: Callable[[], float]) -> Callable[[], bool]:
        return lambda: close(got, value(), 1e-6)

    slip = Mistakes(params).first({known: gives(value) for known, value in values.items()})
    return False, slip or (
        f"Not yet: on a stand-in model that is right on {right:.3f} of the test images your "
        f"function returned {got:.4g}. Threshold the probabilities at 0.5 and compare with "
        "the test labels."
    )


def _table(probs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Counts: rows are the true digit (3, 7), columns the model's answer (3, 7)."""
    said = probs > 0.5
    truth = targets > 0.5
    return np.array(
        [
            [np.sum(~truth & ~said), np.sum(~truth & said)],
            [np.sum(truth & ~said), np.sum(truth & said)],
        ],
        dtype=np.float64,
    )


@check("confusion_table", mistakes=("training_set", "transposed", "fractions"))
def confusion_table(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's `function(model)` returns the 2 x 2 table of counts on the test images:
    rows the true digit (3, then 7), columns the model's answer (3, then 7). Tried on a stand-in
    model that is right on 85 % of the test images and 60 % of the training images.
    params: function, test, train (as for test_accuracy). Mistakes: training_set, transposed,
    fractions."""
    name = str(params.get("function", "confusion"))
    fn = learner_function(ns, name)
    if fn is None:
        return define_first(name, "model")
    (xt, yt), (xr, yr) = (
        params.get("test", ["X_test", "y_test"]),
        params.get("train", ["X_train", "y_train"]),
    )
    if not all(isinstance(ns.get(v), torch.Tensor) for v in (xt, yt, xr, yr)):
        return False, "Run the data cell first: the test and training tensors are missing."
    test_y, train_y = array(ns[yt]), array(ns[yr])
    assert test_y is not None and train_y is not None
    test_y, train_y = test_y.reshape(-1), train_y.reshape(-1)
    probe = _Probe([(ns[xt], test_y, 0.85), (ns[xr], train_y, 0.6)])
    value = fn(probe)
    got = array(value)
    if got is None or got.shape != (2, 2):
        return False, (
            f"`{name}` should return a 2 x 2 table (a list of two rows of two numbers); it "
            f"returned {shown(value)}."
        )
    want = _table(_probs(probe, ns[xt]), test_y)
    if close(got, want, 1e-9):
        return True, (
            f"Correct: on a stand-in model your table is {want.astype(int).tolist()}: "
            f"{int(want[0, 1])} threes called 7 and {int(want[1, 0])} sevens called 3."
        )
    slips = {
        "training_set": lambda: close(got, _table(_probs(probe, ns[xr]), train_y), 1e-9),
        "transposed": lambda: close(got, want.T, 1e-9),
        "fractions": lambda: (
            close(got, want / want.sum(), 1e-9)
            or close(got, want / want.sum(axis=1, keepdims=True), 1e-9)
        ),
    }
    slip = Mistakes(params).first(slips)
    return False, slip or (
        f"Not yet: on a stand-in model the table should be {want.astype(int).tolist()}, but "
        f"`{name}` returned {shown(value)}."
    )
