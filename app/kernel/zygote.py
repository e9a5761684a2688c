"""The warm zygote: imports numpy and torch once, then forks a kernel per session in
milliseconds. It runs inside bubblewrap; its control socket's fd is its one argument. It never touches CUDA,
since CUDA does not survive a fork; a kernel initialises the GPU itself on first use."""

from __future__ import annotations

import gc
import os
import selectors
import signal
import socket
import sys

import msgspec

from app.kernel.channel import ChannelClosed, recv_frame, send_frame
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
    (torch.sigmoid(a @ a).sum()).backward()
    torch.func.vmap(lambda t: (t * t).sum())(torch.ones(4, 3))
    np.linalg.lstsq(np.ones((4, 2)), np.arange(4.0), rcond=None)
    import pyseccomp  # noqa: F401  (loads libseccomp before any address-space limit)

    import app.engine.device  # noqa: F401
    import app.engine.gradients  # noqa: F401
    import app.engine.grid  # noqa: F401
    import app.kernel.checks  # noqa: F401
    import app.kernel.confine  # noqa: F401
    import app.kernel.runtime  # noqa: F401
    import app.plots.registry  # noqa: F401


def run_kernel(channel: socket.socket, limits: Limits) -> None:
    """In the forked child: confine, then serve requests; never return to the zygote's loop."""
    code = 0
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.set_wakeup_fd(-1)
        from app.kernel.confine import confine
        from app.kernel.runtime import serve

        try:
            confine(channel, limits)
        except Exception as err:
            send_frame(channel, reply_encoder.encode(KFailed(f"{type(err).__name__}: {err}")))
            raise
        serve(channel, describe(limits.device))
    except BaseException:
        code = 70
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
    send_frame(control, reply_encoder.encode(ZReady(os.getpid())))
    while True:
        for key, _ in sel.select():
            if key.fileobj == wake_r:
                os.read(wake_r, 4096)
                reap(control, kernels)
                continue
            try:
                msg, fds = recv_request(control)
            except (ChannelClosed, msgspec.DecodeError, OSError):
                for pid in kernels:
                    os.kill(pid, signal.SIGKILL)
                os._exit(0)
            if isinstance(msg, ZSpawn):
                spawn(control, msg, fds, kernels, [wake_r, wake_w])
            elif isinstance(msg, ZSignal) and msg.pid in kernels:
                os.kill(msg.pid, msg.signal)


def recv_request(control: socket.socket) -> tuple[object, list[int]]:
    """A spawn request carries the kernel's channel socket as SCM_RIGHTS in its first bytes."""
    head, fds, _flags, _addr = socket.recv_fds(control, 4, 4)
    if not head:
        raise ChannelClosed
    size = int.from_bytes(head, "big")
    body = b""
    while len(body) < size:
        more = control.recv(size - len(body))
        if not more:
            raise ChannelClosed
        body += more
    return zygote_request_decoder.decode(body), fds


def spawn(control: socket.socket, msg: ZSpawn, fds: list[int], kernels: set[int], own: list[int]) -> None:
    if len(fds) != 1:
        for fd in fds:
            os.close(fd)
        send_frame(control, reply_encoder.encode(ZSpawned(msg.id, 0, "no channel attached")))
        return
    pid = os.fork()
    if pid == 0:
        for fd in own:
            os.close(fd)
        control.close()
        run_kernel(socket.socket(fileno=fds[0]), msg.limits)
    os.close(fds[0])
    kernels.add(pid)
    send_frame(control, reply_encoder.encode(ZSpawned(msg.id, pid, "")))


def reap(control: socket.socket, kernels: set[int]) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        kernels.discard(pid)
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        send_frame(control, reply_encoder.encode(ZExited(pid, code)))


if __name__ == "__main__":
    sys.exit(main())
