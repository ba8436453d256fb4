"""Single-file compressed archives (.gz, .bz2, .xz, .zip): which file is inside, and its bytes.

The inner file is always decompressed as a stream and counted as it expands, so a small
archive that would expand without end (a "zip bomb") stops at the size limit instead of
filling the disk. Blocking disk I/O; errors are ``ArchiveProblem`` with a reason code that
the caller turns into a message for the user.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import IO, cast

__all__ = [
    "COMPRESSED_EXTENSIONS",
    "ArchiveProblem",
    "compression_of",
    "copy_inner",
    "expand_to",
    "inner_name",
    "is_compressed_name",
    "opened_inner",
]

COMPRESSED_EXTENSIONS = ("gz", "bz2", "xz", "zip")
_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),  # an empty zip: only its end record
)
# Files that zip tools on macOS and Windows add beside the real one.
_JUNK_PARTS = ("__MACOSX/", ".DS_Store", "Thumbs.db", "desktop.ini")
_CHUNK = 1 << 20


class ArchiveProblem(Exception):
    """``reason`` is one of: corrupt, several, none, encrypted, too_large."""

    def __init__(self, reason: str, *, count: int = 0) -> None:
        self.reason = reason
        self.count = count
        super().__init__(reason)


def compression_of(head: bytes) -> str | None:
    """gzip, bzip2, xz or zip from the first bytes; None for anything else."""
    return next((name for magic, name in _MAGIC if head.startswith(magic)), None)


def is_compressed_name(name: str) -> bool:
    return PurePosixPath(name).suffix.lower().lstrip(".") in COMPRESSED_EXTENSIONS


def _zip_member(archive: zipfile.ZipFile) -> zipfile.ZipInfo:
    members = [
        info
        for info in archive.infolist()
        if not info.is_dir() and not any(junk in info.filename for junk in _JUNK_PARTS)
    ]
    if len(members) != 1:
        raise ArchiveProblem("several" if members else "none", count=len(members))
    if members[0].flag_bits & 0x1:
        raise ArchiveProblem("encrypted")
    return members[0]


def inner_name(path: Path, *, name: str) -> str:
    """The name of the file inside: a zip's only member (its last path part), or ``name``
    without its compression suffix (``sales.csv.gz`` -> ``sales.csv``)."""
    with path.open("rb") as f:
        compression = compression_of(f.read(8))
    if compression == "zip":
        try:
            with zipfile.ZipFile(path) as archive:
                return PurePosixPath(_zip_member(archive).filename).name
        except zipfile.BadZipFile as error:
            raise ArchiveProblem("corrupt") from error
    if compression is None:
        raise ArchiveProblem("corrupt")
    stem = PurePosixPath(name)
    return stem.stem if is_compressed_name(name) else stem.name


@contextmanager
def opened_inner(path: Path) -> Iterator[IO[bytes]]:
    """A stream of the decompressed inner file. Raises ArchiveProblem."""
    with path.open("rb") as f:
        compression = compression_of(f.read(8))
    if compression == "zip":
        try:
            with zipfile.ZipFile(path) as archive, archive.open(_zip_member(archive)) as member:
                yield member
        except (zipfile.BadZipFile, NotImplementedError, zlib.error) as error:
            raise ArchiveProblem("corrupt") from error
        return
    if compression == "gzip":
        with gzip.open(path, "rb") as gz:
            yield cast(IO[bytes], gz)
    elif compression == "bzip2":
        with bz2.open(path, "rb") as bz:
            yield bz
    elif compression == "xz":
        with lzma.open(path, "rb") as xz:
            yield xz
    else:
        raise ArchiveProblem("corrupt")


def copy_inner(path: Path, target: IO[bytes], *, max_bytes: int) -> int:
    """Write the decompressed inner file to ``target``; its size.

    Raises ArchiveProblem (too_large past ``max_bytes``, corrupt on a damaged stream).
    """
    written = 0
    try:
        with opened_inner(path) as source:
            while chunk := source.read(_CHUNK):
                written += len(chunk)
                if written > max_bytes:
                    raise ArchiveProblem("too_large")
                target.write(chunk)
    except (OSError, EOFError, lzma.LZMAError, zlib.error, zipfile.BadZipFile) as error:
        raise ArchiveProblem("corrupt") from error
    return written


def expand_to(path: Path, dest: Path, *, max_bytes: int) -> int:
    """Decompress the inner file of ``path`` into ``dest``; its size. Raises ArchiveProblem
    (``dest`` is removed then) and OSError."""
    try:
        with dest.open("wb") as target:
            return copy_inner(path, target, max_bytes=max_bytes)
    except ArchiveProblem:
        dest.unlink(missing_ok=True)
        raise
