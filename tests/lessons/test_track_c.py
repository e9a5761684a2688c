"""Track C, gradient descent in depth: the results each lesson promises come out of its own code
in a real kernel, and every exercise recognises the usual mistakes and names them."""

from __future__ import annotations

import re

import numpy as np
import pytest

from app.content.model import Catalogue, Lesson
from app.protocol import Array, KEvaluated
from tests.lessons.harness import KernelService

TRACK_C = [
    "one-dimension",
    "valleys-and-starting-points",
    "learning-rate-too-big",
    "checking-a-gradient",
    "learning-rate-and-batch-size",
    "learning-rate-schedules",
    "optimizers",
]


def lesson(catalogue: Catalogue, slug: str) -> Lesson:
    found = catalogue.get(slug)
    assert found is not None, f"no lesson {slug!r}"
    return found


def array(arr: Array) -> np.ndarray:
    return np.frombuffer(arr.data, dtype="<f8").reshape(arr.shape)


def drawn(
    kernels: KernelService,
    kernel: object,
    les: Lesson,
    plot: str,
    values: dict[str, float] | None = None,
) -> KEvaluated:
    reply = kernels.evaluate(kernel, les, plot, values)  # type: ignore[arg-type]
    assert reply.error == "", f"{les.slug}/{plot}: {reply.error}"
    return reply


@pytest.fixture
def ran(kernels: KernelService, catalogue: Catalogue, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """A kernel that has run every cell of the lesson named by the test's `slug` parameter."""
    les = lesson(catalogue, request.param)
    kernel = kernels.kernel()
    outputs = {}
    for cell, reply in zip(les.cells, kernels.run_lesson(kernel, les), strict=True):
        assert reply.ok, f"{les.slug}/{cell}: {reply.error}"
        outputs[cell] = reply.stdout
    yield les, kernel, outputs
    kernels.release(kernel)


def test_track_c_is_complete_and_in_order(catalogue: Catalogue) -> None:
    track = [les.slug for les in catalogue.lessons if les.track == "C"]
    assert track == TRACK_C
    for slug in TRACK_C:
        les = lesson(catalogue, slug)
        assert les.exercises, f"{slug} has no exercise"
        assert all(ex.hints and ex.solution.strip() for ex in les.exercises.values())
        text = les.path.read_text(encoding="utf-8")
        assert "\n## Take-aways\n\n- " in text, f"{slug} has no take-away list"
        assert any(ex.check == "prediction" for ex in les.exercises.values()), slug


# ----------------------------------------------------------------------------- computed results


@pytest.mark.parametrize("ran", ["one-dimension"], indirect=True)
def test_c1_worked_step_is_computed_by_the_code(ran) -> None:  # type: ignore[no-untyped-def]
    _les, _kernel, outputs = ran
    printed = outputs["worked"]
    gradient = float(re.search(r"gradient at w = -1\.5: (\S+)", printed).group(1))  # type: ignore[union-attr]
    new_w = float(re.search(r"new w after one step: (\S+)", printed).group(1))  # type: ignore[union-attr]
    assert gradient == pytest.approx(-33.75, abs=1e-12)
    assert new_w == pytest.approx(-1.5 - 0.001 * gradient, abs=1e-12)
    assert new_w == pytest.approx(-1.46625, abs=1e-12)


@pytest.mark.parametrize("ran", ["one-dimension"], indirect=True)
def test_c1_tangent_reads_the_slope_at_the_start(ran, kernels: KernelService) -> None:  # type: ignore[no-untyped-def]
    les, kernel, _ = ran
    reply = drawn(kernels, kernel, les, "slope")
    assert reply.scalars["slope"] == pytest.approx(-33.75)


@pytest.mark.parametrize("ran", ["valleys-and-starting-points"], indirect=True)
def test_c2_the_start_decides_the_valley(ran, kernels: KernelService) -> None:  # type: ignore[no-untyped-def]
    les, kernel, _ = ran
    reply = drawn(kernels, kernel, les, "many-starts")
    ends = {round(v, 2) for k, v in reply.scalars.items() if k.startswith("last")}
    assert len(ends) >= 4, f"the starts should end in several valleys, got {ends}"
    left = drawn(kernels, kernel, les, "one-start", {"start": 0.5})
    right = drawn(kernels, kernel, les, "one-start", {"start": 0.6})
    assert left.scalars["last0"] == pytest.approx(-0.507, abs=1e-2)
    assert right.scalars["last0"] == pytest.approx(1.520, abs=1e-2)


@pytest.mark.parametrize("ran", ["learning-rate-too-big"], indirect=True)
def test_c3_largest_rate_diverges_and_a_small_one_converges(ran, kernels: KernelService) -> None:  # type: ignore[no-untyped-def]
    les, kernel, _ = ran
    top = les.sliders["learning_rate"].max
    wild = drawn(kernels, kernel, les, "yours", {"learning_rate": top})
    assert not np.isfinite(wild.scalars["last0"]), "the largest rate should be marked diverged"
    tame = drawn(kernels, kernel, les, "yours", {"learning_rate": 0.3})
    assert tame.scalars["last0"] == pytest.approx(1.0, abs=1e-6)
    # The four reference rates: crawl (not there yet), converge, oscillate (there), diverge.
    four = drawn(kernels, kernel, les, "four")
    crawl, converge, zigzag, blowup = (four.scalars[f"last{i}"] for i in range(4))
    assert 0.1 < abs(crawl - 1.0) < 3
    assert converge == pytest.approx(1.0, abs=1e-6)
    assert zigzag == pytest.approx(1.0, abs=1e-3)
    assert not np.isfinite(blowup)
    w = array(four.arrays["w2"])
    assert np.any(np.diff(np.sign(w - 1.0)) != 0), "α = 0.8 should cross the bottom (zigzag)"


@pytest.mark.parametrize("ran", ["checking-a-gradient"], indirect=True)
def test_c4_gradients_agree_once_the_numerical_one_is_written(ran, kernels: KernelService) -> None:  # type: ignore[no-untyped-def]
    les, kernel, outputs = ran
    assert "hand vs autograd:   0.0e+00" in outputs["compare"] or re.search(
        r"hand vs autograd:\s+\d\.\de-1[0-9]", outputs["compare"]
    )
    solved = kernels.run(kernel, les.exercises["central"].solution, "numerical")  # type: ignore[index]
    assert solved.ok, solved.error
    again = kernels.run(kernel, les.cells["compare"].code, "compare")  # type: ignore[index]
    assert again.ok, again.error
    errors = [float(v) for v in re.findall(r"vs numerical:\s+(\S+)", again.stdout)]
    assert len(errors) == 2 and max(errors) < 1e-7, again.stdout
    slip = kernels.run(kernel, les.cells["slip"].code, "slip")  # type: ignore[index]
    assert all(float(v) > 0.1 for v in re.findall(r"slipped vs \w+:\s+(\S+)", slip.stdout)), (
        slip.stdout
    )


@pytest.mark.parametrize("ran", ["learning-rate-and-batch-size"], indirect=True)
def test_c5_small_batches_are_noisier_and_timing_is_printed(ran, kernels: KernelService) -> None:  # type: ignore[no-untyped-def]
    les, kernel, _ = ran
    solved = kernels.run(kernel, les.exercises["batch-gradient"].solution, "yours")  # type: ignore[index]
    assert solved.ok, solved.error
    timing = kernels.run(kernel, les.cells["timing"].code, "timing")  # type: ignore[index]
    assert timing.ok, timing.error
    reply = drawn(kernels, kernel, les, "noise", {"batch_size": 1})
    small, full = array(reply.arrays["s0"]), array(reply.arrays["s1"])
    assert np.all(np.diff(full) <= 1e-12), "full-batch descent should never go up"
    assert np.sum(np.diff(small) > 0) > 20, "batch size 1 should bounce up and down"
    assert small[-50:].mean() > 10 * full[-50:].mean()
    assert len(re.findall(r"ms per epoch", timing.stdout)) == 4


@pytest.mark.parametrize("ran", ["learning-rate-schedules"], indirect=True)
def test_c6_decay_settles_the_end_of_training(ran, kernels: KernelService) -> None:  # type: ignore[no-untyped-def]
    les, kernel, _ = ran
    solved = kernels.run(kernel, les.exercises["step-decay"].solution, "schedules")  # type: ignore[index]
    assert solved.ok, solved.error
    rates = drawn(kernels, kernel, les, "rate-plot")
    step = array(rates.arrays["s1"])
    assert (
        step[0] == pytest.approx(0.2)
        and step[5] == pytest.approx(0.1)
        and step[10] == pytest.approx(0.05)
    )
    curves = drawn(kernels, kernel, les, "training-plot")
    constant = array(curves.arrays["s0"])[-5:].mean()
    step_decay, exponential, inverse = (
        array(curves.arrays[f"s{i}"])[-5:].mean() for i in (1, 2, 3)
    )
    assert step_decay < constant / 5 and exponential < constant / 5, (
        constant,
        step_decay,
        exponential,
    )
    assert inverse < constant / 2, (constant, inverse)


@pytest.mark.parametrize("ran", ["learning-rate-and-batch-size"], indirect=True)
def test_c7_double_batch_double_rate_gives_a_similar_curve(ran, kernels: KernelService) -> None:  # type: ignore[no-untyped-def]
    les, kernel, _ = ran
    gradient = kernels.run(kernel, les.exercises["batch-gradient"].solution, "yours")  # type: ignore[index]
    assert gradient.ok, gradient.error
    solved = kernels.run(kernel, les.exercises["scaling-rule"].solution, "rule")  # type: ignore[index]
    assert solved.ok, solved.error
    reply = drawn(kernels, kernel, les, "scaling")
    # Epochs 1 to 10, while the descent (not the noise floor at the end) shapes the curves.
    base, doubled, unchanged, yours = (
        np.log10(array(reply.arrays[f"s{i}"])[1:11]) for i in range(4)
    )
    assert np.max(np.abs(base - doubled)) < 0.3, (
        "B, α and 2B, 2α should follow nearly the same curve"
    )
    assert np.max(np.abs(base - yours)) < 0.3
    assert np.mean(unchanged - base) > 0.2, "keeping α with 2B should fall behind"


def final_distances(reply: KEvaluated, bottom: tuple[float, float]) -> dict[str, float]:
    names = reply.texts["names"]
    return {
        name: float(np.linalg.norm(array(reply.arrays[f"p{i}"])[-1] - np.array(bottom)))
        for i, name in enumerate(names)
    }


@pytest.mark.parametrize("ran", ["optimizers"], indirect=True)
def test_c8_momentum_and_adam_beat_sgd_on_both_landscapes(ran, kernels: KernelService) -> None:  # type: ignore[no-untyped-def]
    les, kernel, _ = ran
    for plot, bottom in (("valley-race", (0.0, 0.0)), ("banana-race", (1.0, 1.0))):
        reply = drawn(kernels, kernel, les, plot)
        distance = final_distances(reply, bottom)
        lengths = {len(array(reply.arrays[f"p{i}"])) for i in range(len(distance))}
        assert len(lengths) == 1, f"{plot}: every optimizer should take the same number of steps"
        assert set(distance) == {"SGD", "Momentum", "RMSprop", "Adam"}
        assert distance["Momentum"] < distance["SGD"] / 4, (plot, distance)
        assert distance["Adam"] < distance["SGD"] / 4, (plot, distance)


@pytest.mark.parametrize("ran", ["optimizers"], indirect=True)
def test_c8_a_learning_rate_too_big_is_labelled_not_a_crash(ran, kernels: KernelService) -> None:  # type: ignore[no-untyped-def]
    les, kernel, _ = ran
    values = {name: les.sliders[name].value for name in les.plots["banana-race"].sliders}  # type: ignore[index]
    values["sgd_lr_b"] = les.sliders["sgd_lr_b"].max
    reply = drawn(kernels, kernel, les, "banana-race", values)
    assert "SGD (blew up)" in reply.texts["names"]


@pytest.mark.parametrize("ran", ["optimizers"], indirect=True)
def test_c8_your_classes_follow_the_reference_once_solved(ran, kernels: KernelService) -> None:  # type: ignore[no-untyped-def]
    les, kernel, _ = ran
    for ex in ("momentum", "adam"):
        solved = kernels.run(kernel, les.exercises[ex].solution, "yours")  # type: ignore[index]
        assert solved.ok, solved.error
    reply = drawn(kernels, kernel, les, "your-race")
    paths = [array(reply.arrays[f"p{i}"]) for i in range(4)]
    np.testing.assert_allclose(paths[1], paths[0], atol=1e-12)
    np.testing.assert_allclose(paths[3], paths[2], atol=1e-12)


# ----------------------------------------------------------------------------- targeted messages

MISTAKES: dict[tuple[str, str], list[tuple[str, str]]] = {
    ("one-dimension", "predict-shelf"): [('after_200 = "valley"', 'The run says "shelf"')],
    ("valleys-and-starting-points", "predict-valley"): [("valley_of_start = 1.52", "says -0.51")],
    ("learning-rate-too-big", "predict-overshoot"): [
        ('at_point_nine = "diverges"', 'The run says "settles"')
    ],
    ("checking-a-gradient", "predict-slip"): [
        ('slipped_direction = "uphill"', 'The run says "downhill"')
    ],
    ("learning-rate-and-batch-size", "predict-scaling"): [
        ('doubled = "behind"', 'The run says "same"')
    ],
    ("learning-rate-schedules", "predict-decay"): [
        ('fast_decay = "exponential"', 'The run says "constant"')
    ],
    ("optimizers", "predict-map"): [("survives_at_07 = False", "The map says True")],
    ("one-dimension", "one-step"): [
        ("def step(w, learning_rate):\n    return w + learning_rate * dL(w)", "goes uphill"),
        ("def step(w, learning_rate):\n    return w - dL(w)", "forgot the learning rate"),
        (
            "def step(w, learning_rate):\n    return w - learning_rate * (w**3 - 3 * w**2)",
            "missing its factors",
        ),
        ("def step(w, learning_rate):\n    return w - learning_rate * L(w)", "height of the curve"),
    ],
    ("valleys-and-starting-points", "restart"): [
        ("def best_of(starts):\n    return min(starts, key=L)", "one of the starting points"),
        (
            "def best_of(starts):\n    return max([descend(s)[-1] for s in starts], key=L)",
            "ended *highest*",
        ),
        ("def best_of(starts):\n    return min(L(descend(s)[-1]) for s in starts)", "lowest loss"),
    ],
    ("learning-rate-too-big", "shrink-factor"): [
        ("def factor(learning_rate):\n    return 1 - learning_rate", "factor 2 is missing"),
        ("def factor(learning_rate):\n    return 1 + 2 * learning_rate", "sign is flipped"),
    ],
    ("learning-rate-too-big", "edge"): [
        ("def largest_rate(curvature):\n    return 1 / curvature", "lands exactly on the bottom"),
        ("def largest_rate(curvature):\n    return curvature / 2", "Upside down"),
    ],
    ("checking-a-gradient", "central"): [
        (
            "def numerical_gradient(f, params, h=1e-5):\n"
            "    out = []\n"
            "    for i in range(len(params)):\n"
            "        ahead = list(params)\n"
            "        ahead[i] += h\n"
            "        out.append((f(ahead) - f(params)) / h)\n"
            "    return out",
            "forward difference",
        ),
        (
            "def numerical_gradient(f, params, h=1e-5):\n"
            "    out = []\n"
            "    for i in range(len(params)):\n"
            "        ahead, behind = list(params), list(params)\n"
            "        ahead[i] += h\n"
            "        behind[i] -= h\n"
            "        out.append((f(ahead) - f(behind)) / h)\n"
            "    return out",
            "twice too big",
        ),
        (
            "def numerical_gradient(f, params, h=1e-5):\n"
            "    out = []\n"
            "    for i in range(len(params)):\n"
            "        ahead, behind = list(params), list(params)\n"
            "        ahead[i] += h\n"
            "        behind[i] -= h\n"
            "        out.append((f(ahead) - f(behind)) / 2 * h)\n"
            "    return out",
            "Brackets",
        ),
        (
            "def numerical_gradient(f, params, h=1e-5):\n"
            "    ahead = [p + h for p in params]\n"
            "    behind = [p - h for p in params]\n"
            "    return [(f(ahead) - f(behind)) / (2 * h) for _ in params]",
            "every parameter at once",
        ),
        (
            "def numerical_gradient(f, params, h=1e-5):\n"
            "    out = []\n"
            "    for i in range(len(params)):\n"
            "        params[i] += h\n"
            "        up = f(params)\n"
            "        params[i] -= 2 * h\n"
            "        out.append((up - f(params)) / (2 * h))\n"
            "    return out",
            "changed the list",
        ),
    ],
    ("learning-rate-and-batch-size", "batch-gradient"): [
        (
            "def batch_gradient(w, b, xb, yb):\n    r = w * xb + b - yb\n"
            "    return 2 * np.sum(r * xb), 2 * np.sum(r)",
            "summed over the batch",
        ),
        (
            "def batch_gradient(w, b, xb, yb):\n    r = w * xb + b - yb\n"
            "    return np.mean(r * xb), np.mean(r)",
            "factor 2 is missing",
        ),
        (
            "def batch_gradient(w, b, xb, yb):\n    r = yb - (w * xb + b)\n"
            "    return 2 * np.mean(r * xb), 2 * np.mean(r)",
            "sign is flipped",
        ),
        (
            "def batch_gradient(w, b, xb, yb):\n    r = w * x + b - y\n"
            "    return 2 * np.mean(r * x), 2 * np.mean(r)",
            "ignores the batch",
        ),
    ],
    ("learning-rate-schedules", "step-decay"): [
        (
            "def step_decay(t, alpha0, every):\n    return alpha0 * 0.5 ** ((t + 1) // every)",
            "Off by one",
        ),
        (
            "def step_decay(t, alpha0, every):\n    return alpha0 * 0.5 ** (t // every + 1)",
            "already halved",
        ),
        (
            "def step_decay(t, alpha0, every):\n    return alpha0 * 0.5 ** (t / every)",
            "integer division",
        ),
        ("def step_decay(t, alpha0, every):\n    return alpha0 * 0.5 ** t", "halve every epoch"),
        ("def step_decay(t, alpha0, every):\n    return alpha0", "never changes"),
    ],
    ("learning-rate-and-batch-size", "scaling-rule"): [
        (
            "def scaled_rate(base_lr, base_batch, new_batch):\n"
            "    return base_lr * base_batch / new_batch",
            "Upside down",
        ),
        (
            "def scaled_rate(base_lr, base_batch, new_batch):\n"
            "    return base_lr * (new_batch / base_batch) ** 0.5",
            "square-root rule",
        ),
    ],
    ("optimizers", "momentum"): [
        (
            "class MyMomentum:\n"
            "    def __init__(self, lr, beta=0.9):\n"
            "        self.lr, self.beta, self.v = lr, beta, 0.0\n"
            "    def step(self, p, g):\n"
            "        p = p - self.lr * self.v\n"
            "        self.v = self.beta * self.v + g\n"
            "        return p",
            "update order is wrong",
        ),
        (
            "class MyMomentum:\n"
            "    def __init__(self, lr, beta=0.9):\n"
            "        self.lr, self.beta, self.v = lr, beta, 0.0\n"
            "    def step(self, p, g):\n"
            "        self.v = self.beta * self.v + (1 - self.beta) * g\n"
            "        return p - self.lr * self.v",
            "averaged form",
        ),
        (
            "class MyMomentum:\n"
            "    def __init__(self, lr, beta=0.9):\n"
            "        self.lr, self.beta, self.v = lr, beta, 0.0\n"
            "    def step(self, p, g):\n"
            "        v = self.beta * self.v + g\n"
            "        return p - self.lr * v",
            "plain SGD steps",
        ),
    ],
    ("optimizers", "adam"): [
        (
            "class MyAdam:\n"
            "    def __init__(self, lr, beta1=0.9, beta2=0.999, eps=1e-8):\n"
            "        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps\n"
            "        self.m, self.s = 0.0, 0.0\n"
            "    def step(self, p, g):\n"
            "        self.m = self.beta1 * self.m + (1 - self.beta1) * g\n"
            "        self.s = self.beta2 * self.s + (1 - self.beta2) * g * g\n"
            "        return p - self.lr * self.m / (np.sqrt(self.s) + self.eps)",
            "without its bias correction",
        ),
        (
            "class MyAdam:\n"
            "    def __init__(self, lr, beta1=0.9, beta2=0.999, eps=1e-8):\n"
            "        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps\n"
            "        self.m, self.s, self.t = 0.0, 0.0, 0\n"
            "    def step(self, p, g):\n"
            "        self.m = self.beta1 * self.m + (1 - self.beta1) * g\n"
            "        self.s = self.beta2 * self.s + (1 - self.beta2) * g * g\n"
            "        m_hat = self.m / (1 - self.beta1 ** self.t)\n"
            "        s_hat = self.s / (1 - self.beta2 ** self.t)\n"
            "        self.t += 1\n"
            "        return p - self.lr * m_hat / (np.sqrt(s_hat) + self.eps)",
            "division by zero",
        ),
        (
            "class MyAdam:\n"
            "    def __init__(self, lr, beta1=0.9, beta2=0.999, eps=1e-8):\n"
            "        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps\n"
            "        self.m, self.s, self.t = 0.0, 0.0, 1\n"
            "    def step(self, p, g):\n"
            "        self.m = self.beta1 * self.m + (1 - self.beta1) * g\n"
            "        self.s = self.beta2 * self.s + (1 - self.beta2) * g * g\n"
            "        m_hat = self.m / (1 - self.beta1 ** self.t)\n"
            "        s_hat = self.s / (1 - self.beta2 ** self.t)\n"
            "        return p - self.lr * m_hat / (np.sqrt(s_hat) + self.eps)",
            "never fades",
        ),
    ],
}


def test_every_track_c_exercise_has_mistakes_to_recognise(catalogue: Catalogue) -> None:
    exercises = {(slug, ex) for slug in TRACK_C for ex in lesson(catalogue, slug).exercises}
    assert exercises == set(MISTAKES)


@pytest.mark.parametrize(("slug", "exercise"), sorted(MISTAKES))
def test_exercise_names_the_mistake(
    slug: str, exercise: str, catalogue: Catalogue, kernels: KernelService
) -> None:
    les = lesson(catalogue, slug)
    ex = les.exercises[exercise]  # type: ignore[index]
    kernel = kernels.kernel()
    try:
        for reply in kernels.run_lesson(kernel, les):
            assert reply.ok, reply.error
        start = kernels.check(kernel, les, exercise)
        assert not start.passed, f"{slug}/{exercise} passes before the learner did anything"
        for code, words in MISTAKES[(slug, exercise)]:
            wrong = kernels.run(kernel, code, ex.cell)
            assert wrong.ok, wrong.error
            verdict = kernels.check(kernel, les, exercise)
            assert not verdict.passed, f"{slug}/{exercise} accepted:\n{code}"
            assert words in verdict.message, (
                f"{slug}/{exercise}: {verdict.message!r} lacks {words!r}"
            )
        solved = kernels.run(kernel, ex.solution, ex.cell)
        assert solved.ok, solved.error
        verdict = kernels.check(kernel, les, exercise)
        assert verdict.passed, verdict.message
    finally:
        kernels.release(kernel)
