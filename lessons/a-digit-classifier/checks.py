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
    expression,
    fill,
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


def _choice(value: Any, choices: list[Any]) -> Any:
    """The choice `value` names (text compared without case or spaces), or None."""
    for c in choices:
        if isinstance(c, str) and isinstance(value, str):
            if value.strip().lower() == c.lower():
                return c
        elif type(value) is type(c) and value == c:
            return c
    return None


@check("prediction", mistakes=("wrong",))
def prediction(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """A prediction written down before a run: the variable `variable` set to one of `choices`,
    against `truth`, a formula over the page's names that computes the right choice from the
    lesson's own code (params: variable, choices, truth, right). Mistakes: wrong (field:
    answer, the right choice)."""
    name = str(params.get("variable", "prediction"))
    choices = list(params.get("choices", ()))
    said = _choice(ns.get(name), choices)
    if said is None:
        listed = " or ".join(f'"{c}"' if isinstance(c, str) else repr(c) for c in choices)
        return False, f"Set `{name}` to {listed}, press Run, then check."
    truth = _choice(expression(str(params["truth"]), ns)(), choices)
    if said == truth:
        right = str(params.get("right", "Right: the run agrees with your prediction."))
        return True, fill(right, answer=truth)
    wrong = Mistakes(params).message("wrong", answer=truth)
    return False, wrong or f"Not this time: the run says {truth!r}."
