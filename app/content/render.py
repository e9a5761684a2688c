"""Markdown to HTML: one parser, math kept as `$...$` for KaTeX in the page, raw HTML off."""

from __future__ import annotations

from functools import cache
from html import escape
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.front_matter import front_matter_plugin


def _math(content: str, options: dict[str, Any]) -> str:
    fence = "$$" if options.get("display_mode") else "$"
    return escape(f"{fence}{content}{fence}")


@cache
def markdown_parser() -> MarkdownIt:
    """The one Markdown parser: CommonMark plus tables, front matter and dollar math."""
    md = MarkdownIt("commonmark", {"html": False, "typographer": True})
    md.enable(["table", "strikethrough", "replacements", "smartquotes"])
    md.use(front_matter_plugin)
    md.use(dollarmath_plugin, renderer=_math, allow_space=True, allow_digits=False)
    return md


def render_tokens(tokens: list[Token]) -> str:
    md = markdown_parser()
    return str(md.renderer.render(tokens, md.options, {}))
