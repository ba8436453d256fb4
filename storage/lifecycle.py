"""The data lifecycle's jobs for the database worker thread: the inventory of engine objects,
the purge claim on a thread, erasing a thread's content, and what retention should purge.

A purge claims its thread in one transaction, and only when none of the thread's turns is
received, queued or running; taking a message in checks the claim in its own transaction
(``purge_blocks``), so a purge and a turn never overlap. A claim carries a lease, so a purge
whose process died does not hold its thread for ever: the next sweep takes it over.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlite_utils import Database

from bot.engines.objects import EngineObject, ObjectKind
from storage.records import (
    ERASED_MESSAGE_JSON,
    QUEUED,
    RECEIVED,
    RUNNING,
    Erased,
    IdleThread,
    PurgeNotice,
)

LIVE, DOOMED, DELETED, RELEASED = "live", "doomed", "deleted", "released"
CLAIMED, DONE = "claimed", "done"
_LIVE_TURNS = (RECEIVED, QUEUED, RUNNING)

# Content a purge erases from a finished turn; every other column (ids, timestamps, token
# counts, and whatever usage columns later migrations add) stays for the usage reports.
ERASED_TURN_CONTENT: dict[str, str] = {
    "question": "",
    "answer_text": "",
    "code": "[]",
    "message_json": ERASED_MESSAGE_JSON,
}


def _object_of(row: dict[str, Any]) -> EngineObject:
    return EngineObject(
        kind=ObjectKind(row["kind"]),
        object_id=row["object_id"],
        thread_key=row["thread_key"],
        turn_id=row["turn_id"],
        created_at=row["created_at"],
    )


# ---------------------------------------------------------------- the inventory


def record_object(db: Database, *, obj: EngineObject, doomed: bool = False) -> None:
    """Add an object (once); ``doomed``: found unrecorded, to be deleted at once."""
    db.execute(
        "INSERT OR IGNORE INTO engine_objects (kind, object_id, thread_key, turn_id, created_at, "
        "state, attempts, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
        [
            obj.kind.value,
            obj.object_id,
            obj.thread_key,
            obj.turn_id,
            obj.created_at,
            DOOMED if doomed else LIVE,
            obj.created_at if doomed else None,
        ],
    )


def known_object_ids(db: Database, *, kind: ObjectKind) -> set[str]:
    rows = db.execute("SELECT object_id FROM engine_objects WHERE kind = ?", [kind.value])
    return {row[0] for row in rows.fetchall()}


def doom_thread_objects(db: Database, *, thread_key: str, now: float) -> list[EngineObject]:
    """Mark the thread's live objects for deletion and return every object of the thread that
    awaits deletion. An object another thread still uses (the local engine keeps one copy per
    content) is released instead: it is not ours to delete yet."""
    with db.atomic():
        rows = list(
            db.query(
                "SELECT * FROM engine_objects WHERE thread_key = ? AND state = ?",
                [thread_key, LIVE],
            )
        )
        for row in rows:
            shared = db.execute(
                "SELECT 1 FROM engine_objects WHERE kind = ? AND object_id = ? "
                "AND thread_key != ? AND state = ? LIMIT 1",
                [row["kind"], row["object_id"], thread_key, LIVE],
            ).fetchone()
            db.execute(
                "UPDATE engine_objects SET state = ?, next_attempt_at = ?, deleted_at = ? "
                "WHERE kind = ? AND object_id = ? AND thread_key = ?",
                [
                    RELEASED if shared else DOOMED,
                    now,
                    now if shared else None,
                    row["kind"],
                    row["object_id"],
                    thread_key,
                ],
            )
        doomed = db.query(
            "SELECT * FROM engine_objects WHERE thread_key = ? AND state = ? ORDER BY created_at",
            [thread_key, DOOMED],
        )
        return [_object_of(row) for row in doomed]


def doom_unowned(db: Database, *, before: float, now: float) -> int:
    """Mark live objects that name no thread and were created before ``before``."""
    return db.execute(
        "UPDATE engine_objects SET state = ?, next_attempt_at = ? "
        "WHERE thread_key = '' AND state = ? AND created_at < ?",
        [DOOMED, now, LIVE, before],
    ).rowcount


def due_deletions(db: Database, *, now: float, limit: int) -> list[EngineObject]:
    """Objects awaiting deletion whose next try is due, oldest first."""
    rows = db.query(
        "SELECT * FROM engine_objects WHERE state = ? AND COALESCE(next_attempt_at, 0) <= ? "
        "ORDER BY next_attempt_at, created_at LIMIT ?",
        [DOOMED, now, limit],
    )
    return [_object_of(row) for row in rows]


def settle_objects(
    db: Database,
    *,
    deleted: Sequence[EngineObject],
    pending: Sequence[tuple[EngineObject, str, float | None]],
    now: float,
    backoff_s: float,
    max_backoff_s: float,
) -> None:
    """Record deletions: ``deleted`` are done; each ``pending`` (object, why, the wait the
    engine asked for) is never marked done but tried again after that wait, or else after
    ``backoff_s`` doubled per earlier attempt, at most ``max_backoff_s``."""
    with db.atomic():
        for obj in deleted:
            db.execute(
                "UPDATE engine_objects SET state = ?, deleted_at = ?, last_error = NULL "
                "WHERE kind = ? AND object_id = ?",
                [DELETED, now, obj.kind.value, obj.object_id],
            )
        for obj, why, asked in pending:
            db.execute(
                "UPDATE engine_objects SET attempts = attempts + 1, "
                "next_attempt_at = ? + MIN(?, COALESCE(?, ? * (1 << MIN(attempts, 20)))), "
                "last_error = ? WHERE kind = ? AND object_id = ? AND thread_key = ? AND state = ?",
                [
                    now,
                    max_backoff_s,
                    asked,
                    backoff_s,
                    why[:500],
                    obj.kind.value,
                    obj.object_id,
                    obj.thread_key,
                    DOOMED,
                ],
            )


def next_due(db: Database) -> float | None:
    """When the next pending deletion is due, or None when none awaits."""
    row = db.execute(
        "SELECT MIN(COALESCE(next_attempt_at, 0)) FROM engine_objects WHERE state = ?", [DOOMED]
    ).fetchone()
    return None if row is None or row[0] is None else float(row[0])


def object_counts(
    db: Database, *, thread_keys: Sequence[str], states: Sequence[str]
) -> dict[str, int]:
    """How many objects of these threads are in these states, per kind."""
    counts = {kind.value: 0 for kind in ObjectKind}
    if not thread_keys:
        return counts
    keys = ", ".join("?" for _ in thread_keys)
    marks = ", ".join("?" for _ in states)
    rows = db.execute(
        f"SELECT kind, count(*) FROM engine_objects WHERE thread_key IN ({keys}) "
        f"AND state IN ({marks}) GROUP BY kind",
        [*thread_keys, *states],
    ).fetchall()
    for kind, count in rows:
        counts[kind] = int(count)
    return counts


def pending_counts(db: Database) -> dict[str, int]:
    """Objects still awaiting deletion, per kind."""
    counts = {kind.value: 0 for kind in ObjectKind}
    rows = db.execute(
        "SELECT kind, count(*) FROM engine_objects WHERE state = ? GROUP BY kind", [DOOMED]
    )
    for kind, count in rows.fetchall():
        counts[kind] = int(count)
    return counts


# ---------------------------------------------------------------- the claim


def purge_blocks(db: Database, *, thread_key: str, now: float) -> bool:
    """Whether a purge holds the thread now (a new turn there must wait for it)."""
    row = db.execute(
        "SELECT 1 FROM thread_purges WHERE thread_key = ? AND state = ? AND lease_until > ?",
        [thread_key, CLAIMED, now],
    ).fetchone()
    return row is not None


def claim_purge(
    db: Database, *, thread_key: str, reason: str, holder: str, now: float, lease_s: float
) -> bool:
    """Claim the thread for a purge: only when none of its turns is received, queued or
    running, and no other holder's lease is current. One transaction."""
    marks = ", ".join("?" for _ in _LIVE_TURNS)
    with db.atomic():
        live = db.execute(
            f"SELECT 1 FROM turns WHERE thread_key = ? AND status IN ({marks}) LIMIT 1",
            [thread_key, *_LIVE_TURNS],
        ).fetchone()
        if live is not None:
            return False
        held = db.execute(
            "SELECT 1 FROM thread_purges WHERE thread_key = ? AND state = ? AND lease_until > ? "
            "AND holder != ?",
            [thread_key, CLAIMED, now, holder],
        ).fetchone()
        if held is not None:
            return False
        db.execute(
            "INSERT INTO thread_purges (thread_key, reason, state, holder, claimed_at, "
            "lease_until, done_at, told) VALUES (?, ?, ?, ?, ?, ?, NULL, 1) "
            "ON CONFLICT(thread_key) DO UPDATE SET reason = excluded.reason, "
            "state = excluded.state, holder = excluded.holder, "
            "claimed_at = excluded.claimed_at, lease_until = excluded.lease_until",
            [thread_key, reason, CLAIMED, holder, now, now + lease_s],
        )
    return True


def release_purge(db: Database, *, thread_key: str, holder: str) -> None:
    """Let go of a claim without finishing (the purge failed): turns may run again."""
    db.execute(
        "UPDATE thread_purges SET lease_until = 0 WHERE thread_key = ? AND holder = ? "
        "AND state = ?",
        [thread_key, holder, CLAIMED],
    )


def stale_claims(db: Database, *, now: float) -> list[str]:
    """Threads whose purge was claimed but never finished, its lease run out (a restart)."""
    rows = db.execute(
        "SELECT thread_key FROM thread_purges WHERE state = ? AND lease_until <= ?",
        [CLAIMED, now],
    )
    return [row[0] for row in rows.fetchall()]


# ---------------------------------------------------------------- erasing


def erase_thread(db: Database, *, thread_key: str, holder: str, now: float, tell: bool) -> Erased:
    """Erase the thread's content and finish its purge, in one transaction.

    Finished turns lose their question, answer, code and stored message (their ids,
    timestamps and usage stay); the thread's files are forgotten (a later question fetches
    them from Slack again); its engine session is dropped, so the next question starts a
    fresh conversation. Turns that arrived during the purge (still waiting) are not touched.
    When anything was erased (or ``tell``: engine objects were deleted), the thread hears
    once, on its next question, that its earlier analysis was cleared.
    """
    marks = ", ".join("?" for _ in _LIVE_TURNS)
    sets = ", ".join(f'"{column}" = ?' for column in ERASED_TURN_CONTENT)
    differs = " OR ".join(f'"{column}" != ?' for column in ERASED_TURN_CONTENT)
    values = list(ERASED_TURN_CONTENT.values())
    with db.atomic():
        claimed = db.execute(
            "SELECT claimed_at FROM thread_purges WHERE thread_key = ? AND holder = ? "
            "AND state = ?",
            [thread_key, holder, CLAIMED],
        ).fetchone()
        since = claimed[0] if claimed else now
        turns = db.execute(
            f"UPDATE turns SET {sets} WHERE thread_key = ? AND status NOT IN ({marks}) "
            f"AND ({differs})",
            [*values, thread_key, *_LIVE_TURNS, *values],
        ).rowcount
        conversations = _conversations_of(db, thread_key)
        history = 0
        if conversations:
            convs = ", ".join("?" for _ in conversations)
            history = db.execute(
                f"DELETE FROM local_history WHERE conversation_id IN ({convs})", conversations
            ).rowcount
        files = db.execute(
            "DELETE FROM files WHERE thread_key = ? AND created_at <= ?", [thread_key, since]
        ).rowcount
        db.execute(
            "UPDATE threads SET conversation_id = NULL, container_id = NULL, "
            "memory_limit = NULL, file_paths = '{}' WHERE key = ?",
            [thread_key],
        )
        db.execute(
            "INSERT INTO thread_purges (thread_key, reason, state, holder, claimed_at, "
            "lease_until, done_at, told) VALUES (?, 'request', ?, ?, ?, 0, ?, ?) "
            "ON CONFLICT(thread_key) DO UPDATE SET state = excluded.state, lease_until = 0, "
            "done_at = excluded.done_at, told = MIN(thread_purges.told, excluded.told)",
            [thread_key, DONE, holder, now, now, 0 if (tell or turns or files) else 1],
        )
    return Erased(turns=turns, files=files, history=history)


def _conversations_of(db: Database, thread_key: str) -> list[str]:
    found = {
        row[0]
        for row in db.execute(
            "SELECT object_id FROM engine_objects WHERE thread_key = ? AND kind = ?",
            [thread_key, ObjectKind.CONVERSATION.value],
        ).fetchall()
    }
    row = db.execute("SELECT conversation_id FROM threads WHERE key = ?", [thread_key]).fetchone()
    if row and row[0]:
        found.add(row[0])
    return sorted(found)


def take_purge_notice(db: Database, *, thread_key: str) -> PurgeNotice | None:
    """The finished purge this thread has not been told of (marked told now), or None."""
    with db.atomic():
        row = db.execute(
            "SELECT reason, done_at FROM thread_purges WHERE thread_key = ? AND state = ? "
            "AND told = 0",
            [thread_key, DONE],
        ).fetchone()
        if row is None:
            return None
        db.execute("UPDATE thread_purges SET told = 1 WHERE thread_key = ?", [thread_key])
    return PurgeNotice(reason=row[0], done_at=row[1])


def checkpoint(db: Database) -> None:
    """Fold the write-ahead log back into the database and truncate it, so erased content
    does not linger in the -wal file (``secure_delete`` zeroes the freed pages)."""
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()


# ---------------------------------------------------------------- what to purge

# A thread's last activity: the latest turn created or finished, file shared, or engine
# object created. (Feedback clicks count too once they are stored with a time.)
_ACTIVITY_SQL = """
WITH activity(thread_key, at) AS (
    SELECT thread_key, MAX(created_at, COALESCE(finished_at, 0)) FROM turns
    UNION ALL SELECT thread_key, created_at FROM files
    UNION ALL SELECT thread_key, created_at FROM engine_objects WHERE thread_key != ''
    UNION ALL SELECT t.thread_key, f.created_at FROM feedback f JOIN turns t ON t.id = f.turn_id
), last(thread_key, at) AS (SELECT thread_key, MAX(at) FROM activity GROUP BY thread_key)
SELECT thread_key, at FROM last
WHERE {where} AND (
    EXISTS (SELECT 1 FROM turns t WHERE t.thread_key = last.thread_key AND ({erasable}))
    OR EXISTS (SELECT 1 FROM files f WHERE f.thread_key = last.thread_key)
    OR EXISTS (SELECT 1 FROM engine_objects o WHERE o.thread_key = last.thread_key
               AND o.state IN ('live', 'doomed'))
    OR EXISTS (SELECT 1 FROM threads th WHERE th.key = last.thread_key
               AND th.conversation_id IS NOT NULL)
)
ORDER BY at
"""
# The erased values are plain literals ('', '[]', '{}'): safe to write into the SQL.
_ERASABLE = " OR ".join(f"t.\"{c}\" != '{v}'" for c, v in ERASED_TURN_CONTENT.items())


def idle_threads(db: Database, *, before: float) -> list[IdleThread]:
    """Threads with something left to purge whose last activity is before ``before``."""
    sql = _ACTIVITY_SQL.format(where="at < ?", erasable=_ERASABLE)
    rows = db.execute(sql, [before]).fetchall()
    return [IdleThread(thread_key=key, last_activity=at) for key, at in rows]


def threads_named(db: Database, *, channel: str, thread_ts: str) -> list[IdleThread]:
    """Threads of this channel and thread ts (in any workspace) with something to purge."""
    suffix = f":{channel}:{thread_ts}"
    sql = _ACTIVITY_SQL.format(where="substr(thread_key, -?) = ?", erasable=_ERASABLE)
    rows = db.execute(sql, [len(suffix), suffix]).fetchall()
    return [IdleThread(thread_key=key, last_activity=at) for key, at in rows]


def get_mark(db: Database, *, name: str) -> float | None:
    row = db.execute("SELECT at FROM lifecycle_marks WHERE name = ?", [name]).fetchone()
    return None if row is None else float(row[0])


def set_mark(db: Database, *, name: str, at: float) -> None:
    db.execute("INSERT OR REPLACE INTO lifecycle_marks (name, at) VALUES (?, ?)", [name, at])
