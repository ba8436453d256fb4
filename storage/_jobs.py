"""The SQL behind each Store method. Every function here runs on the database worker thread.

Each function is one job, and the worker runs jobs one at a time, so a read-modify-write inside
one function is atomic for the whole process; ``db.atomic()`` makes it atomic on disk too.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlite_utils import Database

from storage import lifecycle
from storage._rows import (
    CHANNEL_FILE_COLUMNS,
    FILE_COLUMNS,
    THREAD_COLUMNS,
    TURN_COLUMNS,
    Row,
    channel_file_from_row,
    channel_file_to_row,
    file_from_row,
    file_to_row,
    placeholders,
    thread_from_row,
    thread_to_row,
    turn_from_row,
    turn_to_row,
)
from storage.records import (
    FINISHED_STATUSES,
    ChannelFileRecord,
    FileRecord,
    Taken,
    ThreadRecord,
    TurnRecord,
)


def _upsert_sql(*, table: str, columns: tuple[str, ...], pk: str, updates: dict[str, str]) -> str:
    assignments = ", ".join(f'"{column}" = {expr}' for column, expr in updates.items())
    return (
        f"INSERT INTO {table} {placeholders(columns)} ON CONFLICT({pk}) DO UPDATE SET {assignments}"
    )


def _one(db: Database, sql: str, params: dict[str, Any] | list[Any]) -> Row | None:
    return next(db.query(sql, params), None)


# A redelivered event claims its key again only once the earlier claim has expired.
_CLAIM_SQL = (
    "INSERT INTO events (key, expires_at, created_at) VALUES (?, ?, ?) "
    "ON CONFLICT(key) DO UPDATE SET expires_at = excluded.expires_at, "
    "created_at = excluded.created_at WHERE events.expires_at <= excluded.created_at"
)


def claim(db: Database, *, key: str, expires_at: float, now: float) -> bool:
    # rowcount is 0 when the conflict clause's WHERE left the row alone.
    return db.execute(_CLAIM_SQL, [key, expires_at, now]).rowcount == 1


def take_message(
    db: Database,
    *,
    key: str,
    expires_at: float,
    now: float,
    files: list[FileRecord],
    turn: TurnRecord,
) -> Taken:
    """Claim, remember the files and create the turn in one transaction; DUPLICATE when the
    key is claimed and its message already has a turn. The thread's purge claim is read in
    the same transaction: WAITS_FOR_PURGE when a purge holds the thread."""
    with db.atomic():
        claimed = claim(db, key=key, expires_at=expires_at, now=now)
        if not claimed and latest_turn_for_message(db, turn.thread_key, turn.message_ts):
            return Taken.DUPLICATE
        for record in files:
            save_file(db, record, now=now)
        create_turn(db, turn, now=now)
        if lifecycle.purge_blocks(db, thread_key=turn.thread_key, now=now):
            return Taken.WAITS_FOR_PURGE
    return Taken.TAKEN


def purge_expired(db: Database, *, now: float) -> None:
    with db.atomic():
        db.execute("DELETE FROM events WHERE expires_at <= ?", [now])
        db.execute("DELETE FROM channel_files WHERE expires_at <= ?", [now])


def get_thread(db: Database, key: str) -> ThreadRecord | None:
    row = _one(db, "SELECT * FROM threads WHERE key = ?", [key])
    return None if row is None else thread_from_row(row)


_SAVE_THREAD_SQL = _upsert_sql(
    table="threads",
    columns=THREAD_COLUMNS,
    pk="key",
    updates={
        **{c: f"excluded.{c}" for c in THREAD_COLUMNS if c not in ("key", "created_at")},
        # Once the bot has answered in a thread it stays answered, even when a record read
        # before the answer is saved later.
        "bot_answered": "MAX(threads.bot_answered, excluded.bot_answered)",
    },
)


def save_thread(db: Database, record: ThreadRecord, *, now: float) -> None:
    record = replace(record, created_at=record.created_at or now, updated_at=now)
    with db.atomic():
        before = _one(db, "SELECT container_id FROM threads WHERE key = ?", [record.key])
        db.execute(_SAVE_THREAD_SQL, thread_to_row(record))
        # A new container's time starts now: the start of its estimated sandbox time.
        if record.container_id and (
            before is None or before["container_id"] != record.container_id
        ):
            db.execute(
                "UPDATE threads SET container_created_at = ? WHERE key = ?", [now, record.key]
            )


def mark_thread_answered(db: Database, key: str, *, now: float) -> None:
    sql = "UPDATE threads SET bot_answered = 1, updated_at = ? WHERE key = ?"
    if db.execute(sql, [now, key]).rowcount == 0:
        raise KeyError(key)


def thread_files(db: Database, thread_key: str) -> list[FileRecord]:
    # Slack ts values are epoch seconds, so a file without one sorts by when it was stored.
    sql = (
        "SELECT * FROM files WHERE thread_key = ? "
        "ORDER BY COALESCE(CAST(shared_ts AS REAL), created_at), created_at, rowid"
    )
    return [file_from_row(row) for row in db.query(sql, [thread_key])]


_FILE_KEY = ("thread_key", "slack_file_id")
_SAVE_FILE_SQL = _upsert_sql(
    table="files",
    columns=FILE_COLUMNS,
    pk=", ".join(_FILE_KEY),
    updates={
        # A record built from a later Slack event knows nothing of the engine upload, so a
        # missing value keeps what is stored rather than erasing it.
        **{c: f"COALESCE(excluded.{c}, files.{c})" for c in FILE_COLUMNS if c not in _FILE_KEY},
        "name": "excluded.name",
        "mimetype": "COALESCE(NULLIF(excluded.mimetype, ''), files.mimetype)",
        "filetype": "COALESCE(NULLIF(excluded.filetype, ''), files.filetype)",
        "created_at": "files.created_at",
        # Once seen as a link to a file outside Slack, always: a later Slack Connect stub of
        # the same file does not say so, and must not make it downloadable.
        "is_remote": "MAX(files.is_remote, excluded.is_remote)",
    },
)


def save_file(db: Database, record: FileRecord, *, now: float) -> None:
    row = file_to_row(replace(record, created_at=record.created_at or now))
    db.execute(_SAVE_FILE_SQL, row)


_CHANNEL_FILE_KEY = ("team", "channel", "slack_file_id")
_SAVE_CHANNEL_FILE_SQL = _upsert_sql(
    table="channel_files",
    columns=CHANNEL_FILE_COLUMNS,
    pk=", ".join(_CHANNEL_FILE_KEY),
    updates={
        **{c: f"excluded.{c}" for c in CHANNEL_FILE_COLUMNS if c not in _CHANNEL_FILE_KEY},
        "is_remote": "MAX(channel_files.is_remote, excluded.is_remote)",
    },
)


def remember_channel_file(db: Database, record: ChannelFileRecord) -> None:
    db.execute(_SAVE_CHANNEL_FILE_SQL, channel_file_to_row(record))


def recent_channel_files(
    db: Database, *, team: str, channel: str, now: float, limit: int
) -> list[ChannelFileRecord]:
    sql = (
        "SELECT * FROM channel_files WHERE team = ? AND channel = ? AND expires_at > ? "
        "ORDER BY CAST(shared_ts AS REAL) DESC, rowid DESC LIMIT ?"
    )
    rows = db.query(sql, [team, channel, now, limit])
    return [channel_file_from_row(row) for row in rows]


def create_turn(db: Database, record: TurnRecord, *, now: float) -> None:
    record = replace(
        record, created_at=record.created_at or now, updated_at=record.updated_at or now
    )
    db.execute(f"INSERT INTO turns {placeholders(TURN_COLUMNS)}", turn_to_row(record))


def get_turn(db: Database, turn_id: str) -> TurnRecord | None:
    row = _one(db, "SELECT * FROM turns WHERE id = ?", [turn_id])
    return None if row is None else turn_from_row(row)


def update_turn(db: Database, turn_id: str, *, changes: dict[str, Any], now: float) -> TurnRecord:
    with db.atomic():
        current = get_turn(db, turn_id)
        if current is None:
            raise KeyError(turn_id)
        values = {"updated_at": now, **changes}
        finishing = values.get("status", current.status) in FINISHED_STATUSES
        if finishing and current.finished_at is None and "finished_at" not in values:
            values["finished_at"] = values["updated_at"]
        record = replace(current, **values)
        # Only the changed columns: the turns table has six indexes, and an UPDATE that sets
        # every column makes SQLite rewrite every one of them at each step of a turn.
        row = turn_to_row(record)
        changed = sorted(values)
        sets = ", ".join(f'"{name}" = :{name}' for name in changed)
        db.execute(
            f"UPDATE turns SET {sets} WHERE id = :id",
            {"id": turn_id, **{name: row[name] for name in changed}},
        )
    return record


def latest_turn_for_message(db: Database, thread_key: str, message_ts: str) -> TurnRecord | None:
    sql = (
        "SELECT * FROM turns WHERE thread_key = ? AND message_ts = ? "
        "ORDER BY attempt DESC, created_at DESC, rowid DESC LIMIT 1"
    )
    row = _one(db, sql, [thread_key, message_ts])
    return None if row is None else turn_from_row(row)


def thread_turns(db: Database, thread_key: str) -> list[TurnRecord]:
    sql = "SELECT * FROM turns WHERE thread_key = ? ORDER BY created_at, rowid"
    return [turn_from_row(row) for row in db.query(sql, [thread_key])]


def unfinished_turns(db: Database) -> list[TurnRecord]:
    finished = sorted(FINISHED_STATUSES)
    marks = ", ".join("?" for _ in finished)
    sql = f"SELECT * FROM turns WHERE status NOT IN ({marks}) ORDER BY created_at, rowid"
    return [turn_from_row(row) for row in db.query(sql, finished)]


# json_each/json_insert keep the append inside one statement; the NOT EXISTS makes a repeated
# upload report harmless.
_ADD_ARTIFACT_SQL = (
    "UPDATE turns SET posted_artifacts = json_insert(posted_artifacts, '$[#]', :file_id), "
    "updated_at = :now WHERE id = :id AND NOT EXISTS "
    "(SELECT 1 FROM json_each(turns.posted_artifacts) WHERE value = :file_id)"
)


def add_posted_artifact(db: Database, turn_id: str, *, file_id: str, now: float) -> None:
    with db.atomic():
        db.execute(_ADD_ARTIFACT_SQL, {"id": turn_id, "file_id": file_id, "now": now})
        if _one(db, "SELECT 1 AS found FROM turns WHERE id = ?", [turn_id]) is None:
            raise KeyError(turn_id)


_ADD_PART_SQL = (
    "UPDATE turns SET answer_parts = json_insert(answer_parts, '$[#]', :part), "
    "updated_at = :now WHERE id = :id AND NOT EXISTS "
    "(SELECT 1 FROM json_each(turns.answer_parts) WHERE value = :part)"
)


def add_answer_part(db: Database, turn_id: str, *, part: int, now: float) -> None:
    with db.atomic():
        db.execute(_ADD_PART_SQL, {"id": turn_id, "part": part, "now": now})
        if _one(db, "SELECT 1 AS found FROM turns WHERE id = ?", [turn_id]) is None:
            raise KeyError(turn_id)


def count_turns(db: Database) -> int:
    row = _one(db, "SELECT count(*) AS n FROM turns", [])
    return 0 if row is None else int(row["n"])
