"""`insightbot usage` and `insightbot channels`: the operator's view of spending and of the
per-channel settings, read from (and for `channels set`, written to) the bot's database.

Operator output is plain English on stdout, like the rest of the command line; a running bot
sees a `channels set` within a minute.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from bot.config import Settings
from bot.errors import ConfigError
from storage import Store, open_store
from storage.records import ChannelSetting, UsageRow

__all__ = ["channels_list", "channels_set", "parse_since", "usage_report", "usage_table"]

_SPAN = re.compile(r"(\d+(?:\.\d+)?)\s*([hdw])")
_SECONDS = {"h": 3600, "d": 86400, "w": 7 * 86400}
UNCHANGED: Any = object()


def parse_since(text: str, *, now: float) -> float:
    """``30d``, ``12h``, ``2w`` or a date (``2026-05-01``, UTC) → epoch seconds.

    Raises ConfigError for anything else.
    """
    value = text.strip().lower()
    match = _SPAN.fullmatch(value)
    if match:
        return now - float(match.group(1)) * _SECONDS[match.group(2)]
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC).timestamp()
    except ValueError:
        raise ConfigError(
            f"--since must look like 30d, 12h, 2w or 2026-05-01, got {text!r}."
        ) from None


def _row_json(row: UsageRow) -> dict[str, Any]:
    data = asdict(row)
    data["cost_usd"] = round(row.cost_usd, 6)
    data["container_usd_estimate"] = round(data.pop("container_usd"), 6)
    return data


def usage_table(rows: Sequence[UsageRow], *, by: str) -> str:
    """The report as an aligned table; costs with unpriced turns are marked ``+?``."""
    header = [by.upper(), "TURNS", "FAILED", "REFUSED", "INPUT", "CACHED", "OUTPUT", "REASONING",
              "COST_USD", "SANDBOX_USD*", "UP", "DOWN"]  # fmt: skip
    lines = [header]
    for r in rows:
        cost = f"{r.cost_usd:.4f}" + ("+?" if r.unknown_cost_turns else "")
        lines.append([
            r.key or "-", str(r.turns), str(r.failed), str(r.refused), f"{r.input_tokens:,}",
            f"{r.cached_input_tokens:,}", f"{r.output_tokens:,}", f"{r.reasoning_tokens:,}",
            cost, f"{r.container_usd:.4f}", str(r.thumbs_up), str(r.thumbs_down),
        ])  # fmt: skip
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in
                     enumerate(zip(line, widths, strict=True))) for line in lines]  # fmt: skip
    out.append(
        "* sandbox time is an estimate (and part of COST_USD); +? marks turns on a model "
        "whose price is unknown (see INSIGHTBOT_PRICES)."
    )
    return "\n".join(out)


async def usage_report(
    settings: Settings,
    *,
    since: str,
    by: str,
    as_json: bool,
    say: Callable[[str], None],
    now: float | None = None,
) -> int:
    """Print the usage report; returns the exit code."""
    start = parse_since(since, now=time.time() if now is None else now)
    store = await open_store(settings.db_path)
    try:
        rows = await store.usage_report(since=start, by=by, timezone=settings.timezone)
    finally:
        await store.close()
    if as_json:
        say(json.dumps([_row_json(r) for r in rows], ensure_ascii=False, indent=2))
    elif rows:
        say(usage_table(rows, by=by))
    else:
        say("No turns in that period.")
    return 0


def _setting_json(setting: ChannelSetting) -> dict[str, Any]:
    return asdict(setting)


async def channels_list(settings: Settings, *, as_json: bool, say: Callable[[str], None]) -> int:
    store = await open_store(settings.db_path)
    try:
        found = await store.channel_settings()
    finally:
        await store.close()
    if as_json:
        say(json.dumps([_setting_json(s) for s in found.values()], indent=2))
        return 0
    if not found:
        say("No channel has its own settings.")
        return 0
    say("CHANNEL      ENABLED  MODEL                DAILY_USD  UPDATED_BY")
    for s in found.values():
        enabled = "default" if s.enabled is None else ("on" if s.enabled else "off")
        daily = "default" if s.daily_usd is None else f"{s.daily_usd:g}"
        say(
            f"{s.channel:<12} {enabled:<8} {s.model or 'default':<20} {daily:<10} {s.updated_by or '-'}"
        )
    return 0


async def channels_set(
    settings: Settings,
    *,
    channel: str,
    enabled: bool | None = UNCHANGED,
    model: str | None = UNCHANGED,
    daily_usd: float | None = UNCHANGED,
    say: Callable[[str], None],
) -> int:
    """Change one channel's settings (only those given); returns the exit code."""
    if not re.fullmatch(r"[CG][A-Z0-9]{2,31}", channel):
        raise ConfigError(f"CHANNEL_ID must be a Slack channel id like C0123ABCD, got {channel!r}.")
    changes: dict[str, Any] = {
        k: v
        for k, v in (("enabled", enabled), ("model", model), ("daily_usd", daily_usd))
        if v is not UNCHANGED
    }
    if not changes:
        raise ConfigError("Nothing to change: give --on, --off, --model or --daily-usd.")
    store: Store = await open_store(settings.db_path)
    try:
        stored = await store.set_channel_setting(channel, updated_by="cli", **changes)
    finally:
        await store.close()
    enabled_text = "default" if stored.enabled is None else ("on" if stored.enabled else "off")
    daily = "default" if stored.daily_usd is None else f"${stored.daily_usd:g} a day"
    say(
        f"{channel}: {enabled_text}, model {stored.model or 'default'}, budget {daily} "
        "(a running bot sees this within a minute)."
    )
    return 0
