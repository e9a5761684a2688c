"""The start-up probe of the sandbox's layers: a transient failure is tried again, the reason of
a real one is kept and shown by /healthz, and a server restarted many times on a host with every
layer never comes up refusing learner code."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from live_server import start_server

from app.supervisor import sandbox
from app.supervisor.sandbox import Layers, probe_layers

pytestmark = pytest.mark.sandbox


@pytest.fixture
def no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "PROBE_PAUSE_S", 0.0)


def flaky(failures: int, why: str) -> Iterator[tuple[bool, str]]:
    for _ in range(failures):
        yield False, why
    while True:
        yield True, ""


@pytest.mark.usefixtures("no_pause")
def test_a_transient_failure_is_tried_again(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    answers = flaky(2, "TimeoutExpired: the probe timed out after 30 seconds")
    monkeypatch.setattr(sandbox, "_seccomp_works", lambda: next(answers))
    layers = probe_layers()
    if not (layers.bubblewrap and layers.namespaces):
        pytest.skip("this host lacks bubblewrap or user namespaces")
    assert layers.complete and layers.problems == {}
    assert "passed on attempt 3 after: TimeoutExpired" in caplog.text


@pytest.mark.usefixtures("no_pause")
def test_a_lasting_failure_keeps_its_reason(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(sandbox, "_seccomp_works", lambda: (False, "libseccomp.so.2: not found"))
    layers = probe_layers()
    assert not layers.seccomp
    assert layers.problems["seccomp filters"] == "libseccomp.so.2: not found"
    assert "seccomp filters cannot be loaded: libseccomp.so.2: not found" in caplog.text


def test_a_missing_bwrap_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    layers = probe_layers(attempts=1)
    assert layers.problems["bubblewrap (the bwrap program)"].startswith("no bwrap program")
    assert Layers(True, True, True) == Layers(True, True, True, {"seccomp": "ignored"})


def test_a_restarted_server_never_comes_up_refused(tmp_path: Path) -> None:
    if not probe_layers().complete:
        if os.environ.get("CI"):
            pytest.fail("this host lacks sandbox layers")
        pytest.skip("this host lacks sandbox layers")
    # Load the machine as a test run does: every other core busy while the server starts.
    burners = [os.fork() for _ in range(max(1, (os.cpu_count() or 2) - 1))]
    if 0 in burners:  # pragma: no cover - the child spins until it is killed
        while True:
            pass
    try:
        for attempt in range(8):
            server = start_server(
                tmp_path / f"server-{attempt}.log", env={"DESCENT_SANDBOX": "strict"}
            )
            try:
                health = server.health()
                assert health["sandbox"] == "strict", (attempt, health, server.log())
                assert health["missing_layers"] == [] and health["layer_problems"] == {}
            finally:
                server.stop()
    finally:
        for pid in burners:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
