from __future__ import annotations

import pytest
import torch

from app.engine.device import choose_device, describe_device


def test_cpu_setting_gives_cpu_without_asking_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> bool:
        raise AssertionError("choose_device('cpu') must not query CUDA")

    monkeypatch.setattr(torch.cuda, "is_available", refuse)
    assert choose_device("cpu") == "cpu"


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_setting_without_a_gpu_raises_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no usable GPU"):
        choose_device("cuda")


@pytest.mark.parametrize(("available", "expected"), [(True, "cuda"), (False, "cpu")])
def test_auto_setting_uses_the_gpu_only_when_there_is_one(
    monkeypatch: pytest.MonkeyPatch, available: bool, expected: str
) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: available)
    assert choose_device("auto") == expected


def test_unknown_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="auto, cpu, cuda"):
        choose_device("tpu")


def test_cpu_is_described_as_cpu() -> None:
    assert describe_device("cpu") == "CPU"
