"""Looking at users' data files without changing a byte of them.

``inspect_file`` reads at most ``HEAD_BYTES`` from the start of a file (plus the last bytes of
xlsx and Parquet files, to catch cut-off downloads, and the sheet list and header rows of a
workbook) and reports what the model needs to read it: kind, encoding, delimiter, sheets and
oddities such as ragged rows. A file compressed alone (.gz, .bz2, .xz, .zip) is decompressed
as a stream, within the size limit, and its inner file inspected. A file that cannot be used
raises a ``FileProblem`` whose message names the file and says what to do.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from dataclasses import replace
from functools import partial
from pathlib import Path, PurePosixPath

from bot import messages
from bot.errors import FileTooLarge, FileUnavailable, FileUnreadable, UnsupportedFileType
from bot.files.archives import ArchiveProblem, compression_of, expand_to, inner_name
from bot.files.packaging import (
    WRAPPED_KINDS,
    UploadForm,
    model_note,
    safe_display_name,
    sha256_of,
    upload_form_for,
)
from bot.files.sheets import SheetsUnreadable, is_ods, read_sheets, sheets_note
from bot.files.text import Head, text_facts
from bot.types import FileFacts

__all__ = [
    "ARCHIVE",
    "HEAD_BYTES",
    "MAX_EXPANDED_BYTES",
    "SUPPORTED_KINDS",
    "WRAPPED_KINDS",
    "UploadForm",
    "inspect_file",
    "kind_for",
    "model_note",
    "safe_display_name",
    "sha256_of",
    "upload_form_for",
]

SUPPORTED_KINDS: tuple[str, ...] = (
    "csv", "tsv", "txt", "xlsx", "xls", "ods", "json", "parquet", "image",
)  # fmt: skip
ARCHIVE = "archive"  # what kind_for says of .gz/.bz2/.xz/.zip; inspection finds the inner kind
HEAD_BYTES = 1 << 20
# The default bound on a compressed file's inner size: INSIGHTBOT_MAX_FILE_MB's default.
MAX_EXPANDED_BYTES = 512 * 1024 * 1024

_BY_EXTENSION = {
    "csv": "csv",
    "tsv": "tsv",
    "tab": "tsv",
    "txt": "txt",
    "xlsx": "xlsx",
    "xlsm": "xlsx",
    "xls": "xls",
    "ods": "ods",
    "json": "json",
    "jsonl": "json",
    "ndjson": "json",
    "parquet": "parquet",
    "parq": "parquet",
    "pq": "parquet",
    "png": "image",
    "jpg": "image",
    "jpeg": "image",
    "gif": "image",
    "gz": ARCHIVE,
    "bz2": ARCHIVE,
    "xz": ARCHIVE,
    "zip": ARCHIVE,
}
_JSON_LINES_EXTENSIONS = frozenset({"jsonl", "ndjson"})
_BY_SLACK_FILETYPE = {**_BY_EXTENSION, "text": "txt", "gzip": ARCHIVE}
_BY_MIMETYPE = {
    "text/csv": "csv",
    "application/csv": "csv",
    "text/tab-separated-values": "tsv",
    "text/plain": "txt",
    "application/json": "json",
    "application/x-ndjson": "json",
    "application/jsonl": "json",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.ms-excel.sheet.macroenabled.12": "xlsx",
    "application/vnd.ms-excel": "xls",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.apache.parquet": "parquet",
    "application/x-parquet": "parquet",
    "application/gzip": ARCHIVE,
    "application/x-gzip": ARCHIVE,
    "application/x-bzip2": ARCHIVE,
    "application/x-xz": ARCHIVE,
    "application/zip": ARCHIVE,
    "image/png": "image",
    "image/jpeg": "image",
    "image/gif": "image",
}
_MIME = {
    "csv": "text/csv",
    "txt": "text/plain",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    # Not accepted by the code interpreter as they are: they travel zipped.
    "tsv": "application/zip",
    "xls": "application/zip",
    "ods": "application/zip",
    "parquet": "application/zip",
}
_TEXT_KINDS = frozenset({"csv", "tsv", "txt", "json"})
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = b"PK\x03\x04"
_IMAGES = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))
_GIFS = (b"GIF87a", b"GIF89a")
_COMPRESSION_NAMES = {"gzip": "gzip", "bzip2": "bzip2", "xz": "xz", "zip": "zip"}
_ODS_NOTE = (
    "an OpenDocument spreadsheet (read with engine='odf'; if that fails, ask the user to "
    "save it as .xlsx and share it again)"
)


def kind_for(*, name: str, mimetype: str = "", filetype: str = "") -> str | None:
    """The kind of a file from its extension, else Slack's filetype, else its MIME type.

    ``ARCHIVE`` for a compressed file (its inner kind is found by ``inspect_file``); None
    when the file is not a type we analyse.
    """
    extension = PurePosixPath(safe_display_name(name)).suffix.lower().lstrip(".")
    mime = mimetype.split(";", 1)[0].strip().lower()
    kind = (
        _BY_EXTENSION.get(extension)
        or _BY_SLACK_FILETYPE.get(filetype.strip().lower())
        or _BY_MIMETYPE.get(mime)
    )
    if kind == ARCHIVE and extension and _BY_EXTENSION.get(extension) != ARCHIVE:
        return None  # .docx, .pptx, .jar and .epub are zips too, but not of one data file
    return kind


def inspect_file(
    path: Path,
    *,
    name: str,
    declared_kind: str | None = None,
    max_bytes: int = MAX_EXPANDED_BYTES,
) -> FileFacts:
    """What the model needs to know to read ``path`` (named ``name`` by the user).

    Reads at most HEAD_BYTES from the start of the file (and up to 64 KiB of the end of xlsx
    and Parquet files, and a workbook's sheet list and header rows). A compressed file is
    decompressed into a temporary folder, stopping past ``max_bytes``, and its inner file
    inspected; its facts then say it travels zipped. Raises UnsupportedFileType, FileTooLarge
    (a compressed file expands past ``max_bytes``), FileUnavailable (a login page came instead
    of the file) or FileUnreadable (empty, binary under a text name, corrupt); OSError when
    the file cannot be read. Each FileProblem carries its words in every language.
    """
    safe = safe_display_name(name)
    kind = declared_kind or kind_for(name=name)
    if kind == ARCHIVE:
        return _archive_facts(path, name=name, max_bytes=max_bytes)
    if kind not in SUPPORTED_KINDS:
        raise UnsupportedFileType(partial(messages.unsupported_file, name=safe), file_name=name)
    with path.open("rb") as f:
        size = os.fstat(f.fileno()).st_size
        head = Head(path=path, name=safe, data=f.read(HEAD_BYTES), size=size)
    if not head.data:
        raise FileUnreadable(partial(messages.file_empty, name=safe), file_name=name)
    _refuse_html(head, file_name=name)
    if kind in _TEXT_KINDS:
        extension = PurePosixPath(safe).suffix.lower().lstrip(".")
        lines = extension in _JSON_LINES_EXTENSIONS
        return text_facts(head, kind=kind, file_name=name, lines=lines)
    return _binary_facts(head, kind=kind, file_name=name)


def _refuse_html(head: Head, *, file_name: str) -> None:
    start = head.data[:65536].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if not start.startswith((b"<!doctype html", b"<html")):
        return
    if b"<table" in start and b"slack" not in start:
        raise FileUnreadable(partial(messages.html_table, name=head.name), file_name=file_name)
    raise FileUnavailable(partial(messages.login_page_saved, name=head.name), file_name=file_name)


# ---------------------------------------------------------------- compressed files


def _archive_facts(path: Path, *, name: str, max_bytes: int) -> FileFacts:
    safe = safe_display_name(name)
    with path.open("rb") as f:
        compression = compression_of(f.read(8))
    try:
        inner = inner_name(path, name=name)
        inner_kind = kind_for(name=inner)
        if inner_kind in (None, ARCHIVE, "image"):
            raise UnsupportedFileType(
                partial(
                    messages.archive_inner_unsupported, name=safe, inner=safe_display_name(inner)
                ),
                file_name=name,
            )
        with tempfile.TemporaryDirectory(prefix="insightbot-") as scratch:
            expanded = Path(scratch) / safe_display_name(inner)
            expand_to(path, expanded, max_bytes=max_bytes)
            facts = inspect_file(
                expanded, name=inner, declared_kind=inner_kind, max_bytes=max_bytes
            )
    except ArchiveProblem as problem:
        raise _archive_refusal(problem, name=name, max_bytes=max_bytes) from None
    told = f"decompressed from {safe} ({_COMPRESSION_NAMES.get(compression or '', 'zip')})"
    note = "; ".join(n for n in (told, facts.note) if n)
    return replace(facts, mime_type="application/zip", note=note)


def _archive_refusal(
    problem: ArchiveProblem, *, name: str, max_bytes: int
) -> FileTooLarge | FileUnreadable:
    safe = safe_display_name(name)
    if problem.reason == "too_large":
        limit_mb = max_bytes // (1024 * 1024)
        words = partial(messages.archive_too_large, name=safe, limit_mb=limit_mb)
        return FileTooLarge(words, file_name=name)
    if problem.reason == "several":
        words = partial(messages.archive_holds_several, name=safe, count=problem.count)
    elif problem.reason == "none":
        words = partial(messages.archive_is_empty, name=safe)
    elif problem.reason == "encrypted":
        words = partial(messages.archive_encrypted, name=safe)
    else:
        words = partial(messages.archive_corrupt, name=safe)
    return FileUnreadable(words, file_name=name)


# ---------------------------------------------------------------- binary formats


def _binary_facts(head: Head, *, kind: str, file_name: str) -> FileFacts:
    data = head.data
    if kind == "image":
        mime = next((m for magic, m in _IMAGES if data.startswith(magic)), None)
        if mime is None and data.startswith(_GIFS):
            mime = "image/gif"
        if mime is None:
            raise FileUnreadable(
                partial(messages.not_an_image, name=head.name), file_name=file_name
            )
        return FileFacts(kind="image", mime_type=mime)
    if kind == "parquet":
        if not data.startswith(b"PAR1"):
            raise _corrupt(head, "parquet", file_name=file_name)
        if _tail(head, 4) != b"PAR1":
            raise _cut_off(head, file_name=file_name)
        return FileFacts(kind="parquet", mime_type=_MIME["parquet"])
    if data.startswith(_ZIP):
        if not _has_zip_end(head):
            raise _cut_off(head, file_name=file_name)
        return _workbook_facts(head, kind=kind, file_name=file_name)
    if data.startswith(_OLE2):
        # Password-protected .xlsx files are OLE2 containers holding this stream.
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise FileUnreadable(
                partial(messages.workbook_password, name=head.name), file_name=file_name
            )
        note = "an Excel 97-2003 (.xls) workbook despite its .xlsx name" if kind == "xlsx" else None
        return FileFacts(kind="xls", mime_type=_MIME["xls"], note=note)
    if kind == "xls":
        # Some systems export delimited text under an .xls name; Excel opens it, so do we.
        try:
            facts = text_facts(head, kind="txt", file_name=file_name)
        except FileUnreadable:
            facts = None
        if facts is not None and facts.delimiter:
            kind = "tsv" if facts.delimiter == "\t" else "csv"
            notes = ("plain delimited text despite its .xls name", facts.note)
            return FileFacts(
                kind=kind,
                mime_type=_MIME[kind],
                encoding=facts.encoding,
                delimiter=facts.delimiter,
                note="; ".join(n for n in notes if n),
            )
    raise _corrupt(head, "workbook", file_name=file_name)


def _workbook_facts(head: Head, *, kind: str, file_name: str) -> FileFacts:
    """An .xlsx or .ods workbook (whatever its name says), with its sheets."""
    try:
        with zipfile.ZipFile(head.path) as archive:
            real = "ods" if is_ods(archive) else "xlsx"
        sheets = read_sheets(head.path)
    except zipfile.BadZipFile:
        raise _corrupt(head, "workbook", file_name=file_name) from None
    except SheetsUnreadable:
        sheets = None  # pandas may still read it: say nothing rather than something wrong
    notes: list[str] = []
    if real != kind:
        notes.append("an .xlsx workbook" if real == "xlsx" else _ODS_NOTE)
        notes[-1] += f" despite its .{PurePosixPath(file_name).suffix.lower().lstrip('.')} name"
    elif real == "ods":
        notes.append(_ODS_NOTE)
    if sheets is not None:
        if all(sheet.empty for sheet in sheets):
            raise FileUnreadable(
                partial(messages.empty_workbook, name=safe_display_name(file_name)),
                file_name=file_name,
            )
        notes.append(sheets_note(sheets))
    return FileFacts(kind=real, mime_type=_MIME[real], note="; ".join(notes) or None)


def _corrupt(head: Head, kind: str, *, file_name: str) -> FileUnreadable:
    """``kind`` is what the file should have been: parquet or workbook."""
    return FileUnreadable(
        partial(messages.file_corrupt, name=head.name, kind=kind), file_name=file_name
    )


def _cut_off(head: Head, *, file_name: str) -> FileUnreadable:
    return FileUnreadable(partial(messages.file_cut_off, name=head.name), file_name=file_name)


def _tail(head: Head, count: int) -> bytes:
    if head.complete:
        return head.data[-count:]
    with head.path.open("rb") as f:
        f.seek(max(0, head.size - count))
        return f.read(count)


def _has_zip_end(head: Head) -> bool:
    # The end-of-central-directory record sits in the last 22 bytes plus an optional comment.
    return b"PK\x05\x06" in _tail(head, 22 + 65535)
