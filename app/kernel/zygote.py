"""The warm zygote: imports numpy and torch once, then forks a kernel per session in
milliseconds. It runs inside bubblewrap; its control socket's fd is its one argument. It never
touches CUDA, since CUDA does not survive a fork; a kernel initialises the GPU itself on first
use."""

from __future__ import annotations

import contextlib
import gc
import os
import selectors
import signal
import socket
import sys
from types import FrameType

import msgspec

from app.kernel.channel import (
    EXIT_MEMORY,
    EXIT_RUNTIME,
    EXIT_SANDBOX,
    HEADER,
    ChannelClosed,
    frame_size,
    send_frame,
)
from app.protocol import (
    KFailed,
    Limits,
    ZExited,
    ZReady,
    ZSignal,
    ZSpawn,
    ZSpawned,
    reply_encoder,
    zygote_request_decoder,
)


def warm_up() -> None:
    """Import and exercise what every kernel uses, so a forked kernel pays none of it."""
    import numpy as np
    import torch

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    a = torch.randn(16, 16, requires_grad=True, dtype=torch.float64)
    (torch.sigmoid(a @ a).sum()).backward()  # type: ignore[no-untyped-call]
    torch.func.vmap(lambda t: (t * t).sum())(torch.ones(4, 3))
    np.linalg.lstsq(np.ones((4, 2)), np.arange(4.0), rcond=None)
    # The first torch.optim optimizer imports torch._dynamo (2 to 3 s): pay it here, once. That
    # import sets variables in the environment; learner code sees only the sandbox's own.
    environment = dict(os.environ)
    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1).step()
    os.environ.clear()
    os.environ.update(environment)
    import pyseccomp  # noqa: F401  (loads libseccomp before any address-space limit)

    import app.engine.device
    import app.engine.gradients
    import app.engine.grid
    import app.kernel.checks
    import app.kernel.confine
    import app.kernel.runtime
    import app.plots.registry  # noqa: F401


def interrupt_learner_code(signum: int, frame: FrameType | None) -> None:
    """SIGINT becomes KeyboardInterrupt only while learner code is on the stack. Arriving while
    the runtime reads a request or writes a reply, it is dropped, so a frame is never cut in
    half; the supervisor repeats an interrupt until the reply comes or the deadline kills."""
    from app.kernel.runtime import CELL_PREFIX

    while frame is not None:
        if frame.f_code.co_filename.startswith(CELL_PREFIX):
            raise KeyboardInterrupt
        frame = frame.f_back


def reseed() -> None:
    """Every kernel is a fork of one zygote and would draw the same "random" numbers as every
    other: seed Python's, numpy's and torch's global generators afresh from the system's entropy.
    A lesson that seeds them itself still gets its own seed."""
    import random

    import numpy as np
    import torch

    random.seed(os.urandom(32))
    np.random.seed(int.from_bytes(os.urandom(4), "little"))
    torch.manual_seed(int.from_bytes(os.urandom(8), "little") & ((1 << 63) - 1))


def run_kernel(channel: socket.socket, limits: Limits) -> None:
    """In the forked child: confine, then serve requests; never return to the zygote's loop."""
    code = EXIT_SANDBOX
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, interrupt_learner_code)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-large file is an OSError to read
        signal.set_wakeup_fd(-1)
        from app.kernel.confine import confine, libc
        from app.kernel.runtime import serve

        reseed()
        libc.prctl(4, 1, 0, 0, 0)  # dumpable while it sets itself up (its own /proc files)
        try:
            confine(channel, limits)
        except Exception as err:
            send_frame(channel, reply_encoder.encode(KFailed(f"{type(err).__name__}: {err}")))
            raise
        from app.kernel import refusals
        from app.kernel.confine import MAX_THREADS

        refusals.watch(
            limits.tmp_bytes, limits.tmp_inodes, limits.open_files, MAX_THREADS, limits.processes
        )
        code = EXIT_RUNTIME
        serve(channel, describe(limits.device))
        code = 0
    except MemoryError:
        code = EXIT_MEMORY if code == EXIT_RUNTIME else code
    except BaseException:
        pass
    finally:
        os._exit(code)


def describe(setting: str) -> str:
    from app.engine.device import choose_device

    try:
        return choose_device(setting)
    except Exception:
        return "cpu"


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    import ctypes

    ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0: no ptrace, no /proc/<pid>/mem
    warm_up()
    gc.collect()
    gc.freeze()
    sel = selectors.DefaultSelector()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    sel.register(control, selectors.EVENT_READ)
    sel.register(wake_r, selectors.EVENT_READ)
    kernels: set[int] = set()
    try:
        send_frame(control, reply_encoder.encode(ZReady(os.getpid())))
        serve_control(control, sel, kernels, wake_r, wake_w)
    except OSError:
        pass  # the web process is gone
    for pid in kernels:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    os._exit(0)


def serve_control(
    control: socket.socket, sel: selectors.BaseSelector, kernels: set[int], wake_r: int, wake_w: int
) -> None:
    """Spawn, signal and reap kernels until the web process closes the control socket."""
    while True:
        for key, _ in sel.select():
            if key.fileobj == wake_r:
                os.read(wake_r, 4096)
                reap(control, kernels)
                continue
            try:
                msg, fds = recv_request(control)
            except (ChannelClosed, msgspec.DecodeError, msgspec.ValidationError, OSError):
                return
            if isinstance(msg, ZSpawn):
                spawn(control, msg, fds, kernels, [wake_r, wake_w])
            elif isinstance(msg, ZSignal) and msg.pid in kernels:
                with contextlib.suppress(OSError):
                    os.kill(msg.pid, msg.signal)


def recv_request(control: socket.socket) -> tuple[object, list[int]]:
    """A spawn request carries the kernel's channel socket as SCM_RIGHTS in its first bytes."""
    head, fds, _flags, _addr = socket.recv_fds(control, HEADER.size, 4)
    if not head:
        raise ChannelClosed
    size = frame_size(head)
    body = b""
    while len(body) < size:
        more = control.recv(size - len(body))
        if not more:
            raise ChannelClosed
        body += more
    return zygote_request_decoder.decode(body), fds


def spawn(
    control: socket.socket, msg: ZSpawn, fds: list[int], kernels: set[int], own: list[int]
) -> None:
    if len(fds) != 1:
        for fd in fds:
            os.close(fd)
        send_frame(control, reply_encoder.encode(ZSpawned(msg.id, 0, "no channel attached")))
        return
    try:
        pid = os.fork()
    except OSError as err:
        os.close(fds[0])
        send_frame(control, reply_encoder.encode(ZSpawned(msg.id, 0, f"fork: {err.strerror}")))
        return
    if pid == 0:
        for fd in own:
            os.close(fd)
        control.close()
        run_kernel(socket.socket(fileno=fds[0]), msg.limits)
    os.close(fds[0])
    kernels.add(pid)
    send_frame(control, reply_encoder.encode(ZSpawned(msg.id, pid, "")))


def reap(control: socket.socket, kernels: set[int]) -> None:
    """Report each kernel that ended. While it is still a zombie (its pid, and so its process
    group, cannot be taken by another), kill what is left of its group: the worker processes
    of a lesson's allowance, which may not leave that group."""
    while True:
        try:
            info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return
        if info is None or info.si_pid == 0:
            return
        with contextlib.suppress(OSError):
            os.killpg(info.si_pid, signal.SIGKILL)
        try:
            pid, status = os.waitpid(info.si_pid, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        kernels.discard(pid)
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        send_frame(control, reply_encoder.encode(ZExited(pid, code)))


if __name__ == "__main__":
    main()
