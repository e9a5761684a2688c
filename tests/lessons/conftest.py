from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.content.loader import load_catalogue
from app.content.model import Catalogue
from tests.lessons.harness import KernelService

LESSONS = Path(__file__).resolve().parents[2] / "lessons"


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue(LESSONS)


@pytest.fixture(scope="session")
def kernels() -> Iterator[KernelService]:
    service = KernelService()
    yield service
    service.stop()
