"""Words for a beginner when the sandbox refused something. A refused system call reaches learner
code as a bare `PermissionError: [Errno 1] Operation not permitted`; this module says what was
refused and why, beside that error.

An audit hook (PEP 578, which learner code cannot remove) notes the last sensitive thing the
learner's code asked for (a process, a socket, a limit); the error that follows is worded from
that note and the error number."""

from __future__ import annotations

import errno
import os
import sys
from typing import Any

#: Audit events, by what the learner asked for.
PROCESS_EVENTS = frozenset(
    {"os.fork", "os.forkpty", "os.system", "os.exec", "os.posix_spawn", "os.spawn",
     "subprocess.Popen", "pty.spawn", "os.kill", "os.killpg"}
)  # fmt: skip
NETWORK_EVENTS = frozenset(
    {"socket.__new__", "socket.connect", "socket.bind", "socket.getaddrinfo",
     "socket.gethostbyname", "socket.gethostbyaddr", "socket.sendto", "urllib.Request"}
)  # fmt: skip
LIMIT_EVENTS = frozenset({"resource.setrlimit", "resource.prlimit"})
WATCHED = PROCESS_EVENTS | NETWORK_EVENTS | LIMIT_EVENTS

#: The sandbox's limits, set once by `watch` in a new kernel.
tmp_mb = 0
tmp_files = 0
open_files = 0
max_threads = 0
worker_processes = 0

_last: list[str] = [""]
_written: list[str] = [""]


def _note(event: str, args: tuple[Any, ...]) -> None:
    if event in WATCHED:
        _last[0] = event
    elif event == "open" and len(args) > 1 and _writes(args[1], args[2] if len(args) > 2 else 0):
        _written[0] = str(args[0])


def _writes(mode: object, flags: object) -> bool:
    if isinstance(mode, str):
        return any(ch in mode for ch in "wax+")
    return isinstance(flags, int) and bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))


def last_open_wrote_outside_tmp() -> bool:
    """Whether the last file opened for writing lies outside /tmp."""
    path = _written[0]
    return bool(path) and not (path == "/tmp" or path.startswith("/tmp/"))


def watch(tmp_bytes: int, tmp_inodes: int, files: int, threads: int, processes: int) -> None:
    """In a new kernel, before learner code runs: note the limits and start listening."""
    global tmp_mb, tmp_files, open_files, max_threads, worker_processes
    tmp_mb, tmp_files, open_files = tmp_bytes // (1024 * 1024), tmp_inodes, files
    max_threads, worker_processes = threads, processes
    sys.addaudithook(_note)


def forget() -> None:
    """A new run starts with a clean note."""
    _last[0] = _written[0] = ""


def refusal_words(exc: BaseException) -> str:
    """What the sandbox refused and why, for the error `exc`; "" when it was not the sandbox."""
    last = _last[0]
    reason = getattr(exc, "reason", None)  # urllib wraps the socket's error
    if isinstance(reason, OSError) and reason is not exc:
        return refusal_words(reason)
    if isinstance(exc, OSError):
        code = exc.errno
        if code == errno.EPERM and last in PROCESS_EVENTS:
            return "Descent's sandbox does not allow starting processes or signalling them."
        if last in NETWORK_EVENTS and (code == errno.EPERM or _no_network(exc)):
            return "Descent's sandbox does not allow network connections: it has no network."
        if code == errno.EPERM and last in LIMIT_EVENTS:
            return "The sandbox does not allow raising limits."
        if code == errno.EROFS or (code == errno.EACCES and last_open_wrote_outside_tmp()):
            return "Descent's sandbox does not allow writing outside /tmp."
        if code in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
            if code == errno.ENOSPC and _tmp_files_used_up():
                return f"The sandbox's /tmp holds at most {tmp_files} files: delete some."
            return f"The sandbox's /tmp is limited to {tmp_mb} MB: delete or shrink files."
        if code in (errno.EMFILE, errno.ENFILE):
            return f"The sandbox allows at most {open_files} open files at once: close some."
    if isinstance(exc, ValueError) and last in LIMIT_EVENTS and "limit" in str(exc):
        return "The sandbox does not allow raising limits."
    if isinstance(exc, RuntimeError) and "can't start new thread" in str(exc)[:200]:
        return f"The sandbox allows at most {max_threads} threads at once."
    return ""


def _tmp_files_used_up() -> bool:
    import os

    try:
        return os.statvfs("/tmp").f_ffree == 0
    except OSError:
        return False


def _no_network(exc: OSError) -> bool:
    import socket

    return isinstance(exc, socket.gaierror)
