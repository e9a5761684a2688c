"""A lesson's sandbox allowance (docs/sandbox.md, "Allowances"): lesson B4's kernel may fork
worker processes and use its own loopback network, and hostile programs show that everything
else stays shut. Kernels without the allowance keep refusing both (test_hostile.py)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from app.config import ROOT
from app.content.loader import load_lesson
from app.protocol import Allowance
from app.supervisor import Kernel, Supervisor
from sandbox.kit import no_strays, python_error, run, run_ok

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.usefixtures("contained"),
]

EPERM = "PermissionError: [Errno 1] Operation not permitted"
B4 = load_lesson(Path(ROOT) / "lessons" / "data-parallel-training" / "lesson.md")
#: Long enough for four workers to start and train (they take about a second).
SLOW_S = 30.0


@pytest_asyncio.fixture(loop_scope="session")
async def allowed(sup: Supervisor) -> AsyncIterator[Kernel]:
    """A kernel started with lesson B4's allowance."""
    assert B4.sandbox == Allowance(processes=4, loopback=True)
    k = await sup.acquire(allow=B4.sandbox)
    yield k
    await sup.release(k)


async def test_allowance_kernels_are_fresh_and_pool_kernels_have_none(
    allowed: Kernel, sup: Supervisor
) -> None:
    assert allowed.allow == B4.sandbox
    assert all(k.allow is None for k in sup.pool)


async def test_b4_trains_in_parallel(allowed: Kernel, sup: Supervisor) -> None:
    out = ""
    for cell in ("data", "shard", "wiring", "parallel"):
        reply = await run(allowed, B4.cells[cell].code, SLOW_S)  # type: ignore[index]
        assert reply.ok, reply.error
        out = reply.stdout
    assert "same result, work split across workers" in out
    assert "every worker holds the same w and b: True" in out
    await no_strays(sup)  # the workers were joined and reaped
    # And again: the same kernel can run the lesson twice.
    reply = await run(allowed, B4.cells["parallel"].code, SLOW_S)  # type: ignore[index]
    assert reply.ok and "same result" in reply.stdout, reply.error


async def test_no_new_programs(allowed: Kernel, sup: Supervisor) -> None:
    reply = await run(allowed, "import os\nos.execv('/usr/bin/id', ['id'])")
    assert python_error(reply.error).endswith(EPERM)
    reply = await run(allowed, "import subprocess\nsubprocess.run(['/usr/bin/id'])")
    assert not reply.ok and "Operation not permitted" in reply.error
    # system() forks (allowed) but the child cannot exec the shell: exit status 127.
    assert await run_ok(allowed, "import os\nprint(os.system('id'))") == f"{127 << 8}\n"
    reply = await run(allowed, "import os\nos.posix_spawn('/usr/bin/id', ['id'], {})")
    assert not reply.ok and "Operation not permitted" in reply.error
    await no_strays(sup)


async def test_fork_bomb_is_bounded(allowed: Kernel, sup: Supervisor) -> None:
    reply = await run(allowed, "import os\nwhile True:\n    os.fork()", timeout=5.0)
    assert "more processes than this lesson allows (4 worker processes" in reply.error
    await no_strays(sup)
    assert await run_ok(allowed, "print('still here')") == "still here\n"


async def test_workers_end_with_the_kernel(allowed: Kernel, sup: Supervisor) -> None:
    """Workers that never finish (and try to leave the process group) die with the kernel."""
    reply = await run(
        allowed,
        "import os, time\n"
        "for _ in range(3):\n"
        "    if os.fork() == 0:\n"
        "        try:\n            os.setsid()\n        except OSError as e:\n"
        "            print('setsid', e.errno)\n"
        "        while True:\n            time.sleep(1)\n"
        "print('started')",
    )
    assert reply.ok and reply.stdout == "started\n", reply.error
    await sup.release(allowed)
    await no_strays(sup)


async def test_workers_cannot_signal(allowed: Kernel, neighbour: Kernel) -> None:
    """A worker may signal no one but its own kernel (which is the learner's anyway): not the
    zygote, not its process group, not everyone, not a neighbour; nor may the kernel signal
    its workers."""
    out = await run_ok(
        allowed,
        "import os, signal\n"
        "r, w = os.pipe()\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    res = []\n"
        f"    for target in (1, 0, -1, {neighbour.pid}):\n"
        "        try:\n"
        "            os.kill(target, signal.SIGKILL)\n"
        "            res.append('sent')\n"
        "        except OSError as e:\n            res.append(e.errno)\n"
        "    os.write(w, repr(res).encode())\n"
        "    os._exit(0)\n"
        "os.waitpid(pid, 0)\n"
        "print(os.read(r, 100).decode())\n"
        "try:\n    os.kill(pid, signal.SIGKILL)\n"
        "except OSError as e:\n    print('parent', e.errno)",
    )
    assert out == "[1, 1, 1, 1]\nparent 1\n"


async def test_only_its_own_loopback(allowed: Kernel) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    try:
        # The server's port on the host's loopback: this kernel's 127.0.0.1 is another one.
        reply = await run(
            allowed, f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=1)"
        )
        assert python_error(reply.error).endswith(
            "ConnectionRefusedError: [Errno 111] Connection refused"
        )
    finally:
        listener.close()
    outside = "import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=1)"
    reply = await run(allowed, outside)
    assert python_error(reply.error).endswith("OSError: [Errno 101] Network is unreachable")
    reply = await run(allowed, "import socket\nsocket.create_connection(('::ffff:1.1.1.1', 80), 1)")
    assert "Network is unreachable" in reply.error
    assert await run_ok(allowed, "import socket\nprint(socket.if_nameindex())") == "[(1, 'lo')]\n"


async def test_other_socket_families_stay_shut(allowed: Kernel) -> None:
    out = await run_ok(
        allowed,
        "import socket\n"
        "res = []\n"
        "for family, kind, proto in ((17, 3, 0), (16, 3, 9), (16, 3, 15), (40, 1, 0), (38, 5, 0),"
        " (2, 3, 1), (0, 1, 0), (4, 2, 0)):\n"
        "    try:\n        socket.socket(family, kind, proto).close()\n        res.append('open')\n"
        "    except OSError as e:\n        res.append(e.errno)\n"
        "print(res)",
    )
    # packet, netlink audit and netfilter, vsock, algorithms, IPX, unspecified: refused
    # (EPERM); a raw IPv4 socket needs CAP_NET_RAW, which the kernel does not have.
    assert out == "[1, 1, 1, 1, 1, 1, 1, 1]\n", out


async def test_server_files_stay_hidden(allowed: Kernel) -> None:
    out = await run_ok(
        allowed,
        "import os\n"
        "res = []\n"
        f"for path in ({str(ROOT / 'app/config.py')!r}, {str(ROOT / 'app/supervisor/pool.py')!r},"
        " '/etc/passwd', '/proc/1/environ'):\n"
        "    try:\n        open(path).read()\n        res.append('read')\n"
        "    except OSError as e:\n        res.append(type(e).__name__)\n"
        "print(res)",
    )
    assert "read" not in out, out


async def test_plain_kernels_still_refuse(kernel: Kernel) -> None:
    """Any other lesson's kernel: no fork, no sockets, as before."""
    reply = await run(kernel, "import os\nos.fork()")
    assert python_error(reply.error).endswith(EPERM)
    reply = await run(kernel, "import socket\nsocket.socket()")
    assert python_error(reply.error).endswith(EPERM)
    assert kernel.allow is None
