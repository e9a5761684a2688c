"""A small element tree built with the standard library's HTMLParser, so page tests read the
page's structure instead of grepping its text."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list[Element | str] = field(default_factory=list)
    parent: Element | None = field(default=None, repr=False)

    @property
    def text(self) -> str:
        """All text inside the element, whitespace collapsed."""
        parts: list[str] = []

        def walk(node: Element) -> None:
            for child in node.children:
                if isinstance(child, str):
                    parts.append(child)
                else:
                    walk(child)

        walk(self)
        return " ".join("".join(parts).split())

    def iter(self) -> Iterator[Element]:
        for child in self.children:
            if isinstance(child, Element):
                yield child
                yield from child.iter()

    def find_all(self, tag: str | None = None, **attrs: str | bool) -> list[Element]:
        """Descendants with this tag whose attributes equal the given values (True: present).

        Attribute names use `_` for `-` (`data_plot="line"` matches `data-plot="line"`); a
        trailing `_` is dropped (`class_`, `for_`).
        """
        wanted = {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items()}
        return [el for el in self.iter() if (tag is None or el.tag == tag) and _matches(el, wanted)]

    def find(self, tag: str | None = None, **attrs: str | bool) -> Element:
        found = self.find_all(tag, **attrs)
        if not found:
            raise AssertionError(f"no <{tag or '*'}> with {attrs} in the page")
        return found[0]

    def has_class(self, name: str) -> bool:
        return name in self.attrs.get("class", "").split()

    def select(self, predicate: Callable[[Element], bool]) -> list[Element]:
        return [el for el in self.iter() if predicate(el)]


def _matches(el: Element, wanted: dict[str, str | bool]) -> bool:
    for key, value in wanted.items():
        if value is True:
            if key not in el.attrs:
                return False
        elif key == "class":
            if not el.has_class(str(value)):
                return False
        elif el.attrs.get(key) != value:
            return False
    return True


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        el = Element(tag, {k: v or "" for k, v in attrs}, parent=self.stack[-1])
        self.stack[-1].children.append(el)
        if tag not in VOID:
            self.stack.append(el)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        el = Element(tag, {k: v or "" for k, v in attrs}, parent=self.stack[-1])
        self.stack[-1].children.append(el)

    def handle_endtag(self, tag: str) -> None:
        # Close up to the matching open tag; tolerate implied ends (</li>, </p>).
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse_html(text: str) -> Element:
    """The document as a tree of Elements."""
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    return builder.root
