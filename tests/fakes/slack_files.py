"""files.* Web API methods of the fake Slack (external uploads and files.info).

Upload flow as Slack documents it (and as the bot and slack_sdk's ``files_upload_v2`` drive
it): ``files.getUploadURLExternal`` per file (``filename``, ``length``, ``alt_txt``), a POST
of the raw bytes to the returned ``upload_url`` (no token needed; the server streams it to
disk and refuses a body whose length differs from ``length``), then one
``files.completeUploadExternal`` (``files`` as a JSON array of ``{id, title}``,
``channel_id``/``channels``, ``thread_ts``, ``initial_comment``) that shares all files in
one message; ids it does not know, or whose bytes never arrived, give ``file_not_found``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.fakes.slack_blocks import BlocksRejected, check_blocks, parse_blocks
from tests.fakes.slack_state import ApiError, FileRecord, StoredMessage, invalid_arguments
from tests.fakes.slack_world import SlackWorld

MAX_ALT_TXT = 1000


class FileMethods(SlackWorld):
    """files.info, files.getUploadURLExternal, files.completeUploadExternal."""

    def m_files_info(self, args: dict[str, Any]) -> dict[str, Any]:
        record = self.files.get(str(args.get("file", "")))
        if record is None or record.deleted or (record.by_bot and not record.completed):
            raise ApiError("file_not_found")
        return {
            "file": self.file_object(record),
            "comments": [],
            "response_metadata": {"next_cursor": ""},
        }

    def m_files_list(self, args: dict[str, Any]) -> dict[str, Any]:
        """Files visible to the bot, newest first, with Slack's page-numbered ``paging``:
        ``channel`` keeps files shared there; ``ts_from``/``ts_to`` are inclusive bounds on
        ``created``; ``user`` keeps one person's."""
        channel = args.get("channel")
        user = args.get("user")
        try:
            ts_from = float(args.get("ts_from") or 0)
            ts_to = float(args.get("ts_to") or "inf")
            count = max(1, min(int(args.get("count") or 100), 1000))
            page = max(1, int(args.get("page") or 1))
        except ValueError as e:
            raise invalid_arguments("invalid ts_from, ts_to, count or page") from e
        found = [
            record
            for record in self.files.values()
            if not record.deleted
            and not (record.by_bot and not record.completed)
            and (not channel or any(c == channel for c, _ in record.shares))
            and (not user or record.user == user)
            and ts_from <= record.created <= ts_to
        ]
        found.sort(key=lambda r: (r.created, r.id), reverse=True)
        pages = max(1, -(-len(found) // count))
        shown = found[(page - 1) * count : page * count]
        return {
            "files": [self.file_object(record) for record in shown],
            "paging": {"count": count, "total": len(found), "page": page, "pages": pages},
        }

    def m_files_get_upload_url(self, args: dict[str, Any]) -> dict[str, Any]:
        filename = args.get("filename")
        if not filename:
            raise invalid_arguments("missing required field: filename")
        try:
            length = int(args.get("length", ""))
        except ValueError as e:
            raise invalid_arguments("missing required field: length") from e
        if length < 1:
            raise invalid_arguments("must be at least 1 [json-pointer:/length]")
        alt_txt = args.get("alt_txt")
        if alt_txt is not None and len(str(alt_txt)) > MAX_ALT_TXT:
            raise ApiError("alt_txt_too_large")
        record, token = self.new_upload(
            filename=str(filename),
            length=length,
            alt_txt=None if alt_txt is None else str(alt_txt),
            snippet_type=args.get("snippet_type"),
        )
        return {"upload_url": f"{self.base_url}/upload/v1/{token}", "file_id": record.id}

    def receive_upload(self, record: FileRecord, *, path: Path, sha256: str) -> None:
        """Keep the bytes that arrived at ``record``'s upload URL (on disk at ``path``)."""
        record.path = path
        record.sha256 = sha256
        record.uploaded = True

    def m_files_complete_upload(self, args: dict[str, Any]) -> dict[str, Any]:
        entries = _files_arg(args.get("files"))
        records: list[FileRecord] = []
        for entry in entries:
            record = self.files.get(str(entry.get("id", "")))
            if record is None or not record.by_bot or not record.uploaded or record.completed:
                raise ApiError("file_not_found")
            records.append(record)
        channels = _channels_arg(args)
        thread_ts = args.get("thread_ts") or None
        if thread_ts and len(channels) > 1:
            raise invalid_arguments("thread_ts needs exactly one channel")
        for channel in channels:
            if channel in self.bot_not_in:
                raise ApiError("not_in_channel")
        comment = str(args.get("initial_comment") or "")
        blocks = [] if comment else _blocks_arg(args.get("blocks"))
        for entry, record in zip(entries, records, strict=True):
            if entry.get("title"):
                record.title = str(entry["title"])
            record.completed = True
        for channel in channels:
            self._share(
                records, channel=channel, thread_ts=thread_ts, comment=comment, blocks=blocks
            )
        return {"files": [{"id": r.id, "title": r.title} for r in records]}

    def _share(
        self,
        records: list[FileRecord],
        *,
        channel: str,
        thread_ts: str | None,
        comment: str,
        blocks: list[dict[str, Any]],
    ) -> None:
        message = StoredMessage(
            channel=channel,
            ts=self.next_ts(),
            text=comment,
            bot=True,
            user=self.bot_user_id,
            thread_ts=thread_ts,
            blocks=blocks,
            file_ids=[r.id for r in records],
            upload=True,
        )
        self._store(message)
        for record in records:
            record.shares.append((channel, message.ts))


def _files_arg(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as e:
            raise invalid_arguments("files must be a JSON array") from e
    if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
        raise invalid_arguments("missing required field: files")
    return value


def _channels_arg(args: dict[str, Any]) -> list[str]:
    channels = [c for c in str(args.get("channels") or "").split(",") if c]
    if args.get("channel_id"):
        channels.insert(0, str(args["channel_id"]))
    return list(dict.fromkeys(channels))


def _blocks_arg(value: Any) -> list[dict[str, Any]]:
    try:
        blocks = parse_blocks(value)
        check_blocks(blocks)
    except BlocksRejected as e:
        raise ApiError(e.error) from e
    return blocks
