"""Errors that pages render, each carrying its HTTP status."""

from __future__ import annotations


class PageError(Exception):
    status = 500
    title = "Something went wrong"

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(PageError):
    status = 404
    title = "Page not found"
