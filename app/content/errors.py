"""The one error a lesson bundle can stop the server with: the file, the line, the problem."""

from __future__ import annotations

from pathlib import Path


class LessonError(Exception):
    """A lesson file that cannot be served, with where and why."""

    def __init__(self, path: Path, line: int, problem: str) -> None:
        super().__init__(f"{path}:{line}: {problem}")
        self.path, self.line, self.problem = path, line, problem
