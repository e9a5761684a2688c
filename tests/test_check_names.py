"""The web process knows the checks from their source without importing or running them (they
import torch, and a lesson's checks.py runs only in kernels); what it reads is what the kernel
registers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.content.check_source import read_checks, toolkit_checks
from app.kernel.checks import CHECKS
from app.kernel.checks.bundles import bundle_checks

LESSONS = Path(__file__).resolve().parent.parent / "lessons"
BUNDLES = sorted(p.parent for p in LESSONS.glob("*/checks.py"))


def test_names_read_from_source_match_the_registered_checks() -> None:
    assert frozenset(toolkit_checks()) == frozenset(CHECKS)


@pytest.mark.parametrize("bundle", BUNDLES, ids=[b.name for b in BUNDLES])
def test_a_bundles_checks_read_from_source_match_what_the_kernel_loads(bundle: Path) -> None:
    assert set(read_checks(bundle / "checks.py")) == set(bundle_checks(str(bundle)))


def test_the_web_process_does_not_load_torch() -> None:
    code = (
        "import sys\n"
        "from app.config import Settings\n"
        "from app.server import create_app\n"
        "create_app(Settings())\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_web_process_never_imports_a_check() -> None:
    """Loading every lesson reads the checks' source; no check module is imported or run."""
    code = (
        "import sys\n"
        "from app.config import Settings\n"
        "from app.server import create_app\n"
        "create_app(Settings())\n"
        "print(sorted(m for m in sys.modules if 'checks' in m))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
