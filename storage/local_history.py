"""The local engine's conversation history: jobs for the database worker thread.

Chat Completions servers keep no conversations, so each answered turn's messages (the
question, the model's tool calls, their results and the answer) are stored as one JSON row.
"""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

Message = dict[str, Any]


def load(db: Database, *, conversation_id: str) -> list[list[Message]]:
    """The stored turns of a conversation, oldest first, each a list of messages."""
    rows = db.query(
        "SELECT messages FROM local_history WHERE conversation_id = ? ORDER BY created_at, rowid",
        [conversation_id],
    )
    return [json.loads(row["messages"]) for row in rows]


def save(
    db: Database, *, conversation_id: str, turn_id: str, messages: list[Message], now: float
) -> None:
    """Store (or replace) one turn's messages."""
    db.execute(
        "INSERT OR REPLACE INTO local_history (conversation_id, turn_id, messages, created_at) "
        "VALUES (?, ?, ?, ?)",
        [conversation_id, turn_id, json.dumps(messages, ensure_ascii=False), now],
    )


def forget(db: Database, *, conversation_id: str) -> int:
    """Delete a conversation's history; returns how many turns went."""
    return db.execute(
        "DELETE FROM local_history WHERE conversation_id = ?", [conversation_id]
    ).rowcount
