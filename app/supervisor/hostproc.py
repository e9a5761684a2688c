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


#: The server's own cgroup (v2): in a container or a pod, its memory limit is the one that counts.
CGROUP = "/sys/fs/cgroup"


def available_bytes(cgroup: str = CGROUP) -> int:
    """Memory still free for the server and its kernels: the host's available memory, or less
    where the server's cgroup has a limit (a container, a Kubernetes pod), whose breach would
    kill the whole container rather than the biggest kernel."""
    host = 1 << 62
    with contextlib.suppress(OSError, ValueError), open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                host = int(line.split()[1]) * 1024
                break
    return min(host, cgroup_headroom(cgroup))


def cgroup_headroom(cgroup: str = CGROUP) -> int:
    """memory.max less memory.current of a cgroup v2, or a huge number where there is no limit."""
    try:
        with open(f"{cgroup}/memory.max") as f:
            limit = f.read().strip()
        if limit == "max":
            return 1 << 62
        with open(f"{cgroup}/memory.current") as f:
            return int(limit) - int(f.read().strip())
    except (OSError, ValueError):
        return 1 << 62
