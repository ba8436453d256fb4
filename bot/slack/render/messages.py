"""The model's Markdown answer as Slack messages: markdown blocks, table blocks, under limits.

Everything here is pure: strings in, block dicts out, no I/O. The limits come from Slack:
markdown blocks of one message share 12,000 characters (the budget here also counts table
cells, since Slack rejects messages whose blocks hold much more text than that in total),
a message holds at most 50 blocks and one table block, and a table block at most 100 rows
of 20 cells. With a caption for tables, a table that fits Slack's ``data_table`` block
(sortable, paginated) becomes one, and the message keeps a plainer alternative with the
same table as a ``table`` block, for when Slack refuses the data table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from bot.slack.render.split import (
    Fence,
    Prose,
    TableSegment,
    segments_for,
    split_prose,
    table_prose,
)
from bot.slack.render.table import (
    data_table_block,
    fence_markup_for,
    fits_data_table,
    fits_table_block,
    table_block,
)
from bot.slack.render.text import (
    plain_text_for,
    slack_len,
    truncate,
)

__all__ = [
    "SlackMessage",
    "TableCaption",
    "code_blocks_for",
    "code_messages_for",
    "plain_text_for",
    "slack_messages_for",
]

MARKDOWN_BLOCK_LIMIT = 12_000
MAX_BLOCKS = 50
FALLBACK_TEXT_LIMIT = 3000
# A block too long for any message fills what is left of the current message only when
# that is worth a piece of its own; otherwise it starts a new message.
_MIN_FILL = 1000

TableCaption = Callable[[int], str]  # the caption of the answer's n-th table (from 1)
Blocks = tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class SlackMessage:
    """One ``chat.postMessage``: ``text`` is the notification fallback, ``blocks`` the body.

    ``alternatives`` are plainer versions of ``blocks``, in order, for when Slack refuses the
    blocks (a native block it does not take); the plain ``text`` is the last resort.
    """

    text: str
    blocks: Blocks
    alternatives: tuple[Blocks, ...] = ()

    def with_blocks(
        self, extra: Sequence[dict[str, Any]], *, optional: bool = False
    ) -> SlackMessage:
        """This message with ``extra`` blocks added at the end.

        ``optional`` blocks are left out of the alternatives (and the message without them
        becomes the first alternative); others are added to every alternative too.
        """
        added = tuple(extra)
        if optional:
            return replace(
                self,
                blocks=(*self.blocks, *added),
                alternatives=(self.blocks, *self.alternatives),
            )
        return replace(
            self,
            blocks=(*self.blocks, *added),
            alternatives=tuple((*alt, *added) for alt in self.alternatives),
        )


@dataclass
class _Draft:
    """The message being filled: closed blocks plus Markdown parts not yet joined into one."""

    budget: int
    max_blocks: int
    blocks: list[dict[str, Any]] = field(default_factory=list)
    parts: list[tuple[str, str]] = field(default_factory=list)  # (markdown, kind)
    sources: list[str] = field(default_factory=list)
    used: int = 0
    pending: int = 0  # size of the parts joined by blank lines
    has_table: bool = False
    plainer: tuple[int, dict[str, Any]] | None = None  # (index, table block) for a data table

    def room(self) -> int:
        """Characters one more Markdown part may have."""
        if not self.parts and len(self.blocks) >= self.max_blocks:
            return 0
        joint = 2 if self.parts else 0
        return self.budget - self.used - self.pending - joint

    def add_prose(self, text: str, kind: str) -> None:
        self.pending += slack_len(text) + (2 if self.parts else 0)
        self.parts.append((text, kind))
        self.sources.append(text)

    def _close_prose(self) -> None:
        if self.parts:
            self.used += self.pending
            self.blocks.append({"type": "markdown", "text": "\n\n".join(t for t, _ in self.parts)})
            self.parts, self.pending = [], 0

    def can_add_table(self, segment: TableSegment) -> bool:
        blocks = len(self.blocks) + (1 if self.parts else 0) + 1
        size = self.used + self.pending + segment.table.size
        return not self.has_table and blocks <= self.max_blocks and size <= self.budget

    def add_table(self, segment: TableSegment, *, caption: str | None) -> None:
        self._close_prose()
        if caption is not None and fits_data_table(segment.table):
            self.plainer = (len(self.blocks), table_block(segment.table))
            self.blocks.append(data_table_block(segment.table, caption=caption))
        else:
            self.blocks.append(table_block(segment.table))
        self.used += segment.table.size
        self.has_table = True
        self.sources.append(segment.source)

    def take_trailing_heading(self) -> tuple[str, str] | None:
        """The last part when it is a heading with something before it, removed."""
        if self.parts and self.parts[-1][1] == "heading" and (len(self.parts) > 1 or self.blocks):
            self.sources.pop()
            text, kind = self.parts.pop()
            self.pending -= slack_len(text) + (2 if self.parts else 0)
            return text, kind
        return None

    def finish(self) -> SlackMessage | None:
        self._close_prose()
        if not self.blocks:
            return None
        source = "\n\n".join(self.sources)
        text = plain_text_for(source, limit=FALLBACK_TEXT_LIMIT)
        alternatives: tuple[Blocks, ...] = ()
        if self.plainer is not None:
            index, plain = self.plainer
            alternatives = ((*self.blocks[:index], plain, *self.blocks[index + 1 :]),)
        return SlackMessage(
            text=text or truncate(source, FALLBACK_TEXT_LIMIT),
            blocks=tuple(self.blocks),
            alternatives=alternatives,
        )


class _Packer:
    """Fills messages in order; a block moves whole to the next message when it fits there."""

    def __init__(
        self, *, budget: int, max_blocks: int, table_caption: TableCaption | None = None
    ) -> None:
        self.budget = budget
        self.max_blocks = max_blocks
        self.table_caption = table_caption
        self.tables = 0
        self.messages: list[SlackMessage] = []
        self.draft = _Draft(budget=budget, max_blocks=max_blocks)

    def flush(self, *, carry_heading: bool = False) -> None:
        # A heading belongs with what follows it, so it moves along to the next message.
        carried = self.draft.take_trailing_heading() if carry_heading else None
        message = self.draft.finish()
        if message is not None:
            self.messages.append(message)
        self.draft = _Draft(budget=self.budget, max_blocks=self.max_blocks)
        if carried is not None:
            self.draft.add_prose(*carried)

    def add_prose(self, prose: Prose) -> None:
        size = slack_len(prose.text)
        if size <= self.draft.room():
            self.draft.add_prose(prose.text, prose.kind)
            return
        if size <= self.budget:
            self.flush(carry_heading=True)
            if size > self.draft.room():
                self.flush()
            self.draft.add_prose(prose.text, prose.kind)
            return
        if self.draft.room() < _MIN_FILL:
            self.flush(carry_heading=True)
        for piece in split_prose(prose, first=self.draft.room(), rest=self.budget):
            if slack_len(piece) > self.draft.room():
                self.flush()
            self.draft.add_prose(piece, "block")

    def add_table(self, segment: TableSegment) -> None:
        if not fits_table_block(segment.table, budget=self.budget):
            self.add_prose(table_prose(segment))
            return
        if not self.draft.can_add_table(segment):
            self.flush(carry_heading=True)
            if not self.draft.can_add_table(segment):
                self.flush()
        self.tables += 1
        caption = self.table_caption(self.tables) if self.table_caption else None
        self.draft.add_table(segment, caption=caption)


def _check_limits(max_markdown_chars: int, max_blocks: int) -> None:
    if not 100 <= max_markdown_chars <= MARKDOWN_BLOCK_LIMIT:
        raise ValueError(f"max_markdown_chars must be 100..{MARKDOWN_BLOCK_LIMIT}")
    if not 1 <= max_blocks <= MAX_BLOCKS:
        raise ValueError(f"max_blocks must be 1..{MAX_BLOCKS}")


def slack_messages_for(
    markdown: str,
    *,
    max_markdown_chars: int = 11_000,
    max_blocks: int = 45,
    table_caption: TableCaption | None = None,
) -> list[SlackMessage]:
    """The answer as few Slack messages as the limits allow, in order, losing no text.

    Prose becomes markdown blocks, cut only between blocks unless one block is itself too
    long (then at a line, sentence or word; code blocks are closed and reopened). Each table
    becomes a table block, one per message; a table too big for one becomes an aligned code
    block. ``max_markdown_chars`` bounds all block text of one message. Blank input gives [].
    With ``table_caption``, a table that fits a data_table block becomes one (captioned),
    with the table block as the message's alternative. Raises ValueError when a limit is
    outside what Slack accepts.
    """
    _check_limits(max_markdown_chars, max_blocks)
    packer = _Packer(budget=max_markdown_chars, max_blocks=max_blocks, table_caption=table_caption)
    for segment in segments_for(markdown):
        if isinstance(segment, TableSegment):
            packer.add_table(segment)
        else:
            packer.add_prose(segment)
    packer.flush()
    return packer.messages


def code_blocks_for(
    code: str, *, language: str = "python", max_chars: int = 11_000
) -> list[dict[str, Any]]:
    """``code`` as fenced markdown blocks of at most ``max_chars`` each, cut between lines.

    Each block fills one message's whole markdown allowance: post them as separate messages
    (see `code_messages_for`). Blank code gives []. Raises ValueError for a bad ``max_chars``.
    """
    _check_limits(max_chars, 1)
    if not code.strip():
        return []
    content = code if code.endswith("\n") else code + "\n"
    markup = fence_markup_for(content)
    prose = Prose(
        text=f"{markup}{language}\n{content}{markup}",
        kind="fence",
        fence=Fence(markup=markup, info=language, content=content),
    )
    pieces = [prose.text] if slack_len(prose.text) <= max_chars else None
    pieces = pieces or split_prose(prose, first=max_chars, rest=max_chars)
    return [{"type": "markdown", "text": piece} for piece in pieces]


def code_messages_for(
    code: str, *, language: str = "python", max_markdown_chars: int = 11_000
) -> list[SlackMessage]:
    """The "Show code" reply: one message per block of `code_blocks_for`."""
    blocks = code_blocks_for(code, language=language, max_chars=max_markdown_chars)
    return [
        SlackMessage(text=plain_text_for(block["text"], limit=FALLBACK_TEXT_LIMIT), blocks=(block,))
        for block in blocks
    ]
