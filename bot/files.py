"""Looking at users' data files without changing a byte of them.

``inspect_file`` reads at most ``HEAD_BYTES`` from the start of a file (plus the last bytes of
xlsx and Parquet files, to catch cut-off downloads) and reports what the model needs to read
it: kind, encoding, delimiter and oddities such as ragged rows. A file that cannot be used
raises a ``FileProblem`` whose message names the file and says what to do.
"""

from __future__ import annotations

import codecs
import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from bot.errors import FileUnavailable, FileUnreadable, UnsupportedFileType
from bot.file_packaging import (
    WRAPPED_KINDS,
    UploadForm,
    model_note,
    safe_display_name,
    sha256_of,
    upload_form_for,
)
from bot.file_shape import delimiter_and_shape, lines_of
from bot.types import FileFacts

__all__ = [
    "HEAD_BYTES",
    "SUPPORTED_KINDS",
    "WRAPPED_KINDS",
    "UploadForm",
    "inspect_file",
    "kind_for",
    "model_note",
    "safe_display_name",
    "sha256_of",
    "supported_types_text",
    "upload_form_for",
]

SUPPORTED_KINDS: tuple[str, ...] = ("csv", "tsv", "txt", "xlsx", "xls", "json", "parquet", "image")
HEAD_BYTES = 1 << 20

_BY_EXTENSION = {
    "csv": "csv",
    "tsv": "tsv",
    "tab": "tsv",
    "txt": "txt",
    "xlsx": "xlsx",
    "xls": "xls",
    "json": "json",
    "parquet": "parquet",
    "pq": "parquet",
    "png": "image",
    "jpg": "image",
    "jpeg": "image",
    "gif": "image",
}
_BY_SLACK_FILETYPE = {**_BY_EXTENSION, "text": "txt"}
_BY_MIMETYPE = {
    "text/csv": "csv",
    "application/csv": "csv",
    "text/tab-separated-values": "tsv",
    "text/plain": "txt",
    "application/json": "json",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.ms-excel": "xls",
    "application/vnd.apache.parquet": "parquet",
    "application/x-parquet": "parquet",
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
    "parquet": "application/zip",
}
_TEXT_KINDS = frozenset({"csv", "tsv", "txt", "json"})
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = b"PK\x03\x04"
_IMAGES = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))
_GIFS = (b"GIF87a", b"GIF89a")
# Only used to say what a binary file really is; binary-ness itself is decided by byte counts.
_MAGIC_NAMES = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (_ZIP, "a ZIP archive or an .xlsx workbook"),
    (_OLE2, "an Excel 97-2003 workbook or another Office file"),
    (b"PAR1", "a Parquet file"),
    (b"\x1f\x8b", "a gzip archive"),
)
_REDO = "Please check the file and share it again."


def supported_types_text() -> str:
    """The supported types, for messages to users."""
    return "CSV, TSV, TXT, Excel (.xlsx, .xls), JSON, Parquet and images (PNG, JPG, GIF)"


def kind_for(*, name: str, mimetype: str = "", filetype: str = "") -> str | None:
    """The kind of a file from its extension, else Slack's filetype, else its MIME type.

    None when the file is not a type we analyse.
    """
    extension = PurePosixPath(safe_display_name(name)).suffix.lower().lstrip(".")
    mime = mimetype.split(";", 1)[0].strip().lower()
    return (
        _BY_EXTENSION.get(extension)
        or _BY_SLACK_FILETYPE.get(filetype.strip().lower())
        or _BY_MIMETYPE.get(mime)
    )


@dataclass(frozen=True)
class _Head:
    path: Path
    name: str  # for messages
    data: bytes
    size: int

    @property
    def complete(self) -> bool:
        return len(self.data) >= self.size


def inspect_file(path: Path, *, name: str, declared_kind: str | None = None) -> FileFacts:
    """What the model needs to know to read ``path`` (named ``name`` by the user).

    Reads at most HEAD_BYTES from the start of the file (and up to 64 KiB of the end of xlsx
    and Parquet files). Raises UnsupportedFileType, FileUnavailable (a login page came instead
    of the file) or FileUnreadable (empty, binary under a text name, corrupt); OSError when
    the file cannot be read.
    """
    shown = f"*{safe_display_name(name)}*"
    kind = declared_kind or kind_for(name=name)
    if kind not in SUPPORTED_KINDS:
        raise UnsupportedFileType(
            f"I can't analyse {shown}: it is not a file type I can read. I can read "
            f"{supported_types_text()}. Export the data in one of these and share it again.",
            file_name=name,
        )
    with path.open("rb") as f:
        size = os.fstat(f.fileno()).st_size
        head = _Head(path=path, name=shown, data=f.read(HEAD_BYTES), size=size)
    if not head.data:
        raise FileUnreadable(f"{shown} is empty (0 bytes). {_REDO}", file_name=name)
    _refuse_html(head, file_name=name)
    if kind in _TEXT_KINDS:
        return _text_facts(head, kind=kind, file_name=name)
    return _binary_facts(head, kind=kind, file_name=name)


def _refuse_html(head: _Head, *, file_name: str) -> None:
    start = head.data[:65536].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if not start.startswith((b"<!doctype html", b"<html")):
        return
    if b"<table" in start and b"slack" not in start:
        raise FileUnreadable(
            f"{head.name} is a web page (an HTML table) saved under a data file's name, not "
            "real CSV or Excel data. Open it in Excel, save it as .xlsx or CSV and share it "
            "again.",
            file_name=file_name,
        )
    raise FileUnavailable(
        f"I couldn't download {head.name}: I received a Slack login page instead of the file. "
        "Make sure the app is in this channel (invite it) and that the file is shared here, "
        "then share it again.",
        file_name=file_name,
    )


# ---------------------------------------------------------------- binary formats


def _binary_facts(head: _Head, *, kind: str, file_name: str) -> FileFacts:
    data = head.data
    if kind == "image":
        mime = next((m for magic, m in _IMAGES if data.startswith(magic)), None)
        if mime is None and data.startswith(_GIFS):
            mime = "image/gif"
        if mime is None:
            raise FileUnreadable(
                f"{head.name} is not a PNG, JPG or GIF image I can read. Save it as PNG or JPG "
                "and share it again.",
                file_name=file_name,
            )
        return FileFacts(kind="image", mime_type=mime)
    if kind == "parquet":
        if not data.startswith(b"PAR1"):
            raise _corrupt(head, "a valid Parquet file", file_name=file_name)
        if _tail(head, 4) != b"PAR1":
            raise _cut_off(head, file_name=file_name)
        return FileFacts(kind="parquet", mime_type=_MIME["parquet"])
    if data.startswith(_ZIP):
        if not _has_zip_end(head):
            raise _cut_off(head, file_name=file_name)
        note = "an .xlsx workbook despite its .xls name" if kind == "xls" else None
        return FileFacts(kind="xlsx", mime_type=_MIME["xlsx"], note=note)
    if data.startswith(_OLE2):
        # Password-protected .xlsx files are OLE2 containers holding this stream.
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise FileUnreadable(
                f"{head.name} is protected by a password, so I can't open it. Remove the "
                "password (or save an unprotected copy) and share it again.",
                file_name=file_name,
            )
        note = "an Excel 97-2003 (.xls) workbook despite its .xlsx name" if kind == "xlsx" else None
        return FileFacts(kind="xls", mime_type=_MIME["xls"], note=note)
    if kind == "xls":
        # Some systems export delimited text under an .xls name; Excel opens it, so do we.
        try:
            facts = _text_facts(head, kind="txt", file_name=file_name)
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
    raise _corrupt(head, "a valid Excel workbook", file_name=file_name)


def _corrupt(head: _Head, what: str, *, file_name: str) -> FileUnreadable:
    return FileUnreadable(
        f"{head.name} is not {what}: it may be damaged, protected (password or DRM), "
        "or another kind of file renamed. Open it in the program that made it, save a fresh "
        "copy (or export it as CSV) and share it again.",
        file_name=file_name,
    )


def _cut_off(head: _Head, *, file_name: str) -> FileUnreadable:
    return FileUnreadable(
        f"{head.name} looks cut off: its end is missing, so the upload or download was "
        f"incomplete. {_REDO}",
        file_name=file_name,
    )


def _tail(head: _Head, count: int) -> bytes:
    if head.complete:
        return head.data[-count:]
    with head.path.open("rb") as f:
        f.seek(max(0, head.size - count))
        return f.read(count)


def _has_zip_end(head: _Head) -> bool:
    # The end-of-central-directory record sits in the last 22 bytes plus an optional comment.
    return b"PK\x05\x06" in _tail(head, 22 + 65535)


# ---------------------------------------------------------------- text

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27)) + b"\x7f"
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]")
_HANGUL = re.compile("[\uac00-\ud7a3]")
_FIRST_CHAR = re.compile(r"\S")
_PROBE = 65536


def _text_facts(head: _Head, *, kind: str, file_name: str) -> FileFacts:
    encoding, text, note = _decoded(head, file_name=file_name)
    if not text.strip():
        raise FileUnreadable(
            f"{head.name} has no data in it, only blank space. {_REDO}", file_name=file_name
        )
    if kind == "json":
        if (first := _FIRST_CHAR.search(text)) is None or first.group() not in "{[":
            raise FileUnreadable(
                f"{head.name} is not JSON (it should start with {{ or [). Export the data as "
                "JSON or CSV and share it again.",
                file_name=file_name,
            )
        lines = [line.strip() for line in lines_of(text, 0, len(text), limit=20) if line.strip()]
        if len(lines) >= 2 and all(x[0] == "{" and x[-1] == "}" for x in lines[:2]):
            note = "; ".join(n for n in (note, "JSON Lines (read with lines=True)") if n)
        return FileFacts(kind="json", mime_type=_MIME["json"], encoding=encoding, note=note)
    delimiter, shape = delimiter_and_shape(text, kind=kind, complete=head.complete)
    notes = "; ".join(n for n in (note, shape) if n) or None
    return FileFacts(
        kind=kind, mime_type=_MIME[kind], encoding=encoding, delimiter=delimiter, note=notes
    )


def _decoded(head: _Head, *, file_name: str) -> tuple[str, str, str | None]:
    """(encoding as a Python codec name, the decoded head, a note when bytes did not decode)."""
    data, final = head.data, head.complete
    encoding = next((enc for bom, enc in _BOMS if data.startswith(bom)), None)
    encoding = encoding or _utf16_without_bom(data)
    if encoding is None:
        probe = data[:_PROBE]
        if (len(probe) - len(probe.translate(None, _CONTROL_BYTES))) * 100 > len(probe):
            raise _binary(head, file_name=file_name)
        for errors in ("strict", "replace"):
            for candidate in ("utf-8", "cp949"):
                try:
                    text = _decode(data, candidate, final=final, errors=errors)
                except UnicodeDecodeError:
                    continue
                if _fits(text, korean=candidate == "cp949"):
                    note = None if errors == "strict" else _replaced_note(candidate)
                    return candidate, _checked_text(head, text, file_name=file_name), note
        encoding = _guessed_encoding(data, final=final)
        if encoding is None:
            raise _binary(head, file_name=file_name)
    note = None
    try:
        text = _decode(data, encoding, final=final)
    except UnicodeDecodeError:
        text = _decode(data, encoding, final=final, errors="replace")
        note = _replaced_note(encoding)
    return encoding, _checked_text(head, text, file_name=file_name), note


def _decode(data: bytes, encoding: str, *, final: bool, errors: str = "strict") -> str:
    # Incremental: a head cut inside a multibyte character leaves the tail pending, not an error.
    return codecs.getincrementaldecoder(encoding)(errors).decode(data, final)


def _utf16_without_bom(data: bytes) -> str | None:
    # Mostly-ASCII text in UTF-16 has a NUL in every other byte; Hangul rarely has any.
    probe = data[: 4096 & ~1]
    half = len(probe) // 2
    if half < 4:
        return None
    even, odd = probe[0::2].count(0), probe[1::2].count(0)
    if odd >= half * 0.15 and even <= half * 0.02:
        return "utf-16-le"
    if even >= half * 0.15 and odd <= half * 0.02:
        return "utf-16-be"
    return None


def _fits(text: str, *, korean: bool) -> bool:
    """Whether ``text`` (decoded leniently or not) reads as real text in that encoding.

    A few undecodable bytes in otherwise valid text (a damaged or concatenated file) still
    fit; text that is mostly replacement characters was another encoding. cp949 also decodes
    some Western single-byte text into rare Hangul syllables, so for it the text must contain
    Hangul and sit almost wholly in the KS X 1001 (EUC-KR) repertoire, as real Korean does.
    """
    probe = text[:_PROBE]
    wide = "".join(ch for ch in probe if ord(ch) > 127)
    bad = wide.count("\ufffd")
    if bad and bad * 20 > len(wide) - bad:
        return False
    if not korean:
        return True
    if not _HANGUL.search(text):
        return False
    unmapped = wide.replace("\ufffd", "").encode("euc_kr", errors="replace").count(b"?")
    return unmapped * 5 <= len(wide) - bad


def _replaced_note(encoding: str) -> str:
    return f"some bytes are not valid {encoding} (read with encoding_errors='replace')"


def _guessed_encoding(data: bytes, *, final: bool) -> str | None:
    from charset_normalizer import from_bytes  # slow to import; rarely needed

    probe = data[:_PROBE]
    if not final or len(probe) < len(data):
        probe = probe[: probe.rfind(b"\n") + 1] or probe
    best = from_bytes(probe).best()
    if best is None:
        return None
    name = codecs.lookup(best.encoding).name
    return "utf-8" if name == "ascii" else name


def _checked_text(head: _Head, text: str, *, file_name: str) -> str:
    probe = text[:_PROBE]
    if len(_CONTROL_CHARS.findall(probe)) * 100 > len(probe):
        raise _binary(head, file_name=file_name)
    return text


def _binary(head: _Head, *, file_name: str) -> FileUnreadable:
    what = next((d for magic, d in _MAGIC_NAMES if head.data.startswith(magic)), None)
    looks = f"it looks like {what}" if what else "it contains binary data, not text"
    return FileUnreadable(
        f"{head.name} should be a text file, but {looks}. Share the file under its real "
        "extension, or export the data as CSV and share it again.",
        file_name=file_name,
    )


# ---------------------------------------------------------------- delimiters
