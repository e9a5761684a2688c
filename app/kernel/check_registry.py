"""Every exercise check in one table: the basic ones and every module of `app.lesson_checks`."""

from __future__ import annotations

import importlib
import pkgutil

import app.lesson_checks
from app.kernel.checks import CHECKS, CheckFn

for _module in pkgutil.iter_modules(app.lesson_checks.__path__):
    importlib.import_module(f"app.lesson_checks.{_module.name}")

__all__ = ["CHECKS", "CheckFn"]
