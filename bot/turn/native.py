"""Step 6, charts: the model's chart descriptions read from disk and paired with their PNGs.

The model saves ``name.chart.json`` next to ``name.png`` for a chart Slack can draw itself
(the format is in bot/engines/instructions.py). A description that is valid and has its PNG
becomes a native chart block in the answer, and the PNG is held back; if Slack refuses the
block, the PNG is posted after all, so nothing is lost. Descriptions are never posted as
files. At most ``MAX_NATIVE_CHARTS`` charts go native (the rest stay PNGs), which leaves the
answer's first message room for them under Slack's 50 blocks.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.slack.render import CHART_SUFFIX, chart_block_for, chart_problem
from bot.types import Artifact

__all__ = ["MAX_NATIVE_CHARTS", "NativeCharts", "native_charts"]

MAX_NATIVE_CHARTS = 2
MAX_DESCRIPTION_BYTES = 16 * 1024  # a pie of six slices is a few hundred bytes

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NativeCharts:
    """Chart blocks for the answer, and which artifacts they stand for."""

    blocks: tuple[dict[str, Any], ...] = ()
    pngs: tuple[Artifact, ...] = ()  # posted only if Slack refuses the blocks
    descriptions: tuple[Artifact, ...] = ()  # never posted

    def files_to_post(self, artifacts: Sequence[Artifact], *, shown: bool) -> list[Artifact]:
        """The artifacts to upload: without the descriptions, and without the PNGs when the
        chart blocks were shown."""
        held = {a.file_id for a in self.descriptions}
        if shown:
            held |= {a.file_id for a in self.pngs}
        return [a for a in artifacts if a.file_id not in held]


def _stem(name: str, suffix: str) -> str | None:
    return name[: -len(suffix)] if name.lower().endswith(suffix) else None


def _read_description(path: Path, size: int) -> object:
    if size > MAX_DESCRIPTION_BYTES:
        return None
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, ValueError):
        return None


async def native_charts(artifacts: Sequence[Artifact]) -> NativeCharts:
    """The chart blocks for this answer's valid descriptions that have their PNG."""
    pngs = {stem: a for a in artifacts if (stem := _stem(a.name, ".png")) is not None}
    descriptions = [a for a in artifacts if _stem(a.name, CHART_SUFFIX) is not None]
    blocks: list[dict[str, Any]] = []
    used: list[Artifact] = []
    for description in descriptions:
        stem = _stem(description.name, CHART_SUFFIX)
        png = pngs.get(stem or "")
        if png is None or len(blocks) >= MAX_NATIVE_CHARTS:
            continue
        spec = await asyncio.to_thread(_read_description, description.path, description.size)
        block = chart_block_for(spec)
        if block is None:
            log.info("chart %s stays a PNG: %s", png.name, chart_problem(spec) or "unreadable")
            continue
        blocks.append(block)
        used.append(png)
    return NativeCharts(blocks=tuple(blocks), pngs=tuple(used), descriptions=tuple(descriptions))
