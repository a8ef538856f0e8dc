"""Reading Salesforce metadata XML safely, keeping the line of every element.

Salesforce metadata never carries a DTD, so any ``<!DOCTYPE`` or ``<!ENTITY`` is refused
before parsing: entity expansion ("billion laughs") and external entities cannot happen.
``xml.parsers.expat`` is used directly because it tells the line of each element, which the
import report quotes for every Salesforce element it talks about.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.parsers import expat

from engine.files import UnreadableFile, read_bytes

MAX_XML_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 64
MAX_ELEMENTS = 200_000
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


class BadXml(Exception):
    """The file is not metadata XML Baton will read; the message says why and where."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass
class Node:
    """An XML element: its tag without namespace, its text, its line, its children."""

    tag: str
    line: int
    text: str = ""
    children: list[Node] = field(default_factory=list)

    def all(self, tag: str) -> list[Node]:
        return [c for c in self.children if c.tag == tag]

    def get(self, tag: str) -> Node | None:
        return next((c for c in self.children if c.tag == tag), None)

    def value(self, tag: str, default: str | None = None) -> str | None:
        """The text of the first child ``tag`` (stripped), or ``default``."""
        child = self.get(tag)
        return child.text.strip() if child is not None else default

    def path(self, *tags: str) -> str | None:
        """The text at a path of children, e.g. ``path('connector', 'targetReference')``."""
        node: Node | None = self
        for tag in tags:
            node = node.get(tag) if node is not None else None
        return node.text.strip() if node is not None else None

    def flag(self, tag: str) -> bool:
        return (self.value(tag) or "").lower() == "true"

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            yield from child.walk()


def _local(name: str) -> str:
    return name.rsplit(":", 1)[-1].rsplit("}", 1)[-1]


def parse_bytes(content: bytes) -> Node:
    """The document's root element; raises ``BadXml`` with the line where it went wrong."""
    if len(content) > MAX_XML_BYTES:
        raise BadXml(f"the file is {len(content):,} bytes, more than the {MAX_XML_BYTES:,} read")
    found = _DTD.search(content)
    if found:
        line = content.count(b"\n", 0, found.start()) + 1
        raise BadXml(
            "the file declares a DTD or entities, which Salesforce metadata never has "
            "(refused: entity expansion could exhaust the machine)",
            line,
        )
    parser = expat.ParserCreate()
    stack: list[Node] = []
    roots: list[Node] = []
    count = 0

    def start(name: str, _attrs: dict[str, str]) -> None:
        nonlocal count
        count += 1
        if count > MAX_ELEMENTS:
            raise BadXml(f"more than {MAX_ELEMENTS:,} elements", parser.CurrentLineNumber)
        if len(stack) >= MAX_DEPTH:
            raise BadXml(f"nested more than {MAX_DEPTH} levels deep", parser.CurrentLineNumber)
        node = Node(_local(name), parser.CurrentLineNumber)
        (stack[-1].children if stack else roots).append(node)
        stack.append(node)

    def end(_name: str) -> None:
        stack.pop()

    def data(text: str) -> None:
        if stack:
            stack[-1].text += text

    def refuse(*_args: object) -> None:
        raise BadXml("the file declares a DTD or entities", parser.CurrentLineNumber)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = data
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        parser.Parse(content, True)
    except expat.ExpatError as exc:
        raise BadXml(
            f"not well-formed XML: {expat.errors.messages[exc.code]}", exc.lineno
        ) from None
    if not roots:
        raise BadXml("the file holds no XML element", 1)
    return roots[0]


def parse_file(path: str) -> Node:
    """Parse the file at ``path``; raises ``BadXml`` (unreadable files included)."""
    try:
        content = read_bytes(path, limit=MAX_XML_BYTES)
    except UnreadableFile as exc:
        raise BadXml(str(exc)) from None
    return parse_bytes(content)
