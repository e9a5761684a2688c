"""Kernels forked from one zygote draw different random numbers, and a lesson that seeds its
generators still gets the same numbers every time."""

from __future__ import annotations

import pytest

from app.supervisor import Supervisor
from sandbox.kit import run_ok

pytestmark = [pytest.mark.sandbox, pytest.mark.asyncio(loop_scope="session")]

DRAW = (
    "import random, numpy as np, torch\n"
    "print(random.random(), float(np.random.rand()), float(torch.rand(1)))"
)
SEEDED = (
    "import random, numpy as np, torch\n"
    "random.seed(7)\nnp.random.seed(7)\ntorch.manual_seed(7)\n"
    "print(random.random(), float(np.random.rand()), float(torch.rand(1)))"
)


async def test_two_kernels_draw_different_numbers(sup: Supervisor) -> None:
    kernels = [await sup.acquire() for _ in range(3)]
    try:
        draws = [(await run_ok(k, DRAW)).split() for k in kernels]
    finally:
        for k in kernels:
            await sup.release(k)
    for source in range(3):  # Python's, numpy's and torch's generator each differ
        assert len({d[source] for d in draws}) == 3, draws


async def test_a_lesson_that_seeds_gets_its_seed(sup: Supervisor) -> None:
    kernels = [await sup.acquire() for _ in range(2)]
    try:
        draws = [await run_ok(k, SEEDED) for k in kernels]
    finally:
        for k in kernels:
            await sup.release(k)
    assert draws[0] == draws[1]
