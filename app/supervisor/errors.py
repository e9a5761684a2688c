"""What can go wrong when the web process asks for a kernel, as exceptions the session layer
turns into words for the learner."""

from __future__ import annotations


class KernelDied(Exception):
    """The kernel is gone; `message` tells the learner what happened and what to do."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason, self.message = reason, message


class ServerFull(Exception):
    """No more kernels may start now."""


class SandboxRefused(Exception):
    """The host lacks a sandbox layer and weak mode is not allowed."""
