"""The web process knows the check names without importing the checks (they import torch)."""

from __future__ import annotations

import subprocess
import sys

from app.content.check_names import check_names
from app.kernel.check_registry import CHECKS


def test_names_read_from_source_match_the_registered_checks() -> None:
    assert check_names() == frozenset(CHECKS)


def test_the_web_process_does_not_load_torch() -> None:
    code = (
        "import sys\n"
        "from app.config import Settings\n"
        "from app.web.app import create_app\n"
        "create_app(Settings())\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
