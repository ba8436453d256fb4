"""Records and in-memory state of the fake Slack workspace.

Everything a test can look at after the bot ran lives here: API calls, files, messages
(user, bot, streamed, file shares), statuses and reactions. No HTTP in this module.
"""

from __future__ import annotations

import base64
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fakes.slack_blocks import blocks_text

# Shown for deleted files inside messages, as Slack does ("tombstone" file objects).
TOMBSTONE_MODE = "tombstone"

PRETTY_TYPES = {
    "csv": "CSV",
    "tsv": "TSV",
    "xlsx": "Excel Spreadsheet",
    "xls": "Excel Spreadsheet",
    "png": "PNG",
    "jpg": "JPEG",
    "gif": "GIF",
    "text": "Plain Text",
    "txt": "Plain Text",
    "python": "Python",
    "json": "JSON",
    "pdf": "PDF",
    "remote": "Remote",
}


class ApiError(Exception):
    """A Web API failure answered as ``{"ok": false, "error": ...}`` plus ``extra`` fields."""

    def __init__(
        self,
        error: str,
        *,
        status: int = 200,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.extra = extra or {}
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"ok": False, "error": self.error, **self.extra}


def invalid_arguments(message: str) -> ApiError:
    """Slack's answer to a missing or malformed argument."""
    return ApiError(
        "invalid_arguments",
        extra={"response_metadata": {"messages": [f"[ERROR] {message}"]}},
    )


@dataclass
class ApiCall:
    """One request to ``/api/<method>``; ``args`` merges query, form and JSON (token removed)."""

    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    time: float
    token: str | None = None
    http_verb: str = "POST"


@dataclass
class FileRecord:
    """A file in the workspace: one a user shared (``add_file``) or one the bot uploaded.

    ``content`` reads the bytes (from memory or from ``path``); ``size`` is what Slack declares,
    which may differ from the real bytes on purpose.
    """

    id: str
    name: str
    title: str
    mimetype: str
    filetype: str
    user: str
    created: int
    size: int
    data: bytes | None = None
    path: Path | None = None
    alt_txt: str | None = None
    snippet_type: str | None = None
    connect_stub: bool = False
    deleted: bool = False
    by_bot: bool = False
    uploaded: bool = False  # bytes arrived at the upload URL
    completed: bool = False  # files.completeUploadExternal named it
    declared_length: int | None = None
    sha256: str | None = None  # of the bytes that arrived at the upload URL
    shares: list[tuple[str, str]] = field(default_factory=list)  # (channel, message ts)
    # A remote file (files.remote.add, Google Drive, …): Slack's url_private is this URL.
    external_url: str | None = None
    external_type: str = ""
    external_download: bool = False  # also give url_private_download (on the external host)
    url_base: str | None = None  # serve url_private* from another host than the fake's own
    user_team: str | None = None  # the sharer's workspace when not ours (Slack Connect)

    @property
    def content(self) -> bytes:
        if self.data is not None:
            return self.data
        if self.path is not None:
            return self.path.read_bytes()
        return b""

    @property
    def real_size(self) -> int:
        if self.data is not None:
            return len(self.data)
        if self.path is not None:
            return self.path.stat().st_size
        return 0


@dataclass
class UploadPost:
    """One POST to an upload URL: its headers, and what arrived (counted and hashed)."""

    token: str
    headers: dict[str, str]  # lower-case names
    received: int = 0
    sha256: str | None = None
    status: int | None = None


# The fake names the bot's uploads with the same record type.
UploadedFileRecord = FileRecord


@dataclass
class DownloadRecord:
    """One GET of a file URL: which file, whether the right token came, and the HTTP status."""

    file_id: str
    authorized: bool
    status: int
    time: float


@dataclass
class StoredMessage:
    """A message as the fake workspace keeps it (rendered to Slack JSON on the way out)."""

    channel: str
    ts: str
    text: str = ""
    user: str | None = None
    bot: bool = False
    thread_ts: str | None = None
    blocks: list[dict[str, Any]] = field(default_factory=list)
    file_ids: list[str] = field(default_factory=list)
    subtype: str | None = None
    client_msg_id: str | None = None
    team: str | None = None
    upload: bool = False
    edited_ts: str | None = None
    metadata: dict[str, Any] | None = None
    reactions: dict[str, list[str]] = field(default_factory=dict)
    # Streaming: None for ordinary messages; "streaming", "stopped" or "expired".
    stream_state: str | None = None
    stream_started: float = 0.0
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    plan_title: str | None = None
    chunks: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class SeenMessage:
    """What a person sees of one message in a thread or channel.

    ``text`` is plain text: the message text or, when it has blocks, the blocks rendered;
    a streamed message shows its streamed Markdown followed by its final blocks.
    """

    ts: str
    user: str | None
    bot: bool
    text: str
    blocks: list[dict[str, Any]]
    files: list[FileRecord]
    thread_ts: str | None
    streaming: bool = False
    stream_state: str | None = None
    tasks: list[dict[str, Any]] = field(default_factory=list)
    edited: bool = False
    reactions: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class StatusRecord:
    """One ``assistant.threads.setStatus`` call."""

    status: str
    loading_messages: list[str]
    time: float


@dataclass
class Injection:
    """A failure queued by ``fail_next`` or a delay queued by ``slow_next``."""

    error: str = "ratelimited"
    status: int = 429
    retry_after: int | None = 1
    delay_s: float = 0.0


class TsClock:
    """Message timestamps like Slack's ("1503435956.000247"), strictly increasing."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> str:
        micros = int(time.time() * 1_000_000)
        micros = max(micros, self._last + 1)
        self._last = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def encode_cursor(position: int) -> str:
    return base64.b64encode(f"next_ts:{position}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    """Offset inside a listing; raises ApiError("invalid_cursor") when it is not ours."""
    try:
        prefix, _, value = base64.b64decode(cursor.encode()).decode().partition(":")
        if prefix != "next_ts":
            raise ValueError(prefix)
        return int(value)
    except ValueError as e:
        raise ApiError("invalid_cursor") from e


def seen_text(message: StoredMessage) -> str:
    """Plain text of what a reader sees: streamed text, or blocks over the fallback ``text``."""
    if message.stream_state not in (None, "updated"):
        parts = [message.text] if message.text else []
        if message.blocks:
            parts.append(blocks_text(message.blocks))
        return "\n".join(parts)
    if message.blocks:
        return blocks_text(message.blocks)
    return message.text


def queue_injection(
    queues: dict[str, deque[Injection]], method: str, injection: Injection, times: int
) -> None:
    queue = queues.setdefault(method, deque())
    for _ in range(times):
        queue.append(injection)
