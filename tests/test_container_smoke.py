"""The Docker image, built and run for real: `scripts/smoke_container.sh` under pytest.

Where docker or podman answers, the script builds the image (minutes the first time: torch is a
large download), runs it with the options of deploy/README.md, and checks a lesson page and a
slider round trip over the WebSocket from a sandboxed kernel. Where neither answers, the test is
skipped with the script's own reason. `SKIP_CONTAINER_SMOKE=1` skips it on purpose. The build
reads EXTRA_CA_CERTS, TORCH_VARIANT, TORCH_INDEX_URL and SMOKE_* from the environment (see the
script).

The other two tests check the script's behaviour without an engine, quickly, everywhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "smoke_container.sh"
BUILD_AND_RUN_TIMEOUT_S = 45 * 60
SKIPPED = "smoke: SKIPPED: "
BASH = shutil.which("bash") or "/bin/bash"


def run_script(
    env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BASH, str(SCRIPT)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def bin_dir_without_engines(tmp_path: Path, fake_engine: str | None = None) -> dict[str, str]:
    """An environment whose PATH has the few tools the script needs before it looks for an
    engine, and no docker or podman (or one that is installed but does not answer)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("dirname", "head", "timeout", "sed", "tail", "printf"):
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    if fake_engine:
        engine = bin_dir / fake_engine
        engine.write_text("#!/bin/sh\necho 'Cannot connect to the daemon' >&2\nexit 1\n")
        engine.chmod(0o755)
    return {"PATH": str(bin_dir), "HOME": str(tmp_path)}


def test_without_an_engine_the_script_says_so_and_succeeds(tmp_path: Path) -> None:
    proc = run_script(bin_dir_without_engines(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{SKIPPED}neither docker nor podman is installed" in proc.stdout


def test_an_engine_that_does_not_answer_counts_as_none(tmp_path: Path) -> None:
    proc = run_script(bin_dir_without_engines(tmp_path, fake_engine="docker"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{SKIPPED}found docker, but no container engine answers" in proc.stdout


def test_an_unreachable_registry_skips_instead_of_failing(tmp_path: Path) -> None:
    """An engine that works but cannot pull the base image: a skip with the reason, and no
    build is tried (so an absent registry never reads as a broken image)."""
    env = bin_dir_without_engines(tmp_path)
    calls = tmp_path / "calls"
    engine = Path(env["PATH"]) / "podman"
    engine.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> {calls}\n'
        'case "$1" in\n'
        "  info|--version) echo podman version 4; exit 0 ;;\n"
        "  image) exit 1 ;;\n"
        "  pull) echo 'Error: dial tcp: lookup registry-1.docker.io: no such host' >&2\n"
        "        exit 125 ;;\n"
        "  *) exit 3 ;;\n"
        "esac\n"
    )
    engine.chmod(0o755)
    proc = run_script(env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{SKIPPED}podman works, but the base image python:3.11-slim-bookworm" in proc.stdout
    assert "lookup registry-1.docker.io: no such host" in proc.stdout
    assert not any(line.startswith("build") for line in calls.read_text().splitlines())


def test_image_builds_runs_and_answers_a_slider() -> None:
    if os.environ.get("SKIP_CONTAINER_SMOKE") == "1":
        pytest.skip("SKIP_CONTAINER_SMOKE=1")
    proc = run_script(timeout=BUILD_AND_RUN_TIMEOUT_S)
    output = proc.stdout + proc.stderr
    skipped = [line for line in proc.stdout.splitlines() if line.startswith(SKIPPED)]
    if proc.returncode == 0 and skipped:
        pytest.skip(skipped[0].removeprefix(SKIPPED))
    assert proc.returncode == 0, f"scripts/smoke_container.sh failed:\n{output[-12000:]}"
    assert "smoke: PASSED" in proc.stdout, output[-12000:]
