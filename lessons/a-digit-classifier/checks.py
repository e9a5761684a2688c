"""Checks for "A digit classifier": the score for each digit, and the confusion table, on the
held-out test images."""

from __future__ import annotations

import math
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
    number,
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


def _probs(probe: Callable[[Any], Any], images: Any) -> np.ndarray:
    probs = array(probe(images))
    assert probs is not None
    return probs[:, 0]


class _PerImage:
    """A stand-in model that answers image by image: each image of the data sets it was built
    from gets a fixed probability, right on a set share of the 3s and of the 7s of each set, so
    a model called on any subset of the images (the 3s alone, say) gives the same answers."""

    def __init__(self, sets: Sequence[tuple[Any, np.ndarray, tuple[float, float]]]) -> None:
        self.known: dict[bytes, float] = {}
        for k, (inputs, targets, (share_3, share_7)) in enumerate(sets):
            rows = _rows(inputs)
            probs = np.zeros(len(rows))
            rng = np.random.default_rng(10 + k)
            for label, share in ((0.0, share_3), (1.0, share_7)):
                where = np.flatnonzero(targets == label)
                right = np.zeros(where.size, dtype=bool)
                right[: round(share * where.size)] = True
                rng.shuffle(right)
                said_7 = np.where(right, label == 1.0, label != 1.0)
                margin = rng.uniform(0.05, 0.45, where.size)
                probs[where] = np.where(said_7, 0.5 + margin, 0.5 - margin)
            for row, p in zip(rows, probs, strict=True):
                self.known.setdefault(row.tobytes(), float(p))

    def __call__(self, images: Any) -> Any:
        x = torch.as_tensor(images)
        probs = [self.known.get(row.tobytes(), 0.5) for row in _rows(x)]
        dtype = x.dtype if x.is_floating_point() else torch.float32
        return torch.tensor(probs, dtype=dtype).reshape(-1, 1)


def _rows(images: Any) -> np.ndarray:
    """The images as float32 rows, the form the stand-in looks them up by."""
    x = torch.as_tensor(images).detach().to("cpu", torch.float32)
    if x.ndim == 0:
        x = x.reshape(1, 1)
    return x.reshape(x.shape[0], math.prod(x.shape[1:])).numpy()


#: The digit each label stands for: 0.0 is a 3, 1.0 is a 7.
DIGITS = {3: 0.0, 7: 1.0}


def _per_digit(probs: np.ndarray, targets: np.ndarray, digit: int) -> float:
    """Among the images that show `digit`, the fraction the model gets right."""
    mine = targets == DIGITS[digit]
    return float(np.mean((probs[mine] > 0.5) == (targets[mine] > 0.5)))


@check(
    "digit_accuracy",
    mistakes=(
        "training_set",
        "all_digits",
        "labels_are_digits",
        "swapped",
        "said_digit",
        "all_images",
        "inverted",
        "count",
        "percent",
    ),
)
def digit_accuracy(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's `function(model, digit)` returns, among the test images that show `digit`
    (3 or 7), the fraction `model` classifies right (a probability above 0.5 means a 7).

    It is tried on a stand-in model that is right on 90 % of the test 3s and 70 % of the test 7s
    (60 % and 50 % of the training ones), so that the usual mistakes give distinct numbers,
    then on the lesson's models. params: function, test ([inputs, targets] names), train (the
    same for the training set), models (names of trained models to report on).
    Mistakes: training_set, all_digits (field overall), labels_are_digits, swapped, said_digit,
    all_images, inverted, count, percent; fields digit and n (the number of test images of that
    digit, 3 first), total (the number of test images).
    """
    name = str(params.get("function", "digit_accuracy"))
    fn = learner_function(ns, name)
    if fn is None:
        return define_first(name, "model", "digit")
    (xt, yt), (xr, yr) = (
        params.get("test", ["X_test", "y_test"]),
        params.get("train", ["X_train", "y_train"]),
    )
    missing = [v for v in (xt, yt, xr, yr) if not isinstance(ns.get(v), torch.Tensor)]
    if missing:
        return False, f"Run the data cell first: `{missing[0]}` should be a tensor."
    test_y, train_y = array(ns[yt]), array(ns[yr])
    assert test_y is not None and train_y is not None
    test_y, train_y = test_y.reshape(-1), train_y.reshape(-1)
    probe = _PerImage([(ns[xt], test_y, (0.9, 0.7)), (ns[xr], train_y, (0.6, 0.5))])
    got: list[float] = []
    for digit in DIGITS:
        value = fn(probe, digit)
        one = array(value)
        if one is None or one.size != 1:
            return False, (
                f"`{name}` should return one number, the fraction of the test {digit}s it gets "
                f"right; `{name}(model, {digit})` returned {shown(value)}."
            )
        got.append(float(one.reshape(-1)[0]))
    p_test, p_train = _probs(probe, ns[xt]), _probs(probe, ns[xr])
    right = [_per_digit(p_test, test_y, d) for d in DIGITS]
    sizes = [int(np.sum(test_y == label)) for label in DIGITS.values()]
    if all(close(g, r, 1e-6) for g, r in zip(got, right, strict=True)):
        reports = []
        for model in params.get("models", []):
            if callable(ns.get(model)):
                with torch.no_grad():
                    scores = [number(fn(ns[model], d)) for d in DIGITS]
                if all(score is not None for score in scores):
                    parts = [
                        f"{100 * float(score or 0):.1f} % of the {d}s"
                        for d, score in zip(DIGITS, scores, strict=True)
                    ]
                    reports.append(f"`{model}` {', '.join(parts)}")
        real = f" On the real models: {'; '.join(reports)}." if reports else ""
        return True, (
            f"Correct: a stand-in model that is right on {round(right[0] * sizes[0])} of the "
            f"{sizes[0]} test 3s and {round(right[1] * sizes[1])} of the {sizes[1]} test 7s gets "
            f"{got[0]:.3f} and {got[1]:.3f} from your function.{real}"
        )
    said_7 = p_test > 0.5
    overall = float(np.mean(said_7 == (test_y > 0.5)))
    per_digit: dict[str, list[float]] = {
        "training_set": [_per_digit(p_train, train_y, d) for d in DIGITS],
        "all_digits": [overall, overall],
        "swapped": right[::-1],
        "said_digit": [
            float(np.mean(test_y[said_7 == (label == 1.0)] == label)) for label in DIGITS.values()
        ],
        "all_images": [r * n / test_y.size for r, n in zip(right, sizes, strict=True)],
        "inverted": [1 - r for r in right],
        "count": [r * n for r, n in zip(right, sizes, strict=True)],
        "percent": [100 * r for r in right],
    }

    def gives(values: list[float]) -> Callable[[], bool]:
        return lambda: all(close(g, v, 1e-6) for g, v in zip(got, values, strict=True))

    tests = {known: gives(values) for known, values in per_digit.items()}
    tests["labels_are_digits"] = lambda: not all(np.isfinite(got))
    slip = Mistakes(params).first(tests, digit=3, n=sizes[0], total=test_y.size, overall=overall)
    return False, slip or (
        f"Not yet: a stand-in model is right on {right[0]:.3f} of the test 3s and {right[1]:.3f} "
        f"of the test 7s, but your function returned {got[0]:.4g} and {got[1]:.4g}. Keep the "
        "test images of the digit, threshold the probabilities at 0.5 and compare with their "
        "labels."
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
