"""Translating between stored file records and the engine's UploadedFile (pure)."""

from __future__ import annotations

from dataclasses import replace

from bot.types import FileFacts, LocalFile, UploadedFile
from storage.records import FileRecord


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
