"""Markdown cut into top-level blocks, and blocks too long for one message cut into pieces.

Pure functions; nothing here performs I/O or raises.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from markdown_it.token import Token

from bot.markdown import markdown_parser
from bot.slack.render.table import Table, fence_markup_for, table_as_text, table_from_tokens
from bot.slack.render.text import prefix_within, slack_len

_SENTENCE_END = re.compile(r"[.!?。！？…](?=\s)")
_SPACE = re.compile(r"\s")


@dataclass(frozen=True)
class Fence:
    """A code block's parts; ``header_lines`` leading lines are repeated in every piece."""

    markup: str
    info: str
    content: str
    header_lines: int = 0


@dataclass(frozen=True)
class Prose:
    """Markdown source of one top-level block that goes into a markdown block as it is.

    ``breaks`` are offsets in ``text`` where a cut is preferred (list items, quoted blocks).
    """

    text: str
    kind: str  # "heading", "fence" or "block"
    breaks: tuple[int, ...] = ()
    fence: Fence | None = None


@dataclass(frozen=True)
class TableSegment:
    table: Table
    source: str


Segment = Prose | TableSegment


def _groups(tokens: Sequence[Token]) -> Iterator[list[Token]]:
    """Top-level blocks: each opening token with everything up to its closing token."""
    start, depth = 0, 0
    for index, token in enumerate(tokens):
        depth += token.nesting
        if depth == 0:
            yield list(tokens[start : index + 1])
            start = index + 1


def _segment(group: list[Token], lines: list[str], start: int, end: int) -> Segment:
    head = group[0]
    source = "\n".join(lines[start:end]).rstrip()
    if head.type == "table_open":
        return TableSegment(table=table_from_tokens(group), source=source)
    if head.type == "heading_open":
        return Prose(text=source, kind="heading")
    if head.type == "fence":
        return Prose(source, "fence", fence=Fence(head.markup, head.info, head.content))
    if head.type == "code_block":
        # Re-fenced when cut: an indented piece would lose its indent at the cut.
        return Prose(source, "fence", fence=Fence(fence_markup_for(head.content), "", head.content))
    offsets = [0]
    for line in lines[start:end]:
        offsets.append(offsets[-1] + len(line) + 1)
    breaks = sorted(
        {offsets[t.map[0] - start] for t in group if t.level == 1 and t.map and t.map[0] > start}
    )
    return Prose(text=source, kind="block", breaks=tuple(breaks))


def segments_for(markdown: str) -> list[Segment]:
    """The top-level blocks of ``markdown`` in order; text the parser keeps no token for
    (link reference definitions) is kept as a block of its own so nothing is lost."""
    text = markdown.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    segments: list[Segment] = []
    done = 0
    for group in _groups(markdown_parser().parse(text)):
        if not group[0].map:
            continue
        start, end = group[0].map
        gap = "\n".join(lines[done:start]).strip()
        if gap:
            segments.append(Prose(text=gap, kind="block"))
        segments.append(_segment(group, lines, start, end))
        done = max(done, end)
    rest = "\n".join(lines[done:]).strip()
    if rest:
        segments.append(Prose(text=rest, kind="block"))
    return segments


def table_prose(segment: TableSegment) -> Prose:
    """A table too big for a table block, as an aligned monospace code block."""
    content = table_as_text(segment.table)
    markup = fence_markup_for(content)
    fence = Fence(markup=markup, info="", content=content, header_lines=2)
    return Prose(text=f"{markup}\n{content}{markup}", kind="fence", fence=fence)


def split_prose(prose: Prose, *, first: int, rest: int) -> list[str]:
    """``prose`` cut into pieces: the first at most ``first`` characters where it can be,
    every other at most ``rest``. Code is cut between lines and each piece fenced again."""
    if prose.fence is not None:
        return _split_fence(prose.fence, first=first, rest=rest)
    return _split_text(prose.text, first=first, rest=rest, breaks=prose.breaks)


def _hard_split(text: str, units: int) -> Iterator[str]:
    while len(text) > units or slack_len(text) > units:
        cut = max(prefix_within(text, units), 1)
        yield text[:cut]
        text = text[cut:]
    yield text


def _split_fence(fence: Fence, *, first: int, rest: int) -> list[str]:
    opening = f"{fence.markup}{fence.info}\n"
    overhead = slack_len(opening) + 1 + slack_len(fence.markup)
    lines = fence.content.splitlines(keepends=True)
    header = "".join(lines[: fence.header_lines])
    if slack_len(header) > (rest - overhead) // 2:
        header = ""
    body = lines[fence.header_lines :] if header else lines

    def room(limit: int) -> int:
        return max(limit - overhead - slack_len(header), 1)

    pieces: list[str] = []
    chunk: list[str] = []
    used, limit = 0, first
    for line in body:
        for part in _hard_split(line, room(rest)):
            if chunk and used + slack_len(part) > room(limit):
                pieces.append(opening + header + "".join(chunk).rstrip("\n") + "\n" + fence.markup)
                chunk, used, limit = [], 0, rest
            chunk.append(part)
            used += slack_len(part)
    if chunk or not pieces:
        pieces.append(opening + header + "".join(chunk).rstrip("\n") + "\n" + fence.markup)
    return pieces


def _cut_point(text: str, units: int, breaks: Sequence[int]) -> int:
    """Where to cut ``text`` so the piece before fits ``units``: at a preferred break, else
    a blank line, a line end, a sentence end or a space in the second half, else anywhere."""
    end = max(prefix_within(text, units), 1)
    preferred = [b for b in breaks if end // 4 <= b <= end]
    if preferred:
        return preferred[-1]
    window = text[:end]
    candidates = (
        window.rfind("\n\n"),
        window.rfind("\n"),
        max((m.end() for m in _SENTENCE_END.finditer(window)), default=-1),
        max((m.start() for m in _SPACE.finditer(window)), default=-1),
    )
    return next((cut for cut in candidates if cut >= end // 2), end)


def _split_text(text: str, *, first: int, rest: int, breaks: Sequence[int]) -> list[str]:
    pieces: list[str] = []
    base, limit = 0, first
    while len(text) > limit or slack_len(text) > limit:
        cut = _cut_point(text, limit, [b - base for b in breaks if b > base])
        piece, remainder = text[:cut].rstrip(), text[cut:]
        if piece:
            pieces.append(piece)
        text = remainder.lstrip()
        base += cut + len(remainder) - len(text)
        limit = rest
    if text:
        pieces.append(text)
    return pieces
