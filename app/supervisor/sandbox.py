"""The outer sandbox: the bubblewrap command that holds the zygote, and the probe that finds
which layers this host supports. The only code that starts processes for learner code."""

from __future__ import annotations

import ctypes
import glob
import logging
import os
import pwd
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from app.config import ROOT, Settings
from app.kernel.paths import inside
from app.protocol import Limits

log = logging.getLogger("descent.kernel")
libc = ctypes.CDLL(None, use_errno=True)  # loaded here, not in a child between fork and exec

#: The parts of the app a kernel needs, bound read-only: an allow-list. `app/kernel` is what
#: runs inside the sandbox, as a whole folder; the server's other code (the web layer, its
#: settings, the supervisor and this file) is not visible inside.
KERNEL_CODE = ("app/__init__.py", "app/protocol", "app/plots", "app/engine", "app/kernel")
#: The host account the sandbox runs as when the server runs as root.
SANDBOX_USER = "nobody"
#: Size of the zygote's own /tmp; each kernel mounts its private, capped /tmp over it.
ZYGOTE_TMP_BYTES = 1024 * 1024


#: Namespaces and identity of the sandbox; the probe starts bubblewrap with exactly these.
NAMESPACE_FLAGS = (
    "--unshare-all",
    "--unshare-user",
    "--uid", "1000",
    "--gid", "1000",
    "--hostname", "descent",
    "--die-with-parent",
    "--new-session",
    "--cap-drop", "ALL",
)  # fmt: skip


@dataclass(frozen=True)
class Layers:
    """Which sandbox layers this host can apply; `missing` names the absent ones and `reasons`
    says, for each, what the probe saw when it failed."""

    bubblewrap: bool
    namespaces: bool
    seccomp: bool
    reasons: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def missing(self) -> list[str]:
        return [text for key, text in LAYER_NAMES.items() if not getattr(self, key)]

    @property
    def problems(self) -> dict[str, str]:
        """Each missing layer's name and the reason the probe gave."""
        return {
            text: self.reasons.get(key, "")
            for key, text in LAYER_NAMES.items()
            if not getattr(self, key)
        }

    @property
    def complete(self) -> bool:
        return not self.missing


LAYER_NAMES = {
    "bubblewrap": "bubblewrap (the bwrap program)",
    "namespaces": "user namespaces",
    "seccomp": "seccomp filters",
}
#: A probe that fails is tried again this many times in all, after a growing pause: a host
#: under load can fail a probe once (a slow start past the timeout) and then pass it.
PROBE_ATTEMPTS = 4
PROBE_PAUSE_S = 0.25


def probe_layers(attempts: int = PROBE_ATTEMPTS) -> Layers:
    """Try each layer for real, as the identity the sandbox will have: start bwrap with every
    namespace, load a seccomp filter. A failure is retried, and its reason kept and logged."""
    bwrap = shutil.which("bwrap")
    reasons: dict[str, str] = {}
    namespaces = False
    if bwrap:
        namespaces, why = _retried(lambda: _namespaces_work(bwrap), attempts)
        if not namespaces:
            reasons["namespaces"] = why
            log.warning("bubblewrap cannot start the sandbox: %s", why)
    else:
        reasons["bubblewrap"] = "no bwrap program on the PATH (install bubblewrap)"
    seccomp, why = _retried(_seccomp_works, attempts)
    if not seccomp:
        reasons["seccomp"] = why
        log.warning("seccomp filters cannot be loaded: %s", why)
    return Layers(bool(bwrap), namespaces, seccomp, reasons)


def _retried(probe: Callable[[], tuple[bool, str]], attempts: int) -> tuple[bool, str]:
    why = ""
    for attempt in range(max(1, attempts)):
        ok, said = probe()
        if ok:
            if attempt:
                log.warning("a sandbox probe passed on attempt %d after: %s", attempt + 1, why)
            return True, ""
        why = said
        if attempt + 1 < attempts:
            time.sleep(PROBE_PAUSE_S * 2**attempt)
    return False, why


def _namespaces_work(bwrap: str) -> tuple[bool, str]:
    try:
        proc = subprocess.run(
            [bwrap, *NAMESPACE_FLAGS, "--ro-bind", "/", "/",
             "--proc", "/proc", "--dev", "/dev", "true"],
            capture_output=True, timeout=20, check=False, **identity_arguments(),
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError) as err:
        return False, f"{type(err).__name__}: {err}"
    # bubblewrap's own words name the cause (seccomp, a masked /proc, AppArmor...).
    words = proc.stderr.decode(errors="replace").strip()[-500:]
    return proc.returncode == 0, words or f"bwrap exited with code {proc.returncode}"


def _seccomp_works() -> tuple[bool, str]:
    code = (
        "import pyseccomp as s, errno; f = s.SyscallFilter(s.ALLOW); "
        "f.add_rule(s.ERRNO(errno.EPERM), 'acct'); f.load()"
    )
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            timeout=30,
            check=False,
            **identity_arguments(),
        )
    except (OSError, subprocess.SubprocessError) as err:
        return False, f"{type(err).__name__}: {err}"
    words = proc.stderr.decode(errors="replace").strip()[-500:]
    return proc.returncode == 0, words or f"the probe exited with code {proc.returncode}"


def gpu_nodes(settings: Settings) -> list[str]:
    """The GPU device nodes a kernel may use: none unless the setting allows a GPU."""
    return [] if settings.device == "cpu" else sorted(glob.glob("/dev/nvidia*"))


def kernel_limits(settings: Settings, layers: Layers) -> Limits:
    """What each kernel may use. `device` is "cpu" unless GPU nodes are bound into the sandbox;
    only then does a kernel go without an address-space limit (see confine.set_limits)."""
    return Limits(
        memory_bytes=settings.kernel_memory_mb * 1024 * 1024,
        cpu_seconds=settings.kernel_cpu_s,
        file_bytes=settings.tmp_mb * 1024 * 1024,
        open_files=64,
        tmp_bytes=settings.tmp_mb * 1024 * 1024,
        tmp_inodes=256,
        namespaces=layers.namespaces,
        seccomp=layers.seccomp,
        device=settings.device if gpu_nodes(settings) else "cpu",
    )


def _gpu_binds(settings: Settings) -> list[str]:
    """With a GPU allowed, bind its device nodes; the kernel opens them on first CUDA use."""
    args: list[str] = []
    for node in gpu_nodes(settings):
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
        "PYTHONPATH": inside(ROOT),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MALLOC_ARENA_MAX": "2",
        "JOBLIB_MULTIPROCESSING": "0",  # scikit-learn: no worker processes (and no warning)
        "PYTORCH_NVML_BASED_CUDA_CHECK": "1",
    }


def python_prefixes() -> list[str]:
    return sorted({sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix})


def lesson_paths(folders: Iterable[Path]) -> list[Path]:
    """The lesson folders, bound read-only: a kernel loads a bundle's checks.py from there."""
    return [Path(folder).resolve() for folder in folders]


def bound_paths(lessons: tuple[Path, ...] = ()) -> list[Path]:
    """Every host path bound into the sandbox (read-only), GPU nodes aside."""
    paths = [Path("/usr")] + [Path(p) for p in python_prefixes()] + kernel_code_paths()
    paths += lesson_paths(lessons)
    if os.path.exists("/etc/ld.so.cache"):
        paths.append(Path("/etc/ld.so.cache"))
    return paths


def _allowed(path: Path, uid: int, gid: int, need: int) -> bool:
    st = path.stat()
    shift = 6 if st.st_uid == uid else 3 if st.st_gid == gid else 0
    return (st.st_mode >> shift) & need == need


@dataclass(frozen=True)
class Identity:
    """The host account the sandbox runs as, and how its bound paths become reachable for it:
    each directory in `covers` (one it may not search, such as /root) is hidden under an empty
    tmpfs in a mount namespace private to bubblewrap, and the paths in `binds` are bound back
    into it, so the rest of that directory stays out of reach."""

    uid: int
    gid: int
    covers: tuple[str, ...] = ()
    binds: tuple[str, ...] = ()


def _plan(uid: int, gid: int, lessons: tuple[Path, ...]) -> Identity | None:
    covers: list[str] = []
    binds: list[str] = []
    for path in bound_paths(lessons):
        try:
            blocked = next(
                (a for a in reversed(path.parents) if not _allowed(a, uid, gid, 1)), None
            )
            if not _allowed(path, uid, gid, 5 if path.is_dir() else 4):
                return None
        except OSError:
            return None
        if blocked is not None:
            if blocked == Path("/"):
                return None
            covers.append(str(blocked))
            binds.append(str(path))
    return Identity(uid, gid, tuple(dict.fromkeys(covers)), tuple(binds))


def _become(identity: Identity, nice: int) -> None:
    """In a child about to exec the sandbox (as root): cover, bind back, drop to the identity."""
    ms_rec, ms_private, ms_bind, ms_nosuid, ms_nodev = 16384, 1 << 18, 4096, 2, 4
    if identity.covers:
        if libc.unshare(0x00020000) != 0:  # CLONE_NEWNS
            raise OSError(ctypes.get_errno(), "unshare a mount namespace")
        libc.mount(b"none", b"/", None, ms_rec | ms_private, None)
        held = [os.open(p, os.O_PATH | os.O_CLOEXEC) for p in identity.binds]
        for cover in identity.covers:
            if (
                libc.mount(b"tmpfs", cover.encode(), b"tmpfs", ms_nosuid | ms_nodev, b"mode=755")
                != 0
            ):
                raise OSError(ctypes.get_errno(), f"cover {cover}")
        for path, fd in zip(identity.binds, held, strict=True):
            if os.path.isdir(f"/proc/self/fd/{fd}"):
                os.makedirs(path, exist_ok=True)
            else:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o644))
            source = f"/proc/self/fd/{fd}".encode()
            if libc.mount(source, path.encode(), None, ms_bind | ms_rec, None) != 0:
                raise OSError(ctypes.get_errno(), f"bind {path}")
            os.close(fd)
    os.setgroups([])
    os.setresgid(identity.gid, identity.gid, identity.gid)
    os.setresuid(identity.uid, identity.uid, identity.uid)
    os.nice(nice)


@cache
def sandbox_identity(lessons: tuple[Path, ...] = ()) -> Identity | None:
    """The host account the sandbox runs as when it is not the server's own, else None.

    As root, the zygote and every kernel run as `nobody`, so that nothing in the sandbox is
    host root, not even inside its user namespace. bubblewrap then resolves the paths it binds
    as `nobody`; those behind a directory it may not search (a Python under /root, mode 700)
    are made reachable by `Identity.covers`. Where even that fails (no mount namespaces for
    root in this container, or a bound file `nobody` may not read), the sandbox keeps the
    server's identity, still in its own user namespace without capabilities, and the log says
    why."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(SANDBOX_USER)
        uid, gid = entry.pw_uid, entry.pw_gid
    except KeyError:
        uid = gid = 65534
    identity = _plan(uid, gid, lessons)
    problem = "a bound path is not readable by it"
    if identity is not None:
        try:
            subprocess.run(
                ["/bin/true"], check=True, timeout=10, preexec_fn=lambda: _become(identity, 0)
            )
            return identity
        except (OSError, subprocess.SubprocessError) as err:
            problem = str(err)
    log.warning(
        "the sandbox keeps root's identity (in its own user namespace, without capabilities), "
        "as it cannot run as %s here: %s",
        SANDBOX_USER, problem,
    )  # fmt: skip
    return None


def identity_arguments(nice: int = 0, lessons: tuple[Path, ...] = ()) -> dict[str, Any]:
    """subprocess arguments that start a process as the sandbox identity, at `nice`, able to
    reach the bound `lessons` folders."""
    identity = sandbox_identity(tuple(lessons))
    if identity is None:
        return {"preexec_fn": lambda: os.nice(nice)} if nice else {}
    return {"preexec_fn": lambda: _become(identity, nice)}


#: Where host paths under /tmp appear in the sandbox: each kernel mounts its own private /tmp,
#: which would hide the code and the venv of a server that lives under /tmp.


def zygote_command(settings: Settings, layers: Layers, control_fd: int) -> list[str]:
    """The zygote's command line: inside bubblewrap when the host has it, bare in weak mode."""
    if not (layers.bubblewrap and layers.namespaces):
        return [sys.executable, "-m", "app.kernel.zygote", str(control_fd)]
    python = [inside(sys.executable), "-m", "app.kernel.zygote", str(control_fd)]
    args = [
        "bwrap",
        *NAMESPACE_FLAGS,
        "--clearenv",
        "--ro-bind", "/usr", "/usr",
        "--symlink", "usr/lib", "/lib",
        "--symlink", "usr/lib64", "/lib64",
        "--symlink", "usr/bin", "/bin",
        "--symlink", "usr/sbin", "/sbin",
        "--proc", "/proc",
        "--dev", "/dev",
        "--size", str(ZYGOTE_TMP_BYTES), "--tmpfs", "/tmp",
    ]  # fmt: skip
    if os.path.exists("/etc/ld.so.cache"):
        args += ["--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    for prefix in python_prefixes():
        args += ["--ro-bind", prefix, inside(prefix)]
    for path in kernel_code_paths() + lesson_paths(settings.lessons_dir):
        args += ["--ro-bind", str(path), inside(path)]
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
    """The app's files and folders bound into the sandbox."""
    return [ROOT / p for p in KERNEL_CODE if (ROOT / p).exists()]
