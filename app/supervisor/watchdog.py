"""The watchdogs: looks at kernels from outside, through the host's /proc, between requests. A
thread left spinning after a request, memory grown past the budget, or a host running short of
memory stops a kernel, with words for the learner."""

from __future__ import annotations

import logging
import time

from app.config import Settings
from app.kernel.confine import memory_words
from app.supervisor.hostproc import (
    anonymous_bytes,
    available_bytes,
    cpu_or_zero,
    cpu_seconds,
    descendants,
)
from app.supervisor.kernel import Kernel
from app.supervisor.replies import RESTART

log = logging.getLogger("descent.kernel")

#: Watchdogs between requests, every WATCH_INTERVAL_S.
WATCH_INTERVAL_S = 1.0
#: A kernel that is not answering a request but uses more than this share of a core for
#: IDLE_CPU_STRIKES intervals in a row (a thread left spinning) is stopped.
IDLE_CPU_SHARE = 0.05
IDLE_CPU_STRIKES = 2
#: When the host's available memory falls below this, the kernel that grew most is stopped.
MEMORY_RESERVE_BYTES = 256 * 1024 * 1024


def start_watching(kernel: Kernel) -> None:
    """Note the kernel's memory and CPU time at its start, the baseline of every later look."""
    if kernel.host_pid is None:
        return
    try:
        kernel.base_memory = anonymous_bytes(kernel.host_pid)
        kernel.cpu_sample = (time.monotonic(), cpu_seconds(kernel.host_pid))
    except (OSError, ValueError, IndexError):
        pass


def look(kernel: Kernel, settings: Settings) -> tuple[str, str] | None:
    """One look at a kernel from outside: (reason, words) when it must be stopped."""
    if kernel.host_pid is None or kernel.dead:
        return None
    try:
        now, cpu = time.monotonic(), cpu_seconds(kernel.host_pid)
        grown = anonymous_bytes(kernel.host_pid) - kernel.base_memory
        if kernel.allow and kernel.allow.processes:  # its worker processes spin on its behalf
            cpu += sum(cpu_or_zero(p) for p in descendants(kernel.host_pid))
    except (OSError, ValueError, IndexError):
        return None
    then, before = kernel.cpu_sample
    kernel.cpu_sample = (now, cpu)
    idle_throughout = not kernel.busy and kernel.last_used < then
    if idle_throughout and now > then and (cpu - before) / (now - then) > IDLE_CPU_SHARE:
        kernel.cpu_strikes += 1
    else:
        kernel.cpu_strikes = 0
    if kernel.cpu_strikes >= IDLE_CPU_STRIKES:
        return "cpu", (
            "Your code kept the processor busy after it had finished (a thread left "
            f"running?), which slows down everyone else, so the kernel was stopped. {RESTART}"
        )
    if grown > settings.kernel_memory_mb * 1024 * 1024:
        return "memory", memory_words(settings.kernel_memory_mb)
    return None


def grown(kernel: Kernel) -> int:
    """Bytes the kernel's memory has grown since its start (0 where /proc does not tell)."""
    if kernel.host_pid is None or kernel.dead:
        return 0
    try:
        return anonymous_bytes(kernel.host_pid) - kernel.base_memory
    except (OSError, ValueError, IndexError):
        return 0


async def watch_once(live: set[Kernel], settings: Settings) -> None:
    """One round over the live kernels, then the host's memory."""
    for kernel in [k for k in live if not k.dead]:
        verdict = look(kernel, settings)
        if verdict:
            log.warning("watchdog stops kernel %s: %s", kernel.pid, verdict[0])
            await kernel.kill(*verdict)
    alive = [k for k in live if not k.dead]
    if alive and available_bytes() < MEMORY_RESERVE_BYTES:
        biggest = max(alive, key=grown)
        mb = grown(biggest) // (1024 * 1024)
        log.warning("the host is short of memory: stopping kernel %s (%d MB)", biggest.pid, mb)
        await biggest.kill(
            "memory",
            f"The server ran short of memory and your kernel held the most ({mb} MB), so it "
            f"was stopped. {RESTART}",
        )
