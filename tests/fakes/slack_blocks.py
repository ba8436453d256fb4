"""Block Kit checks the fake applies like Slack does, and a plain-text rendering of blocks.

Limits (docs.slack.dev/reference/block-kit): 50 blocks per message; section text 3,000 and
fields 10 x 2,000; header 150; ``markdown`` blocks 12,000 characters in total per message;
one ``table`` block per message with at most 100 rows of 20 cells. Slack reports schema
failures as ``invalid_blocks`` with JSON-pointer messages, and the markdown total as
``msg_blocks_too_long``.

``data_table`` (docs.slack.dev/reference/block-kit/blocks/data-table-block): a caption; a
header row plus 1 to 100 rows of 1 to 20 cells, all as wide; cells raw_text (text of at
least one character), raw_number (a number) or rich_text (not in the header); at most
10,000 characters across all cells; page_size 1..100.

``data_visualization`` (docs.slack.dev/reference/block-kit/blocks/data-visualization-block):
a title of at most 50 characters and a chart of type pie, bar, area or line; a pie has 1 to
6 segments, each a label of at most 20 characters and a value greater than 0; bar, area and
line charts have 1 to 6 series and an axis_config. The page's data series and axis config
fields could not be read in full, so those are checked only for presence.
"""

from __future__ import annotations

import json
from typing import Any

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_MARKDOWN_TOTAL = 12_000
MAX_TABLE_ROWS = 100
MAX_TABLE_CELLS = 20
MAX_DATA_TABLE_ROWS = 101  # the header row plus 100
MAX_DATA_TABLE_CHARS = 10_000
MAX_CHART_TITLE = 50
MAX_CHART_ITEMS = 6  # pie segments, or series of a bar/area/line chart
MAX_SEGMENT_LABEL = 20
CHART_TYPES = ("pie", "bar", "area", "line")


class BlocksRejected(Exception):
    """Blocks Slack would refuse: ``error`` is the API error code, ``errors`` the details."""

    def __init__(self, error: str, errors: list[str] | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.errors = errors or []


def parse_blocks(raw: Any) -> list[dict[str, Any]]:
    """Blocks from a JSON body (a list) or a form/query argument (a JSON string)."""
    if raw is None or raw == "":
        return []
    value = raw
    if isinstance(raw, str):
        try:
            value = json.loads(raw)
        except ValueError as e:
            raise BlocksRejected("invalid_blocks_format") from e
    if not isinstance(value, list) or not all(isinstance(b, dict) for b in value):
        raise BlocksRejected("invalid_blocks_format")
    return value


def check_blocks(
    blocks: list[dict[str, Any]],
    *,
    refused_types: frozenset[str] = frozenset(),
    limit: int = MAX_BLOCKS,
) -> None:
    """Raise BlocksRejected for blocks Slack would refuse (``limit``: 100 in views).

    ``refused_types`` are block types this workspace does not take (as Slack answers a
    block type it does not know).
    """
    if len(blocks) > limit:
        raise _invalid(f"no more than {limit} items allowed [json-pointer:/blocks]")
    tables = 0
    markdown_total = 0
    for i, block in enumerate(blocks):
        kind = block.get("type")
        where = f"/blocks/{i}"
        if not isinstance(kind, str):
            raise _invalid(f"missing required field: type [json-pointer:{where}]")
        if kind in refused_types:
            raise _invalid(f"unsupported type: {kind} [json-pointer:{where}/type]")
        if kind == "section":
            _check_section(block, where)
        elif kind == "header":
            _check_length(_text_of(block.get("text")), MAX_HEADER_TEXT, f"{where}/text/text")
        elif kind == "markdown":
            markdown_total += len(str(block.get("text", "")))
        elif kind == "table":
            tables += 1
            _check_table(block, where)
        elif kind == "data_table":
            _check_data_table(block, where)
        elif kind == "data_visualization":
            _check_chart(block, where)
        elif kind == "context_actions":
            _check_context_actions(block, where)
    if tables > 1:
        raise _invalid("only one table block is allowed per message [json-pointer:/blocks]")
    if markdown_total > MAX_MARKDOWN_TOTAL:
        raise BlocksRejected("msg_blocks_too_long")


def _invalid(message: str) -> BlocksRejected:
    return BlocksRejected("invalid_blocks", [message])


def _check_length(text: str, limit: int, pointer: str) -> None:
    if len(text) > limit:
        raise _invalid(f"must be less than {limit + 1} characters [json-pointer:{pointer}]")


def _check_section(block: dict[str, Any], where: str) -> None:
    text = block.get("text")
    fields = block.get("fields") or []
    if text is None and not fields:
        raise _invalid(f"must provide at least one of text, fields [json-pointer:{where}]")
    _check_length(_text_of(text), MAX_SECTION_TEXT, f"{where}/text/text")
    if len(fields) > MAX_FIELDS:
        raise _invalid(f"no more than {MAX_FIELDS} items allowed [json-pointer:{where}/fields]")
    for j, item in enumerate(fields):
        _check_length(_text_of(item), MAX_FIELD_TEXT, f"{where}/fields/{j}/text")


def _check_context_actions(block: dict[str, Any], where: str) -> None:
    """A context_actions block: 1 to 5 feedback_buttons or icon_button elements; feedback
    buttons need both buttons, each with plain_text (75 characters) and a value."""
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        raise _invalid(f"missing required field: elements [json-pointer:{where}]")
    if len(elements) > 5:
        raise _invalid(f"no more than 5 items allowed [json-pointer:{where}/elements]")
    for j, element in enumerate(elements):
        at = f"{where}/elements/{j}"
        kind = element.get("type") if isinstance(element, dict) else None
        if kind not in ("feedback_buttons", "icon_button"):
            raise _invalid(f"must be one of feedback_buttons, icon_button [json-pointer:{at}]")
        if kind != "feedback_buttons":
            continue
        for side in ("positive_button", "negative_button"):
            button = element.get(side)
            if not isinstance(button, dict) or not isinstance(button.get("value"), str):
                raise _invalid(f"missing required field: {side} [json-pointer:{at}]")
            text = button.get("text")
            if not isinstance(text, dict) or text.get("type") != "plain_text":
                raise _invalid(f"must be a plain_text object [json-pointer:{at}/{side}/text]")
            _check_length(_text_of(text), 75, f"{at}/{side}/text/text")


def _check_table(block: dict[str, Any], where: str) -> None:
    rows = block.get("rows")
    if not isinstance(rows, list) or not rows:
        raise _invalid(f"missing required field: rows [json-pointer:{where}]")
    if len(rows) > MAX_TABLE_ROWS:
        raise _invalid(f"no more than {MAX_TABLE_ROWS} items allowed [json-pointer:{where}/rows]")
    for j, row in enumerate(rows):
        if not isinstance(row, list):
            raise _invalid(f"expected array [json-pointer:{where}/rows/{j}]")
        if len(row) > MAX_TABLE_CELLS:
            raise _invalid(
                f"no more than {MAX_TABLE_CELLS} items allowed [json-pointer:{where}/rows/{j}]"
            )


def _check_data_table(block: dict[str, Any], where: str) -> None:
    if not isinstance(block.get("caption"), str):
        raise _invalid(f"missing required field: caption [json-pointer:{where}]")
    page_size = block.get("page_size", 5)
    if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= 100:
        raise _invalid(f"must be between 1 and 100 [json-pointer:{where}/page_size]")
    rows = block.get("rows")
    if not isinstance(rows, list) or not 2 <= len(rows) <= MAX_DATA_TABLE_ROWS:
        raise _invalid(f"must have 2 to {MAX_DATA_TABLE_ROWS} rows [json-pointer:{where}/rows]")
    width = len(rows[0]) if isinstance(rows[0], list) else 0
    if not 1 <= width <= MAX_TABLE_CELLS:
        raise _invalid(f"must have 1 to {MAX_TABLE_CELLS} columns [json-pointer:{where}/rows/0]")
    chars = 0
    for j, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != width:
            raise _invalid(f"all rows must have the same length [json-pointer:{where}/rows/{j}]")
        for k, cell in enumerate(row):
            chars += _data_cell_chars(cell, header=j == 0, pointer=f"{where}/rows/{j}/{k}")
    if chars > MAX_DATA_TABLE_CHARS:
        raise _invalid(f"more than {MAX_DATA_TABLE_CHARS} characters [json-pointer:{where}]")


def _data_cell_chars(cell: Any, *, header: bool, pointer: str) -> int:
    kind = cell.get("type") if isinstance(cell, dict) else None
    if kind == "raw_text" and isinstance(cell.get("text"), str) and cell["text"]:
        return len(cell["text"])
    if kind == "raw_number":
        value = cell.get("value")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _invalid(f"value must be a number [json-pointer:{pointer}/value]")
        text = cell.get("text")
        if text is not None and (not isinstance(text, str) or not text):
            raise _invalid(f"must be at least 1 character [json-pointer:{pointer}/text]")
        return len(text or str(value))
    if kind == "rich_text" and not header:
        return len(_block_text(cell))
    raise _invalid(f"invalid cell [json-pointer:{pointer}]")


def _check_chart(block: dict[str, Any], where: str) -> None:
    title = block.get("title")
    if not isinstance(title, str) or not title:
        raise _invalid(f"missing required field: title [json-pointer:{where}]")
    _check_length(title, MAX_CHART_TITLE, f"{where}/title")
    chart = block.get("chart")
    kind = chart.get("type") if isinstance(chart, dict) else None
    if kind not in CHART_TYPES:
        raise _invalid(f"must be one of {', '.join(CHART_TYPES)} [json-pointer:{where}/chart]")
    assert isinstance(chart, dict)
    key = "segments" if kind == "pie" else "series"
    items = chart.get(key)
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_CHART_ITEMS:
        raise _invalid(f"must have 1 to {MAX_CHART_ITEMS} items [json-pointer:{where}/chart/{key}]")
    if kind != "pie":
        if not isinstance(chart.get("axis_config"), dict):
            raise _invalid(f"missing required field: axis_config [json-pointer:{where}/chart]")
        return
    for j, segment in enumerate(items):
        pointer = f"{where}/chart/segments/{j}"
        label = segment.get("label") if isinstance(segment, dict) else None
        if not isinstance(label, str) or not label:
            raise _invalid(f"missing required field: label [json-pointer:{pointer}]")
        _check_length(label, MAX_SEGMENT_LABEL, f"{pointer}/label")
        value = segment.get("value")
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise _invalid(f"must be greater than 0 [json-pointer:{pointer}/value]")


def _text_of(obj: Any) -> str:
    if isinstance(obj, dict):
        return str(obj.get("text", ""))
    if isinstance(obj, str):
        return obj
    return ""


# ----------------------------------------------------------------- rendering


def blocks_text(blocks: list[dict[str, Any]]) -> str:
    """Best-effort plain text of blocks, one block per line group."""
    parts = [_block_text(b) for b in blocks]
    return "\n".join(p for p in parts if p)


def _block_text(block: dict[str, Any]) -> str:
    kind = block.get("type")
    if kind == "section":
        texts = [_text_of(block.get("text"))] + [_text_of(f) for f in block.get("fields") or []]
        return "\n".join(t for t in texts if t)
    if kind in ("header", "markdown"):
        return _text_of(block.get("text")) if kind == "header" else str(block.get("text", ""))
    if kind == "rich_text":
        return "\n".join(_rich_element_text(e) for e in block.get("elements") or [])
    if kind == "context":
        return " ".join(_text_of(e) or _image_text(e) for e in block.get("elements") or [])
    if kind in ("table", "data_table"):
        return "\n".join(" | ".join(_cell_text(c) for c in row) for row in block.get("rows") or [])
    if kind == "data_visualization":
        chart = block.get("chart") or {}
        points = [f"{s.get('label')}: {s.get('value')}" for s in chart.get("segments") or []]
        return f"[chart: {block.get('title', '')}] " + ", ".join(points)
    if kind == "image":
        return _image_text(block)
    if kind == "actions":
        return " ".join(f"[{_text_of(e.get('text'))}]" for e in block.get("elements") or [])
    if kind == "context_actions":
        return " ".join(
            f"[{_text_of(e.get('positive_button', {}).get('text'))}]"
            f"[{_text_of(e.get('negative_button', {}).get('text'))}]"
            for e in block.get("elements") or []
            if e.get("type") == "feedback_buttons"
        )
    if kind == "divider":
        return "---"
    return ""


def _image_text(element: dict[str, Any]) -> str:
    if element.get("type") != "image":
        return ""
    return f"[image: {element.get('alt_text', '')}]"


def _cell_text(cell: Any) -> str:
    if isinstance(cell, dict) and cell.get("type") == "rich_text":
        return _block_text(cell)
    if isinstance(cell, dict) and cell.get("type") == "raw_number":
        return str(cell.get("text") or cell.get("value", ""))
    return _text_of(cell)


def _rich_element_text(element: dict[str, Any]) -> str:
    kind = element.get("type")
    children = element.get("elements") or []
    if kind == "rich_text_list":
        return "\n".join(f"- {_rich_element_text(c)}" for c in children)
    inner = "".join(_rich_leaf_text(c) for c in children)
    if kind == "rich_text_preformatted":
        return f"```\n{inner}\n```"
    if kind == "rich_text_quote":
        return f"> {inner}"
    return inner


def _rich_leaf_text(leaf: dict[str, Any]) -> str:
    kind = leaf.get("type")
    if kind == "text":
        return str(leaf.get("text", ""))
    if kind == "link":
        return str(leaf.get("text") or leaf.get("url", ""))
    if kind == "user":
        return f"<@{leaf.get('user_id', '')}>"
    if kind == "channel":
        return f"<#{leaf.get('channel_id', '')}>"
    if kind == "emoji":
        return f":{leaf.get('name', '')}:"
    return _rich_element_text(leaf) if leaf.get("elements") else ""
