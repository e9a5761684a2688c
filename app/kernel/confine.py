"""What a freshly forked kernel does to itself before it runs any learner code.

Order matters: namespaces and mounts need privileges that the later steps take away; the
seccomp filter goes last because it forbids the very calls the earlier steps make.
"""

from __future__ import annotations

import ctypes
import errno
import os
import resource
import signal
import socket

from app.protocol import Limits

libc = ctypes.CDLL(None, use_errno=True)

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
CLONE_NEWIPC = 0x08000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS = 1, 4, 38
KERNEL_UID = 1001


class ConfineError(Exception):
    """A layer could not be applied; the kernel must not run learner code."""


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise ConfineError(f"{what}: {os.strerror(err)}")


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def enter_namespaces(limits: Limits) -> None:
    """Own user, mount, network and IPC namespaces; a private /tmp; /proc hidden."""
    uid, gid = os.getuid(), os.getgid()
    _check(libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC), "unshare")
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{KERNEL_UID} {uid} 1\n")
    _write("/proc/self/gid_map", f"{KERNEL_UID} {gid} 1\n")
    opts = f"size={limits.tmp_bytes},nr_inodes={limits.tmp_inodes},mode=1777".encode()
    flags = MS_NOSUID | MS_NODEV | MS_NOEXEC
    _check(libc.mount(b"tmpfs", b"/tmp", b"tmpfs", flags, opts), "mount /tmp")
    _check(
        libc.mount(b"tmpfs", b"/proc", b"tmpfs", flags | MS_RDONLY, b"size=4k,nr_inodes=8"),
        "hide /proc",
    )
    os.chdir("/tmp")


def mapped_bytes() -> int:
    """Address space the process already has (read before /proc is hidden)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def set_limits(limits: Limits, base: int) -> None:
    """Address space above what the zygote already mapped, CPU, file size, open files, no cores."""
    resource.setrlimit(resource.RLIMIT_AS, (base + limits.memory_bytes, base + limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_MEMLOCK, (0, 0))


def install_seccomp() -> None:
    """Refuse what a learner never needs: new processes, sockets, signals to others, tracing,
    namespaces and mounts, kernel interfaces that have been sources of exploits."""
    import pyseccomp as sc  # imported (and its library loaded) by the zygote already

    f = sc.SyscallFilter(defaction=sc.ALLOW)
    deny = sc.ERRNO(errno.EPERM)
    for name in (
        "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
        "execve", "execveat", "fork", "vfork",
        "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_open", "pidfd_getfd",
        "pidfd_send_signal",
        "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "move_mount",
        "open_tree", "fsopen", "fsmount", "fsconfig", "fspick", "mount_setattr",
        "bpf", "io_uring_setup", "io_uring_enter", "io_uring_register", "userfaultfd",
        "perf_event_open", "keyctl", "add_key", "request_key", "memfd_create",
        "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
        "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups",
        "setrlimit", "prlimit64", "setpriority", "sched_setattr", "sched_setscheduler",
        "personality", "acct", "swapon", "swapoff", "reboot", "syslog", "quotactl",
        "name_to_handle_at", "open_by_handle_at", "mknod", "mknodat",
        "kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
    ):
        try:
            if name in ("kill", "tgkill", "tkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo"):
                continue
            f.add_rule(deny, name)
        except (RuntimeError, ValueError, OSError):
            continue  # not a syscall on this architecture
    me = os.getpid()
    # Signals only to itself (raise(), KeyboardInterrupt plumbing); never to another process.
    f.add_rule(deny, "kill", sc.Arg(0, sc.NE, me))
    f.add_rule(deny, "tgkill", sc.Arg(0, sc.NE, me))
    f.add_rule(deny, "rt_sigqueueinfo", sc.Arg(0, sc.NE, me))
    f.add_rule(deny, "rt_tgsigqueueinfo", sc.Arg(0, sc.NE, me))
    f.add_rule(deny, "tkill")
    # New threads (clone with CLONE_THREAD) are allowed; new processes are not.
    clone_thread = 0x00010000
    f.add_rule(deny, "clone", sc.Arg(0, sc.MASKED_EQ, clone_thread, 0))
    f.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")  # glibc falls back to clone, which we can inspect
    f.load()


def confine(channel: socket.socket, limits: Limits) -> None:
    """Apply every per-kernel layer, or raise ConfineError before any learner code runs."""
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    keep = channel.fileno()
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.closerange(3, keep)
    os.closerange(keep + 1, 65536)
    base = mapped_bytes()
    if limits.namespaces:
        enter_namespaces(limits)
    set_limits(limits, base)
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    if limits.seccomp:
        install_seccomp()
