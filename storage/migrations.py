"""The database schema, as an ordered list of sqlite-utils migrations.

Each migration runs once per database, inside a transaction, and is recorded in
``_sqlite_migrations``; opening a database again applies only the new ones. Never edit a
migration that has shipped: add a new one.
"""

from __future__ import annotations

import json

from sqlite_utils import Database, Migrations

migrations = Migrations("insightbot")


@migrations()
def m001_initial_schema(db: Database) -> None:
    db.table("threads").create(
        {
            "key": str,
            "team": str,
            "channel": str,
            "thread_ts": str,
            "conversation_id": str,
            "container_id": str,
            "memory_limit": str,
            "file_paths": str,  # JSON object: engine file id -> container path
            "bot_answered": int,
            "created_at": float,
            "updated_at": float,
        },
        pk="key",
        not_null=["key", "team", "channel", "thread_ts", "file_paths", "bot_answered"],
        defaults={"file_paths": "{}", "bot_answered": 0},
    )

    db.table("files").create(
        {
            "thread_key": str,
            "slack_file_id": str,
            "name": str,
            "size": int,
            "mimetype": str,
            "filetype": str,
            "url_private_download": str,
            "shared_by": str,
            "shared_ts": str,
            "sha256": str,
            "kind": str,
            "mime_type": str,
            "encoding": str,
            "delimiter": str,
            "note": str,
            "engine_file_id": str,
            "container_path": str,
            "upload_name": str,
            "created_at": float,
        },
        pk=("thread_key", "slack_file_id"),
        not_null=["thread_key", "slack_file_id", "name", "mimetype", "filetype"],
    )
    # The primary key already serves lookups by thread_key.

    db.table("channel_files").create(
        {
            "team": str,
            "channel": str,
            "slack_file_id": str,
            "name": str,
            "size": int,
            "mimetype": str,
            "filetype": str,
            "url_private_download": str,
            "shared_by": str,
            "shared_ts": str,
            "expires_at": float,
        },
        pk=("team", "channel", "slack_file_id"),
        not_null=[
            "team",
            "channel",
            "slack_file_id",
            "name",
            "mimetype",
            "filetype",
            "shared_ts",
            "expires_at",
        ],
    )
    # For purging expired rows; lookups use the primary key's (team, channel) prefix.
    db.table("channel_files").create_index(["expires_at"])

    db.table("turns").create(
        {
            "id": str,
            "thread_key": str,
            "message_ts": str,
            "user": str,
            "question": str,
            "attempt": int,
            "status": str,
            "message_json": str,
            "response_id": str,
            "last_sequence": int,
            "answer_ts": str,
            "status_ts": str,
            "posted_artifacts": str,  # JSON array of engine file ids
            "code": str,  # JSON array of code snippets
            "answer_text": str,
            "input_tokens": int,
            "output_tokens": int,
            "error": str,
            "created_at": float,
            "updated_at": float,
            "finished_at": float,
        },
        pk="id",
        not_null=[
            "id",
            "thread_key",
            "message_ts",
            "user",
            "question",
            "attempt",
            "status",
            "message_json",
            "posted_artifacts",
            "code",
            "answer_text",
            "input_tokens",
            "output_tokens",
            "created_at",
            "updated_at",
        ],
        defaults={"posted_artifacts": "[]", "code": "[]", "answer_text": ""},
    )
    db.table("turns").create_index(["thread_key", "message_ts", "attempt"])
    db.table("turns").create_index(["thread_key", "created_at"])
    # Startup recovery scans for unfinished turns; most rows are finished.
    db.table("turns").create_index(["status", "created_at"])

    db.table("events").create(
        {"key": str, "expires_at": float, "created_at": float},
        pk="key",
        not_null=["key", "expires_at", "created_at"],
    )
    db.table("events").create_index(["expires_at"])


@migrations()
def m002_code_posted_ts(db: Database) -> None:
    # Show code posts a turn's code once; later clicks point to this message.
    db.table("turns").add_column("code_posted_ts", str)


@migrations()
def m003_remote_files(db: Database) -> None:
    # Links to files stored outside Slack (Google Drive, …) are remembered as such, so that a
    # remembered one is refused again without asking Slack (and never downloaded).
    db.table("files").add_column("is_remote", int, not_null_default=0)
    db.table("channel_files").add_column("is_remote", int, not_null_default=0)


@migrations()
def m004_turn_progress(db: Database) -> None:
    # Two hidden encodings become fields of their own: ``last_sequence = -1`` meant "a run
    # may exist", and ``answer-part:<n>`` entries in ``posted_artifacts`` meant "continuation
    # <n> of the answer was posted". Turns in flight at the upgrade keep their meaning.
    turns = db.table("turns")
    turns.add_column("run_requested", int, not_null_default=0)
    turns.add_column("answer_parts", str, not_null_default="[]")
    db.execute("UPDATE turns SET run_requested = 1, last_sequence = NULL WHERE last_sequence = -1")
    rows = db.execute(
        "SELECT id, posted_artifacts FROM turns WHERE posted_artifacts LIKE '%answer-part:%'"
    ).fetchall()
    for turn_id, posted in rows:
        entries = json.loads(posted)
        parts = sorted({int(e.split(":", 1)[1]) for e in entries if e.startswith(_PART_MARKER)})
        files = [e for e in entries if not e.startswith(_PART_MARKER)]
        db.execute(
            "UPDATE turns SET posted_artifacts = ?, answer_parts = ? WHERE id = ?",
            [json.dumps(files, ensure_ascii=False), json.dumps(parts), turn_id],
        )


_PART_MARKER = "answer-part:"  # how m004 recognises the markers it moves


@migrations()
def m005_local_history(db: Database) -> None:
    # The local engine's model servers keep no conversations: each thread's messages (tool
    # calls and their results included) are kept here, one row per answered turn.
    db.table("local_history").create(
        {
            "conversation_id": str,
            "turn_id": str,
            "messages": str,  # JSON array of Chat Completions messages
            "created_at": float,
        },
        pk=("conversation_id", "turn_id"),
        not_null=["conversation_id", "turn_id", "messages", "created_at"],
    )
    db.table("local_history").create_index(["conversation_id", "created_at"])


@migrations()
def m006_governance(db: Database) -> None:
    # Usage in full and what it cost, per turn: cached input and reasoning tokens (already
    # inside input and output), the model, the token cost in US dollars (NULL: the model's
    # price was unknown, never a made-up zero), and the estimated sandbox time. ``channel``
    # is copied out of ``thread_key`` so that budgets and reports by channel use an index.
    turns = db.table("turns")
    turns.add_column("channel", str, not_null_default="")
    turns.add_column("cached_input_tokens", int, not_null_default=0)
    turns.add_column("reasoning_tokens", int, not_null_default=0)
    turns.add_column("model", str)
    turns.add_column("cost_usd", float)
    turns.add_column("container_id", str)
    turns.add_column("container_minutes", float)
    turns.add_column("container_usd", float)
    db.execute(
        "UPDATE turns SET channel = substr(thread_key, instr(thread_key, ':') + 1, "
        "instr(substr(thread_key, instr(thread_key, ':') + 1), ':') - 1)"
    )
    # Turns stored before this had no price: zero tokens cost zero, others stay unknown.
    db.execute("UPDATE turns SET cost_usd = 0 WHERE input_tokens = 0 AND output_tokens = 0")
    turns.create_index(["user", "created_at"])
    turns.create_index(["channel", "created_at"])
    turns.create_index(["created_at"])
    # When the thread's current container was created: the start of its estimated time.
    db.table("threads").add_column("container_created_at", float)
    # Who shared a file (their workspace): files of people from other organisations are not
    # used while INSIGHTBOT_EXTERNAL_USERS is deny.
    db.table("files").add_column("shared_by_team", str)
    db.table("channel_files").add_column("shared_by_team", str)
    # Per-channel settings admins change without a restart (NULL: the global default).
    db.table("channel_settings").create(
        {
            "channel": str,
            "enabled": int,
            "model": str,
            "daily_usd": float,
            "updated_by": str,
            "updated_at": float,
        },
        pk="channel",
        not_null=["channel", "updated_at"],
    )
    # One feedback click per person per turn (a second click replaces the first).
    db.table("feedback").create(
        {"turn_id": str, "user": str, "value": str, "created_at": float},
        pk=("turn_id", "user"),
        not_null=["turn_id", "user", "value", "created_at"],
    )


@migrations()
def m007_lifecycle(db: Database) -> None:
    # The inventory: every object the bot creates at the engine, recorded as it is created,
    # so that retention and "forget" delete exactly ours (the engine project may be shared).
    # ``state``: live (in use) → doomed (its thread was purged; deletion pending or retried)
    # → deleted (the engine said so, or 404) | released (another thread still uses it).
    db.table("engine_objects").create(
        {
            "kind": str,  # file | container | conversation | response
            "object_id": str,
            "thread_key": str,  # "" when the creator named no thread
            "turn_id": str,
            "created_at": float,
            "state": str,
            "attempts": int,
            "next_attempt_at": float,
            "last_error": str,
            "deleted_at": float,
        },
        pk=("kind", "object_id", "thread_key"),
        not_null=["kind", "object_id", "thread_key", "created_at", "state", "attempts"],
        defaults={"thread_key": "", "state": "live", "attempts": 0},
    )
    db.table("engine_objects").create_index(["thread_key", "state"])
    db.table("engine_objects").create_index(["state", "next_attempt_at"])
    # One row per thread that was ever purged: the claim that keeps turns and purges apart
    # (``lease_until`` lets another process take over a purge whose process died), and
    # whether the thread was told that its earlier analysis was cleared.
    db.table("thread_purges").create(
        {
            "thread_key": str,
            "reason": str,  # retention | request
            "state": str,  # claimed | done
            "holder": str,
            "claimed_at": float,
            "lease_until": float,
            "done_at": float,
            "told": int,
        },
        pk="thread_key",
        not_null=["thread_key", "reason", "state", "claimed_at", "lease_until", "told"],
        defaults={"told": 1},
    )
    # When a file went to the engine: uploads expire there (``expires_after``), so an old one
    # is uploaded again instead of being reused.
    db.table("files").add_column("uploaded_at", float)
    db.table("lifecycle_marks").create({"name": str, "at": float}, pk="name", not_null=["name"])


@migrations()
def m008_schedules(db: Database) -> None:
    # Recurring analyses. ``every``/``at``/``tz`` are the rule as `insightbot schedules add`
    # takes it; ``files`` is "newest:PATTERN" or "same"; ``last_occurrence_at`` is the latest
    # occurrence claimed (or, before any, the creation time): what is due is counted from it.
    db.table("schedules").create(
        {
            "id": int,
            "team": str,
            "channel": str,
            "user": str,
            "question": str,
            "every": str,
            "at": str,
            "tz": str,
            "files": str,
            "skip_unchanged": int,
            "state": str,  # active | paused
            "paused_reason": str,
            "source_thread_ts": str,
            "last_occurrence_at": float,
            "last_file_id": str,
            "last_file_at": float,
            "failures": int,
            "created_by": str,
            "created_at": float,
        },
        pk="id",
        not_null=["channel", "user", "question", "every", "at", "tz", "files", "state"],
        defaults={"skip_unchanged": 0, "state": "active", "failures": 0, "team": ""},
    )
    db.table("schedules").create_index(["channel"])
    # One row per occurrence, inserted before anything is posted: the primary key makes each
    # occurrence claimed exactly once, across restarts and processes.
    db.table("occurrences").create(
        {
            "schedule_id": int,
            "occurrence_at": float,
            "outcome": str,  # claimed | missed | skipped | posted | failed
            "turn_id": str,
            "file_id": str,
            "claimed_at": float,
        },
        pk=("schedule_id", "occurrence_at"),
        not_null=["schedule_id", "occurrence_at", "outcome", "claimed_at"],
    )


@migrations()
def m009_schedule_management(db: Database) -> None:
    # ``file_ids``: the Slack files a "same files" schedule runs on (JSON list), fixed when it is
    # made; ``post_skipped``: a skipped run posts one short line; ``updated_at``: the last edit,
    # pause or resume. ``message_ts`` on an occurrence is the run's top-level message, which the
    # App Home links to (never the answer's text).
    schedules = db.table("schedules")
    schedules.add_column("file_ids", str)
    schedules.add_column("post_skipped", int, not_null_default=0)
    schedules.add_column("updated_at", float)
    db.table("occurrences").add_column("message_ts", str)
