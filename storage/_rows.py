"""Conversions between records and SQLite rows (JSON for collections, 0/1 for booleans)."""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from typing import Any

from storage.records import ChannelFileRecord, FileRecord, ThreadRecord, TurnRecord

Row = dict[str, Any]

THREAD_COLUMNS = tuple(f.name for f in fields(ThreadRecord))
FILE_COLUMNS = tuple(f.name for f in fields(FileRecord))
CHANNEL_FILE_COLUMNS = tuple(f.name for f in fields(ChannelFileRecord))
TURN_COLUMNS = tuple(f.name for f in fields(TurnRecord))
TURN_LIST_COLUMNS = frozenset({"posted_artifacts", "code"})


def thread_to_row(record: ThreadRecord) -> Row:
    row = asdict(record)
    row["file_paths"] = json.dumps(record.file_paths, ensure_ascii=False, sort_keys=True)
    row["bot_answered"] = int(record.bot_answered)
    return row


def thread_from_row(row: Row) -> ThreadRecord:
    values = {name: row[name] for name in THREAD_COLUMNS}
    values["file_paths"] = json.loads(row["file_paths"])
    values["bot_answered"] = bool(row["bot_answered"])
    return ThreadRecord(**values)


def file_to_row(record: FileRecord) -> Row:
    row = asdict(record)
    row["is_remote"] = int(record.is_remote)
    return row


def file_from_row(row: Row) -> FileRecord:
    values = {name: row[name] for name in FILE_COLUMNS}
    values["is_remote"] = bool(row["is_remote"])
    return FileRecord(**values)


def channel_file_to_row(record: ChannelFileRecord) -> Row:
    row = asdict(record)
    row["is_remote"] = int(record.is_remote)
    return row


def channel_file_from_row(row: Row) -> ChannelFileRecord:
    values = {name: row[name] for name in CHANNEL_FILE_COLUMNS}
    values["is_remote"] = bool(row["is_remote"])
    return ChannelFileRecord(**values)


def turn_to_row(record: TurnRecord) -> Row:
    row = asdict(record)
    for name in TURN_LIST_COLUMNS:
        row[name] = json.dumps(list(row[name]), ensure_ascii=False)
    row["run_requested"] = int(record.run_requested)
    row["answer_parts"] = json.dumps(list(record.answer_parts))
    return row


def turn_from_row(row: Row) -> TurnRecord:
    values = {name: row[name] for name in TURN_COLUMNS}
    for name in TURN_LIST_COLUMNS:
        values[name] = tuple(json.loads(row[name]))
    values["run_requested"] = bool(row["run_requested"])
    values["answer_parts"] = tuple(int(n) for n in json.loads(row["answer_parts"]))
    return TurnRecord(**values)


def placeholders(columns: tuple[str, ...]) -> str:
    """``"a", "b"`` and ``:a, :b`` for an INSERT of ``columns`` with named parameters."""
    names = ", ".join(f'"{name}"' for name in columns)
    params = ", ".join(f":{name}" for name in columns)
    return f"({names}) VALUES ({params})"
