"""Reading the host's /proc about the sandbox's processes: the watchdogs look at kernels from
outside, where nothing a kernel does can change what they see."""

from __future__ import annotations

import contextlib
import os

PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                found += [int(x) for x in f.read().split()]
    return found


def _inner_pid(pid: int) -> int:
    """A process's pid in its own (innermost) pid namespace, or -1."""
    with contextlib.suppress(OSError, ValueError), open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("NSpid:"):
                return int(line.split()[-1])
    return -1


def find_host_pid(roots: list[int], inner: int, depth: int = 3) -> int | None:
    """The host pid of the descendant of `roots` whose innermost pid is `inner`."""
    level = roots
    for _ in range(depth):
        for pid in reversed(level):  # the newest child is listed last
            if _inner_pid(pid) == inner:
                return pid
        level = [c for p in level for c in children(p)]
    return None


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process, all its threads together."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def descendants(pid: int) -> list[int]:
    found, level = [], children(pid)
    while level:
        found += level
        level = [c for p in level for c in children(p)]
    return found


def cpu_or_zero(pid: int) -> float:
    try:
        return cpu_seconds(pid)
    except (OSError, ValueError, IndexError):
        return 0.0  # ended meanwhile


def anonymous_bytes(pid: int) -> int:
    """Resident memory not backed by files (the heap, arrays, tensors)."""
    with open(f"/proc/{pid}/statm") as f:
        fields = f.read().split()
    return (int(fields[1]) - int(fields[2])) * PAGE


def available_bytes() -> int:
    with contextlib.suppress(OSError, ValueError), open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 1 << 62
