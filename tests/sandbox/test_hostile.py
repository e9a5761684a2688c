"""Hostile programs, each with the precise outcome the learner sees. Around every test the
`contained` fixture moves a neighbour's slider (it must stay correct and prompt) and checks that
nothing is left behind in the sandbox."""

from __future__ import annotations

import asyncio
import os
import socket
import time

import pytest

from app.config import ROOT
from app.kernel.confine import MAX_THREADS, memory_words
from app.kernel.runtime import MAX_ERROR_CHARS
from app.protocol import KEvaluated, KExec, KExecDone, KProgress
from app.supervisor import Kernel, Supervisor
from app.supervisor.sandbox import inside, kernel_code_paths, sandbox_identity, zygote_environment
from app.supervisor.watchdog import IDLE_CPU_STRIKES, WATCH_INTERVAL_S
from sandbox.kit import (
    CELL_S,
    MEMORY_MB,
    OUTPUT_LIMIT,
    SECRET,
    died,
    ids,
    no_strays,
    python_error,
    request,
    run,
    run_ok,
    slider_request,
)

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.usefixtures("contained"),
]

EPERM = "PermissionError: [Errno 1] Operation not permitted"
TIMED_OUT = "Your code ran for more than 1 seconds and was stopped."
NOT_STOPPING = "Your code ran for more than 1 seconds and did not stop when interrupted"


async def still_works(kernel: Kernel) -> None:
    """The kernel survived and kept its namespace."""
    assert await run_ok(kernel, "survivor = 41\nprint(survivor + 1)") == "42\n"


# ------------------------------------------------------------------ processes and threads


async def test_fork_bomb(kernel: Kernel, sup: Supervisor) -> None:
    reply = await run(kernel, "import os\nwhile True:\n    os.fork()", sup=sup)
    assert python_error(reply.error).endswith(EPERM)
    await no_strays(sup)
    await still_works(kernel)


async def test_subprocess_and_os_system(kernel: Kernel, sup: Supervisor) -> None:
    reply = await run(kernel, "import subprocess\nsubprocess.run(['id'])")
    assert python_error(reply.error).endswith(EPERM)
    # system() reports a child it could not create as exit status 127.
    assert await run_ok(kernel, "import os\nprint(os.system('id'))") == f"{127 << 8}\n"
    reply = await run(kernel, "import os\nos.execv('/usr/bin/id', ['id'])")
    assert python_error(reply.error).endswith(EPERM)
    reply = await run(kernel, "import multiprocessing as mp\nmp.Process(target=print).start()")
    assert python_error(reply.error).endswith(EPERM)
    await no_strays(sup)
    await still_works(kernel)


async def test_thread_bomb(kernel: Kernel) -> None:
    reply = await run(
        kernel,
        "import threading, time\n"
        "while True:\n"
        "    threading.Thread(target=time.sleep, args=(30,), daemon=True).start()",
    )
    assert python_error(reply.error).endswith("RuntimeError: can't start new thread")
    count = int(await run_ok(kernel, "print(threading.active_count())"))
    if os.geteuid() != 0 or sandbox_identity() is not None:
        assert count <= MAX_THREADS  # RLIMIT_NPROC holds for every identity but host root
    await still_works(kernel)


async def test_spinning_thread_stopped_by_watchdog(kernel: Kernel) -> None:
    await run_ok(
        kernel,
        "import threading\n"
        "def spin():\n    while True: pass\n"
        "threading.Thread(target=spin, daemon=True).start()",
    )
    start = time.monotonic()
    while not kernel.dead and time.monotonic() - start < WATCH_INTERVAL_S * (IDLE_CPU_STRIKES + 4):
        await asyncio.sleep(0.1)
    assert kernel.dead is not None and kernel.dead.reason == "cpu"
    assert "kept the processor busy after it had finished" in kernel.dead.message


# ------------------------------------------------------------------ memory


@pytest.mark.parametrize(
    "bomb",
    [
        "x = []\nwhile True:\n    x.append(bytearray(1 << 20))",
        "x = [0]\nwhile True:\n    x = x + x",
        "import numpy as np\na = np.ones(1 << 31)",
        "import numpy as np\nparts = []\nwhile True:\n    parts.append(np.ones(1 << 20))",
        "import torch\nt = torch.ones(1 << 31)",
        "import torch\nparts = []\nwhile True:\n    parts.append(torch.ones(1 << 20))",
    ],
    ids=["list", "doubling", "numpy", "numpy-gradual", "torch", "torch-gradual"],
)
async def test_memory_bomb(kernel: Kernel, bomb: str) -> None:
    try:
        reply = await run(kernel, bomb, timeout=10.0)
    except Exception as err:  # the kernel may run out of memory outside the learner's cell
        assert getattr(err, "reason", "") == "memory", err
        assert getattr(err, "message", "") == memory_words(MEMORY_MB)
        return
    assert reply.error == memory_words(MEMORY_MB, recovered=True)
    assert reply.error.startswith(f"Your code used more than {MEMORY_MB} MB of memory")


async def test_deep_recursion(kernel: Kernel) -> None:
    reply = await run(kernel, "def f(n):\n    return f(n + 1)\nf(0)")
    assert python_error(reply.error).endswith("RecursionError: maximum recursion depth exceeded")
    await still_works(kernel)


async def test_unbounded_recursion(kernel: Kernel) -> None:
    try:
        reply = await run(
            kernel,
            "import sys\nsys.setrecursionlimit(10**9)\ndef f(n):\n    return f(n + 1)\nf(0)",
            timeout=10.0,
        )
    except Exception as err:  # the C stack or the memory ran out: the kernel ended with a reason
        assert getattr(err, "reason", "") in {"crash", "memory"}, err
        return
    assert not reply.ok
    assert reply.error == memory_words(MEMORY_MB, recovered=True) or reply.error.splitlines()[
        -1
    ].startswith(("RecursionError", "MemoryError", "SystemError"))


# ------------------------------------------------------------------ time


async def test_infinite_loop_in_cell(kernel: Kernel, sup: Supervisor) -> None:
    start = time.monotonic()
    reply = await run(kernel, "n = 0\nwhile True:\n    n += 1", sup=sup)
    assert reply.interrupted and reply.error.startswith(TIMED_OUT)
    assert time.monotonic() - start < CELL_S + 1.5  # the deadline, then one interrupt
    assert int(await run_ok(kernel, "print(n)")) > 0  # interrupted, not killed: state is kept


async def test_infinite_loop_in_slider_function(kernel: Kernel) -> None:
    await run_ok(kernel, "def y(x, w=1.0):\n    while True:\n        pass")
    reply = await request(kernel, slider_request({"w": 1.0}))
    assert isinstance(reply, KEvaluated)
    assert reply.error.startswith("Your code ran for more than 1 seconds and was stopped.")
    await still_works(kernel)


async def test_sleeping_forever(kernel: Kernel) -> None:
    reply = await run(kernel, "import time\ntime.sleep(10**6)")
    assert reply.interrupted and reply.error.startswith(TIMED_OUT)
    await still_works(kernel)


async def test_ignoring_sigint(kernel: Kernel, sup: Supervisor) -> None:
    err = await died(
        kernel, "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
    )
    assert err.reason == "timeout" and err.message.startswith(NOT_STOPPING)


async def test_catching_sigint_and_ignoring_sigterm(kernel: Kernel) -> None:
    err = await died(
        kernel,
        "import signal\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "signal.signal(signal.SIGINT, lambda *a: None)\n"
        "while True:\n    pass",
    )
    assert err.reason == "timeout" and err.message.startswith(NOT_STOPPING)


async def test_blocking_sigint(kernel: Kernel) -> None:
    err = await died(
        kernel,
        "import signal, time\nsignal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})\n"
        "time.sleep(10**6)",
    )
    assert err.reason == "timeout"


async def test_stop_button(kernel: Kernel) -> None:
    task = asyncio.create_task(run(kernel, "while True:\n    pass", timeout=30.0))
    await asyncio.sleep(0.3)
    start = time.monotonic()
    kernel.interrupt()
    reply = await task
    assert reply.interrupted and reply.error == "Stopped: the run was interrupted."
    assert time.monotonic() - start < 1.0


async def test_interrupts_never_cut_a_reply(kernel: Kernel, sup: Supervisor) -> None:
    """SIGINT showered on a kernel that answers short requests: no frame is ever torn."""
    stop = asyncio.Event()

    async def shower() -> None:
        while not stop.is_set():
            sup.zygote.signal(kernel.pid, 2)
            await asyncio.sleep(0.0005)

    task = asyncio.create_task(shower())
    try:
        for i in range(300):
            reply = await run(kernel, f"v = {i}")
            assert reply.ok or reply.interrupted
    finally:
        stop.set()
        await task
    await still_works(kernel)


# ------------------------------------------------------------------ output


async def test_infinite_printing(kernel: Kernel) -> None:
    reply = await run(kernel, "while True:\n    print('spam')")
    assert reply.interrupted and reply.truncated
    assert len(reply.stdout) == OUTPUT_LIMIT and reply.stdout.startswith("spam\nspam\n")


async def test_one_giant_line(kernel: Kernel) -> None:
    reply = await run(kernel, "print('x' * 50_000_000)")
    assert reply.ok and reply.truncated
    assert reply.stdout == "x" * OUTPUT_LIMIT


async def test_huge_exception_message(kernel: Kernel) -> None:
    reply = await run(kernel, "raise ValueError('x' * 10_000_000)")
    assert len(reply.error) <= MAX_ERROR_CHARS
    assert python_error(reply.error).endswith("characters in all)")


async def test_plot_function_values(kernel: Kernel) -> None:
    cases = {
        "float('nan') * x": "returned NaN",
        "x / 0.0 if False else x * 1e308 * 10": "returned infinity",
        "'hello'": "returned str, expected a number",
        "[1.0, 2.0]": "returned shape",
        "10.0 ** 400": "OverflowError",
    }
    for body, words in cases.items():
        await run_ok(kernel, f"def y(x, w=1.0):\n    return {body}")
        reply = await request(kernel, slider_request({"w": 1.0}))
        assert isinstance(reply, KEvaluated) and not reply.arrays, body
        assert words in reply.error, (body, reply.error)


# ------------------------------------------------------------------ disk


async def test_disk_fill(kernel: Kernel, neighbour: Kernel) -> None:
    reply = await run(
        kernel,
        "f = open('/tmp/fill', 'wb')\nwhile True:\n    f.write(b'x' * (1 << 20))\n    f.flush()",
    )
    assert (
        "[Errno 28] No space left on device" in reply.error
        or "[Errno 27] File too large" in reply.error
    )
    assert await run_ok(neighbour, "import os\nprint(os.listdir('/tmp'))") == "[]\n"
    await still_works(kernel)


async def test_file_count_fill(kernel: Kernel) -> None:
    reply = await run(kernel, "i = 0\nwhile True:\n    open(f'/tmp/f{i}', 'w').close()\n    i += 1")
    error = python_error(reply.error)
    assert error.endswith("No space left on device: '/tmp/f" + error.rsplit("/tmp/f", 1)[1])
    assert int(await run_ok(kernel, "print(i)")) < 300


async def test_tmp_gone_after_restart(sup: Supervisor) -> None:
    first = await sup.acquire()
    await run_ok(first, "open('/tmp/work.txt', 'w').write('mine')")
    await sup.release(first)
    second = await sup.acquire()
    try:
        assert await run_ok(second, "import os\nprint(os.listdir('/tmp'))") == "[]\n"
    finally:
        await sup.release(second)


async def test_read_only_everywhere_else(kernel: Kernel) -> None:
    paths = ("/dev/shm/bomb", "/bomb", inside(ROOT / "app/kernel/runtime.py"), "/usr/bin/python3")
    for path in paths:
        reply = await run(kernel, f"open({path!r}, 'a').write('x')")
        assert "[Errno 30] Read-only file system" in reply.error or (
            "[Errno 13] Permission denied" in reply.error  # not its file, and read-only below
        ), (path, reply.error)
        out = await run_ok(
            kernel, f"import os\nprint(os.statvfs({os.path.dirname(path)!r}).f_flag & os.ST_RDONLY)"
        )
        assert out == "1\n", path


async def test_shared_memory(kernel: Kernel) -> None:
    reply = await run(
        kernel,
        "from multiprocessing import shared_memory\n"
        "shared_memory.SharedMemory(create=True, size=1 << 20)",
    )
    assert "Read-only file system" in reply.error
    reply = await run(kernel, "import os\nos.memfd_create('x')")
    assert python_error(reply.error).endswith(EPERM)
    out = await run_ok(
        kernel,
        "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        "print(libc.shmget(0, 1 << 20, 0o1000 | 0o600), ctypes.get_errno())",
    )
    assert out == "-1 1\n"


# ------------------------------------------------------------------ network


async def test_connect_to_server_port(kernel: Kernel) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.setblocking(False)
    port = listener.getsockname()[1]
    try:
        reply = await run(
            kernel, f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=1)"
        )
        assert python_error(reply.error).endswith(EPERM)
        with pytest.raises(BlockingIOError):
            listener.accept()
    finally:
        listener.close()


async def test_connect_outside(kernel: Kernel) -> None:
    reply = await run(kernel, "import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=1)")
    assert python_error(reply.error).endswith(EPERM)
    reply = await run(
        kernel, "import urllib.request\nurllib.request.urlopen('http://example.com', timeout=1)"
    )
    assert python_error(reply.error).endswith(
        "Temporary failure in name resolution>"
    )  # no resolver, no socket


# ------------------------------------------------------------------ host and server files


async def test_system_files(kernel: Kernel) -> None:
    for path in ("/etc/passwd", "/etc/shadow", "/root/.bashrc", "/home"):
        reply = await run(kernel, f"open({path!r}).read()")
        assert "FileNotFoundError" in reply.error, (path, reply.error)
    assert await run_ok(kernel, "import os\nprint(os.listdir('/etc'))") == "['ld.so.cache']\n"


async def test_server_source(kernel: Kernel) -> None:
    for path in (
        "app/config.py",
        "app/web/app.py",
        "app/supervisor/pool.py",
        "app/supervisor/sandbox.py",
        "app/session/session.py",
        "app/server.py",
        "pyproject.toml",
        "README.md",
    ):
        reply = await run(kernel, f"import os\nos.stat({inside(ROOT / path)!r})")
        assert "FileNotFoundError" in reply.error, (path, reply.error)
    # The lesson bundles are there to read (their checks run in the kernel), never to change.
    lesson = inside((ROOT / "lessons" / "the-line" / "lesson.md").resolve())
    assert (await run_ok(kernel, f"print(open({lesson!r}).read()[:3])")) == "---\n"
    reply = await run(kernel, f"open({lesson!r}, 'a')")
    refused = ("Read-only file system", "Permission denied")  # as the server's user / as nobody
    assert any(words in reply.error for words in refused), reply.error
    assert reply.error.endswith("Descent's sandbox does not allow writing outside /tmp.")
    app_dir = inside(ROOT / "app")
    listing = await run_ok(kernel, f"import os\nprint(sorted(os.listdir({app_dir!r})))")
    visible = sorted({p.relative_to(ROOT / "app").parts[0] for p in kernel_code_paths()})
    assert listing == f"{visible}\n"
    assert "web" not in visible and "config.py" not in visible and "content" not in visible
    # The kernel's own code is there to read, as a learner could read it in its docs.
    assert (
        await run_ok(kernel, "import app.kernel.runtime as r\nprint(r.__name__)")
        == "app.kernel.runtime\n"
    )


async def test_settings_and_environment(kernel: Kernel) -> None:
    assert os.environ["DESCENT_SECRET"] == SECRET  # the server has it...
    out = await run_ok(kernel, "import os\nprint(sorted(os.environ))")
    assert set(eval(out)) <= {*zygote_environment(), "PWD"}
    assert not any(name.startswith("DESCENT") for name in eval(out))
    assert (
        await run_ok(kernel, "import os\nprint(any('secret' in v for v in os.environ.values()))")
        == "False\n"
    )
    for path in ("/proc/self/environ", "/proc/1/environ", "/proc/2/environ"):
        reply = await run(kernel, f"open({path!r}).read()")
        assert "FileNotFoundError" in reply.error
    reply = await run(kernel, "import app.config")
    assert "ModuleNotFoundError: No module named 'app.config'" in reply.error


async def test_database_and_data_dir(kernel: Kernel, sup: Supervisor) -> None:
    db = sup.settings.data_dir / "descent.db"
    assert SECRET in db.read_text()
    for path in (db, db.parent, db.parent.parent):
        reply = await run(kernel, f"import os\nos.stat({str(path)!r})")
        assert "FileNotFoundError" in reply.error, (path, reply.error)


async def test_another_learners_files(kernel: Kernel, neighbour: Kernel) -> None:
    await run_ok(neighbour, "open('/tmp/answers.txt', 'w').write('42')")
    try:
        reply = await run(kernel, "print(open('/tmp/answers.txt').read())")
        assert "FileNotFoundError" in reply.error
        assert await run_ok(kernel, "import os\nprint(os.listdir('/tmp'))") == "[]\n"
    finally:
        await run_ok(neighbour, "import os\nos.remove('/tmp/answers.txt')")


async def test_other_processes_through_proc(kernel: Kernel, neighbour: Kernel) -> None:
    assert await run_ok(kernel, "import os\nprint(os.listdir('/proc'))") == "[]\n"
    for path in (
        "/proc/1/cmdline",
        "/proc/2/status",
        f"/proc/{neighbour.pid}/mem",
        "/proc/self/maps",
    ):
        reply = await run(kernel, f"open({path!r}, 'rb').read()")
        assert "FileNotFoundError" in reply.error, path


async def test_only_its_own_channel_is_open(kernel: Kernel) -> None:
    out = await run_ok(
        kernel,
        "import os, stat\nopen_fds = []\nfor fd in range(3, 1024):\n"
        "    try:\n        open_fds.append(stat.S_ISSOCK(os.fstat(fd).st_mode))\n"
        "    except OSError:\n        pass\nprint(open_fds)",
    )
    assert out == "[True]\n"


# ------------------------------------------------------------------ other processes


async def test_killing_the_zygote_server_and_others(
    kernel: Kernel, neighbour: Kernel, sup: Supervisor
) -> None:
    zygote = sup.zygote.host_pid
    targets = [1, 2, neighbour.pid, 0, -1, os.getpid(), -2]
    for pid in targets:
        for sig in (9, 15, 2, 0):
            reply = await run(kernel, f"import os\nos.kill({pid}, {sig})")
            assert python_error(reply.error).endswith(EPERM), (pid, sig, reply.error)
    reply = await run(kernel, "import os\nos.killpg(os.getpgid(0), 9)")
    assert python_error(reply.error).endswith(EPERM)
    reply = await run(kernel, "import os\nos.killpg(2, 9)")
    assert python_error(reply.error).endswith(EPERM)
    out = await run_ok(
        kernel,
        "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        f"print([(libc.syscall(234, {neighbour.pid}, {neighbour.pid}, 9), ctypes.get_errno()),"
        f" (libc.syscall(200, {neighbour.pid}, 9), ctypes.get_errno()),"
        f" (libc.syscall(129, {neighbour.pid}, 9, 0), ctypes.get_errno())])",  # tgkill, tkill,
    )
    assert out == "[(-1, 1), (-1, 1), (-1, 1)]\n"  # rt_sigqueueinfo: all refused
    assert sup.zygote.host_pid == zygote and sup.zygote.alive
    await still_works(kernel)


async def test_signals_by_the_back_door(kernel: Kernel) -> None:
    for cmd in ("F_SETOWN", "F_SETSIG"):
        reply = await run(
            kernel, f"import os, fcntl\nr, w = os.pipe()\nfcntl.fcntl(r, fcntl.{cmd}, 2)"
        )
        assert python_error(reply.error).endswith(EPERM), cmd
    out = await run_ok(
        kernel,
        "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\nr, w = os.pipe()\n"
        "pid = ctypes.c_int(2)\n"
        "print(libc.ioctl(r, 0x8901, ctypes.byref(pid)), ctypes.get_errno())",  # FIOSETOWN
    )
    assert out == "-1 1\n"


async def test_scheduling_others(kernel: Kernel, neighbour: Kernel) -> None:
    reply = await run(kernel, f"import os\nos.sched_setaffinity({neighbour.pid}, {{0}})")
    assert python_error(reply.error).endswith(EPERM)
    reply = await run(kernel, f"import os\nos.setpriority(os.PRIO_PROCESS, {neighbour.pid}, 19)")
    assert python_error(reply.error).endswith(EPERM)


async def test_ptrace(kernel: Kernel, neighbour: Kernel) -> None:
    out = await run_ok(
        kernel,
        "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nres = []\n"
        f"for req, pid in ((16, {neighbour.pid}), (16, 2), (0, 0), (0x4206, {neighbour.pid})):\n"
        "    res.append((libc.ptrace(req, pid, 0, 0), ctypes.get_errno()))\n"
        "iov = (ctypes.c_char * 8)()\n"
        f"res.append((libc.syscall(310, {neighbour.pid}, 0, 0, 0, 0, 0), ctypes.get_errno()))\n"
        "print(res)",
    )
    assert out == "[(-1, 1), (-1, 1), (-1, 1), (-1, 1), (-1, 1)]\n"


async def test_unshare_and_mount(kernel: Kernel) -> None:
    out = await run_ok(
        kernel,
        "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nres = []\n"
        "for flags in (0x10000000, 0x00020000, 0x40000000, 0x20000000):\n"
        "    res.append((libc.unshare(flags), ctypes.get_errno()))\n"
        "res.append((libc.mount(b'proc', b'/tmp', b'proc', 0, None), ctypes.get_errno()))\n"
        "res.append((libc.mount(b'none', b'/', None, 32, None), ctypes.get_errno()))\n"
        "res.append((libc.umount2(b'/proc', 2), ctypes.get_errno()))\n"
        "res.append((libc.chroot(b'/tmp'), ctypes.get_errno()))\n"
        "print(res)",
    )
    assert out == "[" + ", ".join(["(-1, 1)"] * 8) + "]\n"


async def test_setuid_and_capabilities(kernel: Kernel) -> None:
    for call in ("os.setuid(0)", "os.setgid(0)", "os.setresuid(0, 0, 0)", "os.setgroups([0])"):
        reply = await run(kernel, f"import os\n{call}")
        assert python_error(reply.error).endswith(EPERM), call
    assert (
        await run_ok(kernel, "import os\nprint(os.getuid(), os.geteuid(), os.getgid())")
        == "1001 1001 1001\n"
    )
    out = await run_ok(
        kernel,
        "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        "hdr = (ctypes.c_uint32 * 2)(0x20080522, 0)\ndata = (ctypes.c_uint32 * 6)()\n"
        "libc.capget(hdr, data)\n"
        "print(list(data), libc.prctl(23, 21, 0, 0, 0))",  # PR_CAPBSET_READ CAP_SYS_ADMIN
    )
    assert out == "[0, 0, 0, 0, 0, 0] 0\n"


async def test_raising_rlimits(kernel: Kernel) -> None:
    before = await run_ok(
        kernel, "import resource\nprint([resource.getrlimit(r) for r in range(16)])"
    )
    for name in ("RLIMIT_AS", "RLIMIT_NPROC", "RLIMIT_CPU", "RLIMIT_NOFILE", "RLIMIT_FSIZE"):
        reply = await run(
            kernel,
            f"import resource\nresource.setrlimit(resource.{name}, "
            "(resource.RLIM_INFINITY, resource.RLIM_INFINITY))",
        )
        # setrlimit's EPERM (from the seccomp filter), in Python's words
        assert python_error(reply.error).endswith(
            "ValueError: not allowed to raise maximum limit"
        ), name
    out = await run_ok(
        kernel,
        "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        "big = (ctypes.c_uint64 * 2)(2**63, 2**63)\n"
        "print(libc.syscall(302, 0, 9, big, None), ctypes.get_errno())",  # prlimit64(self, AS)
    )
    assert out == "-1 1\n"
    assert await run_ok(kernel, "print([resource.getrlimit(r) for r in range(16)])") == before


async def test_kernel_interfaces(kernel: Kernel) -> None:
    """bpf, io_uring, userfaultfd, perf, keyctl, kexec: refused by number, whatever libc has."""
    numbers = {"bpf": 321, "io_uring_setup": 425, "userfaultfd": 323, "perf_event_open": 298,
               "keyctl": 250, "kexec_load": 246, "init_module": 175, "pidfd_open": 434}  # fmt: skip
    out = await run_ok(
        kernel,
        "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        f"numbers = {list(numbers.values())}\n"
        "print([(libc.syscall(n, 0, 0, 0, 0, 0), ctypes.get_errno()) for n in numbers])",
    )
    assert out == "[" + ", ".join(["(-1, 1)"] * len(numbers)) + "]\n"


async def test_foreign_system_call_abi(kernel: Kernel) -> None:
    """x32 system call numbers would slip past a filter written for x86-64: they kill."""
    err = await died(
        kernel,
        "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        "libc.syscall(0x40000000 | 62, 2, 9)",  # kill(2, SIGKILL) through the x32 ABI
    )
    assert err.reason == "forbidden"
    assert err.message.startswith("Your code made a system call that the sandbox forbids")


# ------------------------------------------------------------------ the channel


async def test_garbage_on_the_channel(kernel: Kernel, sup: Supervisor) -> None:
    err = await died(
        kernel,
        "import os\nfor fd in range(3, 21):\n    try:\n        os.write(fd, b'\\xff' * 64)\n"
        "    except OSError:\n        pass",
    )
    assert err.reason == "protocol"
    assert err.message.startswith("Your kernel sent something that is not a valid message")


async def test_forged_reply(kernel: Kernel) -> None:
    err = await died(
        kernel,
        "import os, stat, msgspec\nfrom app.protocol import KExecDone\n"
        "def is_socket(fd):\n    try:\n        return stat.S_ISSOCK(os.fstat(fd).st_mode)\n"
        "    except OSError:\n        return False\n"
        "fd = next(fd for fd in range(3, 64) if is_socket(fd))\n"
        "forged = KExecDone(999999, True, 'forged', '', '', 0, False, False)\n"
        "body = msgspec.msgpack.encode(forged)\n"
        "os.write(fd, len(body).to_bytes(4, 'big') + body)",
    )
    assert err.reason == "protocol"


async def test_progress_reports(kernel: Kernel) -> None:
    seen: list[KProgress] = []
    req = KExec(next(ids), "c", "for i in range(3):\n    progress(i + 1, 3, 'epoch')", OUTPUT_LIMIT)
    reply = await kernel.request(req, 5.0, "5 seconds", on_progress=seen.append)
    assert isinstance(reply, KExecDone) and reply.ok, reply
    assert seen and all(p.id == req.id for p in seen)
    assert (seen[-1].done, seen[-1].total, seen[-1].label) == (3.0, 3.0, "epoch")


async def test_flood_of_progress_frames(kernel: Kernel) -> None:
    err = await died(
        kernel,
        "import os, stat, msgspec\nfrom app.protocol import KProgress\n"
        "def is_socket(fd):\n    try:\n        return stat.S_ISSOCK(os.fstat(fd).st_mode)\n"
        "    except OSError:\n        return False\n"
        "fd = next(fd for fd in range(3, 64) if is_socket(fd))\n"
        "body = msgspec.msgpack.encode(KProgress(0, 1.0, 2.0, 'x'))\n"
        "for i in range(100_000):\n    os.write(fd, len(body).to_bytes(4, 'big') + body)",
    )
    assert err.reason == "protocol"


async def test_closing_the_channel(kernel: Kernel) -> None:
    err = await died(
        kernel,
        "import os\nfor fd in range(3, 64):\n"
        "    try:\n        os.close(fd)\n    except OSError:\n        pass",
    )
    assert err.reason == "channel"
    assert err.message.startswith("Your kernel lost its connection to the server")


async def test_segfault_through_ctypes(kernel: Kernel, sup: Supervisor) -> None:
    err = await died(kernel, "import ctypes\nctypes.string_at(0)")
    assert err.reason == "crash"
    assert err.message.startswith("Your code crashed the kernel (a segmentation fault).")
    fresh = await sup.acquire()  # the supervisor still spawns
    try:
        await still_works(fresh)
    finally:
        await sup.release(fresh)


async def test_exit(kernel: Kernel) -> None:
    reply = await run(kernel, "import sys\nsys.exit(3)")
    assert reply.error == "Your code called exit(3): the run stopped there."  # the kernel goes on
    err = await died(kernel, "import os\nos._exit(3)")
    assert err.reason == "exit" and "exit code 3" in err.message


async def test_tampering_stays_in_its_own_kernel(kernel: Kernel, neighbour: Kernel) -> None:
    await run_ok(
        kernel, "import numpy as np\nnp.linspace = None\nimport builtins\nbuiltins.print = None"
    )
    reply = await request(kernel, slider_request({"w": 1.0}))
    assert isinstance(reply, KEvaluated)
    assert (
        await run_ok(neighbour, "import numpy as np\nprint(np.linspace(0, 1, 3))")
        == "[0.  0.5 1. ]\n"
    )
