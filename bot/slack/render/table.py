"""Markdown tables as Slack `data_table` or `table` blocks, or as aligned monospace text
when too big.

Pure functions; nothing here performs I/O or raises.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from markdown_it.token import Token

from bot.slack.render.text import display_width, inline_text, slack_len

# Slack's table block: at most 100 rows (the header row included) of at most 20 cells.
MAX_TABLE_ROWS = 100
MAX_TABLE_COLUMNS = 20
# Slack's data_table block (docs.slack.dev/reference/block-kit/blocks/data-table-block): a
# header row plus 1 to 100 rows of 1 to 20 cells, every row as wide, at most 10,000
# characters across all cells; a raw_text cell has at least one character; page_size 1..100.
MAX_DATA_TABLE_ROWS = 100
MAX_DATA_TABLE_CHARS = 10_000
DATA_TABLE_PAGE_SIZE = 20
# A cell that is only a number (thousands commas allowed) becomes raw_number, so the column
# sorts numerically; anything else ("12%", "₩1,000", "1e5", a code like "007") stays text.
_NUMBER = re.compile(r"-?(?:[1-9]\d{0,2}(?:,\d{3})+|0|[1-9]\d*)(?:\.\d+)?")
# A column whose longest cell is wider than this wraps instead of being cut off.
_WRAP_WIDTH = 40
_ALIGN = re.compile(r"text-align:\s*(left|center|right)")


@dataclass(frozen=True)
class Table:
    """A parsed Markdown table: cell texts are plain text, every row as wide as the header."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    aligns: tuple[str, ...]

    @property
    def size(self) -> int:
        """Characters across all cells as sent (an empty cell is sent as one space)."""
        return sum(slack_len(cell) or 1 for row in (self.header, *self.rows) for cell in row)


def table_from_tokens(tokens: Sequence[Token]) -> Table:
    """The table between a ``table_open`` token and its ``table_close``."""
    header: list[str] = []
    aligns: list[str] = []
    rows: list[tuple[str, ...]] = []
    current: list[str] = []
    for token in tokens:
        if token.type == "th_open":
            match = _ALIGN.search(str(token.attrs.get("style", "")))
            aligns.append(match.group(1) if match else "left")
        elif token.type == "inline":
            current.append(inline_text(token.children, keep_urls=True, br=" ").strip())
        elif token.type == "tr_close":
            if header:
                rows.append(tuple(current))
            else:
                header = current
            current = []
    width = len(header)
    padded = tuple(tuple(row[:width]) + ("",) * (width - len(row)) for row in rows)
    return Table(header=tuple(header), rows=padded, aligns=tuple(aligns))


def fits_table_block(table: Table, *, budget: int) -> bool:
    """Whether ``table`` can be one Slack table block within ``budget`` characters."""
    return (
        1 + len(table.rows) <= MAX_TABLE_ROWS
        and len(table.header) <= MAX_TABLE_COLUMNS
        and table.size <= budget
    )


def fits_data_table(table: Table) -> bool:
    """Whether ``table`` can be a Slack data_table block (and, as its fallback, a table block).

    The table block's own limits are checked too: when Slack refuses the data table, the
    same table goes out as a table block without repacking the message.
    """
    return (
        1 <= len(table.rows) <= MAX_DATA_TABLE_ROWS
        and len(table.header) >= 1
        and table.size <= MAX_DATA_TABLE_CHARS
        and fits_table_block(table, budget=MAX_DATA_TABLE_CHARS)
    )


def _data_cell(text: str, *, header: bool) -> dict[str, Any]:
    if not header and _NUMBER.fullmatch(text):
        digits = text.replace(",", "")
        value: float | int = float(digits) if "." in digits else int(digits)
        return {"type": "raw_number", "value": value, "text": text}
    return {"type": "raw_text", "text": text or " "}


def data_table_block(table: Table, *, caption: str) -> dict[str, Any]:
    """The Slack ``data_table`` block for ``table`` (check `fits_data_table` first)."""
    rows = [[_data_cell(text, header=True) for text in table.header]]
    rows.extend([_data_cell(text, header=False) for text in row] for row in table.rows)
    return {
        "type": "data_table",
        "caption": caption,
        "page_size": min(DATA_TABLE_PAGE_SIZE, len(table.rows)),
        "rows": rows,
    }


def table_block(table: Table) -> dict[str, Any]:
    """The Slack ``table`` block for ``table`` (check `fits_table_block` first)."""

    def cell(text: str) -> dict[str, Any]:
        # Slack refuses a raw_text cell with no characters.
        return {"type": "raw_text", "text": text or " "}

    columns = list(zip(table.header, *table.rows, strict=True))
    return {
        "type": "table",
        "rows": [[cell(text) for text in row] for row in (table.header, *table.rows)],
        "column_settings": [
            {"align": align, "is_wrapped": max(map(display_width, column)) > _WRAP_WIDTH}
            for align, column in zip(table.aligns, columns, strict=True)
        ],
    }


def _pad(text: str, width: int, align: str) -> str:
    gap = width - display_width(text)
    if align == "right":
        return " " * gap + text
    if align == "center":
        return " " * (gap // 2) + text + " " * (gap - gap // 2)
    return text + " " * gap


def table_as_text(table: Table) -> str:
    """``table`` as monospace lines aligned by display width; the first two are the header."""
    all_rows = (table.header, *table.rows)
    widths = [
        max(1, *(display_width(row[i]) for row in all_rows)) for i in range(len(table.header))
    ]

    def line(row: Sequence[str]) -> str:
        cells = (_pad(t, w, a) for t, w, a in zip(row, widths, table.aligns, strict=True))
        return ("| " + " | ".join(cells) + " |").rstrip()

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(table.header), rule, *(line(row) for row in table.rows)]) + "\n"


def fence_markup_for(code: str) -> str:
    """A backtick fence longer than any backtick run in ``code``, so the code cannot close it."""
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    return "`" * max(3, longest + 1)
