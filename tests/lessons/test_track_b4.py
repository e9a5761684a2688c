"""Lesson B4: gradients averaged over four worker processes with torch.distributed (gloo), in a
kernel started with the lesson's sandbox allowance, give the parameters of single-process
training."""

from __future__ import annotations

from app.content.model import Catalogue
from tests.lessons.harness import KernelService

SLUG = "data-parallel-training"


def test_parallel_training_equals_single_process(
    catalogue: Catalogue, kernels: KernelService
) -> None:
    lesson = catalogue.get(SLUG)
    assert lesson is not None and lesson.sandbox is not None
    assert (lesson.sandbox.processes, lesson.sandbox.loopback) == (4, True)
    kernel = kernels.kernel(lesson.sandbox)
    try:
        for reply in kernels.run_lesson(kernel, lesson):
            assert reply.ok, reply.error
        check = (
            "assert len(results) == WORLD_SIZE == 4\n"
            "assert sorted(n for *_, n in results) == [128] * 4\n"
            "for _, w, b, _ in results:\n"
            "    assert abs(w - single_w) < 1e-6 and abs(b - single_b) < 1e-6, (w, b)\n"
            "assert abs(single_w - 2.0) < 0.05\n"
            "print(f'{difference:.1e} {seconds:.2f}')"
        )
        reply = kernels.run(kernel, check)
        assert reply.ok, reply.error
        difference, seconds = map(float, reply.stdout.split())
        assert difference < 1e-6
        assert seconds < 5.0
    finally:
        kernels.release(kernel)


def test_without_the_allowance_the_workers_cannot_start(
    catalogue: Catalogue, kernels: KernelService
) -> None:
    lesson = catalogue.get(SLUG)
    assert lesson is not None
    kernel = kernels.kernel()  # a pooled kernel: no allowance
    try:
        replies = kernels.run_lesson(kernel, lesson)
        assert replies[0].ok
        parallel = list(lesson.cells).index("parallel")  # the first cell that starts workers
        assert all(reply.ok for reply in replies[:parallel])
        assert not replies[parallel].ok and "Operation not permitted" in replies[parallel].error
    finally:
        kernels.release(kernel)
