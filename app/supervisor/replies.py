"""What a kernel may answer, and the plain words for every way a kernel can end: the web
process checks each reply against its request and tells the learner what happened."""

from __future__ import annotations

import signal

import msgspec

from app.config import Settings
from app.kernel.channel import EXIT_MEMORY, EXIT_RUNTIME, EXIT_SANDBOX
from app.kernel.confine import memory_words
from app.protocol import (
    KChecked,
    KernelReply,
    KernelRequest,
    KEvaluated,
    KEvaluatedMany,
    KEvaluateMany,
    KExec,
    KExecDone,
    KFailed,
    KHello,
)

RESTART = "Press Restart to get a fresh kernel; your code in the page is kept."
#: Longest error text or check message a reply may carry.
MAX_REPLY_TEXT = 16_000


def death_message(code: int, settings: Settings) -> tuple[str, str]:
    """(reason, plain words) for a kernel that ended with `code` (negative: killed by signal)."""
    if code == -signal.SIGSEGV:
        return "crash", f"Your code crashed the kernel (a segmentation fault). {RESTART}"
    if code == -signal.SIGSYS:
        return "forbidden", (
            f"Your code made a system call that the sandbox forbids, so the kernel was stopped. "
            f"{RESTART}"
        )
    if code == -signal.SIGXCPU:
        return "cpu", (
            f"Your kernel used more than {settings.kernel_cpu_s} s of CPU time in all and was "
            f"stopped. {RESTART}"
        )
    if code == -signal.SIGXFSZ:
        return "disk", (
            f"Your code wrote a file larger than {settings.tmp_mb} MB and was stopped. {RESTART}"
        )
    if code == -signal.SIGKILL:
        return "killed", (
            "Your kernel was stopped from outside, most likely because the server ran short of "
            f"memory. {RESTART}"
        )
    if code == EXIT_MEMORY:
        return "memory", memory_words(settings.kernel_memory_mb)
    if code == EXIT_SANDBOX:
        return "sandbox", "The sandbox could not be set up for your kernel. Tell your teacher."
    if code == EXIT_RUNTIME:
        return "channel", (
            "Your kernel lost its connection to the server (did your code close or write to a "
            f"file it did not open?). {RESTART}"
        )
    if code < 0:
        return "signal", f"Your kernel ended on signal {signal.Signals(-code).name}. {RESTART}"
    return "exit", f"Your code ended the kernel (exit code {code}). {RESTART}"


def reply_problem(req: KernelRequest, reply: KernelReply) -> str:
    """Why `reply` cannot be the answer to `req`, or "" when it can."""
    if isinstance(reply, KHello | KFailed):
        return f"unexpected {type(reply).__name__} during a request"
    rid = getattr(reply, "id", None)
    if rid != req.id:
        return f"a reply to request {rid} while request {req.id} was asked"
    if isinstance(reply, KEvaluatedMany):
        if not isinstance(req, KEvaluateMany) or len(reply.results) != len(req.items):
            return "a batch reply that does not match its request"
        for item, result in zip(req.items, reply.results, strict=True):
            problem = reply_problem(msgspec.structs.replace(item, id=req.id), result)
            if problem:
                return problem
    if isinstance(reply, KEvaluated):
        for name, arr in reply.arrays.items():
            problem = arr.problem()
            if problem:
                return f"array {name!r} {problem}"
    if (
        isinstance(reply, KExecDone)
        and isinstance(req, KExec)
        and max(len(reply.stdout), len(reply.stderr)) > req.output_limit
    ):
        return "more output than the limit allows"
    text = getattr(reply, "error", "") or getattr(reply, "message", "")
    if isinstance(text, str) and len(text) > MAX_REPLY_TEXT:
        return f"an error text of {len(text)} characters"
    return ""


def timed_out(reply: KernelReply, limit_words: str) -> KernelReply:
    """A reply to a request that was interrupted at its deadline, worded as such."""
    words = (
        f"Your code ran for more than {limit_words} and was stopped. Look for an endless loop, "
        "or make the computation smaller."
    )
    if isinstance(reply, KExecDone) and reply.interrupted:
        return msgspec.structs.replace(reply, error=words)
    if isinstance(reply, KEvaluated) and reply.error:
        return msgspec.structs.replace(reply, error=words)
    if isinstance(reply, KEvaluatedMany):
        results = [timed_out(r, limit_words) for r in reply.results]
        return msgspec.structs.replace(reply, results=results)
    if isinstance(reply, KChecked) and not reply.passed:
        return msgspec.structs.replace(reply, message=words)
    return reply
