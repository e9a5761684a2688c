"""Run lessons in real sandboxed kernels from synchronous tests: the authoring loop's
KernelService (app.content.validate), one Supervisor shared by the whole test session."""

from __future__ import annotations

from app.content.validate import KernelService

__all__ = ["KernelService"]
