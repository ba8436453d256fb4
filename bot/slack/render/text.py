"""Markdown as plain text: sizes in Slack's units, notification text, sandbox links.

Pure functions over strings; nothing here performs I/O or raises for odd input.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from urllib.parse import unquote

from markdown_it.token import Token

from bot.markdown import markdown_parser

ELLIPSIS = "…"
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)


def slack_len(text: str) -> int:
    """Length in UTF-16 code units, the larger of the ways a server may count characters.

    Emoji outside the Basic Multilingual Plane count two, so a limit measured this way
    holds whichever way Slack counts.
    """
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def prefix_within(text: str, units: int) -> int:
    """The largest index i such that ``slack_len(text[:i]) <= units``."""
    i = min(len(text), max(units, 0))
    while slack_len(text[:i]) > units:
        i -= slack_len(text[:i]) - units
    return i


def display_width(text: str) -> int:
    """Columns ``text`` takes in a monospace font: Korean and other wide characters take two."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, with "…", at a word boundary if one is near."""
    if len(text) <= limit:
        return text
    cut = limit - len(ELLIPSIS)
    space = max(text.rfind(" ", 0, cut + 1), text.rfind("\n", 0, cut + 1))
    if space >= cut * 4 // 5:
        cut = space
    return text[:cut].rstrip() + ELLIPSIS


def inline_text(tokens: Sequence[Token] | None, *, keep_urls: bool, br: str = "\n") -> str:
    """Plain text of inline tokens: emphasis dropped, code spans and tag-like text kept, images
    as their alt text.

    With ``keep_urls`` a link whose text differs from its target becomes "text (url)", so a
    table cell rendered as plain text keeps the address it pointed to.
    """
    out: list[str] = []
    hrefs: list[tuple[str, int]] = []
    for token in tokens or ():
        if token.type in ("text", "code_inline"):
            out.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            out.append(br)
        elif token.type == "image":
            out.append(inline_text(token.children, keep_urls=keep_urls, br=br))
        elif token.type == "html_inline":
            # Slack renders no HTML, so a tag-like text such as pandas' "<NA>" is shown as
            # typed; only <br> means something (a line break).
            out.append(br if _BR.fullmatch(token.content.strip()) else token.content)
        elif token.type == "link_open":
            hrefs.append((str(token.attrs.get("href", "")), len(out)))
        elif token.type == "link_close" and hrefs:
            href, start = hrefs.pop()
            label = "".join(out[start:])
            if keep_urls and href and href not in (label, f"mailto:{label}"):
                out.append(f" ({unquote(href)})")
    return "".join(out)


def plain_text_for(markdown: str, *, limit: int = 3000) -> str:
    """Readable plain text of ``markdown`` for notifications, at most ``limit`` characters.

    Markup is dropped, list items get bullets, table rows become "a | b" lines, code is kept.
    """
    lines: list[str] = []
    prefix = ""
    depth = 0
    row: list[str] | None = None
    for token in markdown_parser().parse(markdown):
        if token.type in ("bullet_list_open", "ordered_list_open"):
            depth += 1
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            depth -= 1
        elif token.type == "list_item_open":
            number = f"{token.info}{token.markup} " if token.info else "• "
            prefix = "  " * (depth - 1) + number
        elif token.type == "tr_open":
            row = []
        elif token.type == "tr_close" and row is not None:
            lines.append(" | ".join(row))
            row = None
        elif token.type == "inline":
            text = inline_text(token.children, keep_urls=False, br=" " if row is not None else "\n")
            if row is not None:
                row.append(text.strip())
            else:
                lines.append(prefix + text)
                prefix = ""
        elif token.type in ("fence", "code_block", "html_block"):
            lines.append(token.content.rstrip("\n"))
        if token.level == 0 and token.nesting <= 0 and token.type != "inline":
            lines.append("")
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return truncate(text, limit)
