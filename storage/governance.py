"""Store methods for governance: spending, usage reports, per-channel settings, feedback.

A mixin of ``Store`` (kept apart so the store module stays about threads, files and turns);
the SQL runs on the database worker thread like every other job.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from storage.records import ChannelSetting, UsageRow

T = TypeVar("T")

USAGE_GROUPS = ("user", "channel", "day", "model")
_UNCHANGED: Any = object()

# What a turn cost: its tokens (NULL when unknown) plus its estimated sandbox time.
_COST = "COALESCE(t.cost_usd, 0) + COALESCE(t.container_usd, 0)"
_USAGE_COLUMNS = f"""
    count(*) AS turns,
    sum(t.status = 'done') AS answered,
    sum(t.status IN ('failed', 'cancelled')) AS failed,
    sum(t.status = 'refused') AS refused,
    sum(t.input_tokens) AS input_tokens,
    sum(t.cached_input_tokens) AS cached_input_tokens,
    sum(t.output_tokens) AS output_tokens,
    sum(t.reasoning_tokens) AS reasoning_tokens,
    sum(CASE WHEN t.cost_usd IS NULL THEN 0 ELSE {_COST} END) AS cost_usd,
    sum(CASE WHEN t.cost_usd IS NULL THEN 0 ELSE COALESCE(t.container_usd, 0) END)
        AS container_usd,
    sum(t.cost_usd IS NULL) AS unknown_cost_turns,
    sum(COALESCE(f.up, 0)) AS thumbs_up,
    sum(COALESCE(f.down, 0)) AS thumbs_down
"""
_FEEDBACK_JOIN = (
    "LEFT JOIN (SELECT turn_id, sum(value = 'up') AS up, sum(value = 'down') AS down "
    "FROM feedback GROUP BY turn_id) f ON f.turn_id = t.id"
)
_KEYS = {"user": "t.user", "channel": "t.channel", "model": "COALESCE(t.model, '')"}


class GovernanceQueries:
    """The governance half of ``Store``. Methods raise StorageError like the rest."""

    _run: Callable[..., Any]

    async def spent_since(
        self, *, since: float, user: str | None = None, channel: str | None = None
    ) -> float:
        """US dollars spent by turns created at or after ``since`` (optionally one person's or
        one channel's): tokens with a known price plus estimated sandbox time."""
        job = partial(_spent_since, since=since, user=user, channel=channel)
        result: float = await self._run(job, urgent=True)
        return result

    async def usage_report(
        self,
        *,
        since: float,
        by: str,
        timezone: str = "UTC",
        user: str | None = None,
        limit: int | None = None,
    ) -> list[UsageRow]:
        """Turns since ``since`` grouped ``by`` user, channel, day (in ``timezone``) or
        model; the costliest first (days in date order). ``user`` keeps one person's."""
        if by not in USAGE_GROUPS:
            raise ValueError(f"usage_report(): by must be one of {USAGE_GROUPS}, not {by!r}")
        job = partial(_usage_report, since=since, by=by, timezone=timezone, user=user, limit=limit)
        rows: list[UsageRow] = await self._run(job)
        return rows

    async def last_container_use(
        self, *, thread_key: str, container_id: str, before_turn: str
    ) -> float | None:
        """When an earlier answered turn of the thread last finished in this container."""
        job = partial(
            _last_container_use,
            thread_key=thread_key,
            container_id=container_id,
            before_turn=before_turn,
        )
        result: float | None = await self._run(job)
        return result

    async def container_created_at(self, thread_key: str) -> float | None:
        """When the thread's current container was first stored (None: it has none)."""
        job = partial(_container_created_at, thread_key=thread_key)
        result: float | None = await self._run(job)
        return result

    async def channel_settings(self) -> dict[str, ChannelSetting]:
        """Every channel's own settings, by channel id."""
        result: dict[str, ChannelSetting] = await self._run(_channel_settings, urgent=True)
        return result

    async def set_channel_setting(
        self,
        channel: str,
        *,
        enabled: bool | None = _UNCHANGED,
        model: str | None = _UNCHANGED,
        daily_usd: float | None = _UNCHANGED,
        updated_by: str | None = None,
    ) -> ChannelSetting:
        """Change some of a channel's settings (None: back to the global default); the
        others keep their stored values. Returns the stored result."""
        changes = {
            name: value
            for name, value in (("enabled", enabled), ("model", model), ("daily_usd", daily_usd))
            if value is not _UNCHANGED
        }
        job = partial(
            _set_channel_setting,
            channel=channel,
            changes=changes,
            updated_by=updated_by,
            now=time.time(),
        )
        result: ChannelSetting = await self._run(job)
        return result

    async def record_feedback(self, *, turn_id: str, user: str, value: str) -> None:
        """Store one person's feedback on a turn (``up`` or ``down``), replacing theirs."""
        if value not in ("up", "down"):
            raise ValueError(f"record_feedback(): value must be up or down, not {value!r}")
        job = partial(_record_feedback, turn_id=turn_id, user=user, value=value, now=time.time())
        await self._run(job)


# ---------------------------------------------------------------- jobs (worker thread)


def _spent_since(db: Database, *, since: float, user: str | None, channel: str | None) -> float:
    where: list[str] = ["t.created_at >= ?"]
    params: list[Any] = [since]
    if user is not None:
        where.append("t.user = ?")
        params.append(user)
    if channel is not None:
        where.append("t.channel = ?")
        params.append(channel)
    sql = f"SELECT sum({_COST}) AS spent FROM turns t WHERE {' AND '.join(where)}"
    row = next(db.query(sql, params), None)
    return float(row["spent"] or 0.0) if row else 0.0


def _usage_report(
    db: Database, *, since: float, by: str, timezone: str, user: str | None, limit: int | None
) -> list[UsageRow]:
    where = "t.created_at >= ?"
    params: list[Any] = [since]
    if user is not None:
        where += " AND t.user = ?"
        params.append(user)
    if by == "day":
        return _by_day(db, where=where, params=params, timezone=timezone)
    sql = (
        f"SELECT {_KEYS[by]} AS key, {_USAGE_COLUMNS} FROM turns t {_FEEDBACK_JOIN} "
        f"WHERE {where} GROUP BY key ORDER BY cost_usd DESC, turns DESC, key"
    )
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return [_usage_row(row) for row in db.query(sql, params)]


def _by_day(db: Database, *, where: str, params: list[Any], timezone: str) -> list[UsageRow]:
    # Days begin at midnight in the operator's time zone, which SQLite does not know (nor
    # its daylight saving shifts): each turn's figures are added to its day here.
    sql = (
        f"SELECT t.created_at AS at, {_USAGE_COLUMNS} FROM turns t {_FEEDBACK_JOIN} "
        f"WHERE {where} GROUP BY t.id"
    )
    zone = ZoneInfo(timezone)
    days: dict[str, dict[str, Any]] = defaultdict(dict)
    for row in db.query(sql, params):
        day = datetime.fromtimestamp(row["at"], zone).date().isoformat()
        totals = days[day]
        for name, value in row.items():
            if name != "at":
                totals[name] = totals.get(name, 0) + (value or 0)
    return [_usage_row({"key": day, **days[day]}) for day in sorted(days)]


def _usage_row(row: dict[str, Any]) -> UsageRow:
    return UsageRow(
        key=str(row["key"] or ""),
        turns=int(row["turns"] or 0),
        answered=int(row["answered"] or 0),
        failed=int(row["failed"] or 0),
        refused=int(row["refused"] or 0),
        input_tokens=int(row["input_tokens"] or 0),
        cached_input_tokens=int(row["cached_input_tokens"] or 0),
        output_tokens=int(row["output_tokens"] or 0),
        reasoning_tokens=int(row["reasoning_tokens"] or 0),
        cost_usd=float(row["cost_usd"] or 0.0),
        container_usd=float(row["container_usd"] or 0.0),
        unknown_cost_turns=int(row["unknown_cost_turns"] or 0),
        thumbs_up=int(row["thumbs_up"] or 0),
        thumbs_down=int(row["thumbs_down"] or 0),
    )


def _last_container_use(
    db: Database, *, thread_key: str, container_id: str, before_turn: str
) -> float | None:
    sql = (
        "SELECT max(finished_at) AS at FROM turns WHERE thread_key = ? AND container_id = ? "
        "AND id != ? AND status = 'done'"
    )
    row = next(db.query(sql, [thread_key, container_id, before_turn]), None)
    return float(row["at"]) if row and row["at"] is not None else None


def _container_created_at(db: Database, *, thread_key: str) -> float | None:
    sql = (
        "SELECT container_created_at AS at FROM threads WHERE key = ? AND container_id IS NOT NULL"
    )
    row = next(db.query(sql, [thread_key]), None)
    return float(row["at"]) if row and row["at"] is not None else None


def _channel_settings(db: Database) -> dict[str, ChannelSetting]:
    return {
        row["channel"]: _channel_setting(row)
        for row in db.query("SELECT * FROM channel_settings ORDER BY channel")
    }


def _channel_setting(row: dict[str, Any]) -> ChannelSetting:
    enabled = row["enabled"]
    return ChannelSetting(
        channel=row["channel"],
        enabled=None if enabled is None else bool(enabled),
        model=row["model"],
        daily_usd=row["daily_usd"],
        updated_by=row["updated_by"],
        updated_at=row["updated_at"],
    )


def _set_channel_setting(
    db: Database,
    *,
    channel: str,
    changes: dict[str, Any],
    updated_by: str | None,
    now: float,
) -> ChannelSetting:
    with db.atomic():
        row = next(db.query("SELECT * FROM channel_settings WHERE channel = ?", [channel]), None)
        values: dict[str, Any] = dict(row) if row else {"channel": channel}
        for name, value in changes.items():
            values[name] = int(value) if name == "enabled" and value is not None else value
        values.update(updated_by=updated_by, updated_at=now)
        for name in ("enabled", "model", "daily_usd"):
            values.setdefault(name, None)
        db.execute(
            "INSERT OR REPLACE INTO channel_settings "
            "(channel, enabled, model, daily_usd, updated_by, updated_at) "
            "VALUES (:channel, :enabled, :model, :daily_usd, :updated_by, :updated_at)",
            values,
        )
    return _channel_setting(values)


def _record_feedback(db: Database, *, turn_id: str, user: str, value: str, now: float) -> None:
    db.execute(
        "INSERT OR REPLACE INTO feedback (turn_id, user, value, created_at) VALUES (?, ?, ?, ?)",
        [turn_id, user, value, now],
    )
