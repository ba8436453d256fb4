"""Translating between Slack files, stored file records and the engine's UploadedFile (pure)."""

from __future__ import annotations

import time
from dataclasses import replace

from bot.types import FileFacts, LocalFile, SlackFile, ThreadKey, UploadedFile
from storage.records import ChannelFileRecord, FileRecord


def uploaded_from_record(record: FileRecord) -> UploadedFile | None:
    """The engine file a record remembers, or None when it was never uploaded."""
    if not (record.engine_file_id and record.kind and record.sha256):
        return None
    facts = FileFacts(
        kind=record.kind,
        mime_type=record.mime_type or "application/octet-stream",
        encoding=record.encoding,
        delimiter=record.delimiter,
        note=record.note,
    )
    return UploadedFile(
        key=record.slack_file_id,
        name=record.name,
        file_id=record.engine_file_id,
        size=record.size or 0,
        sha256=record.sha256,
        facts=facts,
        container_path=record.container_path,
        upload_name=record.upload_name,
    )


def record_with_upload(record: FileRecord, local: LocalFile, uploaded: UploadedFile) -> FileRecord:
    """``record`` updated with what inspection and the upload learned about the file."""
    return replace(
        record,
        name=local.name,
        size=local.size,
        sha256=local.sha256,
        kind=local.facts.kind,
        mime_type=local.facts.mime_type,
        encoding=local.facts.encoding,
        delimiter=local.facts.delimiter,
        note=local.facts.note,
        engine_file_id=uploaded.file_id,
        upload_name=uploaded.upload_name,
    )


def file_record_for(
    *, thread_key: str, file: SlackFile, shared_by: str | None, shared_ts: str | None
) -> FileRecord:
    """A Slack file as remembered for one thread (not yet uploaded)."""
    return FileRecord(
        thread_key=thread_key,
        slack_file_id=file.id,
        name=file.name,
        size=file.size,
        mimetype=file.mimetype,
        filetype=file.filetype,
        url_private_download=file.url_private_download,
        shared_by=shared_by,
        shared_ts=shared_ts,
        created_at=time.time(),
        is_remote=file.is_remote,
        shared_by_team=file.user_team,
    )


def channel_file_record_for(
    *, thread: ThreadKey, file: SlackFile, shared_by: str, expires_at: float
) -> ChannelFileRecord:
    """A file shared at the top level of a channel (``thread.thread_ts`` is that message)."""
    return ChannelFileRecord(
        team=thread.team,
        channel=thread.channel,
        slack_file_id=file.id,
        name=file.name,
        size=file.size,
        mimetype=file.mimetype,
        filetype=file.filetype,
        url_private_download=file.url_private_download,
        shared_by=shared_by,
        shared_ts=thread.thread_ts,
        expires_at=expires_at,
        is_remote=file.is_remote,
        shared_by_team=file.user_team,
    )


def slack_file_of(record: FileRecord | ChannelFileRecord) -> SlackFile:
    """The Slack file a stored record describes."""
    return SlackFile(
        id=record.slack_file_id,
        name=record.name,
        size=record.size,
        mimetype=record.mimetype,
        filetype=record.filetype,
        url_private_download=record.url_private_download,
        is_remote=record.is_remote,
        user_team=record.shared_by_team,
    )
