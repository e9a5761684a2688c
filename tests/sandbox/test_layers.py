"""The sandbox's layers as such: what the host lacks and weak mode, the identity the sandbox
runs as, the command line of the outer layer, the supervisor's distrust of replies, its words
for every death, the server-full cap and a zygote that dies."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import psutil
import pytest

from app.config import ROOT, Settings
from app.kernel.confine import memory_words
from app.kernel.zygote import EXIT_MEMORY, EXIT_RUNTIME, EXIT_SANDBOX
from app.protocol import Array, KEvaluated, KExec, KExecDone, KHello
from app.supervisor import KernelDied, SandboxRefused, ServerFull, Supervisor
from app.supervisor.replies import death_message, reply_problem
from app.supervisor.sandbox import (
    Layers,
    inside,
    kernel_limits,
    sandbox_identity,
    zygote_command,
    zygote_environment,
)
from sandbox.kit import OUTPUT_LIMIT, ids, python_error, run_ok, sandbox_processes

pytestmark = pytest.mark.sandbox
session_loop = pytest.mark.asyncio(loop_scope="session")

COMPLETE = Layers(bubblewrap=True, namespaces=True, seccomp=True)


def host_uid() -> int:
    identity = sandbox_identity()
    return identity.uid if identity else os.geteuid()


# ------------------------------------------------------------------ missing layers, weak mode


@session_loop
@pytest.mark.parametrize(
    ("layers", "named"),
    [
        (
            Layers(bubblewrap=False, namespaces=False, seccomp=True),
            "bubblewrap (the bwrap program)",
        ),
        (Layers(bubblewrap=True, namespaces=False, seccomp=True), "user namespaces"),
        (Layers(bubblewrap=True, namespaces=True, seccomp=False), "seccomp filters"),
    ],
)
async def test_missing_layer_is_named_and_refused(layers: Layers, named: str) -> None:
    sup = Supervisor(Settings(sandbox="strict"), layers)
    assert named in sup.refused and "DESCENT_SANDBOX=weak" in sup.refused
    assert "trusted single-user installs only" in sup.refused
    await sup.start()
    try:
        assert sup.zygote.proc is None  # nothing of the learner's side was started
        with pytest.raises(SandboxRefused) as info:
            await sup.acquire()
        assert str(info.value) == sup.refused
    finally:
        await sup.stop()


@session_loop
async def test_weak_mode_runs_without_namespaces() -> None:
    layers = Layers(bubblewrap=True, namespaces=False, seccomp=True)
    sup = Supervisor(Settings(sandbox="weak", device="cpu"), layers)
    assert sup.refused == ""
    await sup.start()
    try:
        kernel = await sup.acquire()
        assert await run_ok(kernel, "print(1 + 1)") == "2\n"
        # What weak mode gives up: the host's /proc is in view. Seccomp still holds.
        assert await run_ok(kernel, "import os\nprint(len(os.listdir('/proc')) > 3)") == "True\n"
        assert (await run_ok(kernel, "import os\nprint(os.getuid())")).strip() == str(host_uid())
        reply = await kernel.request(
            KExec(next(ids), "c", "import socket\nsocket.socket()", OUTPUT_LIMIT), 5.0, "5 s"
        )
        assert isinstance(reply, KExecDone)
        assert python_error(reply.error).endswith(
            "PermissionError: [Errno 1] Operation not permitted"
        )
    finally:
        await sup.stop()


# ------------------------------------------------------------------ the outer layer


def test_zygote_command_binds_only_what_a_kernel_needs() -> None:
    cmd = zygote_command(Settings(device="cpu"), COMPLETE, 9)
    python = inside(sys.executable)
    assert cmd[0] == "bwrap" and cmd[-4:] == [python, "-m", "app.kernel.zygote", "9"]
    for flag in ("--unshare-all", "--die-with-parent", "--new-session", "--clearenv"):
        assert flag in cmd
    assert cmd[cmd.index("--cap-drop") + 1] == "ALL"
    joined = " ".join(cmd)
    assert "--remount-ro / " in joined and "--remount-ro /dev" in joined
    sources = [cmd[i + 1] for i, a in enumerate(cmd) if a in ("--ro-bind", "--bind", "--dev-bind")]
    assert "--bind" not in cmd  # nothing of the host is writable
    assert str(ROOT) not in sources and str(ROOT / "app") not in sources
    for hidden in ("app/config.py", "app/web", "app/content", "app/session", "app/server.py",
                   "app/supervisor", "data"):  # fmt: skip
        assert str(ROOT / hidden) not in sources, hidden
    # The lesson bundles are bound read-only: a kernel loads their checks.py from there.
    assert str((ROOT / "lessons").resolve()) in sources
    assert [s for s in sources if s.startswith("/etc")] in ([], ["/etc/ld.so.cache"])
    assert not any(k.startswith("DESCENT") for k in zygote_environment())


def test_gpu_nodes_only_when_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    layers = COMPLETE
    monkeypatch.setattr("glob.glob", lambda pattern: [])
    assert kernel_limits(Settings(device="auto"), layers).device == "cpu"
    nodes = ["/dev/nvidia0", "/dev/nvidiactl", "/dev/nvidia-uvm"]
    monkeypatch.setattr("glob.glob", lambda pattern: nodes)
    assert kernel_limits(Settings(device="cpu"), layers).device == "cpu"
    assert kernel_limits(Settings(device="auto"), layers).device == "auto"
    cmd = zygote_command(Settings(device="auto"), layers, 9)
    for node in nodes:
        i = cmd.index(node)
        assert cmd[i - 1] == "--dev-bind" and cmd[i + 1] == node
    assert "--dev-bind" not in zygote_command(Settings(device="cpu"), layers, 9)


@session_loop
async def test_sandbox_identity(sup: Supervisor) -> None:
    """As root the sandbox runs as nobody where it can; never as the server's uid 0 then."""
    assert sup.zygote.started is not None
    await asyncio.wait_for(asyncio.shield(sup.zygote.started), 60)  # the zygote is warm
    assert sup.zygote.host_pid is not None
    uids = {psutil.Process(pid).uids().real for pid in sandbox_processes(sup)}
    uids.add(psutil.Process(sup.zygote.host_pid).uids().real)
    assert uids == {host_uid()}
    if os.geteuid() == 0 and sandbox_identity() is not None:
        assert 0 not in uids


# ------------------------------------------------------------------ distrust and words


def test_replies_are_checked_against_their_request() -> None:
    req = KExec(7, "c", "1", 10)
    good = KExecDone(7, True, "out", "", "", 0, False, False)
    assert reply_problem(req, good) == ""
    assert "request 8" in reply_problem(req, KExecDone(8, True, "", "", "", 0, False, False))
    assert "KHello" in reply_problem(req, KHello("cpu"))
    assert "output" in reply_problem(req, KExecDone(7, True, "x" * 11, "", "", 0, False, False))
    assert "characters" in reply_problem(
        req, KExecDone(7, False, "", "", "e" * 20_000, 0, False, False)
    )
    ev = KExec(3, "c", "", 10)
    bad_bytes = KEvaluated(3, {"y": Array([2, 2], b"\0" * 8)}, {}, "")
    assert "carries 8 bytes" in reply_problem(ev, bad_bytes)
    bad_shape = KEvaluated(3, {"y": Array([-1], b"")}, {}, "")
    assert "shape" in reply_problem(ev, bad_shape)
    assert (
        reply_problem(ev, KEvaluated(3, {"y": Array([2], b"\0" * 16)}, {"loss": float("nan")}, ""))
        == ""
    )


def test_every_death_has_words() -> None:
    s = Settings(kernel_memory_mb=300, kernel_cpu_s=60, tmp_mb=8)
    expected = {
        -signal.SIGSEGV: ("crash", "crashed the kernel"),
        -signal.SIGXCPU: ("cpu", "more than 60 s of CPU time"),
        -signal.SIGSYS: ("forbidden", "system call that the sandbox forbids"),
        -signal.SIGXFSZ: ("disk", "larger than 8 MB"),
        -signal.SIGKILL: ("killed", "ran short of memory"),
        EXIT_MEMORY: ("memory", "more than 300 MB of memory"),
        EXIT_SANDBOX: ("sandbox", "Tell your teacher"),
        EXIT_RUNTIME: ("channel", "lost its connection"),
        -signal.SIGABRT: ("signal", "SIGABRT"),
        3: ("exit", "exit code 3"),
    }
    for code, (reason, words) in expected.items():
        got = death_message(code, s)
        assert got[0] == reason and words in got[1], (code, got)
    assert death_message(EXIT_MEMORY, s)[1] == memory_words(300)


# ------------------------------------------------------------------ lifecycle


@session_loop
async def test_server_full(sup: Supervisor, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sup.settings, "max_kernels", len([k for k in sup.live if not k.dead]))
    with pytest.raises(ServerFull) as info:
        await sup.acquire()
    assert str(info.value).startswith(f"The server is full: {sup.settings.max_kernels} learners")


@session_loop
async def test_zygote_death_is_survived() -> None:
    sup = Supervisor(Settings(device="cpu"), COMPLETE)
    await sup.start()
    try:
        kernel = await sup.acquire()
        assert sup.zygote.host_pid is not None
        os.kill(sup.zygote.host_pid, signal.SIGKILL)
        await asyncio.wait_for(asyncio.shield(kernel.exited), 10.0)  # its kernels go with it
        with pytest.raises(KernelDied) as info:
            await kernel.request(KExec(next(ids), "c", "1", OUTPUT_LIMIT), 5.0, "5 s")
        assert info.value.reason == "killed"
        fresh = await asyncio.wait_for(sup.acquire(), 30.0)  # a new zygote, a new kernel
        assert await run_ok(fresh, "print('back')") == "back\n"
    finally:
        await sup.stop()
