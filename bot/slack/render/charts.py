"""A chart description the model saved, checked strictly and turned into Slack's native
``data_visualization`` block. Pure: parsed JSON in, a block dict (or the reason it is not
one) out.

The description format is ours (the instructions teach it to the model); the limits are
Slack's, from its reference page for the block
(docs.slack.dev/reference/block-kit/blocks/data-visualization-block): a title of at most 50
characters, and for a pie chart 1 to 6 segments, each a label of at most 20 characters and
a value greater than 0. Only pie charts are described: for bar, area and line charts that
page's description of a data series and of the axis configuration (their fields and
limits) could not be read in full, so those charts stay PNG files rather than blocks built
on a guess. Lengths are measured after the plain-text neutralising the gateway applies, so
a label that grows there (a broadcast word gets a word joiner) is refused here, not by Slack.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from bot.slack.neutralize import for_plain
from bot.slack.render.text import slack_len

__all__ = ["CHART_SUFFIX", "MAX_TITLE", "chart_block_for", "chart_problem"]

CHART_SUFFIX = ".chart.json"  # saved next to the PNG: monthly_sales.png + monthly_sales.chart.json
MAX_TITLE = 50
MAX_SEGMENTS = 6
MAX_LABEL = 20
_CHART_KEYS = frozenset({"type", "title", "segments"})
_SEGMENT_KEYS = frozenset({"label", "value"})


def _text_problem(value: object, *, limit: int, what: str) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return f"{what} must be a non-empty string"
    if slack_len(for_plain(value)) > limit:
        return f"{what} is longer than {limit} characters"
    return None


def _number(value: object) -> float | None:
    # bool is an int in Python, but true is not a number in JSON.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _segment_problem(index: int, segment: object) -> str | None:
    if not isinstance(segment, Mapping) or set(segment) != _SEGMENT_KEYS:
        return f"segment {index} must have exactly a label and a value"
    label_problem = _text_problem(segment["label"], limit=MAX_LABEL, what=f"segment {index} label")
    if label_problem:
        return label_problem
    value = _number(segment["value"])
    if value is None or value <= 0:
        return f"segment {index} value must be a number greater than 0"
    return None


def chart_problem(spec: object) -> str | None:
    """Why ``spec`` (parsed JSON) is not a chart Slack can draw natively; None when it is."""
    if not isinstance(spec, Mapping) or set(spec) != _CHART_KEYS:
        return "a chart has exactly the keys type, title and segments"
    if spec["type"] != "pie":
        return "only pie charts are drawn natively"
    title_problem = _text_problem(spec["title"], limit=MAX_TITLE, what="title")
    if title_problem:
        return title_problem
    segments = spec["segments"]
    if not isinstance(segments, list) or not 1 <= len(segments) <= MAX_SEGMENTS:
        return f"a pie chart has 1 to {MAX_SEGMENTS} segments"
    labels = [s.get("label") if isinstance(s, Mapping) else None for s in segments]
    for index, segment in enumerate(segments):
        problem = _segment_problem(index, segment)
        if problem:
            return problem
    if len(set(labels)) != len(labels):
        return "segment labels must differ"  # a legend with two equal entries misleads
    return None


def chart_block_for(spec: object) -> dict[str, Any] | None:
    """The ``data_visualization`` block for a valid description; None for any other."""
    if chart_problem(spec) is not None:
        return None
    assert isinstance(spec, Mapping)
    segments = [{"label": s["label"].strip(), "value": s["value"]} for s in spec["segments"]]
    return {
        "type": "data_visualization",
        "title": spec["title"].strip(),
        "chart": {"type": "pie", "segments": segments},
    }
