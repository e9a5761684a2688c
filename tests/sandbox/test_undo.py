"""No layer a learner can undo. For each property that docs/sandbox.md lists, learner code tries
every system call that could loosen it, and the property is read back afterwards: the call must
be refused and the layer must still hold."""

from __future__ import annotations

import pytest

from app.supervisor import Kernel
from sandbox.kit import run_ok

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.usefixtures("contained"),
]

#: Shared by every probe: `call` returns "ok" or the errno's name, `value` reads a prctl.
PRELUDE = r"""
import ctypes, errno, os, resource, signal
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def call(fn, *args):
    rc = getattr(libc, fn)(*args)
    return "ok" if rc == 0 else errno.errorcode.get(ctypes.get_errno(), "?")
def getting(option):
    v = ctypes.c_int(-1)
    libc.prctl(option, ctypes.byref(v), 0, 0, 0)
    return v.value
"""

#: (layer, code that tries to undo it and prints what each try gave, then the layer's state)
UNDO = {
    "parent-death signal": (
        "print(call('prctl', 1, 0, 0, 0, 0), call('prctl', 1, int(signal.SIGTERM), 0, 0, 0),"
        " getting(2) == signal.SIGKILL)",
        "EPERM EPERM True",
    ),
    "non-dumpable": (
        "print(call('prctl', 4, 1, 0, 0, 0), call('prctl', 4, 2, 0, 0, 0),"
        " libc.prctl(3, 0, 0, 0, 0))",
        "EPERM EPERM 0",
    ),
    "no_new_privs": (
        "print(call('prctl', 38, 0, 0, 0, 0) != 'ok', libc.prctl(39, 0, 0, 0, 0))",
        "True 1",
    ),
    "no ptracer, subreaper, keepcaps, securebits, speculation or mm changes": (
        "print(call('prctl', 0x59616d61, 0xffffffffffffffff, 0, 0, 0),"
        " call('prctl', 36, 1, 0, 0, 0), call('prctl', 8, 1, 0, 0, 0),"
        " call('prctl', 28, 0, 0, 0, 0), call('prctl', 53, 0, 8, 0, 0),"
        " call('prctl', 35, 1, 0, 0, 0), call('prctl', 47, 2, 0, 0, 0))",
        "EPERM EPERM EPERM EPERM EPERM EPERM EPERM",
    ),
    "rlimits": (
        "before = [resource.getrlimit(r) for r in (resource.RLIMIT_AS, resource.RLIMIT_CPU,"
        " resource.RLIMIT_NPROC, resource.RLIMIT_NOFILE, resource.RLIMIT_FSIZE)]\n"
        "tries = []\n"
        "for r in (resource.RLIMIT_AS, resource.RLIMIT_CPU, resource.RLIMIT_NPROC,"
        " resource.RLIMIT_NOFILE, resource.RLIMIT_FSIZE, resource.RLIMIT_CORE):\n"
        "    try:\n"
        "        resource.setrlimit(r, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))\n"
        "        tries.append('ok')\n"
        "    except (OSError, ValueError) as e:\n"
        "        tries.append(type(e).__name__)\n"
        "    try:\n"
        "        resource.prlimit(0, r, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))\n"
        "        tries.append('ok')\n"
        "    except (OSError, ValueError) as e:\n"
        "        tries.append(type(e).__name__)\n"
        "after = [resource.getrlimit(r) for r in (resource.RLIMIT_AS, resource.RLIMIT_CPU,"
        " resource.RLIMIT_NPROC, resource.RLIMIT_NOFILE, resource.RLIMIT_FSIZE)]\n"
        "print('ok' not in tries, before == after, after[2][0] < 100)",
        "True True True",
    ),
    "identity and capabilities": (
        "tries = [call('setuid', 0), call('setgid', 0), call('setresuid', 0, 0, 0),"
        " call('setresgid', 0, 0, 0), call('setgroups', 0, None)]\n"
        "class H(ctypes.Structure): _fields_ = [('v', ctypes.c_uint32), ('p', ctypes.c_int)]\n"
        "class D(ctypes.Structure): _fields_ = [('e', ctypes.c_uint32), ('p', ctypes.c_uint32),"
        " ('i', ctypes.c_uint32)]\n"
        "ones = 0xffffffff\n"
        "full = (D * 2)(D(ones, ones, ones), D(ones, ones, ones))\n"
        "tries.append(call('capset', ctypes.byref(H(0x20080522, 0)), full))\n"
        "now = (D * 2)()\n"
        "libc.capget(ctypes.byref(H(0x20080522, 0)), now)\n"
        "caps = [now[i].e | now[i].p | now[i].i for i in range(2)]\n"
        "print([t for t in tries if t == 'ok'], os.getuid(), os.geteuid(), os.getgid(), caps)",
        "[] 1001 1001 1001 [0, 0]",
    ),
    "namespaces (no user namespace of its own)": (
        "tries = [call('unshare', flag) for flag in (0x10000000, 0x00020000, 0x40000000,"
        " 0x08000000, 0x20000000, 0x04000000, 0x02000000)]\n"
        "tries.append(call('setns', os.open('/tmp', os.O_RDONLY), 0))\n"
        "import threading\n"
        "CLONE_NEWUSER = 0x10000000\n"
        "tries.append('refused' if libc.syscall(56, CLONE_NEWUSER | 17, 0, 0, 0, 0) < 0"
        " else 'ok')\n"
        "tries.append('refused' if libc.syscall(435, 0, 0) < 0 else 'ok')\n"
        "print([t for t in tries if t == 'ok'], os.getuid())",
        "[] 1001",
    ),
    "mounts: read-only root, capped /tmp, hidden /proc": (
        "tmp = os.statvfs('/tmp')\n"
        "tries = [call('mount', b'tmpfs', b'/tmp', b'tmpfs', 0, None),"
        " call('mount', None, b'/', None, 32 | 4096, None),"
        " call('umount2', b'/proc', 2), call('umount2', b'/tmp', 2),"
        " call('chroot', b'/tmp'), call('pivot_root', b'/tmp', b'/tmp'),"
        " call('mount', b'proc', b'/proc', b'proc', 0, None)]\n"
        "try:\n"
        "    open('/usr/descent-test', 'w')\n"
        "    tries.append('ok')\n"
        "except OSError:\n"
        "    pass\n"
        "after = os.statvfs('/tmp')\n"
        "print([t for t in tries if t == 'ok'], after.f_blocks == tmp.f_blocks,"
        " sorted(os.listdir('/proc')))",
        "[] True []",
    ),
    "seccomp filter": (
        "SECCOMP_MODE_DISABLED = 0\n"
        "tries = [call('prctl', 22, SECCOMP_MODE_DISABLED, 0, 0, 0)]\n"
        "import socket\n"
        "try:\n"
        "    socket.socket()\n"
        "    tries.append('socket ok')\n"
        "except PermissionError:\n"
        "    pass\n"
        "print([t for t in tries if 'ok' in t], libc.prctl(21, 0, 0, 0, 0))",
        "[] 2",
    ),
    "signals and scheduling of others": (
        "tries = [call('kill', 1, 0), call('kill', -1, 0), "
        " call('setpriority', 0, 0, -5), call('sched_setscheduler', 0, 1, None)]\n"
        "print([t for t in tries if t == 'ok'], os.getpriority(os.PRIO_PROCESS, 0) >= 0)",
        "[] True",
    ),
}


@pytest.mark.parametrize("layer", list(UNDO))
async def test_no_layer_can_be_undone(kernel: Kernel, layer: str) -> None:
    code, expected = UNDO[layer]
    assert (await run_ok(kernel, PRELUDE + code)).strip() == expected, layer


async def test_only_its_own_channel_and_stdio_are_open(kernel: Kernel) -> None:
    """No file descriptor of the zygote or the server reaches a kernel: stdio on /dev/null
    (character devices) and the one socket of its channel."""
    out = await run_ok(
        kernel,
        "import os, stat\n"
        "open_fds = []\n"
        "for fd in range(65536):\n"
        "    try:\n"
        "        mode = os.fstat(fd).st_mode\n"
        "    except OSError:\n"
        "        continue\n"
        "    kind = 'chr' if stat.S_ISCHR(mode) else 'sock' if stat.S_ISSOCK(mode) else 'other'\n"
        "    open_fds.append((fd, kind))\n"
        "print([k for _, k in open_fds], [fd for fd, _ in open_fds][:3])",
    )
    assert out == "['chr', 'chr', 'chr', 'sock'] [0, 1, 2]\n"
