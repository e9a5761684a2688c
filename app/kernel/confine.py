"""What a freshly forked kernel does to itself before it runs any learner code.

Order matters: namespaces and mounts need the capabilities that a new user namespace grants, and
the later steps take them away; the seccomp filter goes last because it forbids the very calls
the earlier steps make. Every step either works or raises ConfineError, and the zygote then
ends the kernel before any learner code ran.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import resource
import signal
import socket

from app.protocol import Limits

libc = ctypes.CDLL(None, use_errno=True)

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_THREAD = 0x00010000
NAMESPACE_FLAGS = (
    CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID,
    CLONE_NEWNET,
)  # fmt: skip
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_MOVE = 32, 4096, 8192
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP = 1, 4, 24
PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 38, 47, 4
PR_SET_KEEPCAPS, PR_SET_SECUREBITS, PR_SET_MM, PR_SET_CHILD_SUBREAPER = 8, 28, 35, 36
PR_SET_SPECULATION_CTRL, PR_SET_PTRACER = 53, 0x59616D61
F_SETOWN, F_SETSIG, F_SETOWN_EX = 8, 10, 15
FIOSETOWN, SIOCSPGRP, TIOCSTI = 0x8901, 0x8902, 0x5412
AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, NETLINK_ROUTE = 1, 2, 10, 16, 0
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
KERNEL_UID = 1001
#: Threads one kernel may have (RLIMIT_NPROC counts the tasks of its own user namespace).
MAX_THREADS = 16
#: A kernel's scheduling group yields to the web process's (whose nice value is 0).
AUTOGROUP_NICE = 5
#: Kernels are the first thing the host's OOM killer takes, never the web process.
OOM_SCORE_ADJ = 1000

#: The kernel's memory budget in MB, set by confine().
memory_budget_mb = 0
#: Worker processes this kernel may fork (its lesson's allowance), set by confine().
worker_processes = 0


class ConfineError(Exception):
    """A layer could not be applied; the kernel must not run learner code."""


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise ConfineError(f"{what}: {os.strerror(err)}")


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def memory_words(mb: int, recovered: bool = False) -> str:
    """What a learner reads when their code ran out of its memory budget: either the kernel
    caught it and goes on (`recovered`), or the kernel was stopped and must be restarted."""
    head = f"Your code used more than {mb} MB of memory and was stopped."
    if recovered:
        return (
            f"{head} The kernel recovered: your variables are kept and you can run again. "
            "Work with smaller arrays or fewer copies."
        )
    return (
        f"{head} The kernel had to be stopped: press Restart to go on, and work with smaller "
        "arrays or fewer copies."
    )


def out_of_memory_words(exc: BaseException) -> str:
    """The learner's message when `exc` means the kernel hit its memory limit and caught it,
    else ""."""
    if isinstance(exc, MemoryError) or (
        isinstance(exc, RuntimeError) and "can't allocate memory" in str(exc)[:400]
    ):
        return memory_words(memory_budget_mb, recovered=True)
    return ""


def process_limit_words(exc: BaseException) -> str:
    """The learner's message when `exc` means a kernel with worker processes reached its
    process limit (fork or a new thread refused with EAGAIN), else ""."""
    if not worker_processes:
        return ""
    if isinstance(exc, BlockingIOError) and exc.errno == errno.EAGAIN:
        pass
    elif not (isinstance(exc, RuntimeError) and "can't start new thread" in str(exc)[:200]):
        return ""
    return (
        f"Your code started more processes than this lesson allows ({worker_processes} worker "
        "processes at a time, and their threads count too), so the last one was refused. "
        "Wait for your workers to finish (join them) before starting more, or start fewer."
    )


def enter_namespaces(limits: Limits) -> None:
    """Own user, mount, network and IPC namespaces; a private /tmp; /proc hidden. With the
    loopback allowance, `lo` of the new network namespace is brought up (its only interface)."""
    uid, gid = os.getuid(), os.getgid()
    _check(libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC), "unshare")
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{KERNEL_UID} {uid} 1\n")
    _write("/proc/self/gid_map", f"{KERNEL_UID} {gid} 1\n")
    if limits.loopback:
        loopback_up()
    opts = f"size={limits.tmp_bytes},nr_inodes={limits.tmp_inodes},mode=1777".encode()
    flags = MS_NOSUID | MS_NODEV | MS_NOEXEC
    _check(libc.mount(b"tmpfs", b"/tmp", b"tmpfs", flags, opts), "mount /tmp")
    # CUDA reads /proc/driver/nvidia: park it in /tmp, hide /proc, then move it back (best
    # effort: without it a kernel computes on the CPU).
    nvidia = limits.device != "cpu" and os.path.isdir("/proc/driver/nvidia") and _park_nvidia()
    proc_opts = b"size=16k,nr_inodes=16,mode=555"
    _check(libc.mount(b"tmpfs", b"/proc", b"tmpfs", flags, proc_opts), "hide /proc")
    if nvidia:
        os.makedirs("/proc/driver/nvidia")
        libc.mount(b"/tmp/.nvidia", b"/proc/driver/nvidia", None, MS_MOVE, None)
    remount = MS_REMOUNT | MS_RDONLY | flags
    _check(libc.mount(b"tmpfs", b"/proc", b"tmpfs", remount, proc_opts), "read-only /proc")
    os.chdir("/tmp")


def loopback_up() -> None:
    """Bring up `lo` in the kernel's own network namespace: SIOCSIFFLAGS needs CAP_NET_ADMIN,
    which the new user namespace grants until drop_capabilities()."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            name = b"lo".ljust(16, b"\0")
            got = fcntl.ioctl(s.fileno(), SIOCGIFFLAGS, name + bytes(24))
            flags = int.from_bytes(got[16:18], "little") | IFF_UP
            fcntl.ioctl(s.fileno(), SIOCSIFFLAGS, name + flags.to_bytes(2, "little") + bytes(22))
    except OSError as err:
        raise ConfineError(f"bring up lo: {err.strerror}") from None


def _park_nvidia() -> bool:
    os.mkdir("/tmp/.nvidia", 0o555)
    return libc.mount(b"/proc/driver/nvidia", b"/tmp/.nvidia", None, MS_BIND, None) == 0  # type: ignore[no-any-return]


def mapped_bytes() -> int:
    """Address space the process already has (read before /proc is hidden)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def set_limits(limits: Limits, base: int) -> None:
    """Address space above what the zygote already mapped, CPU, file size, open files, threads,
    no core files, no locked memory. A kernel with a GPU gets no address-space limit: CUDA
    reserves far more address space than it uses, so the supervisor's watchdog holds it."""
    if limits.device == "cpu":
        cap = base + limits.memory_bytes
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
    tasks = MAX_THREADS + limits.processes  # a worker process is one task more
    resource.setrlimit(resource.RLIMIT_NPROC, (tasks, tasks))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_MEMLOCK, (0, 0))
    resource.setrlimit(resource.RLIMIT_MSGQUEUE, (0, 0))


class _CapHeader(ctypes.Structure):
    _fields_ = (("version", ctypes.c_uint32), ("pid", ctypes.c_int))


class _CapData(ctypes.Structure):
    _fields_ = (
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    )


def drop_capabilities() -> None:
    """A new user namespace gives its creator every capability inside it: drop them all, from
    the bounding and ambient sets too, so nothing can be regained."""
    for cap in range(64):  # beyond the host's last capability the call fails harmlessly
        libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)()
    _check(libc.capset(ctypes.byref(header), data), "drop capabilities")


#: Calls a learner never needs, refused with EPERM whatever their arguments.
DENIED = (
    "socket", "connect", "bind", "listen", "accept", "accept4",
    "execve", "execveat", "fork", "vfork",
    "ptrace", "process_vm_readv", "process_vm_writev", "process_madvise", "kcmp",
    "pidfd_open", "pidfd_getfd", "pidfd_send_signal", "tkill",
    "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "move_mount",
    "open_tree", "fsopen", "fsmount", "fsconfig", "fspick", "mount_setattr",
    "bpf", "io_uring_setup", "io_uring_enter", "io_uring_register", "userfaultfd",
    "perf_event_open", "keyctl", "add_key", "request_key", "memfd_create", "memfd_secret",
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups",
    "setfsuid", "setfsgid", "capset",
    "setrlimit", "setpriority", "sched_setattr", "sched_setscheduler",
    "sched_setparam", "migrate_pages", "move_pages",
    "personality", "acct", "swapon", "swapoff", "reboot", "syslog", "quotactl", "quotactl_fd",
    "name_to_handle_at", "open_by_handle_at", "mknod", "mknodat", "modify_ldt", "uselib",
    "vhangup", "lookup_dcookie", "fanotify_init",
    # System V and POSIX IPC keep memory outside the address-space limit.
    "shmget", "shmat", "shmdt", "shmctl", "msgget", "msgsnd", "msgrcv", "msgctl",
    "semget", "semop", "semtimedop", "semctl", "mq_open", "mq_timedsend", "mq_timedreceive",
    "mq_notify", "mq_getsetattr", "mq_unlink",
)  # fmt: skip


#: Unlocked by the loopback allowance (sockets of AF_UNIX, AF_INET and AF_INET6 only).
SOCKET_CALLS = ("socket", "connect", "bind", "listen", "accept", "accept4")
#: Unlocked by the processes allowance (vfork stays shut: it shares the parent's memory).
FORK_CALLS = ("fork",)
#: Shut only with the processes allowance: a worker may not leave the kernel's process group,
#: which the zygote kills when the kernel ends.
GROUP_CALLS = ("setsid", "setpgid")


def install_seccomp(limits: Limits | None = None) -> None:
    """Refuse what a learner never needs: new processes, sockets, signals to others, tracing,
    namespaces and mounts, kernel interfaces that have been sources of exploits. A lesson's
    allowance opens fork (never execve) and loopback sockets, and nothing else."""
    import pyseccomp as sc  # imported (and its library loaded) by the zygote already

    processes = limits is not None and limits.processes > 0
    loopback = limits is not None and limits.loopback
    f = sc.SyscallFilter(defaction=sc.ALLOW)
    deny = sc.ERRNO(errno.EPERM)
    denied = [
        name
        for name in DENIED
        if not (processes and name in FORK_CALLS) and not (loopback and name in SOCKET_CALLS)
    ]
    if processes:
        denied += GROUP_CALLS
    if loopback:
        # socket() for AF_UNIX (1), AF_INET (2), AF_INET6 (10) and, to list the interfaces
        # (getifaddrs, which gloo calls), AF_NETLINK (16) with NETLINK_ROUTE (0) only: without
        # CAP_NET_ADMIN that reads the namespace's `lo` and changes nothing.
        for family in (0, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15):
            f.add_rule(deny, "socket", sc.Arg(0, sc.EQ, family))
        f.add_rule(deny, "socket", sc.Arg(0, sc.GT, AF_NETLINK))
        f.add_rule(deny, "socket", sc.Arg(0, sc.EQ, AF_NETLINK), sc.Arg(2, sc.NE, NETLINK_ROUTE))
    for name in denied:
        try:
            f.add_rule(deny, name)
        except (RuntimeError, ValueError, OSError):
            continue  # not a syscall on this architecture
    me = os.getpid()
    # Signals only to itself (raise(), KeyboardInterrupt plumbing); never to another process,
    # its process group (0) or everyone (-1).
    f.add_rule(deny, "kill", sc.Arg(0, sc.NE, me))
    f.add_rule(deny, "tgkill", sc.Arg(0, sc.NE, me))
    f.add_rule(deny, "rt_sigqueueinfo", sc.Arg(0, sc.NE, me))
    f.add_rule(deny, "rt_tgsigqueueinfo", sc.Arg(0, sc.NE, me))
    # Signals by the back door: an fd's owner gets SIGIO (or any signal set by F_SETSIG).
    for cmd in (F_SETOWN, F_SETSIG, F_SETOWN_EX):
        f.add_rule(deny, "fcntl", sc.Arg(1, sc.EQ, cmd))
    for cmd in (FIOSETOWN, SIOCSPGRP, TIOCSTI):
        f.add_rule(deny, "ioctl", sc.Arg(1, sc.EQ, cmd))
    # The layers set by prctl stay set: the parent-death signal may only be set to SIGKILL
    # again (a worker process does that), the process stays non-dumpable, and nothing that
    # would lend rights to another process or regain capabilities is allowed.
    f.add_rule(deny, "prctl", sc.Arg(0, sc.EQ, PR_SET_PDEATHSIG), sc.Arg(1, sc.NE, signal.SIGKILL))
    f.add_rule(deny, "prctl", sc.Arg(0, sc.EQ, PR_SET_DUMPABLE), sc.Arg(1, sc.NE, 0))
    for option in (
        PR_SET_KEEPCAPS, PR_SET_SECUREBITS, PR_SET_MM, PR_SET_CHILD_SUBREAPER,
        PR_SET_SPECULATION_CTRL, PR_SET_PTRACER, PR_CAP_AMBIENT,
    ):  # fmt: skip
        f.add_rule(deny, "prctl", sc.Arg(0, sc.EQ, option))
    # Its own limits may be read, never changed; another process's not even read.
    f.add_rule(deny, "prlimit64", sc.Arg(2, sc.NE, 0))
    f.add_rule(deny, "prlimit64", sc.Arg(0, sc.NE, 0))
    # Scheduling of itself only (pid 0); other kernels share this kernel's host uid.
    f.add_rule(deny, "sched_setaffinity", sc.Arg(0, sc.NE, 0))
    f.add_rule(deny, "ioprio_set", sc.Arg(1, sc.NE, 0))
    # A connected pair of Unix sockets inside the process (asyncio's self-pipe), nothing else.
    f.add_rule(deny, "socketpair", sc.Arg(0, sc.NE, AF_UNIX))
    # New threads (clone with CLONE_THREAD) are allowed; new processes only with the processes
    # allowance (still bounded by RLIMIT_NPROC, and never a new program); new namespaces never.
    if not processes:
        f.add_rule(deny, "clone", sc.Arg(0, sc.MASKED_EQ, CLONE_THREAD, 0))
    for flag in NAMESPACE_FLAGS:
        f.add_rule(deny, "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
    f.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")  # glibc falls back to clone, which we can inspect
    f.load()


def confine(channel: socket.socket, limits: Limits) -> None:
    """Apply every per-kernel layer, or raise ConfineError before any learner code runs."""
    global memory_budget_mb, worker_processes
    parent = os.getppid()
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        raise ConfineError("the zygote ended while this kernel started")
    keep = channel.fileno()
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.closerange(3, keep)
    os.closerange(keep + 1, 65536)
    with contextlib.suppress(OSError):  # a host without it: the memory limits still hold
        _write("/proc/self/oom_score_adj", str(OOM_SCORE_ADJ))
    # Its own session and process group: kill(0) reaches only itself, and on hosts with
    # autogroup scheduling each kernel is its own group, so its threads share one fair slice.
    os.setsid()
    with contextlib.suppress(OSError):  # no autogroups here: the zygote's nice value applies
        _write("/proc/self/autogroup", str(AUTOGROUP_NICE))
    base = mapped_bytes()
    memory_budget_mb = limits.memory_bytes // (1024 * 1024)
    if limits.namespaces:
        enter_namespaces(limits)
    set_limits(limits, base)
    if limits.namespaces:
        drop_capabilities()
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    if limits.processes:
        worker_processes = limits.processes
        os.register_at_fork(before=_forking, after_in_child=lambda: _worker_started(keep))
    if limits.seccomp:
        install_seccomp(limits)


_forked_by = 0


def _forking() -> None:
    global _forked_by
    _forked_by = os.getpid()


def _worker_started(channel_fd: int) -> None:
    """In a process the kernel (or one of its workers) forked: it dies with its parent, and it
    cannot reach the server (its copy of the channel becomes /dev/null)."""
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != _forked_by:
        os._exit(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, channel_fd)
    os.close(null)
