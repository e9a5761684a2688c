"""Exercise checks for track D (the training loop and networks): the stop rule of a training
loop, accuracy on held-out data, a two-layer forward pass, and a composition of three layers.

Each check tries the learner's function on inputs it builds itself and compares the answer with
the right one and with the answers that common mistakes give, so the message can name the
mistake. Shape errors raised by torch are turned into advice about which way the matrices go.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from app.kernel.checks import Verdict, check

FloatArray = np.ndarray


def _array(value: Any) -> FloatArray | None:
    """A learner's result (tensor, array, list, number) as float64, or None."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None


def _same(got: FloatArray, want: FloatArray, tol: float = 1e-6) -> bool:
    return got.shape == want.shape and bool(np.allclose(got, want, rtol=tol, atol=tol))


def _sigmoid(z: FloatArray) -> FloatArray:
    return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=np.float64)


def _function(ns: Mapping[str, Any], name: str) -> Callable[..., Any] | None:
    fn = ns.get(name)
    return fn if callable(fn) else None


def _accepts(fn: Callable[..., Any], **kwargs: Any) -> bool:
    try:
        inspect.signature(fn).bind(**kwargs)
    except TypeError:
        return False
    except ValueError:
        return True  # no signature to inspect (a builtin): just try it
    return True


def _shape_trouble(err: RuntimeError) -> bool:
    text = str(err)
    return any(
        words in text
        for words in ("cannot be multiplied", "must match the size", "size mismatch", "shape")
    )


# ---------------------------------------------------------------------------- D1: the stop rule


def _loss_list(result: Any) -> list[float] | None:
    """The losses from what train() returned: `(params, losses)`, or the list itself."""
    if isinstance(result, tuple) and result:
        result = result[-1]
    arr = _array(result)
    if arr is None or arr.ndim != 1:
        return None
    return [float(v) for v in arr]


def _epochs(n: int) -> str:
    return f"{n} epoch" + ("" if n == 1 else "s")


@check("stop_rule")
def stop_rule(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's train(lr, max_epochs, tolerance) stops at the first epoch whose loss fell by
    less than `tolerance`, runs `max_epochs` epochs when that never happens, and its loss never
    rises on the way (a rising loss at a small learning rate means the gradient was not zeroed
    or the step went uphill).

    params: function (default "train"), lr, tolerance, max_epochs (a long run where the rule must
    fire), short_epochs (a short run that must end by max_epochs).
    """
    name = str(params.get("function", "train"))
    train = _function(ns, name)
    if train is None:
        return False, f"Define `{name}(lr, max_epochs, tolerance)` and press Run first."
    lr = float(params.get("lr", 0.1))
    tol = float(params.get("tolerance", 1e-4))
    long_run = int(params.get("max_epochs", 3000))
    short_run = int(params.get("short_epochs", 20))
    if not _accepts(train, lr=lr, max_epochs=long_run, tolerance=tol):
        return False, (
            f"`{name}` should take three arguments called `lr`, `max_epochs` and `tolerance`, "
            "as in the original cell, so that it can be tried with other values."
        )
    losses = _loss_list(train(lr=lr, max_epochs=long_run, tolerance=tol))
    if losses is None:
        return False, (
            f"`{name}` should end with `return params, losses`, where `losses` is the list of "
            "the loss of every epoch."
        )
    if not all(math.isfinite(v) for v in losses):
        return False, (
            f"With lr = {lr:g} the loss became NaN or infinite: the step is far too big. Is it "
            "multiplied by `lr`?"
        )
    if len(losses) < 2:
        return False, (
            f"`{name}` recorded {len(losses)} loss(es). Append the loss of every epoch to "
            "`losses` in part 3, and stop no earlier than after the second epoch: the rule "
            "compares two losses."
        )
    # Rounding can lift a float32 loss by a hair near the bottom; a real rise is larger.
    rise = next(
        (i for i in range(1, len(losses)) if losses[i] > losses[i - 1] * (1 + 1e-3) + 1e-12),
        None,
    )
    if rise == 1:
        return False, (
            f"The very first step made the loss larger ({losses[0]:.4g} → {losses[1]:.4g}) with "
            f"a learning rate as small as {lr:g}. The step goes uphill or is far too big: "
            "subtract `lr * params.grad`, don't add it, and don't forget the `lr`."
        )
    if rise is not None:
        return False, (
            f"The loss fell at first, then rose at epoch {rise} "
            f"({losses[rise - 1]:.4g} → {losses[rise]:.4g}), although lr = {lr:g} is small. "
            "That is what happens when the gradients are not zeroed: `backward()` adds the new "
            "gradient to what `.grad` already holds, so the steps keep growing. Call "
            "`params.grad.zero_()` after each step."
        )
    drops = [losses[i - 1] - losses[i] for i in range(1, len(losses))]
    first_small = next((i + 1 for i, d in enumerate(drops) if d < tol), None)
    expected = first_small + 1 if first_small is not None else long_run
    got = len(losses)
    if got == expected:
        short = _loss_list(train(lr=lr, max_epochs=short_run, tolerance=tol))
        want_short = min(short_run, expected)
        if short is None or len(short) != want_short:
            count = "nothing" if short is None else _epochs(len(short))
            return False, (
                f"The stop rule is right, but `{name}(lr={lr:g}, max_epochs={short_run}, "
                f"tolerance={tol:g})` ran {count} instead of {_epochs(want_short)}: "
                "keep `max_epochs` as the upper limit of the loop."
            )
        return True, (
            f"Correct: with lr = {lr:g} and tolerance = {tol:g} the loop stops after "
            f"{_epochs(got)}, as soon as one epoch lowers the loss by only "
            f"{drops[expected - 2]:.2g}, and a run with max_epochs = {short_run} stops at "
            f"{short_run}."
        )
    if got < expected:
        advice = (
            " Is the comparison the wrong way round? Stop when the drop is *smaller* than "
            "the tolerance."
            if got == 2
            else " Stop only once the drop is smaller than `tolerance`: use the argument, not "
            "a number of your own."
        )
        return False, (
            f"The loop stopped after {_epochs(got)} while the loss was still falling by "
            f"{drops[-1]:.3g} per epoch, more than tolerance = {tol:g}.{advice}"
        )
    if got > long_run:
        return False, (
            f"The loop ran {_epochs(got)}, more than max_epochs = {long_run}: "
            "`for epoch in range(max_epochs)` runs exactly max_epochs."
        )
    assert first_small is not None  # it ran too long, so the rule had a moment to fire
    if got == long_run:
        return False, (
            f"The loop ran all {long_run} epochs, but after epoch {first_small} the loss had "
            f"fallen by only {drops[first_small - 1]:.2g}, less than tolerance = {tol:g}: the "
            "stop rule never fired. In part 7 compare the last drop, "
            "`losses[-2] - losses[-1]`, with `tolerance` (not the loss itself) and `break`."
        )
    if got == expected + 1:
        return False, (
            f"One epoch late: the drop fell below tolerance after {_epochs(expected)}, but "
            f"the loop ran {got}. Decide right after the loss of the epoch is recorded, using "
            "the last two losses."
        )
    return False, (
        f"The loop ran {_epochs(got)}; it should stop after {_epochs(expected)}, the first "
        f"time the loss falls by less than tolerance = {tol:g} in one epoch."
    )


# ---------------------------------------------------------------------------- D2: test accuracy


class _Probe:
    """A stand-in model with known answers: right on `right[i]` of the rows of each data set it
    recognises, so its accuracy differs between the test and the training images."""

    def __init__(self, sets: Sequence[tuple[Any, FloatArray, float]]) -> None:
        self.sets = sets

    def __call__(self, images: Any) -> Any:
        import torch

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


def _probe_probs(probe: _Probe, images: Any) -> FloatArray:
    probs = _array(probe(images))
    assert probs is not None
    return probs[:, 0]


def _fraction_right(probs: FloatArray, targets: FloatArray) -> float:
    return float(np.mean((probs > 0.5) == (targets > 0.5)))


@check("test_accuracy")
def test_accuracy(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's `function(model)` returns the fraction of the test images that `model`
    classifies right (a probability above 0.5 means a 7).

    It is tried on a stand-in model whose accuracy is 85 % on the test set and 60 % on the
    training set, so that the usual mistakes give distinct numbers, then on the lesson's models.
    params: function, test ([inputs, targets] names), train (the same for the training set),
    models (names of trained models to report on).
    """
    import torch

    name = str(params.get("function", "test_accuracy"))
    fn = _function(ns, name)
    if fn is None:
        return False, f"Define `{name}(model)` and press Run first."
    (xt, yt), (xr, yr) = (
        params.get("test", ["X_test", "y_test"]),
        params.get("train", ["X_train", "y_train"]),
    )
    missing = [v for v in (xt, yt, xr, yr) if not isinstance(ns.get(v), torch.Tensor)]
    if missing:
        return False, f"Run the data cell first: `{missing[0]}` should be a tensor."
    test_x, train_x = ns[xt], ns[xr]
    test_y = _array(ns[yt])
    train_y = _array(ns[yr])
    assert test_y is not None and train_y is not None
    test_y, train_y = test_y.reshape(-1), train_y.reshape(-1)
    probe = _Probe([(test_x, test_y, 0.85), (train_x, train_y, 0.6)])
    got_raw = fn(probe)
    got_arr = _array(got_raw)
    if got_arr is None or got_arr.size != 1:
        return False, (
            f"`{name}` should return one number, the fraction of test images it gets right; "
            f"it returned {type(got_raw).__name__} {got_raw!r:.60}."
        )
    got = float(got_arr.reshape(-1)[0])
    p = _probe_probs(probe, test_x)
    right = _fraction_right(p, test_y)
    n = test_y.size
    if math.isclose(got, right, abs_tol=1e-6):
        reports = []
        for model in params.get("models", []):
            if callable(ns.get(model)):
                with torch.no_grad():
                    score = _array(fn(ns[model]))
                if score is not None and score.size == 1:
                    reports.append(f"`{model}` {100 * float(score.reshape(-1)[0]):.1f} %")
        scores = f" On the real models: {', '.join(reports)}." if reports else ""
        return True, (
            "Correct: on a stand-in model that is right on 85 % of the test images your "
            f"function says {got:.3f}.{scores}"
        )
    mistakes = [
        (
            _fraction_right(_probe_probs(probe, train_x), train_y),
            "That is the accuracy on the *training* images. The model has seen those during "
            "training, so they flatter it; measure on `X_test` and `y_test`.",
        ),
        (
            float(np.mean(test_y > 0.5)),
            "Every image came out as a 7. A probability is never below 0, and the sigmoid of a "
            "probability is always above 0.5, so comparing with 0, or applying `sigmoid` a "
            "second time, calls everything a 7. The model already gives probabilities: "
            "compare them with 0.5, once.",
        ),
        (
            float(np.mean((p[:, None] > 0.5) == (test_y[None, :] > 0.5))),
            "The shapes don't line up: the model returns shape (n, 1) and the labels have shape "
            "(n,), so `==` broadcasts to an (n, n) table of every prediction against every "
            "label. Flatten the predictions first, e.g. `probs.squeeze(1)` or `probs[:, 0]`.",
        ),
        (
            1 - right,
            "Exactly the wrong answers are counted: a probability above 0.5 means a 7 (label "
            "1), below means a 3 (label 0). Check the direction of the comparison.",
        ),
        (
            right * n,
            "That is how many are right, not the fraction: divide by the number of "
            "test images (or use `.mean()`).",
        ),
        (100 * right, "That is a percentage; return a fraction between 0 and 1."),
    ]
    for value, message in mistakes:
        if math.isclose(got, value, abs_tol=1e-6):
            return False, message
    return False, (
        f"Not yet: on a stand-in model that is right on {right:.3f} of the test images your "
        f"function returned {got:.4g}. Threshold the probabilities at 0.5 and compare with "
        "the test labels."
    )


# ---------------------------------------------------------------------------- D3: forward pass


def _pair(result: Any) -> tuple[FloatArray, FloatArray] | None:
    if not isinstance(result, tuple | list) or len(result) != 2:
        return None
    hidden, output = _array(result[0]), _array(result[1])
    if hidden is None or output is None:
        return None
    return hidden, output


@check("forward_pass")
def forward_pass(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's forward(x, W1, b1, W2, b2) returns (hidden, output) of a two-layer sigmoid
    network, rows of x being examples: hidden = σ(x W1ᵀ + b1), output = σ(hidden W2ᵀ + b2).

    Tried with 5 examples of 2 inputs and 4 hidden neurons, so a missing transpose shows.
    """
    import torch

    name = str(params.get("function", "forward"))
    fn = _function(ns, name)
    if fn is None:
        return False, f"Define `{name}(x, W1, b1, W2, b2)` and press Run first."
    gen = torch.Generator().manual_seed(int(params.get("seed", 3)))
    x = torch.rand(5, 2, generator=gen, dtype=torch.float64)
    w1 = torch.randn(4, 2, generator=gen, dtype=torch.float64) * 2
    b1 = torch.randn(4, generator=gen, dtype=torch.float64)
    w2 = torch.randn(1, 4, generator=gen, dtype=torch.float64) * 2
    b2 = torch.randn(1, generator=gen, dtype=torch.float64)
    try:
        result = fn(x, w1, b1, w2, b2)
    except RuntimeError as err:
        if not _shape_trouble(err):
            raise
        return False, (
            f"The shapes don't fit ({err}). Each row of x is one example and each row of W1 "
            "belongs to one hidden neuron, so x has shape (examples, 2) and W1 (neurons, 2): "
            "multiply `x @ W1.T`, and likewise `hidden @ W2.T`."
        )
    pair = _pair(result)
    if pair is None:
        return False, f"`{name}` should return two things: `return hidden, output`."
    hidden, output = pair
    X, W1, B1, W2, B2 = (t.numpy() for t in (x, w1, b1, w2, b2))
    z1 = X @ W1.T + B1
    h = _sigmoid(z1)
    out = _sigmoid(h @ W2.T + B2)
    if hidden.shape != h.shape:
        return False, (
            f"The hidden activations should have one row per example and one column per "
            f"neuron, shape {h.shape}; yours have shape {hidden.shape}."
        )
    hidden_mistakes = [
        (
            z1,
            "The hidden layer has no sigmoid: `hidden` should be σ(x W1ᵀ + b1). Without it "
            "the two linear layers merge into one, and the network can only draw a "
            "straight boundary again.",
        ),
        (
            _sigmoid(_sigmoid(z1)),
            "The sigmoid is applied twice in the hidden layer: once is enough.",
        ),
        (_sigmoid(X @ W1.T), "The bias b1 is missing from the hidden layer."),
    ]
    if not _same(hidden, h):
        for want, message in hidden_mistakes:
            if _same(hidden, want):
                return False, message
        return False, "The hidden activations are not σ(x W1ᵀ + b1) yet."
    if output.shape != out.shape:
        if output.size == out.size:
            return False, (
                f"The output has shape {output.shape}; keep it as {out.shape}, one row per "
                "example (`hidden @ W2.T + b2` gives that)."
            )
        return False, f"The output should have shape {out.shape}; yours has {output.shape}."
    output_mistakes = [
        (
            h @ W2.T + B2,
            "The output layer has no sigmoid: the output should be a probability, "
            "σ(hidden W2ᵀ + b2).",
        ),
        (
            _sigmoid(_sigmoid(h @ W2.T + B2)),
            "The sigmoid is applied twice at the output: the "
            "second one squeezes every answer above 0.5.",
        ),
        (_sigmoid(h @ W2.T), "The bias b2 is missing from the output layer."),
        (
            _sigmoid(z1 @ W2.T + B2),
            "The output layer reads z1, the numbers *before* the "
            "sigmoid; feed it the activations `hidden` instead.",
        ),
    ]
    if not _same(output, out):
        for want, message in output_mistakes:
            if _same(output, want):
                return False, message
        return False, "The hidden layer is right, but the output is not σ(hidden W2ᵀ + b2) yet."
    return True, (
        "Correct: the hidden activations and the output match the network's for every example. "
        "W1, b1, W2, b2 were the parameters; hidden and output are activations."
    )


# ---------------------------------------------------------------------------- D4: composition


@check("composition")
def composition(ns: dict[str, Any], params: Mapping[str, Any]) -> Verdict:
    """The learner's network(x, W1, W2, W3) is σ(W3·σ(W2·σ(W1·x))), each column of x one input.

    Tried with 4 hidden neurons and 7 inputs, so reversed order or `*` for `@` fails on shapes.
    """
    import torch

    name = str(params.get("function", "network"))
    fn = _function(ns, name)
    if fn is None:
        return False, f"Define `{name}(x, W1, W2, W3)` and press Run first."
    hidden, n = 4, 7
    gen = torch.Generator().manual_seed(int(params.get("seed", 5)))
    x = torch.linspace(-2, 2, n, dtype=torch.float64).reshape(1, n)
    w1 = torch.randn(hidden, 1, generator=gen, dtype=torch.float64) * 2
    w2 = torch.randn(hidden, hidden, generator=gen, dtype=torch.float64)
    w3 = torch.randn(1, hidden, generator=gen, dtype=torch.float64) * 2
    try:
        got = _array(fn(x, w1, w2, w3))
    except RuntimeError as err:
        if not _shape_trouble(err):
            raise
        return False, (
            f"The shapes don't fit ({err}). Apply W1 first: it is innermost, σ(W1·x), because "
            "it is the first to act on x; then W2, then W3. Use `@` for the matrix product "
            "(`*` multiplies entry by entry)."
        )
    if got is None:
        return False, f"`{name}` should return a tensor (or array) of numbers."
    X, W1, W2, W3 = (t.numpy() for t in (x, w1, w2, w3))
    s = _sigmoid
    want = s(W3 @ s(W2 @ s(W1 @ X)))
    if _same(got, want):
        return True, (
            "Correct: three linear maps, each wrapped in a sigmoid, applied inside out. That "
            "composition is the whole network."
        )
    if got.shape != want.shape:
        if got.shape == (hidden, n):
            return False, (
                f"The result has shape {got.shape}: one row per hidden neuron. That is a "
                "hidden layer; the last layer, W3, should turn it into one row: shape "
                f"{want.shape}."
            )
        if got.size == want.size:
            return False, (
                f"The result has shape {got.shape}; keep each input in its own column, shape "
                f"{want.shape} (don't transpose x)."
            )
        return False, f"The result should have shape {want.shape}; yours has {got.shape}."
    mistakes = [
        (
            W3 @ s(W2 @ s(W1 @ X)),
            "The outermost σ is missing: the last layer needs its sigmoid too, σ(W3·…).",
        ),
        (
            s(s(W3 @ s(W2 @ s(W1 @ X)))),
            "The sigmoid is applied twice at the end: σ(σ(…)) "
            "squeezes every output above 0.5. Once is enough.",
        ),
        (
            s(W3 @ W2 @ s(W1 @ X)),
            "The middle σ is missing: W3·W2 with nothing between them "
            "is just one linear map, and the layer is wasted.",
        ),
        (
            s(W3 @ s(W2 @ W1 @ X)),
            "The innermost σ is missing: W2·W1·x is one linear map; wrap W1·x in σ first.",
        ),
        (
            W3 @ W2 @ W1 @ X,
            "There is no σ at all: a product of matrices is still a single "
            "linear map, a straight line in x. Wrap every layer in σ.",
        ),
        (
            s(W1.T @ s(W2 @ s(W3.T @ X))),
            "The layers are applied in the wrong order: W1 acts first (innermost), W3 last.",
        ),
    ]
    for value, message in mistakes:
        if _same(got, value):
            return False, message
    return False, "Not yet: the result is not σ(W3·σ(W2·σ(W1·x))) for the inputs we tried."
