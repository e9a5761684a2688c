"""When the sandbox refuses something, the learner reads what and why beside the Python error;
`exit(0)` is a normal end; running out of memory says whether the kernel recovered."""

from __future__ import annotations

import pytest

from app.kernel.confine import MAX_THREADS, memory_words
from app.supervisor import Kernel
from sandbox.kit import MEMORY_MB, TMP_MB, run, run_ok

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.usefixtures("contained"),
]

PROCESSES = "Descent's sandbox does not allow starting processes"
NETWORK = "Descent's sandbox does not allow network connections"

REFUSED = {
    "subprocess": ("import subprocess\nsubprocess.run(['ls'])", "PermissionError", PROCESSES),
    "os.system": ("import os\nos.fork()", "PermissionError", PROCESSES),
    "socket": (
        "import socket\nsocket.create_connection(('127.0.0.1', 80))",
        "PermissionError",
        NETWORK,
    ),
    "a web page": (
        "import urllib.request\nurllib.request.urlopen('http://example.com', timeout=1)",
        "URLError",
        NETWORK,
    ),
    "writing outside /tmp": (
        "open('/notes.txt', 'w')",
        "OSError",
        "Descent's sandbox does not allow writing outside /tmp.",
    ),
    "a full /tmp": (
        f"with open('/tmp/big', 'wb') as f:\n    f.write(b'x' * {(TMP_MB + 1) * 1024 * 1024})",
        "OSError",
        f"/tmp is limited to {TMP_MB} MB",
    ),
    "too many files in /tmp": (
        "import os\nfor i in range(1000):\n    open(f'/tmp/f{i}', 'w').close()",
        "OSError",
        "/tmp holds at most 256 files",
    ),
    "too many open files": (
        "files = [open('/tmp/same', 'w') for _ in range(500)]",
        "OSError",
        "at most 64 open files",
    ),
    "too many threads": (
        "import threading, time\n"
        "stop = threading.Event()\n"
        "ts = []\n"
        "try:\n"
        "    for _ in range(100):\n"
        "        t = threading.Thread(target=stop.wait)\n"
        "        t.start()\n"
        "        ts.append(t)\n"
        "finally:\n"
        "    stop.set()\n"
        "    for t in ts:\n"
        "        t.join()",
        "RuntimeError",
        f"at most {MAX_THREADS} threads",
    ),
    "raising a limit": (
        "import resource\nresource.setrlimit(resource.RLIMIT_NOFILE, (100000, 100000))",
        "Error",
        "The sandbox does not allow raising limits.",
    ),
}


@pytest.mark.parametrize("what", list(REFUSED))
async def test_refusal_is_worded_beside_the_python_error(kernel: Kernel, what: str) -> None:
    code, error, words = REFUSED[what]
    reply = await run(kernel, code, timeout=5.0)
    assert not reply.ok
    python_error, said = reply.error.splitlines()[-2:]
    assert error in python_error, reply.error
    assert words in said, reply.error
    # The kernel goes on, and an unrelated error later is not worded as a refusal.
    later = await run(kernel, "1 / 0")
    assert later.error.splitlines()[-1] == "ZeroDivisionError: division by zero"


async def test_exit_zero_is_a_normal_end(kernel: Kernel) -> None:
    for code in ("print('done')\nexit()", "import sys\nprint('done')\nsys.exit(0)"):
        reply = await run(kernel, code + "\nprint('not reached')")
        assert reply.ok and reply.stdout == "done\n" and not reply.error, reply
    reply = await run(kernel, "import sys\nsys.exit(3)")
    assert not reply.ok and reply.error == "Your code called exit(3): the run stopped there."
    assert await run_ok(kernel, "print('still here')") == "still here\n"


async def test_memory_caught_in_the_kernel_says_it_recovered(kernel: Kernel) -> None:
    reply = await run(kernel, "kept = 5\nbig = bytearray(1 << 40)")
    assert reply.error == memory_words(MEMORY_MB, recovered=True)
    assert "recovered" in reply.error and "Restart" not in reply.error
    assert await run_ok(kernel, "print(kept)") == "5\n"
    assert "press Restart" in memory_words(MEMORY_MB)
