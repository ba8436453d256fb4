"""How an inspected file travels to the engine, and the line that tells the model about it.

The bytes a user shared are never rewritten. Kinds the code interpreter does not accept
directly (TSV, XLS, ODS, Parquet) travel inside a zip that holds the original bytes under the
original name; a file compressed alone (.gz, .bz2, .xz, .zip) travels the same way, its
inner file decompressed as a stream into the zip. The model is told the real format and to
unzip first.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from bot.files.archives import copy_inner, is_compressed_name
from bot.files.shape import WHITESPACE
from bot.types import FileFacts

WRAPPED_KINDS = frozenset({"tsv", "xls", "ods", "parquet"})
# Inspection already held a compressed file's inner size to the configured limit; this bound
# only stops a file that changed since, and sits above any sensible INSIGHTBOT_MAX_FILE_MB.
_MAX_EXPANDED_BYTES = 16 * 1024 * 1024 * 1024
# The extension a compressed file's inner file gets when its name lacks one of its kind.
_KIND_EXTENSIONS = {
    "csv": ".csv",
    "tsv": ".tsv",
    "txt": ".txt",
    "json": ".json",
    "xlsx": ".xlsx",
    "xls": ".xls",
    "ods": ".ods",
    "parquet": ".parquet",
}
_ZIP_MIME = "application/zip"
_CHUNK = 1 << 20
_MAX_NAME_BYTES = 200
# Sizes are only known once written, so big members announce zip64 up front.
_ZIP64_FROM = 1 << 30
# Extensions the code interpreter recognises, per kind; the first is appended when missing.
_EXTENSIONS = {
    "csv": (".csv",),
    "txt": (".txt",),
    "json": (".json",),
    "xlsx": (".xlsx",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/gif": (".gif",),
}
# Format characters that emoji and scripts need (joiners; tags, kept in _is_kept, for flags);
# other Cf such as bidi overrides can disguise a name, e.g. "report\u202ecsv.exe".
_KEPT_FORMAT_CHARS = frozenset({"\u200c", "\u200d"})


@dataclass(frozen=True)
class UploadForm:
    """The file to upload and the name and MIME type it travels under."""

    path: Path
    upload_name: str
    mime_type: str
    wrapped: bool


def safe_display_name(name: str) -> str:
    """The last path part of ``name`` in NFC, without control or direction-override characters,
    at most 200 bytes of UTF-8 (file systems allow 255), keeping its extension.

    Korean (also the decomposed form macOS produces) and emoji are kept. Never empty.
    """
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    kept = "".join(ch for ch in unicodedata.normalize("NFC", base) if _is_kept(ch)).strip()
    if kept in ("", ".", ".."):
        return "file"
    if len(kept.encode()) <= _MAX_NAME_BYTES:
        return kept
    stem, dot, ext = kept.rpartition(".")
    suffix = f".{ext}" if dot and stem and len(ext) <= 10 else ""
    stem = stem if suffix else kept
    budget = _MAX_NAME_BYTES - len(suffix.encode())
    return stem.encode()[:budget].decode(errors="ignore") + suffix


def _is_kept(ch: str) -> bool:
    category = unicodedata.category(ch)
    if category in ("Cc", "Cs", "Zl", "Zp"):
        return False
    return category != "Cf" or ch in _KEPT_FORMAT_CHARS or "\U000e0020" <= ch <= "\U000e007f"


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of the file, read in chunks. Raises OSError."""
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def upload_name_for(name: str, facts: FileFacts) -> str:
    """The name an unwrapped file is uploaded under: the user's name, with an extension the
    code interpreter recognises appended when missing (``data`` -> ``data.csv``)."""
    display = safe_display_name(name)
    accepted = _EXTENSIONS.get(facts.kind) or _EXTENSIONS.get(facts.mime_type)
    if accepted and not display.lower().endswith(accepted):
        return display + accepted[0]
    return display


def compressed_member_name(name: str, facts: FileFacts) -> str | None:
    """The name a compressed file's inner file travels under in our zip: the user's name
    without ``.gz``/``.bz2``/``.xz``/``.zip``, with its kind's extension added when missing
    (``sales.csv.gz`` -> ``sales.csv``, ``export.zip`` -> ``export.csv``). None when
    ``name`` is not a compressed file's."""
    display = safe_display_name(name)
    if not is_compressed_name(display) or facts.kind not in _KIND_EXTENSIONS:
        return None
    stem = display.rsplit(".", 1)[0] or "file"
    extension = _KIND_EXTENSIONS[facts.kind]
    return stem if stem.lower().endswith(extension) else stem + extension


def upload_form_for(
    path: Path,
    *,
    name: str,
    facts: FileFacts,
    workdir: Path,
    max_bytes: int = _MAX_EXPANDED_BYTES,
) -> UploadForm:
    """How ``path`` goes to the engine.

    TSV, XLS, ODS and Parquet are copied, streamed in chunks, into ``workdir/<name>.zip``
    holding the original bytes under the original name (an earlier zip of the same name is
    replaced); a compressed file's inner file is decompressed as a stream into
    ``workdir/<inner name>.zip`` (stopping past ``max_bytes``); every other kind is the file
    itself. Blocking disk I/O: call it from a worker thread. Raises OSError, and
    ArchiveProblem when the compressed file no longer expands as inspection saw.
    """
    inner = compressed_member_name(name, facts)
    if inner is not None:
        zip_path = workdir / f"{inner}.zip"
        _write_zip(
            source=path,
            member=inner,
            target=zip_path,
            method=zipfile.ZIP_DEFLATED,
            max_bytes=max_bytes,
        )
        return UploadForm(
            path=zip_path, upload_name=zip_path.name, mime_type=_ZIP_MIME, wrapped=True
        )
    if facts.kind not in WRAPPED_KINDS:
        return UploadForm(
            path=path,
            upload_name=upload_name_for(name, facts),
            mime_type=facts.mime_type,
            wrapped=False,
        )
    member = safe_display_name(name)
    zip_path = workdir / f"{member}.zip"
    # Parquet is compressed already; text and OLE2 workbooks shrink several-fold.
    method = zipfile.ZIP_STORED if facts.kind == "parquet" else zipfile.ZIP_DEFLATED
    _write_zip(source=path, member=member, target=zip_path, method=method)
    return UploadForm(path=zip_path, upload_name=zip_path.name, mime_type=_ZIP_MIME, wrapped=True)


def _write_zip(
    *, source: Path, member: str, target: Path, method: int, max_bytes: int | None = None
) -> None:
    """Zip ``source`` (or, with ``max_bytes``, its decompressed inner file) as ``member``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    big = (max_bytes or source.stat().st_size) > _ZIP64_FROM
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, suffix=".part")
    tmp = Path(tmp_name)
    try:
        with (
            os.fdopen(fd, "wb") as raw,
            zipfile.ZipFile(raw, "w", compression=method, compresslevel=1) as archive,
            archive.open(member, "w", force_zip64=big) as dst,
        ):
            if max_bytes is not None:
                copy_inner(source, dst, max_bytes=max_bytes)
            else:
                with source.open("rb") as src:
                    shutil.copyfileobj(src, dst, _CHUNK)
        os.replace(tmp, target)  # readers never see a half-written zip
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def model_note(name: str, facts: FileFacts, *, wrapped: bool, container_path: str | None) -> str:
    """One line for the model's instructions about one file, e.g.
    ``매출.csv at /mnt/data/ab12-매출.csv: csv, cp949, delimiter ';' (read with
    encoding='cp949', sep=';')``."""
    display = safe_display_name(name)
    details = facts.describe(display).removeprefix(f"{display}: ")
    if facts.encoding and facts.delimiter:
        sep = 'r"\\s+"' if facts.delimiter == WHITESPACE else repr(facts.delimiter)
        details += f" (read with encoding={facts.encoding!r}, sep={sep})"
    inner = compressed_member_name(name, facts)
    if inner is not None:
        where = container_path or f"{inner}.zip"
        return f"{inner} is inside the zip at {where}: unzip it first; {details}"
    if wrapped:
        where = container_path or f"{display}.zip"
        return f"{display} is inside the zip at {where}: unzip it first; {details}"
    if container_path:
        return f"{display} at {container_path}: {details}"
    return f"{display}: {details}"
