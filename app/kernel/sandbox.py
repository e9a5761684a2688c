"""The outer sandbox: the bubblewrap command that holds the zygote, and the probe that finds
which layers this host supports. The only code that starts processes for learner code."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from app.config import ROOT, Settings
from app.protocol import Limits

#: The parts of the app a kernel needs, bound read-only; the server's other code is not visible.
KERNEL_CODE = (
    "app/__init__.py",
    "app/protocol.py",
    "app/kernel",
    "app/plots",
    "app/engine",
)


@dataclass(frozen=True)
class Layers:
    """Which sandbox layers this host can apply; `missing` names the absent ones."""

    bubblewrap: bool
    namespaces: bool
    seccomp: bool

    @property
    def missing(self) -> list[str]:
        names = {
            "bubblewrap": "bubblewrap (the bwrap program)",
            "namespaces": "user namespaces",
            "seccomp": "seccomp filters",
        }
        return [text for key, text in names.items() if not getattr(self, key)]

    @property
    def complete(self) -> bool:
        return not self.missing


def probe_layers() -> Layers:
    """Try each layer for real: start bwrap with every namespace, load a seccomp filter."""
    bwrap = shutil.which("bwrap")
    namespaces = False
    if bwrap:
        try:
            proc = subprocess.run(
                [bwrap, "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/",
                 "--proc", "/proc", "--dev", "/dev", "true"],
                capture_output=True, timeout=10, check=False,
            )
            namespaces = proc.returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            namespaces = False
    return Layers(bubblewrap=bool(bwrap), namespaces=namespaces, seccomp=_seccomp_works())


def _seccomp_works() -> bool:
    code = (
        "import pyseccomp as s, errno; f = s.SyscallFilter(s.ALLOW); "
        "f.add_rule(s.ERRNO(errno.EPERM), 'acct'); f.load()"
    )
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def kernel_limits(settings: Settings, layers: Layers) -> Limits:
    return Limits(
        memory_bytes=settings.kernel_memory_mb * 1024 * 1024,
        cpu_seconds=settings.kernel_cpu_s,
        file_bytes=settings.tmp_mb * 1024 * 1024,
        open_files=64,
        tmp_bytes=settings.tmp_mb * 1024 * 1024,
        tmp_inodes=256,
        namespaces=layers.namespaces,
        seccomp=layers.seccomp,
        device=settings.device,
    )


def _gpu_binds(settings: Settings) -> list[str]:
    """With a GPU allowed, bind its device nodes; the kernel opens them on first CUDA use."""
    if settings.device == "cpu":
        return []
    args: list[str] = []
    for node in sorted(glob.glob("/dev/nvidia*")):
        args += ["--dev-bind", node, node]
    if args and os.path.isdir("/proc/driver/nvidia"):
        args += ["--ro-bind", "/proc/driver/nvidia", "/proc/driver/nvidia"]
    return args


def zygote_environment() -> dict[str, str]:
    """The only environment learner code sees: no settings, no secrets, one thread per kernel."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": "/tmp",
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(ROOT),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MALLOC_ARENA_MAX": "2",
        "PYTORCH_NVML_BASED_CUDA_CHECK": "1",
    }


def zygote_command(settings: Settings, layers: Layers, control_fd: int) -> list[str]:
    """The zygote's command line: inside bubblewrap when the host has it, bare in weak mode."""
    python = [sys.executable, "-m", "app.kernel.zygote", str(control_fd)]
    if not (layers.bubblewrap and layers.namespaces):
        return python
    prefixes = sorted({sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix})
    args = [
        "bwrap",
        "--unshare-all",
        "--unshare-user",
        "--uid", "1000",
        "--gid", "1000",
        "--die-with-parent",
        "--new-session",
        "--cap-drop", "ALL",
        "--clearenv",
        "--ro-bind", "/usr", "/usr",
        "--symlink", "usr/lib", "/lib",
        "--symlink", "usr/lib64", "/lib64",
        "--symlink", "usr/bin", "/bin",
        "--symlink", "usr/sbin", "/sbin",
        "--proc", "/proc",
        "--dev", "/dev",
        "--size", str(settings.tmp_mb * 1024 * 1024), "--tmpfs", "/tmp",
    ]
    if os.path.exists("/etc/ld.so.cache"):
        args += ["--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    for prefix in prefixes:
        args += ["--ro-bind", prefix, prefix]
    for part in KERNEL_CODE:
        path = ROOT / part
        args += ["--ro-bind", str(path), str(path)]
    args += _gpu_binds(settings)
    args += ["--remount-ro", "/dev", "--remount-ro", "/", "--chdir", "/tmp"]
    for key, value in zygote_environment().items():
        args += ["--setenv", key, value]
    return [*args, *python]


def sandbox_summary(layers: Layers, settings: Settings) -> str:
    if layers.complete:
        return "strict"
    return "weak" if settings.sandbox == "weak" else "refused"


def kernel_code_paths() -> list[Path]:
    return [ROOT / p for p in KERNEL_CODE]
