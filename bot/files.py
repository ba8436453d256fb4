"""Looking at users' data files without changing a byte of them.

``inspect_file`` reads at most ``HEAD_BYTES`` from the start of a file (plus the last bytes of
xlsx and Parquet files, to catch cut-off downloads) and reports what the model needs to read
it: kind, encoding, delimiter and oddities such as ragged rows. A file that cannot be used
raises a ``FileProblem`` whose message names the file and says what to do.
"""

from __future__ import annotations

import codecs
import csv
import os
import re
from collections.abc import Iterator
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
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
_SEP_LINE = re.compile(r"sep=([^\r\n])\r?\n")  # Excel's hint line, e.g. "sep=;"
_FIRST_CHAR = re.compile(r"\S")
_DELIMITERS = (",", ";", "\t", "|")
_PROBE = 65536
_CHOOSE_RECORDS = 200
_SHAPE_RECORDS = 200_000  # more than a head of 1 MB holds: ragged rows anywhere in it are told


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
        lines = [line.strip() for line in _lines(text, 0, len(text), limit=20) if line.strip()]
        if len(lines) >= 2 and all(x[0] == "{" and x[-1] == "}" for x in lines[:2]):
            note = "; ".join(n for n in (note, "JSON Lines (read with lines=True)") if n)
        return FileFacts(kind="json", mime_type=_MIME["json"], encoding=encoding, note=note)
    delimiter, shape = _delimiter_and_shape(text, kind=kind, complete=head.complete)
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


def _lines(text: str, start: int, end: int, *, limit: int | None = None) -> Iterator[str]:
    """Lines with their endings (\\n, \\r\\n or \\r), without copying the text."""
    for count, match in enumerate(_LINE.finditer(text, start, end)):
        if limit is not None and count >= limit:
            return
        yield match.group()


def _field_counts(text: str, *, start: int, end: int, delimiter: str, limit: int) -> list[int]:
    if text.find('"', start, end) < 0:
        return _unquoted_field_counts(text, start=start, end=end, delimiter=delimiter, limit=limit)
    counts: list[int] = []
    try:
        for row in csv.reader(_lines(text, start, end), delimiter=delimiter, strict=False):
            if row:  # blank lines
                counts.append(len(row))
                if len(counts) >= limit:
                    break
    except csv.Error:  # e.g. an unbalanced quote swallowing the rest: judge what came before
        pass
    return counts


_WINDOW = 64 * 1024


def _unquoted_field_counts(
    text: str, *, start: int, end: int, delimiter: str, limit: int
) -> list[int]:
    """Field counts when no field is quoted: a delimiter count per line, taken window by
    window at line ends (several times faster than the csv reader, memory stays small)."""
    counts: list[int] = []
    pos = start
    while pos < end and len(counts) < limit:
        stop = min(end, pos + _WINDOW)
        if stop < end:
            cut = max(text.rfind("\n", pos, stop), text.rfind("\r", pos, stop))
            if cut >= pos:
                stop = cut + 1
                if text[cut] == "\r" and stop < end and text[stop] == "\n":
                    stop += 1
        for line in text[pos:stop].splitlines():
            if line:
                counts.append(line.count(delimiter) + 1)
        pos = stop
    return counts[:limit]


def _score(counts: list[int]) -> tuple[float, int]:
    """(agreement, fields): how many records share the commonest field count, plus a bonus
    when the header has it too; 0 when that count is below 2 (the delimiter is absent)."""
    if not counts:
        return 0.0, 0
    fields = max(counts, key=counts.count)
    if fields < 2:
        return 0.0, fields
    bonus = 0.2 if counts[0] == fields else 0.0
    return counts.count(fields) / len(counts) + bonus, fields


def _delimiter_and_shape(text: str, *, kind: str, complete: bool) -> tuple[str | None, str | None]:
    # A head cut mid-file ends in a partial line: leave it out.
    end = len(text) if complete else (max(text.rfind("\n"), text.rfind("\r")) + 1 or len(text))
    sep_line = _SEP_LINE.match(text)
    start = sep_line.end() if sep_line else 0
    scores = {
        d: _score(_field_counts(text, start=start, end=end, delimiter=d, limit=_CHOOSE_RECORDS))
        for d in _DELIMITERS
    }
    best = max(_DELIMITERS, key=lambda d: scores[d])  # ties: the earlier, commoner one
    chosen: str | None
    if sep_line:
        chosen = sep_line.group(1)
    elif kind == "tsv":
        strongly_other = scores[best][0] >= 1.1 and best != "\t"
        chosen = best if strongly_other and scores["\t"][0] == 0 else "\t"
    elif kind == "csv":
        chosen = best if scores[best][0] > 0 else ","
    else:
        chosen = best if scores[best][0] >= 1.0 else None
    if chosen is None:
        return None, None
    notes = ["the first line is Excel's 'sep=' hint (skip it: skiprows=1)"] if sep_line else []
    counts = _field_counts(text, start=start, end=end, delimiter=chosen, limit=_SHAPE_RECORDS)
    header, rows = (counts[0], counts[1:]) if counts else (0, [])
    odd = [number for number, fields in enumerate(rows, start=1) if fields != header]
    if odd:
        sampled = "sampled " if not complete or len(counts) >= _SHAPE_RECORDS else ""
        notes.append(
            f"ragged: {len(odd)} of {len(rows)} {sampled}rows have a different number of "
            f"fields than the header's {header} (first at data row {odd[0]})"
        )
    return chosen, "; ".join(notes) or None
