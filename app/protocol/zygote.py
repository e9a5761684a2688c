"""The web process and the zygote: spawn and signal requests, and the zygote's reports of
kernels that started and ended."""

from __future__ import annotations

import msgspec

# --------------------------------------------------------------------------- server <-> zygote


class Limits(msgspec.Struct, array_like=True):
    """What one kernel may use; the zygote applies them right after the fork."""

    memory_bytes: int
    cpu_seconds: int
    file_bytes: int
    open_files: int
    tmp_bytes: int
    tmp_inodes: int
    namespaces: bool
    seccomp: bool
    device: str
    #: A lesson's sandbox allowance (docs/sandbox.md, "Allowances"): worker processes the
    #: kernel may fork (RLIMIT_NPROC rises by this many), and sockets on its own loopback.
    processes: int = 0
    loopback: bool = False


class Allowance(msgspec.Struct, frozen=True):
    """What one lesson's kernels may do beyond every other kernel (front matter `sandbox:`)."""

    processes: int = 0
    loopback: bool = False

    def __bool__(self) -> bool:
        return self.processes > 0 or self.loopback


class ZSpawn(msgspec.Struct, tag="spawn", array_like=True):
    """Fork a kernel; its channel's socket travels with this frame as SCM_RIGHTS."""

    id: int
    limits: Limits


class ZSignal(msgspec.Struct, tag="signal", array_like=True):
    """Send a signal to one of the zygote's kernels (interrupt or kill)."""

    pid: int
    signal: int


ZygoteRequest = ZSpawn | ZSignal


class ZReady(msgspec.Struct, tag="ready", array_like=True):
    """The zygote has imported and warmed everything and is ready to fork."""

    pid: int


class ZSpawned(msgspec.Struct, tag="spawned", array_like=True):
    id: int
    pid: int
    error: str


class ZExited(msgspec.Struct, tag="exited", array_like=True):
    """A kernel ended: by exit code, or by the signal that killed it (then code is -signal)."""

    pid: int
    code: int


ZygoteEvent = ZReady | ZSpawned | ZExited

zygote_request_decoder = msgspec.msgpack.Decoder(ZygoteRequest)
zygote_event_decoder = msgspec.msgpack.Decoder(ZygoteEvent)
