"""The web process's side of the sandbox: it starts the zygote inside bubblewrap, asks it for
kernels, holds each kernel to its deadlines and watches it from outside, and words every way a
kernel can end. This package is the only code that spawns or limits processes; what runs inside
the sandbox lives in `app.kernel`."""

from app.supervisor.errors import KernelDied, SandboxRefused, ServerFull
from app.supervisor.kernel import Kernel, KernelId
from app.supervisor.pool import Supervisor

__all__ = ["Kernel", "KernelDied", "KernelId", "SandboxRefused", "ServerFull", "Supervisor"]
