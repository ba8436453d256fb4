"""The fake workspace's state and the control/view API tests use (no HTTP here).

``SlackWorld`` holds identities, settings, files, messages, statuses and recorded calls, and
renders them in Slack's JSON shapes. ``slack_methods`` adds the Web API methods on top and
``slack_server.FakeSlack`` serves it all over HTTP and WebSocket.
"""

from __future__ import annotations

import itertools
import mimetypes
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tests.fakes.slack_payloads import channel_type_of, rich_text_blocks
from tests.fakes.slack_state import (
    PRETTY_TYPES,
    TOMBSTONE_MODE,
    ApiCall,
    DownloadRecord,
    FileRecord,
    Injection,
    SeenMessage,
    StatusRecord,
    StoredMessage,
    TsClock,
    UploadPost,
    queue_injection,
    seen_text,
)

DEFAULT_SCOPES = [
    "app_mentions:read",
    "assistant:write",
    "chat:write",
    "files:read",
    "files:write",
    "im:history",
    "channels:history",
    "groups:history",
    "reactions:write",
    "users:read",
    "channels:read",
    "groups:read",
]

# Slack clears a thread status after two minutes without a reply.
STATUS_TIMEOUT_S = 120.0


class SlackWorld:
    """State of one fake workspace with one installed bot."""

    bot_token = "xoxb-fake-bot-token"
    app_token = "xapp-fake-app-token"
    signing_secret = "fake-signing-secret"
    team_id = "T0FAKE"
    team_name = "Fake Workspace"
    bot_user_id = "UBOT"
    bot_id = "BBOT"
    app_id = "A0FAKE"

    def __init__(self, *, scopes: Sequence[str] | None = None) -> None:
        self.scopes: list[str] = list(scopes if scopes is not None else DEFAULT_SCOPES)
        self.base_url = "http://127.0.0.1:0"
        # Behaviour switches tests may flip at any time.
        self.latency_s = 0.0
        self.streaming_enabled = True
        self.streaming_disabled_error = "channel_type_not_supported"
        self.stream_expiry_s: float | None = None
        self.max_text_chars = 40_000
        self.history_limit_cap: int | None = None  # e.g. 15 for Tier-1 distributed apps
        self.replies_repeat_parent = True
        self.bot_not_in: set[str] = set()  # channels the bot was removed from
        # A channel's members when a test sets them; otherwise every known person and the bot.
        self.channel_members: dict[str, set[str]] = {}
        self.archived: set[str] = set()  # archived channels (posting answers is_archived)
        self.deleted_channels: set[str] = set()
        self.agent_view = True  # the app's manifest has features.agent_view
        # Records.
        self.calls: list[ApiCall] = []
        self.uploads: list[FileRecord] = []
        self.upload_posts: list[UploadPost] = []  # every POST to an upload URL
        self.tmp_dir = Path(tempfile.gettempdir())  # start() gives the server its own
        self.downloads: list[DownloadRecord] = []
        self.ephemeral_messages: list[dict[str, Any]] = []
        self.views: list[dict[str, Any]] = []
        self.home_views: dict[str, dict[str, Any]] = {}  # user id -> their published Home tab
        # DM channel -> {"title", "prompts"} of the Messages tab (setSuggestedPrompts).
        self.suggested_prompts: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.files: dict[str, FileRecord] = {}
        self._messages: dict[str, list[StoredMessage]] = {}
        self._statuses: dict[tuple[str, str], list[StatusRecord]] = {}
        self._injections: dict[str, deque[Injection]] = {}
        self._clock = TsClock()
        self._file_ids = itertools.count(1)
        self._upload_ids: dict[str, str] = {}  # upload token -> file id

    # ------------------------------------------------------------ test setup

    def add_file(
        self,
        *,
        name: str,
        content: bytes | None = None,
        path: Path | None = None,
        mimetype: str = "text/csv",
        filetype: str = "csv",
        user: str = "U1",
        size: int | None = None,
        connect_stub: bool = False,
        title: str | None = None,
        url_base: str | None = None,
        user_team: str | None = None,
    ) -> dict[str, Any]:
        """Host a file a user shared; return its file object as events carry it.

        ``path`` serves the bytes from disk without loading them. ``size`` overrides the
        declared size. With ``connect_stub`` the returned object is the Slack Connect stub
        (``file_access: check_file_info``, no URLs); files.info still gives the full object.
        ``url_base`` puts its ``url_private*`` on another server (a hostile file object).
        ``user_team`` is the sharer's workspace when it is another organisation's.
        """
        if (content is None) == (path is None):
            raise ValueError("give exactly one of content or path")
        if self.base_url.endswith(":0"):
            raise RuntimeError("start() the fake first: file URLs name its port")
        record = FileRecord(
            id=self._new_file_id(),
            name=name,
            title=title or name,
            mimetype=mimetype,
            filetype=filetype,
            user=user,
            created=int(time.time()),
            size=0,
            data=content,
            path=path,
            connect_stub=connect_stub,
            uploaded=True,
            completed=True,
            url_base=url_base,
            user_team=user_team,
        )
        record.size = size if size is not None else record.real_size
        self.files[record.id] = record
        return self.file_event_object(record)

    def add_remote_file(
        self,
        *,
        name: str,
        external_url: str,
        external_type: str = "gdrive",
        mimetype: str = "application/vnd.slack-remote",
        filetype: str = "remote",
        user: str = "U1",
        with_download_url: bool = False,
        connect_stub: bool = False,
    ) -> dict[str, Any]:
        """A remote file (a link to a file outside Slack); return its object as events carry it.

        Shaped like Slack's (files.remote.info): ``mode: external``, ``is_external: true``,
        ``external_type``, ``size: 0``, and ``url_private`` = ``external_url`` on any host;
        no ``url_private_download`` unless ``with_download_url`` (then on that host too).
        """
        record = FileRecord(
            id=self._new_file_id(),
            name=name,
            title=name,
            mimetype=mimetype,
            filetype=filetype,
            user=user,
            created=int(time.time()),
            size=0,
            data=b"",
            connect_stub=connect_stub,
            uploaded=True,
            completed=True,
            external_url=external_url,
            external_type=external_type,
            external_download=with_download_url,
        )
        self.files[record.id] = record
        return self.file_event_object(record)

    def delete_file(self, file_id: str) -> None:
        """Delete a file: downloads answer 404 and files.info ``file_not_found``."""
        self.files[file_id].deleted = True

    def add_user(
        self,
        user_id: str,
        *,
        name: str = "user",
        real_name: str = "User",
        tz: str = "Asia/Seoul",
        tz_offset: int = 32400,
        is_bot: bool = False,
        locale: str = "en-US",
    ) -> dict[str, Any]:
        """Register a user for users.info; returns the user object."""
        user = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "deleted": False,
            "real_name": real_name,
            "tz": tz,
            "tz_label": tz,
            "tz_offset": tz_offset,
            "profile": {"real_name": real_name, "display_name": name, "team": self.team_id},
            "is_admin": False,
            "is_owner": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "updated": int(time.time()),
            "locale": locale,  # users.info gives it only with include_locale
        }
        self.users[user_id] = user
        return user

    def post_user_message(
        self,
        *,
        channel: str,
        user: str,
        text: str,
        thread_ts: str | None = None,
        files: Sequence[dict[str, Any]] = (),
    ) -> dict[str, Any]:
        """Store a message a person typed and return its ``message`` event fields.

        The event has ``ts``, ``channel_type``, rich_text ``blocks`` and, with ``files``,
        subtype ``file_share`` and no ``team`` (like Slack). Wrap it with
        ``slack_payloads.event_callback``.
        """
        ts = self._clock.next()
        file_ids = [f["id"] for f in files]
        stored = StoredMessage(
            channel=channel,
            ts=ts,
            text=text,
            user=user,
            thread_ts=thread_ts,
            blocks=rich_text_blocks(text) if text else [],
            file_ids=file_ids,
            subtype="file_share" if files else None,
            client_msg_id=str(uuid.uuid4()),
            team=None if files else self.team_id,
            upload=False,
        )
        self._store(stored)
        for fid in file_ids:
            self.files[fid].shares.append((channel, ts))
        event = self.render_message(stored)
        event.update(channel=channel, event_ts=ts, channel_type=channel_type_of(channel))
        if files:
            event["files"] = [dict(f) for f in files]  # stubs stay stubs in events
            event["display_as_bot"] = False
        return event

    def members_of(self, channel: str) -> list[str]:
        """The channel's members, in a stable order."""
        if channel in self.channel_members:
            return sorted(self.channel_members[channel] | {self.bot_user_id})
        return sorted({*self.users, self.bot_user_id})

    def deactivate_user(self, user: str) -> None:
        """The person's account is deactivated (users.info says ``deleted``)."""
        self.users[user]["deleted"] = True

    def dm_channel_of(self, user: str) -> str:
        """The bot's DM channel with ``user`` (chat.postMessage to a user id posts there)."""
        return f"D{user}"

    def fail_next(
        self,
        method: str,
        *,
        error: str = "ratelimited",
        status: int = 429,
        retry_after: int | None = 1,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail.

        ``status`` 429 adds ``Retry-After``; 500/503 are server errors; 200 gives an ordinary
        ``ok: false``. ``method`` may also be "upload" (the raw upload POST) or "download"
        (a file URL GET).
        """
        injection = Injection(error=error, status=status, retry_after=retry_after)
        queue_injection(self._injections, method, injection, times)

    def slow_next(self, method: str, *, seconds: float, times: int = 1) -> None:
        """Delay the next ``times`` answers of ``method`` (for client timeouts)."""
        queue_injection(self._injections, method, Injection(status=0, delay_s=seconds), times)

    # ----------------------------------------------------------------- views

    def calls_to(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method]

    def thread(self, channel: str, thread_ts: str) -> list[SeenMessage]:
        """The thread as a person sees it: parent first, then replies in order."""
        return [
            self.seen(m)
            for m in self._messages.get(channel, [])
            if m.ts == thread_ts or m.thread_ts == thread_ts
        ]

    def channel_messages(self, channel: str) -> list[SeenMessage]:
        """Top-level messages of a channel, oldest first."""
        return [self.seen(m) for m in self._messages.get(channel, []) if _is_top_level(m)]

    def statuses(self, channel: str, thread_ts: str) -> list[str]:
        """Every status the bot set on the thread, in order ("" = cleared)."""
        return [s.status for s in self._statuses.get((channel, thread_ts), [])]

    def loading_messages(self, channel: str, thread_ts: str) -> list[list[str]]:
        return [s.loading_messages for s in self._statuses.get((channel, thread_ts), [])]

    def current_status(self, channel: str, thread_ts: str) -> str:
        """The status a person sees now: cleared by a bot reply or after two minutes."""
        history = self._statuses.get((channel, thread_ts), [])
        if not history:
            return ""
        last = history[-1]
        if time.time() - last.time > STATUS_TIMEOUT_S:
            return ""
        replied = any(
            m.bot and m.thread_ts == thread_ts and float(m.ts) > last.time
            for m in self._messages.get(channel, [])
        )
        return "" if replied else last.status

    def reactions(self, channel: str, ts: str) -> set[str]:
        """Reactions the bot currently has on a message."""
        found = self.find_message(channel, ts)
        if found is None:
            return set()
        return {name for name, users in found.reactions.items() if self.bot_user_id in users}

    def seen(self, m: StoredMessage) -> SeenMessage:
        return SeenMessage(
            ts=m.ts,
            user=m.user,
            bot=m.bot,
            text=seen_text(m),
            blocks=list(m.blocks),
            files=[self.files[f] for f in m.file_ids if f in self.files],
            thread_ts=m.thread_ts,
            streaming=m.stream_state == "streaming",
            stream_state=m.stream_state,
            tasks=list(m.tasks.values()),
            edited=m.edited_ts is not None,
            reactions={k: list(v) for k, v in m.reactions.items()},
        )

    # ----------------------------------------------------------- internals

    def next_ts(self) -> str:
        return self._clock.next()

    def _new_file_id(self) -> str:
        return f"F0{next(self._file_ids):08d}"

    def _store(self, message: StoredMessage) -> None:
        self._messages.setdefault(message.channel, []).append(message)

    def messages_in(self, channel: str) -> list[StoredMessage]:
        return self._messages.get(channel, [])

    def remove_message(self, message: StoredMessage) -> None:
        self._messages[message.channel].remove(message)

    def find_message(self, channel: str, ts: str) -> StoredMessage | None:
        for m in self._messages.get(channel, []):
            if m.ts == ts:
                return m
        return None

    def record_status(self, channel: str, thread_ts: str, record: StatusRecord) -> None:
        self._statuses.setdefault((channel, thread_ts), []).append(record)

    def take_injection(self, method: str) -> Injection | None:
        queue = self._injections.get(method)
        return queue.popleft() if queue else None

    def new_upload(
        self, *, filename: str, length: int, alt_txt: str | None, snippet_type: str | None
    ) -> tuple[FileRecord, str]:
        """A pending bot upload and the token of its upload URL."""
        mimetype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        filetype = Path(filename).suffix.lstrip(".").lower() or "binary"
        record = FileRecord(
            id=self._new_file_id(),
            name=filename,
            title=filename,
            mimetype=mimetype,
            filetype=filetype,
            user=self.bot_user_id,
            created=int(time.time()),
            size=length,
            alt_txt=alt_txt,
            snippet_type=snippet_type,
            by_bot=True,
            declared_length=length,
        )
        self.files[record.id] = record
        self.uploads.append(record)
        token = uuid.uuid4().hex
        self._upload_ids[token] = record.id
        return record, token

    def upload_target(self, token: str) -> FileRecord | None:
        fid = self._upload_ids.get(token)
        return self.files.get(fid) if fid else None

    # ------------------------------------------------------------- rendering

    def file_urls(self, record: FileRecord) -> dict[str, str]:
        name = quote(record.name)
        if record.external_url is not None:
            urls = {
                "url_private": record.external_url,
                "permalink": f"{self.base_url}/files/{record.user}/{record.id}/{name}",
            }
            if record.external_download:
                urls["url_private_download"] = record.external_url
            return urls
        private = f"{record.url_base or self.base_url}/files-pri/{self.team_id}-{record.id}"
        return {
            "url_private": f"{private}/{name}",
            "url_private_download": f"{private}/download/{name}",
            "permalink": f"{self.base_url}/files/{record.user}/{record.id}/{name}",
            "permalink_public": f"{self.base_url}/public/{self.team_id}-{record.id}",
        }

    def file_object(self, record: FileRecord) -> dict[str, Any]:
        """The full file object (files.info, messages from the API)."""
        obj: dict[str, Any] = {
            "id": record.id,
            "created": record.created,
            "timestamp": record.created,
            "name": record.name,
            "title": record.title,
            "mimetype": record.mimetype,
            "filetype": record.filetype,
            "pretty_type": PRETTY_TYPES.get(record.filetype, record.filetype.upper()),
            "user": record.user,
            "user_team": record.user_team or self.team_id,
            "editable": False,
            "size": record.size,
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": False,
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            **self.file_urls(record),
            "comments_count": 0,
            "is_starred": False,
            "shares": self._shares_of(record),
            "channels": sorted({c for c, _ in record.shares if c[:1] == "C"}),
            "groups": sorted({c for c, _ in record.shares if c[:1] == "G"}),
            "ims": sorted({c for c, _ in record.shares if c[:1] == "D"}),
            "has_rich_preview": False,
            "file_access": "visible",
        }
        if record.alt_txt is not None:
            obj["alt_txt"] = record.alt_txt
        if record.external_url is not None:
            obj.update(
                mode="external",
                is_external=True,
                external_type=record.external_type,
                external_id=f"ext-{record.id}",
                external_url=record.external_url,
                media_display_type="unknown",
            )
            obj.pop("permalink_public", None)
        return obj

    def file_event_object(self, record: FileRecord) -> dict[str, Any]:
        """The file object as events carry it (the Slack Connect stub when asked)."""
        if record.connect_stub:
            return {
                "id": record.id,
                "mode": "file_access",
                "file_access": "check_file_info",
                "created": 0,
                "timestamp": 0,
                "user": record.user,
            }
        return self.file_object(record)

    def _shares_of(self, record: FileRecord) -> dict[str, Any]:
        shares: dict[str, Any] = {}
        for channel, ts in record.shares:
            kind = "private" if channel[:1] in ("G", "D") else "public"
            found = self.find_message(channel, ts)
            entry: dict[str, Any] = {"ts": ts, "team_id": self.team_id}
            if found is not None and found.thread_ts:
                entry["thread_ts"] = found.thread_ts
            shares.setdefault(kind, {}).setdefault(channel, []).append(entry)
        return shares

    def render_message(self, m: StoredMessage) -> dict[str, Any]:
        """A message in the shape conversations.history/replies return it."""
        out: dict[str, Any] = {"type": "message", "ts": m.ts, "text": m.text}
        if m.subtype:
            out["subtype"] = m.subtype
        if m.bot:
            out.update(
                user=self.bot_user_id,
                bot_id=self.bot_id,
                app_id=self.app_id,
                team=self.team_id,
                bot_profile={"id": self.bot_id, "app_id": self.app_id, "name": "insightbot"},
            )
        else:
            out["user"] = m.user
            if m.team:
                out["team"] = m.team
            if m.client_msg_id:
                out["client_msg_id"] = m.client_msg_id
        if m.blocks:
            out["blocks"] = m.blocks
        if m.file_ids:
            out["files"] = [self._file_in_message(fid) for fid in m.file_ids]
            out["upload"] = m.upload
        if m.thread_ts:
            out["thread_ts"] = m.thread_ts
            parent = self.find_message(m.channel, m.thread_ts)
            if m.ts != m.thread_ts and parent is not None:
                out["parent_user_id"] = self.bot_user_id if parent.bot else parent.user
        self._add_reply_summary(m, out)
        if m.edited_ts:
            out["edited"] = {"user": self.bot_user_id, "ts": m.edited_ts}
        if m.metadata:
            out["metadata"] = m.metadata
        if m.reactions:
            out["reactions"] = [
                {"name": name, "users": users, "count": len(users)}
                for name, users in m.reactions.items()
            ]
        return out

    def _file_in_message(self, file_id: str) -> dict[str, Any]:
        record = self.files[file_id]
        if record.deleted:
            return {"id": record.id, "mode": TOMBSTONE_MODE}
        return self.file_object(record)

    def _add_reply_summary(self, m: StoredMessage, out: dict[str, Any]) -> None:
        replies = [r for r in self._messages.get(m.channel, []) if r.thread_ts == m.ts]
        replies = [r for r in replies if r.ts != m.ts]
        if not replies:
            return
        users = {self.bot_user_id if r.bot else (r.user or "") for r in replies}
        out.update(
            thread_ts=m.ts,
            reply_count=len(replies),
            reply_users_count=len(users),
            reply_users=sorted(users),
            latest_reply=replies[-1].ts,
        )


def _is_top_level(m: StoredMessage) -> bool:
    return m.thread_ts is None or m.thread_ts == m.ts
